#include "smr/cdf_matching.hpp"

#include "smr/params.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

namespace smr {

namespace {

constexpr double kNan = std::numeric_limits<double>::quiet_NaN();
// A mapping file holds at most 3 × 1001 numbers; anything much larger is not one, and refusing it
// early keeps a hostile file from exhausting memory.
constexpr std::uintmax_t kMaxMappingFileBytes = 1u << 20;
constexpr int kMaxMappingNesting = 4;  // a mapping is never more than two levels deep
const std::vector<std::string> kMappingFields = {"format", "version", "method", "edges", "percentiles", "source", "reference"};

std::string format_label(double value) {
  std::ostringstream out;
  out << value;
  return out.str();
}

std::string number_text(double value) { return json(value).dump(); }

// Merges runs of equal source nodes into one whose reference (and percentile) is the mean of the
// run's, so the mapping stays a function. A run of one is copied unchanged, bit for bit.
void merge_ties(CdfMapping& mapping) {
  const std::size_t count = mapping.source.size();
  const bool with_percentiles = mapping.percentiles.size() == count;
  std::size_t kept = 0;
  for (std::size_t first = 0; first < count;) {
    std::size_t end = first + 1;
    double reference_sum = mapping.reference[first];
    double percentile_sum = with_percentiles ? mapping.percentiles[first] : 0.0;
    while (end < count && mapping.source[end] == mapping.source[first]) {
      reference_sum += mapping.reference[end];
      if (with_percentiles) percentile_sum += mapping.percentiles[end];
      ++end;
    }
    const double run = static_cast<double>(end - first);
    mapping.source[kept] = mapping.source[first];
    mapping.reference[kept] = reference_sum / run;
    if (with_percentiles) mapping.percentiles[kept] = percentile_sum / run;
    ++kept;
    first = end;
  }
  mapping.source.resize(kept);
  mapping.reference.resize(kept);
  if (with_percentiles) mapping.percentiles.resize(kept);
}

void fit_percentiles(std::vector<double>& source, std::vector<double>& reference, int nodes, CdfMapping& mapping) {
  std::sort(source.begin(), source.end());
  std::sort(reference.begin(), reference.end());
  const std::size_t n = source.size();
  for (int k = 0; k < nodes; ++k) {
    // The fraction directly, not q/100: the outer nodes land exactly on the extremes.
    const double fraction = static_cast<double>(k) / static_cast<double>(nodes - 1);
    mapping.percentiles.push_back(100.0 * fraction);
    mapping.source.push_back(sorted_percentile(source.data(), n, fraction));
    mapping.reference.push_back(sorted_percentile(reference.data(), n, fraction));
  }
  merge_ties(mapping);
}

void fit_min_max(const std::vector<double>& source, const std::vector<double>& reference, CdfMapping& mapping) {
  const auto [source_min, source_max] = std::minmax_element(source.begin(), source.end());
  const auto [reference_min, reference_max] = std::minmax_element(reference.begin(), reference.end());
  mapping.percentiles = {0.0, 100.0};
  mapping.source = {*source_min, *source_max};
  mapping.reference = {*reference_min, *reference_max};
}

struct MeanStd {
  double mean = 0.0, std = 0.0;
};

// Two passes: the centred sum of squares keeps its precision when the mean is large against the spread.
MeanStd mean_std_of(const std::vector<double>& values) {
  const double n = static_cast<double>(values.size());
  double sum = 0.0;
  for (const double v : values) sum += v;
  const double mean = sum / n;
  double squares = 0.0;
  for (const double v : values) squares += (v - mean) * (v - mean);
  return {mean, std::sqrt(squares / n)};
}

void fit_mean_std(const std::vector<double>& source, const std::vector<double>& reference, CdfMapping& mapping) {
  const MeanStd s = mean_std_of(source), r = mean_std_of(reference);
  // Nodes one σ either side of the mean: the line through them is y = μr + (x − μs)·σr/σs.
  mapping.source = {s.mean - s.std, s.mean + s.std};
  mapping.reference = {r.mean - r.std, r.mean + r.std};
}

// Field checks of a mapping file; every failure names the origin (key and file) and the field.
[[noreturn]] void field_error(const std::string& origin, const std::string& field, const std::string& what) {
  throw InputError(origin + ": field '" + field + "' " + what);
}

const json& member(const json& document, const std::string& origin, const std::string& field) {
  const auto found = document.find(field);
  if (found == document.end()) field_error(origin, field, "is missing");
  return *found;
}

std::string text_field(const json& document, const std::string& origin, const std::string& field) {
  const json& value = member(document, origin, field);
  if (!value.is_string()) field_error(origin, field, "must be a string, got " + describe(value));
  return value.get<std::string>();
}

std::vector<double> number_list(const json& document, const std::string& origin, const std::string& field,
                                std::size_t lowest, std::size_t highest) {
  const json& value = member(document, origin, field);
  if (!value.is_array()) field_error(origin, field, "must be a list of numbers, got " + describe(value));
  if (value.size() < lowest || value.size() > highest)
    field_error(origin, field, "must have " + (lowest == highest ? std::to_string(lowest) : std::to_string(lowest) + " to " + std::to_string(highest)) +
                                   " entries, got " + std::to_string(value.size()));
  std::vector<double> numbers;
  for (const json& item : value) {
    if (!item.is_number() || !std::isfinite(item.get<double>()))
      field_error(origin, field + "[" + std::to_string(numbers.size()) + "]",
                  "must be a finite number, got " + describe(item));
    numbers.push_back(item.get<double>());
  }
  return numbers;
}

}  // namespace

const char* method_name(CdfMethod method) {
  switch (method) {
    case CdfMethod::Percentile: return "percentile";
    case CdfMethod::MeanStd: return "mean_std";
    case CdfMethod::MinMax: return "min_max";
  }
  return "";
}

const char* edges_name(CdfEdges edges) { return edges == CdfEdges::Linear ? "linear" : "clamp"; }

const char* status_name(CdfStatus status) {
  switch (status) {
    case CdfStatus::Matched: return "matched";
    case CdfStatus::Empty: return "empty";
    case CdfStatus::FewObservations: return "few_observations";
    case CdfStatus::Constant: return "constant";
  }
  return "";
}

CdfMethod method_from_name(const std::string& name, const std::string& key) {
  for (const CdfMethod method : {CdfMethod::Percentile, CdfMethod::MeanStd, CdfMethod::MinMax})
    if (name == method_name(method)) return method;
  throw InputError(key + " is '" + name + "': valid values are percentile, mean_std, min_max");
}

CdfEdges edges_from_name(const std::string& name, const std::string& key) {
  for (const CdfEdges edges : {CdfEdges::Linear, CdfEdges::Clamp})
    if (name == edges_name(edges)) return edges;
  throw InputError(key + " is '" + name + "': valid values are linear, clamp");
}

double CdfMapping::apply_nodes(const double* source, const double* reference, std::size_t count, CdfEdges edges,
                               double x) {
  if (!std::isfinite(x) || count < 2) return kNan;
  std::size_t segment = 0;
  if (x <= source[0]) {
    if (x == source[0] || edges == CdfEdges::Clamp) return reference[0];
  } else if (x >= source[count - 1]) {
    if (x == source[count - 1] || edges == CdfEdges::Clamp) return reference[count - 1];
    segment = count - 2;
  } else {
    segment = static_cast<std::size_t>(std::upper_bound(source, source + count, x) - source) - 1;
  }
  const double slope = (reference[segment + 1] - reference[segment]) / (source[segment + 1] - source[segment]);
  return reference[segment] + (x - source[segment]) * slope;
}

int node_count(const CdfSettings& settings) {
  return settings.method == CdfMethod::Percentile ? settings.percentiles : 2;
}

std::vector<std::string> node_labels(const CdfSettings& settings) {
  switch (settings.method) {
    case CdfMethod::MeanStd: return {"mean-std", "mean+std"};
    case CdfMethod::MinMax: return {"min", "max"};
    case CdfMethod::Percentile: break;
  }
  std::vector<std::string> labels;
  for (int k = 0; k < settings.percentiles; ++k)
    labels.push_back("p" + format_label(100.0 * static_cast<double>(k) / static_cast<double>(settings.percentiles - 1)));
  return labels;
}

double sorted_percentile(const double* sorted, std::size_t count, double fraction) {
  if (count == 0) return kNan;
  const double h = static_cast<double>(count - 1) * fraction;
  const std::size_t below = static_cast<std::size_t>(std::floor(h));
  if (below + 1 >= count) return sorted[count - 1];
  const double low = sorted[below], high = sorted[below + 1];
  // Capped at the upper order statistic: rounding must never lift a node above the next segment's
  // start, or the nodes would stop being monotone.
  return std::min(high, low + (h - static_cast<double>(below)) * (high - low));
}

CdfFit fit_cdf_mapping(std::vector<double>& source, std::vector<double>& reference, const CdfSettings& settings,
                       CdfMapping& mapping) {
  if (source.size() != reference.size()) throw std::logic_error("CDF matching needs one reference value per source value");
  std::size_t pairs = 0;
  for (std::size_t i = 0; i < source.size(); ++i)
    if (std::isfinite(source[i]) && std::isfinite(reference[i])) {
      source[pairs] = source[i];
      reference[pairs] = reference[i];
      ++pairs;
    }
  source.resize(pairs);
  reference.resize(pairs);

  mapping.method = settings.method;
  mapping.edges = settings.method == CdfMethod::MeanStd ? CdfEdges::Linear : settings.edges;
  mapping.percentiles.clear();
  mapping.source.clear();
  mapping.reference.clear();
  CdfFit fit{CdfStatus::Empty, pairs};
  if (pairs == 0) return fit;
  if (static_cast<long long>(pairs) < settings.min_observations) {
    fit.status = CdfStatus::FewObservations;
    return fit;
  }
  switch (settings.method) {
    case CdfMethod::Percentile: fit_percentiles(source, reference, settings.percentiles, mapping); break;
    case CdfMethod::MinMax: fit_min_max(source, reference, mapping); break;
    case CdfMethod::MeanStd: fit_mean_std(source, reference, mapping); break;
  }
  // One distinct source node (or σs = 0, or a σs lost against μs) cannot say where x goes.
  fit.status = mapping.source.size() >= 2 && mapping.source.front() < mapping.source.back() ? CdfStatus::Matched
                                                                                            : CdfStatus::Constant;
  if (fit.status == CdfStatus::Constant) {
    mapping.percentiles.clear();
    mapping.source.clear();
    mapping.reference.clear();
  }
  return fit;
}

bool round_nodes_to_float(CdfMapping& mapping) {
  const auto to_float = [](double value) { return static_cast<double>(static_cast<float>(value)); };
  for (double& value : mapping.source) value = to_float(value);
  for (double& value : mapping.reference) value = to_float(value);
  merge_ties(mapping);
  // A merged reference is a mean of Float32 values, itself not always one.
  for (double& value : mapping.reference) value = to_float(value);
  // Only mean_std of values near the Float32 limit can leave its range (μ + σ).
  for (std::size_t k = 0; k < mapping.source.size(); ++k)
    if (!std::isfinite(mapping.source[k]) || !std::isfinite(mapping.reference[k])) return false;
  return mapping.source.size() >= 2;
}

std::string node_problem(const double* source, const double* reference, std::size_t count) {
  if (count < 2) return "has " + std::to_string(count) + " node" + (count == 1 ? "" : "s") + "; a mapping needs at least 2";
  for (std::size_t i = 0; i < count; ++i) {
    const std::string node = "node " + std::to_string(i + 1);
    if (!std::isfinite(source[i])) return "source " + node + " is not a finite number";
    if (!std::isfinite(reference[i])) return "reference " + node + " is not a finite number";
    if (i == 0) continue;
    if (!(source[i] > source[i - 1]))
      return "source " + node + " (" + number_text(source[i]) + ") does not exceed node " + std::to_string(i) + " (" +
             number_text(source[i - 1]) + "): source nodes must increase strictly";
    if (reference[i] < reference[i - 1])
      return "reference " + node + " (" + number_text(reference[i]) + ") is below node " + std::to_string(i) + " (" +
             number_text(reference[i - 1]) + "): reference nodes must not decrease";
  }
  return "";
}

json mapping_to_json(const CdfMapping& mapping) {
  return {{"method", method_name(mapping.method)},
          {"edges", edges_name(mapping.effective_edges())},
          {"percentiles", mapping.percentiles},
          {"source", mapping.source},
          {"reference", mapping.reference}};
}

void write_mapping_file(const std::string& key, const std::string& path, const CdfMapping& mapping) {
  json document = {{"format", kCdfMappingFormat}, {"version", kCdfMappingVersion}};
  document.update(mapping_to_json(mapping));
  write_file_atomically(key, path, document.dump(1) + "\n");
}

CdfMapping mapping_from_json(const json& document, const std::string& origin) {
  if (!document.is_object()) throw InputError(origin + " must hold a JSON object, got " + describe(document));
  for (const auto& item : document.items())
    if (std::find(kMappingFields.begin(), kMappingFields.end(), item.key()) == kMappingFields.end())
      field_error(origin, item.key(), "is not part of format smr-cdf-mapping version 1");
  const json& format = member(document, origin, "format");
  if (format != kCdfMappingFormat)
    field_error(origin, "format", "must be \"" + std::string(kCdfMappingFormat) + "\", got " + describe(format) +
                                      ": not a mapping written by smr cdfmatching");
  const json& version = member(document, origin, "version");
  if (!version.is_number_integer() || version.get<long long>() != kCdfMappingVersion)
    field_error(origin, "version", "must be 1, got " + describe(version));

  CdfMapping mapping;
  const std::string method = text_field(document, origin, "method");
  const std::string edges = text_field(document, origin, "edges");
  try {
    mapping.method = method_from_name(method, "method");
  } catch (const InputError&) {
    field_error(origin, "method", "is '" + method + "': valid values are percentile, mean_std, min_max");
  }
  try {
    mapping.edges = edges_from_name(edges, "edges");
  } catch (const InputError&) {
    field_error(origin, "edges", "is '" + edges + "': valid values are linear, clamp");
  }
  const bool two_nodes = mapping.method != CdfMethod::Percentile;
  mapping.source = number_list(document, origin, "source", 2, two_nodes ? 2 : kMaxPercentiles);
  mapping.reference = number_list(document, origin, "reference", mapping.source.size(), mapping.source.size());
  mapping.percentiles = number_list(document, origin, "percentiles", 0, kMaxPercentiles);
  switch (mapping.method) {
    case CdfMethod::MeanStd:
      if (!mapping.percentiles.empty()) field_error(origin, "percentiles", "must be [] for method mean_std");
      break;
    case CdfMethod::MinMax:
      if (mapping.percentiles != std::vector<double>{0.0, 100.0})
        field_error(origin, "percentiles", "must be [0, 100] for method min_max");
      break;
    case CdfMethod::Percentile:
      if (mapping.percentiles.size() != mapping.source.size())
        field_error(origin, "percentiles", "must have one entry per source node (" + std::to_string(mapping.source.size()) +
                                               "), got " + std::to_string(mapping.percentiles.size()));
      for (std::size_t i = 0; i < mapping.percentiles.size(); ++i) {
        const double q = mapping.percentiles[i];
        if (q < 0.0 || q > 100.0 || (i > 0 && !(q > mapping.percentiles[i - 1])))
          field_error(origin, "percentiles[" + std::to_string(i) + "]",
                      "is " + number_text(q) + ": percentiles must lie in 0 to 100 and increase strictly");
      }
      break;
  }
  const std::string problem = node_problem(mapping.source.data(), mapping.reference.data(), mapping.source.size());
  if (!problem.empty()) throw InputError(origin + ": fields 'source' and 'reference': " + problem);
  return mapping;
}

CdfMapping read_mapping_file(const std::string& key, const std::string& path) {
  const std::string origin = key + ": mapping file '" + path + "'";
  return mapping_from_json(read_json_file(origin, path, kMaxMappingFileBytes, kMaxMappingNesting, "a mapping file"),
                           origin);
}

}  // namespace smr
