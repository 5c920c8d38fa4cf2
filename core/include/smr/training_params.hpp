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

struct TrainingChoice {
  TrainingSettings settings;  // goal and min_gradient still in target units: see in_scaled_units
  DivisionMethod division = DivisionMethod::Random;
  DivisionRatios ratios;
  bool zero_one = false;
  double goal = 0.0, min_gradient = 1e-7;  // in target units, as MATLAB measures performance

  double low() const { return zero_one ? 0.0 : -1.0; }
  // The settings for targets scaled with `gain` (d scaled / d target): errors there are gain× larger.
  TrainingSettings in_scaled_units(double gain) const;
  json metadata() const;  // what a model file records of the choice
};

// HIDDEN: a list of sizes, one number, or a string such as "10 5" or "10,5".
std::vector<int> hidden_layers(const Params& params, const std::vector<int>& fallback);

// Reads HIDDEN, HIDDEN_ACTIVATION, OUTPUT_ACTIVATION, NORMALISATION, TRAINER, EPOCHS, GOAL, MIN_GRADIENT,
// MU, MU_DEC, MU_INC, MU_MAX, MAX_FAIL, LEARNING_RATE, BATCH_SIZE, RESTARTS, DIVISION, TRAIN_RATIO,
// VALIDATION_RATIO, TEST_RATIO and SEED; `divisions` lists the DIVISION values the command accepts.
TrainingChoice training_choice(const Params& params, const TrainingDefaults& defaults,
                               const std::vector<std::string>& divisions);

inline const std::vector<std::string> kTrainingKeys = {
    "HIDDEN", "HIDDEN_ACTIVATION", "OUTPUT_ACTIVATION", "NORMALISATION", "TRAINER", "EPOCHS", "GOAL",
    "MIN_GRADIENT", "MU", "MU_DEC", "MU_INC", "MU_MAX", "MAX_FAIL", "LEARNING_RATE", "BATCH_SIZE",
    "RESTARTS", "DIVISION", "TRAIN_RATIO", "VALIDATION_RATIO", "TEST_RATIO", "SEED"};

// Keys plus kTrainingKeys, for Params::reject_unknown.
std::vector<std::string> with_training_keys(std::vector<std::string> keys);

}  // namespace smr
