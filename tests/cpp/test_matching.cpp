// smr cdfmatching and smr timematching: CDF matching (paper 001's standard rescaling) against nodes and
// mapped values worked out by hand, the 1…1000 → 0.5…500 reference case for every method, ties, masks
// with their counts, saved mappings (raster and .json) applied again, thread invariance; time matching
// of hand-built series (nearest, inclusive window, ties, unsorted, groups, UNIQUE); bad inputs.
#include "smr/cdf_matching.hpp"
#include "smr/sampling.hpp"
#include "smr/time_matching.hpp"
#include "support.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>
#include <limits>

using namespace smr;
using namespace smr::test;
using Catch::Matchers::Contains;
using Catch::Matchers::WithinAbs;
using Catch::Matchers::WithinRel;

namespace {

constexpr float kOut = -9999.0f;  // the outputs' nodata
constexpr double kPixelTolerance = 1e-5;  // Float32 outputs against values worked out in double
constexpr float kNodataIn = -32768.0f;
const double kInfinity = std::numeric_limits<double>::infinity();
const double kNan = std::numeric_limits<double>::quiet_NaN();

CdfSettings settings_of(CdfMethod method, int percentiles = 21, CdfEdges edges = CdfEdges::Linear, long long min = 2) {
  CdfSettings settings;
  settings.method = method;
  settings.percentiles = percentiles;
  settings.edges = edges;
  settings.min_observations = min;
  return settings;
}

CdfMapping fitted(std::vector<double> source, std::vector<double> reference, const CdfSettings& settings,
                  CdfStatus expected = CdfStatus::Matched) {
  CdfMapping mapping;
  const CdfFit fit = fit_cdf_mapping(source, reference, settings, mapping);
  REQUIRE(fit.status == expected);
  return mapping;
}

void check_values(const std::vector<double>& actual, const std::vector<double>& expected, double tolerance = 1e-12) {
  REQUIRE(actual.size() == expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    INFO("entry " << i);
    CHECK_THAT(actual[i], WithinAbs(expected[i], tolerance));
  }
}

std::vector<double> one_to_thousand() {
  std::vector<double> values;
  for (int i = 1; i <= 1000; ++i) values.push_back(i);
  return values;
}

// A value in [0, 1) from a position, so data are reproducible without a generator.
double hashed(std::uint64_t stream, std::uint64_t index) {
  return static_cast<double>(splitmix64(splitmix64(stream) ^ index) >> 11) / 9007199254740992.0;
}

std::string read_metadata(const std::string& path, const char* name) {
  GDALDatasetUniquePtr dataset(GDALDataset::Open(path.c_str(), GDAL_OF_RASTER | GDAL_OF_READONLY));
  REQUIRE(dataset);
  const char* value = dataset->GetMetadataItem(name);
  return value ? value : "";
}

void write_text(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

json series_json(const std::vector<double>& values) {
  json list = json::array();
  for (const double v : values) list.push_back(std::isnan(v) ? json(nullptr) : json(v));
  return list;
}

}  // namespace

// ---- the mapping ---------------------------------------------------------------------------------

TEST_CASE("numpy-linear percentiles of sorted values", "[matching]") {
  const std::vector<double> sorted = {1, 2, 3, 4};
  CHECK(sorted_percentile(sorted.data(), 4, 0.0) == 1.0);
  CHECK(sorted_percentile(sorted.data(), 4, 0.25) == 1.75);  // h = 3·0.25 = 0.75
  CHECK(sorted_percentile(sorted.data(), 4, 0.5) == 2.5);    // h = 1.5
  CHECK(sorted_percentile(sorted.data(), 4, 1.0) == 4.0);
  CHECK(sorted_percentile(sorted.data(), 1, 0.3) == 1.0);
}

TEST_CASE("percentile mapping by hand: nodes, a value between nodes, linear and clamped edges", "[matching]") {
  // Unsorted pairs; the marginals are sorted apart. PERCENTILES 3: q = 0, 50, 100; h = 3·q/100.
  // source sorted 1 2 3 4 → nodes 1, 2.5, 4; reference sorted 2 4 6 10 → nodes 2, 5, 10.
  const std::vector<double> source = {3, 1, 4, 2}, reference = {6, 10, 2, 4};
  const CdfMapping linear = fitted(source, reference, settings_of(CdfMethod::Percentile, 3));
  check_values(linear.percentiles, {0, 50, 100});
  check_values(linear.source, {1, 2.5, 4});
  check_values(linear.reference, {2, 5, 10});
  CHECK_THAT(linear.apply(2.0), WithinAbs(4.0, 1e-12));          // 2 + (2 − 1)·(5 − 2)/(2.5 − 1)
  CHECK_THAT(linear.apply(3.0), WithinAbs(5.0 + 5.0 / 3.0, 1e-12));  // 5 + 0.5·(10 − 5)/1.5
  CHECK(linear.apply(2.5) == 5.0);                                 // a node maps to its reference exactly
  CHECK_THAT(linear.apply(5.0), WithinAbs(10.0 + 10.0 / 3.0, 1e-12));  // last segment goes on: slope 5/1.5
  CHECK_THAT(linear.apply(0.0), WithinAbs(0.0, 1e-12));              // first segment: 2 − 1·2
  CHECK(std::isnan(linear.apply(kNan)));

  const CdfMapping clamp = fitted(source, reference, settings_of(CdfMethod::Percentile, 3, CdfEdges::Clamp));
  CHECK(clamp.apply(5.0) == 10.0);
  CHECK(clamp.apply(-100.0) == 2.0);
  CHECK_THAT(clamp.apply(3.0), WithinAbs(5.0 + 5.0 / 3.0, 1e-12));  // inside: the same as linear
}

TEST_CASE("min_max and mean_std mappings by hand", "[matching]") {
  // min_max: (2, 6) → (10, 30), whatever the pairing.
  const CdfMapping min_max = fitted({2, 4, 6}, {10, 30, 20}, settings_of(CdfMethod::MinMax));
  check_values(min_max.source, {2, 6});
  check_values(min_max.reference, {10, 30});
  check_values(min_max.percentiles, {0, 100});
  CHECK(min_max.apply(4.0) == 20.0);
  CHECK(min_max.apply(8.0) == 40.0);
  CdfSettings clamped = settings_of(CdfMethod::MinMax, 21, CdfEdges::Clamp);
  CHECK(fitted({2, 4, 6}, {10, 30, 20}, clamped).apply(8.0) == 30.0);

  // mean_std: μs = 2, σs = 1, μr = 12, σr = 2 → y = 12 + (x − 2)·2, linear beyond the nodes even with clamp.
  const CdfMapping mean_std = fitted({1, 3}, {14, 10}, settings_of(CdfMethod::MeanStd, 21, CdfEdges::Clamp));
  check_values(mean_std.source, {1, 3});
  check_values(mean_std.reference, {10, 14});
  CHECK(mean_std.percentiles.empty());
  CHECK(mean_std.apply(5.0) == 18.0);
  CHECK(mean_std.apply(-1.0) == 6.0);
  CHECK(mapping_to_json(mean_std)["edges"] == "linear");
}

TEST_CASE("1…1000 onto its half reproduces the reference for every method", "[matching]") {
  const std::vector<double> source = one_to_thousand();
  std::vector<double> reference;
  for (const double x : source) reference.push_back(x / 2);
  for (const CdfMethod method : {CdfMethod::Percentile, CdfMethod::MeanStd, CdfMethod::MinMax})
    for (const int percentiles : {21, 1001}) {
      INFO(method_name(method) << ", " << percentiles << " percentiles");
      const CdfMapping mapping = fitted(source, reference, settings_of(method, percentiles));
      for (std::size_t i = 0; i < source.size(); ++i) CHECK_THAT(mapping.apply(source[i]), WithinAbs(reference[i], 1e-9));
      CHECK_THAT(mapping.apply(2000.0), WithinAbs(1000.0, 1e-9));  // linear edges carry the line on
    }
  // The 5 % node: h = 999·0.05 = 49.95 → 50 + 0.95 = 50.95, and half of it on the reference side.
  const CdfMapping mapping = fitted(source, reference, settings_of(CdfMethod::Percentile, 21));
  CHECK_THAT(mapping.source[1], WithinAbs(50.95, 1e-9));
  CHECK(mapping.reference[1] == mapping.source[1] / 2);
}

TEST_CASE("a series matched onto itself is left unchanged", "[matching]") {
  std::vector<double> values;
  for (int i = 0; i < 500; ++i) values.push_back(0.05 + 0.4 * hashed(7, i));  // distinct: no ties
  for (const int percentiles : {2, 21, 101}) {
    const CdfMapping mapping = fitted(values, values, settings_of(CdfMethod::Percentile, percentiles));
    for (const double x : values) CHECK_THAT(mapping.apply(x), WithinRel(x, 1e-12));
  }
}

TEST_CASE("ties merge into one node with the mean reference", "[matching]") {
  // PERCENTILES 5 on 5 pairs: h = 0…4, the nodes are the sorted values. Three equal source nodes (0)
  // merge; their reference 1, 2, 3 and percentiles 0, 25, 50 average to 2 and 25.
  const CdfMapping mapping = fitted({0, 2, 0, 1, 0}, {3, 5, 1, 4, 2}, settings_of(CdfMethod::Percentile, 5));
  check_values(mapping.source, {0, 1, 2});
  check_values(mapping.reference, {2, 4, 5});
  check_values(mapping.percentiles, {25, 75, 100});
  CHECK(mapping.apply(0.0) == 2.0);
  CHECK_THAT(mapping.apply(0.5), WithinAbs(3.0, 1e-12));
}

TEST_CASE("CDF fit statuses: empty, few, constant; NaN and ±Inf dropped pairwise", "[matching]") {
  const CdfSettings settings = settings_of(CdfMethod::Percentile, 21, CdfEdges::Linear, 3);
  CdfMapping mapping;
  std::vector<double> source = {kNan, 1}, reference = {1, kNan};
  CHECK(fit_cdf_mapping(source, reference, settings, mapping).status == CdfStatus::Empty);
  source = {1, 2, kInfinity}, reference = {1, 2, 3};
  const CdfFit few = fit_cdf_mapping(source, reference, settings, mapping);
  CHECK(few.status == CdfStatus::FewObservations);
  CHECK(few.pairs == 2);
  for (const CdfMethod method : {CdfMethod::Percentile, CdfMethod::MeanStd, CdfMethod::MinMax}) {
    source = {4, 4, 4, 4}, reference = {1, 2, 3, 4};
    CHECK(fit_cdf_mapping(source, reference, settings_of(method), mapping).status == CdfStatus::Constant);
    CHECK(mapping.source.empty());
  }
  // The pairs left after dropping: (1, 10), (3, 30), (5, 50) → min_max (1, 5) → (10, 50).
  source = {1, 2, 3, -kInfinity, 5, kNan}, reference = {10, kNan, 30, 40, 50, 60};
  const CdfFit fit = fit_cdf_mapping(source, reference, settings_of(CdfMethod::MinMax), mapping);
  CHECK(fit.pairs == 3);
  check_values(mapping.source, {1, 5});
  check_values(mapping.reference, {10, 50});
}

TEST_CASE("rounding nodes to Float32 merges the ties it creates", "[matching]") {
  CdfMapping mapping;
  mapping.method = CdfMethod::Percentile;
  mapping.percentiles = {0, 50, 100};
  mapping.source = {1.0, 1.0 + 1e-12, 2.0};  // equal once in Float32
  mapping.reference = {1.0, 2.0, 4.0};
  REQUIRE(round_nodes_to_float(mapping));
  check_values(mapping.source, {1.0, 2.0});
  check_values(mapping.reference, {1.5, 4.0});
  mapping.source = {1.0, 1.0 + 1e-12}, mapping.reference = {1.0, 2.0}, mapping.percentiles = {0, 100};
  CHECK_FALSE(round_nodes_to_float(mapping));
}

TEST_CASE("mapping file: round trip and corrupt files refused naming MAPPING and the field", "[matching]") {
  TempDir dir;
  std::vector<double> source, reference;
  for (int i = 0; i < 50; ++i) {
    source.push_back(hashed(1, i));
    reference.push_back(0.1 + 0.3 * hashed(2, i));
  }
  for (const CdfMethod method : {CdfMethod::Percentile, CdfMethod::MeanStd, CdfMethod::MinMax}) {
    const CdfMapping mapping = fitted(source, reference, settings_of(method, 11, CdfEdges::Clamp));
    write_mapping_file("MAPPING_OUTPUT", dir.file("m.json"), mapping);
    const CdfMapping read = read_mapping_file("MAPPING", dir.file("m.json"));
    CHECK(read.method == mapping.method);
    CHECK(read.edges == mapping.effective_edges());
    CHECK(read.source == mapping.source);  // bit for bit: JSON numbers round-trip doubles
    CHECK(read.reference == mapping.reference);
    CHECK(read.percentiles == mapping.percentiles);
  }

  const json good = {{"format", "smr-cdf-mapping"}, {"version", 1}, {"method", "percentile"}, {"edges", "linear"},
                     {"percentiles", {0, 50, 100}}, {"source", {1, 2, 3}}, {"reference", {1, 4, 9}}};
  const auto refused = [&](const json& document, const std::string& field) {
    write_text(dir.file("bad.json"), document.dump());
    INFO(document.dump());
    REQUIRE_THROWS_WITH(read_mapping_file("MAPPING", dir.file("bad.json")),
                        Contains("MAPPING") && Contains("bad.json") && Contains(field));
  };
  write_text(dir.file("ok.json"), good.dump());
  CHECK(read_mapping_file("MAPPING", dir.file("ok.json")).apply(1.5) == 2.5);
  json document = good;
  document["format"] = "smr-model";
  refused(document, "'format'");
  document = good;
  document["version"] = 2;
  refused(document, "'version'");
  document = good;
  document.erase("source");
  refused(document, "'source' is missing");
  document = good;
  document["source"] = {1, 3, 2};
  refused(document, "source node 3");
  document = good;
  document["reference"] = {1, 4};
  refused(document, "'reference'");
  document = good;
  document["reference"][1] = "four";
  refused(document, "'reference[1]'");
  document = good;
  document["percentiles"] = {0, 100};
  refused(document, "'percentiles'");
  document = good;
  document["method"] = "quantile";
  refused(document, "'method'");
  document = good;
  document["edges"] = "extend";
  refused(document, "'edges'");
  document = good;
  document["comment"] = "x";
  refused(document, "'comment'");
  document = good;
  document["method"] = "min_max";
  refused(document, "'source'");  // min_max has exactly 2 nodes

  write_text(dir.file("bad.json"), good.dump().substr(0, 40));
  REQUIRE_THROWS_WITH(read_mapping_file("MAPPING", dir.file("bad.json")), Contains("MAPPING") && Contains("not valid JSON"));
  write_text(dir.file("bad.json"), std::string(100, '[') + std::string(100, ']'));
  REQUIRE_THROWS_WITH(read_mapping_file("MAPPING", dir.file("bad.json")), Contains("nested"));
  REQUIRE_THROWS_WITH(read_mapping_file("MAPPING", dir.file("missing.json")), Contains("MAPPING") && Contains("does not exist"));
}

// ---- smr cdfmatching, SERIES ------------------------------------------------------------------------

TEST_CASE("cdfmatching SERIES: 1…1000 onto its half, nulls skipped, mapping written and applied", "[matching]") {
  TempDir dir;
  std::vector<double> source = one_to_thousand(), reference;
  for (const double x : source) reference.push_back(x / 2);
  for (const std::string method : {"percentile", "mean_std", "min_max"}) {
    INFO(method);
    const auto run = run_command("cdfmatching", {{"SERIES", {{"source", source}, {"reference", reference}}},
                                                  {"METHOD", method}});
    const auto& rescaled = run.outputs["RESCALED"];
    REQUIRE(rescaled.size() == 1000);
    for (std::size_t i = 0; i < 1000; ++i) CHECK_THAT(rescaled[i].get<double>(), WithinAbs(reference[i], 1e-9));
    CHECK(run.outputs["N"] == 1000);
    CHECK(run.outputs["SKIPPED"] == 0);
    CHECK(run.outputs["MAPPING"]["method"] == method);
  }

  // Nulls: a pair with one is skipped, but every source value is rescaled.
  std::vector<double> s = {3, 1, kNan, 4, 2, 7}, r = {6, 10, 5, 2, 4, kNan};
  const auto run = run_command("cdfmatching", {{"SERIES", {{"source", series_json(s)}, {"reference", series_json(r)}}},
                                               {"PERCENTILES", 3}, {"MIN_OBSERVATIONS", 4}, {"EDGES", "clamp"},
                                               {"MAPPING_OUTPUT", dir.file("station.json")}});
  CHECK(run.outputs["N"] == 4);
  CHECK(run.outputs["SKIPPED"] == 2);
  CHECK(run.outputs["MAPPING"]["source"] == json({1.0, 2.5, 4.0}));
  CHECK(run.outputs["MAPPING"]["reference"] == json({2.0, 5.0, 10.0}));
  const json& rescaled = run.outputs["RESCALED"];
  CHECK_THAT(rescaled[0].get<double>(), WithinAbs(5.0 + 5.0 / 3.0, 1e-12));
  CHECK(rescaled[2].is_null());
  CHECK(rescaled[5] == 10.0);  // 7 lies beyond the last node: clamped
  CHECK(run.outputs["MAPPING_OUTPUT"] == dir.file("station.json"));

  // Applied again from the file: the same values; only "source" is needed.
  const auto again = run_command("cdfmatching", {{"SERIES", {{"source", series_json(s)}}},
                                                 {"MAPPING", dir.file("station.json")}});
  CHECK(again.outputs["RESCALED"] == rescaled);
  CHECK(again.outputs["N"] == 5);
  CHECK(again.outputs["SKIPPED"] == 1);
  CHECK(again.outputs["MAPPING"]["edges"] == "clamp");
}

TEST_CASE("cdfmatching SERIES: bad inputs name the parameter, the value and what is valid", "[matching]") {
  TempDir dir;
  const json pairs = {{"source", {1, 2, 3}}, {"reference", {1, 2, 3}}};
  const auto fails = [](const json& parameters, const std::string& a, const std::string& b) {
    INFO(parameters.dump());
    REQUIRE_THROWS_AS(run_command("cdfmatching", parameters), InputError);
    REQUIRE_THROWS_WITH(run_command("cdfmatching", parameters), Contains(a) && Contains(b));
  };
  fails({{"SERIES", pairs}, {"METHOD", "cdf"}}, "METHOD is 'cdf'", "percentile, mean_std, min_max");
  fails({{"SERIES", pairs}, {"EDGES", "flat"}}, "EDGES is 'flat'", "linear, clamp");
  fails({{"SERIES", pairs}, {"PERCENTILES", 1}}, "PERCENTILES", "2 to 1001");
  fails({{"SERIES", pairs}, {"MIN_OBSERVATIONS", 1}}, "MIN_OBSERVATIONS", "2 to 1000000000");
  fails({{"SERIES", pairs}}, "3 pairs", "MIN_OBSERVATIONS 20");
  fails({{"SERIES", {{"source", {1, 2}}, {"reference", {1}}}}}, "SERIES.reference has 1 value", "SERIES.source has 2");
  fails({{"SERIES", {{"source", {1, "2"}}, {"reference", {1, 2}}}}}, "SERIES.source[1]", "finite numbers");
  fails({{"SERIES", {{"source", {5, 5, 5}}, {"reference", {1, 2, 3}}}}, {"MIN_OBSERVATIONS", 2}}, "SERIES.source", "constant");
  fails({{"SERIES", {{"source", {1}}, {"values", {1}}}}}, "SERIES has no field 'values'", "source and reference");
  fails({{"SERIES", pairs}, {"MIN_OBSERVATIONS", 2}, {"MAPPING_OUTPUT", dir.file("m.tif")}}, "MAPPING_OUTPUT", ".json");
  fails({{"SERIES", pairs}, {"MAPPING", dir.file("m.tif")}}, "MAPPING", ".json mapping file");
  fails({{"SERIES", pairs}, {"SOURCE", dir.file("s.tif")}}, "SOURCE", "SERIES");
  fails({{"SERIES", pairs}, {"BANDS", 3}}, "no parameter BANDS", "SERIES");
  fails(json::object(), "nothing to rescale", "SERIES");
}

// ---- smr cdfmatching, stacks ------------------------------------------------------------------------

namespace {

const GridSpec kMaskGrid{3, 2, 500000.0, 4650000.0, 20.0, 32632};
const std::vector<std::string> kEightDates = {"2020-01-01", "2020-01-02", "2020-01-03", "2020-01-04",
                                              "2020-01-05", "2020-01-06", "2020-01-07", "2020-01-08"};

// 6 pixels × 8 dates, MIN_OBSERVATIONS 4, PERCENTILES 5 (q = 0, 25, 50, 75, 100):
//   0: source 1…8, reference 2x → nodes (1, 2.75, 4.5, 6.25, 8) → (2, 5.5, 9, 12.5, 16): y = 2x
//   1: source nodata everywhere → EMPTY
//   2: source at 3 dates only → FEW_OBSERVATIONS
//   3: source 5 at every date → CONSTANT
//   4: source 1…8 with +Inf at date 2; reference 2x with NaN at date 5, −Inf at date 7: pairs at
//      dates 1, 3, 4, 6, 8 → nodes = the pairs (h = 0…4) → y = 2x, also at dates 5 and 7
//   5: source 0 0 0 0 1 2 3 4, reference 1…8: source nodes 0, 0, 0.5, 2.25, 4 merge to
//      (0, 0.5, 2.25, 4) → (1.875, 4.5, 6.25, 8): 0 → 1.875, 1 → 5, 2 → 6, 3 → 7, 4 → 8
struct MaskScene {
  std::string source, reference;
};

MaskScene write_mask_scene(const TempDir& dir) {
  const float nd = kNodataIn, inf = std::numeric_limits<float>::infinity();
  std::vector<std::vector<float>> source(8, std::vector<float>(6)), reference = source;
  for (int t = 0; t < 8; ++t) {
    const float x = static_cast<float>(t + 1);
    source[t] = {x, nd, t < 3 ? x : nd, 5, t == 1 ? inf : x, t < 4 ? 0.0f : static_cast<float>(t - 3)};
    reference[t] = {2 * x, 2 * x, 2 * x, 2 * x, t == 4 ? std::nanf("") : t == 6 ? -inf : 2 * x, x};
  }
  const double nodata = kNodataIn;
  MaskScene scene{dir.file("source.tif"), dir.file("reference.tif")};
  write_stack(scene.source, source, kMaskGrid, &nodata, kEightDates);
  write_stack(scene.reference, reference, kMaskGrid, &nodata, kEightDates);
  return scene;
}

json mask_parameters(const TempDir& dir, const MaskScene& scene) {
  return {{"SOURCE", scene.source}, {"REFERENCE_STACK", scene.reference}, {"PERCENTILES", 5},
          {"MIN_OBSERVATIONS", 4}, {"OUTPUT", dir.file("out.tif")}, {"MAPPING_OUTPUT", dir.file("mapping.tif")}};
}

}  // namespace

TEST_CASE("cdfmatching stacks: hand-computed pixels, masks and their counts, the mapping raster", "[matching]") {
  TempDir dir;
  const MaskScene scene = write_mask_scene(dir);
  const auto run = run_command("cdfmatching", mask_parameters(dir, scene));
  CHECK(run.outputs["MATCHED_PIXELS"] == 3);
  CHECK(run.outputs["EMPTY_PIXELS"] == 1);
  CHECK(run.outputs["FEW_OBSERVATIONS_PIXELS"] == 1);
  CHECK(run.outputs["CONSTANT_PIXELS"] == 1);
  CHECK(run.outputs["UNMAPPED_PIXELS"] == 0);
  CHECK(run.outputs["NON_FINITE_VALUES"] == 2);
  CHECK(run.outputs["OUTPUT"] == dir.file("out.tif"));
  CHECK(run.outputs["MAPPING_OUTPUT"] == dir.file("mapping.tif"));
  CHECK_THAT(run.lines, Contains("FEW_OBSERVATIONS_PIXELS") && Contains("CONSTANT_PIXELS") && Contains("NON_FINITE_VALUES"));

  const auto out = read_stack(dir.file("out.tif"));
  REQUIRE(out.size() == 8);
  CHECK(read_descriptions(dir.file("out.tif")) == kEightDates);
  check_pixel_series(out, 0, {2, 4, 6, 8, 10, 12, 14, 16}, kPixelTolerance);
  const std::vector<double> masked(8, kOut);
  check_pixel_series(out, 1, masked, kPixelTolerance);
  check_pixel_series(out, 2, masked, kPixelTolerance);
  check_pixel_series(out, 3, masked, kPixelTolerance);
  check_pixel_series(out, 4, {2, kOut, 6, 8, 10, 12, 14, 16}, kPixelTolerance);
  check_pixel_series(out, 5, {1.875, 1.875, 1.875, 1.875, 5, 6, 7, 8}, kPixelTolerance);

  const std::string mapping = dir.file("mapping.tif");
  const auto nodes = read_stack(mapping);
  REQUIRE(nodes.size() == 10);
  CHECK(read_descriptions(mapping) ==
        std::vector<std::string>{"source p0", "source p25", "source p50", "source p75", "source p100", "reference p0",
                                 "reference p25", "reference p50", "reference p75", "reference p100"});
  CHECK(read_metadata(mapping, "FORMAT") == "smr-cdf-mapping");
  CHECK(read_metadata(mapping, "VERSION") == "1");
  CHECK(read_metadata(mapping, "METHOD") == "percentile");
  CHECK(read_metadata(mapping, "EDGES") == "linear");
  CHECK(read_metadata(mapping, "NODES") == "5");
  check_pixel_series(nodes, 0, {1, 2.75, 4.5, 6.25, 8, 2, 5.5, 9, 12.5, 16}, kPixelTolerance);
  check_pixel_series(nodes, 4, {1, 3, 4, 6, 8, 2, 6, 8, 12, 16}, kPixelTolerance);
  // A merged tie: trailing nodata.
  check_pixel_series(nodes, 5, {0, 0.5, 2.25, 4, kOut, 1.875, 4.5, 6.25, 8, kOut}, kPixelTolerance);
  check_pixel_series(nodes, 3, std::vector<double>(10, kOut), kPixelTolerance);
}

TEST_CASE("cdfmatching stacks: 1…1000 onto its half, every method", "[matching]") {
  TempDir dir;
  const GridSpec grid{2, 1, 500000.0, 4650000.0, 20.0, 32632};
  std::vector<std::vector<float>> source, reference;
  for (int t = 1; t <= 1000; ++t) {
    // Pixel 1 holds the series in reverse time order: only the distributions matter.
    source.push_back({static_cast<float>(t), static_cast<float>(1001 - t)});
    reference.push_back({t / 2.0f, (1001 - t) / 2.0f});
  }
  write_stack(dir.file("s.tif"), source, grid);
  write_stack(dir.file("r.tif"), reference, grid);
  for (const std::string method : {"percentile", "mean_std", "min_max"}) {
    INFO(method);
    const auto run = run_command("cdfmatching", {{"SOURCE", dir.file("s.tif")}, {"REFERENCE_STACK", dir.file("r.tif")},
                                                 {"METHOD", method}, {"OUTPUT", dir.file("o.tif")}});
    CHECK(run.outputs["MATCHED_PIXELS"] == 2);
    const auto out = read_stack(dir.file("o.tif"));
    for (std::size_t t = 0; t < 1000; ++t)
      for (std::size_t p = 0; p < 2; ++p) CHECK_THAT(out[t][p], WithinAbs(reference[t][p], 1e-4));
  }
}

TEST_CASE("cdfmatching stacks: a saved mapping applied to another period equals fitting and applying", "[matching]") {
  TempDir dir;
  const GridSpec grid{4, 3, 500000.0, 4650000.0, 20.0, 32632};
  const int steps = 30;
  std::vector<std::vector<float>> source(steps, std::vector<float>(12)), reference = source;
  for (int t = 0; t < steps; ++t)
    for (int p = 0; p < 12; ++p) {
      source[t][p] = static_cast<float>(-20.0 + 10.0 * hashed(1, t * 12 + p));           // e.g. σ⁰-like, dB
      reference[t][p] = static_cast<float>(0.05 + 0.4 * hashed(2, t * 12 + p) * hashed(3, p));  // m³/m³
    }
  write_stack(dir.file("s.tif"), source, grid);
  write_stack(dir.file("r.tif"), reference, grid);
  // The later period, as a stack of its own.
  const std::vector<std::vector<float>> later(source.begin() + 20, source.end());
  write_stack(dir.file("later.tif"), later, grid);

  for (const std::string method : {"percentile", "mean_std", "min_max"})
    for (const std::string edges : {"linear", "clamp"}) {
      INFO(method << ", " << edges);
      run_command("cdfmatching", {{"SOURCE", dir.file("s.tif")}, {"REFERENCE_STACK", dir.file("r.tif")},
                                  {"FIT_PERIOD", "1:20"}, {"METHOD", method}, {"EDGES", edges}, {"PERCENTILES", 11},
                                  {"MIN_OBSERVATIONS", 10}, {"OUTPUT", dir.file("fit.tif")},
                                  {"MAPPING_OUTPUT", dir.file("mapping.tif")}});
      const auto run = run_command("cdfmatching", {{"SOURCE", dir.file("later.tif")}, {"MAPPING", dir.file("mapping.tif")},
                                                   {"METHOD", "min_max"}, {"OUTPUT", dir.file("applied.tif")}});
      CHECK(run.outputs["MATCHED_PIXELS"] == 12);
      CHECK_THAT(run.lines, Contains("METHOD not used"));
      const auto fit = read_stack(dir.file("fit.tif"));
      const auto applied = read_stack(dir.file("applied.tif"));
      REQUIRE(applied.size() == 10);
      for (std::size_t t = 0; t < 10; ++t) CHECK(applied[t] == fit[20 + t]);  // to the last bit
    }
}

TEST_CASE("cdfmatching stacks: a .json mapping rescales every pixel the same way", "[matching]") {
  TempDir dir;
  write_text(dir.file("m.json"), json({{"format", "smr-cdf-mapping"}, {"version", 1}, {"method", "min_max"},
                                       {"edges", "clamp"}, {"percentiles", {0, 100}}, {"source", {0, 10}},
                                       {"reference", {0.1, 0.3}}}).dump());
  const double nodata = kNodataIn;
  write_stack(dir.file("s.tif"), {{0, 5, 10, 20, kNodataIn, -5}}, {3, 2, 500000.0, 4650000.0, 20.0, 32632}, &nodata);
  const auto run = run_command("cdfmatching", {{"SOURCE", dir.file("s.tif")}, {"MAPPING", dir.file("m.json")},
                                               {"OUTPUT", dir.file("o.tif")}});
  CHECK(run.outputs["MATCHED_PIXELS"] == 5);
  CHECK(run.outputs["EMPTY_PIXELS"] == 1);  // nothing to rescale
  const auto out = read_raster(dir.file("o.tif"));
  const std::vector<double> expected = {0.1, 0.2, 0.3, 0.3, kOut, 0.1};
  for (std::size_t p = 0; p < 6; ++p) CHECK_THAT(out[p], WithinAbs(expected[p], 1e-6));
}

TEST_CASE("cdfmatching stacks: masked pixels of a mapping raster and a corrupt pixel", "[matching]") {
  TempDir dir;
  const MaskScene scene = write_mask_scene(dir);
  run_command("cdfmatching", mask_parameters(dir, scene));
  const auto run = run_command("cdfmatching", {{"SOURCE", scene.source}, {"MAPPING", dir.file("mapping.tif")},
                                               {"OUTPUT", dir.file("again.tif")}});
  CHECK(run.outputs["MATCHED_PIXELS"] == 3);
  CHECK(run.outputs["UNMAPPED_PIXELS"] == 3);
  CHECK(read_stack(dir.file("again.tif")) == read_stack(dir.file("out.tif")));

  {  // Node 2 of pixel (row 1, column 2) made smaller than node 1: not a mapping any more.
    GDALDatasetUniquePtr dataset(GDALDataset::Open(dir.file("mapping.tif").c_str(), GDAL_OF_RASTER | GDAL_OF_UPDATE));
    REQUIRE(dataset);
    std::vector<float> band = read_raster(dir.file("mapping.tif"), 2);
    band[0] = 0.5f;  // pixel 0's first node is 1
    REQUIRE(dataset->GetRasterBand(2)->RasterIO(GF_Write, 0, 0, 3, 2, band.data(), 3, 2, GDT_Float32, 0, 0, nullptr) == CE_None);
  }
  REQUIRE_THROWS_WITH(run_command("cdfmatching", {{"SOURCE", scene.source}, {"MAPPING", dir.file("mapping.tif")},
                                                  {"OUTPUT", dir.file("bad.tif")}}),
                      Contains("MAPPING") && Contains("row 1, column 1") && Contains("source node 2"));
}

TEST_CASE("cdfmatching stacks: the same values for THREADS 1 and 2", "[matching]") {
  TempDir dir;
  const GridSpec grid{8, 600, 500000.0, 4650000.0, 20.0, 32632};  // several windows
  const std::size_t pixels = 8 * 600;
  std::vector<std::vector<float>> source(12, std::vector<float>(pixels)), reference = source;
  for (std::size_t t = 0; t < 12; ++t)
    for (std::size_t p = 0; p < pixels; ++p) {
      source[t][p] = static_cast<float>(hashed(4, t * pixels + p));
      reference[t][p] = hashed(6, t * pixels + p) < 0.1 ? std::nanf("") : static_cast<float>(hashed(5, t * pixels + p));
    }
  write_stack(dir.file("s.tif"), source, grid);
  write_stack(dir.file("r.tif"), reference, grid);
  json outputs[2];
  for (const int threads : {1, 2}) {
    const auto run = run_command("cdfmatching", {{"SOURCE", dir.file("s.tif")}, {"REFERENCE_STACK", dir.file("r.tif")},
                                                 {"MIN_OBSERVATIONS", 10}, {"THREADS", threads},
                                                 {"OUTPUT", dir.file("o" + std::to_string(threads) + ".tif")},
                                                 {"MAPPING_OUTPUT", dir.file("m" + std::to_string(threads) + ".tif")}});
    outputs[threads - 1] = run.outputs;
  }
  CHECK(outputs[0]["MATCHED_PIXELS"] == outputs[1]["MATCHED_PIXELS"]);
  CHECK(outputs[0]["FEW_OBSERVATIONS_PIXELS"] == outputs[1]["FEW_OBSERVATIONS_PIXELS"]);
  CHECK(outputs[0]["FEW_OBSERVATIONS_PIXELS"].get<long long>() > 0);
  CHECK(read_stack(dir.file("o1.tif")) == read_stack(dir.file("o2.tif")));
  CHECK(read_stack(dir.file("m1.tif")) == read_stack(dir.file("m2.tif")));
}

TEST_CASE("cdfmatching stacks: bad inputs name the parameter, the value and what is valid", "[matching]") {
  TempDir dir;
  const MaskScene scene = write_mask_scene(dir);
  write_stack(dir.file("short.tif"), std::vector<std::vector<float>>(3, std::vector<float>(6, 1.0f)), kMaskGrid);
  const json base = {{"SOURCE", scene.source}, {"REFERENCE_STACK", scene.reference}, {"MIN_OBSERVATIONS", 4},
                     {"OUTPUT", dir.file("o.tif")}};
  const auto with = [&](json changes) {
    json parameters = base;
    for (auto& item : changes.items()) {
      if (item.value().is_null()) parameters.erase(item.key());
      else parameters[item.key()] = item.value();
    }
    return parameters;
  };
  const auto fails = [](const json& parameters, const std::string& a, const std::string& b) {
    INFO(parameters.dump());
    REQUIRE_THROWS_AS(run_command("cdfmatching", parameters), InputError);
    REQUIRE_THROWS_WITH(run_command("cdfmatching", parameters), Contains(a) && Contains(b));
  };
  fails(with({{"MIN_OBSERVATIONS", 9}}), "MIN_OBSERVATIONS is 9", "valid values are 2 to 8");
  fails(with({{"FIT_PERIOD", "1:4"}, {"MIN_OBSERVATIONS", 5}}), "MIN_OBSERVATIONS is 5", "2 to 4");
  fails(with({{"FIT_PERIOD", "2:12"}}), "FIT_PERIOD", "1 to 8");
  fails(with({{"REFERENCE_STACK", dir.file("short.tif")}}), "REFERENCE_STACK has 3 bands", "8");
  fails(with({{"MAPPING", dir.file("m.json")}}), "REFERENCE_STACK and MAPPING", "not both");
  fails(with({{"REFERENCE_STACK", nullptr}}), "REFERENCE_STACK", "MAPPING");
  fails(with({{"REFERENCE_STACK", nullptr}, {"MAPPING", scene.reference}}), "MAPPING", "no FORMAT metadata");
  fails(with({{"MAPPING_OUTPUT", dir.file("m.json")}}), "MAPPING_OUTPUT", "SERIES");
  fails(with({{"METHOD", "quantile"}}), "METHOD is 'quantile'", "percentile, mean_std, min_max");
  fails(with({{"PERCENTILES", 1002}}), "PERCENTILES", "2 to 1001");
  fails(with({{"SOURCE", {{"path", scene.source}, {"band", 2}}}}), "SOURCE", "read whole");
  fails(with({{"OUTPUT", nullptr}}), "OUTPUT", "required");
  CHECK(dir.entries().size() == 3);  // nothing written by the failed runs
}

// ---- smr timematching -----------------------------------------------------------------------------

namespace {

constexpr double kHour = 3600.0;

json hours(const std::vector<double>& values) {
  json list = json::array();
  for (const double v : values) list.push_back(std::isnan(v) ? json(nullptr) : json(v * kHour));
  return list;
}

}  // namespace

TEST_CASE("timematching by hand: nearest, inclusive window, ties to the earlier, unsorted, null times", "[matching]") {
  // Reference (kept): 10 h, 0 h, 5 h, null, 20 h. Other: 4.5, 0.5, 11, 9, 5.5, 30 h, null.
  //   10 h: 9 h and 11 h are both 1 h away → the earlier, other 3; |Δt| = 1 h = WINDOW_HOURS: inside
  //   0 h → 0.5 h (other 1);  5 h: 4.5 h and 5.5 h tie → 4.5 h (other 0);  20 h: nearest 9 h away → none
  const json parameters = {{"REFERENCE_TIMES", hours({10, 0, 5, kNan, 20})},
                           {"OTHER_TIMES", hours({4.5, 0.5, 11, 9, 5.5, 30, kNan})}};
  const auto run = run_command("timematching", parameters);
  CHECK(run.outputs["MATCHES"] == json({{0, 3}, {1, 1}, {2, 0}}));
  CHECK(run.outputs["MATCHED"] == 3);
  CHECK(run.outputs["UNMATCHED"] == 1);
  CHECK(run.outputs["MISSING_TIMES"] == 2);
  CHECK(run.outputs["DUPLICATES_DROPPED"] == 0);

  json narrower = parameters;
  narrower["WINDOW_HOURS"] = 0.999;  // 10 h's nearest is 1 h away: now outside
  const auto narrow = run_command("timematching", narrower);
  CHECK(narrow.outputs["MATCHES"] == json({{1, 1}, {2, 0}}));
  CHECK(narrow.outputs["UNMATCHED"] == 2);

  // Equal other times: the lower index. Without UNIQUE one other row may serve several reference rows.
  const auto same = run_command("timematching", {{"REFERENCE_TIMES", {40, 45}}, {"OTHER_TIMES", {50, 10, 50}}});
  CHECK(same.outputs["MATCHES"] == json({{0, 0}, {1, 0}}));
}

TEST_CASE("timematching: groups and UNIQUE", "[matching]") {
  // Rows match within their group only; 7 and "7" are the same station.
  const auto grouped = run_command("timematching", {{"REFERENCE_TIMES", {0, 0}}, {"OTHER_TIMES", {10, 1000}},
                                                    {"REFERENCE_GROUPS", {"a", 7}}, {"OTHER_GROUPS", {"7", "a"}}});
  CHECK(grouped.outputs["MATCHES"] == json({{0, 1}, {1, 0}}));

  // Three reference rows want other 0 (at 120 s): |Δt| 120, 20, 130 → the second keeps it.
  const json crowd = {{"REFERENCE_TIMES", {0, 100, 250}}, {"OTHER_TIMES", {120}}, {"UNIQUE", true}};
  const auto unique = run_command("timematching", crowd);
  CHECK(unique.outputs["MATCHES"] == json::array({json::array({1, 0})}));
  CHECK(unique.outputs["DUPLICATES_DROPPED"] == 2);
  CHECK(unique.outputs["UNMATCHED"] == 0);
  // A tie in |Δt|: the earlier reference time keeps it, whatever the row order.
  const auto tie = run_command("timematching", {{"REFERENCE_TIMES", {140, 100}}, {"OTHER_TIMES", {120}}, {"UNIQUE", true}});
  CHECK(tie.outputs["MATCHES"] == json::array({json::array({1, 0})}));
  const auto shared = run_command("timematching", {{"REFERENCE_TIMES", {140, 100}}, {"OTHER_TIMES", {120}}});
  CHECK(shared.outputs["MATCHES"] == json({{0, 0}, {1, 0}}));

  // The pure function: groups as ids.
  const TimeMatches matches = match_times({0, 0, kNan}, {5, 3}, {0, 1, 1}, {1, 0}, {10.0, false});
  REQUIRE(matches.pairs.size() == 2);
  CHECK(matches.pairs[0] == std::pair<std::size_t, std::size_t>{0, 1});
  CHECK(matches.pairs[1] == std::pair<std::size_t, std::size_t>{1, 0});
  CHECK(matches.missing_times == 1);
}

TEST_CASE("timematching: bad inputs name the parameter, the value and what is valid", "[matching]") {
  const auto fails = [](const json& parameters, const std::string& a, const std::string& b) {
    INFO(parameters.dump());
    REQUIRE_THROWS_AS(run_command("timematching", parameters), InputError);
    REQUIRE_THROWS_WITH(run_command("timematching", parameters), Contains(a) && Contains(b));
  };
  const json times = {{"REFERENCE_TIMES", {0, 1}}, {"OTHER_TIMES", {0}}};
  const auto with = [&](const std::string& key, const json& value) {
    json parameters = times;
    parameters[key] = value;
    return parameters;
  };
  fails(with("WINDOW_HOURS", 0), "WINDOW_HOURS is 0", "greater than 0");
  fails(with("WINDOW_HOURS", 90000), "WINDOW_HOURS is 90000", "87600");
  fails(with("UNIQUE", "yes"), "UNIQUE", "true or false");
  fails(with("REFERENCE_TIMES", {0, "2020-01-01"}), "REFERENCE_TIMES[1]", "seconds since 1970");
  fails(with("OTHER_TIMES", 5), "OTHER_TIMES", "list of times");
  fails(with("REFERENCE_GROUPS", {"a", "b"}), "REFERENCE_GROUPS was given alone", "OTHER_GROUPS");
  json groups = with("REFERENCE_GROUPS", {"a"});
  groups["OTHER_GROUPS"] = {"a"};
  fails(groups, "REFERENCE_GROUPS has 1 value", "REFERENCE_TIMES has 2");
  groups["REFERENCE_GROUPS"] = {"a", true};
  fails(groups, "REFERENCE_GROUPS[1]", "strings or numbers");
  fails(with("WINDOW", 2), "no parameter WINDOW", "WINDOW_HOURS");
  fails({{"OTHER_TIMES", {0}}}, "REFERENCE_TIMES", "required");
}
