// The training parameters shared by every command that trains BP networks (trainmlp, and the per-cell
// networks of paper 001): their keys, defaults and validation, in one place.
#pragma once

#include "smr/params.hpp"
#include "smr/training.hpp"

#include <string>
#include <vector>

namespace smr {

struct TrainingDefaults {
  std::vector<int> hidden{10};
  DivisionRatios ratios;  // 0.7 / 0.15 / 0.15: fitnet's
  bool zero_one = false;  // mapminmax to [−1, 1]; paper 001 scales to [0, 1]
};

// MAX_MEMORY_MB: the default leaves room for GDAL's cache and the windows of a raster run on a
// machine of 8 GB; the highest value is 1 TiB.
inline constexpr long long kDefaultMaxMemoryMb = 4096;
inline constexpr long long kLowestMaxMemoryMb = 16;
inline constexpr long long kHighestMaxMemoryMb = 1048576;

struct TrainingChoice {
  TrainingSettings settings;  // goal and min_gradient still in target units: see in_scaled_units
  DivisionMethod division = DivisionMethod::Random;
  DivisionRatios ratios;
  bool zero_one = false;
  double goal = 0.0, min_gradient = 1e-7;  // in target units, as MATLAB measures performance
  long long max_memory_mb = kDefaultMaxMemoryMb;  // not a training setting: no model file records it

  double low() const { return zero_one ? 0.0 : -1.0; }
  // The settings for targets scaled with `gain` (d scaled / d target): errors there are gain× larger.
  TrainingSettings in_scaled_units(double gain) const;
  json metadata() const;  // what a model file records of the choice
};

// HIDDEN: a list of sizes, one number, or a string such as "10 5" or "10,5".
std::vector<int> hidden_layers(const Params& params, const std::vector<int>& fallback);

// Reads HIDDEN, HIDDEN_ACTIVATION, OUTPUT_ACTIVATION, NORMALISATION, TRAINER, EPOCHS, GOAL, MIN_GRADIENT,
// MU, MU_DEC, MU_INC, MU_MAX, MAX_FAIL, LEARNING_RATE, BATCH_SIZE, RESTARTS, DIVISION, TRAIN_RATIO,
// VALIDATION_RATIO, TEST_RATIO, SEED and MAX_MEMORY_MB; `divisions` lists the DIVISION values the
// command accepts.
TrainingChoice training_choice(const Params& params, const TrainingDefaults& defaults,
                               const std::vector<std::string>& divisions);

inline const std::vector<std::string> kTrainingKeys = {
    "HIDDEN", "HIDDEN_ACTIVATION", "OUTPUT_ACTIVATION", "NORMALISATION", "TRAINER", "EPOCHS", "GOAL",
    "MIN_GRADIENT", "MU", "MU_DEC", "MU_INC", "MU_MAX", "MAX_FAIL", "LEARNING_RATE", "BATCH_SIZE",
    "RESTARTS", "DIVISION", "TRAIN_RATIO", "VALIDATION_RATIO", "TEST_RATIO", "SEED", "MAX_MEMORY_MB"};

// The shape of the trainings a command is about to run, for the memory check.
struct TrainingShape {
  Eigen::Index inputs = 1, outputs = 1;
  Eigen::Index train = 0, validation = 0, test = 0;  // samples of one training (at most, per cell)
  int threads = 1;           // the command's THREADS, resolved
  bool per_cell = false;     // one training per cell, `threads` cells at once, restarts one after another
  long long trainings = 0;   // per cell: the trainings the command runs, when fewer than threads; 0 = many
  std::string sample_keys;   // the parameters that set the number of samples, e.g. "MAX_SAMPLES"
};

// The subsets of `count` samples the choice's ratios give (training takes what rounding leaves).
TrainingShape divided_shape(Eigen::Index count, const DivisionRatios& ratios);

// The estimate of estimate_training_memory for the whole command: per-cell trainings count `threads`
// at once.
TrainingMemory command_training_memory(const TrainingChoice& choice, const TrainingShape& shape);

// Throws InputError, before anything is allocated, when the estimate exceeds MAX_MEMORY_MB: the
// message gives the estimate, what drives it (HIDDEN, the weights, the samples and the keys that set
// them, BATCH_SIZE, RESTARTS, THREADS) and how to lower it or raise MAX_MEMORY_MB.
void check_training_memory(const TrainingChoice& choice, const TrainingShape& shape);

// Keys plus kTrainingKeys, for Params::reject_unknown.
std::vector<std::string> with_training_keys(std::vector<std::string> keys);

}  // namespace smr
