#include "smr/series_moments.hpp"

#include <algorithm>
#include <boost/math/distributions/students_t.hpp>
#include <cmath>
#include <limits>
#include <utility>

namespace smr {

namespace {

constexpr double kUndefined = std::numeric_limits<double>::quiet_NaN();
constexpr float kLargestFloat = std::numeric_limits<float>::max();
constexpr float kInfinity = std::numeric_limits<float>::infinity();

// A run's pixels, as both classes take them.
constexpr std::size_t kRunPixels = PairedSeriesMoments::kChunkPixels;

// The helpers below take N stacks (a pair, a triplet) as the indices std::index_sequence<S...> and reach
// each stack's arrays as `array[S]` in fold expressions, not in a loop over the stacks: GCC 12
// vectorises a pixel loop only when it holds no inner loop. `omp simd` because pointers held in arrays
// carry no __restrict.

// One step of N stacks over a run of pixels, with the pixels where the step is not complete set aside:
// their values become 0 and their weight 0, the others keep their values and weight 1. The sums then
// take every pixel without a condition. Choosing in float width, apart from the double sums, is what
// lets GCC vectorise the loops: a float condition choosing a double keeps the loop scalar.
// |v| ≤ FLT_MAX is false for NaN and ±Inf alike; `&`, not `&&`, as a short circuit is a branch.
template <std::size_t... S>
void mask_step(std::index_sequence<S...>, const std::array<const float*, sizeof...(S)>& values, std::size_t pixels,
               const std::array<float*, sizeof...(S)>& masked, float* weight, float* infinite) {
#pragma omp simd
  for (std::size_t p = 0; p < pixels; ++p) {
    const float v[] = {values[S][p]...};
    const bool complete = (... & (std::abs(v[S]) <= kLargestFloat));
    ((masked[S][p] = complete ? v[S] : 0.0f), ...);
    weight[p] = complete ? 1.0f : 0.0f;
    infinite[p] += (... + (std::abs(v[S]) == kInfinity ? 1.0f : 0.0f));
  }
}

// The moments of one step's complete pairs across a run of pixels, from mask_step's output: the same
// two passes as per pixel, here as vectorised sums across the pixels.
PairMoments masked_moments(const float* e, const float* r, const float* weight, std::size_t pixels) {
  double pairs = 0, sum_e = 0, sum_r = 0, absolute = 0;
#pragma omp simd reduction(+ : pairs, sum_e, sum_r, absolute)
  for (std::size_t p = 0; p < pixels; ++p) {
    const double ev = e[p], rv = r[p];
    pairs += weight[p];
    sum_e += ev;
    sum_r += rv;
    absolute += std::abs(ev - rv);
  }
  PairMoments moments;
  moments.n = static_cast<long long>(pairs);
  if (moments.n == 0) return moments;
  const double mean_e = sum_e / pairs, mean_r = sum_r / pairs;
  double m2_e = 0, m2_r = 0, comoment = 0, m2_d = 0;
#pragma omp simd reduction(+ : m2_e, m2_r, comoment, m2_d)
  for (std::size_t p = 0; p < pixels; ++p) {
    const double w = weight[p];
    const double de = (e[p] - mean_e) * w, dr = (r[p] - mean_r) * w, dd = de - dr;
    m2_e += de * de;
    m2_r += dr * dr;
    comoment += de * dr;
    m2_d += dd * dd;
  }
  moments.mean_estimate = mean_e;
  moments.mean_reference = mean_r;
  moments.m2_estimate = m2_e;
  moments.m2_reference = m2_r;
  moments.comoment = comoment;
  moments.m2_difference = m2_d;
  moments.mean_absolute_difference = absolute / pairs;
  return moments;
}

// A run's ±Inf tally: per pixel in float (exact below 2^24 steps), summed once.
long long total_of(const float* counts, std::size_t pixels) {
  long long total = 0;
  for (std::size_t p = 0; p < pixels; ++p) total += static_cast<long long>(counts[p]);
  return total;
}

// The two passes both classes make over the steps of a run of N stacks: the means first, then the
// sums around them, which keeps Welford's accuracy without a division per value. Pass 1 masks each
// step and sums its weights into `count` and its values into `mean`, which then become the means;
// `end_step(t)` sees the step's masked values while they are in cache. Pass 2 masks each step again
// and hands each pixel's deviations from the means (0 for a step set aside), one argument per stack,
// to `add_deviations(p, deviation...)`, inlined into the pixel loop. Returns the ±Inf met.
template <std::size_t... S, typename EndStep, typename AddDeviations>
long long two_passes(std::index_sequence<S...> each, const std::array<const float* const*, sizeof...(S)>& stacks,
                     std::size_t steps, std::size_t offset, std::size_t pixels,
                     const std::array<float*, sizeof...(S)>& masked, float* weight, float* infinite, double* count,
                     const std::array<double*, sizeof...(S)>& mean, EndStep end_step, AddDeviations add_deviations) {
  const auto step = [&](std::size_t t) { return std::array<const float*, sizeof...(S)>{(stacks[S][t] + offset)...}; };
  std::fill_n(count, pixels, 0.0);
  (std::fill_n(mean[S], pixels, 0.0), ...);
  std::fill_n(infinite, pixels, 0.0f);
  for (std::size_t t = 0; t < steps; ++t) {
    mask_step(each, step(t), pixels, masked, weight, infinite);
#pragma omp simd
    for (std::size_t p = 0; p < pixels; ++p) {
      count[p] += weight[p];
      ((mean[S][p] += masked[S][p]), ...);
    }
    end_step(t);
  }
  for (std::size_t p = 0; p < pixels; ++p) {
    const double divisor = count[p] > 0.0 ? count[p] : 1.0;
    ((mean[S][p] /= divisor), ...);  // the sums become the means
  }

  std::array<float, kRunPixels> ignored{};  // the second pass meets the same ±Inf again
  for (std::size_t t = 0; t < steps; ++t) {
    mask_step(each, step(t), pixels, masked, weight, ignored.data());
#pragma omp simd
    for (std::size_t p = 0; p < pixels; ++p) {
      // A set-aside step is 0 with weight 0: (0 − mean)·0 = 0, as the means are finite.
      const double w = weight[p];
      add_deviations(p, ((masked[S][p] - mean[S][p]) * w)...);
    }
  }
  return total_of(infinite, pixels);
}

// Boost would otherwise compute in long double (slower, and no more than the inputs carry) and throw
// where an IEEE value says enough.
using QuietPolicy =
    boost::math::policies::policy<boost::math::policies::promote_double<false>,
                                  boost::math::policies::overflow_error<boost::math::policies::ignore_error>,
                                  boost::math::policies::underflow_error<boost::math::policies::ignore_error>>;

double correlation(double covariance, double variance_a, double variance_b) {
  if (!(variance_a > 0.0) || !(variance_b > 0.0)) return kUndefined;
  // Rounding may carry a perfect correlation just past ±1.
  return std::clamp(covariance / std::sqrt(variance_a * variance_b), -1.0, 1.0);
}

}  // namespace

double correlation_p_value(double r, long long n) {
  if (n < 3 || !std::isfinite(r)) return kUndefined;
  const double magnitude = std::abs(r);
  if (magnitude >= 1.0) return 0.0;
  const double freedom = static_cast<double>(n - 2);
  // (1 − |r|)(1 + |r|) keeps its digits where 1 − r² would cancel, for r near ±1.
  const double t = magnitude * std::sqrt(freedom / ((1.0 - magnitude) * (1.0 + magnitude)));
  const boost::math::students_t_distribution<double, QuietPolicy> student(freedom);
  return std::min(1.0, 2.0 * boost::math::cdf(boost::math::complement(student, t)));
}

void PairedSeriesMoments::compute(const float* const* estimate, const float* const* reference, std::size_t steps,
                                  std::size_t offset, std::size_t pixels, MetricsAccumulator* per_step) {
  if (pixels > kChunkPixels) throw std::logic_error("PairedSeriesMoments: a run holds at most kChunkPixels pixels");
  for (Column* column : {&absolute_sum_, &m2_estimate_, &m2_reference_, &comoment_, &m2_difference_})
    std::fill_n(column->begin(), pixels, 0.0);
  float* const e = masked_estimate_.data();
  float* const r = masked_reference_.data();
  float* const weight = weight_.data();
  double* const absolute = absolute_sum_.data();
  double* const m2_e = m2_estimate_.data();
  double* const m2_r = m2_reference_.data();
  double* const comoment = comoment_.data();
  double* const m2_d = m2_difference_.data();
  infinite_values_ = two_passes(
      std::make_index_sequence<2>(), {estimate, reference}, steps, offset, pixels, {e, r}, weight, infinite_.data(),
      pairs_.data(), {mean_estimate_.data(), mean_reference_.data()},
      [&](std::size_t t) {
        if (per_step) per_step[t].merge(MetricsAccumulator(masked_moments(e, r, weight, pixels)));
      },
      // |e − r| is summed in the second pass, whose masked values are the first's.
      [=](std::size_t p, double de, double dr) {
        const double ev = e[p], rv = r[p], dd = de - dr;
        absolute[p] += std::abs(ev - rv);
        m2_e[p] += de * de;
        m2_r[p] += dr * dr;
        comoment[p] += de * dr;
        m2_d[p] += dd * dd;
      });
}

PairMoments PairedSeriesMoments::moments(std::size_t pixel) const {
  PairMoments moments;
  moments.n = static_cast<long long>(pairs_[pixel]);
  if (moments.n == 0) return moments;
  moments.mean_estimate = mean_estimate_[pixel];
  moments.mean_reference = mean_reference_[pixel];
  moments.m2_estimate = m2_estimate_[pixel];
  moments.m2_reference = m2_reference_[pixel];
  moments.comoment = comoment_[pixel];
  moments.m2_difference = m2_difference_[pixel];
  moments.mean_absolute_difference = absolute_sum_[pixel] / pairs_[pixel];
  return moments;
}

void TripleSeriesMoments::compute(const float* const* x, const float* const* y, const float* const* z,
                                  std::size_t steps, std::size_t offset, std::size_t pixels) {
  if (pixels > kChunkPixels) throw std::logic_error("TripleSeriesMoments: a run holds at most kChunkPixels pixels");
  for (Column* column : {&xx_, &yy_, &zz_, &xy_, &xz_, &yz_}) std::fill_n(column->begin(), pixels, 0.0);
  double* const sxx = xx_.data();
  double* const syy = yy_.data();
  double* const szz = zz_.data();
  double* const sxy = xy_.data();
  double* const sxz = xz_.data();
  double* const syz = yz_.data();
  infinite_values_ = two_passes(
      std::make_index_sequence<3>(), {x, y, z}, steps, offset, pixels,
      {masked_x_.data(), masked_y_.data(), masked_z_.data()}, weight_.data(), infinite_.data(), triplets_.data(),
      {mean_x_.data(), mean_y_.data(), mean_z_.data()}, [](std::size_t) {},
      [=](std::size_t p, double dx, double dy, double dz) {
        sxx[p] += dx * dx;
        syy[p] += dy * dy;
        szz[p] += dz * dz;
        sxy[p] += dx * dy;
        sxz[p] += dx * dz;
        syz[p] += dy * dz;
      });
}

TripleCovariance TripleSeriesMoments::covariance(std::size_t pixel) const {
  TripleCovariance covariance;
  covariance.n = static_cast<long long>(triplets_[pixel]);
  if (covariance.n < 2) return covariance;
  const double divisor = triplets_[pixel] - 1.0;
  covariance.xx = xx_[pixel] / divisor;
  covariance.yy = yy_[pixel] / divisor;
  covariance.zz = zz_[pixel] / divisor;
  covariance.xy = xy_[pixel] / divisor;
  covariance.xz = xz_[pixel] / divisor;
  covariance.yz = yz_[pixel] / divisor;
  return covariance;
}

TripleCovariance triple_covariance(const std::vector<double>& x, const std::vector<double>& y,
                                   const std::vector<double>& z) {
  if (y.size() != x.size() || z.size() != x.size())
    throw std::logic_error("triple_covariance: series of " + std::to_string(x.size()) + ", " +
                           std::to_string(y.size()) + " and " + std::to_string(z.size()) + " values");
  const auto complete = [&](std::size_t i) {
    return std::isfinite(x[i]) && std::isfinite(y[i]) && std::isfinite(z[i]);
  };
  TripleCovariance covariance;
  double mx = 0, my = 0, mz = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    if (!complete(i)) continue;
    ++covariance.n;
    mx += x[i];
    my += y[i];
    mz += z[i];
  }
  if (covariance.n < 2) return covariance;
  const double count = static_cast<double>(covariance.n);
  mx /= count;
  my /= count;
  mz /= count;
  for (std::size_t i = 0; i < x.size(); ++i) {
    if (!complete(i)) continue;
    const double dx = x[i] - mx, dy = y[i] - my, dz = z[i] - mz;
    covariance.xx += dx * dx;
    covariance.yy += dy * dy;
    covariance.zz += dz * dz;
    covariance.xy += dx * dy;
    covariance.xz += dx * dz;
    covariance.yz += dy * dz;
  }
  for (double* sum : {&covariance.xx, &covariance.yy, &covariance.zz, &covariance.xy, &covariance.xz, &covariance.yz})
    *sum /= count - 1.0;
  return covariance;
}

const char* status_name(CollocationStatus status) {
  switch (status) {
    case CollocationStatus::Collocated:
      return "collocated";
    case CollocationStatus::Empty:
      return "empty";
    case CollocationStatus::FewObservations:
      return "few_observations";
    case CollocationStatus::LowCorrelation:
      return "low_correlation";
    case CollocationStatus::NegativeVariance:
      return "negative_variance";
  }
  return "unknown";
}

TripleCollocation triple_collocation(const TripleCovariance& c, const CollocationOptions& options) {
  TripleCollocation result;
  result.n = c.n;
  result.pairwise_r.fill(kUndefined);
  result.datasets.fill({kUndefined, kUndefined, kUndefined, kUndefined, kUndefined, kUndefined});
  if (c.n == 0) return result;  // Empty
  if (c.n >= 2)
    result.pairwise_r = {correlation(c.xy, c.xx, c.yy), correlation(c.xz, c.xx, c.zz), correlation(c.yz, c.yy, c.zz)};
  if (c.n < options.min_observations) {
    result.status = CollocationStatus::FewObservations;
    return result;
  }
  for (const double r : result.pairwise_r)
    if (!(r >= options.min_correlation)) {  // NaN (a constant series) fails too
      result.status = CollocationStatus::LowCorrelation;
      return result;
    }
  // The part of each dataset's variance that the other two share with it: its signal variance.
  const std::array<double, 3> variance = {c.xx, c.yy, c.zz};
  const std::array<double, 3> signal = {c.xy * c.xz / c.yz, c.xy * c.yz / c.xz, c.xz * c.yz / c.xy};
  std::array<double, 3> error_variance{};
  for (int i = 0; i < 3; ++i) {
    error_variance[i] = variance[i] - signal[i];
    // An odd number of negative covariances makes every signal variance negative: no gains fit them.
    if (!(error_variance[i] >= 0.0) || !(signal[i] > 0.0) || !std::isfinite(signal[i])) {
      result.status = CollocationStatus::NegativeVariance;
      return result;
    }
  }
  const std::array<double, 3> gain = {1.0, c.yz / c.xz, c.yz / c.xy};  // relative to x's
  const double reference_gain = gain[static_cast<std::size_t>(options.scale_to)];
  for (std::size_t i = 0; i < 3; ++i) {
    CollocatedDataset& dataset = result.datasets[i];
    dataset.error_variance = error_variance[i];
    dataset.error_std = std::sqrt(error_variance[i]);
    dataset.scaling = reference_gain / gain[i];
    // A negative gain (anti-correlated products, allowed by a negative MIN_CORRELATION) scales an
    // error's size by its magnitude.
    dataset.error_std_scaled = std::abs(dataset.scaling) * dataset.error_std;
    dataset.snr_db = 10.0 * std::log10(signal[i] / error_variance[i]);
    dataset.r_truth = std::sqrt(signal[i] / variance[i]);
  }
  result.status = CollocationStatus::Collocated;
  return result;
}

}  // namespace smr
