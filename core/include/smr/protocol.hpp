// The smr protocol (DESIGN §3): JSON lines on stdout, exit codes, cancellation by signal.
#pragma once

#include <nlohmann/json.hpp>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <stdexcept>
#include <string>

namespace smr {

using json = nlohmann::json;

enum ExitCode : int { kExitDone = 0, kExitInternal = 1, kExitBadInput = 2, kExitCancelled = 3 };

// The user gave a wrong parameter; what() names the parameter, the value and what is valid.
class InputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Writes `text` as the output `key` through the run's output guard (smr/outputs.hpp): committed with
// the run's other outputs, never over an input; a failed run leaves neither a half-written file nor
// loses the previous one. Errors name `key`, the parameter.
void write_file_atomically(const std::string& key, const std::string& path, const std::string& text);

// The one parser of JSON text that smr reads (parameters, model and mapping files). Text larger than
// `max_bytes`, or nested deeper than `max_nesting`, is refused before it is parsed: it is not what
// `what` names ("a model file"), and a hostile one would otherwise exhaust memory, or the stack when
// nlohmann parses and destroys its values recursively. Every other failure is an InputError too, never
// a bare nlohmann exception: bad syntax, invalid UTF-8, a number beyond double (1e400), a key given twice
// in one object. Messages start with `origin` ("parameters", "MODEL: model file '<path>'") and name
// where the text went wrong as a path of keys and indexes, e.g. "NIR.band" or "layers[0].bias[2]".
json parse_json_text(const std::string& text, const std::string& origin, std::uintmax_t max_bytes, int max_nesting,
                     const std::string& what);

// The JSON document in the file at `path`, read by parse_json_text after its size is checked.
json read_json_file(const std::string& origin, const std::string& path, std::uintmax_t max_bytes, int max_nesting,
                    const std::string& what);

// Limits of the parameter object of one run: far above what the plugin sends (samples of a large
// vector layer are tens of MB; nothing is nested deeper than a list of raster objects).
inline constexpr std::uintmax_t kMaxParameterBytes = std::uintmax_t{1} << 30;
inline constexpr int kMaxParameterNesting = 64;

// The run was cancelled (SIGTERM/SIGINT, or the caller's cancel token).
class Cancelled : public std::runtime_error {
 public:
  Cancelled() : std::runtime_error("cancelled") {}
};

// Set from a signal handler or a test; polled by long loops once per block.
class CancelToken {
 public:
  void request() { requested_.store(true, std::memory_order_relaxed); }
  bool requested() const { return requested_.load(std::memory_order_relaxed); }

 private:
  std::atomic<bool> requested_{false};
};

// Writes protocol lines (none when the stream is null, for library callers). Thread-safe: blocks finishing on several threads report progress.
class Reporter {
 public:
  explicit Reporter(std::FILE* stream = stdout, const CancelToken* cancel = nullptr)
      : stream_(stream), cancel_(cancel) {}

  void progress(double fraction);
  // Where the fractions of progress() land from now on: [begin, end] of the run's bar. A command with
  // several phases (a raster scan, then training) gives each its span, so that the bar moves through
  // them in turn instead of reaching 100 % in the first. Call it between phases, not while threads
  // report.
  void set_progress_span(double begin, double end);
  void info(const std::string& message) { log("info", message); }
  void warning(const std::string& message) { log("warning", message); }
  void result(const json& outputs);
  void error(const std::string& message);

  bool cancelled() const { return cancel_ != nullptr && cancel_->requested(); }
  const CancelToken* cancel_token() const { return cancel_; }  // for a silent reporter of the same run
  void throw_if_cancelled() const {
    if (cancelled()) throw Cancelled();
  }

 private:
  void log(const char* level, const std::string& message);
  void write(const json& line);

  std::FILE* stream_;
  const CancelToken* cancel_;
  std::mutex mutex_;
  int last_percent_ = -1;  // progress is reported once per whole percent, not per block
  double span_begin_ = 0.0, span_end_ = 1.0;
};

}  // namespace smr
