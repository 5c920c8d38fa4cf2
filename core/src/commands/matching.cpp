// smr cdfmatching and smr timematching: the two steps that make two soil-moisture series comparable
// before validation — CDF matching rescales one product into another's climatology (paper 001 names
// it the standard way to do so), time matching pairs irregular observation times (pytesmo-style
// nearest neighbour within a window).
#include "smr/cdf_matching.hpp"
#include "smr/commands.hpp"
#include "smr/raster.hpp"
#include "smr/time_matching.hpp"
#include "smr/time_stacks.hpp"
#include "table_values.hpp"

#include <gdal_priv.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <map>
#include <optional>
#include <sstream>

namespace smr {

namespace {

constexpr float kFloatNan = std::numeric_limits<float>::quiet_NaN();
constexpr long long kMostObservations = 1000000000;
const std::vector<std::string> kMethods = {"percentile", "mean_std", "min_max"};
const std::vector<std::string> kEdges = {"linear", "clamp"};
// Parameters that only shape a fit: a MAPPING already is one, so they are read (and checked) but unused.
const std::vector<std::string> kFittingKeys = {"METHOD", "PERCENTILES", "MIN_OBSERVATIONS", "EDGES", "FIT_PERIOD"};

// Dataset metadata of a mapping raster: what applying it needs besides its bands.
constexpr const char* kMetaFormat = "FORMAT";
constexpr const char* kMetaVersion = "VERSION";
constexpr const char* kMetaMethod = "METHOD";
constexpr const char* kMetaEdges = "EDGES";
constexpr const char* kMetaNodes = "NODES";

// Tallies of smr cdfmatching, in the order of Block::counters.
enum CdfCounter { kMatched, kEmpty, kFewObservations, kConstant, kUnmapped, kNonFinite, kCdfCounters };

int counter_of(CdfStatus status) {
  switch (status) {
    case CdfStatus::Matched: return kMatched;
    case CdfStatus::Empty: return kEmpty;
    case CdfStatus::FewObservations: return kFewObservations;
    case CdfStatus::Constant: return kConstant;
  }
  return kEmpty;
}

bool has_extension(const std::string& path, const std::string& extension) {
  return lowercase(std::filesystem::path(path).extension().string()) == extension;
}

CdfSettings fit_settings(const Params& params) {
  CdfSettings settings;
  settings.method = method_from_name(params.choice("METHOD", kMethods, std::string("percentile")), "METHOD");
  settings.edges = edges_from_name(params.choice("EDGES", kEdges, std::string("linear")), "EDGES");
  settings.percentiles = static_cast<int>(params.integer_in("PERCENTILES", kMinPercentiles, kMaxPercentiles, 21));
  settings.min_observations = params.integer_in("MIN_OBSERVATIONS", 2, kMostObservations, 20);
  return settings;
}

// Fitting keys given beside MAPPING are checked like any parameter, then said to be unused.
void note_unused_fitting_keys(const Params& params, Reporter& reporter) {
  fit_settings(params);
  std::string unused;
  for (const auto& key : kFittingKeys)
    if (params.has(key)) unused += (unused.empty() ? "" : ", ") + key;
  if (!unused.empty())
    reporter.warning(unused + " not used: MAPPING holds the fitted mapping, with its own method and edges");
}

std::string count_of(long long count, const std::string& noun) {
  return std::to_string(count) + " " + noun + (count == 1 ? "" : "s");
}

// ---- SERIES mode ----------------------------------------------------------------------------------

// The rescaling works on NaN for a missing value, as in a stack.
std::vector<double> series_values(const json& series, const std::string& field) {
  std::vector<double> values;
  for (const std::optional<double>& value : optional_numbers(series, "SERIES", field)) {
    values.push_back(value.value_or(std::numeric_limits<double>::quiet_NaN()));
    check_statistic_magnitude(values.back(), "SERIES." + field + "[" + std::to_string(values.size() - 1) + "]");
  }
  return values;
}

json rescaled_json(const std::vector<double>& source, const CdfMapping& mapping) {
  json rescaled = json::array();
  for (const double x : source) {
    const double y = mapping.apply(x);
    rescaled.push_back(std::isfinite(y) ? json(y) : json(nullptr));
  }
  return rescaled;
}

json run_series_mode(const Params& params, Reporter& reporter) {
  for (const char* key : {"SOURCE", "REFERENCE_STACK", "OUTPUT"})
    if (params.has(key))
      throw InputError(std::string(key) + " belongs to stacks; SERIES rescales a list of values: give either SERIES "
                       "or SOURCE with REFERENCE_STACK (or MAPPING) and OUTPUT");
  if (params.has("FIT_PERIOD"))
    throw InputError("FIT_PERIOD selects bands of stacks; with SERIES every pair is fitted");
  const json& series = params.value("SERIES");
  if (!series.is_object())
    throw InputError("SERIES must be an object {\"source\": [...], \"reference\": [...]}, got " + describe(series));
  for (const auto& item : series.items())
    if (item.key() != "source" && item.key() != "reference")
      throw InputError("SERIES has no field '" + item.key() + "': its fields are source and reference");
  const std::vector<double> source = series_values(series, "source");
  if (!params.has("MAPPING") && !series.contains("reference"))
    throw InputError("SERIES has no reference: give SERIES.reference to fit a mapping on, or MAPPING (a .json mapping "
                     "file) to apply one");
  const auto mapping_output = params.optional_output("MAPPING_OUTPUT");
  if (mapping_output && !has_extension(*mapping_output, ".json"))
    throw InputError("MAPPING_OUTPUT is '" + *mapping_output + "': with SERIES the mapping is written as a .json file");

  if (params.has("MAPPING")) {
    if (mapping_output)
      throw InputError("MAPPING_OUTPUT writes a fitted mapping, but with MAPPING nothing is fitted; leave one out");
    note_unused_fitting_keys(params, reporter);
    const std::string path = params.raster("MAPPING").path;
    if (!has_extension(path, ".json"))
      throw InputError("MAPPING is '" + path + "': with SERIES give a .json mapping file written by MAPPING_OUTPUT "
                       "in SERIES mode (a mapping raster applies to stacks)");
    const CdfMapping mapping = read_mapping_file("MAPPING", path);
    if (series.contains("reference")) reporter.info("SERIES.reference not used: MAPPING gives the mapping");
    long long missing = 0;
    for (const double x : source) missing += std::isnan(x);
    reporter.progress(1.0);
    return {{"RESCALED", rescaled_json(source, mapping)},
            {"MAPPING", mapping_to_json(mapping)},
            {"N", static_cast<long long>(source.size()) - missing},
            {"SKIPPED", missing}};
  }

  const CdfSettings settings = fit_settings(params);
  std::vector<double> xs = source;
  std::vector<double> ys = series_values(series, "reference");
  if (ys.size() != xs.size())
    throw InputError("SERIES.reference has " + count_of(static_cast<long long>(ys.size()), "value") +
                     " but SERIES.source has " + count_of(static_cast<long long>(xs.size()), "value") +
                     ": give matched pairs, one reference value per source value (see smr timematching)");
  CdfMapping mapping;
  const CdfFit fit = fit_cdf_mapping(xs, ys, settings, mapping);
  const long long skipped = static_cast<long long>(source.size() - fit.pairs);
  switch (fit.status) {
    case CdfStatus::Matched: break;
    case CdfStatus::Empty:
      throw InputError("SERIES has no pair where both source and reference are given: nothing to fit");
    case CdfStatus::FewObservations:
      throw InputError("SERIES has " + count_of(static_cast<long long>(fit.pairs), "pair") +
                       " with both values, fewer than MIN_OBSERVATIONS " + std::to_string(settings.min_observations) +
                       ": give more pairs or lower MIN_OBSERVATIONS (at least 2)");
    case CdfStatus::Constant:
      throw InputError("SERIES.source is constant over the fitted pairs: its distribution cannot be mapped");
  }
  if (mapping_output) write_mapping_file("MAPPING_OUTPUT", *mapping_output, mapping);
  reporter.info(std::string(method_name(settings.method)) + " mapping fitted on " +
                count_of(static_cast<long long>(fit.pairs), "pair") + ", " + std::to_string(skipped) +
                " skipped for a missing value");
  reporter.progress(1.0);
  json outputs = {{"RESCALED", rescaled_json(source, mapping)},
                  {"MAPPING", mapping_to_json(mapping)},
                  {"N", static_cast<long long>(fit.pairs)},
                  {"SKIPPED", skipped}};
  if (mapping_output) outputs["MAPPING_OUTPUT"] = *mapping_output;
  return outputs;
}

// ---- stack mode -----------------------------------------------------------------------------------

std::vector<std::string> mapping_band_descriptions(const CdfSettings& settings) {
  std::vector<std::string> descriptions;
  const std::vector<std::string> labels = node_labels(settings);
  for (const char* side : {"source ", "reference "})
    for (const auto& label : labels) descriptions.push_back(side + label);
  return descriptions;
}

// What a mapping raster's metadata says; errors name MAPPING, the file and the metadata item.
struct MappingRaster {
  CdfEdges edges = CdfEdges::Linear;
  CdfMethod method = CdfMethod::Percentile;
  int nodes = 0;  // per side: bands 1…nodes source, nodes+1…2·nodes reference
};

MappingRaster read_mapping_raster(const StackSource& stack) {
  const std::string origin = "MAPPING: '" + stack.path + "'";
  GDALDatasetUniquePtr dataset(GDALDataset::Open(stack.path.c_str(), GDAL_OF_RASTER | GDAL_OF_READONLY));
  if (!dataset) throw InputError(origin + " cannot be opened as a raster");
  const auto item = [&](const char* name) -> std::string {
    const char* value = dataset->GetMetadataItem(name);
    if (!value)
      throw InputError(origin + " has no " + name + " metadata: not a mapping raster written by smr cdfmatching "
                       "MAPPING_OUTPUT (a .json mapping file, written in SERIES mode, applies one mapping to every pixel)");
    return value;
  };
  if (item(kMetaFormat) != kCdfMappingFormat)
    throw InputError(origin + ": metadata FORMAT is '" + item(kMetaFormat) + "', expected " + kCdfMappingFormat);
  if (item(kMetaVersion) != "1")
    throw InputError(origin + ": metadata VERSION is '" + item(kMetaVersion) + "'; this smr reads version 1");
  MappingRaster raster;
  raster.method = method_from_name(item(kMetaMethod), "MAPPING metadata METHOD");
  raster.edges = edges_from_name(item(kMetaEdges), "MAPPING metadata EDGES");
  const std::string nodes = item(kMetaNodes);
  const int bands = static_cast<int>(stack.bands.size());
  const int expected = raster.method == CdfMethod::Percentile ? bands / 2 : 2;
  if (nodes != std::to_string(expected) || bands != 2 * expected || expected < kMinPercentiles || expected > kMaxPercentiles)
    throw InputError(origin + ": metadata NODES is '" + nodes + "' but the raster has " + std::to_string(bands) +
                     " bands; a " + method_name(raster.method) + " mapping raster has 2 × NODES bands (" +
                     (raster.method == CdfMethod::Percentile ? "4 to 2002" : "4") + ")");
  raster.nodes = expected;
  return raster;
}

// Whether pixel p of the first `steps` inputs (SOURCE's bands) has anything to rescale.
bool has_value(const float* const* values, std::size_t steps, std::size_t p) {
  for (std::size_t t = 0; t < steps; ++t)
    if (std::isfinite(values[t][p])) return true;
  return false;
}

json run_stack_mode(const Params& params, Reporter& reporter) {
  const StackSource source = stack_parameter(params, "SOURCE");
  const std::size_t steps = source.bands.size();
  const std::string output_path = params.text("OUTPUT");
  const auto mapping_output = params.optional_output("MAPPING_OUTPUT");
  EngineOptions options = engine_options(params);
  const bool fitting = !params.has("MAPPING");
  if (fitting == !params.has("REFERENCE_STACK"))
    throw InputError(fitting ? "no reference: give REFERENCE_STACK (a stack to fit the mapping on) or MAPPING (a "
                               "mapping written by MAPPING_OUTPUT)"
                             : "REFERENCE_STACK and MAPPING were both given: fit on REFERENCE_STACK or apply MAPPING, "
                               "not both");
  std::vector<RasterTarget> outputs = {{"OUTPUT", output_path, "", band_descriptions("SOURCE", source.path)}};
  std::vector<StackSource> inputs = {source};

  CdfSettings settings;
  BandRange fit{1, static_cast<int>(steps)};
  std::optional<CdfMapping> single;          // a .json MAPPING: one mapping for every pixel
  std::optional<MappingRaster> per_pixel;    // a mapping raster: one per pixel
  if (fitting) {
    const StackSource reference = stack_parameter(params, "REFERENCE_STACK");
    const Series series = common_series({source, reference});
    fit = period_parameter(params, "FIT_PERIOD", series);
    settings = fit_settings(params);
    if (settings.min_observations > fit.count())
      throw InputError("MIN_OBSERVATIONS is " + std::to_string(settings.min_observations) + " but FIT_PERIOD has " +
                       count_of(fit.count(), "band") + ", so every pixel would be nodata: valid values are 2 to " +
                       std::to_string(fit.count()));
    StackSource fitted = reference;
    fitted.bands.clear();
    for (int b = fit.first; b <= fit.last; ++b) fitted.bands.push_back(b);
    inputs.push_back(fitted);
    if (mapping_output) {
      if (has_extension(*mapping_output, ".json"))
        throw InputError("MAPPING_OUTPUT is '" + *mapping_output + "': stacks write a mapping raster (e.g. .tif), one "
                         "mapping per pixel; a .json mapping is written in SERIES mode");
      RasterTarget target{"MAPPING_OUTPUT", *mapping_output, "", mapping_band_descriptions(settings)};
      target.metadata = {{kMetaFormat, kCdfMappingFormat},
                         {kMetaVersion, std::to_string(kCdfMappingVersion)},
                         {kMetaMethod, method_name(settings.method)},
                         {kMetaEdges, edges_name(settings.method == CdfMethod::MeanStd ? CdfEdges::Linear : settings.edges)},
                         {kMetaNodes, std::to_string(node_count(settings))}};
      outputs.push_back(std::move(target));
    }
    reporter.info(std::string("fitting ") + method_name(settings.method) + " mappings on bands " +
                  std::to_string(fit.first) + "–" + std::to_string(fit.last) + ", applying them to all " +
                  std::to_string(steps) + " bands of SOURCE");
  } else {
    if (mapping_output)
      throw InputError("MAPPING_OUTPUT writes a fitted mapping, but with MAPPING nothing is fitted; leave one out");
    note_unused_fitting_keys(params, reporter);
    const std::string path = params.raster("MAPPING").path;
    if (has_extension(path, ".json")) {
      single = read_mapping_file("MAPPING", path);
    } else {
      const StackSource mapping = stack_parameter(params, "MAPPING");
      per_pixel = read_mapping_raster(mapping);
      inputs.push_back(mapping);
      // Blending nodes of neighbouring pixels would invent mappings (and mix in the nodata of masked ones).
      if (!params.has("RESAMPLING")) options.resampling = "nearest";
    }
  }

  const std::size_t fit_first = static_cast<std::size_t>(fit.first - 1);
  const std::size_t fit_steps = static_cast<std::size_t>(fit.count());
  const std::size_t nodes = fitting ? static_cast<std::size_t>(node_count(settings))
                            : per_pixel ? static_cast<std::size_t>(per_pixel->nodes)
                                        : 0;
  const bool write_mapping = fitting && mapping_output.has_value();
  const BlockKernel kernel = [&](Block& block) {
    const std::size_t n = block.size();
    // Per window, reused for every pixel: fitting allocates nothing per pixel once these have grown.
    std::vector<double> xs, ys, source_nodes(nodes), reference_nodes(nodes);
    xs.reserve(fit_steps);
    ys.reserve(fit_steps);
    CdfMapping mapping;
    mapping.percentiles.reserve(nodes);
    mapping.source.reserve(nodes);
    mapping.reference.reserve(nodes);
    const float* const* values = block.inputs.data();
    float* const* out = block.outputs.data();
    for (std::size_t t = 0; t < block.inputs.size(); ++t)
      for (std::size_t p = 0; p < n; ++p) block.counters[kNonFinite] += std::isinf(values[t][p]);

    for (std::size_t p = 0; p < n; ++p) {
      const double* node_source = nullptr;
      const double* node_reference = nullptr;
      std::size_t node_total = 0;
      CdfEdges edges = CdfEdges::Linear;
      bool mapped = false;
      if (fitting) {
        xs.clear();
        ys.clear();
        for (std::size_t t = 0; t < fit_steps; ++t) {
          const double x = values[fit_first + t][p], y = values[steps + t][p];
          if (std::isfinite(x) && std::isfinite(y)) {
            xs.push_back(x);
            ys.push_back(y);
          }
        }
        CdfStatus status = fit_cdf_mapping(xs, ys, settings, mapping).status;
        // OUTPUT is what the saved mapping raster gives when applied again, to the last bit.
        if (status == CdfStatus::Matched && !round_nodes_to_float(mapping)) status = CdfStatus::Constant;
        ++block.counters[counter_of(status)];
        mapped = status == CdfStatus::Matched;
        node_source = mapping.source.data();
        node_reference = mapping.reference.data();
        node_total = mapping.source.size();
        edges = mapping.effective_edges();
        if (write_mapping)
          for (std::size_t k = 0; k < nodes; ++k) {
            const bool used = mapped && k < node_total;
            out[steps + k][p] = used ? static_cast<float>(node_source[k]) : kFloatNan;
            out[steps + nodes + k][p] = used ? static_cast<float>(node_reference[k]) : kFloatNan;
          }
      } else if (single) {
        mapped = true;
        ++block.counters[has_value(values, steps, p) ? kMatched : kEmpty];
        node_source = single->source.data();
        node_reference = single->reference.data();
        node_total = single->source.size();
        edges = single->effective_edges();
      } else {
        // Merged ties leave the trailing nodes nodata, so the leading finite ones are the mapping.
        std::size_t used = 0;
        while (used < nodes && std::isfinite(values[steps + used][p])) ++used;
        bool trailing_empty = true;
        for (std::size_t k = 0; k < nodes; ++k) {
          source_nodes[k] = values[steps + k][p];
          reference_nodes[k] = values[steps + nodes + k][p];
          if (k >= used) trailing_empty = trailing_empty && std::isnan(source_nodes[k]) && std::isnan(reference_nodes[k]);
        }
        if (used == 0 && trailing_empty) {
          ++block.counters[kUnmapped];
        } else {
          std::string problem = node_problem(source_nodes.data(), reference_nodes.data(), used);
          if (problem.empty() && !trailing_empty)
            problem = "source node " + std::to_string(used + 1) + " is nodata but a later node is not";
          if (!problem.empty()) {
            const std::size_t row = static_cast<std::size_t>(block.y0) + p / static_cast<std::size_t>(block.width);
            const std::size_t column = static_cast<std::size_t>(block.x0) + p % static_cast<std::size_t>(block.width);
            throw InputError("MAPPING: the pixel at row " + std::to_string(row + 1) + ", column " +
                             std::to_string(column + 1) + " is not a mapping: " + problem +
                             ". Give a raster written by MAPPING_OUTPUT, aligned with RESAMPLING nearest");
          }
          mapped = true;
          ++block.counters[has_value(values, steps, p) ? kMatched : kEmpty];
          node_source = source_nodes.data();
          node_reference = reference_nodes.data();
          node_total = used;
          edges = per_pixel->method == CdfMethod::MeanStd ? CdfEdges::Linear : per_pixel->edges;
        }
      }
      for (std::size_t t = 0; t < steps; ++t)
        out[t][p] = mapped ? static_cast<float>(CdfMapping::apply_nodes(node_source, node_reference, node_total, edges,
                                                                        values[t][p]))
                           : kFloatNan;
    }
  };
  const RunCounts counts = run_stackwise(inputs, outputs, options, kCdfCounters, kernel, reporter);
  const auto& c = counts.counters;
  if (c[kFewObservations] > 0)
    reporter.warning(count_of(c[kFewObservations], "pixel") + " have 1 to " + std::to_string(settings.min_observations - 1) +
                     " pairs in FIT_PERIOD (FEW_OBSERVATIONS_PIXELS, fewer than MIN_OBSERVATIONS): nodata");
  if (c[kConstant] > 0)
    reporter.warning(count_of(c[kConstant], "pixel") + " have a constant SOURCE over their pairs (CONSTANT_PIXELS): "
                     "no mapping, nodata");
  if (c[kNonFinite] > 0)
    reporter.warning(count_of(c[kNonFinite], "infinite value") + " in the stacks (NON_FINITE_VALUES): treated as missing");
  if (c[kMatched] == 0)
    reporter.warning("no pixel was rescaled: OUTPUT is nodata everywhere");
  json result = {{"OUTPUT", output_path},
                 {"MATCHED_PIXELS", c[kMatched]},
                 {"EMPTY_PIXELS", c[kEmpty]},
                 {"FEW_OBSERVATIONS_PIXELS", c[kFewObservations]},
                 {"CONSTANT_PIXELS", c[kConstant]},
                 {"UNMAPPED_PIXELS", c[kUnmapped]},
                 {"NON_FINITE_VALUES", c[kNonFinite]}};
  if (write_mapping) result["MAPPING_OUTPUT"] = *mapping_output;
  return result;
}

json run_cdf_matching(const Params& params, Reporter& reporter) {
  params.reject_unknown(with_engine_keys({"SOURCE", "REFERENCE_STACK", "FIT_PERIOD", "METHOD", "PERCENTILES",
                                          "MIN_OBSERVATIONS", "EDGES", "OUTPUT", "MAPPING_OUTPUT", "MAPPING", "SERIES"}));
  if (params.has("SERIES")) {
    // The plugin leaves these out with a table, so one given here was meant for stacks.
    params.reject_unused({"RESAMPLING", "THREADS", "CREATE_OPTIONS", "REFERENCE"},
                         "applies to stacks (SOURCE) only, not to SERIES, which is rescaled at once");
    return run_series_mode(params, reporter);
  }
  if (!params.has("SOURCE"))
    throw InputError("nothing to rescale: give SOURCE (a stack) with REFERENCE_STACK or MAPPING, or SERIES "
                     "{\"source\": [...], \"reference\": [...]}");
  return run_stack_mode(params, reporter);
}

// ---- smr timematching -----------------------------------------------------------------------------

constexpr double kMostWindowHours = 87600.0;  // ten years: a wider window is no longer a match

std::vector<double> time_list(const Params& params, const std::string& key) {
  const json& list = params.value(key);
  if (!list.is_array())
    throw InputError(key + " must be a list of times in seconds since 1970-01-01T00:00Z (null for a missing time), got " +
                     describe(list));
  std::vector<double> times;
  for (const json& item : list) {
    if (item.is_null()) {
      times.push_back(std::numeric_limits<double>::quiet_NaN());
      continue;
    }
    if (!item.is_number() || !std::isfinite(item.get<double>()))
      throw InputError(key + "[" + std::to_string(times.size()) + "] is " + describe(item) +
                       ": valid values are numbers (seconds since 1970-01-01T00:00Z) or null for a missing time");
    times.push_back(item.get<double>());
  }
  return times;
}

// The label a group is shown (and matched) by: station 101 given as a number in one table and as
// "101" in the other is the same station.
std::string group_label(const json& item, const std::string& key, std::size_t index) {
  if (item.is_string()) return item.get<std::string>();
  if (item.is_null()) return kNoGroup;
  if (item.is_number() && std::isfinite(item.get<double>())) return number_label(item.get<double>());
  throw InputError(key + "[" + std::to_string(index) + "] is " + describe(item) +
                   ": valid values are strings or numbers (e.g. station ids), or null for a row without a group");
}

std::vector<std::size_t> group_ids(const Params& params, const std::string& key, std::size_t rows, const std::string& times_key,
                                   std::map<std::string, std::size_t>& ids) {
  const json& list = params.value(key);
  if (!list.is_array()) throw InputError(key + " must be a list of group names or numbers, got " + describe(list));
  if (list.size() != rows)
    throw InputError(key + " has " + count_of(static_cast<long long>(list.size()), "value") + " but " + times_key + " has " +
                     count_of(static_cast<long long>(rows), "value") + ": give one group per row");
  std::vector<std::size_t> groups;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::string label = group_label(list[i], key, i);
    groups.push_back(ids.emplace(label, ids.size()).first->second);
  }
  return groups;
}

json run_time_matching(const Params& params, Reporter& reporter) {
  params.reject_unknown({"REFERENCE_TIMES", "OTHER_TIMES", "REFERENCE_GROUPS", "OTHER_GROUPS", "WINDOW_HOURS", "UNIQUE"});
  const std::vector<double> reference = time_list(params, "REFERENCE_TIMES");
  const std::vector<double> other = time_list(params, "OTHER_TIMES");
  const double hours = params.number("WINDOW_HOURS", 1.0);
  if (!(hours > 0.0) || hours > kMostWindowHours)
    throw InputError("WINDOW_HOURS is " + describe(params.value("WINDOW_HOURS")) +
                     ": valid values are greater than 0 and at most 87600 (ten years)");
  TimeMatchSettings settings;
  settings.window_seconds = hours * 3600.0;
  settings.unique = params.boolean("UNIQUE", false);

  if (params.has("REFERENCE_GROUPS") != params.has("OTHER_GROUPS"))
    throw InputError(std::string(params.has("REFERENCE_GROUPS") ? "REFERENCE_GROUPS" : "OTHER_GROUPS") +
                     " was given alone: give both REFERENCE_GROUPS and OTHER_GROUPS (rows match within the same "
                     "group), or neither");
  std::vector<std::size_t> reference_groups, other_groups;
  if (params.has("REFERENCE_GROUPS")) {
    std::map<std::string, std::size_t> ids;
    reference_groups = group_ids(params, "REFERENCE_GROUPS", reference.size(), "REFERENCE_TIMES", ids);
    other_groups = group_ids(params, "OTHER_GROUPS", other.size(), "OTHER_TIMES", ids);
  }

  const TimeMatches matches = match_times(reference, other, reference_groups, other_groups, settings);
  json pairs = json::array();
  for (const auto& [r, o] : matches.pairs) pairs.push_back({r, o});
  const long long matched = static_cast<long long>(matches.pairs.size());
  std::ostringstream window;
  window << hours;
  reporter.info(count_of(matched, "reference row") + " matched within " + window.str() + " h, " +
                std::to_string(matches.unmatched) + " without an other time in the window; " +
                count_of(matches.missing_times, "missing time"));
  if (matches.duplicates_dropped > 0)
    reporter.info(count_of(matches.duplicates_dropped, "reference row") +
                  " lost their nearest other row to a closer reference row (UNIQUE): unmatched, counted in DUPLICATES_DROPPED");
  if (matched == 0) reporter.warning("no reference time has an other time within WINDOW_HOURS: nothing matched");
  reporter.progress(1.0);
  return {{"MATCHES", std::move(pairs)},
          {"MATCHED", matched},
          {"UNMATCHED", matches.unmatched},
          {"MISSING_TIMES", matches.missing_times},
          {"DUPLICATES_DROPPED", matches.duplicates_dropped}};
}

}  // namespace

void add_matching_commands(std::vector<Command>& registry) {
  registry.push_back({"cdfmatching", "rescale a soil-moisture product into another's climatology by CDF matching",
                      R"~(smr cdfmatching: CDF matching, the standard way to rescale one soil-moisture product into
the climatology of another (paper 001), as done before validation or merging products: a monotone
piecewise-linear mapping x → y that makes the source's distribution the reference's, fitted on
matched pairs and applied to every source value. The output is in the reference's units (e.g.
m³/m³ when the reference is in situ or a model in m³/m³).

Mappings (METHOD):
  percentile (default)  nodes at the percentiles q_k = 100·k/(K − 1), k = 0 … K − 1 (K = PERCENTILES,
                        default 21: every 5 %) of source and reference, each taken as numpy's
                        default "linear" percentile: h = (n − 1)·q/100, interpolated between the
                        order statistics either side of h. Consecutive equal source nodes (ties, e.g.
                        many zeros) merge into one whose reference value is the mean of theirs, so
                        the mapping stays a function.
  mean_std              y = μr + (x − μs)·σr/σs (means and standard deviations, denominator n), kept
                        as the nodes μ ± σ of each side; linear everywhere whatever EDGES
  min_max               nodes (min_s, max_s) → (min_r, max_r)
Between nodes y is linear. EDGES: beyond the outermost source nodes, linear (default) extends the
first/last segment, clamp holds the reference's end value.

Stacks (one band per time step, same band count; where both carry ISO dates they must agree):
  SOURCE            the stack to rescale: a path or {"path", "nodata"}
  REFERENCE_STACK   the stack whose climatology is the target
  FIT_PERIOD        "all" (default), "first:last" band numbers or "YYYY-MM-DD:YYYY-MM-DD": per pixel,
                    the mapping is fitted on the steps of this period where both are finite
  METHOD, PERCENTILES (2 to 1001, default 21; percentile only), EDGES as above
  MIN_OBSERVATIONS  pairs a pixel needs (default 20; 2 to the band count of FIT_PERIOD)
  OUTPUT            every band of SOURCE mapped (same band descriptions): nodata where SOURCE is, and
                    in every band of a pixel without a mapping
  MAPPING_OUTPUT    optional raster of the fitted mappings, 2K bands (K = PERCENTILES, or 2 for
                    mean_std and min_max): bands 1 … K the source nodes, K + 1 … 2K the reference
                    nodes ("source p5", "reference p5", …; "source min", …; "source mean-std", …).
                    Nodes merged by ties leave the trailing bands nodata. Dataset metadata FORMAT
                    (smr-cdf-mapping), VERSION (1), METHOD, EDGES and NODES (K) make it reusable.
  MAPPING           instead of REFERENCE_STACK: apply saved mappings, no fitting. A mapping raster
                    (from MAPPING_OUTPUT) maps each pixel with its own nodes; it is aligned to
                    SOURCE's grid like any input, with RESAMPLING nearest unless RESAMPLING is given
                    (blending nodes across pixels would invent mappings); a corrupt pixel is an
                    error that names it. A .json mapping file (from SERIES mode) maps every pixel
                    the same way. The mapping's own METHOD and EDGES apply; fitting parameters
                    given beside MAPPING are checked and then ignored (logged).
Per pixel: no pair in FIT_PERIOD → EMPTY_PIXELS; 1 … MIN_OBSERVATIONS − 1 pairs →
FEW_OBSERVATIONS_PIXELS; a source constant over its pairs (fewer than 2 distinct nodes, σs = 0) →
CONSTANT_PIXELS; each is nodata in every band of OUTPUT and MAPPING_OUTPUT. NaN, nodata and ±Inf
are missing values: a pair with one is dropped (±Inf are counted in NON_FINITE_VALUES, warned).
Fitted nodes are kept at Float32 precision, as MAPPING_OUTPUT stores them, so applying a saved
mapping reproduces OUTPUT exactly. Values are the same, to the last bit, for any THREADS.
Result: OUTPUT, MAPPING_OUTPUT (when given), MATCHED_PIXELS (pixels rescaled), EMPTY_PIXELS (with
MAPPING: a mapping but no SOURCE value in any band), FEW_OBSERVATIONS_PIXELS, CONSTANT_PIXELS, UNMAPPED_PIXELS (MAPPING raster: pixels whose mapping is
nodata; 0 when fitting), NON_FINITE_VALUES.

Series (matched pairs, e.g. a station's in-situ values against the product at the same times; see
smr timematching):
  SERIES            {"source": [...], "reference": [...]}, the same length, null for a missing
                    value; pairs with a null are skipped. With MAPPING only "source" is needed.
  METHOD, PERCENTILES, MIN_OBSERVATIONS (2 to 10^9, default 20), EDGES as above; too few pairs or a
                    constant source is an error
  MAPPING_OUTPUT    optional .json file: {"format": "smr-cdf-mapping", "version": 1, "method",
                    "edges", "percentiles", "source", "reference"}, written atomically
  MAPPING           a .json mapping file to apply instead of fitting; every field is checked and a
                    corrupt file is refused with a message naming the field
Result: RESCALED (one number per source value, null where it is missing), MAPPING {"method",
"edges", "percentiles" (of each node; [0, 100] for min_max, [] for mean_std), "source",
"reference"}, N (pairs fitted; with MAPPING the source values rescaled), SKIPPED (pairs with a
missing value; with MAPPING the missing source values), MAPPING_OUTPUT (when given).

Common parameters (stacks): THREADS (0 = all cores), CREATE_OPTIONS (GeoTIFF default: tiled,
DEFLATE, PREDICTOR=3, band-interleaved), REFERENCE (SOURCE by default: the grid of the outputs) and
RESAMPLING as every raster command. Outputs are Float32 with nodata -9999.
)~",
                      run_cdf_matching, {"OUTPUT", "MAPPING_OUTPUT"}});
  registry.push_back({"timematching", "pair two irregular time series by the nearest time within a window",
                      R"~(smr timematching: temporal matching of two series observed at different times, e.g. satellite
overpasses (the reference) and in-situ readings (the other), as pytesmo's temporal matching does:
each reference time takes the other time nearest to it, if |Δt| ≤ WINDOW_HOURS. The result lists
the matched row indices, so the caller pairs any columns of the two tables (then e.g. smr
validationmetrics or smr cdfmatching SERIES).

  REFERENCE_TIMES   list of times in seconds since 1970-01-01T00:00Z (UTC); null for a missing time
                    (the row is skipped and counted in MISSING_TIMES). These times are kept.
  OTHER_TIMES       the same for the series matched to them
  REFERENCE_GROUPS, OTHER_GROUPS   optional, both or neither: one group per row (strings or numbers,
                    e.g. station ids; 101 and "101" are the same group, null is the group "(none)");
                    rows match only within the same group
  WINDOW_HOURS      the largest |Δt| matched, inclusive: greater than 0, at most 87600 (default 1)
  UNIQUE            true or false (default false): each other row matches at most one reference row;
                    where several claim it, the smallest |Δt| keeps it (ties: the earlier reference
                    time, then the lower index) and the others stay unmatched (DUPLICATES_DROPPED);
                    they do not fall back to their second-nearest time
Nearest: the smallest |Δt|; a tie goes to the earlier other time (then to the lower index). Neither
list needs to be sorted. Indices are 0-based positions in the lists.
Result: MATCHES [[reference_index, other_index], ...] by increasing reference index; MATCHED;
UNMATCHED (reference rows with a time but no other time within the window); MISSING_TIMES (null
times in both lists); DUPLICATES_DROPPED. MATCHED + UNMATCHED + DUPLICATES_DROPPED = the reference
rows with a time.
)~",
                      run_time_matching});
}

}  // namespace smr
