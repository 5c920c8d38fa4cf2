// Paper 001's per-cell networks (smr pixelwisereconstruction), periods and dates of time stacks.
#include "smr/dates.hpp"
#include "smr/sampling.hpp"
#include "support.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>

using namespace smr;
using namespace smr::test;

namespace {

constexpr float kMissing = -9999.0f;
const GridSpec kGrid{3, 2, 500000.0, 4650000.0, 1000.0, 32632};

std::vector<std::string> dates_from(const std::string& first, int count) {
  std::vector<std::string> dates;
  const long long start = *parse_iso_date(first);
  for (int d = 0; d < count; ++d) dates.push_back(format_iso_date(start + d));
  return dates;
}

// A uniform number in [0, 1) from a position, so every stack is reproducible without a generator.
double hashed(std::uint64_t stream, std::uint64_t cell, std::uint64_t day) {
  return static_cast<double>(splitmix64(splitmix64(splitmix64(stream) ^ cell) ^ day) >> 11) / 9007199254740992.0;
}

// Two predictors and a target that is a smooth function of them plus small noise, for every cell.
struct Scene {
  std::string x1, x2, target, precipitation;
  int days;
};

Scene write_scene(const TempDir& dir, int days, const std::vector<std::string>& descriptions,
                  const std::function<bool(int cell, int day)>& target_missing = nullptr) {
  const int cells = kGrid.width * kGrid.height;
  std::vector<std::vector<float>> x1(days, std::vector<float>(cells)), x2 = x1, target = x1, rain = x1;
  for (int d = 0; d < days; ++d)
    for (int c = 0; c < cells; ++c) {
      const double a = hashed(1, c, d), b = hashed(2, c, d);
      x1[d][c] = static_cast<float>(a);
      x2[d][c] = static_cast<float>(b);
      target[d][c] = static_cast<float>(0.1 + 0.25 * a + 0.1 * b * b + 0.05 * c / cells + 0.002 * (hashed(3, c, d) - 0.5));
      if (target_missing && target_missing(c, d)) target[d][c] = kMissing;
      rain[d][c] = static_cast<float>(std::floor(hashed(4, c, d) * 20.0));  // 0 … 19 mm, whole
    }
  const double nodata = kMissing;
  Scene scene{dir.file("x1.tif"), dir.file("x2.tif"), dir.file("target.tif"), dir.file("rain.tif"), days};
  write_stack(scene.x1, x1, kGrid, &nodata, descriptions);
  write_stack(scene.x2, x2, kGrid, &nodata, descriptions);
  write_stack(scene.target, target, kGrid, &nodata, descriptions);
  write_stack(scene.precipitation, rain, kGrid, &nodata, descriptions);
  return scene;
}

json reconstruction(const Scene& scene, const TempDir& dir) {
  return {{"PREDICTORS", {scene.x1, scene.x2}}, {"TARGET", scene.target}, {"HIDDEN", 4}, {"MIN_PAIRS", 20},
          {"OUTPUT", dir.file("out.tif")},      {"METRICS", dir.file("metrics.tif")}, {"COUNTS", dir.file("counts.tif")}};
}

}  // namespace

TEST_CASE("ISO dates round-trip through day numbers", "[timeseries][dates]") {
  CHECK(*parse_iso_date("1970-01-01") == 0);
  CHECK(*parse_iso_date("2015-04-01") == 16526);
  CHECK(*parse_iso_date("2000-03-01") == 11017);
  CHECK(*parse_iso_date("2016-02-29T06:00:00") == 16860);
  CHECK(*parse_iso_date("1969-12-31") == -1);
  CHECK_FALSE(parse_iso_date("2015-02-29").has_value());
  CHECK_FALSE(parse_iso_date("2015-13-01").has_value());
  CHECK_FALSE(parse_iso_date("band 3").has_value());
  CHECK_FALSE(parse_iso_date("2015-04-01x").has_value());
  CHECK(format_iso_date(17076) == "2016-10-02");
  for (long long day = -800; day < 40000; day += 37) CHECK(*parse_iso_date(format_iso_date(day)) == day);
}

TEST_CASE("one network per cell reconstructs a learnable series", "[timeseries][reconstruction]") {
  TempDir dir;
  const auto dates = dates_from("2015-04-01", 120);
  const Scene scene = write_scene(dir, 120, dates);
  json parameters = reconstruction(scene, dir);
  parameters["TRAINING_PERIOD"] = "2015-04-01:2015-07-09";  // bands 1–100
  parameters["PREDICTION_PERIOD"] = "91:120";
  const json out = run_command("pixelwisereconstruction", parameters).outputs;
  CHECK(out["CELLS"] == 6);
  CHECK(out["TRAINED_CELLS"] == 6);
  CHECK(out["SKIPPED_CELLS"] == 0);
  CHECK(out["TRAINING_BANDS"] == json({1, 100}));
  CHECK(out["PREDICTION_BANDS"] == json({91, 120}));
  // The target's noise has a standard deviation of 0.002/√12 ≈ 0.0006: the networks must get close.
  CHECK(out["MEAN_TEST_RMSE"].get<double>() < 0.004);
  CHECK(out["MEAN_ALL_R"].get<double>() > 0.99);

  const auto bands = read_stack(dir.file("out.tif"));
  REQUIRE(bands.size() == 30);
  const auto descriptions = read_descriptions(dir.file("out.tif"));
  CHECK(descriptions.front() == dates[90]);
  CHECK(descriptions.back() == dates[119]);
  // Days 101–120 were never trained on: the reconstruction still follows the truth there.
  const auto truth = read_stack(scene.target);
  double worst = 0.0;
  for (int b = 10; b < 30; ++b)
    for (std::size_t c = 0; c < 6; ++c) worst = std::max(worst, std::abs(double(bands[b][c]) - truth[90 + b][c]));
  CHECK(worst < 0.015);

  // Steps 101–120 whose x1 or x2 lies outside the cell's training range (days 1–100) are extrapolated.
  const auto x1 = read_stack(scene.x1), x2 = read_stack(scene.x2);
  long long outside = 0;
  for (std::size_t c = 0; c < 6; ++c) {
    float low1 = 2, high1 = -1, low2 = 2, high2 = -1;
    for (int d = 0; d < 100; ++d) {
      low1 = std::min(low1, x1[d][c]), high1 = std::max(high1, x1[d][c]);
      low2 = std::min(low2, x2[d][c]), high2 = std::max(high2, x2[d][c]);
    }
    for (int d = 100; d < 120; ++d)
      outside += x1[d][c] < low1 || x1[d][c] > high1 || x2[d][c] < low2 || x2[d][c] > high2;
  }
  REQUIRE(outside > 0);
  CHECK(out["EXTRAPOLATED_STEPS"] == outside);

  const auto metrics = read_stack(dir.file("metrics.tif"));
  REQUIRE(metrics.size() == 16);
  CHECK(read_descriptions(dir.file("metrics.tif"))[5] == "RMSE validation");
  const auto counts = read_stack(dir.file("counts.tif"));
  REQUIRE(counts.size() == 5);
  for (std::size_t c = 0; c < 6; ++c) {
    CHECK(counts[0][c] == 100);  // every training day valid
    CHECK(counts[1][c] == 0);
    CHECK(counts[2][c] == 80);
    CHECK(counts[3][c] == 10);
    CHECK(counts[4][c] == 10);
  }
}

TEST_CASE("a cell with fewer than MIN_PAIRS valid pairs is nodata and counted", "[timeseries][reconstruction]") {
  TempDir dir;
  // Cell 4 has its target on 19 days only (day % 5 == 0 of 95): one pair short of MIN_PAIRS 20.
  const Scene scene = write_scene(dir, 95, dates_from("2016-01-01", 95), [](int cell, int day) { return cell == 4 && day % 5 != 0; });
  const json out = run_command("pixelwisereconstruction", reconstruction(scene, dir)).outputs;
  CHECK(out["SKIPPED_CELLS"] == 1);
  CHECK(out["TRAINED_CELLS"] == 5);
  const auto bands = read_stack(dir.file("out.tif"));
  for (const auto& band : bands) {
    CHECK(band[4] == kMissing);
    CHECK(band[3] != kMissing);
  }
  for (const auto& band : read_stack(dir.file("metrics.tif"))) CHECK(band[4] == kMissing);
  const auto counts = read_stack(dir.file("counts.tif"));
  CHECK(counts[0][4] == 19);
  CHECK(counts[2][4] == 0);
  CHECK(counts[0][3] == 95);

  // With MIN_PAIRS 19 the same cell trains.
  json parameters = reconstruction(scene, dir);
  parameters["MIN_PAIRS"] = 19;
  CHECK(run_command("pixelwisereconstruction", parameters).outputs["SKIPPED_CELLS"] == 0);
}

TEST_CASE("the precipitation threshold removes exactly the steps at or above it", "[timeseries][reconstruction]") {
  TempDir dir;
  const int days = 90;
  const Scene scene = write_scene(dir, days, dates_from("2015-04-01", days));
  // Rain is floor(20·u) mm: count by hand the training steps with rain ≥ 12.5 mm, i.e. ≥ 13.
  const auto rain = read_stack(scene.precipitation);
  std::vector<long long> expected(6, 0);
  long long total = 0;
  for (int d = 0; d < days; ++d)
    for (std::size_t c = 0; c < 6; ++c)
      if (rain[d][c] >= 12.5f) ++expected[c], ++total;
  REQUIRE(total > 50);  // the test would be weak otherwise
  json parameters = reconstruction(scene, dir);
  parameters["PRECIPITATION"] = scene.precipitation;
  parameters["PRECIPITATION_THRESHOLD"] = 12.5;
  const json out = run_command("pixelwisereconstruction", parameters).outputs;
  CHECK(out["EXCLUDED_BY_PRECIPITATION"] == total);
  const auto counts = read_stack(dir.file("counts.tif"));
  for (std::size_t c = 0; c < 6; ++c) {
    CHECK(counts[0][c] == days);
    CHECK(counts[1][c] == expected[c]);
    CHECK(counts[2][c] + counts[3][c] + counts[4][c] == days - expected[c]);
  }
  // A threshold of 13 keeps the 13 mm steps (only ≥ is excluded): fewer exclusions.
  parameters["PRECIPITATION_THRESHOLD"] = 13.0;
  long long at_least_14 = 0;
  for (int d = 0; d < days; ++d)
    for (std::size_t c = 0; c < 6; ++c) at_least_14 += rain[d][c] >= 13.0f;
  CHECK(run_command("pixelwisereconstruction", parameters).outputs["EXCLUDED_BY_PRECIPITATION"] == at_least_14);
}

TEST_CASE("pixelwise reconstruction gives identical outputs for 1 and 2 threads", "[timeseries][reconstruction][threads]") {
  TempDir dir;
  const Scene scene = write_scene(dir, 80, dates_from("2015-04-01", 80));
  json parameters = reconstruction(scene, dir);
  parameters["RESTARTS"] = 2;
  parameters["PRECIPITATION"] = scene.precipitation;
  parameters["PRECIPITATION_THRESHOLD"] = 17.0;
  parameters["THREADS"] = 1;
  const json one = run_command("pixelwisereconstruction", parameters).outputs;
  const auto out1 = read_stack(dir.file("out.tif")), metrics1 = read_stack(dir.file("metrics.tif"));
  parameters["THREADS"] = 2;
  const json two = run_command("pixelwisereconstruction", parameters).outputs;
  CHECK(out1 == read_stack(dir.file("out.tif")));
  CHECK(metrics1 == read_stack(dir.file("metrics.tif")));
  CHECK(one == two);
  // A different seed gives other networks (the invariance is not an accident of ignoring SEED).
  parameters["SEED"] = 2;
  run_command("pixelwisereconstruction", parameters);
  CHECK(out1 != read_stack(dir.file("out.tif")));
}

TEST_CASE("pixelwise reconstruction rejects bad stacks and periods by name", "[timeseries][reconstruction][errors]") {
  TempDir dir;
  const Scene scene = write_scene(dir, 60, dates_from("2015-04-01", 60));
  const auto message = [&](json parameters) -> std::string {
    try {
      run_command("pixelwisereconstruction", parameters);
    } catch (const InputError& error) {
      return error.what();
    }
    return "no error";
  };
  const json good = reconstruction(scene, dir);

  const double nodata = kMissing;
  write_stack(dir.file("short.tif"), std::vector<std::vector<float>>(50, std::vector<float>(6, 1.0f)), kGrid, &nodata);
  json parameters = good;
  parameters["PREDICTORS"] = {scene.x1, dir.file("short.tif")};
  CHECK_THAT(message(parameters), Catch::Contains("PREDICTORS_1 has 50 bands but TARGET has 60"));

  parameters = good;
  parameters["TRAINING_PERIOD"] = "1:61";
  CHECK_THAT(message(parameters), Catch::Contains("TRAINING_PERIOD '1:61'") && Catch::Contains("1 to 60"));
  parameters["TRAINING_PERIOD"] = "2014-01-01:2014-12-31";
  CHECK_THAT(message(parameters), Catch::Contains("from 2015-04-01 to 2015-05-30"));
  parameters["TRAINING_PERIOD"] = "spring";
  CHECK_THAT(message(parameters), Catch::Contains("TRAINING_PERIOD is 'spring'"));

  parameters = good;
  parameters["PRECIPITATION_THRESHOLD"] = 8.75;
  CHECK_THAT(message(parameters), Catch::Contains("PRECIPITATION_THRESHOLD 8.75 needs a PRECIPITATION stack"));
  parameters = good;
  parameters["PRECIPITATION"] = scene.precipitation;
  CHECK_THAT(message(parameters), Catch::Contains("PRECIPITATION is given without PRECIPITATION_THRESHOLD"));

  parameters = good;
  parameters["TARGET"] = {{"path", scene.target}, {"band", 2}};
  CHECK_THAT(message(parameters), Catch::Contains("TARGET: a stack is read whole"));

  parameters = good;
  parameters["MIN_PAIRS"] = 3;  // 80/10/10 of 3 leaves no validation pair
  CHECK_THAT(message(parameters), Catch::Contains("MIN_PAIRS 3 is too small for the division"));

  // Dated stacks that disagree on a band's date are not the same series.
  write_stack(dir.file("shifted.tif"), read_stack(scene.x2), kGrid, &nodata, dates_from("2015-04-02", 60));
  parameters = good;
  parameters["PREDICTORS"] = {scene.x1, dir.file("shifted.tif")};
  CHECK_THAT(message(parameters), Catch::Contains("PREDICTORS_1 band 1 is dated 2015-04-02 but TARGET band 1 2015-04-01"));

  CHECK_FALSE(std::filesystem::exists(dir.file("out.tif")));
}

TEST_CASE("a cancelled reconstruction leaves no output", "[timeseries][reconstruction][cancel]") {
  TempDir dir;
  const Scene scene = write_scene(dir, 60, dates_from("2015-04-01", 60));
  CancelToken cancel;
  cancel.request();
  CHECK_THROWS_AS(run_command("pixelwisereconstruction", reconstruction(scene, dir), &cancel), Cancelled);
  for (const auto& name : dir.entries()) CHECK(name.find("out") == std::string::npos);
}

namespace {

// Whether step d (0-based band) of cell c has x1 or x2 outside the range of that cell's training days
// 0 … training_days − 1 (every one a pair in these scenes).
std::vector<std::vector<bool>> outside_training(const Scene& scene, int training_days) {
  const auto x1 = read_stack(scene.x1), x2 = read_stack(scene.x2);
  std::vector<std::vector<bool>> outside(x1.size(), std::vector<bool>(6, false));
  for (std::size_t c = 0; c < 6; ++c) {
    float low1 = 2, high1 = -1, low2 = 2, high2 = -1;
    for (int d = 0; d < training_days; ++d) {
      low1 = std::min(low1, x1[d][c]), high1 = std::max(high1, x1[d][c]);
      low2 = std::min(low2, x2[d][c]), high2 = std::max(high2, x2[d][c]);
    }
    for (std::size_t d = 0; d < x1.size(); ++d)
      outside[d][c] = x1[d][c] < low1 || x1[d][c] > high1 || x2[d][c] < low2 || x2[d][c] > high2;
  }
  return outside;
}

// A Float32 strictly between the q-quantile of `values` and the next larger value, so that no value
// equals it and "below the bound" is the same for the double estimate and the Float32 written.
float bound_between(std::vector<float> values, double q) {
  std::sort(values.begin(), values.end());
  for (auto k = static_cast<std::size_t>(q * static_cast<double>(values.size())); k + 1 < values.size(); ++k) {
    const float middle = static_cast<float>((static_cast<double>(values[k]) + values[k + 1]) / 2.0);
    if (middle > values[k] && middle < values[k + 1]) return middle;
  }
  FAIL("no two distinct values above the quantile");
  return 0.0f;
}

}  // namespace

TEST_CASE("the reconstruction clamps and masks exactly the steps beyond the bounds or the training range",
          "[timeseries][reconstruction][clamp]") {
  TempDir dir;
  const Scene scene = write_scene(dir, 120, dates_from("2015-04-01", 120));
  json parameters = reconstruction(scene, dir);
  parameters["TRAINING_PERIOD"] = "1:100";
  parameters["PREDICTION_PERIOD"] = "91:120";
  parameters.erase("METRICS");
  parameters.erase("COUNTS");
  const auto outside = outside_training(scene, 100);
  long long extrapolated = 0;
  for (int b = 0; b < 30; ++b)
    for (std::size_t c = 0; c < 6; ++c) extrapolated += outside[90 + b][c];
  REQUIRE(extrapolated > 0);

  const json plain = run_command("pixelwisereconstruction", parameters).outputs;
  CHECK(plain["EXTRAPOLATED_STEPS"] == extrapolated);
  CHECK(plain["MASKED_STEPS"] == 0);
  CHECK(plain["CLAMPED_STEPS"] == 0);
  const auto estimate = read_stack(dir.file("out.tif"));
  std::vector<float> all, inside;
  for (int b = 0; b < 30; ++b)
    for (std::size_t c = 0; c < 6; ++c) {
      REQUIRE(estimate[b][c] != kMissing);
      all.push_back(estimate[b][c]);
    }
  const float low = bound_between(all, 0.25), high = bound_between(all, 0.75);

  // Clamped: the same networks (seeds from SEED and the cell), each estimate held within [low, high].
  parameters["CLAMP_MIN"] = low;
  parameters["CLAMP_MAX"] = high;
  const json clamped = run_command("pixelwisereconstruction", parameters).outputs;
  const auto bounded = read_stack(dir.file("out.tif"));
  long long beyond = 0;
  for (int b = 0; b < 30; ++b)
    for (std::size_t c = 0; c < 6; ++c) {
      beyond += estimate[b][c] < low || estimate[b][c] > high;
      CHECK(bounded[b][c] == std::min(std::max(estimate[b][c], low), high));
    }
  CHECK(beyond >= 60);  // about half of the 180 steps
  CHECK(clamped["CLAMPED_STEPS"] == beyond);
  CHECK(clamped["MASKED_STEPS"] == 0);
  CHECK(clamped["EXTRAPOLATED_STEPS"] == extrapolated);

  // Masked: nodata exactly at the extrapolated steps, the estimate itself elsewhere.
  parameters.erase("CLAMP_MIN");
  parameters.erase("CLAMP_MAX");
  parameters["MASK_EXTRAPOLATED"] = true;
  const json masked = run_command("pixelwisereconstruction", parameters).outputs;
  const auto kept = read_stack(dir.file("out.tif"));
  for (int b = 0; b < 30; ++b)
    for (std::size_t c = 0; c < 6; ++c) {
      INFO("band " << b + 1 << ", cell " << c);
      CHECK(kept[b][c] == (outside[90 + b][c] ? kMissing : estimate[b][c]));
    }
  CHECK(masked["MASKED_STEPS"] == extrapolated);
  CHECK(masked["EXTRAPOLATED_STEPS"] == extrapolated);
  CHECK(masked["CLAMPED_STEPS"] == 0);

  // Both: a masked step is not clamped as well; the same for 1 and 2 threads.
  parameters["CLAMP_MIN"] = low;
  parameters["CLAMP_MAX"] = high;
  long long beyond_kept = 0;
  for (int b = 0; b < 30; ++b)
    for (std::size_t c = 0; c < 6; ++c) beyond_kept += !outside[90 + b][c] && (estimate[b][c] < low || estimate[b][c] > high);
  parameters["THREADS"] = 1;
  const json one = run_command("pixelwisereconstruction", parameters).outputs;
  const auto out1 = read_stack(dir.file("out.tif"));
  parameters["THREADS"] = 2;
  const json two = run_command("pixelwisereconstruction", parameters).outputs;
  CHECK(out1 == read_stack(dir.file("out.tif")));
  CHECK(one == two);
  CHECK(one["MASKED_STEPS"] == extrapolated);
  CHECK(one["CLAMPED_STEPS"] == beyond_kept);
  for (int b = 0; b < 30; ++b)
    for (std::size_t c = 0; c < 6; ++c)
      CHECK(out1[b][c] == (outside[90 + b][c] ? kMissing : std::min(std::max(estimate[b][c], low), high)));
}

TEST_CASE("the reconstruction rejects bad clamp bounds and mask switches by name", "[timeseries][reconstruction][clamp][errors]") {
  TempDir dir;
  const Scene scene = write_scene(dir, 60, dates_from("2015-04-01", 60));
  const auto fails_with = [&](const json& change, const std::string& message) {
    json parameters = reconstruction(scene, dir);
    parameters.update(change);
    CHECK_THROWS_WITH(run_command("pixelwisereconstruction", parameters), Catch::Contains(message));
  };
  fails_with({{"CLAMP_MIN", 0.5}, {"CLAMP_MAX", 0.05}}, "CLAMP_MIN 0.5 is greater than CLAMP_MAX 0.05");
  fails_with({{"CLAMP_MAX", std::numeric_limits<double>::infinity()}}, "CLAMP_MAX must be a finite number");
  fails_with({{"CLAMP_MIN", "zero"}}, "CLAMP_MIN must be a number");
  fails_with({{"MASK_EXTRAPOLATED", "yes"}}, "MASK_EXTRAPOLATED must be true or false, got \"yes\"");
  CHECK_FALSE(std::filesystem::exists(dir.file("out.tif")));
}

TEST_CASE("the per-cell trainers' progress never goes back and ends at 100 %", "[timeseries][progress]") {
  TempDir dir;
  const Scene scene = write_scene(dir, 80, dates_from("2015-04-01", 80));
  json parameters = reconstruction(scene, dir);
  parameters["THREADS"] = 2;
  test::check_progress(run_command("pixelwisereconstruction", parameters).lines, 0.0, 3);  // 6 cells
  // The sweep scans the stacks in the first tenth of the bar, then trains 3 settings × 6 cells × 2 repeats.
  const json sweep = {{"PREDICTORS", {scene.x1, scene.x2}}, {"TARGET", scene.target}, {"MIN_PAIRS", 20},
                      {"AXIS", "hidden"}, {"VALUES", {2, 3, 4}}, {"REPEATS", 2}, {"THREADS", 2},
                      {"OUTPUT_CSV", dir.file("sweep.csv")}};
  test::check_progress(run_command("sensitivityanalysis", sweep).lines, 0.1, 10);
}

namespace {

// Pooled samples: x1 and x3 shape the target, x2 is noise, x4 matters a little; on steps with 10 mm of
// rain or more the target is 0.1 too wet (the inconsistent pairs paper 001 filters out).
json pooled_samples(int count) {
  json features = json::array({json::array(), json::array(), json::array(), json::array()});
  json target = json::array(), rain = json::array();
  for (int s = 0; s < count; ++s) {
    const double x1 = hashed(11, 0, s), x2 = hashed(12, 0, s), x3 = hashed(13, 0, s), x4 = hashed(14, 0, s);
    const double mm = std::floor(hashed(15, 0, s) * 20.0);
    features[0].push_back(x1);
    features[1].push_back(x2);
    features[2].push_back(x3);
    features[3].push_back(x4);
    rain.push_back(mm);
    target.push_back(0.1 + 0.1 * x1 + 0.3 * x3 * x3 + 0.02 * x4 + (mm >= 10 ? 0.1 : 0.0) + 0.002 * hashed(16, 0, s));
  }
  return {{"names", {"x1", "x2", "x3", "x4"}}, {"features", features}, {"target", target}, {"precipitation", rain}};
}

std::size_t csv_rows(const std::string& path) {
  std::ifstream file(path);
  std::size_t rows = 0;
  for (std::string line; std::getline(file, line);) ++rows;
  return rows;
}

}  // namespace

TEST_CASE("sensitivity of the per-cell networks to the hidden neurons, over stacks", "[timeseries][sensitivity]") {
  TempDir dir;
  const Scene scene = write_scene(dir, 80, dates_from("2015-04-01", 80));
  const json parameters = {{"PREDICTORS", {scene.x1, scene.x2}}, {"TARGET", scene.target}, {"MIN_PAIRS", 20},
                           {"CELLS", 4}, {"AXIS", "hidden"}, {"VALUES", "1 4"}, {"REPEATS", 2},
                           {"OUTPUT_CSV", dir.file("sweep.csv")}, {"THREADS", 1}};
  const json out = run_command("sensitivityanalysis", parameters).outputs;
  CHECK(out["CELLS_USED"] == 4);
  REQUIRE(out["SETTINGS"].size() == 2);
  CHECK(out["SETTINGS"][0]["label"] == "1");
  CHECK(out["SETTINGS"][1]["runs"] == 2);
  // One tansig neuron cannot bend to the squared term; four can.
  CHECK(out["SETTINGS"][1]["all"]["rmse"].get<double>() < out["SETTINGS"][0]["all"]["rmse"].get<double>());
  CHECK(out["BEST_SETTING"] == "4");
  CHECK(csv_rows(dir.file("sweep.csv")) == 1 + 2 * 2 * 4);

  json two = parameters;
  two["THREADS"] = 2;
  two["OUTPUT_CSV"] = dir.file("sweep2.csv");
  const json again = run_command("sensitivityanalysis", two).outputs;
  CHECK(again["SETTINGS"] == out["SETTINGS"]);
  std::ifstream a(dir.file("sweep.csv")), b(dir.file("sweep2.csv"));
  CHECK(std::string(std::istreambuf_iterator<char>(a), {}) == std::string(std::istreambuf_iterator<char>(b), {}));
}

TEST_CASE("precipitation thresholds that drop the wet pairs score better", "[timeseries][sensitivity]") {
  TempDir dir;
  const json parameters = {{"SAMPLES", pooled_samples(400)}, {"AXIS", "precipitation"}, {"VALUES", {5, 10, 100}},
                           {"HIDDEN", 4}, {"REPEATS", 2}, {"OUTPUT_CSV", dir.file("rain.csv")}};
  const json out = run_command("sensitivityanalysis", parameters).outputs;
  REQUIRE(out["SETTINGS"].size() == 3);
  const double wet = out["SETTINGS"][2]["all"]["rmse"].get<double>();
  CHECK(out["SETTINGS"][1]["all"]["rmse"].get<double>() < wet / 3);  // 10 mm removes every wet pair
  CHECK(out["BEST_INDEX"] != 2);
  CHECK(out["CELLS_USED"] == 1);
}

TEST_CASE("forward addition of inputs picks the most useful input first", "[timeseries][sensitivity]") {
  TempDir dir;
  const json parameters = {{"SAMPLES", pooled_samples(300)}, {"AXIS", "inputs"}, {"BASE_INPUTS", "x1"},
                           {"HIDDEN", 4}, {"REPEATS", 1}, {"OUTPUT_CSV", dir.file("inputs.csv")},
                           {"PRECIPITATION_THRESHOLD", 10}};
  const json out = run_command("sensitivityanalysis", parameters).outputs;
  CHECK(out["SETTINGS"].size() == 1 + 3 + 2 + 1);
  CHECK(out["SELECTED_INPUTS"][0] == "x3");
  CHECK(out["SETTINGS"][0]["label"] == "base");
  CHECK(out["SETTINGS"][2]["label"] == "base+x3");
  CHECK(out["SETTINGS"][2]["value"] == json({"x1", "x3"}));
  CHECK(out["SETTINGS"].back()["value"].size() == 4);
}

TEST_CASE("sensitivity analysis rejects bad axes and values by name", "[timeseries][sensitivity][errors]") {
  TempDir dir;
  const auto message = [&](json parameters) -> std::string {
    try {
      run_command("sensitivityanalysis", parameters);
    } catch (const InputError& error) {
      return error.what();
    }
    return "no error";
  };
  json samples = pooled_samples(60);
  json good = {{"SAMPLES", samples}, {"AXIS", "ratios"}, {"OUTPUT_CSV", dir.file("x.csv")}};
  json parameters = good;
  parameters["VALUES"] = "80-10";
  CHECK_THAT(message(parameters), Catch::Contains("VALUES entry '80-10'"));
  parameters["AXIS"] = "neurons";
  CHECK_THAT(message(parameters), Catch::Contains("AXIS"));
  parameters = good;
  parameters["AXIS"] = "inputs";
  parameters["BASE_INPUTS"] = "x9";
  CHECK_THAT(message(parameters), Catch::Contains("BASE_INPUTS names 'x9'") && Catch::Contains("x1, x2, x3, x4"));
  samples.erase("precipitation");
  parameters = {{"SAMPLES", samples}, {"AXIS", "precipitation"}, {"OUTPUT_CSV", dir.file("x.csv")}};
  CHECK_THAT(message(parameters), Catch::Contains("AXIS precipitation needs precipitation"));
  parameters["PREDICTORS"] = {dir.file("a.tif")};
  CHECK_THAT(message(parameters), Catch::Contains("not both"));
  CHECK_FALSE(std::filesystem::exists(dir.file("x.csv")));
}
