// The bad-input matrix (issue 11): every command and mode of tests/regressions/commands.json, each of
// its parameters (and each member of a structured one) given hostile values — wrong types, empty lists
// and strings, 0, negatives, ±1e308, integers beyond 64 bits, NaN-like strings, nested objects,
// nonexistent paths, a folder for a file, bands out of range. Each run must end as done (the value is
// valid) or as wrong input whose message names the parameter made bad (for a member of a raster
// object or a list, the parameter that holds it); never as an internal error. Runs are in-process, as
// `smr` makes them (smr::execute); the executable itself is tested in test_protocol.cpp.
#include "support.hpp"
#include "test_requests.hpp"

#include <catch2/catch.hpp>

#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <limits>
#include <sstream>

using namespace smr;
using namespace smr::test;
namespace fs = std::filesystem;

namespace {

struct Outcome {
  int code = kExitDone;
  std::string message;
};

Outcome run_case(const std::string& command, const json& parameters) {
  Reporter silent(nullptr);
  try {
    execute(*find_command(command), parameters, silent);
    return {};
  } catch (const InputError& error) {
    return {kExitBadInput, error.what()};
  } catch (const Cancelled&) {
    return {kExitCancelled, "cancelled"};
  } catch (const std::exception& error) {
    return {kExitInternal, error.what()};
  }
}

// Values no parameter accepts in all its forms; some are valid for some parameters (0 threads, a
// negative offset), which the matrix allows: the run must then succeed.
std::vector<json> hostile_values(const std::string& out) {
  return {nullptr,
          true,
          "text",
          "",
          "NaN",
          "-Infinity",
          std::string(3000, 'x'),
          0,
          -1,
          0.5,
          1e308,
          -1e308,
          1e-308,
          std::numeric_limits<std::int64_t>::max(),
          std::numeric_limits<std::uint64_t>::max(),
          std::numeric_limits<std::int64_t>::min(),
          json::array(),
          json::array({json::array({1})}),
          json::object(),
          {{"a", {{"b", {1}}}}},
          "/nonexistent/smr-test/x.tif",
          out};  // a folder where a file is expected
}

// For the members of a structured parameter (a raster's path, band, nodata; SAMPLES.target): fewer,
// since the members' own checks are shared.
std::vector<json> hostile_members(const std::string& out) {
  return {nullptr, true, "", "text", 0, -1, 99, 1.5, 1e308, -1e308, std::numeric_limits<std::int64_t>::max(),
          json::array(), json::object(), "/nonexistent/smr-test/x.tif", out};
}

struct Case {
  std::string key;    // the parameter a message must name
  std::string where;  // what was changed, for the report
  json value;
  json parameters;
};

std::vector<Case> cases_of(const json& base, const std::string& out) {
  std::vector<Case> cases;
  for (const auto& item : base.items()) {
    const std::string key = item.key();
    for (const json& value : hostile_values(out)) {
      json parameters = base;
      parameters[key] = value;
      cases.push_back({key, key, value, parameters});
    }
    const json& given = item.value();
    // A member of an object parameter, or of the first element of a list of them; plus one it does not have.
    const auto members = [&](const json& object, const std::function<json&(json&)>& slot, const std::string& where) {
      for (const auto& member : object.items())
        for (const json& value : hostile_members(out)) {
          json parameters = base;
          slot(parameters)[member.key()] = value;
          cases.push_back({key, where + "." + member.key(), value, parameters});
        }
      json parameters = base;
      slot(parameters)["BOGUS"] = 1;
      cases.push_back({key, where + ".BOGUS", 1, parameters});
    };
    if (given.is_object()) members(given, [&key](json& p) -> json& { return p[key]; }, key);
    if (given.is_array() && !given.empty()) {
      for (const json& value : hostile_members(out)) {
        json parameters = base;
        parameters[key][0] = value;
        cases.push_back({key, key + "[0]", value, parameters});
      }
      if (given[0].is_object()) members(given[0], [&key](json& p) -> json& { return p[key][0]; }, key + "[0]");
    }
  }
  return cases;
}

void empty_folder(const fs::path& folder) {
  fs::remove_all(folder);
  fs::create_directories(folder);
}

// Relative paths among the hostile values ("text") must land in a scratch folder, not in the build tree.
class WorkingFolder {
 public:
  explicit WorkingFolder(const std::string& path) : previous_(fs::current_path()) { fs::current_path(path); }
  ~WorkingFolder() { fs::current_path(previous_); }

 private:
  fs::path previous_;
};

}  // namespace

TEST_CASE("bad inputs: every parameter of every command is rejected by name, never as an internal error",
          "[bad_inputs]") {
  const std::string inputs = catalogue_inputs();
  TempDir scratch;
  const std::string out = scratch.file("out");
  fs::create_directories(scratch.file("cwd"));
  const WorkingFolder cwd(scratch.file("cwd"));
  const Placeholders places{inputs, out, ""};

  std::vector<std::string> covered;
  long long runs = 0;
  const auto start = std::chrono::steady_clock::now();
  for (const auto& request : catalogue().at("requests")) {
    const std::string command = request.at("command");
    if (std::find(covered.begin(), covered.end(), command) == covered.end()) covered.push_back(command);
    const json base = substitute(request.at("parameters"), places);
    INFO(command << " " << describe(base));
    empty_folder(out);
    const Outcome valid = run_case(command, base);
    REQUIRE(valid.message.empty());  // the catalogue's request itself is valid
    REQUIRE(valid.code == kExitDone);
    for (const Case& c : cases_of(base, out)) {
      empty_folder(out);
      const Outcome outcome = run_case(command, c.parameters);
      ++runs;
      std::ostringstream what;
      what << command << " " << c.where << " = " << describe(c.value) << ": exit " << outcome.code << " "
           << outcome.message;
      if (outcome.code != kExitDone && outcome.code != kExitBadInput) FAIL_CHECK(what.str());
      else if (outcome.code == kExitBadInput && !names_key(outcome.message, c.key))
        FAIL_CHECK(what.str() + "  [the message does not name " + c.key + "]");
    }
  }
  // Every registered command is in the catalogue, so a new command cannot skip the matrix.
  for (const auto& command : commands()) {
    INFO("the catalogue tests/regressions/commands.json has no request for " << command.name);
    CHECK(std::find(covered.begin(), covered.end(), command.name) != covered.end());
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  WARN(runs << " bad-input runs in " << seconds << " s");
}

TEST_CASE("unused keys: an error for the chosen mode, except what the plugin sends with every request",
          "[bad_inputs][unused]") {
  const std::string inputs = catalogue_inputs();
  TempDir scratch;
  const Placeholders places{inputs, scratch.file(""), ""};
  const json pairs = {{"estimate", {0.1, 0.2, 0.3, 0.5}}, {"reference", {0.1, 0.25, 0.3, 0.4}}};
  // The plugin sends RESAMPLING and THREADS with vector-layer pairs too: at their defaults, silently.
  const auto quiet = run_command("validationmetrics", {{"PAIRS", pairs}, {"RESAMPLING", "bilinear"}, {"THREADS", 0}});
  CHECK_THAT(quiet.lines, !Catch::Contains("\"warning\""));
  CHECK(quiet.outputs["N"] == 4);
  // Changed by the user, they earn a warning, since they cannot act on pairs.
  const auto noted = run_command("validationmetrics", {{"PAIRS", pairs}, {"THREADS", 2}});
  CHECK_THAT(noted.lines, Catch::Contains("\"warning\"") && Catch::Contains("with PAIRS they are not used"));

  // Every training key goes with every trainmlp request, whatever the trainer: all stay accepted.
  json adam;
  for (const auto& request : catalogue().at("requests"))
    if (request.at("command") == "trainmlp" && request.at("parameters").contains("SAMPLES"))
      adam = substitute(request.at("parameters"), places);
  REQUIRE(adam.contains("MU"));
  adam["TRAINER"] = "adam";
  CHECK(run_command("trainmlp", adam).outputs.contains("OUTPUT_MODEL"));

  // A fitted mapping brings its own method: fitting keys beside MAPPING are named in a warning.
  const json source = {{"path", substitute(std::string("@SERIES@/gldas_sm.tif"), places)}};
  const auto applied = run_command("cdfmatching", {{"SOURCE", source}, {"MAPPING", inputs + "/mapping.tif"},
                                                   {"METHOD", "min_max"}, {"OUTPUT", scratch.file("m.tif")}});
  CHECK_THAT(applied.lines, Catch::Contains("\"warning\"") && Catch::Contains("METHOD not used"));

  // Null is how the plugin sends an unset optional key: never an error, also for another mode's keys.
  const json ndvi = {{"INDEX", "ndvi"}, {"NIR", substitute(std::string("@SCENE@/reflectance_nir.tif"), places)},
                     {"RED", substitute(std::string("@SCENE@/reflectance_red.tif"), places)},
                     {"BLUE", nullptr}, {"SWIR2", nullptr}, {"OUTPUT", scratch.file("ndvi.tif")}};
  CHECK(run_command("spectralindex", ndvi).outputs["VALID_PIXELS"].get<long long>() > 0);
}
