// Training a regression MLP as MATLAB's fitnet + trainlm does (DESIGN §6): mapminmax scaling, data
// division into training / validation / test subsets, Levenberg–Marquardt (or Adam) with early stopping
// on the validation subset, and restarts from several random initialisations.
#pragma once

#include "smr/levenberg_marquardt.hpp"
#include "smr/mlp.hpp"
#include "smr/protocol.hpp"

#include <Eigen/Dense>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace smr {

// mapminmax: each row (variable) mapped linearly from [minimum, maximum] to [low, high]. A row that was
// constant maps to the middle of the range.
struct MinMaxScaling {
  double low = -1.0, high = 1.0;
  Eigen::VectorXd minimum, maximum;

  static MinMaxScaling fit(const Eigen::MatrixXd& values, double low, double high);  // rows = variables
  double gain(Eigen::Index row) const;  // d(scaled)/d(value); 0 for a constant row
  Eigen::MatrixXd apply(const Eigen::MatrixXd& values) const;
  Eigen::MatrixXd invert(const Eigen::MatrixXd& scaled) const;
};

enum class DivisionMethod { Random, Block, Interleaved, Group };
DivisionMethod division_from_name(const std::string& name);  // throws InputError naming DIVISION
std::string division_name(DivisionMethod method);

struct DivisionRatios {
  double train = 0.7, validation = 0.15, test = 0.15;  // divided by their sum
};

struct Division {
  std::vector<Eigen::Index> train, validation, test;  // sample indices, ascending
};

// MATLAB's dividerand / divideblock / divideint, plus whole groups to one subset (a station never in
// two subsets). Random choices come from `seed` alone. Throws InputError when the training subset would
// be empty or a requested validation/test subset gets no sample.
Division divide_samples(Eigen::Index count, DivisionMethod method, const DivisionRatios& ratios,
                        const std::vector<std::string>& groups, std::uint64_t seed);

enum class Trainer { LevenbergMarquardt, Adam };

struct AdamParams {
  double learning_rate = 1e-3;
  int batch_size = 32;
  double beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8;
};

struct TrainingSettings {
  std::vector<int> hidden{10};
  Activation hidden_activation = Activation::Tansig;
  Activation output_activation = Activation::Purelin;
  Trainer trainer = Trainer::LevenbergMarquardt;
  LevenbergMarquardtParams lm;  // max_epochs and goal apply to Adam too; goal on the scaled targets
  AdamParams adam;
  int max_fail = 6;   // validation epochs in a row without a new minimum before stopping; 0 = never
  int restarts = 1;
  std::uint64_t seed = 1;
};

// Mean squared errors on the scaled targets after each epoch (index 0: the initial weights); a list is
// empty when its subset is.
struct TrainingCurves {
  std::vector<double> train, validation, test;
};

struct TrainingOutcome {
  Mlp network;            // the weights of the validation minimum (the last epoch's without validation)
  int best_restart = 0;
  int best_epoch = 0;     // the epoch whose weights were kept
  int epochs_run = 0;
  std::string stop_reason;
  TrainingCurves curves;  // of the kept restart
  double selection_error = 0.0;  // the validation MSE (training MSE without validation) that chose it
};

// Random generator of restart `restart` (or of another named purpose) derived from the seed alone.
std::mt19937_64 seeded_generator(std::uint64_t seed, std::uint64_t stream);

// The heap a training holds at most, estimated from its shape before anything is allocated (what
// MAX_MEMORY_MB is checked against). Each restart holds its own buffers, sized once.
struct TrainingMemory {
  Eigen::Index weights = 0;
  double jacobian = 0.0;     // per restart: lm, training samples × outputs × weights; adam, a batch's
  double matrices = 0.0;     // per restart: lm, JᵀJ, JᵀJ + μI, its Cholesky factor (weights² each) and
                             // the product blocks of JᵀJ; adam, the parameters, moments and gradient
  double activations = 0.0;  // per restart: every layer's outputs for the samples scored each epoch
  double other = 0.0;        // per restart: parameter vectors, the kept network, the error curves
  double shared = 0.0;       // the training, validation and test samples, shared by the restarts
  int concurrent = 1;        // restarts that run at once
  double per_restart() const { return jacobian + matrices + activations + other; }
  double total() const { return shared + per_restart() * concurrent; }
};

// For `inputs` × `outputs` networks of `settings` on subsets of these sizes, with `threads` OpenMP
// threads for train_network at the outermost level (restarts in parallel, else Jacobian chunks).
TrainingMemory estimate_training_memory(Eigen::Index inputs, Eigen::Index outputs, Eigen::Index train,
                                        Eigen::Index validation, Eigen::Index test, const TrainingSettings& settings,
                                        int threads);

// inputs (features × samples) and targets (outputs × samples), both already scaled. Restarts run in
// parallel when there are several; every restart is reproducible on its own, so the outcome is the
// same for any thread count. Progress goes to `reporter` once per epoch; cancel is honoured.
// Buffers are sized once per restart: no epoch allocates.
TrainingOutcome train_network(const Eigen::MatrixXd& inputs, const Eigen::MatrixXd& targets,
                              const Division& division, const TrainingSettings& settings, Reporter& reporter);

}  // namespace smr
