// smr backscattertimeindex (paper 003): BTI_t = (σ⁰_t − min σ⁰)/(max σ⁰ − min σ⁰) per pixel over its
// series, against values worked out by hand, in dB and linear scales; gaps, empty, sparse and flat
// series; band descriptions; thread-count invariance; inputs that are wrong.
#include "support.hpp"

#include <catch2/catch.hpp>

#include <cmath>

using namespace smr;
using namespace smr::test;
using Catch::Matchers::Contains;
using Catch::Matchers::WithinAbs;

namespace {

constexpr float kNodataIn = -32768.0f;
constexpr float kOut = -9999.0f;  // the outputs' nodata
constexpr double kPixelTolerance = 1e-6;  // Float32 outputs against values worked out in double
const std::vector<std::string> kDates = {"2015-04-01", "2015-04-13", "2015-04-25", "2015-05-07"};

// 4×3 pixels, 4 dates, σ⁰ in dB; kNodataIn is the file's nodata, NaN a gap too.
//   0: -10 -12  -8 -14   min -14, max -8:  4/6, 2/6, 1, 0
//   1: -10  nd  -5 -15   min -15, max -5:  0.5, nd, 1, 0
//   2:  nd  nd  nd  nd   empty
//   3:  -7  nd  nd  nd   sparse (1 value)
//   4:  -9  -9  -9  -9   flat
//   5:  -9 NaN  -9  nd   flat (2 equal values)
//   6:   0  10  20  30   0, 1/3, 2/3, 1  (linear 1, 10, 100, 1000: 0, 9/999, 99/999, 1)
//   7: -20 -15  nd  -5   0, 1/3, nd, 1
//   8..11: -1 -2 -3 -4   1, 2/3, 1/3, 0
const float nd = kNodataIn;
const float nan = std::nanf("");
const std::vector<std::vector<float>> kStack = {
    {-10, -10, nd, -7, -9, -9, 0, -20, -1, -1, -1, -1},
    {-12, nd, nd, nd, -9, nan, 10, -15, -2, -2, -2, -2},
    {-8, -5, nd, nd, -9, -9, 20, nd, -3, -3, -3, -3},
    {-14, -15, nd, nd, -9, nd, 30, -5, -4, -4, -4, -4},
};

std::string write_input(const TempDir& dir, const std::vector<std::vector<float>>& bands = kStack,
                        const std::vector<std::string>& descriptions = kDates) {
  const double nodata = kNodataIn;
  write_stack(dir.file("sigma0.tif"), bands, {}, &nodata, descriptions);
  return dir.file("sigma0.tif");
}

json bti_parameters(const TempDir& dir, const std::string& input) {
  return {{"INPUT", input}, {"OUTPUT", dir.file("bti.tif")}};
}

const std::vector<double> kAllNodata = {kOut, kOut, kOut, kOut};

}  // namespace

TEST_CASE("BTI of a dB stack in dB: hand-computed values, gaps, counts", "[bti]") {
  TempDir dir;
  const auto run = run_command("backscattertimeindex", bti_parameters(dir, write_input(dir)));
  const auto bti = read_stack(dir.file("bti.tif"));
  REQUIRE(bti.size() == 4);
  check_pixel_series(bti, 0, {4.0 / 6, 2.0 / 6, 1, 0}, kPixelTolerance);
  // A gap stays a gap; the other dates keep their index.
  check_pixel_series(bti, 1, {0.5, kOut, 1, 0}, kPixelTolerance);
  check_pixel_series(bti, 2, kAllNodata, kPixelTolerance);
  check_pixel_series(bti, 3, kAllNodata, kPixelTolerance);
  check_pixel_series(bti, 4, kAllNodata, kPixelTolerance);
  check_pixel_series(bti, 5, kAllNodata, kPixelTolerance);
  check_pixel_series(bti, 6, {0, 1.0 / 3, 2.0 / 3, 1}, kPixelTolerance);
  check_pixel_series(bti, 7, {0, 1.0 / 3, kOut, 1}, kPixelTolerance);
  for (std::size_t p = 8; p < 12; ++p) check_pixel_series(bti, p, {1, 2.0 / 3, 1.0 / 3, 0}, kPixelTolerance);

  CHECK(run.outputs["OUTPUT"] == dir.file("bti.tif"));
  CHECK(run.outputs["SERIES_PIXELS"] == 8);
  CHECK(run.outputs["EMPTY_PIXELS"] == 1);
  CHECK(run.outputs["SPARSE_PIXELS"] == 1);
  CHECK(run.outputs["FLAT_PIXELS"] == 2);
  CHECK_THAT(run.lines, Contains("2 pixels have the same σ⁰ at every date") && Contains("SPARSE_PIXELS"));
}

TEST_CASE("BTI in the other scale converts before min and max", "[bti]") {
  TempDir dir;
  SECTION("dB input, linear scale") {
    auto parameters = bti_parameters(dir, write_input(dir));
    parameters["SCALE"] = "linear";
    run_command("backscattertimeindex", parameters);
    const auto bti = read_stack(dir.file("bti.tif"));
    // 0, 10, 20, 30 dB = 1, 10, 100, 1000: (x − 1)/999.
    check_pixel_series(bti, 6, {0, 9.0 / 999, 99.0 / 999, 1}, kPixelTolerance);
    // -10, -12, -8, -14 dB: min 10^-1.4, max 10^-0.8.
    const double low = std::pow(10.0, -1.4), high = std::pow(10.0, -0.8);
    check_pixel_series(bti, 0, {(0.1 - low) / (high - low), (std::pow(10.0, -1.2) - low) / (high - low), 1, 0},
                       kPixelTolerance);
  }
  SECTION("linear input, dB scale: σ⁰ ≤ 0 has no dB value and is a gap") {
    // Pixel 0: 0.1, 1, 10, 0 → -10, 0, 10 dB and a gap; pixel 1: 0.01, -1, 1, 100 → -20, gap, 0, 20 dB.
    std::vector<std::vector<float>> linear(4, std::vector<float>(12, 0.5f));
    const std::vector<std::vector<float>> first_two = {{0.1f, 0.01f}, {1.0f, -1.0f}, {10.0f, 1.0f}, {0.0f, 100.0f}};
    for (std::size_t t = 0; t < 4; ++t) {
      linear[t][0] = first_two[t][0];
      linear[t][1] = first_two[t][1];
    }
    auto parameters = bti_parameters(dir, write_input(dir, linear));
    parameters["INPUT_UNITS"] = "linear";
    const auto run = run_command("backscattertimeindex", parameters);
    const auto bti = read_stack(dir.file("bti.tif"));
    check_pixel_series(bti, 0, {0, 0.5, 1, kOut}, kPixelTolerance);
    check_pixel_series(bti, 1, {0, kOut, 0.5, 1}, kPixelTolerance);
    CHECK(run.outputs["SERIES_PIXELS"] == 2);
    CHECK(run.outputs["FLAT_PIXELS"] == 10);  // 0.5 at every date
  }
  SECTION("linear input, linear scale") {
    std::vector<std::vector<float>> linear(4, std::vector<float>(12, 0.5f));
    const std::vector<float> series = {0.1f, 0.2f, 0.3f, 0.5f};
    for (std::size_t t = 0; t < 4; ++t) linear[t][3] = series[t];
    auto parameters = bti_parameters(dir, write_input(dir, linear));
    parameters["INPUT_UNITS"] = "linear";
    parameters["SCALE"] = "linear";
    run_command("backscattertimeindex", parameters);
    check_pixel_series(read_stack(dir.file("bti.tif")), 3, {0, 0.25, 0.5, 1}, kPixelTolerance);
  }
}

TEST_CASE("BTI: MIN_OBSERVATIONS moves short series to SPARSE_PIXELS", "[bti]") {
  TempDir dir;
  auto parameters = bti_parameters(dir, write_input(dir));
  parameters["MIN_OBSERVATIONS"] = 4;
  const auto run = run_command("backscattertimeindex", parameters);
  const auto bti = read_stack(dir.file("bti.tif"));
  // Pixels 1 and 7 have 3 valid dates, pixel 3 one; pixel 5's two equal values are sparse now too.
  check_pixel_series(bti, 1, kAllNodata, kPixelTolerance);
  check_pixel_series(bti, 7, kAllNodata, kPixelTolerance);
  check_pixel_series(bti, 0, {4.0 / 6, 2.0 / 6, 1, 0}, kPixelTolerance);
  CHECK(run.outputs["SERIES_PIXELS"] == 6);
  CHECK(run.outputs["EMPTY_PIXELS"] == 1);
  CHECK(run.outputs["SPARSE_PIXELS"] == 4);
  CHECK(run.outputs["FLAT_PIXELS"] == 1);
}

TEST_CASE("BTI: the stack's nodata override and its descriptions", "[bti]") {
  TempDir dir;
  SECTION("{\"path\", \"nodata\"} replaces the file's nodata") {
    auto parameters = bti_parameters(dir, write_input(dir));
    parameters["INPUT"] = {{"path", dir.file("sigma0.tif")}, {"nodata", -8.0}};
    run_command("backscattertimeindex", parameters);
    // Pixel 0 without its -8 dB: -10, -12, gap, -14 → 1, 0.5, nd, 0.
    check_pixel_series(read_stack(dir.file("bti.tif")), 0, {1, 0.5, kOut, 0}, kPixelTolerance);
  }
  SECTION("the output carries the input's band descriptions") {
    run_command("backscattertimeindex", bti_parameters(dir, write_input(dir)));
    CHECK(read_descriptions(dir.file("bti.tif")) == kDates);
  }
  SECTION("a stack without descriptions gives an output without them") {
    run_command("backscattertimeindex", bti_parameters(dir, write_input(dir, kStack, {})));
    CHECK(read_descriptions(dir.file("bti.tif")) == std::vector<std::string>(4, ""));
  }
}

TEST_CASE("BTI: 1 and 2 threads write identical stacks", "[bti][threads]") {
  TempDir dir;
  // 300×600 pixels: windows of 256 rows, so the run spans several windows on either thread count.
  GridSpec grid;
  grid.width = 300;
  grid.height = 600;
  const std::size_t size = static_cast<std::size_t>(grid.width) * grid.height;
  std::vector<std::vector<float>> stack(5, std::vector<float>(size));
  for (std::size_t t = 0; t < stack.size(); ++t)
    for (std::size_t p = 0; p < size; ++p)
      stack[t][p] = (p * 7 + t * 13) % 29 == 0 ? kNodataIn : -20.0f + static_cast<float>((p * 31 + t * 17) % 97) / 5.0f;
  const double nodata = kNodataIn;
  write_stack(dir.file("large.tif"), stack, grid, &nodata);
  json results[2];
  std::vector<std::vector<float>> written[2];
  for (int threads : {1, 2}) {
    auto parameters = json{{"INPUT", dir.file("large.tif")}, {"OUTPUT", dir.file("bti" + std::to_string(threads) + ".tif")},
                           {"THREADS", threads}};
    results[threads - 1] = run_command("backscattertimeindex", parameters).outputs;
    written[threads - 1] = read_stack(dir.file("bti" + std::to_string(threads) + ".tif"));
  }
  CHECK(written[0] == written[1]);
  for (const char* key : {"SERIES_PIXELS", "EMPTY_PIXELS", "SPARSE_PIXELS", "FLAT_PIXELS"})
    CHECK(results[0][key] == results[1][key]);
  CHECK(results[0]["SERIES_PIXELS"].get<long long>() > 0);
}

TEST_CASE("BTI: bad inputs name the parameter and the valid values", "[bti][errors]") {
  TempDir dir;
  const std::string input = write_input(dir);
  const auto fails_with = [&](const json& changes, const std::string& text) {
    auto parameters = bti_parameters(dir, input);
    parameters.update(changes);
    CHECK_THROWS_AS(run_command("backscattertimeindex", parameters), InputError);
    CHECK_THROWS_WITH(run_command("backscattertimeindex", parameters), Contains(text));
  };
  fails_with({{"INPUT_UNITS", "x"}}, "INPUT_UNITS is 'x': valid values are db, linear");
  fails_with({{"SCALE", "log"}}, "SCALE is 'log': valid values are db, linear");
  fails_with({{"MIN_OBSERVATIONS", 1}}, "MIN_OBSERVATIONS is 1: valid values are 2 to 4");
  fails_with({{"MIN_OBSERVATIONS", 5}}, "MIN_OBSERVATIONS is 5: valid values are 2 to 4");
  fails_with({{"INPUT", {{"path", input}, {"band", 2}}}}, "INPUT: a stack is read whole");
  fails_with({{"INPUT", dir.file("missing.tif")}}, "INPUT: cannot open");
  fails_with({{"BAND", 1}}, "BAND");
  write_stack(dir.file("single.tif"), {kStack[0]});
  fails_with({{"INPUT", dir.file("single.tif")}}, "at least 2 bands");
  CHECK_FALSE(std::filesystem::exists(dir.file("bti.tif")));
}
