// The smr executable's protocol (DESIGN §3): JSON lines, exit codes, SIGTERM cancels without leaving output.
#include "support.hpp"

#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <sstream>

using namespace smr;
using namespace smr::test;
using Catch::Matchers::Contains;

namespace {

struct Process {
  pid_t pid = -1;
  std::FILE* out = nullptr;
};

// Starts `smr <command>` with the parameters on stdin and its stdout on a pipe.
Process start(const std::string& command, const std::string& parameters) {
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
    execl(SMR_EXECUTABLE, SMR_EXECUTABLE, command.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  close(in_pipe[0]);
  close(out_pipe[1]);
  REQUIRE(write(in_pipe[1], parameters.data(), parameters.size()) == static_cast<ssize_t>(parameters.size()));
  close(in_pipe[1]);
  return {pid, fdopen(out_pipe[0], "r")};
}

int wait_exit_code(const Process& process) {
  int status = 0;
  waitpid(process.pid, &status, 0);
  std::fclose(process.out);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
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
