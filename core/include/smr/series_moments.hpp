// Moments of time series compared pixel by pixel, and what the validation-at-scale commands derive
// from them: the significance of a correlation (paper 001 eq. 1, paper 003 §2.2.2) and the error
// variances of three collocated products (extended triple collocation, paper 003 §2.2.1 after
// McColl et al. 2014; DESIGN §5).
#pragma once

#include <array>
#include <cstddef>
#include <functional>
#include <map>
#include <mutex>
#include <stdexcept>
#include <utility>
#include <vector>

#include "smr/metrics.hpp"
#include "smr/raster.hpp"

namespace smr {

// Two-sided p-value of Pearson's r over n pairs: Student's t = r·√((n − 2)/(1 − r²)) with n − 2
// degrees of freedom. |r| = 1 gives 0; NaN when r is undefined or n < 3.
double correlation_p_value(double r, long long n);

// Per-pixel moments over time of a run of at most kChunkPixels pixels of two stacks. estimate[t] is
// step t's band of the window (row-major), and the run starts at pixel `offset`. The time loop is
// outside and the pixel loop inside, over contiguous values, so the compiler vectorises it; two passes
// (means, then sums around them) keep Welford's accuracy without a division per value. Steps where
// either value is NaN or ±Inf are left out of that pixel's pairs.
class PairedSeriesMoments {
 public:
  // Small enough that a run's values of a year of daily bands stay in cache between the two passes.
  static constexpr std::size_t kChunkPixels = 256;

  // per_step, when given (one per step), also takes step t's pairs of the run (statistics across
  // pixels, paper 003's spatial correlation) while the step's values are in cache.
  void compute(const float* const* estimate, const float* const* reference, std::size_t steps, std::size_t offset,
               std::size_t pixels, MetricsAccumulator* per_step = nullptr);
  PairMoments moments(std::size_t pixel) const;                   // pixel counts from `offset`
  long long infinite_values() const { return infinite_values_; }  // ±Inf met in the run

 private:
  using Column = std::array<double, kChunkPixels>;
  using Scratch = std::array<float, kChunkPixels>;
  // Counts as doubles: the loops then mix no integer lanes, and every count below 2^53 is exact.
  Column pairs_{}, mean_estimate_{}, mean_reference_{}, absolute_sum_{};
  Column m2_estimate_{}, m2_reference_{}, comoment_{}, m2_difference_{};
  Scratch masked_estimate_{}, masked_reference_{}, weight_{}, infinite_{};  // one step at a time
  long long infinite_values_ = 0;
};

// Sample covariances (denominator n − 1) of three series over their n triplets.
struct TripleCovariance {
  long long n = 0;
  double xx = 0, yy = 0, zz = 0, xy = 0, xz = 0, yz = 0;
};

// The same moments for three stacks: triplets where all three values are finite.
class TripleSeriesMoments {
 public:
  static constexpr std::size_t kChunkPixels = PairedSeriesMoments::kChunkPixels;

  void compute(const float* const* x, const float* const* y, const float* const* z, std::size_t steps,
               std::size_t offset, std::size_t pixels);
  TripleCovariance covariance(std::size_t pixel) const;
  long long infinite_values() const { return infinite_values_; }

 private:
  using Column = std::array<double, kChunkPixels>;
  using Scratch = std::array<float, kChunkPixels>;
  Column triplets_{}, mean_x_{}, mean_y_{}, mean_z_{};
  Column xx_{}, yy_{}, zz_{}, xy_{}, xz_{}, yz_{};
  Scratch masked_x_{}, masked_y_{}, masked_z_{}, weight_{}, infinite_{};
  long long infinite_values_ = 0;
};

// Covariances of the rows where x, y and z are all finite (the others are left out).
TripleCovariance triple_covariance(const std::vector<double>& x, const std::vector<double>& y,
                                   const std::vector<double>& z);

// Why a pixel or group has, or lacks, a triple-collocation estimate: the first that applies.
enum class CollocationStatus {
  Collocated,
  Empty,             // no triplet
  FewObservations,   // fewer triplets than the minimum
  LowCorrelation,    // a pairwise r below the minimum, or undefined (a constant series)
  NegativeVariance,  // an error variance < 0, or a signal variance ≤ 0 (covariances of inconsistent sign)
};
const char* status_name(CollocationStatus status);  // "collocated", "empty", "few_observations", …

// What triple collocation says of one dataset, in that dataset's units unless said otherwise.
struct CollocatedDataset {
  double error_variance;    // σ²_ε (units²)
  double error_std;         // σ_ε
  double error_std_scaled;  // |scaling|·σ_ε: in the units of the dataset the others are scaled to
  double snr_db;            // 10·log10(signal variance / σ²_ε)
  double r_truth;           // correlation with the unknown truth, √R²
  double scaling;           // factor that puts this dataset's anomalies into the scaled-to dataset's units
};

struct CollocationOptions {
  int scale_to = 0;  // 0 x, 1 y, 2 z
  double min_correlation = 0.2;
  long long min_observations = 30;
};

struct TripleCollocation {
  CollocationStatus status = CollocationStatus::Empty;
  long long n = 0;
  std::array<double, 3> pairwise_r;           // xy, xz, yz; NaN where undefined (n < 2, a constant series)
  std::array<CollocatedDataset, 3> datasets;  // x, y, z; NaN unless Collocated
};

// Extended triple collocation in covariance notation, with σ the covariances:
//   σ²_εX = σ²_X − σ_XY·σ_XZ/σ_YZ (and cyclic), R²_X = σ_XY·σ_XZ/(σ²_X·σ_YZ),
//   SNR_X = (σ_XY·σ_XZ/σ_YZ)/σ²_εX, relative gains β_X : β_Y : β_Z = 1 : σ_YZ/σ_XZ : σ_YZ/σ_XY.
TripleCollocation triple_collocation(const TripleCovariance& covariance, const CollocationOptions& options);

// Per-window partial results combined in window order, whatever order the windows finish in, so that
// floating-point sums do not depend on the thread count. The engine's windows tile the grid in rows of
// windows, left to right and top to bottom, and are handed out in that order: a finished window waits
// only for the earlier ones still in flight, so only a few partials are ever buffered.
template <typename Partial>
class WindowOrderMerger {
 public:
  using Combine = std::function<void(Partial&)>;

  explicit WindowOrderMerger(Combine combine) : combine_(std::move(combine)) {}

  // Thread-safe; `combine` runs under the merger's lock, one window at a time, in window order.
  void add(const Block& block, Partial partial) {
    std::lock_guard<std::mutex> lock(mutex_);
    grid_height_ = block.grid->height;
    waiting_.emplace(std::make_pair(block.y0, block.x0), Waiting{std::move(partial), block.width, block.height});
    for (auto next = waiting_.find(next_); next != waiting_.end(); next = waiting_.find(next_)) {
      combine_(next->second.partial);
      const int x_end = next_.second + next->second.width;
      next_ = x_end < block.grid->width ? std::make_pair(next_.first, x_end)
                                        : std::make_pair(next_.first + next->second.height, 0);
      waiting_.erase(next);
    }
  }

  // After a run that visited every window: each was merged, none is left waiting.
  void check_complete() const {
    if (!waiting_.empty() || next_.first < grid_height_)
      throw std::logic_error("windows did not tile the grid: a partial result was never merged");
  }

 private:
  struct Waiting {
    Partial partial;
    int width, height;
  };
  Combine combine_;
  std::mutex mutex_;
  std::map<std::pair<int, int>, Waiting> waiting_;  // by (y0, x0)
  std::pair<int, int> next_{0, 0};
  int grid_height_ = 0;
};

}  // namespace smr
