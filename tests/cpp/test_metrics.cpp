// Agreement metrics (DESIGN §5) against values worked by hand, the merge of partial results, undefined
// cases, and `smr validationmetrics` on pairs and on rasters.
#include "support.hpp"

#include "smr/metrics.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <mutex>
#include <optional>
#include <set>
#include <utility>

using namespace smr;
using namespace smr::test;
using Catch::Matchers::Contains;
using Catch::Matchers::WithinAbs;
using Catch::Matchers::WithinRel;

namespace {

const double kNaN = std::numeric_limits<double>::quiet_NaN();

void check_same_metrics(const Metrics& actual, const Metrics& expected, double tolerance) {
  CHECK(actual.n == expected.n);
  CHECK_THAT(actual.r, WithinRel(expected.r, tolerance));
  CHECK_THAT(actual.r2, WithinRel(expected.r2, tolerance));
  CHECK_THAT(actual.nse, WithinRel(expected.nse, tolerance));
  CHECK_THAT(actual.rmse, WithinRel(expected.rmse, tolerance));
  CHECK_THAT(actual.ubrmse, WithinRel(expected.ubrmse, tolerance));
  CHECK_THAT(actual.mae, WithinRel(expected.mae, tolerance));
  CHECK_THAT(actual.bias, WithinRel(expected.bias, tolerance));
}

void check_output_metrics(const json& outputs, const Metrics& expected, double tolerance) {
  CHECK(outputs.at("N") == expected.n);
  CHECK_THAT(outputs.at("R").get<double>(), WithinRel(expected.r, tolerance));
  CHECK_THAT(outputs.at("R2").get<double>(), WithinRel(expected.r2, tolerance));
  CHECK_THAT(outputs.at("NSE").get<double>(), WithinRel(expected.nse, tolerance));
  CHECK_THAT(outputs.at("RMSE").get<double>(), WithinRel(expected.rmse, tolerance));
  CHECK_THAT(outputs.at("UBRMSE").get<double>(), WithinRel(expected.ubrmse, tolerance));
  CHECK_THAT(outputs.at("MAE").get<double>(), WithinRel(expected.mae, tolerance));
  CHECK_THAT(outputs.at("BIAS").get<double>(), WithinRel(expected.bias, tolerance));
}

// The message of the InputError that `parameters` raise; other exceptions fail the test.
std::string input_error(const json& parameters) {
  try {
    run_command("validationmetrics", parameters);
  } catch (const InputError& error) {
    return error.what();
  }
  return "(no InputError)";
}

}  // namespace

// estimate e = [2, 1, 4, 5], reference r = [1, 2, 3, 4], d = e − r = [1, −1, 1, 1]
//   bias = Σd/4 = 2/4 = 0.5;  MAE = Σ|d|/4 = 1;  RMSE = √(Σd²/4) = √(4/4) = 1
//   ubRMSE = √(RMSE² − bias²) = √(1 − 0.25) = √0.75
//   r̄ = 2.5, Σ(r − r̄)² = 2.25 + 0.25 + 0.25 + 2.25 = 5;  NSE = 1 − Σd²/5 = 1 − 4/5 = 0.2
//   ē = 3, e − ē = [−1, −2, 1, 2], Σ(e − ē)² = 10;  Σ(e − ē)(r − r̄) = 1.5 + 1 + 0.5 + 3 = 6
//   Pearson r = 6/√(10·5) = 6/√50;  r² = 36/50 = 0.72
TEST_CASE("metrics of a small series match the definitions worked by hand", "[metrics]") {
  const Metrics metrics = compute_metrics({2, 1, 4, 5}, {1, 2, 3, 4});
  CHECK(metrics.n == 4);
  CHECK_THAT(metrics.bias, WithinRel(0.5, 1e-14));
  CHECK_THAT(metrics.mae, WithinRel(1.0, 1e-14));
  CHECK_THAT(metrics.rmse, WithinRel(1.0, 1e-14));
  CHECK_THAT(metrics.ubrmse, WithinRel(std::sqrt(0.75), 1e-14));
  CHECK_THAT(metrics.nse, WithinRel(0.2, 1e-14));
  CHECK_THAT(metrics.r, WithinRel(6.0 / std::sqrt(50.0), 1e-14));
  CHECK_THAT(metrics.r2, WithinRel(0.72, 1e-14));

  // Swapping estimate and reference flips the bias sign (estimate too low now) and changes NSE's
  // denominator to Σ(e − ē)² = 10: NSE = 1 − 4/10 = 0.6.
  const Metrics swapped = compute_metrics({1, 2, 3, 4}, {2, 1, 4, 5});
  CHECK_THAT(swapped.bias, WithinRel(-0.5, 1e-14));
  CHECK_THAT(swapped.nse, WithinRel(0.6, 1e-14));
  CHECK_THAT(swapped.r, WithinRel(metrics.r, 1e-14));

  const json as_json = metrics_json(metrics);
  CHECK(as_json.at("n") == 4);
  CHECK_THAT(as_json.at("r2").get<double>(), WithinRel(0.72, 1e-14));
  CHECK(as_json.size() == 8);
}

TEST_CASE("an estimate offset by a constant has that bias and no unbiased error", "[metrics]") {
  std::vector<double> reference, estimate;
  for (int i = 0; i < 50; ++i) {
    reference.push_back(0.05 + 0.007 * i);
    estimate.push_back(reference.back() + 0.01);
  }
  const Metrics metrics = compute_metrics(estimate, reference);
  CHECK_THAT(metrics.bias, WithinRel(0.01, 1e-9));
  CHECK_THAT(metrics.rmse, WithinRel(0.01, 1e-9));
  CHECK_THAT(metrics.mae, WithinRel(0.01, 1e-9));
  CHECK(std::isfinite(metrics.ubrmse));  // never the square root of a rounding-negative number
  CHECK_THAT(metrics.ubrmse, WithinAbs(0.0, 1e-12));
  CHECK_THAT(metrics.r, WithinRel(1.0, 1e-12));
  CHECK(metrics.r <= 1.0);
}

TEST_CASE("merging two halves gives the metrics of one pass", "[metrics]") {
  std::vector<double> estimate, reference;
  for (int i = 0; i < 1001; ++i) {
    reference.push_back(0.3 + 0.1 * std::sin(0.05 * i));
    estimate.push_back(reference.back() + 0.02 * std::cos(0.31 * i) + 0.004);
  }
  const Metrics one_pass = compute_metrics(estimate, reference);
  MetricsAccumulator first, second;
  for (std::size_t i = 0; i < 337; ++i) first.add(estimate[i], reference[i]);
  for (std::size_t i = 337; i < estimate.size(); ++i) second.add(estimate[i], reference[i]);
  MetricsAccumulator merged = first;
  merged.merge(second);
  CHECK(merged.count() == 1001);
  check_same_metrics(merged.result(), one_pass, 1e-12);

  // The other order and merges with nothing change nothing.
  MetricsAccumulator reversed = second;
  reversed.merge(first);
  check_same_metrics(reversed.result(), one_pass, 1e-12);
  MetricsAccumulator empty, from_empty;
  from_empty.merge(merged);
  from_empty.merge(empty);
  check_same_metrics(from_empty.result(), one_pass, 1e-12);
}

TEST_CASE("undefined metrics are NaN and null in JSON", "[metrics]") {
  SECTION("no pair and one pair") {
    for (const std::vector<double>& values : {std::vector<double>{}, std::vector<double>{0.3}}) {
      const Metrics metrics = compute_metrics(values, values);
      CHECK(metrics.n == static_cast<long long>(values.size()));
      for (double value : {metrics.r, metrics.r2, metrics.nse, metrics.rmse, metrics.ubrmse, metrics.mae, metrics.bias})
        CHECK(std::isnan(value));
      const json as_json = metrics_json(metrics);
      for (const char* key : {"r", "r2", "nse", "rmse", "ubrmse", "mae", "bias"}) CHECK(as_json.at(key).is_null());
      CHECK(as_json.at("n") == values.size());
    }
  }
  SECTION("a constant reference: r and NSE undefined, the errors defined") {
    // d = [0.1, −0.1, 0.2]: bias = 0.2/3, MAE = 0.4/3, RMSE = √(0.06/3)
    const Metrics metrics = compute_metrics({0.4, 0.2, 0.5}, {0.3, 0.3, 0.3});
    CHECK(std::isnan(metrics.r));
    CHECK(std::isnan(metrics.r2));
    CHECK(std::isnan(metrics.nse));
    CHECK_THAT(metrics.bias, WithinRel(0.2 / 3.0, 1e-12));
    CHECK_THAT(metrics.mae, WithinRel(0.4 / 3.0, 1e-12));
    CHECK_THAT(metrics.rmse, WithinRel(std::sqrt(0.06 / 3.0), 1e-12));
    const json as_json = metrics_json(metrics);
    CHECK(as_json.at("r").is_null());
    CHECK(as_json.at("nse").is_null());
    CHECK(as_json.at("rmse").is_number());
  }
  SECTION("a constant estimate: r undefined, NSE defined") {
    // reference [1, 2, 3], estimate 2: Σd² = 1 + 0 + 1 = 2, Σ(r − r̄)² = 2, NSE = 1 − 2/2 = 0
    const Metrics metrics = compute_metrics({2, 2, 2}, {1, 2, 3});
    CHECK(std::isnan(metrics.r));
    CHECK_THAT(metrics.nse, WithinAbs(0.0, 1e-15));
  }
  SECTION("NaN never becomes a number in JSON") {
    Metrics metrics{kNaN, kNaN, kNaN, kNaN, kNaN, kNaN, kNaN, 7};
    const json as_json = metrics_json(metrics);
    CHECK(as_json.dump() == R"({"bias":null,"mae":null,"n":7,"nse":null,"r":null,"r2":null,"rmse":null,"ubrmse":null})");
  }
  CHECK_THROWS_AS(compute_metrics({1, 2}, {1}), std::logic_error);
}

TEST_CASE("validationmetrics on pairs: skipped pairs, groups sorted, sample", "[validation]") {
  const json pairs = {
      {"estimate", {2, 1, 4, 5, nullptr, 0.3, 0.2, 7, 3, 1}},
      {"reference", {1, 2, 3, 4, 1, 0.25, 0.25, nullptr, 3, 1}},
      {"groups", {"b", "b", "b", "b", "a", 10, 10, 2, 2, nullptr}}};
  const auto run = run_command("validationmetrics", {{"PAIRS", pairs}});
  const json& outputs = run.outputs;
  CHECK(outputs.at("SKIPPED") == 2);
  check_output_metrics(outputs, compute_metrics({2, 1, 4, 5, 0.3, 0.2, 3, 1}, {1, 2, 3, 4, 0.25, 0.25, 3, 1}), 1e-14);

  const json& groups = outputs.at("GROUPS");
  REQUIRE(groups.size() == 5);
  // Numbers by value (2 before 10), then names; a null group is "(none)"; "a" has only a skipped pair.
  CHECK(groups[0].at("group") == "2");
  CHECK(groups[1].at("group") == "10");
  CHECK(groups[2].at("group") == "(none)");
  CHECK(groups[3].at("group") == "a");
  CHECK(groups[4].at("group") == "b");
  CHECK(groups[0].at("n") == 1);
  CHECK(groups[0].at("rmse").is_null());  // one pair: undefined
  CHECK(groups[3].at("n") == 0);
  // Group 10: d = [0.05, −0.05]: bias 0, MAE = RMSE = 0.05; constant reference: r and NSE null.
  CHECK(groups[1].at("n") == 2);
  CHECK_THAT(groups[1].at("bias").get<double>(), WithinAbs(0.0, 1e-15));
  CHECK_THAT(groups[1].at("mae").get<double>(), WithinRel(0.05, 1e-12));
  CHECK_THAT(groups[1].at("rmse").get<double>(), WithinRel(0.05, 1e-12));
  CHECK(groups[1].at("r").is_null());
  CHECK(groups[1].at("nse").is_null());
  // Group b is the series worked by hand above.
  CHECK_THAT(groups[4].at("r2").get<double>(), WithinRel(0.72, 1e-14));
  CHECK_THAT(groups[4].at("nse").get<double>(), WithinRel(0.2, 1e-14));
  CHECK_THAT(groups[4].at("bias").get<double>(), WithinRel(0.5, 1e-14));
  CHECK_THAT(run.lines, Contains("8 pairs compared, 2 skipped"));

  // Every valid pair fits under the default MAX_PLOT_PAIRS, in input order.
  CHECK(outputs.at("SAMPLE").at("estimate") == json({2, 1, 4, 5, 0.3, 0.2, 3, 1}));
  CHECK(outputs.at("SAMPLE").at("reference") == json({1, 2, 3, 4, 0.25, 0.25, 3, 1}));

  // Without groups there is no GROUPS table.
  const auto ungrouped = run_command("validationmetrics", {{"PAIRS", {{"estimate", {1, 2, 3}}, {"reference", {1, 2, 4}}}}});
  CHECK_FALSE(ungrouped.outputs.contains("GROUPS"));
  CHECK(ungrouped.outputs.at("SKIPPED") == 0);
}

TEST_CASE("the plot sample is a random subset chosen by SEED", "[validation]") {
  json estimate = json::array(), reference = json::array();
  for (int i = 0; i < 200; ++i) {
    estimate.push_back(i);
    reference.push_back(i % 7 == 0 ? json(nullptr) : json(1000 + i));
  }
  const auto sample_for = [&](int seed, int size) {
    return run_command("validationmetrics", {{"PAIRS", {{"estimate", estimate}, {"reference", reference}}},
                                             {"MAX_PLOT_PAIRS", size}, {"SEED", seed}})
        .outputs.at("SAMPLE");
  };
  const json sample = sample_for(3, 20);
  REQUIRE(sample.at("estimate").size() == 20);
  double previous = -1;
  for (std::size_t i = 0; i < 20; ++i) {
    const double e = sample.at("estimate")[i].get<double>();
    CHECK(sample.at("reference")[i].get<double>() == 1000 + e);  // a real pair, never a skipped one
    CHECK(static_cast<int>(e) % 7 != 0);
    CHECK(e > previous);  // in input order
    previous = e;
  }
  CHECK(sample.at("estimate").back().get<double>() - sample.at("estimate").front().get<double>() > 100);  // spread, not the first 20
  CHECK(sample_for(3, 20) == sample);
  CHECK(sample_for(4, 20) != sample);
  CHECK(sample_for(3, 0).at("estimate").empty());
}

TEST_CASE("validationmetrics on rasters: nodata skipped, another grid aligned and logged", "[validation][align]") {
  TempDir dir;
  const GridSpec fine{4, 4, 500000.0, 4650000.0, 20.0, 32632};
  const GridSpec coarse{2, 2, 500000.0, 4650000.0, 40.0, 32632};
  const double nodata = -1.0;
  std::vector<float> estimate;
  for (int p = 0; p < 16; ++p) estimate.push_back(0.1f + 0.02f * static_cast<float>(p));
  estimate[5] = -1.0f;              // the band's nodata
  estimate[10] = std::nanf("");     // NaN is always nodata
  const std::vector<float> reference = {0.12f, 0.2f, 0.33f, 0.41f};
  write_raster(dir.file("estimate.tif"), estimate, fine, &nodata);
  write_raster(dir.file("reference.tif"), reference, coarse);

  const auto run = run_command("validationmetrics", {{"ESTIMATE", dir.file("estimate.tif")},
                                                     {"REFERENCE_RASTER", dir.file("reference.tif")},
                                                     {"RESAMPLING", "nearest"}, {"THREADS", 1}});
  CHECK_THAT(run.lines, Contains("REFERENCE_RASTER: aligned to the grid of ESTIMATE") && Contains("nearest"));
  // Nearest neighbour on a grid of half the pixel size: fine pixel (row, column) takes coarse pixel
  // (row/2, column/2).
  std::vector<double> expected_estimate, expected_reference;
  for (int p = 0; p < 16; ++p) {
    if (p == 5 || p == 10) continue;
    const int row = p / 4, column = p % 4;
    expected_estimate.push_back(estimate[p]);
    expected_reference.push_back(reference[(row / 2) * 2 + column / 2]);
  }
  CHECK(run.outputs.at("SKIPPED") == 2);
  check_output_metrics(run.outputs, compute_metrics(expected_estimate, expected_reference), 1e-12);
  CHECK(run.outputs.at("SAMPLE").at("estimate").size() == 14);
  CHECK_FALSE(run.outputs.contains("GROUPS"));

  // REFERENCE picks the grid the pairs are taken on: the coarse one now.
  const auto coarse_run = run_command("validationmetrics", {{"ESTIMATE", dir.file("estimate.tif")},
                                                            {"REFERENCE_RASTER", dir.file("reference.tif")},
                                                            {"REFERENCE", "REFERENCE_RASTER"}, {"RESAMPLING", "average"}});
  CHECK_THAT(coarse_run.lines, Contains("ESTIMATE: aligned to the grid of REFERENCE_RASTER"));
  CHECK(coarse_run.outputs.at("N").get<long long>() + coarse_run.outputs.at("SKIPPED").get<long long>() == 4);
}

TEST_CASE("scan_pixelwise hands every pixel to the visitor once, nodata as NaN, and writes nothing", "[engine][scan]") {
  TempDir dir;
  const GridSpec grid{300, 600, 500000.0, 4650000.0, 20.0, 32632};
  const double nodata = -5.0;
  std::vector<float> values;
  for (int i = 0; i < grid.width * grid.height; ++i) values.push_back(i % 11 == 0 ? -5.0f : 0.001f * static_cast<float>(i % 1000));
  write_raster(dir.file("in.tif"), values, grid, &nodata);

  std::vector<int> visits(values.size(), 0);
  long long mismatches = 0;
  std::mutex mutex;
  const BlockVisitor visit = [&](const Block& block) {
    std::lock_guard<std::mutex> lock(mutex);
    for (int row = 0; row < block.height; ++row)
      for (int column = 0; column < block.width; ++column) {
        const std::size_t pixel = static_cast<std::size_t>(block.y0 + row) * grid.width + block.x0 + column;
        const float seen = block.inputs[0][static_cast<std::size_t>(row) * block.width + column];
        ++visits[pixel];
        const bool expected_nodata = values[pixel] == -5.0f;
        if (expected_nodata ? !std::isnan(seen) : seen != values[pixel]) ++mismatches;
      }
  };
  std::FILE* stream = std::tmpfile();
  Reporter reporter(stream);
  RunCounts counts;
  {
    const GdalSession gdal(reporter);
    EngineOptions options;
    options.threads = 2;
    counts = scan_pixelwise({{"INPUT", dir.file("in.tif"), 1, std::nullopt}}, options, visit, reporter);
  }
  std::fclose(stream);
  CHECK(std::all_of(visits.begin(), visits.end(), [](int count) { return count == 1; }));
  CHECK(mismatches == 0);
  CHECK(counts.nodata == (static_cast<long long>(values.size()) + 10) / 11);
  CHECK(counts.valid + counts.nodata == static_cast<long long>(values.size()));
  CHECK(counts.invalid == 0);
  CHECK(dir.entries().size() == 1);  // in.tif only

  CancelToken cancel;
  cancel.request();
  CHECK_THROWS_AS(run_command("validationmetrics", {{"ESTIMATE", dir.file("in.tif")}, {"REFERENCE_RASTER", dir.file("in.tif")}},
                              &cancel),
                  Cancelled);
}

TEST_CASE("validationmetrics gives identical results for 1 and 2 threads", "[validation][threads]") {
  TempDir dir;
  // 300 × 1800 pixels: eight windows of 256 rows, finished in a varying order by two threads.
  const GridSpec grid{300, 1800, 500000.0, 4650000.0, 20.0, 32632};
  std::vector<float> estimate, reference;
  for (int i = 0; i < grid.width * grid.height; ++i) {
    estimate.push_back(0.25f + 0.1f * std::sin(0.001f * static_cast<float>(i)));
    reference.push_back(i % 97 == 0 ? std::nanf("") : estimate.back() - 0.02f + 0.03f * std::cos(0.0037f * static_cast<float>(i)));
  }
  write_raster(dir.file("estimate.tif"), estimate, grid);
  write_raster(dir.file("reference.tif"), reference, grid);
  const auto run_with = [&](int threads, int seed) {
    return run_command("validationmetrics", {{"ESTIMATE", dir.file("estimate.tif")},
                                             {"REFERENCE_RASTER", dir.file("reference.tif")}, {"THREADS", threads},
                                             {"MAX_PLOT_PAIRS", 500}, {"SEED", seed}})
        .outputs;
  };
  const json one = run_with(1, 7), two = run_with(2, 7);
  CHECK(one == two);  // every metric to the last bit, and the same sample

  std::vector<double> valid_estimate, valid_reference;
  std::set<std::pair<double, double>> valid_pairs;
  for (std::size_t i = 0; i < estimate.size(); ++i) {
    if (std::isnan(reference[i])) continue;
    valid_estimate.push_back(estimate[i]);
    valid_reference.push_back(reference[i]);
    valid_pairs.insert({estimate[i], reference[i]});
  }
  const long long skipped = static_cast<long long>(estimate.size() - valid_estimate.size());
  CHECK(one.at("SKIPPED") == skipped);
  check_output_metrics(one, compute_metrics(valid_estimate, valid_reference), 1e-9);

  const json& sample = one.at("SAMPLE");
  REQUIRE(sample.at("estimate").size() == 500);
  for (std::size_t i = 0; i < 500; ++i)
    CHECK(valid_pairs.count({sample.at("estimate")[i].get<double>(), sample.at("reference")[i].get<double>()}) == 1);
  CHECK(run_with(2, 8).at("SAMPLE") != sample);
}

TEST_CASE("validationmetrics rejects bad inputs naming the key", "[validation][errors]") {
  TempDir dir;
  write_raster(dir.file("in.tif"), std::vector<float>(12, 0.3f));
  const json good_pairs = {{"estimate", {0.1, 0.2, 0.3}}, {"reference", {0.1, 0.25, 0.3}}};

  CHECK_THAT(input_error({{"PAIRS", good_pairs}, {"ESTIMATE", dir.file("in.tif")}}),
             Contains("PAIRS") && Contains("ESTIMATE") && Contains("not both"));
  CHECK_THAT(input_error(json::object()), Contains("PAIRS") && Contains("REFERENCE_RASTER"));
  CHECK_THAT(input_error({{"ESTIMATE", dir.file("in.tif")}}), Contains("REFERENCE_RASTER is required"));
  CHECK_THAT(input_error({{"PAIRS", {{"estimate", {1, 2, 3}}, {"reference", {1, 2}}}}}),
             Contains("PAIRS.reference has 2 values but PAIRS.estimate has 3"));
  CHECK_THAT(input_error({{"PAIRS", {{"estimate", {1, "abc", 3}}, {"reference", {1, 2, 3}}}}}),
             Contains("PAIRS.estimate[1]") && Contains("abc") && Contains("finite numbers"));
  CHECK_THAT(input_error({{"PAIRS", {{"estimate", {1, 2, 3}}, {"reference", {1, true, 3}}}}}),
             Contains("PAIRS.reference[1]"));
  CHECK_THAT(input_error({{"PAIRS", {{"estimate", {1, 2, 3}}, {"reference", 5}}}}), Contains("PAIRS.reference must be a list"));
  CHECK_THAT(input_error({{"PAIRS", {{"reference", {1, 2, 3}}}}}), Contains("PAIRS.estimate must be a list"));
  CHECK_THAT(input_error({{"PAIRS", {1, 2}}}), Contains("PAIRS must be an object"));
  CHECK_THAT(input_error({{"PAIRS", {{"estimates", {1}}, {"estimate", {1}}, {"reference", {1}}}}}),
             Contains("PAIRS has no field 'estimates'"));
  json grouped = good_pairs;
  grouped["groups"] = {"a", "b"};
  CHECK_THAT(input_error({{"PAIRS", grouped}}), Contains("PAIRS.groups has 2 values but PAIRS.estimate has 3"));
  grouped["groups"] = {"a", {{"id", 1}}, "b"};
  CHECK_THAT(input_error({{"PAIRS", grouped}}), Contains("PAIRS.groups[1]"));
  CHECK_THAT(input_error({{"PAIRS", good_pairs}, {"MAX_PLOT_PAIRS", -1}}), Contains("MAX_PLOT_PAIRS is -1"));
  CHECK_THAT(input_error({{"PAIRS", good_pairs}, {"MAX_PLOT_PAIRS", 2.5}}), Contains("MAX_PLOT_PAIRS must be an integer"));
  CHECK_THAT(input_error({{"PAIRS", good_pairs}, {"SEED", -3}}), Contains("SEED is -3"));
  CHECK_THAT(input_error({{"PAIRS", good_pairs}, {"THREADS", -1}}), Contains("THREADS is -1"));
  CHECK_THAT(input_error({{"ESTIMATE", dir.file("in.tif")}, {"REFERENCE_RASTER", dir.file("in.tif")},
                          {"CREATE_OPTIONS", "COMPRESS=LZW"}}),
             Contains("has no parameter CREATE_OPTIONS"));
  CHECK_THAT(input_error({{"ESTIMATE", dir.file("in.tif")}, {"REFERENCE_RASTER", dir.file("in.tif")}, {"REFERENCE", "XX"}}),
             Contains("REFERENCE is 'XX'") && Contains("REFERENCE_RASTER"));
  CHECK_THAT(input_error({{"ESTIMATE", dir.file("in.tif")}, {"REFERENCE_RASTER", dir.file("missing.tif")}}),
             Contains("REFERENCE_RASTER: cannot open"));
}
