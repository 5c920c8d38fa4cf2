#include "smr/mlp.hpp"

#include "smr/protocol.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <exception>
#include <utility>

namespace smr {

namespace {

struct ActivationName {
  Activation activation;
  const char* name;
};
constexpr ActivationName kActivationNames[] = {
    {Activation::Tansig, "tansig"}, {Activation::Logsig, "logsig"}, {Activation::Relu, "relu"}, {Activation::Purelin, "purelin"}};

// f(n), elementwise. tansig is MATLAB's 2/(1 + e^(−2n)) − 1, i.e. tanh.
void activate(Activation activation, Eigen::Ref<Eigen::VectorXd> values) {
  switch (activation) {
    // MATLAB's own formula: Eigen vectorises exp but not tanh for doubles (training 1.2× faster).
    case Activation::Tansig: values = 2.0 / (1.0 + (-2.0 * values.array()).exp()) - 1.0; break;
    case Activation::Logsig: values = (1.0 + (-values.array()).exp()).inverse(); break;
    case Activation::Relu: values = values.array().max(0.0); break;
    case Activation::Purelin: break;
  }
}

// f'(n) from the activated value a = f(n) (and n for relu), into `slope`.
void derivative(Activation activation, const Eigen::MatrixXd& net, const Eigen::MatrixXd& activated,
                Eigen::MatrixXd& slope) {
  slope.resize(net.rows(), net.cols());
  switch (activation) {
    case Activation::Tansig: slope.array() = 1.0 - activated.array().square(); break;
    case Activation::Logsig: slope.array() = activated.array() * (1.0 - activated.array()); break;
    case Activation::Relu: slope.array() = (net.array() > 0.0).cast<double>(); break;
    case Activation::Purelin: slope.setOnes(); break;
  }
}

// n = W·input + b into `net`. The product goes straight into net's buffer: the same product, hence
// the same bits, as (W·input).colwise() + b through a temporary, without allocating one.
void net_input(const DenseLayer& layer, const Eigen::MatrixXd& input, Eigen::MatrixXd& net, ProductBuffers& buffers) {
  net.resize(layer.weights.rows(), input.cols());
  multiply(net, layer.weights, input, buffers);
  net.colwise() += layer.bias;
}

// A matrix's values as one vector, for the elementwise functions above.
Eigen::Map<Eigen::VectorXd> as_vector(Eigen::MatrixXd& values) { return {values.data(), values.size()}; }

}  // namespace

Activation activation_from_name(const std::string& name) {
  for (const auto& entry : kActivationNames)
    if (name == entry.name) return entry.activation;
  throw InputError("activation '" + name + "' is unknown: valid values are tansig, logsig, relu, purelin");
}

std::string activation_name(Activation activation) {
  for (const auto& entry : kActivationNames)
    if (activation == entry.activation) return entry.name;
  return "unknown";
}

Mlp::Mlp(int inputs, const std::vector<int>& hidden, int outputs, Activation hidden_activation,
         Activation output_activation) {
  if (inputs < 1) throw InputError("a network needs at least one input, got " + std::to_string(inputs));
  if (outputs < 1) throw InputError("a network needs at least one output, got " + std::to_string(outputs));
  int previous = inputs;
  for (int size : hidden) {
    if (size < 1) throw InputError("hidden layer sizes must be at least 1, got " + std::to_string(size));
    layers_.push_back({Eigen::MatrixXd::Zero(size, previous), Eigen::VectorXd::Zero(size), hidden_activation});
    previous = size;
  }
  layers_.push_back({Eigen::MatrixXd::Zero(outputs, previous), Eigen::VectorXd::Zero(outputs), output_activation});
}

Mlp::Mlp(std::vector<DenseLayer> layers) : layers_(std::move(layers)) {
  if (layers_.empty()) throw InputError("a network needs at least one layer");
  for (std::size_t l = 0; l < layers_.size(); ++l) {
    const DenseLayer& layer = layers_[l];
    if (layer.weights.rows() < 1 || layer.weights.cols() < 1)
      throw InputError("layer " + std::to_string(l + 1) + " has no weights");
    if (layer.bias.size() != layer.weights.rows())
      throw InputError("layer " + std::to_string(l + 1) + " has " + std::to_string(layer.weights.rows()) +
                       " neurons but " + std::to_string(layer.bias.size()) + " biases");
    if (l > 0 && layer.weights.cols() != layers_[l - 1].weights.rows())
      throw InputError("layer " + std::to_string(l + 1) + " takes " + std::to_string(layer.weights.cols()) +
                       " inputs but layer " + std::to_string(l) + " has " +
                       std::to_string(layers_[l - 1].weights.rows()) + " neurons");
  }
}

Eigen::Index Mlp::parameter_count() const {
  Eigen::Index count = 0;
  for (const auto& layer : layers_) count += layer.weights.size() + layer.bias.size();
  return count;
}

Eigen::VectorXd Mlp::parameters() const {
  Eigen::VectorXd packed(parameter_count());
  Eigen::Index offset = 0;
  for (const auto& layer : layers_) {
    packed.segment(offset, layer.weights.size()) = Eigen::Map<const Eigen::VectorXd>(layer.weights.data(), layer.weights.size());
    offset += layer.weights.size();
    packed.segment(offset, layer.bias.size()) = layer.bias;
    offset += layer.bias.size();
  }
  return packed;
}

void Mlp::set_parameters(const Eigen::VectorXd& packed) {
  if (packed.size() != parameter_count())
    throw std::invalid_argument("expected " + std::to_string(parameter_count()) + " parameters, got " +
                                std::to_string(packed.size()));
  Eigen::Index offset = 0;
  for (auto& layer : layers_) {
    Eigen::Map<Eigen::VectorXd>(layer.weights.data(), layer.weights.size()) = packed.segment(offset, layer.weights.size());
    offset += layer.weights.size();
    layer.bias = packed.segment(offset, layer.bias.size());
    offset += layer.bias.size();
  }
}

std::vector<Eigen::Index> Mlp::layer_sizes() const {
  std::vector<Eigen::Index> sizes{layers_.front().weights.cols()};
  for (const auto& layer : layers_) sizes.push_back(layer.weights.rows());
  return sizes;
}

double MlpWorkspace::bytes(const std::vector<Eigen::Index>& sizes, Eigen::Index samples, bool with_jacobian, int threads) {
  double parameters = 0.0, neurons = 0.0;
  for (std::size_t l = 1; l < sizes.size(); ++l) {
    parameters += static_cast<double>(sizes[l]) * static_cast<double>(sizes[l - 1] + 1);
    neurons += static_cast<double>(sizes[l]);
  }
  // The product blocks grow to the largest product of their pass: forward W·input, backward Wᵀ·δ.
  const auto products = [&](Eigen::Index count, bool backward) {
    double largest = 0.0;
    for (std::size_t l = 1; l < sizes.size(); ++l) {
      largest = std::max(largest, ProductBuffers::bytes(sizes[l], count, sizes[l - 1]));
      if (backward && l > 1) largest = std::max(largest, ProductBuffers::bytes(sizes[l - 1], count, sizes[l]));
    }
    return largest;
  };
  double bytes = neurons * static_cast<double>(samples) * sizeof(double) + products(samples, false);  // predict
  if (with_jacobian) {
    // A chunk: layer inputs (the network's inputs, then every hidden layer), net inputs, slopes and δ of
    // every layer, the outputs, and its rows of the Jacobian.
    const auto chunk = [&](Eigen::Index count) {
      if (count == 0) return 0.0;
      return static_cast<double>(count) * (static_cast<double>(sizes.front()) + 4.0 * neurons + parameters) * sizeof(double) +
             products(count, true);
    };
    const Eigen::Index full = samples / kJacobianChunk, tail = samples % kJacobianChunk;
    bytes += static_cast<double>(std::min<Eigen::Index>(full, std::max(1, threads))) * chunk(kJacobianChunk) + chunk(tail);
  }
  return bytes;
}

Eigen::MatrixXd Mlp::predict(const Eigen::MatrixXd& inputs) const {
  MlpWorkspace workspace;
  return predict(inputs, workspace);
}

const Eigen::MatrixXd& Mlp::predict(const Eigen::MatrixXd& inputs, MlpWorkspace& workspace) const {
  if (inputs.rows() != input_count())
    throw std::invalid_argument("the network has " + std::to_string(input_count()) + " inputs, got " +
                                std::to_string(inputs.rows()) + " rows");
  workspace.values_.resize(layers_.size());
  const Eigen::MatrixXd* values = &inputs;
  for (std::size_t l = 0; l < layers_.size(); ++l) {
    Eigen::MatrixXd& net = workspace.values_[l];
    net_input(layers_[l], *values, net, workspace.products_);
    activate(layers_[l].activation, as_vector(net));
    values = &net;
  }
  return *values;
}

void Mlp::jacobian(const Eigen::MatrixXd& inputs, Eigen::MatrixXd& jacobian) const {
  MlpWorkspace workspace;
  this->jacobian(inputs, jacobian, workspace);
}

void Mlp::jacobian(const Eigen::MatrixXd& inputs, Eigen::MatrixXd& jacobian, MlpWorkspace& workspace) const {
  if (inputs.rows() != input_count())
    throw std::invalid_argument("the network has " + std::to_string(input_count()) + " inputs, got " +
                                std::to_string(inputs.rows()) + " rows");
  const Eigen::Index samples = inputs.cols(), outputs = output_count(), parameters = parameter_count();
  jacobian.resize(samples * outputs, parameters);
  const std::size_t depth = layers_.size();
  // Fixed-size chunks of samples, whatever the thread count: each chunk's products have the same
  // shapes, hence the same rounding, so the Jacobian is bit-identical for any number of threads.
  // Small Jacobians stay on one thread: a parallel region per epoch costs more than it saves, and on
  // a busy machine its barrier waits for a descheduled thread (measured 5× slower on 2 cores).
  const Eigen::Index chunks = (samples + kJacobianChunk - 1) / kJacobianChunk;
  const bool parallel = chunks > 1 && samples * parameters >= kParallelJacobianEntries;

  const auto fill = [&](Eigen::Index chunk, int thread) {
    const Eigen::Index first = chunk * kJacobianChunk, count = std::min(kJacobianChunk, samples - first);
    MlpWorkspace::Chunk& c = count == kJacobianChunk ? workspace.chunks_[static_cast<std::size_t>(thread)] : workspace.tail_;
    // Forward pass over the chunk (columns = samples), keeping each layer's input and slope f'(n).
    c.inputs.resize(depth);
    c.nets.resize(depth);
    c.slopes.resize(depth);
    c.deltas.resize(depth);
    c.inputs[0] = inputs.middleCols(first, count);
    for (std::size_t l = 0; l < depth; ++l) {
      net_input(layers_[l], c.inputs[l], c.nets[l], c.products);
      Eigen::MatrixXd& out = l + 1 < depth ? c.inputs[l + 1] : c.output;
      out = c.nets[l];
      activate(layers_[l].activation, as_vector(out));
      derivative(layers_[l].activation, c.nets[l], out, c.slopes[l]);
    }
    Eigen::MatrixXd& rows = c.rows;  // this chunk's rows for one output
    rows.resize(count, parameters);
    for (Eigen::Index o = 0; o < outputs; ++o) {
      // δ of the last layer for output o, then back through the layers; ∂/∂W(i, j) = δᵢ·inputⱼ, ∂/∂b = δ.
      c.deltas[depth - 1].setZero(outputs, count);
      c.deltas[depth - 1].row(o) = c.slopes[depth - 1].row(o);
      Eigen::Index end = parameters;
      for (std::size_t l = depth; l-- > 0;) {
        const DenseLayer& layer = layers_[l];
        const Eigen::MatrixXd& delta = c.deltas[l];
        const Eigen::Index neurons = layer.weights.rows();
        end -= neurons;
        rows.middleCols(end, neurons) = delta.transpose();
        end -= layer.weights.size();
        // W is packed column-major: column j of W is δ·inputⱼ.
        for (Eigen::Index j = 0; j < layer.weights.cols(); ++j)
          rows.middleCols(end + j * neurons, neurons) =
              (delta.array().rowwise() * c.inputs[l].row(j).array()).transpose();
        if (l > 0) {
          Eigen::MatrixXd& previous = c.deltas[l - 1];
          previous.resize(layer.weights.cols(), count);
          multiply(previous, layer.weights.transpose(), delta, c.products);
          previous.array() *= c.slopes[l - 1].array();
        }
      }
      if (outputs == 1)
        jacobian.middleRows(first, count) = rows;
      else
        for (Eigen::Index s = 0; s < count; ++s) jacobian.row((first + s) * outputs + o) = rows.row(s);
    }
  };
  // Not even an inactive parallel region when serial: libgomp allocates a team for each one.
  if (!parallel) {
    if (workspace.chunks_.empty()) workspace.chunks_.resize(1);
    for (Eigen::Index chunk = 0; chunk < chunks; ++chunk) fill(chunk, 0);
    return;
  }
  // A thread's number is below the team size, which is at most omp_get_max_threads().
  const auto threads = static_cast<std::size_t>(std::max(1, omp_get_max_threads()));
  if (workspace.chunks_.size() < threads) workspace.chunks_.resize(threads);
  // An exception must not leave a parallel region (std::terminate): the first one is kept, rethrown.
  std::exception_ptr failure;
#pragma omp parallel for schedule(dynamic, 1)
  for (Eigen::Index chunk = 0; chunk < chunks; ++chunk) {
    try {
      fill(chunk, omp_get_thread_num());
    } catch (...) {
#pragma omp critical(smr_jacobian_failure)
      if (!failure) failure = std::current_exception();
    }
  }
  if (failure) std::rethrow_exception(failure);
}

void Mlp::initialise_nguyen_widrow(std::mt19937_64& random) {
  std::uniform_real_distribution<double> uniform(-1.0, 1.0);
  for (std::size_t l = 0; l < layers_.size(); ++l) {
    DenseLayer& layer = layers_[l];
    const auto neurons = layer.weights.rows(), fan_in = layer.weights.cols();
    for (Eigen::Index i = 0; i < layer.weights.size(); ++i) layer.weights.data()[i] = uniform(random);
    for (Eigen::Index i = 0; i < neurons; ++i) layer.bias[i] = uniform(random);
    if (l + 1 == layers_.size()) continue;  // the output layer keeps uniform [−1, 1] weights
    const double magnitude = 0.7 * std::pow(static_cast<double>(neurons), 1.0 / static_cast<double>(fan_in));
    for (Eigen::Index i = 0; i < neurons; ++i) {
      const double norm = layer.weights.row(i).norm();
      if (norm > 0.0) layer.weights.row(i) *= magnitude / norm;
      // Evenly spaced centres from −magnitude to +magnitude, on the side the first weight points to.
      const double spread = neurons == 1 ? 0.0 : -1.0 + 2.0 * static_cast<double>(i) / static_cast<double>(neurons - 1);
      layer.bias[i] = magnitude * spread * (layer.weights(i, 0) >= 0.0 ? 1.0 : -1.0);
    }
  }
}

}  // namespace smr
