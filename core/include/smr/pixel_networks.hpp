// One small BP network per grid cell over its time series (paper 001; DESIGN §6 "Per-pixel networks"):
// the pairs of a cell are scaled, divided, trained and scored on their own, with a seed derived from the
// run's seed and the cell's index alone, so a cell's network does not depend on threads or windows.
#pragma once

#include "smr/metrics.hpp"
#include "smr/model_file.hpp"
#include "smr/protocol.hpp"
#include "smr/training_params.hpp"

#include <Eigen/Dense>

#include <array>
#include <cstdint>
#include <optional>

namespace smr {

// Subsets in the order of paper 001 Fig. 3 and of every per-cell output.
enum CellSubset { kTrainingSubset, kValidationSubset, kTestSubset, kOverallSubset, kCellSubsets };
inline constexpr const char* kCellSubsetNames[kCellSubsets] = {"training", "validation", "test", "overall"};
inline constexpr const char* kCellSubsetKeys[kCellSubsets] = {"TRAIN", "VALIDATION", "TEST", "ALL"};

enum class CellStatus { Trained, TooFewPairs, ConstantTarget, Diverged };

struct CellFit {
  CellStatus status = CellStatus::TooFewPairs;
  std::optional<MlpModel> model;                  // when trained
  std::array<Metrics, kCellSubsets> metrics{};    // in target units; NaN where undefined
  std::array<long long, 3> subset_sizes{0, 0, 0};  // training, validation, test pairs
};

// The seed of cell `index` (its row-major position) in a run seeded with `seed`.
std::uint64_t cell_seed(std::uint64_t seed, std::uint64_t index);

// Trains on one cell's pairs (features: inputs × pairs in time order; target: 1 × pairs). Fewer than
// `min_pairs` pairs, a constant target or a diverging training give no model. Training runs on the
// calling thread; cancellation through `cancel` throws Cancelled.
CellFit fit_cell(const Eigen::MatrixXd& features, const Eigen::MatrixXd& target, const TrainingChoice& choice,
                 long long min_pairs, std::uint64_t seed, const CancelToken* cancel);

// Throws InputError when `min_pairs` pairs cannot be divided by the choice's ratios (every cell that is
// trained has at least that many), naming MIN_PAIRS.
void check_min_pairs_divisible(long long min_pairs, const TrainingChoice& choice);

}  // namespace smr
