// The smr command line: the protocol of DESIGN §3 around the commands of the core.
#include "smr/commands.hpp"
#include "smr/protocol.hpp"
#include "smr/raster.hpp"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <new>
#include <string>

namespace {

// Constant-initialised (an atomic flag), so the handler may set it before any constructor has run.
smr::CancelToken g_cancel;

extern "C" void request_cancel(int) { g_cancel.request(); }

// SIGTERM/SIGINT only request a cancel, from the very start: the bridge may cancel a run whose process
// has barely started, and the default action would kill it by the signal instead of exit 3. This runs
// from .preinit_array, before the constructors of the shared libraries (GDAL and its many
// dependencies) and of our own code; only the dynamic loader's mapping of those libraries comes
// earlier. No SA_RESTART: a blocking wait must return, so that the reader below sees the cancel.
void install_cancel_handler(int, char**, char**) {
  struct sigaction action {};
  action.sa_handler = request_cancel;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0;
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);
  // A mask inherited from the caller would hold the signals back for the whole run.
  sigset_t cancel_signals;
  sigemptyset(&cancel_signals);
  sigaddset(&cancel_signals, SIGTERM);
  sigaddset(&cancel_signals, SIGINT);
  sigprocmask(SIG_UNBLOCK, &cancel_signals, nullptr);
}
__attribute__((section(".preinit_array"), used)) void (*const g_install_cancel_handler)(int, char**, char**) =
    install_cancel_handler;

#ifndef SMR_VERSION
#error "SMR_VERSION is set by CMakeLists.txt from metadata.txt: the plugin checks smr --version against it"
#endif
constexpr const char* kVersion = SMR_VERSION;

void print_overview() {
  std::printf(
      "smr %s: soil-moisture retrieval core of the SMR QGIS plugin.\n\n"
      "Usage: smr <command> [params.json]   parameters as one JSON object, from the file or stdin\n"
      "       smr <command> --help           parameters, equations, units and nodata handling\n\n"
      "Output: JSON lines on stdout: {\"type\":\"progress\"|\"log\"|\"result\"|\"error\", ...}.\n"
      "Exit codes: 0 done, 1 internal error, 2 wrong input, 3 cancelled (SIGTERM/SIGINT).\n"
      "Outputs are written under a temporary name and renamed only on success.\n\nCommands:\n",
      kVersion);
  for (const auto& command : smr::commands()) std::printf("  %-24s %s\n", command.name.c_str(), command.summary.c_str());
}

enum class ReadOutcome { kRead, kTooLarge, kCancelled, kFailed };

// All of `fd` into `text`, stopping once it holds more than `max_bytes`. SIGTERM/SIGINT stay blocked
// except inside ppoll, which unblocks them atomically: a cancel that arrives at any moment, also just
// before the wait, ends the wait at once instead of leaving smr blocked on a stdin the caller keeps open.
ReadOutcome read_bounded(int fd, std::size_t max_bytes, std::string& text, int& error_number) {
  sigset_t cancel_signals, previous;
  sigemptyset(&cancel_signals);
  sigaddset(&cancel_signals, SIGTERM);
  sigaddset(&cancel_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &cancel_signals, &previous);
  sigset_t waiting = previous;
  sigdelset(&waiting, SIGTERM);
  sigdelset(&waiting, SIGINT);
  ReadOutcome outcome = ReadOutcome::kRead;
  static char buffer[1 << 16];
  for (;;) {
    if (g_cancel.requested()) {
      outcome = ReadOutcome::kCancelled;
      break;
    }
    pollfd ready{fd, POLLIN, 0};
    if (ppoll(&ready, 1, nullptr, &waiting) < 0) {
      if (errno == EINTR) continue;
      error_number = errno;
      outcome = ReadOutcome::kFailed;
      break;
    }
    const ssize_t count = read(fd, buffer, sizeof buffer);
    if (count == 0) break;
    if (count < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      error_number = errno;
      outcome = ReadOutcome::kFailed;
      break;
    }
    text.append(buffer, static_cast<std::size_t>(count));
    if (text.size() > max_bytes) {
      outcome = ReadOutcome::kTooLarge;
      break;
    }
  }
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);  // a cancel still pending is delivered here
  if (g_cancel.requested()) outcome = ReadOutcome::kCancelled;
  return outcome;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    print_overview();
    return smr::kExitBadInput;
  }
  const std::string first = argv[1];
  if (first == "--help" || first == "-h" || first == "help") {
    print_overview();
    return smr::kExitDone;
  }
  if (first == "--version") {
    std::printf("smr %s\n", kVersion);
    return smr::kExitDone;
  }
  const smr::Command* command = smr::find_command(first);
  if (command == nullptr) {
    std::fprintf(stderr, "smr: unknown command '%s'; run 'smr --help' for the list\n", first.c_str());
    return smr::kExitBadInput;
  }
  if (argc > 2 && (std::strcmp(argv[2], "--help") == 0 || std::strcmp(argv[2], "-h") == 0)) {
    std::printf("%s", command->help.c_str());
    return smr::kExitDone;
  }

  smr::Reporter reporter(stdout, &g_cancel);
  const auto fail = [&](int code, const std::string& message) {
    reporter.error(message);
    std::fprintf(stderr, "smr %s: %s\n", command->name.c_str(), message.c_str());
    return code;
  };
  try {
    const bool from_file = argc > 2;
    const std::string origin = from_file ? std::string("parameter file '") + argv[2] + "'" : std::string("parameters");
    const int fd = from_file ? open(argv[2], O_RDONLY | O_CLOEXEC) : STDIN_FILENO;
    if (fd < 0)
      return fail(smr::kExitBadInput, "cannot read " + origin + ": " + std::strerror(errno) +
                                          "; give a file of JSON parameters, or none to read them from stdin");
    std::string text;
    int error_number = 0;
    const ReadOutcome read = read_bounded(fd, smr::kMaxParameterBytes, text, error_number);
    if (from_file) close(fd);
    if (read == ReadOutcome::kCancelled) {
      // Nothing was started, so stdout stays empty: the caller asked for the stop and knows why.
      std::fprintf(stderr, "smr %s: cancelled before the parameters were read\n", command->name.c_str());
      return smr::kExitCancelled;
    }
    if (read == ReadOutcome::kFailed)
      return fail(smr::kExitBadInput, "cannot read " + origin + ": " + std::strerror(error_number));
    // Text past the limit (kTooLarge) is refused by the parser with the message of every JSON source.
    const smr::json parameters =
        smr::parse_json_text(text, origin, smr::kMaxParameterBytes, smr::kMaxParameterNesting, "a parameter object");
    text = std::string();  // the parameters can be large (samples of a vector layer): free the text
    const smr::json outputs = smr::execute(*command, parameters, reporter);
    reporter.progress(1.0);
    reporter.result(outputs);
    return smr::kExitDone;
  } catch (const smr::InputError& error) {
    return fail(smr::kExitBadInput, error.what());
  } catch (const smr::Cancelled&) {
    reporter.info("cancelled; no output was written");
    return smr::kExitCancelled;
  } catch (const std::bad_alloc&) {
    return fail(smr::kExitInternal, "internal error: out of memory");
  } catch (const std::exception& error) {
    return fail(smr::kExitInternal, std::string("internal error: ") + error.what());
  }
}
