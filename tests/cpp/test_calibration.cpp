// smr calibratewatercloud (paper 002 eq. 1-6) and the shared cross-validation folds.
#include "support.hpp"

#include "smr/cross_validation.hpp"
#include "smr/kernels.hpp"
#include "smr/water_cloud_calibration.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>
#include <random>
#include <set>

using namespace smr;
using Catch::Matchers::WithinAbs;
using Catch::Matchers::WithinRel;

namespace {

const WaterCloudValues kTruth = {0.15, 0.12, -17.0, 25.0};

// Samples of the model itself: VWC 0-4 kg/m², θ 30-45°, SM 0.05-0.45; σ⁰ (linear) from eq. 1-5 with
// `sigma0_noise_db` of Gaussian noise in dB, and `sm_noise` added to the in-situ SM afterwards.
std::vector<WaterCloudSample> synthetic(int count, const WaterCloudValues& p, bool v1_is_vwc, double sigma0_noise_db,
                                        double sm_noise, std::uint64_t seed) {
  std::mt19937_64 random(seed);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::vector<WaterCloudSample> samples;
  for (int i = 0; i < count; ++i) {
    WaterCloudSample s;
    s.vwc = 4.0 * unit(random);
    s.angle = 30.0 + 15.0 * unit(random);
    s.soil_moisture = 0.05 + 0.4 * unit(random);
    s.sigma0 = kernels::db_to_linear(water_cloud_sigma0_db(p, v1_is_vwc, s) + sigma0_noise_db * normal(random));
    s.soil_moisture += sm_noise * normal(random);
    samples.push_back(s);
  }
  return samples;
}

std::vector<Eigen::Index> all_of(const std::vector<WaterCloudSample>& samples) {
  std::vector<Eigen::Index> indices(samples.size());
  for (std::size_t i = 0; i < samples.size(); ++i) indices[i] = static_cast<Eigen::Index>(i);
  return indices;
}

WaterCloudFitSettings free_fit(bool v1_is_vwc, WaterCloudObjective objective) {
  WaterCloudFitSettings settings;
  settings.fixed = {false, false, false, false};
  settings.initial = {0.1, 0.084, 0.0, 0.0};
  settings.given = {true, true, false, false};
  settings.v1_is_vwc = v1_is_vwc;
  settings.objective = objective;
  settings.starts = 5;
  settings.seed = 3;
  return settings;
}

json samples_json(const std::vector<WaterCloudSample>& samples, bool db, const std::vector<std::string>& groups = {}) {
  json sigma0 = json::array(), vwc = json::array(), sm = json::array(), angle = json::array();
  for (const auto& s : samples) {
    sigma0.push_back(db ? kernels::linear_to_db(s.sigma0) : s.sigma0);
    vwc.push_back(s.vwc);
    sm.push_back(s.soil_moisture);
    angle.push_back(s.angle);
  }
  json table = {{"sigma0", sigma0}, {"vwc", vwc}, {"soil_moisture", sm}, {"angle", angle}};
  if (!groups.empty()) table["groups"] = groups;
  return table;
}

std::vector<std::string> station_groups(std::size_t count, int stations) {
  std::vector<std::string> groups;
  for (std::size_t i = 0; i < count; ++i) groups.push_back("station " + std::to_string(i % stations));
  return groups;
}

std::string message_of(const std::string& command, const json& parameters) {
  try {
    test::run_command(command, parameters);
  } catch (const InputError& error) {
    return error.what();
  }
  return "";
}

}  // namespace

TEST_CASE("eq. 6 against hand-computed values, both V1 conventions", "[calibration]") {
  // A 0.12, B 0.084, C -18 dB, D 30 dB per m³/m³; θ 40°, VWC 1.5 kg/m², σ⁰ -12 dB = 0.0630957 linear.
  // cos 40° = 0.766044443; γ² = exp(-2·0.084·1.5/0.766044443) = exp(-0.328963) = 0.719669905.
  // V1 = 1:   σ⁰_veg = 0.12·1·0.766044443·(1 - 0.719669905) = 0.0257694374;
  //           σ⁰_soil = (0.0630957 - 0.0257694)/0.719670 = 0.0518658580 = -12.8511843 dB;
  //           SM = (-12.8511843 + 18)/30 = 0.171627189.
  // V1 = VWC: σ⁰_veg = 0.0386541560; σ⁰_soil = 0.0339622072 = -14.6900409 dB; SM = 0.110331969.
  const WaterCloudValues p = {0.12, 0.084, -18.0, 30.0};
  WaterCloudSample s;
  s.sigma0 = kernels::db_to_linear(-12.0);
  s.vwc = 1.5;
  s.angle = 40.0;
  CHECK_THAT(water_cloud_soil_moisture(p, false, s), WithinRel(0.17162718881753591, 1e-12));
  CHECK_THAT(water_cloud_soil_moisture(p, true, s), WithinRel(0.11033196896771452, 1e-12));

  // eq. 1-5 forward at that SM gives the σ⁰ back (eq. 6 is their inverse).
  s.soil_moisture = water_cloud_soil_moisture(p, false, s);
  CHECK_THAT(water_cloud_sigma0_db(p, false, s), WithinAbs(-12.0, 1e-12));

  // σ⁰ at or below σ⁰_veg: undefined (NaN), never a number.
  s.sigma0 = 0.0257694374 * 0.999;
  CHECK(std::isnan(water_cloud_soil_moisture(p, false, s)));
  // D = 0: SM has no value.
  CHECK(std::isnan(water_cloud_soil_moisture({0.12, 0.084, -18.0, 0.0}, false, s)));
}

TEST_CASE("calibration recovers A, B, C, D from noise-free samples to 1e-6", "[calibration]") {
  for (const bool v1_is_vwc : {true, false})
    for (const auto objective : {WaterCloudObjective::Sigma0Db, WaterCloudObjective::SoilMoisture}) {
      INFO("V1 " << (v1_is_vwc ? "vwc" : "one") << ", objective " << (objective == WaterCloudObjective::Sigma0Db ? "sigma0" : "sm"));
      const auto samples = synthetic(60, kTruth, v1_is_vwc, 0.0, 0.0, 11);
      const WaterCloudFit fit = fit_water_cloud(samples, all_of(samples), free_fit(v1_is_vwc, objective), 0);
      for (std::size_t i = 0; i < 4; ++i) {
        INFO(kWaterCloudNames[i] << " = " << fit.value[i]);
        CHECK_THAT(fit.value[i], WithinRel(kTruth[i], 1e-6));
        CHECK(fit.standard_error[i] < 1e-6 * std::abs(kTruth[i]));
      }
      CHECK(fit.mean_squared_error < 1e-18);
      CHECK(fit.excluded == 0);
      CHECK(fit.at_bound.empty());
    }
}

TEST_CASE("calibration on noisy samples lands within 3 standard errors of the truth", "[calibration]") {
  SECTION("σ⁰ objective, 0.5 dB of noise on σ⁰") {
    const auto samples = synthetic(300, kTruth, true, 0.5, 0.0, 5);
    const WaterCloudFit fit = fit_water_cloud(samples, all_of(samples), free_fit(true, WaterCloudObjective::Sigma0Db), 0);
    for (std::size_t i = 0; i < 4; ++i) {
      INFO(kWaterCloudNames[i] << " = " << fit.value[i] << " ± " << fit.standard_error[i]);
      CHECK(std::isfinite(fit.standard_error[i]));
      CHECK(std::abs(fit.value[i] - kTruth[i]) < 3.0 * fit.standard_error[i]);
      CHECK(fit.standard_error[i] < 0.5 * std::abs(kTruth[i]));  // the data do pin them down
    }
    CHECK_THAT(std::sqrt(fit.mean_squared_error), WithinAbs(0.5, 0.06));
  }
  SECTION("SM objective (paper 002), 0.02 m³/m³ of noise on the in-situ SM, B fixed") {
    const auto samples = synthetic(300, kTruth, false, 0.0, 0.02, 6);
    WaterCloudFitSettings settings = free_fit(false, WaterCloudObjective::SoilMoisture);
    settings.fixed[1] = true;
    settings.initial[1] = kTruth[1];
    const WaterCloudFit fit = fit_water_cloud(samples, all_of(samples), settings, 0);
    CHECK(fit.value[1] == kTruth[1]);
    for (const std::size_t i : {0u, 2u, 3u}) {
      INFO(kWaterCloudNames[i] << " = " << fit.value[i] << " ± " << fit.standard_error[i]);
      CHECK(std::abs(fit.value[i] - kTruth[i]) < 3.0 * fit.standard_error[i]);
    }
    CHECK_THAT(std::sqrt(fit.mean_squared_error), WithinAbs(0.02, 0.003));
  }
}

TEST_CASE("fixed parameters keep their values and have no standard error", "[calibration]") {
  const auto samples = synthetic(80, kTruth, true, 0.3, 0.0, 8);
  WaterCloudFitSettings settings = free_fit(true, WaterCloudObjective::Sigma0Db);
  settings.fixed = {false, true, false, true};
  settings.initial = {0.1, 0.2, 0.0, 31.5};  // B and D held at values other than the truth
  settings.given = {true, true, false, true};
  const WaterCloudFit fit = fit_water_cloud(samples, all_of(samples), settings, 0);
  CHECK(fit.value[1] == 0.2);
  CHECK(fit.value[3] == 31.5);
  CHECK(std::isnan(fit.standard_error[1]));
  CHECK(std::isnan(fit.standard_error[3]));
  CHECK(std::isfinite(fit.standard_error[0]));
  CHECK(std::isfinite(fit.standard_error[2]));

  // The same seed gives the same fit; the starts are drawn from it.
  const WaterCloudFit again = fit_water_cloud(samples, all_of(samples), settings, 0);
  CHECK(again.value == fit.value);
  CHECK(again.best_start == fit.best_start);
}

TEST_CASE("the SM objective leaves out and counts samples with σ⁰ ≤ σ⁰_veg", "[calibration]") {
  auto samples = synthetic(40, kTruth, true, 0.0, 0.0, 9);
  // Three samples far below what the vegetation alone returns at the truth.
  for (const std::size_t i : {3u, 17u, 29u}) {
    samples[i].vwc = 3.5;
    samples[i].sigma0 = kernels::db_to_linear(-40.0);
  }
  WaterCloudFitSettings settings = free_fit(true, WaterCloudObjective::SoilMoisture);
  settings.fixed = {true, true, false, false};
  settings.initial = kTruth;
  const WaterCloudFit fit = fit_water_cloud(samples, all_of(samples), settings, 0);
  CHECK(fit.excluded == 3);
  CHECK(fit.fitted == 37);
  // The other samples are the model's own: C and D exact.
  CHECK_THAT(fit.value[2], WithinRel(kTruth[2], 1e-9));
  CHECK_THAT(fit.value[3], WithinRel(kTruth[3], 1e-9));
}

TEST_CASE("B runs to its bound when the samples show no attenuation", "[calibration]") {
  // No vegetation effect at all (B = 0: γ² = 1, σ⁰_veg = 0), so B falls to 0 and A has nothing to fit.
  const auto samples = synthetic(50, {0.1, 0.0, -17.0, 25.0}, true, 0.0, 0.0, 10);
  WaterCloudFitSettings settings = free_fit(true, WaterCloudObjective::Sigma0Db);
  settings.fixed = {true, false, false, false};
  const WaterCloudFit fit = fit_water_cloud(samples, all_of(samples), settings, 0);
  CHECK(fit.value[1] < kLowB);
  CHECK(std::find(fit.at_bound.begin(), fit.at_bound.end(), "B") != fit.at_bound.end());
}

TEST_CASE("K folds of whole groups: no group in two folds, every sample in one fold", "[crossvalidation]") {
  std::vector<std::string> groups;
  // 9 groups of 1 to 9 samples, interleaved.
  for (int size = 1; size <= 9; ++size)
    for (int i = 0; i < size; ++i) groups.push_back("g" + std::to_string(size));
  std::shuffle(groups.begin(), groups.end(), std::mt19937_64(4));
  const auto count = static_cast<Eigen::Index>(groups.size());  // 45
  for (const std::uint64_t seed : {1u, 2u, 99u}) {
    const Folds folds = make_folds(count, groups, {CrossValidationMethod::KFold, 4, seed}, "SAMPLES.groups");
    REQUIRE(folds.count() == 4);
    std::vector<int> seen(static_cast<std::size_t>(count), 0);
    std::map<std::string, std::set<int>> folds_of_group;
    std::size_t smallest = groups.size(), largest = 0;
    for (int k = 0; k < 4; ++k) {
      const auto& held = folds.held_out[static_cast<std::size_t>(k)];
      smallest = std::min(smallest, held.size());
      largest = std::max(largest, held.size());
      for (const Eigen::Index i : held) {
        ++seen[static_cast<std::size_t>(i)];
        folds_of_group[groups[static_cast<std::size_t>(i)]].insert(k);
        CHECK(folds.fold_of[static_cast<std::size_t>(i)] == k);
      }
      // Training and held-out samples of a fold partition the samples.
      CHECK(folds.training(k).size() + held.size() == groups.size());
    }
    CHECK(std::all_of(seen.begin(), seen.end(), [](int n) { return n == 1; }));
    for (const auto& [group, in] : folds_of_group) {
      INFO(group);
      CHECK(in.size() == 1);
    }
    CHECK(folds_of_group.size() == 9);
    CHECK(largest - smallest <= 9);  // at most one group apart (45 samples: 12, 11, 11, 11 is possible)
    // The same seed gives the same folds.
    const Folds again = make_folds(count, groups, {CrossValidationMethod::KFold, 4, seed}, "SAMPLES.groups");
    CHECK(again.fold_of == folds.fold_of);
  }
}

TEST_CASE("folds without groups, leave one group out, and their errors", "[crossvalidation]") {
  const Folds single = make_folds(10, {}, {CrossValidationMethod::KFold, 3, 7}, "SAMPLES.groups");
  REQUIRE(single.count() == 3);
  std::vector<std::size_t> sizes;
  for (const auto& held : single.held_out) sizes.push_back(held.size());
  std::sort(sizes.begin(), sizes.end());
  CHECK(sizes == std::vector<std::size_t>{3, 3, 4});
  CHECK(single.groups[0].empty());

  const std::vector<std::string> groups = {"b", "a", "c", "a", "b", "c", "c"};
  const Folds logo = make_folds(7, groups, {CrossValidationMethod::LeaveOneGroupOut, 0, 1}, "SAMPLES.groups");
  REQUIRE(logo.count() == 3);
  CHECK(logo.groups[0] == std::vector<std::string>{"a"});
  CHECK(logo.held_out[0] == std::vector<Eigen::Index>{1, 3});
  CHECK(logo.held_out[2] == std::vector<Eigen::Index>{2, 5, 6});

  CHECK(make_folds(7, groups, {CrossValidationMethod::None, 4, 1}, "SAMPLES.groups").count() == 0);
  CHECK_THROWS_WITH(make_folds(7, groups, {CrossValidationMethod::KFold, 4, 1}, "SAMPLES.groups"),
                    Catch::Contains("FOLDS 4 is more than the 3 groups"));
  CHECK_THROWS_WITH(make_folds(3, {}, {CrossValidationMethod::KFold, 4, 1}, "SAMPLES.groups"),
                    Catch::Contains("FOLDS 4 is more than the 3 samples"));
  CHECK_THROWS_WITH(make_folds(7, {}, {CrossValidationMethod::LeaveOneGroupOut, 0, 1}, "SAMPLES.groups"),
                    Catch::Contains("CROSS_VALIDATION leave_one_group_out needs a group"));
  CHECK_THROWS_WITH(make_folds(2, {"a", "a"}, {CrossValidationMethod::LeaveOneGroupOut, 0, 1}, "SAMPLES.groups"),
                    Catch::Contains("at least 2 groups"));
}

TEST_CASE("held-out metrics per fold and pooled over every fold", "[crossvalidation]") {
  const Folds folds = make_folds(6, {"x", "x", "y", "y", "z", "z"}, {CrossValidationMethod::LeaveOneGroupOut, 0, 1}, "g");
  HeldOutMetrics metrics(folds.count());
  const std::vector<double> estimate = {0.1, 0.25, 0.2, 0.4, 0.3, 0.35}, reference = {0.12, 0.2, 0.22, 0.35, 0.3, 0.4};
  for (std::size_t i = 0; i < 6; ++i) metrics.add(folds.fold_of[i], estimate[i], reference[i]);
  const Metrics pooled = metrics.pooled(), direct = compute_metrics(estimate, reference);
  CHECK_THAT(pooled.rmse, WithinRel(direct.rmse, 1e-12));
  CHECK_THAT(pooled.r, WithinRel(direct.r, 1e-12));
  CHECK_THAT(pooled.bias, WithinAbs(direct.bias, 1e-15));
  CHECK(pooled.n == 6);
  // Fold 1 (group x): e − r = −0.02, 0.05: bias 0.015, RMSE √((0.0004 + 0.0025)/2).
  CHECK_THAT(metrics.fold(0).bias, WithinAbs(0.015, 1e-15));
  CHECK_THAT(metrics.fold(0).rmse, WithinRel(std::sqrt(0.00145), 1e-12));
  const json table = metrics.fold_table(folds);
  CHECK(table.size() == 3);
  CHECK(table[1]["fold"] == 2);
  CHECK(table[1]["groups"] == json::array({"y"}));
}

TEST_CASE("smr calibratewatercloud: 4-fold cross-validation by station, parameter file", "[calibration]") {
  test::TempDir folder;
  const auto samples = synthetic(64, kTruth, false, 0.0, 0.0, 21);
  const json request = {{"SAMPLES", samples_json(samples, true, station_groups(samples.size(), 8))},
                        {"V1", "one"},
                        {"FIXED", json::array()},
                        {"OBJECTIVE", "soil_moisture"},
                        {"STARTS", 3},
                        {"FOLDS", 4},
                        {"POLARISATION", "VV"},
                        {"OUTPUT", folder.file("wcm.json")}};
  const auto run = test::run_command("calibratewatercloud", request);
  const json& out = run.outputs;
  for (std::size_t i = 0; i < 4; ++i) CHECK_THAT(out[kWaterCloudNames[i]].get<double>(), WithinRel(kTruth[i], 1e-6));
  CHECK(out["SAMPLES_USED"] == 64);
  CHECK(out["FOLD_COUNT"] == 4);
  CHECK(out["AT_BOUND"] == "");
  CHECK(out["CV_SM_N"] == 64);
  CHECK(out["CV_SM_RMSE"].get<double>() < 1e-6);  // model data: every fold's fit is exact too
  CHECK(out["SM_RMSE"].get<double>() < 1e-7);
  CHECK(out["SIGMA0_RMSE"].get<double>() < 1e-6);
  REQUIRE(out["FOLD_METRICS"].size() == 4);
  std::set<std::string> stations;
  for (const auto& row : out["FOLD_METRICS"]) {
    CHECK(row["groups"].size() == 2);  // 8 stations of 8 samples: 2 per fold
    CHECK(row["held_out_samples"] == 16);
    CHECK(row["training_samples"] == 48);
    for (const auto& group : row["groups"]) CHECK(stations.insert(group.get<std::string>()).second);
  }
  CHECK(out["HELD_OUT"]["estimate"].size() == 64);

  std::ifstream file(folder.file("wcm.json"));
  const json document = json::parse(file);
  CHECK(document["format"] == "smr-watercloud-parameters");
  CHECK(document["polarisation"] == "VV");
  CHECK(document["v1"] == "one");
  CHECK(document["parameters"]["B"]["value"] == out["B"]);
  CHECK(document["parameters"]["B"]["fixed"] == false);
  CHECK(document["cross_validation"]["per_fold"].size() == 4);

  // The same request again: the same numbers.
  const auto again = test::run_command("calibratewatercloud", request);
  CHECK(again.outputs["A"] == out["A"]);
  CHECK(again.outputs["FOLD_METRICS"] == out["FOLD_METRICS"]);
}

TEST_CASE("smr calibratewatercloud: paper 002's defaults, linear σ⁰, and clear messages for bad inputs", "[calibration]") {
  const auto samples = synthetic(30, kTruth, false, 0.0, 0.0, 22);
  json table = samples_json(samples, false);
  table.erase("angle");
  for (auto& sample : table["sigma0"]) sample = sample.get<double>();  // linear
  // Defaults: B fixed at 0.084, V1 one, SM objective, 4 folds of single samples; one angle for all.
  const json base = {{"SAMPLES", table}, {"SIGMA0_UNIT", "linear"}, {"ANGLE", 40.0}, {"STARTS", 2}};
  const auto run = test::run_command("calibratewatercloud", base);
  CHECK(run.outputs["B"] == 0.084);
  CHECK(run.outputs["B_SE"].is_null());
  CHECK(run.outputs["FOLD_COUNT"] == 4);
  CHECK(run.outputs["SAMPLES_USED"] == 30);

  SECTION("too few samples") {
    json few = base;
    few["SAMPLES"] = {{"sigma0", {0.05, 0.06, 0.07}}, {"vwc", {1, 2, 3}}, {"soil_moisture", {0.1, 0.2, 0.3}}};
    few["CROSS_VALIDATION"] = "none";
    CHECK_THAT(message_of("calibratewatercloud", few), Catch::Contains("SAMPLES has 3 complete samples") &&
                                                           Catch::Contains("at least 4"));
    few["SAMPLES"]["sigma0"] = {0.05, 0.06, 0.07, 0.08, 0.09, 0.1};
    few["SAMPLES"]["vwc"] = {1, 2, 3, 1, 2, 3};
    few["SAMPLES"]["soil_moisture"] = {0.1, 0.2, 0.3, 0.15, 0.25, 0.35};
    few.erase("CROSS_VALIDATION");
    few["FOLDS"] = 3;  // each fold fits on 4 samples: enough for 3 free parameters
    CHECK_NOTHROW(test::run_command("calibratewatercloud", few));
    few["FIXED"] = json::array();  // 4 free parameters need 5 per fold
    CHECK_THAT(message_of("calibratewatercloud", few), Catch::Contains("FOLDS: fold 1 leaves 4 samples"));
  }
  SECTION("constant in-situ SM") {
    json constant = base;
    for (auto& value : constant["SAMPLES"]["soil_moisture"]) value = 0.25;
    CHECK_THAT(message_of("calibratewatercloud", constant), Catch::Contains("SAMPLES.soil_moisture is 0.25 in all 30"));
  }
  SECTION("no in-situ value at all") {
    json empty = base;
    for (auto& value : empty["SAMPLES"]["soil_moisture"]) value = nullptr;
    CHECK_THAT(message_of("calibratewatercloud", empty), Catch::Contains("SAMPLES has 0 complete samples (30 skipped"));
  }
  SECTION("FOLDS larger than the number of groups") {
    json grouped = base;
    grouped["SAMPLES"]["groups"] = station_groups(30, 3);
    grouped["FOLDS"] = 4;
    CHECK_THAT(message_of("calibratewatercloud", grouped), Catch::Contains("FOLDS 4 is more than the 3 groups"));
    grouped["CROSS_VALIDATION"] = "leave_one_group_out";
    CHECK_THAT(message_of("calibratewatercloud", grouped), Catch::Contains("FOLDS applies to CROSS_VALIDATION kfold only"));
    grouped.erase("FOLDS");
    CHECK(test::run_command("calibratewatercloud", grouped).outputs["FOLD_COUNT"] == 3);
  }
  SECTION("the angle, FIXED, D and the sample lists") {
    json bad = base;
    bad.erase("ANGLE");
    CHECK_THAT(message_of("calibratewatercloud", bad), Catch::Contains("ANGLE is required"));
    bad = base;
    bad["FIXED"] = {"b"};
    CHECK_THAT(message_of("calibratewatercloud", bad), Catch::Contains("FIXED names 'b'"));
    bad["FIXED"] = {"C"};
    CHECK_THAT(message_of("calibratewatercloud", bad), Catch::Contains("FIXED holds C but C has no value"));
    bad = base;
    bad["D"] = -5;
    CHECK_THAT(message_of("calibratewatercloud", bad), Catch::Contains("D is -5"));
    bad = base;
    bad["SAMPLES"]["vwc"].erase(0);
    CHECK_THAT(message_of("calibratewatercloud", bad), Catch::Contains("SAMPLES.vwc has 29 values"));
    bad = base;
    bad["SAMPLES"]["depth"] = {1};
    CHECK_THAT(message_of("calibratewatercloud", bad), Catch::Contains("SAMPLES has no field 'depth'"));
  }
  SECTION("invalid samples are counted") {
    json some = base;
    some["SAMPLES"]["sigma0"][0] = -0.01;  // linear σ⁰ ≤ 0
    some["SAMPLES"]["vwc"][1] = -1.0;
    some["SAMPLES"]["vwc"][2] = nullptr;
    const auto counted = test::run_command("calibratewatercloud", some);
    CHECK(counted.outputs["INVALID_SAMPLES"] == 2);
    CHECK(counted.outputs["SKIPPED_SAMPLES"] == 1);
    CHECK(counted.outputs["SAMPLES_USED"] == 27);
    CHECK_THAT(counted.lines, Catch::Contains("VWC < 0"));
  }
}

TEST_CASE("smr calibratewatercloud: a parameter at a bound is a warning and AT_BOUND", "[calibration]") {
  const auto samples = synthetic(40, {0.1, 0.0, -17.0, 25.0}, true, 0.0, 0.0, 23);
  const auto run = test::run_command("calibratewatercloud", {{"SAMPLES", samples_json(samples, true)},
                                                             {"FIXED", {"A"}},
                                                             {"OBJECTIVE", "sigma0_db"},
                                                             {"CROSS_VALIDATION", "none"},
                                                             {"STARTS", 2}});
  CHECK(run.outputs["AT_BOUND"] == "B");
  CHECK_THAT(run.lines, Catch::Contains("B ran to a bound"));
  CHECK(run.outputs["CV_SM_RMSE"].is_null());
  CHECK(run.outputs["FOLD_METRICS"].empty());
}

TEST_CASE("smr calibratewatercloud: progress to 100 %, and a cancelled run writes no file", "[calibration][cancel]") {
  test::TempDir folder;
  const auto samples = synthetic(40, kTruth, true, 0.2, 0.0, 24);
  const json request = {{"SAMPLES", samples_json(samples, true)}, {"STARTS", 3}, {"OUTPUT", folder.file("p.json")}};
  const auto run = test::run_command("calibratewatercloud", request);
  const std::vector<double> progress = test::progress_values(run.lines);
  REQUIRE(progress.size() >= 5);
  CHECK(std::is_sorted(progress.begin(), progress.end()));
  CHECK(progress.back() == 1.0);
  std::filesystem::remove(folder.file("p.json"));

  CancelToken cancel;
  cancel.request();
  CHECK_THROWS_AS(test::run_command("calibratewatercloud", request, &cancel), Cancelled);
  CHECK(folder.entries().empty());
}
