// The raster engine through the commands: values, nodata and invalid counts, alignment, thread-count
// invariance, cancel and failure leaving no output behind.
#include "support.hpp"

#include "smr/kernels.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>

using namespace smr;
using namespace smr::test;
using Catch::Matchers::Contains;
using Catch::Matchers::WithinRel;

namespace {

json raster(const std::string& path, int band = 1) { return {{"path", path}, {"band", band}}; }

std::string first_line(const std::string& path) {
  std::ifstream file(path);
  std::string text;
  std::getline(file, text);
  return text;
}

bool has_partial_file(const TempDir& dir) {
  for (const auto& name : dir.entries())
    if (name.find("smr-partial") != std::string::npos) return true;
  return false;
}

}  // namespace

TEST_CASE("spectral index: values, nodata and zero denominators", "[engine]") {
  TempDir dir;
  const double nodata = -1.0;
  // 4×3 pixels: pixel 5 is nodata in NIR, pixel 7 has NIR + RED = 0.
  write_raster(dir.file("nir.tif"), {0.5f, 0.4f, 0.3f, 0.6f, 0.2f, -1.0f, 0.5f, 0.0f, 0.45f, 0.35f, 0.25f, 0.15f},
               {}, &nodata);
  write_raster(dir.file("red.tif"), {0.1f, 0.2f, 0.1f, 0.05f, 0.2f, 0.1f, 0.3f, 0.0f, 0.05f, 0.05f, 0.05f, 0.05f});
  const auto run = run_command("spectralindex", {{"INDEX", "ndvi"}, {"NIR", raster(dir.file("nir.tif"))},
                                                 {"RED", raster(dir.file("red.tif"))}, {"OUTPUT", dir.file("ndvi.tif")}});
  const auto values = read_raster(dir.file("ndvi.tif"));
  CHECK_THAT(values[0], WithinRel(0.4f / 0.6f, 1e-6f));  // (0.5 − 0.1)/(0.5 + 0.1)
  CHECK_THAT(values[3], WithinRel(0.55f / 0.65f, 1e-6f));
  CHECK(values[4] == 0.0f);
  CHECK(values[5] == kOutputNodata);  // NIR nodata propagates
  CHECK(values[7] == kOutputNodata);  // zero denominator
  CHECK(run.outputs["NODATA_PIXELS"] == 1);
  CHECK(run.outputs["INVALID_PIXELS"] == 1);
  CHECK(run.outputs["VALID_PIXELS"] == 10);
  CHECK(run.outputs["OUTPUT"] == dir.file("ndvi.tif"));
}

TEST_CASE("reflectance scale and offset are applied before the index", "[engine]") {
  TempDir dir;
  // Landsat C2 L2: ρ = DN·2.75e-5 − 0.2; DN 25455 → 0.5000125, DN 10909 → 0.09999750
  write_raster(dir.file("nir.tif"), std::vector<float>(12, 25455.0f));
  write_raster(dir.file("red.tif"), std::vector<float>(12, 10909.0f));
  run_command("spectralindex", {{"INDEX", "ndvi"}, {"NIR", dir.file("nir.tif")}, {"RED", dir.file("red.tif")},
                                {"SCALE", 2.75e-5}, {"OFFSET", -0.2}, {"OUTPUT", dir.file("ndvi.tif")}});
  const double nir = 25455 * 2.75e-5 - 0.2, red = 10909 * 2.75e-5 - 0.2;
  CHECK_THAT(read_raster(dir.file("ndvi.tif"))[0], WithinRel(static_cast<float>((nir - red) / (nir + red)), 1e-5f));
}

TEST_CASE("nodata override and NaN are both nodata", "[engine]") {
  TempDir dir;
  write_raster(dir.file("tbv.tif"), {250, 0, 260, 255, std::nanf(""), 250, 250, 250, 250, 250, 250, 250});
  write_raster(dir.file("tbh.tif"), std::vector<float>(12, 240.0f));
  const auto run = run_command("mpdi", {{"TBV", {{"path", dir.file("tbv.tif")}, {"nodata", 0}}},
                                        {"TBH", dir.file("tbh.tif")}, {"OUTPUT", dir.file("mpdi.tif")}});
  const auto values = read_raster(dir.file("mpdi.tif"));
  CHECK_THAT(values[0], WithinRel(10.0f / 490.0f, 1e-6f));
  CHECK(values[1] == kOutputNodata);
  CHECK(values[4] == kOutputNodata);
  CHECK(run.outputs["NODATA_PIXELS"] == 2);
}

TEST_CASE("vegetation water content clamps negative values and counts them", "[engine]") {
  TempDir dir;
  // eq. 7 is negative for 0 < NDVI < 0.168: NDVI 0.1 → 0.019134 − 0.03215 < 0
  write_raster(dir.file("ndvi.tif"), {0.1f, 0.5f, 0.8f, 0.0f, 0.1f, 0.1f, 0.3f, 0.3f, 0.3f, 0.3f, 0.3f, 0.3f});
  const auto zero = run_command("vegetationwatercontent",
                                {{"INPUT", dir.file("ndvi.tif")}, {"MODEL", "ndvi"}, {"OUTPUT", dir.file("zero.tif")}});
  auto values = read_raster(dir.file("zero.tif"));
  CHECK(values[0] == 0.0f);
  CHECK_THAT(values[1], WithinRel(0.3176f, 1e-5f));
  CHECK(zero.outputs["CLAMPED_PIXELS"] == 3);
  const auto nodata = run_command("vegetationwatercontent", {{"INPUT", dir.file("ndvi.tif")}, {"MODEL", "ndvi"},
                                                             {"NEGATIVE", "nodata"}, {"OUTPUT", dir.file("nd.tif")}});
  CHECK(read_raster(dir.file("nd.tif"))[0] == kOutputNodata);
  CHECK(nodata.outputs["INVALID_PIXELS"] == 3);
  run_command("vegetationwatercontent", {{"INPUT", dir.file("ndvi.tif")}, {"MODEL", "polynomial"},
                                         {"COEFFICIENTS", {1.0, 2.0}}, {"OUTPUT", dir.file("poly.tif")}});
  CHECK_THAT(read_raster(dir.file("poly.tif"))[1], WithinRel(2.0f, 1e-6f));  // 1 + 2·0.5
}

TEST_CASE("water cloud forward then inversion returns the soil backscatter", "[engine][wcm]") {
  TempDir dir;
  std::vector<float> soil, vwc, angle;
  for (int i = 0; i < 12; ++i) {
    soil.push_back(-22.0f + 1.5f * i);
    vwc.push_back(0.25f * i);
    angle.push_back(25.0f + 2.0f * i);
  }
  write_raster(dir.file("soil.tif"), soil);
  write_raster(dir.file("vwc.tif"), vwc);
  write_raster(dir.file("angle.tif"), angle);
  for (const std::string v1 : {"vwc", "one"}) {
    const json common = {{"VWC", dir.file("vwc.tif")}, {"ANGLE", dir.file("angle.tif")}, {"A", 0.12}, {"B", 0.09}, {"V1", v1}};
    json forward = common;
    forward.update({{"SIGMA_SOIL", dir.file("soil.tif")}, {"OUTPUT_UNIT", "linear"}, {"OUTPUT", dir.file("total.tif")}});
    run_command("watercloudforward", forward);
    json inverse = common;
    inverse.update({{"SIGMA0", dir.file("total.tif")}, {"SIGMA0_UNIT", "linear"}, {"OUTPUT", dir.file("back.tif")},
                    {"ATTENUATION_OUTPUT", dir.file("gamma.tif")}, {"VEGETATION_OUTPUT", dir.file("veg.tif")}});
    const auto run = run_command("watercloudinversion", inverse);
    const auto back = read_raster(dir.file("back.tif"));
    const auto gamma = read_raster(dir.file("gamma.tif"));
    for (int i = 0; i < 12; ++i) {
      INFO("pixel " << i << " V1 " << v1);
      CHECK_THAT(back[i], WithinRel(soil[i], 1e-5f));
      CHECK_THAT(gamma[i], WithinRel(static_cast<float>(std::exp(-2.0 * 0.09 * vwc[i] / std::cos(angle[i] * kernels::kDegToRad))), 1e-5f));
    }
    CHECK(run.outputs["INVALID_PIXELS"] == 0);
    CHECK(read_raster(dir.file("veg.tif"))[0] == 0.0f);  // no vegetation, no contribution
  }
}

TEST_CASE("inversion marks σ⁰ ≤ σ⁰_veg as nodata and counts it", "[engine][wcm]") {
  TempDir dir;
  // VWC 2, θ 40°: σ⁰_veg = 0.0689374 (−11.616 dB). Totals of −12 dB and −11.616 dB are at or below it.
  write_raster(dir.file("total.tif"), {-9.0f, -12.0f, -11.0f, -30.0f, -8.0f, -8.0f, -8.0f, -8.0f, -8.0f, -8.0f, -8.0f, -8.0f});
  write_raster(dir.file("vwc.tif"), std::vector<float>(12, 2.0f));
  const auto run = run_command("watercloudinversion",
                               {{"SIGMA0", dir.file("total.tif")}, {"VWC", dir.file("vwc.tif")}, {"ANGLE", 40.0},
                                {"A", 0.12}, {"B", 0.09}, {"OUTPUT", dir.file("soil.tif")},
                                {"ATTENUATION_OUTPUT", dir.file("gamma.tif")}, {"VEGETATION_OUTPUT", dir.file("veg.tif")}});
  const auto soil = read_raster(dir.file("soil.tif"));
  // γ² is defined wherever the inputs are; the vegetation contribution only where σ⁰_soil is.
  CHECK_THAT(read_raster(dir.file("gamma.tif"))[1], WithinRel(0.6250356f, 1e-6f));
  CHECK(read_raster(dir.file("veg.tif"))[1] == kOutputNodata);
  // −9 dB total vs −10.40376 dB soil: the vegetation adds 1.40376 dB
  CHECK_THAT(read_raster(dir.file("veg.tif"))[0], WithinRel(1.40376f, 1e-4f));
  // −9 dB: (0.125893 − 0.0689374)/0.625036 = 0.0911233 → −10.4038 dB
  CHECK_THAT(soil[0], WithinRel(-10.40376f, 1e-4f));
  CHECK(soil[1] == kOutputNodata);
  CHECK(soil[3] == kOutputNodata);
  CHECK(soil[2] != kOutputNodata);  // −11 dB = 0.0794 > 0.0689
  CHECK(run.outputs["INVALID_PIXELS"] == 2);
}

TEST_CASE("inputs on another grid or CRS are aligned to the reference and logged", "[engine][align]") {
  TempDir dir;
  GridSpec fine{8, 8, 500000.0, 4650000.0, 20.0, 32632};
  GridSpec coarse{4, 4, 500000.0, 4650000.0, 40.0, 32632};
  write_raster(dir.file("fine.tif"), std::vector<float>(64, 240.0f), fine);
  write_raster(dir.file("coarse.tif"), std::vector<float>(16, 260.0f), coarse);
  const auto run = run_command("mpdi", {{"TBV", dir.file("coarse.tif")}, {"TBH", dir.file("fine.tif")},
                                        {"REFERENCE", "TBH"}, {"RESAMPLING", "nearest"}, {"OUTPUT", dir.file("m.tif")}});
  CHECK_THAT(run.lines, Contains("TBV: aligned to the grid of TBH") && Contains("nearest"));
  const auto values = read_raster(dir.file("m.tif"));
  REQUIRE(values.size() == 64);
  for (float v : values) CHECK_THAT(v, WithinRel(20.0f / 500.0f, 1e-6f));

  // Same area in geographic coordinates: the output still has the reference's grid.
  GridSpec geographic{8, 8, 9.0, 42.0, 0.0005, 4326};
  write_raster(dir.file("geo.tif"), std::vector<float>(64, 260.0f), geographic);
  // Inside the geographic raster's footprint (42°N at 9°E is northing 4649776): x 500000–500120, y 4649580–4649700.
  GridSpec utm{6, 6, 500000.0, 4649700.0, 20.0, 32632};
  write_raster(dir.file("utm.tif"), std::vector<float>(36, 240.0f), utm);
  const auto reprojected = run_command("mpdi", {{"TBV", dir.file("geo.tif")}, {"TBH", dir.file("utm.tif")},
                                                {"REFERENCE", "TBH"}, {"OUTPUT", dir.file("r.tif")}});
  CHECK_THAT(reprojected.lines, Contains("EPSG:4326"));
  const auto aligned = read_raster(dir.file("r.tif"));
  REQUIRE(aligned.size() == 36);
  for (float v : aligned) CHECK_THAT(v, WithinRel(20.0f / 500.0f, 1e-6f));

  // 100 m further north the geographic raster is not under the grid at all: an error, not 36 nodata pixels.
  GridSpec north{6, 6, 500000.0, 4649900.0, 20.0, 32632};
  write_raster(dir.file("north.tif"), std::vector<float>(36, 240.0f), north);
  CHECK_THROWS_WITH(run_command("mpdi", {{"TBV", dir.file("geo.tif")}, {"TBH", dir.file("north.tif")},
                                         {"REFERENCE", "TBH"}, {"OUTPUT", dir.file("n.tif")}}),
                    Contains("TBV: '" + dir.file("geo.tif") + "' does not overlap the grid of TBH"));
}

TEST_CASE("a cancelled run writes nothing and keeps the previous output", "[engine][cancel]") {
  TempDir dir;
  write_raster(dir.file("in.tif"), std::vector<float>(12, 0.5f));
  { std::ofstream(dir.file("out.tif")) << "previous result"; }
  CancelToken cancel;
  cancel.request();
  CHECK_THROWS_AS(run_command("backscatterconversion", {{"INPUT", dir.file("in.tif")}, {"DIRECTION", "linear_to_db"},
                                                        {"OUTPUT", dir.file("out.tif")}}, &cancel),
                  Cancelled);
  CHECK_FALSE(has_partial_file(dir));
  CHECK(first_line(dir.file("out.tif")) == "previous result");
}

TEST_CASE("bad inputs name the parameter", "[engine][errors]") {
  TempDir dir;
  write_raster(dir.file("in.tif"), std::vector<float>(12, 0.5f));
  { std::ofstream(dir.file("table.csv")) << "a,b\n1,2\n"; }
  const auto fails_with = [&](const json& parameters, const std::string& text, const std::string& command = "mpdi") {
    INFO(parameters.dump());
    CHECK_THROWS_WITH(run_command(command, parameters), Contains(text));
    CHECK_FALSE(has_partial_file(dir));
  };
  const json good_tbh = dir.file("in.tif");
  fails_with({{"TBV", dir.file("missing.tif")}, {"TBH", good_tbh}, {"OUTPUT", dir.file("o.tif")}}, "TBV: cannot open");
  fails_with({{"TBV", dir.file("table.csv")}, {"TBH", good_tbh}, {"OUTPUT", dir.file("o.tif")}}, "TBV:");
  fails_with({{"TBV", raster(dir.file("in.tif"), 3)}, {"TBH", good_tbh}, {"OUTPUT", dir.file("o.tif")}},
             "Invalid band number for TBV (3)");
  fails_with({{"TBV", good_tbh}, {"TBH", good_tbh}, {"OUTPUT", dir.file("nofolder/o.tif")}}, "does not exist");
  fails_with({{"TBV", good_tbh}, {"TBH", good_tbh}, {"OUTPUT", dir.file("o.xyz")}}, "OUTPUT: smr cannot write Float32 rasters as '.xyz'");
  fails_with({{"TBV", good_tbh}, {"TBH", good_tbh}, {"OUTPUT", dir.file("in.tif")}}, "is the input");
  fails_with({{"TBV", good_tbh}, {"TBH", good_tbh}, {"THREADS", -1}, {"OUTPUT", dir.file("o.tif")}}, "THREADS");
  fails_with({{"TBV", good_tbh}, {"TBH", good_tbh}, {"RESAMPLING", "magic"}, {"OUTPUT", dir.file("o.tif")}},
             "RESAMPLING is 'magic'");
  fails_with({{"TBV", good_tbh}, {"TBH", good_tbh}, {"CREATE_OPTIONS", "COMPRESS"}, {"OUTPUT", dir.file("o.tif")}},
             "CREATE_OPTIONS");
  fails_with({{"TBV", good_tbh}, {"TBH", good_tbh}, {"REFERENCE", "XX"}, {"OUTPUT", dir.file("o.tif")}}, "REFERENCE");
  fails_with({{"INDEX", "ndxx"}, {"OUTPUT", dir.file("o.tif")}}, "INDEX is 'ndxx'", "spectralindex");
  fails_with({{"INDEX", "ndvi"}, {"NIR", good_tbh}, {"OUTPUT", dir.file("o.tif")}}, "RED is required", "spectralindex");
  fails_with({{"INPUT", good_tbh}, {"MODEL", "polynomial"}, {"OUTPUT", dir.file("o.tif")}}, "COEFFICIENTS",
             "vegetationwatercontent");
  fails_with({{"SIGMA0", good_tbh}, {"VWC", good_tbh}, {"ANGLE", 95}, {"A", 0.1}, {"B", 0.1}, {"OUTPUT", dir.file("o.tif")}},
             "ANGLE is 95", "watercloudinversion");
  fails_with({{"SIGMA0", good_tbh}, {"VWC", good_tbh}, {"ANGLE", 40}, {"A", -0.1}, {"B", 0.1}, {"OUTPUT", dir.file("o.tif")}},
             "A is -0.1", "watercloudinversion");
}

TEST_CASE("the sample scene is consistent with its truth", "[samplescene]") {
  TempDir dir;
  const std::string folder = dir.file("scene");
  const auto run = run_command("samplescene", {{"OUTPUT_DIR", folder}, {"WIDTH", 300}, {"HEIGHT", 200}, {"POINTS", 10}});
  const auto sm = read_raster(folder + "/truth_soil_moisture.tif");
  const auto soil_vv = read_raster(folder + "/truth_sigma_soil_vv_db.tif");
  for (std::size_t p = 0; p < sm.size(); p += 97) CHECK_THAT(soil_vv[p], WithinRel(-17.0f + 28.0f * sm[p], 1e-5f));  // 002 eq. 3

  // Inverting the speckled σ⁰ with the true VWC gives back the soil term on average (unit-mean speckle).
  run_command("watercloudinversion", {{"SIGMA0", folder + "/sigma0_vv_db.tif"}, {"VWC", folder + "/truth_vwc.tif"},
                                      {"ANGLE", folder + "/incidence_angle.tif"}, {"A", 0.12}, {"B", 0.09},
                                      {"OUTPUT_UNIT", "linear"}, {"OUTPUT", dir.file("soil.tif")}});
  const auto retrieved = read_raster(dir.file("soil.tif"));
  double retrieved_sum = 0.0, truth_sum = 0.0;
  for (std::size_t p = 0; p < retrieved.size(); ++p) {
    if (retrieved[p] == kOutputNodata) continue;
    retrieved_sum += retrieved[p];
    truth_sum += kernels::db_to_linear(soil_vv[p]);
  }
  CHECK_THAT(retrieved_sum / truth_sum, WithinRel(1.0, 0.03));

  // Emission: vertical polarisation is always warmer than horizontal, both physical.
  const auto tbv = read_raster(folder + "/brightness_temperature_v.tif");
  const auto tbh = read_raster(folder + "/brightness_temperature_h.tif");
  REQUIRE(tbv.size() == 10 * 7);  // 6 km × 4 km at 600 m
  for (std::size_t p = 0; p < tbv.size(); ++p) {
    CHECK(tbv[p] > tbh[p]);
    CHECK(tbh[p] > 100.0f);
    CHECK(tbv[p] < 330.0f);
  }
  CHECK(run.outputs.contains("INSITU"));
}

// Regression: outputs of one run in formats with different block layouts (GeoTIFF 256², HFA 64²,
// strips) were written with the first output's block size.
TEST_CASE("outputs in different formats and layouts hold the same values", "[engine][formats]") {
  TempDir dir;
  std::vector<float> total, vwc;
  GridSpec grid{700, 300, 500000.0, 4650000.0, 20.0, 32632};
  for (int i = 0; i < grid.width * grid.height; ++i) {
    total.push_back(-12.0f + 4.0f * std::sin(0.001f * i));
    vwc.push_back(1.5f + std::cos(0.0007f * i));
  }
  write_raster(dir.file("total.tif"), total, grid);
  write_raster(dir.file("vwc.tif"), vwc, grid);
  const auto run = [&](const std::string& soil, const std::string& veg, const json& options) {
    json parameters = {{"SIGMA0", dir.file("total.tif")}, {"VWC", dir.file("vwc.tif")}, {"ANGLE", 38.0},
                       {"A", 0.12}, {"B", 0.09}, {"OUTPUT", dir.file(soil)}, {"VEGETATION_OUTPUT", dir.file(veg)}};
    if (!options.is_null()) parameters["CREATE_OPTIONS"] = options;
    run_command("watercloudinversion", parameters);
  };
  run("soil.tif", "veg.tif", nullptr);
  run("soil_a.tif", "veg_a.img", nullptr);
  run("soil_b.img", "veg_b.tif", nullptr);
  run("soil_c.tif", "veg_c.tif", {"TILED=NO", "COMPRESS=DEFLATE"});
  const auto soil = read_raster(dir.file("soil.tif")), veg = read_raster(dir.file("veg.tif"));
  CHECK(read_raster(dir.file("soil_a.tif")) == soil);
  CHECK(read_raster(dir.file("veg_a.img")) == veg);
  CHECK(read_raster(dir.file("soil_b.img")) == soil);
  CHECK(read_raster(dir.file("veg_b.tif")) == veg);
  CHECK(read_raster(dir.file("soil_c.tif")) == soil);
  CHECK(read_raster(dir.file("veg_c.tif")) == veg);
}

// Regression: two outputs with the same path overwrote each other and lost the previous file.
TEST_CASE("two outputs may not share a file", "[engine][errors]") {
  TempDir dir;
  write_raster(dir.file("in.tif"), std::vector<float>(12, -10.0f));
  { std::ofstream(dir.file("out.tif")) << "previous result"; }
  CHECK_THROWS_WITH(run_command("watercloudinversion", {{"SIGMA0", dir.file("in.tif")}, {"VWC", dir.file("in.tif")},
                                                        {"ANGLE", 40}, {"A", 0.1}, {"B", 0.1},
                                                        {"OUTPUT", dir.file("out.tif")},
                                                        {"VEGETATION_OUTPUT", dir.file("./out.tif")}}),
                    Contains("is also OUTPUT"));
  CHECK(first_line(dir.file("out.tif")) == "previous result");
}

TEST_CASE("a finished run replaces the previous output and leaves nothing beside it", "[engine]") {
  TempDir dir;
  write_raster(dir.file("in.tif"), std::vector<float>(12, 0.01f));
  { std::ofstream(dir.file("out.tif")) << "previous result"; }
  run_command("backscatterconversion", {{"INPUT", dir.file("in.tif")}, {"DIRECTION", "linear_to_db"},
                                        {"OUTPUT", dir.file("out.tif")}});
  CHECK_THAT(read_raster(dir.file("out.tif"))[0], WithinRel(-20.0f, 1e-6f));
  CHECK(dir.entries().size() == 2);  // in.tif and out.tif only
}
