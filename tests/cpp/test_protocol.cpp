// The smr executable's protocol (DESIGN §3): JSON lines, exit codes, SIGTERM cancels without leaving output.
#include "support.hpp"
#include "test_requests.hpp"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <thread>

using namespace smr;
using namespace smr::test;
using Catch::Matchers::Contains;

namespace {

namespace fs = std::filesystem;

struct Process {
  pid_t pid = -1;
  std::FILE* out = nullptr;
  int in = -1;  // the write end of smr's stdin while it is kept open
};

// The smr under test: SMR_EXECUTABLE from the environment (to replay the regressions against another
// build, e.g. one of the unchanged sources), else the one built with these tests.
const char* executable() {
  const char* configured = std::getenv("SMR_EXECUTABLE");
  return configured != nullptr && *configured != '\0' ? configured : SMR_EXECUTABLE;
}

// Starts `smr <command>` with the parameters on stdin and its stdout on a pipe; `keep_stdin_open`
// leaves smr waiting for the rest of its parameters.
Process start(const std::string& command, const std::string& parameters, bool keep_stdin_open = false) {
  int in_pipe[2], out_pipe[2];
  REQUIRE(pipe(in_pipe) == 0);
  REQUIRE(pipe(out_pipe) == 0);
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    dup2(in_pipe[0], STDIN_FILENO);
    dup2(out_pipe[1], STDOUT_FILENO);
    close(in_pipe[1]);
    close(out_pipe[0]);
    execl(executable(), executable(), command.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  close(in_pipe[0]);
  close(out_pipe[1]);
  REQUIRE(write(in_pipe[1], parameters.data(), parameters.size()) == static_cast<ssize_t>(parameters.size()));
  if (!keep_stdin_open) close(in_pipe[1]);
  return {pid, fdopen(out_pipe[0], "r"), keep_stdin_open ? in_pipe[1] : -1};
}

int wait_exit_code(const Process& process) {
  int status = 0;
  waitpid(process.pid, &status, 0);
  std::fclose(process.out);
  if (process.in >= 0) close(process.in);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// How a run through the executable ended, for the regression replay.
struct Finished {
  int exit_code = -1;  // when it exited
  int signal = 0;      // when a signal ended it
  bool timed_out = false;
  std::string out;     // stdout
  std::string describe() const {
    if (timed_out) return "a timeout";
    if (signal != 0) return "signal " + std::to_string(signal);
    return "exit " + std::to_string(exit_code);
  }
};

// `smr <command>` with `parameters` on stdin (from a file, so smr may stop reading early without the
// writer blocking), stderr discarded, killed after `timeout_s`.
Finished run_executable(const std::string& command, const std::string& parameters, const fs::path& folder,
                        int timeout_s) {
  const fs::path request = folder / "parameters.json";
  std::ofstream(request, std::ios::binary) << parameters;
  int out_pipe[2];
  REQUIRE(pipe(out_pipe) == 0);
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    const int in = open(request.c_str(), O_RDONLY);
    const int null = open("/dev/null", O_WRONLY);
    dup2(in, STDIN_FILENO);
    dup2(out_pipe[1], STDOUT_FILENO);
    dup2(null, STDERR_FILENO);
    close(out_pipe[0]);
    execl(executable(), executable(), command.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  close(out_pipe[1]);
  Finished finished;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  char buffer[65536];
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      finished.timed_out = true;
      kill(pid, SIGKILL);
      break;
    }
    pollfd ready{out_pipe[0], POLLIN, 0};
    if (poll(&ready, 1, static_cast<int>(left.count())) <= 0) continue;
    const ssize_t count = read(out_pipe[0], buffer, sizeof buffer);
    if (count <= 0) break;
    finished.out.append(buffer, static_cast<std::size_t>(count));
  }
  close(out_pipe[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!finished.timed_out) {
    if (WIFEXITED(status)) finished.exit_code = WEXITSTATUS(status);
    if (WIFSIGNALED(status)) finished.signal = WTERMSIG(status);
  }
  fs::remove(request);
  return finished;
}

// The message of the protocol's final error line, or empty.
std::string error_message(const std::string& out) {
  std::istringstream lines(out);
  std::string message;
  for (std::string line; std::getline(lines, line);) {
    const json parsed = json::parse(line, nullptr, false);
    if (parsed.is_object() && parsed.value("type", "") == "error") message = parsed.value("message", "");
  }
  return message;
}

std::vector<std::string> files_under(const fs::path& folder) {
  std::vector<std::string> files;
  std::error_code error;
  for (auto it = fs::recursive_directory_iterator(folder, error); !error && it != fs::recursive_directory_iterator();
       it.increment(error))
    if (!it->is_directory()) files.push_back(fs::relative(it->path(), folder).string());
  return files;
}

std::string read_line(const Process& process) {
  char buffer[65536];
  return std::fgets(buffer, sizeof buffer, process.out) ? std::string(buffer) : std::string();
}

}  // namespace

TEST_CASE("exit code 2 and an error line name the parameter", "[protocol]") {
  TempDir dir;
  const auto process = start("mpdi", json{{"TBV", dir.file("nope.tif")}, {"TBH", dir.file("nope.tif")},
                                          {"OUTPUT", dir.file("o.tif")}}.dump());
  std::string all, line;
  while (!(line = read_line(process)).empty()) all += line;
  CHECK(wait_exit_code(process) == kExitBadInput);
  const auto last = json::parse(all.substr(all.rfind('{')));
  CHECK(last["type"] == "error");
  CHECK_THAT(last["message"].get<std::string>(), Contains("TBV: cannot open"));
}

TEST_CASE("malformed JSON is a wrong input", "[protocol]") {
  const auto process = start("mpdi", "{not json");
  while (!read_line(process).empty()) {
  }
  CHECK(wait_exit_code(process) == kExitBadInput);
}

TEST_CASE("a finished run ends with one result line holding every output", "[protocol]") {
  TempDir dir;
  write_raster(dir.file("tb.tif"), std::vector<float>(12, 250.0f));
  const auto process = start("mpdi", json{{"TBV", dir.file("tb.tif")}, {"TBH", dir.file("tb.tif")},
                                          {"OUTPUT", dir.file("o.tif")}}.dump());
  std::vector<json> lines;
  for (std::string line; !(line = read_line(process)).empty();) lines.push_back(json::parse(line));
  CHECK(wait_exit_code(process) == kExitDone);
  REQUIRE_FALSE(lines.empty());
  CHECK(lines.back()["type"] == "result");
  CHECK(lines.back()["outputs"]["OUTPUT"] == dir.file("o.tif"));
  CHECK(lines.back()["outputs"]["VALID_PIXELS"] == 12);
  int progress_lines = 0;
  for (const auto& line : lines) progress_lines += line["type"] == "progress";
  CHECK(progress_lines >= 1);
}

TEST_CASE("SIGTERM mid-run exits 3 and leaves no output", "[protocol][cancel]") {
  TempDir dir;
  const std::string folder = dir.file("scene");
  // One thread and a scene large enough to last well beyond the first progress line.
  const auto process = start("samplescene", json{{"OUTPUT_DIR", folder}, {"WIDTH", 4000}, {"HEIGHT", 4000},
                                                 {"THREADS", 1}}.dump());
  std::string line;
  while (!(line = read_line(process)).empty() && line.find("\"progress\"") == std::string::npos) {
  }
  REQUIRE_FALSE(line.empty());
  kill(process.pid, SIGTERM);
  while (!read_line(process).empty()) {
  }
  CHECK(wait_exit_code(process) == kExitCancelled);
  for (const auto& entry : std::filesystem::directory_iterator(folder)) {
    INFO(entry.path());
    CHECK(false);  // neither a final nor a partial file may remain
  }
}

TEST_CASE("SIGTERM while smr waits for its parameters exits 3 and prints nothing", "[protocol][cancel]") {
  // stdin stays open, so smr blocks reading it, as when a caller is slow to send a large request.
  const auto process = start("mpdi", "{\"TBV\": ", true);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  kill(process.pid, SIGTERM);
  // A read restarted after the signal would block for good: give it 10 s, then stop it.
  pollfd ready{fileno(process.out), POLLIN, 0};
  const bool ended = poll(&ready, 1, 10000) == 1;
  if (!ended) kill(process.pid, SIGKILL);
  CHECK(ended);
  const std::string first = read_line(process);
  CHECK(wait_exit_code(process) == kExitCancelled);
  CHECK(first.empty());
}

TEST_CASE("a SIGTERM before any constructor ran is a cancel (exit 3), not a kill", "[protocol][cancel]") {
  // A preloaded library whose constructor raises SIGTERM: shared libraries' constructors run after the
  // executable's .preinit_array and before main, so only a handler installed there sees the signal.
  TempDir dir;
  std::ofstream(dir.file("raise.cpp")) << "#include <csignal>\n"
                                          "__attribute__((constructor)) static void early() { std::raise(SIGTERM); }\n";
  const std::string library = dir.file("libraise.so");
  if (std::system(("c++ -shared -fPIC -o '" + library + "' '" + dir.file("raise.cpp") + "' 2>/dev/null").c_str()) != 0) {
    WARN("no C++ compiler to build the preloaded library: skipped");
    return;
  }
  int out_pipe[2];
  REQUIRE(pipe(out_pipe) == 0);
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    const int null = open("/dev/null", O_RDWR);
    dup2(null, STDIN_FILENO);
    dup2(out_pipe[1], STDOUT_FILENO);
    dup2(null, STDERR_FILENO);
    close(out_pipe[0]);
    setenv("LD_PRELOAD", library.c_str(), 1);
    // Under AddressSanitizer (scripts/run-sanitizers) a preloaded library may come before its runtime.
    const char* asan = std::getenv("ASAN_OPTIONS");
    setenv("ASAN_OPTIONS", (std::string(asan ? asan : "") + ":verify_asan_link_order=0").c_str(), 1);
    execl(executable(), executable(), "mpdi", static_cast<char*>(nullptr));
    _exit(127);
  }
  close(out_pipe[1]);
  char buffer[256];
  const ssize_t printed = read(out_pipe[0], buffer, sizeof buffer);
  close(out_pipe[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  REQUIRE(WIFEXITED(status));  // not killed by the signal
  CHECK(WEXITSTATUS(status) == kExitCancelled);
  CHECK(printed == 0);
}

TEST_CASE("SIGTERM while samplescene moves on to its next grid exits 3 promptly", "[protocol][cancel][samplescene]") {
  TempDir dir;
  const auto process = start("samplescene", json{{"OUTPUT_DIR", dir.file("scene")}, {"WIDTH", 1200}, {"HEIGHT", 1200},
                                                 {"THREADS", 1}}.dump());
  std::string line;
  while (!(line = read_line(process)).empty() && line.find("optical grid") == std::string::npos) {
  }
  REQUIRE_FALSE(line.empty());
  const auto signalled = std::chrono::steady_clock::now();
  kill(process.pid, SIGTERM);
  while (!read_line(process).empty()) {
  }
  CHECK(wait_exit_code(process) == kExitCancelled);
  // One block of the optical grid at most: well under a second on any machine that runs the tests.
  CHECK(std::chrono::steady_clock::now() - signalled < std::chrono::seconds(5));
}

TEST_CASE("regressions: every file of tests/regressions ends as it says, through the executable",
          "[protocol][regressions]") {
  const std::string inputs = catalogue_inputs();
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(regressions_folder()))
    if (entry.path().extension() == ".json" && entry.path().filename() != "commands.json") files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  REQUIRE(files.size() >= 10);
  for (const fs::path& file : files) {
    INFO("regression " << file.filename().string());
    std::ifstream in(file);
    const json regression = json::parse(std::string{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()});
    TempDir folder;
    fs::create_directories(folder.file("out"));
    fs::create_directories(folder.file("in"));
    const Placeholders places{inputs, folder.file("out"), folder.file("in") + "/model.json"};
    if (regression.contains("model_file")) {
      const json& model = regression.at("model_file");
      std::ofstream(places.model_file, std::ios::binary)
          << (model.is_string() ? substitute(model.get<std::string>(), places) : substitute(model, places).dump());
    }
    const std::string parameters = regression.contains("parameters_text")
                                       ? substitute(regression.at("parameters_text").get<std::string>(), places)
                                       : substitute(regression.at("parameters"), places).dump();
    const Finished finished = run_executable(regression.at("command"), parameters, folder.file("in"),
                                             regression.value("timeout_s", 60));
    INFO("ended with " << finished.describe() << "; stdout: " << finished.out.substr(0, 2000));
    CHECK(finished.exit_code == regression.at("exit").get<int>());
    const std::string message = error_message(finished.out);
    for (const auto& expected : regression.value("message_contains", json::array())) {
      INFO("the error message must contain '" << expected.get<std::string>() << "'");
      CHECK(message.find(expected.get<std::string>()) != std::string::npos);
    }
    if (regression.value("stdout_empty", false)) CHECK(finished.out.empty());
    // A run that did not finish leaves nothing under the requested names, nor partial files.
    if (finished.exit_code != kExitDone) CHECK(files_under(folder.file("out")).empty());
  }
}
