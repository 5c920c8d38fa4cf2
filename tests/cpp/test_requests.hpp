// The request catalogue of tests/regressions (commands.json: tiny inputs and one valid request per
// command and mode) and the regression files beside it, for the bad-input matrix and the regression
// replay. tests/regressions/README.md describes the formats; scripts/fuzz-protocol reads the same files.
#pragma once

#include "smr/protocol.hpp"

#include <filesystem>
#include <string>
#include <vector>

namespace smr::test {

std::filesystem::path regressions_folder();

// tests/regressions/commands.json.
const json& catalogue();

// Where the placeholders of a request point: @SCENE@, @SERIES@ and @INPUTS@ into the generated inputs,
// @OUT@ to the case's own output folder, @MODEL_FILE@ to the model file a regression brings.
struct Placeholders {
  std::string inputs;
  std::string out;
  std::string model_file;
};

// Replaces the placeholders, expands $N*TEXT$ to TEXT repeated N times (TEXT without '$'), which writes
// a parameter text nested 100000 deep in a few characters, and $#HEX$ to those bytes (invalid UTF-8,
// which a JSON regression file cannot hold as text).
std::string substitute(std::string text, const Placeholders& places);
json substitute(const json& value, const Placeholders& places);

// The catalogue's "inputs", made once per process by in-process runs: the folder @INPUTS@ names.
const std::string& catalogue_inputs();

// Whether `message` names `key` as a parameter: not as part of a longer key (MU in MU_MAX, REFERENCE
// in REFERENCE_RASTER), but KEY_<i> (an element of a list such as INPUT_RASTERS_0) and KEY.member count.
bool names_key(const std::string& message, const std::string& key);

}  // namespace smr::test
