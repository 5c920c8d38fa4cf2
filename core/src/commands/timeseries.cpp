// smr pixelwisereconstruction and smr sensitivityanalysis: paper 001's one network per grid cell over
// its time series, with precipitation filtering, and the sweeps of its §3.2 (DESIGN §6).
#include "smr/commands.hpp"
#include "smr/dates.hpp"
#include "smr/pixel_networks.hpp"
#include "smr/raster.hpp"
#include "smr/sampling.hpp"
#include "smr/time_stacks.hpp"

#include <omp.h>

#include <atomic>
#include <cctype>
#include <cmath>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <limits>
#include <mutex>
#include <sstream>

namespace smr {

namespace {

constexpr double kNan = std::numeric_limits<double>::quiet_NaN();
const std::vector<std::string> kCellDivisions = {"random", "block", "interleaved"};

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

std::string file_stem(const std::string& path) { return std::filesystem::path(path).stem().string(); }

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
                     " needs a PRECIPITATION stack to compare with; give one or leave the threshold out");
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

enum ReconstructionCounter { kTrained, kSkipped, kConstant, kDiverged, kExcluded, kReconstructionCounters };
constexpr int kMetricsPerSubset = 4;  // r, RMSE, ubRMSE, bias
constexpr int kCountBands = 5;

json run_pixelwise_reconstruction(const Params& params, Reporter& reporter) {
  params.reject_unknown(with_engine_keys(with_training_keys(
      {"PREDICTORS", "PREDICTOR_NAMES", "TARGET", "PRECIPITATION", "PRECIPITATION_THRESHOLD", "TRAINING_PERIOD",
       "PREDICTION_PERIOD", "MIN_PAIRS", "OUTPUT", "METRICS", "COUNTS"})));
  const TrainingChoice choice = training_choice(params, paper001_defaults(), kCellDivisions);
  const long long min_pairs = params.integer_in("MIN_PAIRS", 2, 100000000, 50);
  check_min_pairs_divisible(min_pairs, choice);
  const std::string output_path = params.text("OUTPUT");
  const auto metrics_path = params.optional_output("METRICS");
  const auto counts_path = params.optional_output("COUNTS");
  EngineOptions options = engine_options(params);
  options.parallel_kernel = true;
  const int threads = resolve_threads(options.threads);

  const StackRun run = stack_run(params, true);
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
  std::array<double, kCellSubsets * kMetricsPerSubset> metric_sums{};
  std::array<long long, kCellSubsets * kMetricsPerSubset> metric_counts{};
  long long grid_cells = 0;
  const CancelToken* cancel = reporter.cancel_token();

  const BlockKernel kernel = [&](Block& block) {
    const std::size_t n = block.size();
    grid_cells = static_cast<long long>(block.grid->width) * block.grid->height;
    std::vector<CellFit> fits(n);
    std::vector<long long> valid_pairs(n, 0), excluded(n, 0);
    std::exception_ptr failure;
    std::mutex failure_mutex;
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
    for (std::size_t p = 0; p < n; ++p) {
      try {
        if (failure || (cancel && cancel->requested())) continue;
        const CellPairs pairs = gather_pairs(block, p, run);
        valid_pairs[p] = pairs.count();
        const CellPairs kept = below_threshold(pairs, threshold, excluded[p]);
        const std::uint64_t index = static_cast<std::uint64_t>(block.y0 + static_cast<int>(p) / block.width) * block.grid->width +
                                    static_cast<std::uint64_t>(block.x0 + static_cast<int>(p) % block.width);
        fits[p] = fit_cell(kept.features, kept.target, choice, min_pairs, cell_seed(choice.settings.seed, index), cancel);
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
          for (std::size_t k = 0; k < steps.size(); ++k)
            for (std::size_t i = 0; i < run.predictors.size(); ++i)
              x(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(k)) = block.inputs[run.predictor_offset(i, steps[k])][p];
          const Eigen::MatrixXd estimate = fit.model->predict(x);
          for (std::size_t k = 0; k < steps.size(); ++k)
            reconstructed_bands[steps[k] - run.prediction.first][p] = static_cast<float>(estimate(0, static_cast<Eigen::Index>(k)));
        } else {
          for (int b = run.prediction.first; b <= run.prediction.last; ++b)
            reconstructed_bands[b - run.prediction.first][p] = std::numeric_limits<float>::quiet_NaN();
        }
        std::size_t next = static_cast<std::size_t>(run.prediction.count());
        if (metrics_path) {
          for (int s = 0; s < kCellSubsets; ++s) {
            const Metrics& m = fit.metrics[static_cast<std::size_t>(s)];
            const double values[kMetricsPerSubset] = {m.r, m.rmse, m.ubrmse, m.bias};
            for (const double value : values)
              block.outputs[next++][p] = fit.model ? static_cast<float>(value) : std::numeric_limits<float>::quiet_NaN();
          }
        }
        if (counts_path) {
          const long long values[kCountBands] = {valid_pairs[p], excluded[p], fit.subset_sizes[0], fit.subset_sizes[1],
                                                 fit.subset_sizes[2]};
          for (const long long value : values) block.outputs[next++][p] = static_cast<float>(value);
        }
        reporter.progress(static_cast<double>(++cells_done) / static_cast<double>(std::max(1LL, grid_cells)));
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
      switch (fit.status) {
        case CellStatus::Trained: ++block.counters[kTrained]; break;
        case CellStatus::TooFewPairs: ++block.counters[kSkipped]; break;
        case CellStatus::ConstantTarget: ++block.counters[kConstant]; break;
        case CellStatus::Diverged: ++block.counters[kDiverged]; break;
      }
      if (!fit.model) continue;
      for (int s = 0; s < kCellSubsets; ++s) {
        const Metrics& m = fit.metrics[static_cast<std::size_t>(s)];
        const double values[kMetricsPerSubset] = {m.r, m.rmse, m.ubrmse, m.bias};
        for (int k = 0; k < kMetricsPerSubset; ++k)
          if (std::isfinite(values[k])) {
            metric_sums[static_cast<std::size_t>(s * kMetricsPerSubset + k)] += values[k];
            ++metric_counts[static_cast<std::size_t>(s * kMetricsPerSubset + k)];
          }
      }
    }
  };
  const RunCounts counts = run_stackwise(run.sources(), outputs, options, kReconstructionCounters, kernel, reporter);

  json result;
  for (const auto& output : outputs) result[output.key] = output.path;
  const long long failed = counts.counters[kConstant] + counts.counters[kDiverged];
  result["CELLS"] = grid_cells;
  result["TRAINED_CELLS"] = counts.counters[kTrained];
  result["SKIPPED_CELLS"] = counts.counters[kSkipped];
  result["FAILED_CELLS"] = failed;
  result["EXCLUDED_BY_PRECIPITATION"] = counts.counters[kExcluded];
  result["TRAINING_BANDS"] = {run.training.first, run.training.last};
  result["PREDICTION_BANDS"] = {run.prediction.first, run.prediction.last};
  const char* metric_keys[kMetricsPerSubset] = {"R", "RMSE", "UBRMSE", "BIAS"};
  for (int s = 0; s < kCellSubsets; ++s)
    for (int k = 0; k < kMetricsPerSubset; ++k) {
      const auto i = static_cast<std::size_t>(s * kMetricsPerSubset + k);
      result[std::string("MEAN_") + kCellSubsetKeys[s] + "_" + metric_keys[k]] =
          metric_counts[i] > 0 ? json(metric_sums[i] / static_cast<double>(metric_counts[i])) : json(nullptr);
    }
  if (counts.counters[kSkipped] > 0)
    reporter.info(std::to_string(counts.counters[kSkipped]) + " cells have fewer than " + std::to_string(min_pairs) +
                  " valid pairs (MIN_PAIRS) and were skipped");
  if (counts.counters[kConstant] > 0)
    reporter.warning(std::to_string(counts.counters[kConstant]) + " cells have a constant target: nothing to learn, left nodata");
  if (counts.counters[kDiverged] > 0)
    reporter.warning(std::to_string(counts.counters[kDiverged]) + " cells diverged in training and were left nodata");
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
the same for any THREADS. Cells run in parallel.

  OUTPUT    the reconstructed stack over PREDICTION_PERIOD, in the target's units; nodata where a
            predictor is missing or the cell has no network; band descriptions = dates
  METRICS   optional, 16 bands: r, RMSE, ubRMSE, bias (mean(estimate - target); paper 001 eq. 3 has
            the opposite sign) for training, validation, test and overall pairs (paper 001 eq. 1-3, Fig. 4)
  COUNTS    optional, 5 bands: valid pairs, excluded by precipitation, training, validation, test samples
Result: OUTPUT, METRICS, COUNTS, CELLS, TRAINED_CELLS, SKIPPED_CELLS, FAILED_CELLS (constant target or
diverged), EXCLUDED_BY_PRECIPITATION, TRAINING_BANDS, PREDICTION_BANDS, MEAN_<S>_R / _RMSE / _UBRMSE /
_BIAS for S = TRAIN, VALIDATION, TEST, ALL (means over trained cells).
Stacks on another grid are aligned (RESAMPLING, REFERENCE); THREADS, CREATE_OPTIONS as for every raster
command (stack outputs default to small band-interleaved tiles).
)~"),
                      run_pixelwise_reconstruction});
}

}  // namespace smr
