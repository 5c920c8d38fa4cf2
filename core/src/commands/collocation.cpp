// Validation at scale: how two soil-moisture stacks agree over time and over space (paper 001 eq. 1-3,
// paper 003 §2.2.2), and the error of three products without a reference, by extended triple
// collocation (paper 003 §2.2.1; DESIGN §5).
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>

#include "smr/commands.hpp"
#include "smr/dates.hpp"
#include "smr/metrics.hpp"
#include "smr/raster.hpp"
#include "smr/sampling.hpp"
#include "smr/series_moments.hpp"
#include "smr/time_stacks.hpp"
#include "table_values.hpp"

namespace smr {

namespace {

constexpr double kUndefined = std::numeric_limits<double>::quiet_NaN();
constexpr float kNoValue = std::numeric_limits<float>::quiet_NaN();  // the engine writes it as nodata
constexpr long long kDefaultPlotPixels = 20000;
// A scatter plot or histogram with more points says nothing more, and the selection holds up to twice this many.
constexpr long long kMostPlotPixels = 1000000;
constexpr long long kLargestSeed = (1LL << 53) - 1;  // every integer up to here survives JSON's doubles

json number_or_null(double value) { return std::isfinite(value) ? json(value) : json(nullptr); }

std::string count_of(long long count, const std::string& noun) {
  return std::to_string(count) + " " + noun + (count == 1 ? "" : "s");
}

struct PlotChoice {
  std::size_t pixels = 0;
  std::uint64_t seed = 1;
};

PlotChoice plot_choice(const Params& params) {
  return {static_cast<std::size_t>(params.integer_in("MAX_PLOT_PIXELS", 0, kMostPlotPixels, kDefaultPlotPixels)),
          static_cast<std::uint64_t>(params.integer_in("SEED", 0, kLargestSeed, 1))};
}

// The stack's bands of the period, in time order: the engine then reads nothing else.
StackSource over_period(StackSource stack, const BandRange& period) {
  stack.bands.clear();
  for (int band = period.first; band <= period.last; ++band) stack.bands.push_back(band);
  return stack;
}

std::optional<std::string> band_date(const Series& series, int band) {
  if (series.days.empty()) return std::nullopt;
  return format_iso_date(series.days[static_cast<std::size_t>(band - 1)]);
}

// MIN_OBSERVATIONS over a stack period: more than the period's bands would mask every pixel.
long long min_observations_in(const Params& params, const BandRange& period, long long highest, long long fallback,
                              const std::string& what) {
  const long long bands = period.count();
  if (bands < 3)
    throw InputError("PERIOD covers " + count_of(bands, "band") + ": " + what + " needs at least 3 time steps");
  const long long value = params.integer_in("MIN_OBSERVATIONS", 3, highest, fallback);
  if (value > bands)
    throw InputError("MIN_OBSERVATIONS is " + std::to_string(value) +
                     (params.has("MIN_OBSERVATIONS") ? "" : " (the default)") + " but PERIOD covers " +
                     count_of(bands, "band") + ", so every pixel would be masked: give 3 to " + std::to_string(bands));
  return value;
}

// A table written after the raster: checked before the run, so a wrong path costs no raster pass.
void check_table_output(const std::string& raster_key, const std::string& raster_path, const std::string& key,
                        const std::string& path) {
  namespace fs = std::filesystem;
  if (path.empty()) throw InputError(key + " is empty: give a file name, or leave " + key + " out");
  std::error_code ignored;
  if (fs::absolute(path, ignored).lexically_normal() == fs::absolute(raster_path, ignored).lexically_normal())
    throw InputError(key + ": '" + path + "' is also " + raster_key + "; give each output its own file");
  const fs::path folder = fs::path(path).parent_path();
  std::error_code error;
  if (!folder.empty() && !fs::is_directory(folder, error))
    throw InputError(key + ": folder '" + folder.string() + "' does not exist");
}

// ---- temporalmetrics -------------------------------------------------------------------------------

enum TemporalCounter { kCompared, kFewPairs, kNoPairs, kConstant, kInfinite, kTemporalCounters };
const std::vector<std::string> kTemporalBands = {"r", "p_value", "rmse", "ubrmse", "bias", "mae", "n"};
// The per-pixel metrics whose means over the compared pixels the result reports.
enum PixelMean { kMeanR, kMeanRmse, kMeanUbrmse, kMeanBias, kMeanMae, kPixelMeans };
const char* const kPixelMeanKeys[kPixelMeans] = {"MEAN_TEMPORAL_R", "MEAN_RMSE", "MEAN_UBRMSE", "MEAN_BIAS",
                                                 "MEAN_MAE"};

// What one window adds to the run-wide results; windows are combined in window order.
struct TemporalPartial {
  std::vector<MetricsAccumulator> steps;  // the pairs of each step of PERIOD, across the window's pixels
  std::array<double, kPixelMeans> sums{};
  std::array<long long, kPixelMeans> counts{};
};

using TemporalSample = SeededSample<std::array<double, 4>>;  // r, rmse, ubrmse, bias of a compared pixel

json temporal_sample_json(TemporalSample& sample) {
  json r = json::array(), rmse = json::array(), ubrmse = json::array(), bias = json::array();
  for (const auto& item : sample.take_in_index_order()) {
    r.push_back(number_or_null(item.payload[0]));
    rmse.push_back(number_or_null(item.payload[1]));
    ubrmse.push_back(number_or_null(item.payload[2]));
    bias.push_back(number_or_null(item.payload[3]));
  }
  return {{"r", std::move(r)}, {"rmse", std::move(rmse)}, {"ubrmse", std::move(ubrmse)}, {"bias", std::move(bias)}};
}

// One step's agreement across the pixels (paper 003 §2.2.2's spatial correlation).
struct SpatialStep {
  int band = 0;
  std::optional<std::string> date;
  Metrics metrics{};
  double p_value = kUndefined;
};

std::string csv_number(double value) { return std::isfinite(value) ? json(value).dump() : ""; }

std::string spatial_csv(const std::vector<SpatialStep>& steps) {
  std::ostringstream csv;
  csv << "band,date,n,r,p_value,rmse,ubrmse,bias,mae\n";
  for (const auto& step : steps)
    csv << step.band << "," << step.date.value_or("") << "," << step.metrics.n << "," << csv_number(step.metrics.r)
        << "," << csv_number(step.p_value) << "," << csv_number(step.metrics.rmse) << ","
        << csv_number(step.metrics.ubrmse) << "," << csv_number(step.metrics.bias) << ","
        << csv_number(step.metrics.mae) << "\n";
  return csv.str();
}

json run_temporal_metrics(const Params& params, Reporter& reporter) {
  params.reject_unknown(with_engine_keys({"ESTIMATE", "REFERENCE_STACK", "PERIOD", "MIN_OBSERVATIONS", "SIGNIFICANCE",
                                          "OUTPUT", "SPATIAL_OUTPUT", "MAX_PLOT_PIXELS", "SEED"}));
  const StackSource estimate_stack = stack_parameter(params, "ESTIMATE");
  const StackSource reference_stack = stack_parameter(params, "REFERENCE_STACK");
  const Series series = common_series({estimate_stack, reference_stack});
  const BandRange period = period_parameter(params, "PERIOD", series);
  const long long min_observations = min_observations_in(params, period, period.count(), 10, "a correlation");
  const double significance = params.number("SIGNIFICANCE", 0.05);
  if (!(significance > 0.0 && significance < 1.0))
    throw InputError("SIGNIFICANCE is " + describe(params.value("SIGNIFICANCE")) +
                     ": valid values lie strictly between 0 and 1 (e.g. 0.05)");
  const PlotChoice plot = plot_choice(params);
  const std::string output_path = params.text("OUTPUT");
  const auto spatial_path = params.optional_output("SPATIAL_OUTPUT");
  if (spatial_path) check_table_output("OUTPUT", output_path, "SPATIAL_OUTPUT", *spatial_path);
  const EngineOptions options = engine_options(params);

  const std::size_t steps = static_cast<std::size_t>(period.count());
  const std::vector<RasterTarget> outputs = {{"OUTPUT", output_path, "", kTemporalBands}};
  std::vector<MetricsAccumulator> spatial(steps);
  std::array<double, kPixelMeans> sums{};
  std::array<long long, kPixelMeans> counts{};
  WindowOrderMerger<TemporalPartial> merger([&](TemporalPartial& window) {
    for (std::size_t t = 0; t < steps; ++t) spatial[t].merge(window.steps[t]);
    for (int k = 0; k < kPixelMeans; ++k) {
      sums[k] += window.sums[k];
      counts[k] += window.counts[k];
    }
  });
  TemporalSample sample(plot.pixels, plot.seed);
  std::mutex sample_mutex;

  const BlockKernel kernel = [&](Block& block) {
    const float* const* estimate = block.inputs.data();
    const float* const* reference = block.inputs.data() + steps;
    TemporalPartial window;
    window.steps.resize(steps);
    TemporalSample window_sample(plot.pixels, plot.seed);
    PairedSeriesMoments moments;
    const std::size_t size = block.size();
    for (std::size_t first = 0; first < size; first += PairedSeriesMoments::kChunkPixels) {
      const std::size_t count = std::min(PairedSeriesMoments::kChunkPixels, size - first);
      moments.compute(estimate, reference, steps, first, count, window.steps.data());
      block.counters[kInfinite] += moments.infinite_values();
      for (std::size_t q = 0; q < count; ++q) {
        const std::size_t p = first + q;
        const PairMoments pixel = moments.moments(q);
        block.outputs[6][p] = static_cast<float>(pixel.n);
        if (pixel.n < min_observations) {
          ++block.counters[pixel.n == 0 ? kNoPairs : kFewPairs];
          for (int band = 0; band < 6; ++band) block.outputs[band][p] = kNoValue;
          continue;
        }
        ++block.counters[kCompared];
        const Metrics metrics = MetricsAccumulator(pixel).result();
        if (!std::isfinite(metrics.r)) ++block.counters[kConstant];
        const std::array<double, 6> values = {metrics.r,    correlation_p_value(metrics.r, pixel.n),
                                              metrics.rmse, metrics.ubrmse,
                                              metrics.bias, metrics.mae};
        for (int band = 0; band < 6; ++band) block.outputs[band][p] = static_cast<float>(values[band]);
        const std::array<double, kPixelMeans> reported = {metrics.r, metrics.rmse, metrics.ubrmse, metrics.bias,
                                                          metrics.mae};
        for (int k = 0; k < kPixelMeans; ++k)
          if (std::isfinite(reported[k])) {
            window.sums[k] += reported[k];
            ++window.counts[k];
          }
        window_sample.add(block.grid_index(p), {metrics.r, metrics.rmse, metrics.ubrmse, metrics.bias});
      }
    }
    {
      std::lock_guard<std::mutex> lock(sample_mutex);
      sample.absorb(std::move(window_sample));
    }
    merger.add(block, std::move(window));
  };
  const RunCounts run = run_stackwise({over_period(estimate_stack, period), over_period(reference_stack, period)},
                                      outputs, options, kTemporalCounters, kernel, reporter);
  merger.check_complete();

  std::vector<SpatialStep> spatial_steps;
  json spatial_json = json::array();
  long long significant = 0;
  double significant_r_sum = 0.0;
  long long short_steps = 0;
  for (std::size_t t = 0; t < steps; ++t) {
    SpatialStep step;
    step.band = period.first + static_cast<int>(t);
    step.date = band_date(series, step.band);
    step.metrics = spatial[t].result();
    if (step.metrics.n < min_observations) {
      step.metrics.r = step.metrics.r2 = kUndefined;
      ++short_steps;
    }
    step.p_value = correlation_p_value(step.metrics.r, step.metrics.n);
    if (step.p_value < significance) {
      ++significant;
      significant_r_sum += step.metrics.r;
    }
    spatial_json.push_back({{"band", step.band},
                            {"date", step.date ? json(*step.date) : json(nullptr)},
                            {"n", step.metrics.n},
                            {"r", number_or_null(step.metrics.r)},
                            {"p_value", number_or_null(step.p_value)},
                            {"rmse", number_or_null(step.metrics.rmse)},
                            {"ubrmse", number_or_null(step.metrics.ubrmse)},
                            {"bias", number_or_null(step.metrics.bias)},
                            {"mae", number_or_null(step.metrics.mae)}});
    spatial_steps.push_back(std::move(step));
  }
  if (spatial_path) write_file_atomically("SPATIAL_OUTPUT", *spatial_path, spatial_csv(spatial_steps));

  const auto& counters = run.counters;
  json result = {
      {"OUTPUT", output_path},
      {"STEPS", static_cast<long long>(steps)},
      {"SIGNIFICANT_STEPS", significant},
      {"MEAN_SPATIAL_R", significant > 0 ? json(significant_r_sum / static_cast<double>(significant)) : json(nullptr)},
      {"SPATIAL", std::move(spatial_json)},
      {"COMPARED_PIXELS", counters[kCompared]},
      {"FEW_OBSERVATIONS_PIXELS", counters[kFewPairs]},
      {"EMPTY_PIXELS", counters[kNoPairs]},
      {"CONSTANT_PIXELS", counters[kConstant]},
      {"NON_FINITE_VALUES", counters[kInfinite]}};
  if (spatial_path) result["SPATIAL_OUTPUT"] = *spatial_path;
  for (int k = 0; k < kPixelMeans; ++k)
    result[kPixelMeanKeys[k]] = counts[k] > 0 ? json(sums[k] / static_cast<double>(counts[k])) : json(nullptr);
  result["SAMPLE"] = temporal_sample_json(sample);

  reporter.info(count_of(counters[kCompared], "pixel") + " compared over " +
                count_of(static_cast<long long>(steps), "step") + " (bands " + std::to_string(period.first) + "-" +
                std::to_string(period.last) + "); " + std::to_string(significant) +
                " steps have a spatial correlation with p < " + json(significance).dump());
  if (counters[kInfinite] > 0)
    reporter.warning(count_of(counters[kInfinite], "infinite value") +
                     " in ESTIMATE or REFERENCE_STACK were left out of their pairs (NON_FINITE_VALUES)");
  if (counters[kFewPairs] > 0)
    reporter.info(count_of(counters[kFewPairs], "pixel") + " have 1 to " + std::to_string(min_observations - 1) +
                  " pairs (fewer than MIN_OBSERVATIONS): nodata but for the pair count n");
  if (counters[kConstant] > 0)
    reporter.warning(count_of(counters[kConstant], "compared pixel") +
                     " have a constant series (CONSTANT_PIXELS): r and p_value are undefined there (nodata)");
  if (short_steps > 0)
    reporter.info(count_of(short_steps, "step") + " have fewer than " + std::to_string(min_observations) +
                  " pixels with both values: no spatial correlation there");
  if (significant == 0)
    reporter.warning("no step has a spatial correlation with p < " + json(significance).dump() +
                     ": MEAN_SPATIAL_R is null");
  if (counters[kCompared] == 0)
    reporter.warning(
        "no pixel has MIN_OBSERVATIONS pairs: check that ESTIMATE and REFERENCE_STACK overlap in space "
        "and time and that their nodata values are right");
  return result;
}

// ---- triplecollocation -----------------------------------------------------------------------------

const char* const kLetters[3] = {"x", "y", "z"};
const char* const kUpperLetters[3] = {"X", "Y", "Z"};
// The bands of OUTPUT come in groups of three (x, y, z) in this order, then n.
enum Quantity { kErrorVariance, kErrorStd, kErrorStdScaled, kSnrDb, kRTruth, kScaling, kQuantities };
const char* const kQuantityNames[kQuantities] = {"error_variance", "error_std", "error_std_scaled",
                                                 "snr_db",         "r_truth",   "scaling"};
constexpr int kSampledQuantities = kScaling;  // everything but the scaling goes into SAMPLE
// The medians the result reports, by quantity.
const std::vector<std::pair<Quantity, std::string>> kMedians = {{kErrorStd, "MEDIAN_ERROR_STD_"},
                                                                {kErrorStdScaled, "MEDIAN_ERROR_STD_SCALED_"},
                                                                {kRTruth, "MEDIAN_R_TRUTH_"},
                                                                {kSnrDb, "MEDIAN_SNR_DB_"}};

double quantity_of(const CollocatedDataset& dataset, int quantity) {
  switch (quantity) {
    case kErrorVariance:
      return dataset.error_variance;
    case kErrorStd:
      return dataset.error_std;
    case kErrorStdScaled:
      return dataset.error_std_scaled;
    case kSnrDb:
      return dataset.snr_db;
    case kRTruth:
      return dataset.r_truth;
    default:
      return dataset.scaling;
  }
}

enum CollocationCounter {
  kCollocatedCount,
  kEmptyCount,
  kFewCount,
  kLowCorrelationCount,
  kNegativeVarianceCount,
  kInfiniteCount,
  kCollocationCounters
};

int counter_of(CollocationStatus status) {
  switch (status) {
    case CollocationStatus::Collocated:
      return kCollocatedCount;
    case CollocationStatus::Empty:
      return kEmptyCount;
    case CollocationStatus::FewObservations:
      return kFewCount;
    case CollocationStatus::LowCorrelation:
      return kLowCorrelationCount;
    case CollocationStatus::NegativeVariance:
      return kNegativeVarianceCount;
  }
  return kEmptyCount;
}

// Values of collocated pixels or groups, by quantity and dataset, for medians and plots.
using QuantityValues = std::array<std::array<std::vector<double>, 3>, kSampledQuantities>;

double median(std::vector<double> values) {
  values.erase(std::remove_if(values.begin(), values.end(), [](double v) { return !std::isfinite(v); }), values.end());
  if (values.empty()) return kUndefined;
  const std::size_t middle = values.size() / 2;
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(middle), values.end());
  const double upper = values[middle];
  if (values.size() % 2 == 1) return upper;
  return 0.5 * (*std::max_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(middle)) + upper);
}

void add_medians(const QuantityValues& values, json& result) {
  for (const auto& [quantity, prefix] : kMedians)
    for (int d = 0; d < 3; ++d) result[prefix + kUpperLetters[d]] = number_or_null(median(values[quantity][d]));
}

json collocation_counts_json(const std::array<long long, kCollocationCounters>& counts, const std::string& noun) {
  return {{"COLLOCATED_" + noun, counts[kCollocatedCount]},
          {"EMPTY_" + noun, counts[kEmptyCount]},
          {"FEW_OBSERVATIONS_" + noun, counts[kFewCount]},
          {"LOW_CORRELATION_" + noun, counts[kLowCorrelationCount]},
          {"NEGATIVE_VARIANCE_" + noun, counts[kNegativeVarianceCount]}};
}

void report_collocation(const std::array<long long, kCollocationCounters>& counts, const std::string& noun,
                        const CollocationOptions& options, Reporter& reporter) {
  reporter.info(count_of(counts[kCollocatedCount], noun) +
                " collocated; masked: " + std::to_string(counts[kEmptyCount]) + " empty, " +
                std::to_string(counts[kFewCount]) + " with fewer than " + std::to_string(options.min_observations) +
                " triplets, " + std::to_string(counts[kLowCorrelationCount]) + " with a pairwise r below " +
                json(options.min_correlation).dump() + " or undefined, " +
                std::to_string(counts[kNegativeVarianceCount]) + " with a negative variance estimate");
  if (counts[kCollocatedCount] == 0)
    reporter.warning("no " + noun +
                     " could be collocated: every error estimate is undefined (see the counts of "
                     "masked " +
                     noun + "s)");
}

std::vector<std::string> collocation_names(const Params& params, const std::vector<std::string>& defaults) {
  if (!params.has("NAMES")) return defaults;
  const std::vector<std::string> names = params.texts("NAMES");
  if (names.size() != 3)
    throw InputError("NAMES has " + count_of(static_cast<long long>(names.size()), "name") +
                     ": give three, one for each of x, y and z, e.g. [\"SMAP\", \"ASCAT\", \"GLDAS\"]");
  for (const auto& name : names)
    if (name.empty()) throw InputError("NAMES holds an empty name: give each of x, y and z a name");
  return names;
}

CollocationOptions collocation_options(const Params& params) {
  CollocationOptions options;
  const std::string scale_to = params.choice("SCALE_TO", {"x", "y", "z"}, std::string("x"));
  options.scale_to = scale_to == "x" ? 0 : scale_to == "y" ? 1 : 2;
  options.min_correlation = params.number_in("MIN_CORRELATION", -1.0, 1.0, 0.2);
  return options;
}

// ---- triplecollocation, stacks

using CollocationSample = SeededSample<std::array<double, kSampledQuantities * 3>>;  // by quantity, then dataset

json run_collocation_stacks(const Params& params, const CollocationOptions& base, const PlotChoice& plot,
                            Reporter& reporter) {
  for (const char* key : {"X", "Y", "Z"})
    if (!params.has(key))
      throw InputError(std::string(key) +
                       " is missing: the stacks mode needs the three stacks X, Y and Z (or give TABLE)");
  const std::vector<StackSource> stacks = {stack_parameter(params, "X"), stack_parameter(params, "Y"),
                                           stack_parameter(params, "Z")};
  const Series series = common_series(stacks);
  const BandRange period = period_parameter(params, "PERIOD", series);
  CollocationOptions options = base;
  options.min_observations = min_observations_in(params, period, 1000000000, 30, "triple collocation");
  const auto names =
      collocation_names(params, {file_stem(stacks[0].path), file_stem(stacks[1].path), file_stem(stacks[2].path)});
  const EngineOptions engine = engine_options(params);

  std::vector<std::string> descriptions;
  for (const char* quantity : kQuantityNames)
    for (int d = 0; d < 3; ++d)
      descriptions.push_back(std::string(quantity) + " " + kLetters[d] + " (" + names[d] + ")");
  descriptions.push_back("n");
  const std::vector<RasterTarget> outputs = {{"OUTPUT", params.text("OUTPUT"), "", descriptions}};
  const auto n_band = static_cast<std::size_t>(kQuantities * 3);

  CollocationSample sample(plot.pixels, plot.seed);
  std::mutex sample_mutex;
  const std::size_t steps = static_cast<std::size_t>(period.count());
  const BlockKernel kernel = [&](Block& block) {
    const float* const* x = block.inputs.data();
    const float* const* y = x + steps;
    const float* const* z = y + steps;
    CollocationSample window_sample(plot.pixels, plot.seed);
    TripleSeriesMoments moments;
    const std::size_t size = block.size();
    for (std::size_t first = 0; first < size; first += TripleSeriesMoments::kChunkPixels) {
      const std::size_t count = std::min(TripleSeriesMoments::kChunkPixels, size - first);
      moments.compute(x, y, z, steps, first, count);
      block.counters[kInfiniteCount] += moments.infinite_values();
      for (std::size_t q = 0; q < count; ++q) {
        const std::size_t p = first + q;
        const TripleCollocation collocation = triple_collocation(moments.covariance(q), options);
        ++block.counters[counter_of(collocation.status)];
        block.outputs[n_band][p] = static_cast<float>(collocation.n);
        // Masked pixels carry NaN in every field: the engine writes them as nodata.
        for (int quantity = 0; quantity < kQuantities; ++quantity)
          for (int d = 0; d < 3; ++d)
            block.outputs[static_cast<std::size_t>(quantity * 3 + d)][p] =
                static_cast<float>(quantity_of(collocation.datasets[static_cast<std::size_t>(d)], quantity));
        if (collocation.status != CollocationStatus::Collocated) continue;
        std::array<double, kSampledQuantities * 3> values{};
        for (int quantity = 0; quantity < kSampledQuantities; ++quantity)
          for (int d = 0; d < 3; ++d)
            values[static_cast<std::size_t>(quantity * 3 + d)] =
                quantity_of(collocation.datasets[static_cast<std::size_t>(d)], quantity);
        window_sample.add(block.grid_index(p), values);
      }
    }
    std::lock_guard<std::mutex> lock(sample_mutex);
    sample.absorb(std::move(window_sample));
  };
  std::vector<StackSource> sources;
  for (const auto& stack : stacks) sources.push_back(over_period(stack, period));
  const RunCounts run = run_stackwise(sources, outputs, engine, kCollocationCounters, kernel, reporter);

  QuantityValues values;
  for (const auto& item : sample.take_in_index_order())
    for (int quantity = 0; quantity < kSampledQuantities; ++quantity)
      for (int d = 0; d < 3; ++d)
        values[quantity][d].push_back(item.payload[static_cast<std::size_t>(quantity * 3 + d)]);
  json sample_json = json::object();
  for (int quantity = 0; quantity < kSampledQuantities; ++quantity) {
    json by_dataset = json::object();
    for (int d = 0; d < 3; ++d) {
      json list = json::array();
      for (const double value : values[quantity][d]) list.push_back(number_or_null(value));
      by_dataset[kLetters[d]] = std::move(list);
    }
    sample_json[kQuantityNames[quantity]] = std::move(by_dataset);
  }

  std::array<long long, kCollocationCounters> counts{};
  std::copy(run.counters.begin(), run.counters.end(), counts.begin());
  json result = collocation_counts_json(counts, "PIXELS");
  result["OUTPUT"] = outputs.front().path;
  result["NAMES"] = names;
  result["NON_FINITE_VALUES"] = counts[kInfiniteCount];
  result["SAMPLE"] = std::move(sample_json);
  add_medians(values, result);
  report_collocation(counts, "pixel", options, reporter);
  if (counts[kInfiniteCount] > 0)
    reporter.warning(count_of(counts[kInfiniteCount], "infinite value") +
                     " in X, Y or Z were left out with their triplets (NON_FINITE_VALUES)");
  return result;
}

// ---- triplecollocation, TABLE

const std::vector<std::string> kTableFields = {"x", "y", "z", "groups"};
const std::string kAllRows = "(all)";

json dataset_json(const CollocatedDataset& dataset) {
  json fields = json::object();
  for (int quantity = 0; quantity < kQuantities; ++quantity)
    fields[kQuantityNames[quantity]] = number_or_null(quantity_of(dataset, quantity));
  return fields;
}

json run_collocation_table(const json& table, const CollocationOptions& options, const std::vector<std::string>& names,
                           Reporter& reporter) {
  if (!table.is_object())
    throw InputError("TABLE must be an object {\"x\": [...], \"y\": [...], \"z\": [...], \"groups\": [...]}, got " +
                     describe(table));
  for (const auto& item : table.items())
    if (std::find(kTableFields.begin(), kTableFields.end(), item.key()) == kTableFields.end())
      throw InputError("TABLE has no field '" + item.key() + "': its fields are x, y, z and groups (optional)");
  const std::array<std::vector<std::optional<double>>, 3> columns = {optional_numbers(table, "TABLE", "x"),
                                                                     optional_numbers(table, "TABLE", "y"),
                                                                     optional_numbers(table, "TABLE", "z")};
  for (int d = 0; d < 3; ++d)
    for (std::size_t i = 0; i < columns[d].size(); ++i)
      if (columns[d][i])
        check_statistic_magnitude(*columns[d][i], "TABLE." + std::string(kLetters[d]) + "[" + std::to_string(i) + "]");
  const std::size_t rows = columns[0].size();
  for (int d = 1; d < 3; ++d)
    if (columns[d].size() != rows)
      throw InputError("TABLE." + std::string(kLetters[d]) + " has " +
                       count_of(static_cast<long long>(columns[d].size()), "value") + " but TABLE.x has " +
                       count_of(static_cast<long long>(rows), "value") + ": give one value of x, y and z per row");
  const bool grouped = table.contains("groups") && !table.at("groups").is_null();
  std::vector<GroupName> groups;
  if (grouped) {
    groups = group_names(table.at("groups"), "TABLE.groups", "row");
    if (groups.size() != rows)
      throw InputError("TABLE.groups has " + count_of(static_cast<long long>(groups.size()), "value") +
                       " but TABLE.x has " + count_of(static_cast<long long>(rows), "value") +
                       ": give one group per row");
  }

  std::map<GroupName, std::array<std::vector<double>, 3>> per_group;
  const GroupName everything{false, 0.0, kAllRows};
  long long skipped = 0, ungrouped = 0;
  for (std::size_t i = 0; i < rows; ++i) {
    // A group whose rows all miss a value still gets its row (empty), so a station never vanishes unseen.
    auto& series = per_group[grouped ? groups[i] : everything];
    if (!columns[0][i] || !columns[1][i] || !columns[2][i]) {
      ++skipped;
      continue;
    }
    for (int d = 0; d < 3; ++d) series[d].push_back(*columns[d][i]);
    if (grouped && groups[i].ungrouped()) ++ungrouped;
  }
  if (!grouped) per_group.try_emplace(everything);  // an empty table still reports its one group

  std::array<long long, kCollocationCounters> counts{};
  QuantityValues values;
  json table_rows = json::array();
  for (const auto& [group, series] : per_group) {
    const TripleCollocation collocation =
        triple_collocation(triple_covariance(series[0], series[1], series[2]), options);
    ++counts[counter_of(collocation.status)];
    json row = {{"group", group.label},
                {"n", collocation.n},
                {"status", status_name(collocation.status)},
                {"pairwise_r",
                 {{"xy", number_or_null(collocation.pairwise_r[0])},
                  {"xz", number_or_null(collocation.pairwise_r[1])},
                  {"yz", number_or_null(collocation.pairwise_r[2])}}}};
    for (int d = 0; d < 3; ++d) row[kLetters[d]] = dataset_json(collocation.datasets[static_cast<std::size_t>(d)]);
    table_rows.push_back(std::move(row));
    if (collocation.status != CollocationStatus::Collocated) continue;
    for (int quantity = 0; quantity < kSampledQuantities; ++quantity)
      for (int d = 0; d < 3; ++d)
        values[quantity][d].push_back(quantity_of(collocation.datasets[static_cast<std::size_t>(d)], quantity));
  }
  reporter.progress(1.0);

  json result = collocation_counts_json(counts, "GROUPS");
  result["GROUPS"] = std::move(table_rows);
  result["SKIPPED"] = skipped;
  result["NAMES"] = names;
  add_medians(values, result);
  reporter.info(count_of(static_cast<long long>(rows) - skipped, "complete row") + ", " + std::to_string(skipped) +
                " skipped for a missing value");
  if (ungrouped > 0)
    reporter.warning(count_of(ungrouped, "complete row") + " without a group (null) form the group '" + kNoGroup + "'");
  report_collocation(counts, "group", options, reporter);
  return result;
}

json run_triple_collocation(const Params& params, Reporter& reporter) {
  params.reject_unknown(with_engine_keys({"X", "Y", "Z", "TABLE", "NAMES", "SCALE_TO", "MIN_CORRELATION",
                                          "MIN_OBSERVATIONS", "PERIOD", "OUTPUT", "MAX_PLOT_PIXELS", "SEED"}));
  const bool table_mode = params.has("TABLE");
  const bool stacks_mode = params.has("X") || params.has("Y") || params.has("Z");
  if (table_mode && stacks_mode)
    throw InputError(
        "TABLE and X/Y/Z were both given: give either TABLE (three columns of values) or the stacks "
        "X, Y and Z, not both");
  if (!table_mode && !stacks_mode)
    throw InputError(
        "nothing to collocate: give either the stacks X, Y and Z or TABLE {\"x\": [...], \"y\": [...], "
        "\"z\": [...]}");
  const CollocationOptions options = collocation_options(params);
  if (!table_mode) return run_collocation_stacks(params, options, plot_choice(params), reporter);
  // The plugin leaves these out with a table, so one given here was meant for stacks.
  params.reject_unused({"RESAMPLING", "THREADS", "CREATE_OPTIONS", "REFERENCE", "MAX_PLOT_PIXELS", "SEED"},
                       "applies to the stacks X, Y and Z only, not to TABLE (a table's medians use every group)");

  for (const char* key : {"PERIOD", "OUTPUT"})
    if (params.has(key))
      throw InputError(std::string(key) +
                       " belongs to the stacks mode (X, Y, Z); with TABLE the result is the GROUPS "
                       "list: leave " +
                       key + " out");
  CollocationOptions table_options = options;
  table_options.min_observations = params.integer_in("MIN_OBSERVATIONS", 3, 1000000000, 30);
  return run_collocation_table(params.value("TABLE"), table_options, collocation_names(params, {"x", "y", "z"}),
                               reporter);
}

}  // namespace

void add_collocation_commands(std::vector<Command>& registry) {
  registry.push_back({"temporalmetrics",
                      "agreement of two stacks per pixel over time (map) and per step over space (table): r, p, RMSE, "
                      "ubRMSE, bias, MAE",
                      R"~(smr temporalmetrics: how well an estimate stack (e.g. retrieved or downscaled soil moisture)
agrees with a reference stack of the same time steps, as in paper 001 eq. 1-3 and paper 003 §2.2.2:
per pixel over time (a map of each metric) and per time step over the pixels (the spatial
correlation of each step, averaged over the significant steps).

  ESTIMATE          the stack judged: one band per time step; a path or {"path", "nodata"}, every
                    band is read ("band" is not allowed); nodata and NaN are gaps
  REFERENCE_STACK   the reference stack: the same band count, and the same dates where both stacks
                    carry ISO dates in their band descriptions
  PERIOD            the bands compared: "all" (default), "first:last" band numbers, or
                    "YYYY-MM-DD:YYYY-MM-DD" for dated stacks
  MIN_OBSERVATIONS  pairs a correlation needs (3 to the band count of PERIOD, default 10): per
                    pixel over time and per step over space
  SIGNIFICANCE      α strictly between 0 and 1 (default 0.05): steps whose spatial r has p < α enter
                    MEAN_SPATIAL_R (paper 003 averages the steps with p < 0.05)
  OUTPUT            7-band raster: 1 r, 2 p_value, 3 rmse, 4 ubrmse, 5 bias, 6 mae, 7 n (the band
                    descriptions say so)
  SPATIAL_OUTPUT    optional CSV, one row per step of PERIOD:
                    band,date,n,r,p_value,rmse,ubrmse,bias,mae (a field is empty where undefined,
                    date empty for undated stacks)
  MAX_PLOT_PIXELS   compared pixels whose r, rmse, ubrmse and bias are returned in SAMPLE, chosen at
                    random (0 to 1000000, default 20000)
  SEED              seed of that choice (0 to 2^53 - 1, default 1): the same sample for any THREADS

Pairs are the steps of PERIOD where both values are finite (nodata, NaN and ±Inf are left out; ±Inf
values are counted in NON_FINITE_VALUES with a warning). With e = estimate, r = reference,
d = e - r over the n pairs:
  bias    mean(d): positive means the estimate is too high (paper 001 uses r - e, the opposite sign)
  rmse    sqrt(mean(d²));  ubrmse = sqrt(rmse² - bias²), the RMSE once the bias is removed
  mae     mean(|d|)
  r       Pearson correlation; p_value two-sided from Student's t = r·sqrt((n - 2)/(1 - r²)) with
          n - 2 degrees of freedom (p = 0 for |r| = 1)
Metrics are in the stacks' units (m³/m³ for soil moisture); r and p have none.

Per pixel: n = 0 is counted in EMPTY_PIXELS, 1 ≤ n < MIN_OBSERVATIONS in FEW_OBSERVATIONS_PIXELS;
both are nodata in bands 1-6 and hold n in band 7. Every other pixel is compared
(COMPARED_PIXELS); where either series is constant (CONSTANT_PIXELS) r and p_value are undefined
(nodata) while rmse, ubrmse, bias and mae are written.
Per step (spatial correlation): the pixels where both values are finite at that step, whatever the
pixel's own n; with fewer than MIN_OBSERVATIONS of them r and p_value are null.

Outputs are Float32 with nodata -9999; the same values, to the last bit, come out for any THREADS.
Common parameters: THREADS (0 = all cores), CREATE_OPTIONS (GeoTIFF default: tiled, DEFLATE,
PREDICTOR=3, band-interleaved), REFERENCE (ESTIMATE, the default, or REFERENCE_STACK: the grid of
OUTPUT; the other stack is aligned to it with RESAMPLING), RESAMPLING as every raster command.

Result: OUTPUT, SPATIAL_OUTPUT (when given), STEPS, SIGNIFICANT_STEPS, MEAN_SPATIAL_R (mean spatial
r over the steps with p < SIGNIFICANCE; null when none), SPATIAL [{"band", "date" (null when
undated), "n", "r", "p_value", "rmse", "ubrmse", "bias", "mae"}, one per step], COMPARED_PIXELS,
FEW_OBSERVATIONS_PIXELS, EMPTY_PIXELS, CONSTANT_PIXELS, NON_FINITE_VALUES, MEAN_TEMPORAL_R,
MEAN_RMSE, MEAN_UBRMSE, MEAN_BIAS, MEAN_MAE (means over every compared pixel where the metric is
defined; null when none), SAMPLE {"r": [...], "rmse": [...], "ubrmse": [...], "bias": [...]} (row-major
pixel order; r null where undefined). Undefined numbers are null.
)~",
                      run_temporal_metrics, {"OUTPUT", "SPATIAL_OUTPUT"}});
  registry.push_back(
      {"triplecollocation",
       "error variance, SNR and correlation with the truth of three products by extended triple collocation",
       R"~(smr triplecollocation: the random error of three soil-moisture products whose errors are
independent (e.g. a satellite product, a model and in-situ probes), without knowing the truth:
extended triple collocation (paper 003 §2.2.1; McColl et al. 2014), per pixel of three stacks or
per group of a table.

Covariances (denominator n - 1) over the n triplets where x, y and z are all finite; with σ these
covariances:
  σ²_εX = σ²_X - σ_XY·σ_XZ/σ_YZ   σ²_εY = σ²_Y - σ_XY·σ_YZ/σ_XZ   σ²_εZ = σ²_Z - σ_XZ·σ_YZ/σ_XY
  signal variance of X = σ_XY·σ_XZ/σ_YZ (cyclic); R²_X = signal/σ²_X, r_truth = sqrt(R²)
  SNR_X [dB] = 10·log10(signal variance/σ²_εX)
  scaling: relative gains β_X : β_Y : β_Z = 1 : σ_YZ/σ_XZ : σ_YZ/σ_XY; the factor that puts
  dataset i's anomalies into SCALE_TO's units is β_ref/β_i (1 for SCALE_TO itself; with SCALE_TO =
  x: s_Y = σ_XZ/σ_YZ, s_Z = σ_XY/σ_YZ); error_std_scaled_i = |s_i|·error_std_i.
error_variance is in each dataset's own units² (m⁶/m⁶ for soil moisture), error_std in its own
units, error_std_scaled in SCALE_TO's units; snr_db in decibels, r_truth and scaling have none.

Each pixel or group gets the first status that applies, each counted: empty (n = 0),
few_observations (n < MIN_OBSERVATIONS), low_correlation (a pairwise r below MIN_CORRELATION, or
undefined because a series is constant), negative_variance (an error variance < 0, or, possible only
with a negative MIN_CORRELATION, covariances of inconsistent sign that make a signal variance ≤ 0),
else collocated. Only collocated pixels and groups have estimates.

Data come from exactly one of:
  X, Y, Z           three stacks of the same time steps (band count, and dates where dated): a path
                    or {"path", "nodata"} each; nodata, NaN and ±Inf are gaps, and a step missing in
                    any of the three is left out of that pixel's triplets
  TABLE             {"x": [...], "y": [...], "z": [...], "groups": [...] (optional)}: one value of
                    each per row, null for a missing value (the row is skipped and counted in
                    SKIPPED); groups are names or numbers (e.g. station ids), null for none. One
                    collocation per group, or one over all rows (group "(all)") without groups

Parameters:
  NAMES             three names for x, y and z (default: the stacks' file names; "x", "y", "z" for
                    TABLE), written into the band descriptions
  SCALE_TO          x (default) | y | z: the dataset whose units error_std_scaled and scaling use
  MIN_CORRELATION   -1 to 1, default 0.2 (paper 003 §3.3)
  MIN_OBSERVATIONS  triplets needed, 3 to 10^9, default 30; for stacks at most the band count of
                    PERIOD
  PERIOD            stacks: the bands used, "all" (default), "first:last" or
                    "YYYY-MM-DD:YYYY-MM-DD"
  OUTPUT            stacks: a 19-band raster, x, y, z in turn for each quantity:
                    1-3 error_variance, 4-6 error_std, 7-9 error_std_scaled, 10-12 snr_db,
                    13-15 r_truth, 16-18 scaling, 19 n (triplets); band descriptions
                    "error_variance x (<name>)" … "n". Masked pixels are nodata in bands 1-18 and
                    hold n in band 19; a zero error variance gives an infinite SNR, written as nodata
  MAX_PLOT_PIXELS   stacks: collocated pixels returned in SAMPLE, chosen at random (0 to 1000000,
                    default 20000); SEED (0 to 2^53 - 1, default 1) their seed
PERIOD and OUTPUT are an error with TABLE.

Outputs are Float32 with nodata -9999; the same values come out for any THREADS.
Common parameters (stacks): THREADS (0 = all cores), CREATE_OPTIONS, REFERENCE (X, Y or Z: the grid
of OUTPUT, default X), RESAMPLING as every raster command.

Result (stacks): OUTPUT, NAMES, COLLOCATED_PIXELS, EMPTY_PIXELS, FEW_OBSERVATIONS_PIXELS,
LOW_CORRELATION_PIXELS, NEGATIVE_VARIANCE_PIXELS, NON_FINITE_VALUES (±Inf values met),
SAMPLE {"error_variance": {"x": [...], "y": [...], "z": [...]}, "error_std": …,
"error_std_scaled": …, "snr_db": …, "r_truth": …} for up to MAX_PLOT_PIXELS collocated pixels
(row-major order), and MEDIAN_ERROR_STD_X/Y/Z, MEDIAN_ERROR_STD_SCALED_X/Y/Z, MEDIAN_R_TRUTH_X/Y/Z,
MEDIAN_SNR_DB_X/Y/Z: the medians of that sample (of every collocated pixel when they number at most
MAX_PLOT_PIXELS), null when it is empty.
Result (TABLE): GROUPS [{"group", "n", "status", "pairwise_r": {"xy", "xz", "yz"}, "x":
{"error_variance", "error_std", "error_std_scaled", "snr_db", "r_truth", "scaling"}, "y": …,
"z": …}] sorted by group (numbers by value first, then names; rows without a group form "(none)"),
the estimates null unless the status is collocated; SKIPPED, COLLOCATED_GROUPS, EMPTY_GROUPS,
FEW_OBSERVATIONS_GROUPS, LOW_CORRELATION_GROUPS, NEGATIVE_VARIANCE_GROUPS, NAMES, and the same
MEDIAN_* over the collocated groups. Undefined numbers are null.
)~",
       run_triple_collocation, {"OUTPUT"}});
}

}  // namespace smr
