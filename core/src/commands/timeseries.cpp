// smr pixelwisereconstruction and smr sensitivityanalysis: paper 001's one network per grid cell over
// its time series, with precipitation filtering, and the sweeps of its §3.2 (DESIGN §6).
#include "smr/commands.hpp"
#include "samples.hpp"
#include "smr/dates.hpp"
#include "smr/model_file.hpp"
#include "smr/pixel_networks.hpp"
#include "smr/raster.hpp"
#include "smr/sampling.hpp"
#include "smr/time_stacks.hpp"

#include <omp.h>

#include <atomic>
#include <cctype>
#include <cmath>
#include <exception>
#include <functional>
#include <iomanip>
#include <limits>
#include <mutex>
#include <sstream>

namespace smr {

namespace {

constexpr double kNan = std::numeric_limits<double>::quiet_NaN();
const std::vector<std::string> kCellDivisions = {"random", "block", "interleaved"};
// The share of the progress bar for sensitivityanalysis's scan of the stacks, before the trainings.
constexpr double kScanShare = 0.1;

// Paper 001's network: 12 hidden neurons, 80/10/10, inputs and target scaled to [0, 1].
TrainingDefaults paper001_defaults() {
  TrainingDefaults defaults;
  defaults.hidden = {12};
  defaults.ratios = {0.8, 0.1, 0.1};
  defaults.zero_one = true;
  return defaults;
}

// The stacks of a per-cell run, and where the kernel finds each of their bands in Block::inputs:
// predictors over `read` (training ∪ prediction), then the target and precipitation over `training`.
struct StackRun {
  std::vector<StackSource> predictors;
  std::vector<std::string> names;
  StackSource target;
  std::optional<StackSource> precipitation;
  Series series;
  BandRange training, prediction, read;

  std::vector<StackSource> sources() const {
    std::vector<StackSource> all;
    const auto restricted = [](StackSource stack, const BandRange& range) {
      stack.bands.clear();
      for (int b = range.first; b <= range.last; ++b) stack.bands.push_back(b);
      return stack;
    };
    all.push_back(restricted(target, training));  // first: the grid of the run unless REFERENCE
    if (precipitation) all.push_back(restricted(*precipitation, training));
    for (const auto& predictor : predictors) all.push_back(restricted(predictor, read));
    return all;
  }
  std::size_t target_offset(int band) const { return static_cast<std::size_t>(band - training.first); }
  std::size_t precipitation_offset(int band) const {
    return static_cast<std::size_t>(training.count() + band - training.first);
  }
  std::size_t predictor_offset(std::size_t predictor, int band) const {
    const std::size_t first = static_cast<std::size_t>(training.count()) * (precipitation ? 2 : 1);
    return first + predictor * static_cast<std::size_t>(read.count()) + static_cast<std::size_t>(band - read.first);
  }
};

StackRun stack_run(const Params& params, bool with_prediction) {
  StackRun run;
  run.predictors = stack_list_parameter(params, "PREDICTORS");
  run.target = stack_parameter(params, "TARGET");
  if (params.has("PRECIPITATION")) run.precipitation = stack_parameter(params, "PRECIPITATION");
  run.names = params.texts("PREDICTOR_NAMES");
  if (run.names.empty())
    for (const auto& predictor : run.predictors) run.names.push_back(file_stem(predictor.path));
  if (run.names.size() != run.predictors.size())
    throw InputError("PREDICTOR_NAMES has " + std::to_string(run.names.size()) + " names for " +
                     std::to_string(run.predictors.size()) + " PREDICTORS");
  std::vector<StackSource> all = {run.target};
  if (run.precipitation) all.push_back(*run.precipitation);
  all.insert(all.end(), run.predictors.begin(), run.predictors.end());
  run.series = common_series(all);
  run.training = period_parameter(params, "TRAINING_PERIOD", run.series);
  run.prediction = with_prediction ? period_parameter(params, "PREDICTION_PERIOD", run.series) : run.training;
  run.read = {std::min(run.training.first, run.prediction.first), std::max(run.training.last, run.prediction.last)};
  return run;
}

std::optional<double> precipitation_threshold(const Params& params, bool have_precipitation) {
  if (!params.has("PRECIPITATION_THRESHOLD")) {
    if (have_precipitation)
      throw InputError("PRECIPITATION is given without PRECIPITATION_THRESHOLD: give the threshold in mm (paper 001 uses 8.75)");
    return std::nullopt;
  }
  const double threshold = params.number_in("PRECIPITATION_THRESHOLD", 0.0, 1e6);
  if (!have_precipitation)
    throw InputError("PRECIPITATION_THRESHOLD " + describe(json(threshold)) +
                     " needs a PRECIPITATION stack (with pooled samples, SAMPLES.precipitation) to compare with; give "
                     "one or leave the threshold out");
  return threshold;
}

// A cell's pairs in time order: the training-period steps where every predictor and the target are
// valid, with the precipitation of each (NaN when missing or not given).
struct CellPairs {
  Eigen::MatrixXd features;  // inputs × pairs
  Eigen::MatrixXd target;    // 1 × pairs
  std::vector<double> precipitation;
  Eigen::Index count() const { return target.cols(); }
};

CellPairs gather_pairs(const Block& block, std::size_t pixel, const StackRun& run) {
  std::vector<int> steps;
  for (int b = run.training.first; b <= run.training.last; ++b) {
    bool valid = std::isfinite(block.inputs[run.target_offset(b)][pixel]);
    for (std::size_t i = 0; i < run.predictors.size() && valid; ++i)
      valid = std::isfinite(block.inputs[run.predictor_offset(i, b)][pixel]);
    if (valid) steps.push_back(b);
  }
  CellPairs pairs;
  const auto count = static_cast<Eigen::Index>(steps.size());
  pairs.features.resize(static_cast<Eigen::Index>(run.predictors.size()), count);
  pairs.target.resize(1, count);
  for (Eigen::Index k = 0; k < count; ++k) {
    const int b = steps[static_cast<std::size_t>(k)];
    pairs.target(0, k) = block.inputs[run.target_offset(b)][pixel];
    for (std::size_t i = 0; i < run.predictors.size(); ++i)
      pairs.features(static_cast<Eigen::Index>(i), k) = block.inputs[run.predictor_offset(i, b)][pixel];
    pairs.precipitation.push_back(run.precipitation ? block.inputs[run.precipitation_offset(b)][pixel] : kNan);
  }
  return pairs;
}

// Paper 001 §3.2.4: a step whose precipitation between the overpasses reaches the threshold is left
// out of training; so is one whose precipitation is unknown.
CellPairs below_threshold(const CellPairs& pairs, std::optional<double> threshold, long long& excluded) {
  if (!threshold) return pairs;
  std::vector<Eigen::Index> kept;
  for (Eigen::Index k = 0; k < pairs.count(); ++k)
    if (pairs.precipitation[static_cast<std::size_t>(k)] < *threshold) kept.push_back(k);  // false for NaN
  excluded += pairs.count() - static_cast<Eigen::Index>(kept.size());
  CellPairs filtered{pairs.features(Eigen::all, kept), pairs.target(Eigen::all, kept), {}};
  for (const Eigen::Index k : kept) filtered.precipitation.push_back(pairs.precipitation[static_cast<std::size_t>(k)]);
  return filtered;
}

std::string band_label(const Series& series, int band) {
  return series.days.empty() ? "band " + std::to_string(band) : format_iso_date(series.days[static_cast<std::size_t>(band - 1)]);
}

enum ReconstructionCounter {
  kTrained, kSkipped, kConstant, kDiverged, kExcluded, kExtrapolated, kMasked, kClamped, kReconstructionCounters
};
constexpr int kMetricsPerSubset = 4;  // r, RMSE, ubRMSE, bias
using SubsetMeans = std::array<std::array<double, kMetricsPerSubset>, kCellSubsets>;

// What the per-cell outputs report of a subset's metrics (paper 001 eq. 1–3, plus ubRMSE).
std::array<double, kMetricsPerSubset> reported_metrics(const Metrics& m) { return {m.r, m.rmse, m.ubrmse, m.bias}; }

// The mean over trained cells of each subset's reported metrics; a metric undefined in a cell (NaN) is
// left out of its mean. Callers add cells in a fixed order, so the sums do not depend on the threads.
class CellMetricMeans {
 public:
  void add(const CellFit& fit) {
    if (!fit.model) return;
    ++cells_;
    for (int s = 0; s < kCellSubsets; ++s) {
      const auto values = reported_metrics(fit.metrics[static_cast<std::size_t>(s)]);
      for (int k = 0; k < kMetricsPerSubset; ++k)
        if (std::isfinite(values[static_cast<std::size_t>(k)])) {
          sums_[s][k] += values[static_cast<std::size_t>(k)];
          ++counts_[s][k];
        }
    }
  }
  long long cells() const { return cells_; }
  SubsetMeans means() const {  // NaN where no cell has the metric
    SubsetMeans means{};
    for (int s = 0; s < kCellSubsets; ++s)
      for (int k = 0; k < kMetricsPerSubset; ++k)
        means[s][k] = counts_[s][k] > 0 ? sums_[s][k] / static_cast<double>(counts_[s][k]) : kNan;
    return means;
  }

 private:
  SubsetMeans sums_{};
  std::array<std::array<long long, kMetricsPerSubset>, kCellSubsets> counts_{};
  long long cells_ = 0;
};
constexpr int kCountBands = 5;

json run_pixelwise_reconstruction(const Params& params, Reporter& reporter) {
  params.reject_unknown(with_engine_keys(with_training_keys(
      {"PREDICTORS", "PREDICTOR_NAMES", "TARGET", "PRECIPITATION", "PRECIPITATION_THRESHOLD", "TRAINING_PERIOD",
       "PREDICTION_PERIOD", "MIN_PAIRS", "CLAMP_MIN", "CLAMP_MAX", "MASK_EXTRAPOLATED", "OUTPUT", "METRICS", "COUNTS"})));
  const TrainingChoice choice = training_choice(params, paper001_defaults(), kCellDivisions);
  const EstimateBounds bounds = EstimateBounds::from(params);
  const bool mask_extrapolated = params.boolean("MASK_EXTRAPOLATED", false);
  const long long min_pairs = params.integer_in("MIN_PAIRS", 2, 100000000, 50);
  check_min_pairs_divisible(min_pairs, choice);
  const std::string output_path = params.text("OUTPUT");
  const auto metrics_path = params.optional_output("METRICS");
  const auto counts_path = params.optional_output("COUNTS");
  EngineOptions options = engine_options(params);
  options.parallel_kernel = true;
  const int threads = resolve_threads(options.threads);

  const StackRun run = stack_run(params, true);
  TrainingShape shape = divided_shape(run.training.count(), choice.ratios);  // a cell with every day valid
  shape.inputs = static_cast<Eigen::Index>(run.predictors.size());
  shape.threads = threads;
  shape.per_cell = true;
  shape.sample_keys = "TRAINING_PERIOD";
  check_training_memory(choice, shape);
  const std::optional<double> threshold = precipitation_threshold(params, run.precipitation.has_value());
  reporter.info("training on bands " + std::to_string(run.training.first) + "–" + std::to_string(run.training.last) +
                " (" + band_label(run.series, run.training.first) + " to " + band_label(run.series, run.training.last) +
                "), reconstructing bands " + std::to_string(run.prediction.first) + "–" + std::to_string(run.prediction.last));

  std::vector<RasterTarget> outputs;
  RasterTarget reconstructed{"OUTPUT", output_path, "", {}};
  for (int b = run.prediction.first; b <= run.prediction.last; ++b) reconstructed.band_descriptions.push_back(band_label(run.series, b));
  outputs.push_back(reconstructed);
  if (metrics_path) {
    RasterTarget metrics{"METRICS", *metrics_path, "", {}};
    for (const char* subset : kCellSubsetNames)
      for (const char* metric : {"r", "RMSE", "ubRMSE", "bias (estimate - target)"})
        metrics.band_descriptions.push_back(std::string(metric) + " " + subset);
    outputs.push_back(metrics);
  }
  if (counts_path)
    outputs.push_back({"COUNTS", *counts_path, "",
                       {"valid pairs", "excluded by precipitation", "training samples", "validation samples", "test samples"}});

  std::atomic<long long> cells_done{0};
  CellMetricMeans cell_means;
  const CancelToken* cancel = reporter.cancel_token();

  const BlockKernel kernel = [&](Block& block) {
    const std::size_t n = block.size();
    const double grid_cells = static_cast<double>(block.grid->width) * block.grid->height;
    std::vector<CellFit> fits(n);
    std::vector<long long> valid_pairs(n, 0), excluded(n, 0), extrapolated(n, 0), masked(n, 0), clamped(n, 0);
    std::exception_ptr failure;
    std::mutex failure_mutex;
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
    for (std::size_t p = 0; p < n; ++p) {
      try {
        if (failure || (cancel && cancel->requested())) continue;
        const CellPairs pairs = gather_pairs(block, p, run);
        valid_pairs[p] = pairs.count();
        const CellPairs kept = below_threshold(pairs, threshold, excluded[p]);
        fits[p] = fit_cell(kept.features, kept.target, choice, min_pairs,
                           cell_seed(choice.settings.seed, block.grid_index(p)), cancel);
        CellFit& fit = fits[p];
        float* const* reconstructed_bands = block.outputs.data();
        if (fit.model) {
          std::vector<int> steps;
          for (int b = run.prediction.first; b <= run.prediction.last; ++b) {
            bool valid = true;
            for (std::size_t i = 0; i < run.predictors.size() && valid; ++i)
              valid = std::isfinite(block.inputs[run.predictor_offset(i, b)][p]);
            if (valid) steps.push_back(b);
            else reconstructed_bands[b - run.prediction.first][p] = std::numeric_limits<float>::quiet_NaN();
          }
          Eigen::MatrixXd x(static_cast<Eigen::Index>(run.predictors.size()), static_cast<Eigen::Index>(steps.size()));
          const TrainingRanges seen(fit.model->input_scaling);
          std::vector<bool> outside(steps.size(), false);
          for (std::size_t k = 0; k < steps.size(); ++k) {
            for (std::size_t i = 0; i < run.predictors.size(); ++i) {
              const auto row = static_cast<Eigen::Index>(i);
              const double value = block.inputs[run.predictor_offset(i, steps[k])][p];
              x(row, static_cast<Eigen::Index>(k)) = value;
              if (seen.outside(row, value)) outside[k] = true;
            }
            extrapolated[p] += outside[k];
          }
          const Eigen::MatrixXd estimate = fit.model->predict(x);
          for (std::size_t k = 0; k < steps.size(); ++k) {
            float& reconstructed = reconstructed_bands[steps[k] - run.prediction.first][p];
            if (mask_extrapolated && outside[k]) {  // masked before clamping: a masked step is never clamped
              reconstructed = std::numeric_limits<float>::quiet_NaN();
              ++masked[p];
              continue;
            }
            double value = estimate(0, static_cast<Eigen::Index>(k));
            clamped[p] += bounds.clamp(value);
            reconstructed = static_cast<float>(value);
          }
        } else {
          for (int b = run.prediction.first; b <= run.prediction.last; ++b)
            reconstructed_bands[b - run.prediction.first][p] = std::numeric_limits<float>::quiet_NaN();
        }
        std::size_t next = static_cast<std::size_t>(run.prediction.count());
        if (metrics_path) {
          for (const Metrics& metrics : fit.metrics)
            for (const double value : reported_metrics(metrics))
              block.outputs[next++][p] = fit.model ? static_cast<float>(value) : std::numeric_limits<float>::quiet_NaN();
        }
        if (counts_path) {
          const long long values[kCountBands] = {valid_pairs[p], excluded[p], fit.subset_sizes[0], fit.subset_sizes[1],
                                                 fit.subset_sizes[2]};
          for (const long long value : values) block.outputs[next++][p] = static_cast<float>(value);
        }
        reporter.progress(static_cast<double>(++cells_done) / grid_cells);
      } catch (...) {
        std::lock_guard<std::mutex> lock(failure_mutex);
        if (!failure) failure = std::current_exception();
      }
    }
    if (failure) std::rethrow_exception(failure);
    reporter.throw_if_cancelled();
    // Sums in pixel order, windows one after another: the same for any thread count.
    for (std::size_t p = 0; p < n; ++p) {
      const CellFit& fit = fits[p];
      block.counters[kExcluded] += excluded[p];
      block.counters[kExtrapolated] += extrapolated[p];
      block.counters[kMasked] += masked[p];
      block.counters[kClamped] += clamped[p];
      switch (fit.status) {
        case CellStatus::Trained: ++block.counters[kTrained]; break;
        case CellStatus::TooFewPairs: ++block.counters[kSkipped]; break;
        case CellStatus::ConstantTarget: ++block.counters[kConstant]; break;
        case CellStatus::Diverged: ++block.counters[kDiverged]; break;
      }
      cell_means.add(fit);
    }
  };
  const RunCounts counts = run_stackwise(run.sources(), outputs, options, kReconstructionCounters, kernel, reporter);

  json result;
  for (const auto& output : outputs) result[output.key] = output.path;
  const long long failed = counts.counters[kConstant] + counts.counters[kDiverged];
  result["CELLS"] = counts.valid + counts.invalid + counts.nodata;  // a stack run counts every pixel
  result["TRAINED_CELLS"] = counts.counters[kTrained];
  result["SKIPPED_CELLS"] = counts.counters[kSkipped];
  result["FAILED_CELLS"] = failed;
  result["EXCLUDED_BY_PRECIPITATION"] = counts.counters[kExcluded];
  result["EXTRAPOLATED_STEPS"] = counts.counters[kExtrapolated];
  result["MASKED_STEPS"] = counts.counters[kMasked];
  result["CLAMPED_STEPS"] = counts.counters[kClamped];
  result["TRAINING_BANDS"] = {run.training.first, run.training.last};
  result["PREDICTION_BANDS"] = {run.prediction.first, run.prediction.last};
  const char* metric_keys[kMetricsPerSubset] = {"R", "RMSE", "UBRMSE", "BIAS"};
  const SubsetMeans means = cell_means.means();
  for (int s = 0; s < kCellSubsets; ++s)
    for (int k = 0; k < kMetricsPerSubset; ++k)
      result[std::string("MEAN_") + kCellSubsetKeys[s] + "_" + metric_keys[k]] =
          std::isfinite(means[s][k]) ? json(means[s][k]) : json(nullptr);
  if (counts.counters[kSkipped] > 0)
    reporter.info(std::to_string(counts.counters[kSkipped]) + " cells have fewer than " + std::to_string(min_pairs) +
                  " valid pairs (MIN_PAIRS) and were skipped");
  if (counts.counters[kConstant] > 0)
    reporter.warning(std::to_string(counts.counters[kConstant]) + " cells have a constant target: nothing to learn, left nodata");
  if (counts.counters[kExtrapolated] > 0) {
    const std::string steps = std::to_string(counts.counters[kExtrapolated]) +
                              " reconstructed steps have a predictor outside the range its cell's network was trained on "
                              "(e.g. frozen days the target never covers)";
    if (mask_extrapolated) reporter.info(steps + ": left nodata (MASK_EXTRAPOLATED)");
    else reporter.warning(steps + ": the network extrapolates there; MASK_EXTRAPOLATED leaves them nodata");
  }
  if (counts.counters[kClamped] > 0)
    reporter.info(std::to_string(counts.counters[kClamped]) + " reconstructed steps were set to CLAMP_MIN or CLAMP_MAX");
  if (counts.counters[kDiverged] > 0)
    reporter.warning(std::to_string(counts.counters[kDiverged]) + " cells diverged in training and were left nodata");
  return result;
}

// ---------------------------------------------------------------------------------------------
// Sensitivity analysis (paper 001 §3.2, Fig. 3): one axis swept, K repeats per setting, mean metrics
// over cells (or over the pooled samples).

struct SweepCell {
  CellPairs pairs;
  std::uint64_t index = 0;  // row-major cell index (0 for pooled samples): the seed depends on it
};

struct Setting {
  std::string label;
  json value;
  TrainingChoice choice;
  std::optional<double> threshold;
  std::vector<Eigen::Index> inputs;  // rows of the features
};


struct SettingScore {
  std::vector<SubsetMeans> repeats;          // mean over the cells trained in that repeat
  std::vector<long long> trained;            // cells trained per repeat
  SubsetMeans mean{};                        // mean over repeats that trained a cell
  int runs = 0;
  double overall_rmse() const { return mean[kOverallSubset][1]; }
};

class SweepProgress {
 public:
  SweepProgress(Reporter& reporter, long long total) : reporter_(reporter), total_(std::max(1LL, total)) {}
  void task_done() { reporter_.progress(static_cast<double>(++done_) / static_cast<double>(total_)); }

 private:
  Reporter& reporter_;
  long long total_;
  std::atomic<long long> done_{0};
};

SettingScore evaluate(const Setting& setting, const std::vector<SweepCell>& cells, int repeats, long long min_pairs,
                      std::uint64_t seed, int threads, SweepProgress& progress, const CancelToken* cancel) {
  const long long tasks = static_cast<long long>(cells.size()) * repeats;
  std::vector<CellFit> fits(static_cast<std::size_t>(tasks));
  std::exception_ptr failure;
  std::mutex failure_mutex;
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
  for (long long task = 0; task < tasks; ++task) {
    try {
      if (failure || (cancel && cancel->requested())) continue;
      const SweepCell& cell = cells[static_cast<std::size_t>(task % static_cast<long long>(cells.size()))];
      const auto repeat = static_cast<std::uint64_t>(task / static_cast<long long>(cells.size()));
      long long excluded = 0;
      const CellPairs kept = below_threshold(cell.pairs, setting.threshold, excluded);
      // The same seed for a cell and repeat in every setting: settings differ by the setting alone.
      try {
        fits[static_cast<std::size_t>(task)] = fit_cell(kept.features(setting.inputs, Eigen::all), kept.target, setting.choice,
                                                        min_pairs, cell_seed(cell_seed(seed, repeat + 1), cell.index), cancel);
      } catch (const InputError& error) {
        if (excluded == 0) throw;
        // The filter, not the samples as given, left too few: say which setting did.
        throw InputError("the precipitation threshold " + describe(json(*setting.threshold)) +
                         " mm (PRECIPITATION_THRESHOLD, or a VALUES entry of AXIS precipitation) leaves " +
                         std::to_string(kept.count()) + " of " + std::to_string(cell.pairs.count()) + " samples: " +
                         error.what());
      }
      progress.task_done();
    } catch (...) {
      std::lock_guard<std::mutex> lock(failure_mutex);
      if (!failure) failure = std::current_exception();
    }
  }
  if (failure) std::rethrow_exception(failure);
  if (cancel && cancel->requested()) throw Cancelled();

  SettingScore score;
  SubsetMeans sum_over_repeats{};
  for (int repeat = 0; repeat < repeats; ++repeat) {
    CellMetricMeans repeat_means;
    for (std::size_t c = 0; c < cells.size(); ++c) repeat_means.add(fits[static_cast<std::size_t>(repeat) * cells.size() + c]);
    const SubsetMeans means = repeat_means.means();
    const long long trained = repeat_means.cells();
    score.repeats.push_back(means);
    score.trained.push_back(trained);
    if (trained == 0) continue;
    ++score.runs;
    for (int s = 0; s < kCellSubsets; ++s)
      for (int k = 0; k < kMetricsPerSubset; ++k) sum_over_repeats[s][k] += means[s][k];
  }
  for (int s = 0; s < kCellSubsets; ++s)
    for (int k = 0; k < kMetricsPerSubset; ++k)
      score.mean[s][k] = score.runs > 0 ? sum_over_repeats[s][k] / score.runs : kNan;
  return score;
}

std::string format_number(double value) {
  std::ostringstream out;
  out << std::setprecision(10) << value;
  return out.str();
}

// VALUES as texts: a list of numbers or strings, or one string split on commas, semicolons or spaces.
std::vector<std::string> value_texts(const Params& params) {
  std::vector<std::string> texts;
  const json& value = params.value("VALUES");
  if (value.is_array()) {
    for (const auto& item : value) {
      if (item.is_number()) texts.push_back(format_number(item.get<double>()));
      else if (item.is_string()) texts.push_back(item.get<std::string>());
      else throw InputError("VALUES must hold numbers or strings, got " + describe(item));
    }
    return texts;
  }
  if (!value.is_string() && !value.is_number()) throw InputError("VALUES must be a list, got " + describe(value));
  std::string item;
  for (const char c : (value.is_number() ? format_number(value.get<double>()) : value.get<std::string>()) + ",") {
    if (c == ',' || c == ';' || std::isspace(static_cast<unsigned char>(c))) {
      if (!item.empty()) texts.push_back(item);
      item.clear();
    } else {
      item += c;
    }
  }
  return texts;
}

double value_number(const std::string& text, const char* what) {
  try {
    std::size_t used = 0;
    const double number = std::stod(text, &used);
    if (used == text.size() && std::isfinite(number)) return number;
  } catch (const std::exception&) {
  }
  throw InputError(std::string("VALUES entry '") + text + "' is not " + what);
}

const std::vector<std::string> kPaper001Ratios = {"40-15-45", "40-30-30", "40-45-15", "50-15-35", "50-20-30",
                                                  "50-25-25", "60-10-30", "60-20-20", "60-30-10", "70-10-20",
                                                  "70-15-15", "70-20-10", "80-10-10"};
const std::vector<std::string> kPaper001Thresholds = {"8.75", "10", "11.25", "12.5", "13.75", "15", "16.25", "17.5"};

// `check_division` throws when a setting's ratios cannot divide the samples a cell will have.
std::vector<Setting> swept_settings(const std::string& axis, const Params& params, const Setting& base,
                                    const std::function<void(const TrainingChoice&)>& check_division) {
  std::vector<std::string> texts;
  if (params.has("VALUES")) {
    if (axis == "inputs") throw InputError("VALUES is not used with AXIS inputs: forward addition starts from BASE_INPUTS");
    texts = value_texts(params);
    if (texts.empty()) throw InputError("VALUES is empty: give the settings to compare");
  } else if (axis == "hidden") {
    for (int n = 2; n <= 12; ++n) texts.push_back(std::to_string(n));
  } else if (axis == "ratios") {
    texts = kPaper001Ratios;
  } else if (axis == "precipitation") {
    texts = kPaper001Thresholds;
  }
  std::vector<Setting> settings;
  for (const auto& text : texts) {
    Setting setting = base;
    setting.label = text;
    if (axis == "hidden") {
      const double neurons = value_number(text, "a neuron count");
      if (neurons != std::floor(neurons) || neurons < 1 || neurons > 1000)
        throw InputError("VALUES entry '" + text + "': hidden neurons must be whole numbers from 1 to 1000");
      setting.choice.settings.hidden = {static_cast<int>(neurons)};
      setting.value = static_cast<int>(neurons);
    } else if (axis == "ratios") {
      std::vector<double> parts;
      std::string part;
      for (const char c : text + "-") {
        if (c == '-' || c == '/' || c == ':') {
          parts.push_back(value_number(part, "a train-validation-test ratio such as 80-10-10"));
          part.clear();
        } else {
          part += c;
        }
      }
      if (parts.size() != 3 || parts[0] <= 0 || parts[1] < 0 || parts[2] < 0)
        throw InputError("VALUES entry '" + text + "': give training-validation-test percentages such as 80-10-10, training > 0");
      setting.choice.ratios = {parts[0], parts[1], parts[2]};
      setting.value = parts;
      try {
        check_division(setting.choice);
      } catch (const InputError& error) {
        throw InputError("VALUES entry '" + text + "': " + error.what());
      }
    } else {  // precipitation
      const double threshold = value_number(text, "a precipitation threshold in mm");
      if (threshold < 0) throw InputError("VALUES entry '" + text + "': a precipitation threshold must be ≥ 0 mm");
      setting.threshold = threshold;
      setting.value = threshold;
    }
    settings.push_back(std::move(setting));
  }
  return settings;
}

std::vector<SweepCell> sampled_cells(const Params& params, const StackRun& run, long long min_pairs, std::uint64_t seed,
                                     Reporter& reporter) {
  const long long wanted = params.integer_in("CELLS", 0, 100000000, 100);
  using CellSample = SeededSample<CellPairs>;
  const std::size_t capacity = wanted > 0 ? static_cast<std::size_t>(wanted) : CellSample::kEverything;
  CellSample sample(capacity, seed);
  std::mutex mutex;
  std::atomic<long long> eligible{0};
  const BlockVisitor visit = [&](const Block& block) {
    CellSample window(capacity, seed);
    for (std::size_t p = 0; p < block.size(); ++p) {
      CellPairs pairs = gather_pairs(block, p, run);
      if (pairs.count() < min_pairs) continue;
      ++eligible;
      window.add(block.grid_index(p), std::move(pairs));
    }
    std::lock_guard<std::mutex> lock(mutex);
    sample.absorb(std::move(window));
  };
  scan_stackwise(run.sources(), engine_options(params), visit, reporter);
  std::vector<SweepCell> cells;
  for (auto& item : sample.take_in_index_order()) cells.push_back({std::move(item.payload), item.index});
  if (cells.empty())
    throw InputError("no cell has MIN_PAIRS " + std::to_string(min_pairs) + " valid pairs in the training period; lower MIN_PAIRS or widen TRAINING_PERIOD");
  reporter.info(std::to_string(cells.size()) + " of the " + std::to_string(eligible.load()) + " cells with at least " +
                std::to_string(min_pairs) + " pairs are used");
  return cells;
}

json score_json(const SettingScore& score) {
  json subsets = json::object();
  for (int s = 0; s < kCellSubsets; ++s) {
    json entry;
    const char* names[kMetricsPerSubset] = {"r", "rmse", "ubrmse", "bias"};
    for (int k = 0; k < kMetricsPerSubset; ++k)
      entry[names[k]] = std::isfinite(score.mean[s][k]) ? json(score.mean[s][k]) : json(nullptr);
    subsets[s == kTrainingSubset ? "train" : s == kOverallSubset ? "all" : kCellSubsetNames[s]] = entry;
  }
  return subsets;
}

// Among scores[first…], the lowest mean overall RMSE (paper 001 §3.3: the overall samples' error is
// the criterion).
std::size_t best_of(const std::vector<SettingScore>& scores, std::size_t first = 0) {
  std::size_t best = first;
  for (std::size_t i = first + 1; i < scores.size(); ++i)
    if (std::isfinite(scores[i].overall_rmse()) &&
        (!std::isfinite(scores[best].overall_rmse()) || scores[i].overall_rmse() < scores[best].overall_rmse()))
      best = i;
  return best;
}

json run_sensitivity_analysis(const Params& params, Reporter& reporter) {
  params.reject_unknown(with_engine_keys(with_training_keys(
      {"SAMPLES", "PREDICTORS", "PREDICTOR_NAMES", "TARGET", "PRECIPITATION", "PRECIPITATION_THRESHOLD", "TRAINING_PERIOD",
       "MIN_PAIRS", "CELLS", "AXIS", "VALUES", "BASE_INPUTS", "REPEATS", "OUTPUT_CSV"})));
  const std::string axis = params.choice("AXIS", {"hidden", "ratios", "inputs", "precipitation"});
  const bool pooled = params.has("SAMPLES");
  if (pooled == params.has("PREDICTORS"))
    throw InputError(pooled ? "give either SAMPLES or PREDICTORS with TARGET, not both"
                            : "no samples: give SAMPLES (pooled samples) or PREDICTORS with TARGET (stacks)");
  if (pooled)
    params.reject_unused({"TARGET", "PRECIPITATION", "TRAINING_PERIOD", "MIN_PAIRS", "CELLS", "PREDICTOR_NAMES",
                          "RESAMPLING", "REFERENCE"},
                         "applies to stacks (PREDICTORS), not to pooled SAMPLES");
  params.reject_unused({"CREATE_OPTIONS"}, "is not used by sensitivityanalysis: it writes a CSV table, no raster");
  if (axis != "inputs") params.reject_unused({"BASE_INPUTS"}, "applies to AXIS inputs only, not to AXIS " + axis);
  const TrainingChoice choice = training_choice(params, paper001_defaults(), kCellDivisions);
  const int repeats = static_cast<int>(params.integer_in("REPEATS", 1, 1000, 3));
  const std::string csv_path = params.text("OUTPUT_CSV");
  const int threads = resolve_threads(static_cast<int>(params.integer_in("THREADS", 0, 1024, 0)));
  const std::uint64_t seed = choice.settings.seed;

  std::vector<SweepCell> cells;
  std::vector<std::string> names;
  bool have_precipitation = false;
  long long min_pairs = 2;
  if (pooled) {
    Samples samples = samples_from_json(params, true);
    if (samples.skipped > 0)
      reporter.warning(std::to_string(samples.skipped) + " samples skipped: a feature or the target is missing");
    names = samples.names;
    have_precipitation = !samples.precipitation.empty();
    CellPairs pairs{std::move(samples.features), std::move(samples.target), std::move(samples.precipitation)};
    if (!have_precipitation) pairs.precipitation.assign(static_cast<std::size_t>(pairs.count()), kNan);
    cells.push_back({std::move(pairs), 0});
  } else {
    min_pairs = params.integer_in("MIN_PAIRS", 2, 100000000, 50);
    check_min_pairs_divisible(min_pairs, choice);
    const StackRun run = stack_run(params, false);
    names = run.names;
    have_precipitation = run.precipitation.has_value();
    // The scan of the stacks is the first tenth of the bar, the trainings the rest.
    reporter.set_progress_span(0.0, kScanShare);
    cells = sampled_cells(params, run, min_pairs, seed, reporter);
    reporter.set_progress_span(kScanShare, 1.0);
  }
  std::optional<double> threshold;
  if (params.has("PRECIPITATION_THRESHOLD") || (!pooled && have_precipitation && axis != "precipitation"))
    threshold = precipitation_threshold(params, have_precipitation);
  if (axis == "precipitation" && !have_precipitation)
    throw InputError("AXIS precipitation needs precipitation: a PRECIPITATION stack, or SAMPLES.precipitation (a precipitation field)");
  if (axis == "precipitation" && threshold)
    throw InputError("PRECIPITATION_THRESHOLD is what AXIS precipitation sweeps: give the thresholds as VALUES instead");

  Setting base{"", json(), choice, threshold, {}};
  for (Eigen::Index i = 0; i < static_cast<Eigen::Index>(names.size()); ++i) base.inputs.push_back(i);
  std::vector<Setting> settings;
  std::vector<SettingScore> scores;
  json selected = json::array();
  const CancelToken* cancel = reporter.cancel_token();
  Eigen::Index most_pairs = 0;
  for (const auto& cell : cells) most_pairs = std::max(most_pairs, cell.pairs.count());
  const auto check_memory = [&](const TrainingChoice& setting) {  // before any setting trains
    TrainingShape shape = divided_shape(most_pairs, setting.ratios);
    shape.inputs = static_cast<Eigen::Index>(names.size());
    shape.threads = threads;
    shape.trainings = static_cast<long long>(cells.size()) * repeats;
    shape.per_cell = true;
    shape.sample_keys = pooled ? "SAMPLES" : "TRAINING_PERIOD";
    check_training_memory(setting, shape);
  };

  if (axis == "inputs") {
    check_memory(choice);  // every input: the largest network of the sweep
    std::vector<std::string> base_names = params.texts("BASE_INPUTS");
    if (base_names.empty()) {
      const std::size_t count = names.size() > 5 ? 5 : 1;
      base_names.assign(names.begin(), names.begin() + static_cast<std::ptrdiff_t>(count));
    }
    std::vector<Eigen::Index> current, remaining;
    for (const auto& name : base_names) {
      const auto found = std::find(names.begin(), names.end(), name);
      if (found == names.end()) {
        std::string listed;
        for (const auto& n : names) listed += (listed.empty() ? "" : ", ") + n;
        throw InputError("BASE_INPUTS names '" + name + "', which is not an input; the inputs are " + listed);
      }
      current.push_back(found - names.begin());
    }
    for (Eigen::Index i = 0; i < static_cast<Eigen::Index>(names.size()); ++i)
      if (std::find(current.begin(), current.end(), i) == current.end()) remaining.push_back(i);
    const long long m = static_cast<long long>(remaining.size());
    SweepProgress progress(reporter, (1 + m * (m + 1) / 2) * static_cast<long long>(cells.size()) * repeats);
    const auto setting_for = [&](const std::vector<Eigen::Index>& inputs, const std::string& label) {
      Setting setting = base;
      setting.inputs = inputs;
      setting.label = label;
      json value = json::array();
      for (const Eigen::Index i : inputs) value.push_back(names[static_cast<std::size_t>(i)]);
      setting.value = value;
      return setting;
    };
    std::string label = "base";
    settings.push_back(setting_for(current, label));
    scores.push_back(evaluate(settings.back(), cells, repeats, min_pairs, seed, threads, progress, cancel));
    while (!remaining.empty()) {
      const std::size_t round_first = settings.size();
      for (const Eigen::Index candidate : remaining) {
        std::vector<Eigen::Index> inputs = current;
        inputs.push_back(candidate);
        settings.push_back(setting_for(inputs, label + "+" + names[static_cast<std::size_t>(candidate)]));
        scores.push_back(evaluate(settings.back(), cells, repeats, min_pairs, seed, threads, progress, cancel));
      }
      const std::size_t round_best = best_of(scores, round_first);
      const Eigen::Index added = settings[round_best].inputs.back();
      current.push_back(added);
      remaining.erase(std::find(remaining.begin(), remaining.end(), added));
      label = settings[round_best].label;
      selected.push_back(names[static_cast<std::size_t>(added)]);
    }
  } else {
    // Stacks: every cell trained has at least MIN_PAIRS pairs; pooled: the samples themselves.
    const long long divided = pooled ? static_cast<long long>(cells.front().pairs.count()) : min_pairs;
    settings = swept_settings(axis, params, base, [&](const TrainingChoice& setting) {
      if (pooled)
        divide_samples(divided, setting.division, setting.ratios, {}, setting.settings.seed);
      else
        check_min_pairs_divisible(divided, setting);
    });
    for (const auto& setting : settings) check_memory(setting.choice);
    SweepProgress progress(reporter, static_cast<long long>(settings.size() * cells.size()) * repeats);
    for (const auto& setting : settings)
      scores.push_back(evaluate(setting, cells, repeats, min_pairs, seed, threads, progress, cancel));
  }

  // The CSV: one row per setting × repeat × subset.
  std::ostringstream csv;
  csv << "axis,setting,repeat,subset,cells,mean_r,mean_rmse,mean_ubrmse,mean_bias\n";
  for (std::size_t i = 0; i < settings.size(); ++i)
    for (int repeat = 0; repeat < repeats; ++repeat)
      for (int s = 0; s < kCellSubsets; ++s) {
        csv << axis << ",\"" << settings[i].label << "\"," << repeat + 1 << "," << kCellSubsetNames[s] << ","
            << scores[i].trained[static_cast<std::size_t>(repeat)];
        for (int k = 0; k < kMetricsPerSubset; ++k) {
          const double value = scores[i].repeats[static_cast<std::size_t>(repeat)][s][k];
          csv << "," << (std::isfinite(value) ? format_number(value) : "");
        }
        csv << "\n";
      }
  write_file_atomically("OUTPUT_CSV", csv_path, csv.str());

  json summary = json::array();
  for (std::size_t i = 0; i < settings.size(); ++i) {
    json entry = score_json(scores[i]);
    entry["label"] = settings[i].label;
    entry["value"] = settings[i].value;
    entry["runs"] = scores[i].runs;
    summary.push_back(entry);
  }
  const std::size_t best = best_of(scores);
  json result = {{"OUTPUT_CSV", csv_path}, {"AXIS", axis}, {"SETTINGS", summary}, {"BEST_INDEX", best},
                 {"BEST_SETTING", settings[best].label}, {"CELLS_USED", cells.size()}};
  if (axis == "inputs") result["SELECTED_INPUTS"] = selected;
  reporter.info("best setting: " + settings[best].label + " (mean overall RMSE " + format_number(scores[best].overall_rmse()) + ")");
  return result;
}

}  // namespace

void add_timeseries_commands(std::vector<Command>& registry) {
  registry.push_back({"pixelwisereconstruction",
                      "train one BP network per grid cell over its time series and reconstruct the series (paper 001)",
                      std::string(R"~(smr pixelwisereconstruction: paper 001's soil-moisture reconstruction, one network per grid cell.

Stacks are multi-band rasters, band = time step, ideally with ISO dates as band descriptions:
  PREDICTORS        list of stacks (paper 001: AMSR2 TB F1-F5, GLDAS SM, LST, ST, MODIS LAI)
  PREDICTOR_NAMES   their names (default: the file names)
  TARGET            the product to learn (paper 001: SMAP soil moisture, m³/m³); REFERENCE grid by default
  PRECIPITATION     optional: precipitation between the two overpasses, mm
  PRECIPITATION_THRESHOLD   mm; a step whose precipitation is >= it (or missing) is left out of
                    training (paper 001 §3.2.4, 8.75 mm there); needed with PRECIPITATION, invalid without
  TRAINING_PERIOD, PREDICTION_PERIOD   "all" (default), "first:last" band numbers (1-based, inclusive)
                    or "YYYY-MM-DD:YYYY-MM-DD" on the bands' dates
  MIN_PAIRS         50: a cell with fewer valid pairs (all predictors and the target valid, not excluded
                    by precipitation) in the training period is skipped: nodata, counted in SKIPPED_CELLS
Each cell: inputs and target scaled to [0, 1] (NORMALISATION zero_one; minus_one_one), its pairs divided
80/10/10 (TRAIN_RATIO, VALIDATION_RATIO, TEST_RATIO; DIVISION random | block | interleaved), a network
with HIDDEN 12 tansig neurons and a linear output trained by Levenberg-Marquardt with early stopping
(EPOCHS, GOAL, MIN_GRADIENT, MU, MU_DEC, MU_INC, MU_MAX, MAX_FAIL, RESTARTS, TRAINER, LEARNING_RATE,
BATCH_SIZE as smr trainmlp). SEED 1: cell c trains with a seed from SEED and c alone, so the outputs are
the same for any THREADS. Cells run in parallel, THREADS at once, each with its RESTARTS in turn.
MAX_MEMORY_MB 4096 (16 to 1048576): before any cell trains, the memory of THREADS trainings on a cell
with every day of TRAINING_PERIOD valid is estimated (as smr trainmlp); above the limit: exit 2.

  OUTPUT    the reconstructed stack over PREDICTION_PERIOD, in the target's units; nodata where a
            predictor is missing or the cell has no network; band descriptions = dates
  METRICS   optional, 16 bands: r, RMSE, ubRMSE, bias (mean(estimate - target); paper 001 eq. 3 has
            the opposite sign) for training, validation, test and overall pairs (paper 001 eq. 1-3, Fig. 4)
  COUNTS    optional, 5 bands: valid pairs, excluded by precipitation, training, validation, test samples
  MASK_EXTRAPOLATED   false (default) | true: a step with a predictor outside the range its cell's
            network saw in training (extrapolation, e.g. frozen days) is nodata (MASKED_STEPS)
  CLAMP_MIN, CLAMP_MAX   optional, target units: the other estimates beyond are set to the bound
            (CLAMPED_STEPS); METRICS are of the networks before masking and clamping
Result: OUTPUT, METRICS, COUNTS, CELLS, TRAINED_CELLS, SKIPPED_CELLS, FAILED_CELLS (constant target or
diverged), EXCLUDED_BY_PRECIPITATION, EXTRAPOLATED_STEPS (reconstructed cell-steps with a predictor
outside the range the cell's network saw in training, the extremes rounded outward to Float32),
MASKED_STEPS, CLAMPED_STEPS, TRAINING_BANDS, PREDICTION_BANDS, MEAN_<S>_R / _RMSE / _UBRMSE /
_BIAS for S = TRAIN, VALIDATION, TEST, ALL (means over trained cells).
Stacks on another grid are aligned (RESAMPLING, REFERENCE); THREADS, CREATE_OPTIONS as for every raster
command (stack outputs default to small band-interleaved tiles).
)~"),
                      run_pixelwise_reconstruction, {"OUTPUT", "METRICS", "COUNTS"}});
  registry.push_back({"sensitivityanalysis",
                      "sweep one setting of the per-cell or pooled BP network and compare mean metrics (paper 001 Fig. 3)",
                      R"~(smr sensitivityanalysis: paper 001's sensitivity analysis (§3.2, Fig. 3), one axis at a time.

Samples: pooled SAMPLES (as smr trainmlp, plus an optional "precipitation" list, mm), or stacks as smr
pixelwisereconstruction (PREDICTORS, PREDICTOR_NAMES, TARGET, PRECIPITATION, TRAINING_PERIOD, MIN_PAIRS 50)
with CELLS (default 100, 0 = all): that many cells with at least MIN_PAIRS pairs, chosen at random by SEED.
  AXIS      hidden | ratios | inputs | precipitation
  VALUES    the settings: hidden neurons (default 2-12); ratios "train-validation-test" (default the 13 of
            §3.2.3, 40-15-45 ... 80-10-10); precipitation thresholds in mm (default the 8 of §3.2.4,
            8.75 ... 17.5; a step with precipitation >= the threshold is left out of training)
  BASE_INPUTS   AXIS inputs: forward addition (§3.2.1) from these inputs (default the first 5, or the
            first one when there are 5 or fewer); each round adds the remaining input with the lowest
            mean overall RMSE, until all are in; every combination evaluated is a setting
  REPEATS   3: trainings per setting and cell, each with its own seed (the same seeds for every setting)
The settings not swept: HIDDEN 12, TRAIN_RATIO 0.8, VALIDATION_RATIO 0.1, TEST_RATIO 0.1,
PRECIPITATION_THRESHOLD (needed with PRECIPITATION unless AXIS precipitation), NORMALISATION zero_one,
DIVISION random, and the trainer keys of smr trainmlp. MAX_MEMORY_MB 4096: every setting's memory
(THREADS trainings at once on the largest cell or the pooled samples) is estimated before the first
one trains; above the limit: exit 2, naming the setting's HIDDEN.
  OUTPUT_CSV   one row per setting, repeat and subset (training, validation, test, overall): axis, setting,
               repeat, subset, cells (how many were averaged; 1 for pooled samples), mean_r, mean_rmse,
               mean_ubrmse, mean_bias
               (bias = mean(estimate - reference), target units)
Result: OUTPUT_CSV, AXIS, SETTINGS (per setting: label, value, and for train, validation, test, all the mean
over repeats of the mean over cells of r, rmse, ubrmse, bias; runs), BEST_INDEX and BEST_SETTING (lowest mean
overall RMSE, paper 001 §3.3), SELECTED_INPUTS (AXIS inputs), CELLS_USED. THREADS: cells and repeats run
in parallel; the results are the same for any THREADS.
)~",
                      run_sensitivity_analysis, {"OUTPUT_CSV"}});
}

}  // namespace smr
