// CDF matching (paper 001: the standard way to rescale one soil-moisture product into the climatology
// of another): a monotone piecewise-linear mapping from the source's distribution onto the
// reference's, fitted on matched pairs. Contract in core/README.md "Matching commands".
#pragma once

#include "smr/protocol.hpp"

#include <cstddef>
#include <string>
#include <vector>

namespace smr {

enum class CdfMethod { Percentile, MeanStd, MinMax };
enum class CdfEdges { Linear, Clamp };

// A fit either yields a mapping or says why not; the callers count each kind.
enum class CdfStatus { Matched, Empty, FewObservations, Constant };

inline constexpr int kMinPercentiles = 2;
inline constexpr int kMaxPercentiles = 1001;

const char* method_name(CdfMethod method);
const char* edges_name(CdfEdges edges);
const char* status_name(CdfStatus status);  // "matched", "empty", "few_observations", "constant"
// InputError naming `key` and the valid names when `name` is none of them.
CdfMethod method_from_name(const std::string& name, const std::string& key);
CdfEdges edges_from_name(const std::string& name, const std::string& key);

struct CdfSettings {
  CdfMethod method = CdfMethod::Percentile;
  CdfEdges edges = CdfEdges::Linear;
  int percentiles = 21;  // nodes of the percentile method, at q_k = 100·k/(K − 1)
  long long min_observations = 20;
};

// y = f(x): linear between consecutive nodes; beyond the outer nodes the first/last segment goes on
// (Linear) or the outer reference value is held (Clamp). mean_std is a straight line, so its two
// nodes (μ ± σ of each side) extend linearly whatever `edges` says.
struct CdfMapping {
  CdfMethod method = CdfMethod::Percentile;
  CdfEdges edges = CdfEdges::Linear;
  std::vector<double> percentiles;  // of each node (percentile: merged ties average theirs; min_max: 0, 100; mean_std: none)
  std::vector<double> source;       // strictly increasing, at least 2
  std::vector<double> reference;    // non-decreasing, one per source node

  double apply(double x) const { return apply_nodes(source.data(), reference.data(), source.size(), effective_edges(), x); }
  CdfEdges effective_edges() const { return method == CdfMethod::MeanStd ? CdfEdges::Linear : edges; }

  // The same rule on bare node arrays (a mapping raster's pixel): NaN when x is not finite.
  static double apply_nodes(const double* source, const double* reference, std::size_t count, CdfEdges edges, double x);
};

// How many nodes a mapping of these settings has before ties merge (the bands per side of a mapping raster).
int node_count(const CdfSettings& settings);
// Labels of those nodes: "p0", "p5", …, "p100"; "min", "max"; "mean-std", "mean+std".
std::vector<std::string> node_labels(const CdfSettings& settings);

// numpy's default ("linear") percentile of sorted values: h = (n − 1)·fraction, interpolated between
// the order statistics either side of h. fraction in [0, 1].
double sorted_percentile(const double* sorted, std::size_t count, double fraction);

struct CdfFit {
  CdfStatus status = CdfStatus::Empty;
  std::size_t pairs = 0;  // finite pairs the fit used
};

// Fits the mapping of `source` onto `reference` (matched pairs, the same length). Pairs where either
// value is NaN or ±Inf are dropped first. Both vectors are reordered in place (sorted), and `mapping`
// is overwritten; with vectors reused across calls nothing is allocated once they have grown, so a
// stack kernel can fit pixel after pixel on per-window buffers.
CdfFit fit_cdf_mapping(std::vector<double>& source, std::vector<double>& reference, const CdfSettings& settings,
                       CdfMapping& mapping);

// Rounds the nodes to Float32, as a mapping raster stores them, and merges the source nodes that the
// rounding made equal. Applying the rounded mapping is then exactly what applying the saved raster
// does. False when fewer than 2 nodes remain or one leaves Float32's range.
bool round_nodes_to_float(CdfMapping& mapping);

// Why these nodes cannot be a mapping ("" when they can): fewer than 2, not finite, source not
// strictly increasing, reference decreasing. Indices in the message are 1-based node numbers.
std::string node_problem(const double* source, const double* reference, std::size_t count);

// The mapping file (SERIES mode): {"format": "smr-cdf-mapping", "version": 1, "method", "edges",
// "percentiles", "source", "reference"}.
inline constexpr const char* kCdfMappingFormat = "smr-cdf-mapping";
inline constexpr int kCdfMappingVersion = 1;
json mapping_to_json(const CdfMapping& mapping);            // the mapping object, without format and version
void write_mapping_file(const std::string& key, const std::string& path, const CdfMapping& mapping);
// Every field validated; errors name `key`, the file and the field.
CdfMapping mapping_from_json(const json& document, const std::string& origin);
CdfMapping read_mapping_file(const std::string& key, const std::string& path);

}  // namespace smr
