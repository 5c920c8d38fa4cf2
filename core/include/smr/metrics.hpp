// Agreement between an estimate and a reference (DESIGN §5; papers 000 Table 2, 001 eq. 1-3, 003
// §2.2.2). bias = mean(estimate − reference): positive means the estimate is too high.
#pragma once

#include "smr/protocol.hpp"

#include <string>
#include <vector>

namespace smr {

struct Metrics {
  double r;       // Pearson correlation
  double r2;      // r²
  double nse;     // Nash–Sutcliffe efficiency 1 − Σ(e − r)²/Σ(r − r̄)²
  double rmse;    // √mean((e − r)²)
  double ubrmse;  // √(RMSE² − bias²)
  double mae;     // mean|e − r|
  double bias;    // mean(e − r)
  long long n;    // pairs
};  // a metric that is undefined (n < 2, or a constant series for r and NSE) is NaN

// The moments a set of pairs is summarised by, as a two-pass computation over them gives them (means
// first, then sums around the means): Σ deviations², Σ products of deviations.
struct PairMoments {
  long long n = 0;
  double mean_estimate = 0, mean_reference = 0;
  double m2_estimate = 0, m2_reference = 0, comoment = 0;
  double m2_difference = 0;             // of estimate − reference around its mean
  double mean_absolute_difference = 0;  // mean |estimate − reference|
};

// Streaming moments of the pairs; merge() combines partial results (Chan et al.), so blocks can be
// accumulated separately and merged in a fixed order for a result independent of the thread count.
class MetricsAccumulator {
 public:
  MetricsAccumulator() = default;
  // A partial computed elsewhere (e.g. by vectorised passes over many pairs), to merge or finish.
  explicit MetricsAccumulator(const PairMoments& moments);
  void add(double estimate, double reference);
  void merge(const MetricsAccumulator& other);
  long long count() const { return n_; }
  Metrics result() const;

 private:
  long long n_ = 0;
  double mean_estimate_ = 0, mean_reference_ = 0;
  double m2_estimate_ = 0, m2_reference_ = 0, comoment_ = 0;  // Σ deviations², Σ products of deviations
  double mean_difference_ = 0, m2_difference_ = 0;  // of estimate − reference
  double mean_absolute_difference_ = 0;
};

Metrics compute_metrics(const std::vector<double>& estimate, const std::vector<double>& reference);

// {"r":…, "r2":…, "nse":…, "rmse":…, "ubrmse":…, "mae":…, "bias":…, "n":…}, null where undefined.
json metrics_json(const Metrics& metrics);
// The same as Processing outputs: prefix + R, R2, NSE, RMSE, UBRMSE, MAE, BIAS, N (e.g. TEST_RMSE).
json metric_outputs(const Metrics& metrics, const std::string& prefix);

}  // namespace smr
