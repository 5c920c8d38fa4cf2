#include "smr/metrics.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

namespace smr {

namespace {

constexpr double kUndefined = std::numeric_limits<double>::quiet_NaN();

json number_or_null(double value) { return std::isfinite(value) ? json(value) : json(nullptr); }

}  // namespace

MetricsAccumulator::MetricsAccumulator(const PairMoments& moments)
    : n_(moments.n),
      mean_estimate_(moments.mean_estimate),
      mean_reference_(moments.mean_reference),
      m2_estimate_(moments.m2_estimate),
      m2_reference_(moments.m2_reference),
      comoment_(moments.comoment),
      mean_difference_(moments.mean_estimate - moments.mean_reference),
      m2_difference_(moments.m2_difference),
      mean_absolute_difference_(moments.mean_absolute_difference) {}

// Welford's update: deviations from the running means keep the sums of squares accurate where
// Σx² − n·x̄² would cancel (soil moisture ≈ 0.3 ± 0.01 over millions of pixels).
void MetricsAccumulator::add(double estimate, double reference) {
  ++n_;
  const double count = static_cast<double>(n_);
  const double estimate_step = estimate - mean_estimate_;
  mean_estimate_ += estimate_step / count;
  const double reference_step = reference - mean_reference_;
  mean_reference_ += reference_step / count;
  m2_estimate_ += estimate_step * (estimate - mean_estimate_);
  m2_reference_ += reference_step * (reference - mean_reference_);
  comoment_ += estimate_step * (reference - mean_reference_);

  const double difference = estimate - reference;
  const double difference_step = difference - mean_difference_;
  mean_difference_ += difference_step / count;
  m2_difference_ += difference_step * (difference - mean_difference_);
  mean_absolute_difference_ += (std::abs(difference) - mean_absolute_difference_) / count;
}

// Chan, Golub and LeVeque's pairwise combination of means and centred sums.
void MetricsAccumulator::merge(const MetricsAccumulator& other) {
  if (other.n_ == 0) return;
  if (n_ == 0) {
    *this = other;
    return;
  }
  const double own_count = static_cast<double>(n_), other_count = static_cast<double>(other.n_);
  const double total = own_count + other_count;
  const double weight = own_count * other_count / total;
  const double estimate_shift = other.mean_estimate_ - mean_estimate_;
  const double reference_shift = other.mean_reference_ - mean_reference_;
  const double difference_shift = other.mean_difference_ - mean_difference_;

  m2_estimate_ += other.m2_estimate_ + estimate_shift * estimate_shift * weight;
  m2_reference_ += other.m2_reference_ + reference_shift * reference_shift * weight;
  comoment_ += other.comoment_ + estimate_shift * reference_shift * weight;
  m2_difference_ += other.m2_difference_ + difference_shift * difference_shift * weight;

  mean_estimate_ += estimate_shift * other_count / total;
  mean_reference_ += reference_shift * other_count / total;
  mean_difference_ += difference_shift * other_count / total;
  mean_absolute_difference_ += (other.mean_absolute_difference_ - mean_absolute_difference_) * other_count / total;
  n_ += other.n_;
}

Metrics MetricsAccumulator::result() const {
  Metrics metrics{kUndefined, kUndefined, kUndefined, kUndefined, kUndefined, kUndefined, kUndefined, n_};
  if (n_ < 2) return metrics;
  const double count = static_cast<double>(n_);
  const double squared_error_sum = m2_difference_ + count * mean_difference_ * mean_difference_;
  metrics.bias = mean_difference_;
  metrics.mae = mean_absolute_difference_;
  metrics.rmse = std::sqrt(squared_error_sum / count);
  // RMSE² − bias² is the variance of the differences: taken from its own centred sum it cannot come
  // out slightly negative by cancellation when the estimate is the reference plus a constant.
  metrics.ubrmse = std::sqrt(m2_difference_ / count);
  if (m2_reference_ > 0.0) metrics.nse = 1.0 - squared_error_sum / m2_reference_;
  if (m2_estimate_ > 0.0 && m2_reference_ > 0.0) {
    // Rounding may carry a perfect correlation just past ±1.
    metrics.r = std::clamp(comoment_ / std::sqrt(m2_estimate_ * m2_reference_), -1.0, 1.0);
    metrics.r2 = metrics.r * metrics.r;
  }
  return metrics;
}

Metrics compute_metrics(const std::vector<double>& estimate, const std::vector<double>& reference) {
  if (estimate.size() != reference.size())
    throw std::logic_error("compute_metrics: " + std::to_string(estimate.size()) + " estimates but " +
                           std::to_string(reference.size()) + " reference values");
  MetricsAccumulator accumulator;
  for (std::size_t i = 0; i < estimate.size(); ++i) accumulator.add(estimate[i], reference[i]);
  return accumulator.result();
}

json metrics_json(const Metrics& metrics) {
  return {{"r", number_or_null(metrics.r)},         {"r2", number_or_null(metrics.r2)},
          {"nse", number_or_null(metrics.nse)},     {"rmse", number_or_null(metrics.rmse)},
          {"ubrmse", number_or_null(metrics.ubrmse)}, {"mae", number_or_null(metrics.mae)},
          {"bias", number_or_null(metrics.bias)},   {"n", metrics.n}};
}

json metric_outputs(const Metrics& metrics, const std::string& prefix) {
  const json named = metrics_json(metrics);  // items() refers into it: it must outlive the loop
  json outputs;
  for (const auto& [name, value] : named.items()) {
    std::string key = prefix + name;
    std::transform(key.begin(), key.end(), key.begin(), [](unsigned char c) { return std::toupper(c); });
    outputs[key] = value;
  }
  return outputs;
}

}  // namespace smr
