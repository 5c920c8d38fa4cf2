// The smr command line: the protocol of DESIGN §3 around the commands of the core.
#include "smr/commands.hpp"
#include "smr/protocol.hpp"
#include "smr/raster.hpp"

#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

namespace {

smr::CancelToken g_cancel;

extern "C" void request_cancel(int) { g_cancel.request(); }

constexpr const char* kVersion = "0.1.0";

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

std::string read_all(std::istream& in) { return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()}; }

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

  std::signal(SIGTERM, request_cancel);
  std::signal(SIGINT, request_cancel);
  smr::Reporter reporter(stdout, &g_cancel);
  const auto fail = [&](int code, const std::string& message) {
    reporter.error(message);
    std::fprintf(stderr, "smr %s: %s\n", command->name.c_str(), message.c_str());
    return code;
  };
  try {
    std::string text;
    if (argc > 2) {
      std::ifstream file(argv[2]);
      if (!file) return fail(smr::kExitBadInput, std::string("cannot read parameter file '") + argv[2] + "'");
      text = read_all(file);
    } else {
      text = read_all(std::cin);
    }
    smr::json parameters;
    try {
      parameters = smr::json::parse(text);
    } catch (const smr::json::parse_error& error) {
      return fail(smr::kExitBadInput, std::string("parameters are not valid JSON: ") + error.what());
    }
    const smr::GdalSession gdal(reporter);
    const smr::Params params(parameters, command->name);
    const smr::json outputs = command->run(params, reporter);
    reporter.progress(1.0);
    reporter.result(outputs);
    return smr::kExitDone;
  } catch (const smr::InputError& error) {
    return fail(smr::kExitBadInput, error.what());
  } catch (const smr::Cancelled&) {
    reporter.info("cancelled; no output was written");
    return smr::kExitCancelled;
  } catch (const std::exception& error) {
    return fail(smr::kExitInternal, std::string("internal error: ") + error.what());
  }
}
