// smr trainmlp and smr applymodel: the "BP network" of papers 000, 001 and 003 (DESIGN §6).
#include "smr/commands.hpp"
#include "samples.hpp"
#include "smr/metrics.hpp"
#include "smr/model_file.hpp"
#include "smr/raster.hpp"
#include "smr/sampling.hpp"
#include "smr/training.hpp"
#include "smr/training_params.hpp"

#include <omp.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <mutex>
#include <utility>

namespace smr {

namespace {

constexpr const char* kVersionTag = "smr 0.1.0";
constexpr long long kMaxLmParameters = 5000;
// The share of the progress bar for reading samples from rasters, before training.
constexpr double kSamplingShare = 0.1;

double sample_value(const json& value, const std::string& where) {
  if (value.is_null()) return std::numeric_limits<double>::quiet_NaN();
  if (!value.is_number()) throw InputError(where + " is " + describe(value) + ", not a number");
  // mapminmax divides by max − min, and the metrics square the errors: both overflow near ±1.8e308.
  check_statistic_magnitude(value.get<double>(), where);
  return value.get<double>();
}

const json& sample_array(const json& object, const std::string& name, const std::string& where) {
  const auto found = object.find(name);
  if (found == object.end() || !found->is_array())
    throw InputError(where + " must hold a list '" + name + "'");
  return *found;
}

}  // namespace

Samples samples_from_json(const Params& params, bool with_precipitation) {
  const json& samples = params.value("SAMPLES");
  if (!samples.is_object()) throw InputError("SAMPLES must be an object {names, features, target}, got " + describe(samples));
  for (const auto& entry : samples.items())
    if (entry.key() != "names" && entry.key() != "features" && entry.key() != "target" && entry.key() != "groups" &&
        (entry.key() != "precipitation" || !with_precipitation))
      throw InputError("SAMPLES has an unknown member '" + entry.key() + "': valid are names, features, target, groups" +
                       (with_precipitation ? ", precipitation" : ""));
  const json& names = sample_array(samples, "names", "SAMPLES");
  const json& features = sample_array(samples, "features", "SAMPLES");
  const json& target = sample_array(samples, "target", "SAMPLES");
  if (names.empty()) throw InputError("SAMPLES.names is empty: give at least one input");
  if (features.size() != names.size())
    throw InputError("SAMPLES has " + std::to_string(names.size()) + " names but " + std::to_string(features.size()) +
                     " feature lists");
  const std::size_t count = target.size();
  Samples result;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (!names[i].is_string() || names[i].get<std::string>().empty())
      throw InputError("SAMPLES.names[" + std::to_string(i) + "] must be a non-empty string, got " + describe(names[i]));
    result.names.push_back(names[i].get<std::string>());
    if (!features[i].is_array() || features[i].size() != count)
      throw InputError("SAMPLES.features[" + std::to_string(i) + "] ('" + result.names.back() + "') must be a list of " +
                       std::to_string(count) + " values, as many as the target");
  }
  const json* groups = nullptr;
  if (const auto found = samples.find("groups"); found != samples.end() && !found->is_null()) {
    if (!found->is_array() || found->size() != count)
      throw InputError("SAMPLES.groups must be a list of " + std::to_string(count) + " groups, as many as the target");
    groups = &*found;
  }
  const json* precipitation = nullptr;
  if (const auto found = samples.find("precipitation"); found != samples.end() && !found->is_null()) {
    if (!found->is_array() || found->size() != count)
      throw InputError("SAMPLES.precipitation must be a list of " + std::to_string(count) + " values (mm), as many as the target");
    precipitation = &*found;
  }
  std::vector<std::size_t> kept;
  for (std::size_t s = 0; s < count; ++s) {
    bool complete = std::isfinite(sample_value(target[s], "SAMPLES.target[" + std::to_string(s) + "]"));
    for (std::size_t i = 0; i < names.size(); ++i)
      complete &= std::isfinite(sample_value(features[i][s], "SAMPLES.features[" + std::to_string(i) + "] ('" +
                                                                 result.names[i] + "') entry " + std::to_string(s)));
    if (groups != nullptr) {
      const json& group = (*groups)[s];
      if (!group.is_null() && !group.is_string() && !group.is_number())
        throw InputError("SAMPLES.groups[" + std::to_string(s) + "] is " + describe(group) + ", not a name or number");
      complete &= !group.is_null();
    }
    if (complete) kept.push_back(s);
  }
  result.skipped = static_cast<long long>(count - kept.size());
  result.features.resize(static_cast<Eigen::Index>(names.size()), static_cast<Eigen::Index>(kept.size()));
  result.target.resize(1, static_cast<Eigen::Index>(kept.size()));
  for (std::size_t k = 0; k < kept.size(); ++k) {
    const std::size_t s = kept[k];
    for (std::size_t i = 0; i < names.size(); ++i)
      result.features(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(k)) = features[i][s].get<double>();
    result.target(0, static_cast<Eigen::Index>(k)) = target[s].get<double>();
    if (groups != nullptr) {
      const json& group = (*groups)[s];
      result.groups.push_back(group.is_string() ? group.get<std::string>() : group.dump());
    }
    if (precipitation != nullptr)
      result.precipitation.push_back(sample_value((*precipitation)[s], "SAMPLES.precipitation[" + std::to_string(s) + "]"));
  }
  return result;
}

namespace {

// Every pixel where the target and all inputs are valid, or MAX_SAMPLES of them chosen by SEED, the
// same for any thread count (SeededSample).
Samples samples_from_rasters(const Params& params, std::uint64_t seed, Reporter& reporter) {
  const std::vector<RasterSource> inputs = params.rasters("INPUT_RASTERS");
  std::vector<RasterSource> sources = {params.raster("TARGET_RASTER")};  // first: the default grid
  sources.insert(sources.end(), inputs.begin(), inputs.end());
  Samples result;
  result.names = params.texts("INPUT_NAMES");
  if (result.names.empty())
    for (const auto& input : inputs) result.names.push_back(file_stem(input.path));
  if (result.names.size() != inputs.size())
    throw InputError("INPUT_NAMES has " + std::to_string(result.names.size()) + " names for " +
                     std::to_string(inputs.size()) + " INPUT_RASTERS");
  const auto limit = static_cast<std::size_t>(params.integer_in("MAX_SAMPLES", 0, 100000000, 0));

  using PixelSample = SeededSample<std::vector<float>>;  // target, then inputs
  const std::size_t capacity = limit > 0 ? limit : PixelSample::kEverything;
  PixelSample sample(capacity, seed);
  std::mutex mutex;
  const BlockVisitor visit = [&](const Block& block) {
    PixelSample window(capacity, seed);
    for (int row = 0; row < block.height; ++row)
      for (int column = 0; column < block.width; ++column) {
        const std::size_t p = static_cast<std::size_t>(row) * block.width + column;
        bool valid = true;
        for (const float* values : block.inputs) valid &= std::isfinite(values[p]);
        if (!valid) continue;
        std::vector<float> values(block.inputs.size());
        for (std::size_t i = 0; i < values.size(); ++i) values[i] = block.inputs[i][p];
        window.add(block.grid_index(p), std::move(values));
      }
    std::lock_guard<std::mutex> lock(mutex);
    sample.absorb(std::move(window));
  };
  scan_pixelwise(sources, engine_options(params), visit, reporter);  // grid: TARGET_RASTER's unless REFERENCE

  const auto pixels = sample.take_in_index_order();
  result.features.resize(static_cast<Eigen::Index>(inputs.size()), static_cast<Eigen::Index>(pixels.size()));
  result.target.resize(1, static_cast<Eigen::Index>(pixels.size()));
  for (std::size_t s = 0; s < pixels.size(); ++s) {
    result.target(0, static_cast<Eigen::Index>(s)) = pixels[s].payload[0];
    for (std::size_t i = 0; i < inputs.size(); ++i)
      result.features(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(s)) = pixels[s].payload[i + 1];
  }
  reporter.info("TARGET_RASTER: " + std::to_string(pixels.size()) + " samples taken from the valid pixels");
  return result;
}

const std::vector<std::string> kSubsetNames = {"train", "validation", "test"};

json run_train_mlp(const Params& params, Reporter& reporter) {
  params.reject_unknown(with_training_keys({"SAMPLES", "INPUT_RASTERS", "INPUT_NAMES", "TARGET_RASTER", "MAX_SAMPLES",
                                            "TARGET_NAME", "THREADS", "RESAMPLING", "REFERENCE", "OUTPUT_MODEL"}));
  const bool from_vector = params.has("SAMPLES");
  const bool from_rasters = params.has("INPUT_RASTERS") || params.has("TARGET_RASTER");
  if (from_vector == from_rasters)
    throw InputError(from_vector ? "give either SAMPLES or INPUT_RASTERS with TARGET_RASTER, not both"
                                 : "no samples: give SAMPLES, or INPUT_RASTERS with TARGET_RASTER");
  if (from_vector)
    params.reject_unused({"INPUT_NAMES", "MAX_SAMPLES", "RESAMPLING", "REFERENCE"}, "applies to INPUT_RASTERS only, not to SAMPLES");
  const std::string model_path = params.text("OUTPUT_MODEL");

  const TrainingChoice choice = training_choice(params, TrainingDefaults{}, {"random", "block", "interleaved", "group"});
  TrainingSettings settings = choice.settings;
  const DivisionMethod division_method = choice.division;
  const DivisionRatios ratios = choice.ratios;
  const int threads = static_cast<int>(params.integer_in("THREADS", 0, 1024, 0));
  omp_set_num_threads(threads > 0 ? threads : std::max(1, omp_get_num_procs()));

  // Raster samples: the scan is the first tenth of the bar, training the rest (training takes longer).
  if (from_rasters) reporter.set_progress_span(0.0, kSamplingShare);
  Samples samples = from_vector ? samples_from_json(params, false) : samples_from_rasters(params, settings.seed, reporter);
  reporter.set_progress_span(from_rasters ? kSamplingShare : 0.0, 1.0);
  if (from_rasters && division_method == DivisionMethod::Group)
    throw InputError("DIVISION group needs groups, which only SAMPLES can carry (a GROUP_FIELD); rasters have none");
  if (division_method == DivisionMethod::Group && samples.groups.empty())
    throw InputError("DIVISION group needs SAMPLES.groups (a GROUP_FIELD)");
  if (samples.skipped > 0)
    reporter.warning(std::to_string(samples.skipped) + " samples skipped: a feature, the target or the group is missing");
  const Eigen::Index count = samples.target.cols();
  if (count < 2)
    throw InputError(from_vector ? "SAMPLES has " + std::to_string(count) + " complete samples (" + std::to_string(samples.skipped) +
                                       " skipped for a missing feature, target or group): at least 2 are needed"
                                 : "INPUT_RASTERS and TARGET_RASTER are all valid at " + std::to_string(count) +
                                       " pixels: at least 2 samples are needed");

  const double low = choice.low();
  const MinMaxScaling input_scaling = MinMaxScaling::fit(samples.features, low, 1.0);
  const MinMaxScaling target_scaling = MinMaxScaling::fit(samples.target, low, 1.0);
  const double gain = target_scaling.gain(0);
  if (gain == 0.0)
    throw InputError(std::string(from_vector ? "SAMPLES.target" : "TARGET_RASTER") + " is " +
                     describe(json(samples.target(0, 0))) + " in all " + std::to_string(count) +
                     " samples: there is nothing to learn");
  for (Eigen::Index i = 0; i < input_scaling.minimum.size(); ++i)
    if (input_scaling.gain(i) == 0.0)
      reporter.warning("input '" + samples.names[static_cast<std::size_t>(i)] + "' is constant in the samples; it cannot help the network");
  settings = choice.in_scaled_units(gain);

  const Division division = divide_samples(count, division_method, ratios, samples.groups, settings.seed);
  const Mlp shape(static_cast<int>(samples.features.rows()), settings.hidden, 1, settings.hidden_activation,
                  settings.output_activation);
  const long long parameters = shape.parameter_count();
  if (settings.trainer == Trainer::LevenbergMarquardt) {
    if (parameters > kMaxLmParameters)
      throw InputError("HIDDEN " + describe(params.has("HIDDEN") ? params.value("HIDDEN") : json(10)) + " gives " +
                       std::to_string(parameters) + " weights; Levenberg–Marquardt needs a weights × weights matrix and is limited to " +
                       std::to_string(kMaxLmParameters) + ": use TRAINER adam or a smaller network");
  }
  TrainingShape memory_shape{samples.features.rows(), 1, static_cast<Eigen::Index>(division.train.size()),
                             static_cast<Eigen::Index>(division.validation.size()),
                             static_cast<Eigen::Index>(division.test.size()), omp_get_max_threads(), false, 0,
                             from_vector ? "SAMPLES, TRAIN_RATIO" : "MAX_SAMPLES, TRAIN_RATIO"};
  check_training_memory(choice, memory_shape);
  reporter.info(std::to_string(count) + " samples: " + std::to_string(division.train.size()) + " training, " +
                std::to_string(division.validation.size()) + " validation, " + std::to_string(division.test.size()) +
                " test; " + std::to_string(parameters) + " weights");

  const Eigen::MatrixXd scaled_inputs = input_scaling.apply(samples.features);
  const Eigen::MatrixXd scaled_target = target_scaling.apply(samples.target);
  TrainingOutcome outcome = train_network(scaled_inputs, scaled_target, division, settings, reporter);

  std::string target_name = params.text("TARGET_NAME", std::string("target"));
  if (target_name.empty()) target_name = "target";
  MlpModel model{samples.names, target_name, input_scaling, target_scaling, std::move(outcome.network), json::object(), json::object()};
  const Eigen::MatrixXd estimate = model.predict(samples.features);

  json result;
  const std::vector<Eigen::Index>* subsets[3] = {&division.train, &division.validation, &division.test};
  std::vector<std::string> subset_of(static_cast<std::size_t>(count));
  std::vector<double> all_estimate, all_reference;
  for (int s = 0; s < 3; ++s) {
    std::vector<double> e, r;
    for (const Eigen::Index i : *subsets[s]) {
      e.push_back(estimate(0, i));
      r.push_back(samples.target(0, i));
      subset_of[static_cast<std::size_t>(i)] = kSubsetNames[static_cast<std::size_t>(s)];
    }
    all_estimate.insert(all_estimate.end(), e.begin(), e.end());
    all_reference.insert(all_reference.end(), r.begin(), r.end());
    const Metrics metrics = compute_metrics(e, r);
    model.metrics[kSubsetNames[static_cast<std::size_t>(s)]] = metrics_json(metrics);
    result.update(metric_outputs(metrics, kSubsetNames[static_cast<std::size_t>(s)] + "_"));
  }
  const Metrics all = compute_metrics(all_estimate, all_reference);
  model.metrics["all"] = metrics_json(all);
  result.update(metric_outputs(all, "ALL_"));


  // Curves in the target's units: RMSE = √MSE / gain.
  const auto rmse_curve = [gain](const std::vector<double>& mse) {
    json curve = json::array();
    for (const double value : mse) curve.push_back(std::sqrt(value) / gain);
    return curve;
  };
  json epochs = json::array();
  for (std::size_t e = 0; e < outcome.curves.train.size(); ++e) epochs.push_back(e);
  result["CURVES"] = {{"epoch", epochs},
                      {"train", rmse_curve(outcome.curves.train)},
                      {"validation", rmse_curve(outcome.curves.validation)},
                      {"test", rmse_curve(outcome.curves.test)},
                      {"best_epoch", outcome.best_epoch}};
  result["PREDICTIONS"] = {{"reference", std::vector<double>(samples.target.data(), samples.target.data() + count)},
                           {"estimate", std::vector<double>(estimate.data(), estimate.data() + count)},
                           {"subset", subset_of}};

  model.training = choice.metadata();
  model.training.update({{"created_by", kVersionTag},
                    {"best_restart", outcome.best_restart},
                    {"best_epoch", outcome.best_epoch},
                    {"epochs_run", outcome.epochs_run},
                    {"stop_reason", outcome.stop_reason},
                    {"samples", count},
                    {"skipped_samples", samples.skipped}});
  reporter.throw_if_cancelled();
  write_model_file(model_path, model);
  reporter.info("kept restart " + std::to_string(outcome.best_restart + 1) + " of " + std::to_string(settings.restarts) +
                ", weights of epoch " + std::to_string(outcome.best_epoch) + " (" + outcome.stop_reason + " after " +
                std::to_string(outcome.epochs_run) + " epochs)");
  result["OUTPUT_MODEL"] = model_path;
  result["SKIPPED_SAMPLES"] = samples.skipped;
  result["BEST_RESTART"] = outcome.best_restart;
  result["BEST_EPOCH"] = outcome.best_epoch;
  result["EPOCHS_RUN"] = outcome.epochs_run;
  result["STOP_REASON"] = outcome.stop_reason;
  return result;
}

json run_apply_model(const Params& params, Reporter& reporter) {
  params.reject_unknown(with_engine_keys({"MODEL", "INPUTS", "INPUT_NAMES", "CLAMP_MIN", "CLAMP_MAX", "OUTPUT"}));
  const MlpModel model = read_model_file(params.text("MODEL"), "MODEL");
  const std::vector<RasterSource> inputs = params.rasters("INPUTS");
  const std::size_t expected = model.input_names.size();
  std::string listed;
  for (const auto& name : model.input_names) listed += (listed.empty() ? "" : ", ") + name;
  if (inputs.size() != expected)
    throw InputError("INPUTS has " + std::to_string(inputs.size()) + " rasters but the model takes " +
                     std::to_string(expected) + " inputs, in this order: " + listed);
  std::vector<std::string> names = params.texts("INPUT_NAMES");
  if (names.empty())
    for (const auto& input : inputs) names.push_back(file_stem(input.path));
  if (names.size() != inputs.size())
    throw InputError("INPUT_NAMES has " + std::to_string(names.size()) + " names for " + std::to_string(inputs.size()) + " INPUTS");
  for (std::size_t i = 0; i < names.size(); ++i)
    for (std::size_t j = 0; j < expected; ++j)
      if (j != i && lowercase(names[i]) == lowercase(model.input_names[j]) && lowercase(names[i]) != lowercase(model.input_names[i]))
        throw InputError("INPUTS: raster " + std::to_string(i + 1) + " '" + names[i] + "' is named like the model's input " +
                         std::to_string(j + 1) + " but given as input " + std::to_string(i + 1) + " ('" +
                         model.input_names[i] + "'); the model's order is: " + listed);
  const EstimateBounds bounds = EstimateBounds::from(params);
  const TrainingRanges seen(model.input_scaling);

  const std::vector<RasterTarget> outputs = {{"OUTPUT", params.text("OUTPUT"), model.target_name + " (estimated by " + file_stem(params.text("MODEL")) + ")"}};
  enum Counter { kClamped, kOutOfRange, kCounters };
  const Eigen::Index input_count = static_cast<Eigen::Index>(expected);
  const BlockKernel kernel = [&](Block& block) {
    constexpr std::size_t kChunk = 4096;  // pixels per prediction: keeps the layer activations in cache
    std::vector<std::size_t> valid;
    Eigen::MatrixXd values;
    for (std::size_t start = 0; start < block.size(); start += kChunk) {
      const std::size_t end = std::min(block.size(), start + kChunk);
      valid.clear();
      for (std::size_t p = start; p < end; ++p) {
        bool complete = true;
        for (const float* input : block.inputs) complete &= std::isfinite(input[p]);
        if (complete) valid.push_back(p);
        else block.outputs[0][p] = std::numeric_limits<float>::quiet_NaN();
      }
      if (valid.empty()) continue;
      values.resize(input_count, static_cast<Eigen::Index>(valid.size()));
      for (std::size_t k = 0; k < valid.size(); ++k) {
        bool outside = false;
        for (Eigen::Index i = 0; i < input_count; ++i) {
          const double x = block.inputs[static_cast<std::size_t>(i)][valid[k]];
          values(i, static_cast<Eigen::Index>(k)) = x;
          outside |= seen.outside(i, x);
        }
        block.counters[kOutOfRange] += outside;
      }
      const Eigen::MatrixXd estimate = model.predict(values);
      for (std::size_t k = 0; k < valid.size(); ++k) {
        double value = estimate(0, static_cast<Eigen::Index>(k));
        block.counters[kClamped] += bounds.clamp(value);
        block.outputs[0][valid[k]] = static_cast<float>(value);
      }
    }
  };
  const RunCounts counts = run_pixelwise(inputs, outputs, engine_options(params), kCounters, kernel, reporter);
  json result = raster_result(counts, outputs);
  result["CLAMPED_PIXELS"] = counts.counters[kClamped];
  result["OUT_OF_RANGE_PIXELS"] = counts.counters[kOutOfRange];
  if (counts.counters[kOutOfRange] > 0)
    reporter.warning(std::to_string(counts.counters[kOutOfRange]) +
                     " pixels have an input outside the range seen in training: the network extrapolates there");
  return result;
}

}  // namespace

void add_learning_commands(std::vector<Command>& registry) {
  registry.push_back({"trainmlp", "train a BP network (MLP) with Levenberg–Marquardt or Adam, as MATLAB's fitnet + trainlm",
                      R"~(smr trainmlp: train a multilayer perceptron ("BP network", papers 000, 001, 003) on samples.

Samples: SAMPLES {"names": [...], "features": [[...], ...], "target": [...], "groups": [...]} (one list per
input; null = missing: the sample is skipped and counted in SKIPPED_SAMPLES), or INPUT_RASTERS (list of
rasters) + TARGET_RASTER (every pixel where all are valid; REFERENCE defaults to TARGET_RASTER) with
INPUT_NAMES and MAX_SAMPLES (0 = all valid pixels, else that many chosen at random by SEED).

Network: HIDDEN neurons per hidden layer ("10", "10 5"; default 10), HIDDEN_ACTIVATION tansig (default) |
logsig | relu | purelin, OUTPUT_ACTIVATION purelin (default). Inputs and target are scaled by mapminmax:
y = (ymax - ymin)(x - xmin)/(xmax - xmin) + ymin, NORMALISATION minus_one_one ([-1, 1], default) |
zero_one ([0, 1], paper 001). Weights start by Nguyen-Widrow.

Training: TRAINER lm (default; Levenberg-Marquardt, dX = -(JᵀJ + μI)⁻¹Jᵀe, μ ×MU_INC until the error falls,
then ×MU_DEC; at most 5000 weights) | adam (LEARNING_RATE 1e-3, BATCH_SIZE 32). EPOCHS 1000, GOAL 0 (MSE in
target units²), MIN_GRADIENT 1e-7, MU 1e-3, MU_DEC 0.1, MU_INC 10, MU_MAX 1e10: MATLAB trainlm's defaults.
DIVISION random (default) | block | interleaved | group (whole groups to one subset) with TRAIN_RATIO 0.7,
VALIDATION_RATIO 0.15, TEST_RATIO 0.15 (divided by their sum; paper 000's 4:1 is 0.8, 0.2, 0). MAX_FAIL 6:
stop after 6 validation epochs in a row without a new minimum; the weights of the validation minimum
are kept. RESTARTS 1: train from that many initialisations (in parallel), keep the lowest validation
error. SEED 1: every random choice; the model file is the same for any THREADS.
MAX_MEMORY_MB 4096 (16 to 1048576): the memory training may take, estimated before it starts (lm: a
training samples × weights Jacobian and three weights × weights matrices per restart; adam: the
Jacobian of a batch; restarts running at once count once each). Above it: exit 2, naming what drives
the estimate (HIDDEN, MAX_SAMPLES, BATCH_SIZE, RESTARTS, THREADS); raise it if the memory is free.

OUTPUT_MODEL   the model file (JSON, format smr-model; see core/README.md)
Result: OUTPUT_MODEL; TRAIN_/VALIDATION_/TEST_/ALL_ R, R2, NSE, RMSE, UBRMSE, MAE, BIAS (mean(estimate -
reference)), N (null where undefined); SKIPPED_SAMPLES, BEST_RESTART, BEST_EPOCH, EPOCHS_RUN, STOP_REASON,
CURVES (RMSE per epoch in target units), PREDICTIONS (reference, estimate, subset per sample).
)~",
                      run_train_mlp, {"OUTPUT_MODEL"}});
  registry.push_back({"applymodel", "apply a trained model file to rasters, block by block",
                      std::string(R"~(smr applymodel: estimates from a model file made by smr trainmlp, pixel by pixel.

  MODEL        the model file (format smr-model, kind mlp); every field is checked before use
  INPUTS       one raster per model input, in the model's order (the count must match)
  INPUT_NAMES  the rasters' names (default: file names); a name equal to a different model input's
               name is an error, which catches swapped inputs
  CLAMP_MIN, CLAMP_MAX   optional: estimates beyond are set to the bound (CLAMPED_PIXELS)
  OUTPUT       the estimate, in the target's units (m³/m³ for soil moisture)
Inputs are scaled with the training minimum/maximum (mapminmax), the output scaled back. Valid pixels
with an input outside the training range are counted in OUT_OF_RANGE_PIXELS (extrapolation); the
extremes are rounded outward to Float32, so a pixel equal to one is inside.
)~") + kRasterHelp + "REFERENCE names an input as INPUTS_<i> (0-based).\n",
                      run_apply_model, {"OUTPUT"}});
}

}  // namespace smr
