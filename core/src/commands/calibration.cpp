// smr calibratewatercloud: the water cloud model's A, B, C, D fitted to in-situ soil moisture (paper 002
// eq. 1-6), with K-fold or leave-one-group-out cross-validation (smr/cross_validation.hpp).
#include "smr/commands.hpp"
#include "smr/cross_validation.hpp"
#include "smr/kernels.hpp"
#include "smr/metrics.hpp"
#include "smr/water_cloud_calibration.hpp"
#include "table_values.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

namespace smr {

namespace {

constexpr const char* kVersionTag = "smr 0.1.0";
constexpr long long kLargestSeed = (1LL << 53) - 1;
constexpr long long kMostStarts = 1000;
constexpr double kLargestAngle = 89.9;
const std::vector<std::string> kSampleFields = {"sigma0", "vwc", "soil_moisture", "angle", "groups"};

json number_or_null(double value) { return std::isfinite(value) ? json(value) : json(nullptr); }

std::string joined(const std::vector<std::string>& names, const std::string& separator = ", ") {
  std::string text;
  for (const auto& name : names) text += (text.empty() ? "" : separator) + name;
  return text;
}

std::string count_of(long long count, const std::string& noun) {
  return std::to_string(count) + " " + noun + (count == 1 ? "" : "s");
}

struct CalibrationSamples {
  std::vector<WaterCloudSample> samples;
  std::vector<std::string> groups;  // empty without SAMPLES.groups
  long long skipped = 0;            // a missing value (or group)
  long long invalid = 0;            // σ⁰ ≤ 0 linear, VWC < 0, θ outside 0 to 89.9
  bool per_sample_angle = false;
};

CalibrationSamples read_samples(const Params& params, bool sigma0_db, Reporter& reporter) {
  const json& table = params.value("SAMPLES");
  if (!table.is_object())
    throw InputError("SAMPLES must be an object {\"sigma0\": [...], \"vwc\": [...], \"soil_moisture\": [...], "
                     "\"angle\": [...] (optional), \"groups\": [...] (optional)}, got " + describe(table));
  for (const auto& item : table.items())
    if (std::find(kSampleFields.begin(), kSampleFields.end(), item.key()) == kSampleFields.end())
      throw InputError("SAMPLES has no field '" + item.key() + "': its fields are sigma0, vwc, soil_moisture, angle "
                       "(optional) and groups (optional)");
  const auto sigma0 = optional_numbers(table, "SAMPLES", "sigma0");
  const auto vwc = optional_numbers(table, "SAMPLES", "vwc");
  const auto soil_moisture = optional_numbers(table, "SAMPLES", "soil_moisture");
  const bool has_angle = table.contains("angle") && !table.at("angle").is_null();
  const auto angle = has_angle ? optional_numbers(table, "SAMPLES", "angle") : std::vector<std::optional<double>>{};
  const std::size_t count = sigma0.size();
  for (const auto& [values, field] : {std::pair{&vwc, "vwc"}, std::pair{&soil_moisture, "soil_moisture"},
                                      std::pair{&angle, "angle"}}) {
    if ((std::string(field) != "angle" || has_angle) && values->size() != count)
      throw InputError("SAMPLES." + std::string(field) + " has " + count_of(static_cast<long long>(values->size()), "value") +
                       " but SAMPLES.sigma0 has " + count_of(static_cast<long long>(count), "value") +
                       ": give one value of each per sample");
  }
  for (const auto& [values, field] : {std::pair{&sigma0, "sigma0"}, std::pair{&vwc, "vwc"},
                                      std::pair{&soil_moisture, "soil_moisture"}, std::pair{&angle, "angle"}})
    for (std::size_t i = 0; i < values->size(); ++i)
      if ((*values)[i]) check_statistic_magnitude(*(*values)[i], "SAMPLES." + std::string(field) + "[" + std::to_string(i) + "]");

  CalibrationSamples result;
  result.per_sample_angle = has_angle;
  std::vector<GroupName> groups;
  const bool grouped = table.contains("groups") && !table.at("groups").is_null();
  if (grouped) {
    groups = group_names(table.at("groups"), "SAMPLES.groups", "sample");
    if (groups.size() != count)
      throw InputError("SAMPLES.groups has " + count_of(static_cast<long long>(groups.size()), "value") +
                       " but SAMPLES.sigma0 has " + count_of(static_cast<long long>(count), "value") +
                       ": give one group per sample");
  }
  double constant_angle = 0.0;
  if (has_angle)
    params.reject_unused({"ANGLE"}, "is given, but SAMPLES.angle already holds an angle per sample: give one of them");
  else if (!params.has("ANGLE"))
    throw InputError("ANGLE is required when SAMPLES has no angle per sample: give the incidence angle in degrees "
                     "(0 to 89.9; paper 002 uses 40)");
  else
    constant_angle = params.number_in("ANGLE", 0.0, kLargestAngle);

  long long negative_vwc = 0, bad_angle = 0, bad_sigma0 = 0;
  for (std::size_t i = 0; i < count; ++i) {
    if (!sigma0[i] || !vwc[i] || !soil_moisture[i] || (has_angle && !angle[i]) || (grouped && groups[i].ungrouped())) {
      ++result.skipped;
      continue;
    }
    WaterCloudSample sample;
    sample.sigma0 = sigma0_db ? kernels::db_to_linear(*sigma0[i]) : *sigma0[i];
    sample.vwc = *vwc[i];
    sample.angle = has_angle ? *angle[i] : constant_angle;
    sample.soil_moisture = *soil_moisture[i];
    if (!(sample.sigma0 > 0.0) || !std::isfinite(sample.sigma0)) {
      ++bad_sigma0;
      continue;
    }
    if (!(sample.vwc >= 0.0)) {
      ++negative_vwc;
      continue;
    }
    if (!(sample.angle >= 0.0 && sample.angle <= kLargestAngle)) {
      ++bad_angle;
      continue;
    }
    result.samples.push_back(sample);
    if (grouped) result.groups.push_back(groups[i].label);
  }
  result.invalid = negative_vwc + bad_angle + bad_sigma0;
  if (result.skipped > 0)
    reporter.warning(count_of(result.skipped, "sample") + " skipped (SKIPPED_SAMPLES): a value" +
                     (grouped ? " or the group" : "") + " is missing");
  if (bad_sigma0 > 0)
    reporter.warning(count_of(bad_sigma0, "sample") + " left out (INVALID_SAMPLES): σ⁰ is " +
                     (sigma0_db ? "beyond the range of dB values" : "≤ 0 in linear units (is SIGMA0_UNIT right?)"));
  if (negative_vwc > 0)
    reporter.warning(count_of(negative_vwc, "sample") + " left out (INVALID_SAMPLES): VWC < 0, where the model is undefined");
  if (bad_angle > 0)
    reporter.warning(count_of(bad_angle, "sample") + " left out (INVALID_SAMPLES): SAMPLES.angle outside 0 to 89.9 degrees");
  return result;
}

// FIXED: the names of the parameters held at their values, a list or "B" / "B;C".
std::array<bool, 4> fixed_parameters(const Params& params) {
  std::array<bool, 4> fixed = {false, true, false, false};  // paper 002 fixes B
  if (!params.has("FIXED")) return fixed;
  const json& value = params.value("FIXED");
  if (!value.is_array() && !value.is_string())
    throw InputError("FIXED must be a list of parameter names (e.g. [\"B\"]) or a text such as \"B;C\", got " +
                     describe(value));
  fixed = {false, false, false, false};
  for (const std::string& name : params.texts("FIXED")) {
    const auto found = std::find(kWaterCloudNames.begin(), kWaterCloudNames.end(), name);
    if (found == kWaterCloudNames.end())
      throw InputError("FIXED names '" + name + "': valid names are A, B, C and D (upper case), e.g. [\"B\"]");
    fixed[static_cast<std::size_t>(found - kWaterCloudNames.begin())] = true;
  }
  return fixed;
}

json parameter_object(const WaterCloudFit& fit, const std::array<bool, 4>& fixed) {
  json object = json::object();
  for (std::size_t i = 0; i < 4; ++i)
    object[kWaterCloudNames[i]] = {{"value", fit.value[i]},
                                   {"standard_error", number_or_null(fit.standard_error[i])},
                                   {"fixed", fixed[i]}};
  return object;
}

json run_calibrate_water_cloud(const Params& params, Reporter& reporter) {
  std::vector<std::string> known = {"SAMPLES", "SIGMA0_UNIT", "ANGLE", "V1", "A", "B", "C", "D", "FIXED",
                                    "OBJECTIVE", "STARTS", "SEED", "POLARISATION", "OUTPUT"};
  known.insert(known.end(), kCrossValidationKeys.begin(), kCrossValidationKeys.end());
  params.reject_unknown(known);

  const bool sigma0_db = params.choice("SIGMA0_UNIT", {"db", "linear"}, std::string("db")) == "db";
  WaterCloudFitSettings settings;
  settings.v1_is_vwc = params.choice("V1", {"vwc", "one"}, std::string("one")) == "vwc";
  const std::string objective_name = params.choice("OBJECTIVE", {"soil_moisture", "sigma0_db"}, std::string("soil_moisture"));
  settings.objective = objective_name == "soil_moisture" ? WaterCloudObjective::SoilMoisture : WaterCloudObjective::Sigma0Db;
  const bool sm_objective = settings.objective == WaterCloudObjective::SoilMoisture;
  settings.fixed = fixed_parameters(params);
  settings.initial[0] = params.number_in("A", kSmallestA, kLargestA, 0.1);
  settings.initial[1] = params.number_in("B", 0.0, kLargestB, 0.084);
  for (std::size_t i = 2; i < 4; ++i) {
    const std::string key = kWaterCloudNames[i];
    settings.given[i] = params.has(key);
    if (settings.given[i]) settings.initial[i] = params.number_in(key, i == 2 ? -100.0 : -1000.0, i == 2 ? 100.0 : 1000.0);
    else if (settings.fixed[i])
      throw InputError("FIXED holds " + key + " but " + key + " has no value: give the value " + key +
                       " is held at, or leave it free");
  }
  if (sm_objective && settings.given[3] && !(settings.initial[3] > 0.0))
    throw InputError("D is " + describe(params.value("D")) + ": with OBJECTIVE soil_moisture eq. 6 divides by D, which "
                     "must be above 0 (σ⁰_soil rises with soil moisture); valid values are 0 < D ≤ 1000");
  settings.starts = static_cast<int>(params.integer_in("STARTS", 1, kMostStarts, 10));
  settings.seed = static_cast<std::uint64_t>(params.integer_in("SEED", 0, kLargestSeed, 1));
  const CrossValidationChoice choice = cross_validation_choice(params, settings.seed);
  const std::string polarisation = params.text("POLARISATION", std::string(""));
  const std::optional<std::string> output = params.optional_output("OUTPUT");

  const CalibrationSamples data = read_samples(params, sigma0_db, reporter);
  const auto count = static_cast<long long>(data.samples.size());
  const int free = settings.free_count();
  if (count < free + 1)
    throw InputError("SAMPLES has " + count_of(count, "complete sample") + " (" + std::to_string(data.skipped) +
                     " skipped for a missing value, " + std::to_string(data.invalid) + " invalid): the " +
                     std::to_string(free) + " free parameters need at least " + std::to_string(free + 1));
  const auto [low_sm, high_sm] = std::minmax_element(
      data.samples.begin(), data.samples.end(),
      [](const WaterCloudSample& a, const WaterCloudSample& b) { return a.soil_moisture < b.soil_moisture; });
  if (!(high_sm->soil_moisture > low_sm->soil_moisture))
    throw InputError("SAMPLES.soil_moisture is " + describe(json(low_sm->soil_moisture)) + " in all " +
                     count_of(count, "sample") + ": the in-situ soil moisture must vary for C and D to be fitted");

  std::vector<Eigen::Index> everything(static_cast<std::size_t>(count));
  for (Eigen::Index i = 0; i < count; ++i) everything[static_cast<std::size_t>(i)] = i;
  const Folds folds = make_folds(count, data.groups, choice, "SAMPLES.groups");
  for (int k = 0; k < folds.count(); ++k) {
    const std::vector<Eigen::Index> training = folds.training(k);
    if (static_cast<int>(training.size()) < free + 1)
      throw InputError("FOLDS: fold " + std::to_string(k + 1) + " leaves " + count_of(static_cast<long long>(training.size()), "sample") +
                       " to fit on, but the " + std::to_string(free) + " free parameters need at least " +
                       std::to_string(free + 1) + " per fold: use fewer folds or more samples");
    const double first = data.samples[static_cast<std::size_t>(training.front())].soil_moisture;
    if (std::all_of(training.begin(), training.end(),
                    [&](Eigen::Index i) { return data.samples[static_cast<std::size_t>(i)].soil_moisture == first; }))
      throw InputError("FOLDS: the samples fold " + std::to_string(k + 1) + " is fitted on all have soil moisture " +
                       describe(json(first)) + ": C and D cannot be fitted; use fewer folds or another SEED");
  }
  reporter.info(count_of(count, "sample") + ", " + std::to_string(free) + " free parameters (" +
                [&] {
                  std::vector<std::string> names;
                  for (std::size_t i = 0; i < 4; ++i)
                    if (!settings.fixed[i]) names.push_back(kWaterCloudNames[i]);
                  return names.empty() ? std::string("none") : joined(names);
                }() +
                "), objective " + objective_name + ", cross-validation " + cross_validation_name(choice.method) +
                (folds.count() > 0 ? " (" + count_of(folds.count(), "fold") + ")" : ""));

  const int starts_per_fit = (!settings.fixed[0] || !settings.fixed[1]) ? settings.starts : 1;
  const double total_starts = static_cast<double>((folds.count() + 1) * starts_per_fit);
  double done = 0.0;
  const auto after_start = [&] {
    done += 1.0;
    reporter.progress(done / total_starts);
    reporter.throw_if_cancelled();
  };

  // ---- cross-validation: each fold fitted on the others, judged on its own samples ----
  HeldOutMetrics held_out(folds.count());
  json held_fold = json::array(), held_group = json::array(), held_reference = json::array(), held_estimate = json::array();
  std::vector<WaterCloudFit> fold_fits;
  std::vector<long long> fold_undefined;
  for (int k = 0; k < folds.count(); ++k) {
    const WaterCloudFit fit = fit_water_cloud(data.samples, folds.training(k), settings, static_cast<std::uint64_t>(k + 1), after_start);
    long long undefined = 0;
    for (const Eigen::Index i : folds.held_out[static_cast<std::size_t>(k)]) {
      const WaterCloudSample& sample = data.samples[static_cast<std::size_t>(i)];
      const double estimate = water_cloud_soil_moisture(fit.value, settings.v1_is_vwc, sample);
      if (!std::isfinite(estimate)) {
        ++undefined;
        continue;
      }
      held_out.add(k, estimate, sample.soil_moisture);
      held_fold.push_back(k + 1);
      held_group.push_back(data.groups.empty() ? json(nullptr) : json(data.groups[static_cast<std::size_t>(i)]));
      held_reference.push_back(sample.soil_moisture);
      held_estimate.push_back(estimate);
    }
    fold_fits.push_back(fit);
    fold_undefined.push_back(undefined);
    if (!fit.at_bound.empty())
      reporter.warning("fold " + std::to_string(k + 1) + ": " + joined(fit.at_bound) + " ran to a bound (see AT_BOUND)");
  }

  // ---- the final fit on every sample ----
  const WaterCloudFit fit = fit_water_cloud(data.samples, everything, settings, 0, after_start);
  MetricsAccumulator sm_metrics, sigma0_metrics;
  json predicted_reference = json::array(), predicted_estimate = json::array();
  long long excluded = 0;
  for (const WaterCloudSample& sample : data.samples) {
    sigma0_metrics.add(water_cloud_sigma0_db(fit.value, settings.v1_is_vwc, sample), kernels::linear_to_db(sample.sigma0));
    const double estimate = water_cloud_soil_moisture(fit.value, settings.v1_is_vwc, sample);
    if (!std::isfinite(estimate)) {
      ++excluded;
      continue;
    }
    sm_metrics.add(estimate, sample.soil_moisture);
    predicted_reference.push_back(sample.soil_moisture);
    predicted_estimate.push_back(estimate);
  }

  // ---- messages ----
  const WaterCloudValues& p = fit.value;
  for (const auto& name : fit.at_bound) {
    if (name == "A")
      reporter.warning("A ran to a bound (A = " + json(p[0]).dump() + ", outside " + json(kLowA).dump() + " to " +
                       json(kHighA).dump() + "): the samples do not pin the vegetation term down; fix A or give "
                       "samples with more varied VWC");
    else if (name == "B")
      reporter.warning("B ran to a bound (B = " + json(p[1]).dump() + (p[1] < kLowB ? ": no attenuation by the vegetation"
                                                                                  : ": an opaque canopy") +
                       "): fix B (paper 002 holds it at 0.084 for grassland)");
    else
      reporter.warning("D ran to its bound (D = " + json(p[3]).dump() +
                       "): σ⁰_soil hardly changes with soil moisture, so eq. 6 magnifies every error; check the samples");
  }
  if (!sm_objective && !settings.fixed[3] && p[3] < 0.0)
    reporter.warning("D = " + json(p[3]).dump() + " < 0: the soil backscatter falls as soil moisture rises, which is "
                     "not physical; check the samples and SIGMA0_UNIT");
  if (fit.singular)
    reporter.warning("the standard errors are undefined: the samples cannot tell the free parameters apart (JᵀJ is "
                     "singular); fix one of them");
  if (excluded > 0)
    reporter.warning(count_of(excluded, "sample") + " with σ⁰ ≤ σ⁰_veg at the fitted A and B (EXCLUDED_SAMPLES): eq. 6 "
                     "is undefined there, so they are " +
                     (sm_objective ? std::string("left out of the fit and of the SM metrics")
                                   : std::string("left out of the SM metrics")));
  long long undefined_held = 0;
  for (const long long n : fold_undefined) undefined_held += n;
  if (undefined_held > 0)
    reporter.warning(count_of(undefined_held, "held-out sample") + " with σ⁰ ≤ σ⁰_veg at their fold's A and B: no SM "
                     "estimate, left out of the held-out metrics (FOLD_METRICS.undefined)");
  reporter.info("A = " + json(p[0]).dump() + ", B = " + json(p[1]).dump() + ", C = " + json(p[2]).dump() + ", D = " +
                json(p[3]).dump() + " (start " + std::to_string(fit.best_start + 1) + " of " +
                std::to_string(starts_per_fit) + ", " + fit.stop_reason + " after " + std::to_string(fit.epochs) + " epochs)");

  // ---- outputs ----
  json outputs;
  for (std::size_t i = 0; i < 4; ++i) {
    outputs[kWaterCloudNames[i]] = p[i];
    outputs[std::string(kWaterCloudNames[i]) + "_SE"] = number_or_null(fit.standard_error[i]);
  }
  outputs["AT_BOUND"] = joined(fit.at_bound);
  outputs.update(metric_outputs(sm_metrics.result(), "SM_"));
  outputs.update(metric_outputs(sigma0_metrics.result(), "SIGMA0_"));
  const Metrics pooled = folds.count() > 0 ? held_out.pooled() : MetricsAccumulator().result();
  outputs.update(metric_outputs(pooled, "CV_SM_"));
  json fold_table = held_out.fold_table(folds);
  for (int k = 0; k < folds.count(); ++k) {
    json& row = fold_table[static_cast<std::size_t>(k)];
    const WaterCloudFit& fold_fit = fold_fits[static_cast<std::size_t>(k)];
    for (std::size_t i = 0; i < 4; ++i) row[lowercase(kWaterCloudNames[i])] = fold_fit.value[i];
    row["training_samples"] = folds.training(k).size();
    row["held_out_samples"] = folds.held_out[static_cast<std::size_t>(k)].size();
    row["undefined"] = fold_undefined[static_cast<std::size_t>(k)];
    row["at_bound"] = fold_fit.at_bound;
  }
  outputs["FOLD_METRICS"] = fold_table;
  outputs["FOLD_COUNT"] = folds.count();
  outputs["HELD_OUT"] = {{"fold", held_fold}, {"group", held_group}, {"reference", held_reference}, {"estimate", held_estimate}};
  outputs["PREDICTIONS"] = {{"reference", predicted_reference}, {"estimate", predicted_estimate}};
  outputs["SAMPLES_USED"] = count;
  outputs["SKIPPED_SAMPLES"] = data.skipped;
  outputs["INVALID_SAMPLES"] = data.invalid;
  outputs["EXCLUDED_SAMPLES"] = excluded;
  outputs["BEST_START"] = fit.best_start;
  outputs["STOP_REASON"] = fit.stop_reason;

  if (output) {
    json document = {
        {"format", "smr-watercloud-parameters"},
        {"version", 1},
        {"model", "water cloud, paper 002 eq. 1-6: sigma0 = sigma0_veg + gamma2*sigma0_soil (linear), gamma2 = "
                  "exp(-2*B*VWC/cos(theta)), sigma0_veg = A*V1*cos(theta)*(1 - gamma2), sigma0_soil[dB] = C + D*SM"},
        {"polarisation", polarisation},
        {"v1", settings.v1_is_vwc ? "vwc" : "one"},
        {"angle", data.per_sample_angle ? json("per sample") : json(data.samples.front().angle)},
        {"sigma0_unit", sigma0_db ? "db" : "linear"},
        {"objective", objective_name},
        {"parameters", parameter_object(fit, settings.fixed)},
        {"at_bound", fit.at_bound},
        {"metrics", {{"soil_moisture", metrics_json(sm_metrics.result())}, {"sigma0_db", metrics_json(sigma0_metrics.result())}}},
        {"cross_validation",
         {{"method", cross_validation_name(choice.method)},
          {"folds", folds.count()},
          {"pooled_soil_moisture", metrics_json(pooled)},
          {"per_fold", fold_table}}},
        {"samples", {{"used", count}, {"skipped", data.skipped}, {"invalid", data.invalid}, {"excluded", excluded}}},
        {"settings", {{"starts", settings.starts}, {"seed", settings.seed}, {"best_start", fit.best_start},
                      {"stop_reason", fit.stop_reason}}},
        {"created_by", kVersionTag}};
    reporter.throw_if_cancelled();
    write_file_atomically("OUTPUT", *output, document.dump(1) + "\n");
    outputs["OUTPUT"] = *output;
  }
  reporter.progress(1.0);
  return outputs;
}

}  // namespace

void add_calibration_commands(std::vector<Command>& registry) {
  registry.push_back({"calibratewatercloud", "fit the water cloud model's A, B, C, D to in-situ soil moisture (paper 002), with cross-validation",
                      R"~(smr calibratewatercloud: the water cloud model's A, B, C, D fitted to in-situ soil moisture, as
paper 002 (Yu et al.) eq. 1-6, with K-fold or leave-one-group-out cross-validation (its Fig. 2).

  σ⁰ = σ⁰_veg + γ²·σ⁰_soil (linear),  γ² = exp(-2·B·VWC/cosθ),  σ⁰_veg = A·V1·cosθ·(1 - γ²),
  σ⁰_soil[dB] = C + D·SM,  so (eq. 6)  SM = (10·log10((σ⁰ - σ⁰_veg)/γ²) - C)/D
  (the same formulas as watercloudforward and watercloudinversion). One polarisation per run.

  SAMPLES        {"sigma0": [...], "vwc": [...], "soil_moisture": [...], "angle": [...] (optional),
                 "groups": [...] (optional)}: one value of each per sample, null for a missing
                 value (the sample is skipped: SKIPPED_SAMPLES). VWC in kg/m², SM in m³/m³, angle in
                 degrees; groups are names or numbers (stations, fields): a sample with a null group
                 is skipped. σ⁰ ≤ 0 (linear), VWC < 0 or an angle outside 0-89.9 leave the sample out
                 (INVALID_SAMPLES).
  SIGMA0_UNIT    db (default) | linear
  ANGLE          incidence angle in degrees (0 to 89.9) for every sample, when SAMPLES has no
                 angle (paper 002: 40); an error when it has
  V1             one (default, paper 002: V1 = 1) | vwc (paper 000: V1 = VWC). Invert with the same
  A, B, C, D     initial values, or the values held with FIXED. A (1e-9 to 1e4, default 0.1), B (0
                 to 50, default 0.084, paper 002's grassland), C (dB, -100 to 100), D (dB per
                 m³/m³, -1000 to 1000; > 0 with OBJECTIVE soil_moisture). C and D left out start
                 from the regression of σ⁰_soil[dB] (inverted with the start's A and B) on SM.
  FIXED          parameters held at their values: a list such as ["B"] (default, as paper 002) or
                 "B;C"; [] fits all four
  OBJECTIVE      soil_moisture (default, as paper 002: eq. 6 against the in-situ SM) | sigma0_db
                 (the model's σ⁰ in dB at the in-situ SM against the observed σ⁰)
  STARTS         starts of the fit (1 to 1000, default 10): the first from the initial values, the
                 others with A drawn within ×/÷10 and B within ×/÷3 of them by SEED, C and D from the
                 regression; the lowest error is kept. With A and B fixed there is one start.
  SEED           0 to 2^53 - 1 (default 1): the starts and the folds; the same SEED gives the same
                 results
  CROSS_VALIDATION kfold (default) | leave_one_group_out | none
  FOLDS          K of kfold (2 to 1000, default 4 as paper 002): with groups, whole groups are dealt
                 to the folds (shuffled by SEED, largest first to the fold with the fewest samples),
                 a group never in two folds; without groups, single samples. FOLDS larger than the
                 number of groups (or samples) is an error. Given with another method, an error.
  POLARISATION   label stored in the parameter file (e.g. VV)
  OUTPUT         optional: the JSON parameter file ("format": "smr-watercloud-parameters")

Fit: Levenberg-Marquardt on (logA, B, C, D), the fixed ones left out, A = exp(logA) > 0; the fit
never leaves A in [1e-9, 1e4], B in [0, 50], nor (SM objective) D > 0. With the SM objective the
samples where σ⁰ ≤ σ⁰_veg at the initial A and B are left out of the fit (eq. 6 is undefined
there) and taken back in when the fitted A and B allow; those left at the end are counted in
EXCLUDED_SAMPLES (with the σ⁰ objective, the samples the SM metrics cannot include). Standard
errors: sqrt(diag((JᵀJ)⁻¹)·s²), s² = Σe²/(N - P), over the free parameters, A's by the delta
method (SE(A) = A·SE(logA)); null for a fixed parameter or when JᵀJ is singular (a warning).
A parameter that runs to a bound (A below 1e-6 or above 100, B below 1e-4 or above 10, D below
1e-3 with the SM objective) gives a warning and is named in AT_BOUND.

Cross-validation: each fold is fitted on the other folds' samples (with all STARTS) and its own
samples are estimated by eq. 6; the held-out metrics per fold and pooled over all folds, then the
final fit on every sample. Too few samples (fewer than free parameters + 1, in all or per fold)
and a constant in-situ SM are errors.

Result: A, B, C, D and A_SE … D_SE; AT_BOUND ("" or e.g. "B"); SM_R, SM_R2, SM_NSE, SM_RMSE,
SM_UBRMSE, SM_MAE, SM_BIAS, SM_N (eq. 6 against the in-situ SM, final fit); SIGMA0_* the same for
σ⁰ in dB; CV_SM_* pooled held-out metrics (null without cross-validation); FOLD_METRICS [{"fold",
"groups", "r", "r2", "nse", "rmse", "ubrmse", "mae", "bias", "n", "a", "b", "c", "d",
"training_samples", "held_out_samples", "undefined", "at_bound"}, …]; FOLD_COUNT; HELD_OUT {"fold",
"group", "reference", "estimate"}; PREDICTIONS {"reference", "estimate"} of the final fit;
SAMPLES_USED, SKIPPED_SAMPLES, INVALID_SAMPLES, EXCLUDED_SAMPLES, BEST_START (0-based), STOP_REASON,
OUTPUT. bias = mean(estimate - reference).
)~",
                      run_calibrate_water_cloud, {"OUTPUT"}});
}

}  // namespace smr
