// Model files: a round trip keeps every prediction; corrupt, truncated and hostile files are rejected
// with a message naming the field; applymodel computes what the model says, pixel by pixel.
#include "smr/model_file.hpp"
#include "smr/params.hpp"
#include "support.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>
#include <iterator>
#include <limits>

using namespace smr;
using Catch::Matchers::Contains;
using Catch::Matchers::WithinAbs;

namespace {

// A 2-1-1 network written by hand: inputs x ∈ [0, 10], y ∈ [−5, 5]; target in [0.1, 0.5].
json hand_model() {
  return {{"format", "smr-model"},
          {"version", 1},
          {"kind", "mlp"},
          {"inputs", {{{"name", "x"}, {"minimum", 0.0}, {"maximum", 10.0}}, {{"name", "y"}, {"minimum", -5.0}, {"maximum", 5.0}}}},
          {"target", {{"name", "sm"}, {"minimum", 0.1}, {"maximum", 0.5}}},
          {"normalisation", {{"method", "mapminmax"}, {"range", {-1, 1}}}},
          {"layers", {{{"activation", "tansig"}, {"weights", {{0.5, -1.0}}}, {"bias", {0.25}}},
                      {{"activation", "purelin"}, {"weights", {{2.0}}}, {"bias", {-0.5}}}}},
          {"training", json::object()},
          {"metrics", json::object()}};
}

// By hand: x = 7.5 → 0.5, y = 2.5 → 0.5; n = 0.5·0.5 − 1·0.5 + 0.25 = 0; tansig(0) = 0;
// out = 2·0 − 0.5 = −0.5; target = (−0.5 + 1)/2·0.4 + 0.1 = 0.2.
// x = 10 → 1, y = −5 → −1: n = 0.5 + 1 + 0.25 = 1.75; out = 2·tanh(1.75) − 0.5;
// target = (out + 1)·0.2 + 0.1.
const double kAtSevenFive = 0.2;
const double kAtCorner = (2.0 * std::tanh(1.75) - 0.5 + 1.0) * 0.2 + 0.1;

void write_text(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

}  // namespace

TEST_CASE("a hand-written model predicts the hand-computed values", "[model]") {
  const MlpModel model = model_from_json(hand_model(), "test");
  Eigen::MatrixXd inputs(2, 2);
  inputs << 7.5, 10.0, 2.5, -5.0;
  const Eigen::MatrixXd estimate = model.predict(inputs);
  CHECK_THAT(estimate(0, 0), WithinAbs(kAtSevenFive, 1e-12));
  CHECK_THAT(estimate(0, 1), WithinAbs(kAtCorner, 1e-12));
}

TEST_CASE("a model file round trip keeps names, scaling and weights exactly", "[model]") {
  test::TempDir folder;
  MlpModel model = model_from_json(hand_model(), "test");
  model.training = {{"seed", 3}};
  write_model_file(folder.file("m.json"), model);
  const MlpModel back = read_model_file(folder.file("m.json"), "MODEL");
  CHECK(back.input_names == model.input_names);
  CHECK(back.network.parameters() == model.network.parameters());
  CHECK(back.input_scaling.minimum == model.input_scaling.minimum);
  CHECK(back.training == model.training);
  CHECK(model_to_json(back) == model_to_json(model));
  for (const auto& entry : folder.entries()) CHECK_THAT(entry, !Contains("smr-partial"));
}

TEST_CASE("hostile, corrupt and truncated model files are rejected with a message", "[model][errors]") {
  test::TempDir folder;
  const std::string path = folder.file("m.json");
  const auto rejected = [&](const std::string& text, const std::string& message) {
    write_text(path, text);
    CHECK_THROWS_AS(read_model_file(path, "MODEL"), InputError);
    CHECK_THROWS_WITH(read_model_file(path, "MODEL"), Contains("MODEL: model file") && Contains(message));
  };
  const auto edited = [&](const std::function<void(json&)>& edit, const std::string& message) {
    json document = hand_model();
    edit(document);
    rejected(document.dump(), message);
  };
  const std::string valid = hand_model().dump();
  rejected(valid.substr(0, valid.size() / 2), "not valid JSON");
  rejected("", "not valid JSON");
  rejected("\x89PNG\r\n\x1a\n", "not valid JSON");
  rejected(std::string(100000, '['), "nested more than");
  rejected("[1, 2, 3]", "must be an object");
  edited([](json& d) { d["format"] = "pickle"; }, "field 'format' must be \"smr-model\"");
  edited([](json& d) { d["version"] = 2; }, "field 'version' must be 1");
  edited([](json& d) { d["kind"] = "lstm"; }, "field 'kind' must be \"mlp\"");
  edited([](json& d) { d.erase("layers"); }, "field 'layers' is missing");
  edited([](json& d) { d["exec"] = "rm -rf /"; }, "field 'exec' is not part of format smr-model");
  edited([](json& d) { d["layers"][0]["activation"] = "__import__('os')"; }, "field 'layers[0].activation' is not valid");
  edited([](json& d) { d["layers"][0]["weights"][0] = {0.5}; }, "field 'layers[0].weights[0]' must have 2 to 2 entries");
  edited([](json& d) { d["layers"][0]["weights"][0][1] = "1e999"; }, "field 'layers[0].weights[0][1]' must be a number");
  edited([](json& d) { d["layers"][0]["bias"] = {0.1, 0.2}; }, "field 'layers[0].bias' must have 1 to 1 entries");
  edited([](json& d) { d["layers"][1]["weights"] = {{1.0}, {2.0}}; }, "output layer must have 1 row");
  edited([](json& d) { d["layers"][0]["weights"] = std::vector<std::vector<double>>(1001, {0.0, 0.0}); },
         "must have 1 to 1000 entries");
  edited([](json& d) { d["inputs"] = json::array(); }, "field 'inputs' must have 1 to 1000 entries");
  edited([](json& d) { d["inputs"][1]["maximum"] = -6.0; }, "field 'inputs[1].maximum' must not be less than 'minimum'");
  edited([](json& d) { d["target"]["maximum"] = 0.1; }, "field 'target.maximum' must be greater than 'minimum'");
  edited([](json& d) { d["normalisation"]["range"] = {1, -1}; }, "field 'normalisation.range' must be [low, high]");
  edited([](json& d) { d["inputs"][0]["name"] = std::string(300, 'x'); }, "field 'inputs[0].name' must be a string of 1 to 256");
  edited([](json& d) { d["metrics"] = "fine"; }, "field 'metrics' must be an object");
  CHECK_THROWS_WITH(read_model_file(folder.file("missing.json"), "MODEL"), Contains("does not exist"));
}

TEST_CASE("applymodel: pixels as the model computes them, nodata, clamping, extrapolation", "[model][applymodel]") {
  test::TempDir folder;
  write_text(folder.file("m.json"), hand_model().dump());
  const double nodata = -1.0e6;
  test::write_raster(folder.file("x.tif"), {7.5f, 10.0f, 7.5f, 7.5f, 20.0f, 7.5f}, {3, 2}, &nodata);
  test::write_raster(folder.file("y.tif"), {2.5f, -5.0f, -1.0e6f, 2.5f, 2.5f, 2.5f}, {3, 2}, &nodata);
  json parameters = {{"MODEL", folder.file("m.json")},
                     {"INPUTS", {folder.file("x.tif"), folder.file("y.tif")}},
                     {"OUTPUT", folder.file("sm.tif")}};
  json result = test::run_command("applymodel", parameters).outputs;
  std::vector<float> sm = test::read_raster(folder.file("sm.tif"));
  CHECK_THAT(sm[0], WithinAbs(kAtSevenFive, 1e-6));
  CHECK_THAT(sm[1], WithinAbs(kAtCorner, 1e-6));
  CHECK(sm[2] == kOutputNodata);
  CHECK(result["NODATA_PIXELS"] == 1);
  CHECK(result["VALID_PIXELS"] == 5);
  CHECK(result["OUT_OF_RANGE_PIXELS"] == 1);  // x = 20 lies beyond the training maximum 10
  CHECK(result["CLAMPED_PIXELS"] == 0);

  parameters["CLAMP_MIN"] = 0.25;
  parameters["CLAMP_MAX"] = 0.3;
  result = test::run_command("applymodel", parameters).outputs;
  sm = test::read_raster(folder.file("sm.tif"));
  CHECK(sm[0] == 0.25f);  // 0.2 raised to the bound
  CHECK(result["CLAMPED_PIXELS"].get<long long>() >= 1);

  const auto fails_with = [&](json bad, const std::string& message) {
    CHECK_THROWS_WITH(test::run_command("applymodel", bad), Contains(message));
  };
  json one_input = parameters;
  one_input["INPUTS"] = {folder.file("x.tif")};
  fails_with(one_input, "INPUTS has 1 rasters but the model takes 2 inputs, in this order: x, y");
  json swapped = parameters;
  swapped["INPUTS"] = {folder.file("y.tif"), folder.file("x.tif")};
  fails_with(swapped, "is named like the model's input 2");
  json clamps = parameters;
  clamps["CLAMP_MIN"] = 0.5;
  fails_with(clamps, "CLAMP_MIN 0.5 is greater than CLAMP_MAX 0.3");
}

TEST_CASE("a pixel equal to a training extreme after Float32 rounding is inside the training range", "[model][applymodel][range]") {
  // The extremes come from double samples; the raster holds Float32. 0.7 rounds down to Float32 and
  // 1.1 rounds up: float(0.7) < 0.7 and float(1.1) > 1.1, so both pixels once counted as outside.
  const float low = 0.7f, high = 1.1f;
  REQUIRE(static_cast<double>(low) < 0.7);
  REQUIRE(static_cast<double>(high) > 1.1);
  const float below = std::nextafter(low, -1.0f), above = std::nextafter(high, 2.0f);  // one Float32 step beyond

  json document = hand_model();
  document["inputs"][0]["minimum"] = 0.7;
  document["inputs"][0]["maximum"] = 1.1;
  const MlpModel model = model_from_json(document, "test");
  const TrainingRanges ranges(model.input_scaling);
  CHECK_FALSE(ranges.outside(0, low));
  CHECK_FALSE(ranges.outside(0, high));
  CHECK_FALSE(ranges.outside(0, 0.9f));
  CHECK(ranges.outside(0, below));
  CHECK(ranges.outside(0, above));
  // Extremes that are Float32 values already stay exactly as they are: y ∈ [−5, 5].
  CHECK_FALSE(ranges.outside(1, -5.0f));
  CHECK_FALSE(ranges.outside(1, 5.0f));
  CHECK(ranges.outside(1, std::nextafter(5.0f, 6.0f)));
  CHECK(ranges.outside(1, std::nextafter(-5.0f, -6.0f)));

  test::TempDir folder;
  write_text(folder.file("m.json"), document.dump());
  test::write_raster(folder.file("x.tif"), {low, high, 0.9f, below, above, high}, {3, 2});
  test::write_raster(folder.file("y.tif"), {0.0f, 0.0f, 0.0f, 0.0f, 0.0f, std::nextafter(5.0f, 6.0f)}, {3, 2});
  const json result = test::run_command("applymodel", {{"MODEL", folder.file("m.json")},
                                                       {"INPUTS", {folder.file("x.tif"), folder.file("y.tif")}},
                                                       {"OUTPUT", folder.file("sm.tif")}}).outputs;
  CHECK(result["VALID_PIXELS"] == 6);
  CHECK(result["OUT_OF_RANGE_PIXELS"] == 3);  // below, above, and y one step above 5
}

TEST_CASE("CLAMP_MIN and CLAMP_MAX are checked before anything runs", "[model][applymodel][errors]") {
  const auto fails_with = [](const json& parameters, const std::string& message) {
    CHECK_THROWS_WITH(EstimateBounds::from(Params(parameters, "applymodel")), Contains(message));
  };
  fails_with({{"CLAMP_MIN", 0.6}, {"CLAMP_MAX", 0.5}}, "CLAMP_MIN 0.6 is greater than CLAMP_MAX 0.5");
  fails_with({{"CLAMP_MIN", std::numeric_limits<double>::infinity()}}, "CLAMP_MIN must be a finite number");
  fails_with({{"CLAMP_MAX", std::numeric_limits<double>::quiet_NaN()}}, "CLAMP_MAX must be a finite number");
  fails_with({{"CLAMP_MAX", "0.5"}}, "CLAMP_MAX must be a number, got \"0.5\"");
  fails_with({{"CLAMP_MAX", 1e39}}, "CLAMP_MAX is 1e+39: the output is Float32");

  const EstimateBounds none = EstimateBounds::from(Params({{"CLAMP_MIN", nullptr}}, "applymodel"));
  CHECK_FALSE(none.any());
  const EstimateBounds both = EstimateBounds::from(Params({{"CLAMP_MIN", 0.0}, {"CLAMP_MAX", 0.5}}, "applymodel"));
  double value = -0.25;
  CHECK(both.clamp(value));
  CHECK(value == 0.0);
  value = 0.75;
  CHECK(both.clamp(value));
  CHECK(value == 0.5);
  value = 0.5;  // at a bound: kept, not counted
  CHECK_FALSE(both.clamp(value));
  value = std::numeric_limits<double>::quiet_NaN();  // an invalid estimate stays invalid (nodata)
  CHECK_FALSE(both.clamp(value));
  CHECK(std::isnan(value));
  const EstimateBounds equal = EstimateBounds::from(Params({{"CLAMP_MIN", 0.3}, {"CLAMP_MAX", 0.3}}, "applymodel"));
  value = 0.1;
  CHECK(equal.clamp(value));
  CHECK(value == 0.3);
}
