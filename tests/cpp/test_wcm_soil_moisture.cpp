// Soil moisture from the water cloud model (paper 002 eq. 6), the SOIL_MOISTURE_OUTPUT of
// smr watercloudinversion: SM = (10·log10((σ⁰ − σ⁰_veg)/γ²) − C)/D.
#include "support.hpp"

#include "smr/kernels.hpp"

#include <catch2/catch.hpp>

#include <cmath>

using namespace smr;
using namespace smr::test;
using Catch::Matchers::Contains;
using Catch::Matchers::WithinAbs;
using Catch::Matchers::WithinRel;

namespace {

// Eq. 6 written out independently of the core's kernels: NaN where σ⁰ ≤ σ⁰_veg.
double eq6(double total, bool total_db, double vwc, double angle_deg, bool v1_is_vwc, double c, double d,
           double a = 0.12, double b = 0.09) {
  const double cos_theta = std::cos(angle_deg * 3.14159265358979323846 / 180.0);
  const double attenuation = std::exp(-2.0 * b * vwc / cos_theta);
  const double vegetation = a * (v1_is_vwc ? vwc : 1.0) * cos_theta * (1.0 - attenuation);
  const double total_linear = total_db ? std::pow(10.0, total / 10.0) : total;
  if (total_linear <= vegetation) return std::nan("");
  return (10.0 * std::log10((total_linear - vegetation) / attenuation) - c) / d;
}

json inversion(const TempDir& dir, const std::string& v1, const json& angle) {
  return {{"SIGMA0", dir.file("total.tif")}, {"VWC", dir.file("vwc.tif")}, {"ANGLE", angle},
          {"A", 0.12}, {"B", 0.09}, {"V1", v1}, {"OUTPUT", dir.file("soil.tif")},
          {"SOIL_MOISTURE_OUTPUT", dir.file("sm.tif")}, {"C", -17.0}, {"D", 28.0}};
}

}  // namespace

TEST_CASE("eq. 6 on σ⁰ in dB with a constant θ, both V1 conventions", "[wcm_soil_moisture][radar]") {
  TempDir dir;
  // Pixel 0: σ⁰ −9 dB, VWC 2; pixel 1: −12 dB, VWC 0.5; the rest −10 dB, VWC 1; θ 40°.
  std::vector<float> total(12, -10.0f), vwc(12, 1.0f);
  total[0] = -9.0f, vwc[0] = 2.0f;
  total[1] = -12.0f, vwc[1] = 0.5f;
  write_raster(dir.file("total.tif"), total);
  write_raster(dir.file("vwc.tif"), vwc);
  // Hand-computed, A 0.12, B 0.09, C −17 dB, D 28 dB per m³/m³:
  //   pixel 0: γ² = exp(−2·0.09·2/cos40°) = 0.6250356; σ⁰ = 0.1258925;
  //     V1 = VWC: σ⁰_veg = 0.12·2·cos40°·(1 − γ²) = 0.0689374, σ⁰_soil = 0.0911233 = −10.403722 dB,
  //               SM = (−10.403722 + 17)/28 = 0.2355814
  //     V1 = 1:   σ⁰_veg = 0.0344687, σ⁰_soil = −8.348454 dB, SM = 0.3089838
  //   pixel 1: γ² = 0.8891524; V1 = VWC: σ⁰_veg = 0.0050949, σ⁰_soil = −11.855416 dB, SM = 0.1837351;
  //            V1 = 1: σ⁰_veg = 0.0101897, σ⁰_soil = −12.254710 dB, SM = 0.1694746
  const std::vector<std::pair<std::string, std::pair<float, float>>> expected = {
      {"vwc", {0.2355814f, 0.1837351f}}, {"one", {0.3089838f, 0.1694746f}}};
  for (const auto& [v1, values] : expected) {
    INFO("V1 " << v1);
    const auto run = run_command("watercloudinversion", inversion(dir, v1, 40.0));
    const auto sm = read_raster(dir.file("sm.tif"));
    const auto soil = read_raster(dir.file("soil.tif"));
    CHECK_THAT(sm[0], WithinRel(values.first, 2e-6f));
    CHECK_THAT(sm[1], WithinRel(values.second, 2e-6f));
    for (std::size_t p = 0; p < sm.size(); ++p) {
      INFO("pixel " << p);
      CHECK_THAT(sm[p], WithinAbs(eq6(total[p], true, vwc[p], 40.0, v1 == "vwc", -17.0, 28.0), 1e-6));
      // One computation: the soil-moisture map is eq. 3 inverted on the σ⁰_soil written beside it.
      CHECK_THAT(sm[p], WithinAbs((soil[p] + 17.0) / 28.0, 1e-6));
    }
    CHECK(run.outputs["SOIL_MOISTURE_OUTPUT"] == dir.file("sm.tif"));
    CHECK(run.outputs["INVALID_PIXELS"] == 0);
    CHECK(run.outputs["SM_BELOW_PIXELS"] == 0);
    CHECK(run.outputs["SM_ABOVE_PIXELS"] == 0);
    CHECK(run.outputs["CLAMPED_PIXELS"] == 0);
  }
}

TEST_CASE("eq. 6 on linear σ⁰ with a θ raster; σ⁰ ≤ σ⁰_veg is nodata and counted", "[wcm_soil_moisture][radar]") {
  TempDir dir;
  const double nodata = -1.0;
  // Pixel 0: σ⁰ 0.05, VWC 0.5, θ 35°; pixel 1: 0.1, VWC 1.5, θ 25°; pixel 2: 0.02, VWC 3, θ 35°, below
  // σ⁰_veg (0.1155 with V1 = VWC, 0.0385 with V1 = 1); pixel 3: VWC nodata; the rest as pixel 0.
  std::vector<float> total(12, 0.05f), vwc(12, 0.5f), angle(12, 35.0f);
  total[1] = 0.1f, vwc[1] = 1.5f, angle[1] = 25.0f;
  total[2] = 0.02f, vwc[2] = 3.0f;
  vwc[3] = -1.0f;
  write_raster(dir.file("total.tif"), total);
  write_raster(dir.file("vwc.tif"), vwc, {}, &nodata);
  write_raster(dir.file("angle.tif"), angle);
  // Hand-computed, C −17, D 28: pixel 0 γ² = 0.8959509; V1 = VWC: σ⁰_veg = 0.0051139, σ⁰_soil =
  // −13.001725 dB, SM 0.1427955; V1 = 1: σ⁰_veg = 0.0102278, −13.527051 dB, SM 0.1240339.
  // Pixel 1 γ² = 0.7423666; V1 = VWC: σ⁰_veg = 0.0420291, −11.074086 dB, SM 0.2116398;
  // V1 = 1: σ⁰_veg = 0.0280194, −10.134031 dB, SM 0.2452132.
  const std::vector<std::pair<std::string, std::pair<float, float>>> expected = {
      {"vwc", {0.1427955f, 0.2116398f}}, {"one", {0.1240339f, 0.2452132f}}};
  for (const auto& [v1, values] : expected) {
    INFO("V1 " << v1);
    json parameters = inversion(dir, v1, dir.file("angle.tif"));
    parameters["SIGMA0_UNIT"] = "linear";
    parameters["OUTPUT_UNIT"] = "linear";  // SM needs σ⁰_soil in dB whatever unit OUTPUT is written in
    const auto run = run_command("watercloudinversion", parameters);
    const auto sm = read_raster(dir.file("sm.tif"));
    CHECK_THAT(sm[0], WithinRel(values.first, 2e-6f));
    CHECK_THAT(sm[1], WithinRel(values.second, 2e-6f));
    CHECK(sm[2] == kOutputNodata);
    CHECK(read_raster(dir.file("soil.tif"))[2] == kOutputNodata);
    CHECK(sm[3] == kOutputNodata);
    for (std::size_t p = 4; p < sm.size(); ++p)
      CHECK_THAT(sm[p], WithinAbs(eq6(total[p], false, vwc[p], angle[p], v1 == "vwc", -17.0, 28.0), 1e-6));
    CHECK(run.outputs["INVALID_PIXELS"] == 1);  // σ⁰ ≤ σ⁰_veg, counted once, not as out of range
    CHECK(run.outputs["NODATA_PIXELS"] == 1);
    CHECK(run.outputs["VALID_PIXELS"] == 10);
    CHECK(run.outputs["SM_BELOW_PIXELS"] == 0);
    CHECK(run.outputs["SM_ABOVE_PIXELS"] == 0);
  }
  // Other C and D: V1 = 1, pixel 0 with C −15, D 40: (−13.527051 + 15)/40 = 0.0368237.
  json parameters = inversion(dir, "one", dir.file("angle.tif"));
  parameters.update({{"SIGMA0_UNIT", "linear"}, {"C", -15.0}, {"D", 40.0}});
  run_command("watercloudinversion", parameters);
  CHECK_THAT(read_raster(dir.file("sm.tif"))[0], WithinRel(0.0368237f, 5e-6f));
}

TEST_CASE("SM outside [0, SM_MAX] is counted, and clamped only when asked", "[wcm_soil_moisture][radar]") {
  TempDir dir;
  // No vegetation: σ⁰_soil = σ⁰. C −17, D 28: −25 dB → −0.2857 (below), −20 dB → −0.1071 (below),
  // −3 dB → 0.5 (above SM_MAX 0.4), −17 dB → 0 (inside), the rest −10 dB → 0.25 (inside).
  std::vector<float> total(12, -10.0f);
  total[0] = -25.0f, total[1] = -20.0f, total[2] = -3.0f, total[3] = -17.0f;
  write_raster(dir.file("total.tif"), total);
  write_raster(dir.file("vwc.tif"), std::vector<float>(12, 0.0f));
  json parameters = inversion(dir, "vwc", 40.0);
  parameters["SM_MAX"] = 0.4;

  const auto kept = run_command("watercloudinversion", parameters);
  auto sm = read_raster(dir.file("sm.tif"));
  CHECK_THAT(sm[0], WithinRel(-8.0f / 28.0f, 1e-6f));
  CHECK_THAT(sm[1], WithinRel(-3.0f / 28.0f, 1e-6f));
  CHECK_THAT(sm[2], WithinRel(0.5f, 1e-6f));
  CHECK(sm[3] == 0.0f);
  CHECK_THAT(sm[4], WithinRel(0.25f, 1e-6f));
  CHECK(kept.outputs["SM_BELOW_PIXELS"] == 2);
  CHECK(kept.outputs["SM_ABOVE_PIXELS"] == 1);
  CHECK(kept.outputs["CLAMPED_PIXELS"] == 0);
  CHECK(kept.outputs["INVALID_PIXELS"] == 0);
  CHECK(kept.outputs["VALID_PIXELS"] == 12);
  CHECK_THAT(kept.lines, Contains("2 pixels have SM < 0") && Contains("written as computed"));

  parameters["CLAMP"] = true;
  const auto clamped = run_command("watercloudinversion", parameters);
  sm = read_raster(dir.file("sm.tif"));
  CHECK(sm[0] == 0.0f);
  CHECK(sm[1] == 0.0f);
  CHECK(sm[2] == 0.4f);
  CHECK_THAT(sm[4], WithinRel(0.25f, 1e-6f));
  CHECK(clamped.outputs["SM_BELOW_PIXELS"] == 2);
  CHECK(clamped.outputs["SM_ABOVE_PIXELS"] == 1);
  CHECK(clamped.outputs["CLAMPED_PIXELS"] == 3);
  // The soil σ⁰ itself is never clamped.
  CHECK_THAT(read_raster(dir.file("soil.tif"))[2], WithinRel(-3.0f, 1e-6f));

  // The default SM_MAX is 0.6: −3 dB (0.5) is inside it.
  parameters.erase("SM_MAX");
  const auto by_default = run_command("watercloudinversion", parameters);
  CHECK(by_default.outputs["SM_ABOVE_PIXELS"] == 0);
  CHECK_THAT(read_raster(dir.file("sm.tif"))[2], WithinRel(0.5f, 1e-6f));
}

TEST_CASE("watercloudforward of a known SM, then eq. 6, returns the SM", "[wcm_soil_moisture][radar]") {
  TempDir dir;
  const double c = -17.0, d = 28.0;
  std::vector<float> moisture, soil_db, vwc, angle;
  for (int i = 0; i < 12; ++i) {
    moisture.push_back(0.05f + 0.035f * i);
    soil_db.push_back(static_cast<float>(c + d * moisture.back()));  // paper 002 eq. 3
    vwc.push_back(0.3f * i);
    angle.push_back(28.0f + 1.5f * i);
  }
  write_raster(dir.file("soil_in.tif"), soil_db);
  write_raster(dir.file("vwc.tif"), vwc);
  write_raster(dir.file("angle.tif"), angle);
  for (const std::string v1 : {"vwc", "one"})
    for (const std::string unit : {"linear", "db"}) {
      INFO("V1 " << v1 << ", σ⁰ in " << unit);
      const json common = {{"VWC", dir.file("vwc.tif")}, {"ANGLE", dir.file("angle.tif")}, {"A", 0.12},
                           {"B", 0.09}, {"V1", v1}};
      json forward = common;
      forward.update({{"SIGMA_SOIL", dir.file("soil_in.tif")}, {"OUTPUT_UNIT", unit}, {"OUTPUT", dir.file("total.tif")}});
      run_command("watercloudforward", forward);
      json inverse = common;
      inverse.update({{"SIGMA0", dir.file("total.tif")}, {"SIGMA0_UNIT", unit}, {"OUTPUT", dir.file("soil.tif")},
                      {"SOIL_MOISTURE_OUTPUT", dir.file("sm.tif")}, {"C", c}, {"D", d}});
      const auto run = run_command("watercloudinversion", inverse);
      const auto sm = read_raster(dir.file("sm.tif"));
      for (std::size_t p = 0; p < sm.size(); ++p) {
        INFO("pixel " << p);
        CHECK_THAT(sm[p], WithinAbs(moisture[p], 1e-5));
      }
      CHECK(run.outputs["INVALID_PIXELS"] == 0);
      CHECK(run.outputs["SM_BELOW_PIXELS"] == 0);
      CHECK(run.outputs["SM_ABOVE_PIXELS"] == 0);
    }
}

TEST_CASE("soil moisture and its counts are the same for 1 and 2 threads", "[wcm_soil_moisture][radar]") {
  TempDir dir;
  GridSpec grid{600, 300, 500000.0, 4650000.0, 20.0, 32632};
  std::vector<float> total, vwc;
  for (int i = 0; i < grid.width * grid.height; ++i) {
    total.push_back(-14.0f + 11.0f * std::sin(0.0013f * i));  // −25 to −3 dB: some SM < 0, some > 0.4
    vwc.push_back(1.2f + std::cos(0.0009f * i));
  }
  write_raster(dir.file("total.tif"), total, grid);
  write_raster(dir.file("vwc.tif"), vwc, grid);
  json parameters = inversion(dir, "one", 38.0);
  parameters["SM_MAX"] = 0.4;
  parameters["THREADS"] = 1;
  const auto one = run_command("watercloudinversion", parameters);
  const auto sm_one = read_raster(dir.file("sm.tif"));
  parameters["THREADS"] = 2;
  parameters["SOIL_MOISTURE_OUTPUT"] = dir.file("sm2.tif");
  parameters["OUTPUT"] = dir.file("soil2.tif");
  const auto two = run_command("watercloudinversion", parameters);
  CHECK(read_raster(dir.file("sm2.tif")) == sm_one);
  for (const char* key : {"INVALID_PIXELS", "VALID_PIXELS", "SM_BELOW_PIXELS", "SM_ABOVE_PIXELS"})
    CHECK(one.outputs[key] == two.outputs[key]);
  CHECK(one.outputs["SM_BELOW_PIXELS"].get<long long>() > 0);
  CHECK(one.outputs["SM_ABOVE_PIXELS"].get<long long>() > 0);
  CHECK(one.outputs["INVALID_PIXELS"].get<long long>() > 0);
}

TEST_CASE("the soil-moisture parameters are checked and tied to SOIL_MOISTURE_OUTPUT", "[wcm_soil_moisture][radar]") {
  TempDir dir;
  write_raster(dir.file("total.tif"), std::vector<float>(12, -10.0f));
  write_raster(dir.file("vwc.tif"), std::vector<float>(12, 1.0f));
  const json good = inversion(dir, "vwc", 40.0);
  const auto fails_with = [&](json parameters, const std::vector<std::string>& texts) {
    INFO(parameters.dump());
    try {
      run_command("watercloudinversion", parameters);
      FAIL("no error");
    } catch (const InputError& error) {
      for (const auto& text : texts) CHECK_THAT(error.what(), Contains(text));
    }
    CHECK(dir.entries().size() == 2);  // nothing written
  };
  json missing_c = good;
  missing_c.erase("C");
  fails_with(missing_c, {"C is required when SOIL_MOISTURE_OUTPUT is given"});
  json missing_d = good;
  missing_d["D"] = nullptr;
  fails_with(missing_d, {"D is required when SOIL_MOISTURE_OUTPUT is given"});
  json zero_d = good;
  zero_d["D"] = 0;
  fails_with(zero_d, {"D is 0", "≠ 0"});
  json text_c = good;
  text_c["C"] = "-17";
  fails_with(text_c, {"C must be a number"});
  for (const double bad : {0.0, -0.1, 1.5}) {
    json parameters = good;
    parameters["SM_MAX"] = bad;
    fails_with(parameters, {"SM_MAX is", "greater than 0 and at most 1"});
  }
  json clamp_text = good;
  clamp_text["CLAMP"] = "yes";
  fails_with(clamp_text, {"CLAMP must be true or false"});
  // Without the output, C, D, SM_MAX and CLAMP would do nothing: an error naming both.
  for (const std::string key : {"C", "D", "SM_MAX", "CLAMP"}) {
    json parameters = {{"SIGMA0", dir.file("total.tif")}, {"VWC", dir.file("vwc.tif")}, {"ANGLE", 40.0},
                       {"A", 0.12}, {"B", 0.09}, {"OUTPUT", dir.file("soil.tif")}};
    parameters[key] = key == "CLAMP" ? json(true) : json(0.3);
    fails_with(parameters, {key + " applies to the soil-moisture output only", "SOIL_MOISTURE_OUTPUT"});
  }
}

TEST_CASE("without SOIL_MOISTURE_OUTPUT the inversion is as before and its SM counts are null", "[wcm_soil_moisture][radar]") {
  TempDir dir;
  write_raster(dir.file("total.tif"), std::vector<float>(12, -10.0f));
  write_raster(dir.file("vwc.tif"), std::vector<float>(12, 1.0f));
  // The plugin sends an unset optional output and unset numbers as null.
  const auto run = run_command("watercloudinversion",
                               {{"SIGMA0", dir.file("total.tif")}, {"VWC", dir.file("vwc.tif")}, {"ANGLE", 40.0},
                                {"A", 0.12}, {"B", 0.09}, {"OUTPUT", dir.file("soil.tif")},
                                {"SOIL_MOISTURE_OUTPUT", nullptr}, {"C", nullptr}, {"D", nullptr}});
  CHECK(run.outputs["SM_BELOW_PIXELS"].is_null());
  CHECK(run.outputs["SM_ABOVE_PIXELS"].is_null());
  CHECK(run.outputs["CLAMPED_PIXELS"].is_null());
  CHECK_FALSE(run.outputs.contains("SOIL_MOISTURE_OUTPUT"));
  CHECK(dir.entries().size() == 3);
  // A negative slope is allowed, with a warning.
  json negative = inversion(dir, "vwc", 40.0);
  negative["D"] = -28.0;
  CHECK_THAT(run_command("watercloudinversion", negative).lines, Contains("D is -28"));
}
