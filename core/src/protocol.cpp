#include "smr/protocol.hpp"

#include "smr/outputs.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <unordered_set>
#include <vector>

namespace smr {

void write_file_atomically(const std::string& key, const std::string& path, const std::string& text) {
  OutputScope scope;
  const std::string staged = scope.transaction().stage(key, path);
  std::FILE* out = std::fopen(staged.c_str(), "wb");
  if (out == nullptr) throw InputError(key + ": cannot write '" + path + "': " + std::strerror(errno));
  const bool written = std::fwrite(text.data(), 1, text.size(), out) == text.size();
  const int write_error = errno;
  const bool closed = std::fclose(out) == 0;
  if (!written || !closed) {
    const std::string full = disk_full_reason(staged);
    throw InputError(key + ": writing '" + path + "' failed: " +
                     (!full.empty() ? full : std::string(std::strerror(written ? errno : write_error))));
  }
  scope.finish();
}

namespace {

// A scan of the raw text, before nlohmann's recursive parser sees it. It remembers the last key of the
// outermost object, so that the message names the parameter (or the model file's field) at fault.
void check_nesting(const std::string& text, const std::string& origin, int max_nesting, const std::string& what) {
  int depth = 0;
  bool in_string = false, escaped = false;
  std::size_t string_start = 0;
  std::string last_string, outer_key;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') {
        in_string = false;
        if (depth == 1) last_string = text.substr(string_start, std::min<std::size_t>(i - string_start, 100));
      }
    } else if (c == '"') {
      in_string = true;
      string_start = i + 1;
    } else if (c == ':' && depth == 1) {
      outer_key = last_string;
    } else if (c == '[' || c == '{') {
      if (++depth > max_nesting)
        throw InputError(origin + (outer_key.empty() ? "" : ": " + outer_key) + " is nested more than " +
                         std::to_string(max_nesting) + " levels deep; not " + what);
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
}

// Where the parser is, as a path of keys and indexes ("layers[1].bias[0]"), kept from the parse
// events so that an error thrown halfway (a number out of range) can say where it was; and the first
// key given twice in one object, which nlohmann would otherwise resolve silently to the last value.
class ParsePosition {
 public:
  bool on_event(json::parse_event_t event, const json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start: frames_.push_back({true, {}, 0, {}}); break;
      case json::parse_event_t::array_start: frames_.push_back({false, {}, 0, {}}); break;
      case json::parse_event_t::key: {
        Frame& frame = frames_.back();
        frame.key = parsed.get<std::string>();
        if (!frame.keys.insert(frame.key).second && duplicate_.empty()) duplicate_ = path();
        break;
      }
      case json::parse_event_t::object_end:
      case json::parse_event_t::array_end:
        frames_.pop_back();
        completed();
        break;
      case json::parse_event_t::value: completed(); break;
    }
    return true;
  }
  std::string path() const {
    std::string text;
    for (const Frame& frame : frames_) {
      if (frame.object) text += (text.empty() ? "" : ".") + frame.key;
      else text += "[" + std::to_string(frame.count) + "]";
    }
    return text;
  }
  const std::string& duplicate() const { return duplicate_; }

 private:
  struct Frame {
    bool object;
    std::string key;          // the current key of an object
    std::size_t count;        // the elements of an array read so far: the index of the current one
    std::unordered_set<std::string> keys;
  };
  void completed() {
    if (!frames_.empty() && !frames_.back().object) ++frames_.back().count;
  }
  std::vector<Frame> frames_;
  std::string duplicate_;
};

}  // namespace

json parse_json_text(const std::string& text, const std::string& origin, std::uintmax_t max_bytes, int max_nesting,
                     const std::string& what) {
  if (text.size() > max_bytes)
    throw InputError(origin + " is larger than " + std::to_string(max_bytes >> 20) + " MB; not " + what);
  check_nesting(text, origin, max_nesting, what);
  ParsePosition position;
  json document;
  try {
    document = json::parse(text, [&position](int, json::parse_event_t event, json& parsed) {
      return position.on_event(event, parsed);
    });
  } catch (const json::out_of_range& error) {
    // 406: a number beyond double. The lexer's message quotes the number, not where it was.
    const std::string path = position.path();
    throw InputError(origin + (path.empty() ? "" : ": " + path) + " is a number beyond the range of double (±1.8e308): " +
                     error.what() + "; give a finite number");
  } catch (const json::exception& error) {
    // A key that does not parse is not yet in the path, which still ends at the previous key.
    const bool in_key = std::string(error.what()).find("object key") != std::string::npos;
    const std::string path = position.path();
    throw InputError(origin + " is not valid JSON (corrupt or truncated?)" +
                     (path.empty() ? "" : (in_key ? " after " : " at ") + path) + ": " + error.what());
  }
  if (!position.duplicate().empty())
    throw InputError(origin + ": " + position.duplicate() + " is given twice; give each key once, so that it is clear "
                     "which value counts");
  return document;
}

json read_json_file(const std::string& origin, const std::string& path, std::uintmax_t max_bytes, int max_nesting,
                    const std::string& what) {
  namespace fs = std::filesystem;
  std::error_code error;
  if (!fs::is_regular_file(path, error)) throw InputError(origin + " does not exist or is not a file");
  const auto bytes = fs::file_size(path, error);
  if (error || bytes > max_bytes)
    throw InputError(origin + " is larger than " + std::to_string(max_bytes >> 20) + " MB; not " + what);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(origin + " cannot be read");
  const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  return parse_json_text(text, origin, max_bytes, max_nesting, what);
}

void Reporter::write(const json& line) {
  if (stream_ == nullptr) return;
  // Invalid UTF-8 in a path must not abort the run: replace it in what we print.
  const std::string text = line.dump(-1, ' ', false, json::error_handler_t::replace);
  std::fprintf(stream_, "%s\n", text.c_str());
  std::fflush(stream_);
}

void Reporter::progress(double fraction) {
  std::lock_guard<std::mutex> lock(mutex_);
  const double overall = span_begin_ + std::clamp(fraction, 0.0, 1.0) * (span_end_ - span_begin_);
  // The rounding guard keeps 0.1 + 0.9 · 1.0 = 0.99999… from stopping the bar at 99 %.
  const int percent = static_cast<int>(std::floor(overall * 100.0 + 1e-9));
  if (percent <= last_percent_) return;
  last_percent_ = percent;
  write({{"type", "progress"}, {"value", percent / 100.0}});
}

void Reporter::set_progress_span(double begin, double end) {
  std::lock_guard<std::mutex> lock(mutex_);
  span_begin_ = std::clamp(begin, 0.0, 1.0);
  span_end_ = std::clamp(end, span_begin_, 1.0);
}

void Reporter::log(const char* level, const std::string& message) {
  std::lock_guard<std::mutex> lock(mutex_);
  write({{"type", "log"}, {"level", level}, {"message", message}});
}

void Reporter::result(const json& outputs) {
  std::lock_guard<std::mutex> lock(mutex_);
  write({{"type", "result"}, {"outputs", outputs}});
}

void Reporter::error(const std::string& message) {
  std::lock_guard<std::mutex> lock(mutex_);
  write({{"type", "error"}, {"message", message}});
}

}  // namespace smr
