// The multilayer perceptron of the "BP network" papers (000, 001, 003; DESIGN §6): dense layers with
// MATLAB's transfer functions, its parameters packed into one vector for Levenberg–Marquardt, and the
// Jacobian of the outputs with respect to that vector.
#pragma once

#include "smr/eigen_products.hpp"

#include <Eigen/Dense>

#include <random>
#include <string>
#include <vector>

namespace smr {

enum class Activation { Tansig, Logsig, Relu, Purelin };

Activation activation_from_name(const std::string& name);  // throws InputError naming the valid ones
std::string activation_name(Activation activation);

struct DenseLayer {
  Eigen::MatrixXd weights;  // W (outputs × inputs)
  Eigen::VectorXd bias;     // b (outputs)
  Activation activation = Activation::Purelin;
};

inline constexpr Eigen::Index kJacobianChunk = 256;
inline constexpr Eigen::Index kParallelJacobianEntries = Eigen::Index(1) << 20;  // rows × parameters

// The buffers of predict and jacobian for one set of samples, kept from call to call: a trainer holds
// one per sample set (training, validation, test, a batch), sized by the first call, so an epoch
// allocates nothing (glibc would otherwise hand large freed blocks back to the kernel and fetch them
// again every epoch). Not shared between threads.
class MlpWorkspace {
 public:
  // Bytes held for `samples` samples of a network with these layer sizes (inputs first), after
  // predict and, with `with_jacobian`, jacobian on `threads` threads.
  static double bytes(const std::vector<Eigen::Index>& sizes, Eigen::Index samples, bool with_jacobian, int threads);

 private:
  friend class Mlp;
  // One chunk of the Jacobian: each layer's input, net input n, slope f'(n) and δ, and the chunk's rows.
  struct Chunk {
    std::vector<Eigen::MatrixXd> inputs, nets, slopes, deltas;
    Eigen::MatrixXd output, rows;
    ProductBuffers products;
  };
  std::vector<Eigen::MatrixXd> values_;  // predict: each layer's outputs
  ProductBuffers products_;              // predict's
  std::vector<Chunk> chunks_;            // full chunks of kJacobianChunk samples, one per thread
  Chunk tail_;                           // the shorter last chunk: its shapes differ, so its own buffers
};

class Mlp {
 public:
  // inputs → hidden[0] → … → outputs; hidden layers use `hidden_activation`, the last `output_activation`.
  Mlp(int inputs, const std::vector<int>& hidden, int outputs, Activation hidden_activation,
      Activation output_activation = Activation::Purelin);

  // A network from given layers (a model file); throws InputError when their shapes do not chain.
  explicit Mlp(std::vector<DenseLayer> layers);

  int input_count() const { return static_cast<int>(layers_.front().weights.cols()); }
  int output_count() const { return static_cast<int>(layers_.back().weights.rows()); }
  Eigen::Index parameter_count() const;
  const std::vector<DenseLayer>& layers() const { return layers_; }

  // Layer by layer: W in column-major order, then b.
  Eigen::VectorXd parameters() const;
  void set_parameters(const Eigen::VectorXd& packed);

  // Observations as columns: inputs (input_count × samples) → outputs (output_count × samples).
  Eigen::MatrixXd predict(const Eigen::MatrixXd& inputs) const;
  // The same into the workspace's buffers; the reference stays valid until its next use.
  const Eigen::MatrixXd& predict(const Eigen::MatrixXd& inputs, MlpWorkspace& workspace) const;

  // ∂output/∂parameters, one row per (sample, output), sample-major: row = sample·output_count + output.
  // Filled in parallel over fixed chunks of kJacobianChunk samples: the same bits for any thread count.
  void jacobian(const Eigen::MatrixXd& inputs, Eigen::MatrixXd& jacobian) const;
  void jacobian(const Eigen::MatrixXd& inputs, Eigen::MatrixXd& jacobian, MlpWorkspace& workspace) const;

  // Layer sizes, inputs first: {inputs, hidden…, outputs}.
  std::vector<Eigen::Index> layer_sizes() const;

  // Nguyen & Widrow (1990) as MATLAB's initnw, for inputs scaled to [−1, 1]: each hidden neuron's weight
  // row has norm 0.7·S^(1/R) (S neurons, R inputs) and the biases spread its active regions evenly
  // over the input range; the output layer starts uniform in [−1, 1].
  void initialise_nguyen_widrow(std::mt19937_64& random);

 private:
  std::vector<DenseLayer> layers_;
};

}  // namespace smr
