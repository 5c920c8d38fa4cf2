// Validation: agreement of an estimate with a reference, from pairs or from two rasters (DESIGN §5;
// paper 001 eq. 1-3, paper 003 §2.2.2).
#include "smr/commands.hpp"
#include "smr/metrics.hpp"
#include "smr/raster.hpp"
#include "smr/sampling.hpp"
#include "table_values.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <utility>

namespace smr {

namespace {

constexpr long long kDefaultPlotPairs = 20000;
// A scatter plot with more points says nothing more, and the selection holds up to twice this many.
constexpr long long kMostPlotPairs = 1000000;
constexpr long long kLargestSeed = (1LL << 53) - 1;  // every integer up to here survives JSON's doubles
const std::vector<std::string> kPairsFields = {"estimate", "reference", "groups"};

using PlotSample = SeededSample<std::pair<double, double>>;  // (estimate, reference)

// {"estimate": [...], "reference": [...]} in the order of the indices (row-major for rasters).
json sample_json(PlotSample& sample) {
  json estimate = json::array(), reference = json::array();
  for (const auto& item : sample.take_in_index_order()) {
    estimate.push_back(item.payload.first);
    reference.push_back(item.payload.second);
  }
  return {{"estimate", std::move(estimate)}, {"reference", std::move(reference)}};
}

std::string count_of(std::size_t count, const std::string& noun) {
  return std::to_string(count) + " " + noun + (count == 1 ? "" : "s");
}

void report_pairs(long long valid, long long skipped, const std::string& hint, Reporter& reporter) {
  reporter.info(std::to_string(valid) + " pairs compared, " + std::to_string(skipped) + " skipped for a missing value");
  if (valid < 2) reporter.warning("fewer than 2 valid pairs: every metric is undefined (null); " + hint);
}

// ---- PAIRS mode ----------------------------------------------------------------------------------

json run_pairs_mode(const json& pairs, std::size_t plot_pairs, std::uint64_t seed, Reporter& reporter) {
  if (!pairs.is_object())
    throw InputError("PAIRS must be an object {\"estimate\": [...], \"reference\": [...], \"groups\": [...]}, got " +
                     describe(pairs));
  for (const auto& item : pairs.items())
    if (std::find(kPairsFields.begin(), kPairsFields.end(), item.key()) == kPairsFields.end())
      throw InputError("PAIRS has no field '" + item.key() + "': its fields are estimate, reference and groups (optional)");
  const auto estimate = optional_numbers(pairs, "PAIRS", "estimate");
  const auto reference = optional_numbers(pairs, "PAIRS", "reference");
  for (const auto& [values, field] : {std::pair{&estimate, "estimate"}, std::pair{&reference, "reference"}})
    for (std::size_t i = 0; i < values->size(); ++i)
      if ((*values)[i]) check_statistic_magnitude(*(*values)[i], std::string("PAIRS.") + field + "[" + std::to_string(i) + "]");
  if (reference.size() != estimate.size())
    throw InputError("PAIRS.reference has " + count_of(reference.size(), "value") + " but PAIRS.estimate has " +
                     count_of(estimate.size(), "value") + ": give one reference value per estimate");
  const bool grouped = pairs.contains("groups") && !pairs.at("groups").is_null();
  std::vector<GroupName> groups;
  if (grouped) {
    groups = group_names(pairs.at("groups"), "PAIRS.groups", "pair");
    if (groups.size() != estimate.size())
      throw InputError("PAIRS.groups has " + count_of(groups.size(), "value") + " but PAIRS.estimate has " +
                       count_of(estimate.size(), "value") + ": give one group per pair");
  }

  MetricsAccumulator overall;
  std::map<GroupName, MetricsAccumulator> per_group;
  PlotSample sample(plot_pairs, seed);
  long long skipped = 0, ungrouped = 0;
  for (std::size_t i = 0; i < estimate.size(); ++i) {
    // A group whose pairs are all skipped still gets its row (n = 0), so a station never vanishes unseen.
    MetricsAccumulator* group = grouped ? &per_group[groups[i]] : nullptr;
    if (!estimate[i] || !reference[i]) {
      ++skipped;
      continue;
    }
    overall.add(*estimate[i], *reference[i]);
    sample.add(i, {*estimate[i], *reference[i]});
    if (group) {
      group->add(*estimate[i], *reference[i]);
      if (groups[i].ungrouped()) ++ungrouped;
    }
  }
  reporter.progress(1.0);

  json outputs = metric_outputs(overall.result(), "");
  outputs["SKIPPED"] = skipped;
  if (grouped) {
    json table = json::array();
    for (const auto& [group, accumulator] : per_group) {
      json row = {{"group", group.label}};
      row.update(metrics_json(accumulator.result()));
      table.push_back(std::move(row));
    }
    outputs["GROUPS"] = std::move(table);
    if (ungrouped > 0)
      reporter.warning(count_of(static_cast<std::size_t>(ungrouped), "valid pair") +
                       " without a group (null) form the group '" + kNoGroup + "'");
  }
  outputs["SAMPLE"] = sample_json(sample);
  report_pairs(overall.count(), skipped, "check that PAIRS holds numbers where both values were measured", reporter);
  return outputs;
}

// ---- raster mode ---------------------------------------------------------------------------------

json run_raster_mode(const Params& params, std::size_t plot_pairs, std::uint64_t seed, Reporter& reporter) {
  const std::vector<RasterSource> inputs = {params.raster("ESTIMATE"), params.raster("REFERENCE_RASTER")};
  // Each window's sums are kept apart and merged in window order once all are read: floating-point
  // addition is not associative, and the order windows finish in varies with the threads.
  std::map<std::pair<int, int>, MetricsAccumulator> per_window;
  PlotSample sample(plot_pairs, seed);
  long long non_finite = 0;
  std::mutex merge_mutex;
  const BlockVisitor visit = [&](const Block& block) {
    const float* estimate = block.inputs[0];
    const float* reference = block.inputs[1];
    MetricsAccumulator window;
    PlotSample window_sample(plot_pairs, seed);
    long long window_non_finite = 0;
    for (int row = 0; row < block.height; ++row) {
      const std::size_t offset = static_cast<std::size_t>(row) * static_cast<std::size_t>(block.width);
      const std::uint64_t grid_row = static_cast<std::uint64_t>(block.y0 + row) * static_cast<std::uint64_t>(block.grid->width);
      for (int column = 0; column < block.width; ++column) {
        const double e = estimate[offset + column], r = reference[offset + column];
        if (std::isnan(e) || std::isnan(r)) continue;  // the engine counts these as nodata
        if (!std::isfinite(e) || !std::isfinite(r)) {
          ++window_non_finite;
          continue;
        }
        window.add(e, r);
        window_sample.add(grid_row + static_cast<std::uint64_t>(block.x0 + column), {e, r});
      }
    }
    std::lock_guard<std::mutex> lock(merge_mutex);
    per_window.emplace(std::make_pair(block.y0, block.x0), window);
    sample.absorb(std::move(window_sample));
    non_finite += window_non_finite;
  };
  const RunCounts counts = scan_pixelwise(inputs, engine_options(params), visit, reporter);

  MetricsAccumulator overall;
  for (const auto& [origin, accumulator] : per_window) overall.merge(accumulator);
  if (non_finite > 0)
    reporter.warning(std::to_string(non_finite) + " pixels hold an infinite value in ESTIMATE or REFERENCE_RASTER: "
                     "they are skipped");
  const long long skipped = counts.nodata + non_finite;
  json outputs = metric_outputs(overall.result(), "");
  outputs["SKIPPED"] = skipped;
  outputs["SAMPLE"] = sample_json(sample);
  report_pairs(overall.count(), skipped,
               "check that ESTIMATE and REFERENCE_RASTER overlap and that their nodata values are right", reporter);
  return outputs;
}

json run_validation_metrics(const Params& params, Reporter& reporter) {
  // Nothing is written, so CREATE_OPTIONS would only pretend to do something.
  std::vector<std::string> known = with_engine_keys({"PAIRS", "ESTIMATE", "REFERENCE_RASTER", "MAX_PLOT_PAIRS", "SEED"});
  known.erase(std::remove(known.begin(), known.end(), "CREATE_OPTIONS"), known.end());
  params.reject_unknown(known);

  const bool pairs_mode = params.has("PAIRS");
  const bool raster_mode = params.has("ESTIMATE") || params.has("REFERENCE_RASTER");
  if (pairs_mode && raster_mode)
    throw InputError("PAIRS and ESTIMATE/REFERENCE_RASTER were both given: give either PAIRS (estimate and "
                     "reference values) or the rasters ESTIMATE and REFERENCE_RASTER, not both");
  if (!pairs_mode && !raster_mode)
    throw InputError("no pairs to compare: give either PAIRS {\"estimate\": [...], \"reference\": [...]} or the "
                     "rasters ESTIMATE and REFERENCE_RASTER");
  const auto plot_pairs = static_cast<std::size_t>(params.integer_in("MAX_PLOT_PAIRS", 0, kMostPlotPairs, kDefaultPlotPairs));
  const auto seed = static_cast<std::uint64_t>(params.integer_in("SEED", 0, kLargestSeed, 1));
  // Validated in both modes, so a wrong THREADS or RESAMPLING is reported even where it is unused.
  const EngineOptions options = engine_options(params);
  if (pairs_mode) {
    params.reject_unused({"REFERENCE"}, "applies to the rasters ESTIMATE and REFERENCE_RASTER only, not to PAIRS");
    // The plugin sends RESAMPLING and THREADS with every request, so only a value the user changed is
    // worth a word: it has no effect on PAIRS.
    const EngineOptions defaults;
    if (options.resampling != defaults.resampling || options.threads != defaults.threads)
      reporter.warning("RESAMPLING and THREADS apply to the rasters ESTIMATE and REFERENCE_RASTER only; with PAIRS "
                       "they are not used");
    return run_pairs_mode(params.value("PAIRS"), plot_pairs, seed, reporter);
  }
  return run_raster_mode(params, plot_pairs, seed, reporter);
}

}  // namespace

void add_validation_commands(std::vector<Command>& registry) {
  registry.push_back({"validationmetrics", "agreement of an estimate with a reference: r, R², NSE, RMSE, ubRMSE, MAE, bias",
                      R"~(smr validationmetrics: how well an estimate (e.g. retrieved soil moisture) agrees with a
reference (in-situ probes, another product), as in paper 001 eq. 1-3 and paper 003 §2.2.2.

Pairs come from exactly one of:
  PAIRS             {"estimate": [...], "reference": [...], "groups": [...] (optional)}: one value of
                    each per pair, null for a missing value (the pair is skipped and counted in
                    SKIPPED); groups are names or numbers (e.g. station ids), null for none
  ESTIMATE and      two raster inputs ({"path", "band", "nodata"} or a path); every pixel where both
  REFERENCE_RASTER  are valid is a pair. A raster on another grid or CRS is aligned to the grid of
                    ESTIMATE (or of REFERENCE_RASTER with REFERENCE = REFERENCE_RASTER) with
                    RESAMPLING, and the alignment is logged. Nodata, NaN, infinite values and pixels
                    outside the other raster are skipped (counted in SKIPPED).

Metrics over the N valid pairs, e = estimate, r = reference, d = e - r:
  BIAS    mean(d): positive means the estimate is too high (paper 001 uses r - e, the opposite sign)
  RMSE    sqrt(mean(d²))
  UBRMSE  sqrt(RMSE² - BIAS²), the RMSE once the bias is removed
  MAE     mean(|d|)
  R       Pearson correlation of e and r;  R2 = R²
  NSE     1 - Σ(e - r)²/Σ(r - mean(r))², Nash-Sutcliffe efficiency ("coefficient of determination")
A metric that is undefined is null: every metric when N < 2; R and R2 when e or r is constant; NSE
when r is constant.

Other parameters:
  MAX_PLOT_PAIRS  pairs returned in SAMPLE for a scatter plot, chosen at random (0 to 1000000,
                  default 20000)
  SEED            seed of that choice (0 to 2^53 - 1, default 1); the same seed gives the same
                  sample for any THREADS
  THREADS         OpenMP threads for the rasters, 0 = all cores (default 0); the results are the
                  same, to the last bit, for any thread count
  RESAMPLING      nearest|bilinear|cubic|cubicspline|lanczos|average|mode (default bilinear);
                  nearest keeps a coarse reference's own values
  REFERENCE       ESTIMATE (default) or REFERENCE_RASTER: the grid the pairs are taken on
THREADS, RESAMPLING and REFERENCE apply to the rasters: with PAIRS, REFERENCE is an error, and
THREADS or RESAMPLING other than their defaults are noted in a warning as unused. PAIRS values
beyond ±1e100 are an error: their squares would overflow the sums behind the metrics.

Result: R, R2, NSE, RMSE, UBRMSE, MAE, BIAS, N, SKIPPED, SAMPLE {"estimate": [...], "reference":
[...]} (in input order; row-major for rasters), and with groups GROUPS: [{"group", "r", "r2",
"nse", "rmse", "ubrmse", "mae", "bias", "n"}, ...] sorted by group (numbers by value first, then
names; pairs without a group form the group "(none)").
)~",
                      run_validation_metrics});
}

}  // namespace smr
