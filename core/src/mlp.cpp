#include "smr/mlp.hpp"

#include "smr/protocol.hpp"

#include <algorithm>
#include <cmath>
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

// f'(n) from the activated value a = f(n) (and n for relu).
Eigen::VectorXd derivative(Activation activation, const Eigen::Ref<const Eigen::VectorXd>& net,
                           const Eigen::Ref<const Eigen::VectorXd>& activated) {
  switch (activation) {
    case Activation::Tansig: return (1.0 - activated.array().square()).matrix();
    case Activation::Logsig: return (activated.array() * (1.0 - activated.array())).matrix();
    case Activation::Relu: return (net.array() > 0.0).cast<double>().matrix();
    case Activation::Purelin: return Eigen::VectorXd::Ones(net.size());
  }
  return Eigen::VectorXd::Ones(net.size());
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

Eigen::MatrixXd Mlp::predict(const Eigen::MatrixXd& inputs) const {
  if (inputs.rows() != input_count())
    throw std::invalid_argument("the network has " + std::to_string(input_count()) + " inputs, got " +
                                std::to_string(inputs.rows()) + " rows");
  Eigen::MatrixXd values = inputs;
  for (const auto& layer : layers_) {
    Eigen::MatrixXd net = (layer.weights * values).colwise() + layer.bias;
    activate(layer.activation, as_vector(net));
    values.swap(net);
  }
  return values;
}

void Mlp::jacobian(const Eigen::MatrixXd& inputs, Eigen::MatrixXd& jacobian) const {
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

#pragma omp parallel for schedule(dynamic, 1) if (chunks > 1 && samples * parameters >= kParallelJacobianEntries)
  for (Eigen::Index chunk = 0; chunk < chunks; ++chunk) {
    const Eigen::Index first = chunk * kJacobianChunk, count = std::min(kJacobianChunk, samples - first);
    // Forward pass over the chunk (columns = samples), keeping each layer's input and slope f'(n).
    std::vector<Eigen::MatrixXd> layer_inputs(depth), slopes(depth);
    layer_inputs[0] = inputs.middleCols(first, count);
    for (std::size_t l = 0; l < depth; ++l) {
      Eigen::MatrixXd net = (layers_[l].weights * layer_inputs[l]).colwise() + layers_[l].bias;
      Eigen::MatrixXd out = net;
      activate(layers_[l].activation, as_vector(out));
      slopes[l].resize(net.rows(), count);
      as_vector(slopes[l]) = derivative(layers_[l].activation, as_vector(net), as_vector(out));
      if (l + 1 < depth) layer_inputs[l + 1] = std::move(out);
    }
    Eigen::MatrixXd rows(count, parameters);  // this chunk's rows for one output
    for (Eigen::Index o = 0; o < outputs; ++o) {
      // δ of the last layer for output o, then back through the layers; ∂/∂W(i, j) = δᵢ·inputⱼ, ∂/∂b = δ.
      Eigen::MatrixXd delta = Eigen::MatrixXd::Zero(outputs, count);
      delta.row(o) = slopes[depth - 1].row(o);
      Eigen::Index end = parameters;
      for (std::size_t l = depth; l-- > 0;) {
        const DenseLayer& layer = layers_[l];
        const Eigen::Index neurons = layer.weights.rows();
        end -= neurons;
        rows.middleCols(end, neurons) = delta.transpose();
        end -= layer.weights.size();
        // W is packed column-major: column j of W is δ·inputⱼ.
        for (Eigen::Index j = 0; j < layer.weights.cols(); ++j)
          rows.middleCols(end + j * neurons, neurons) =
              (delta.array().rowwise() * layer_inputs[l].row(j).array()).transpose();
        if (l > 0) delta = (layer.weights.transpose() * delta).cwiseProduct(slopes[l - 1]);
      }
      if (outputs == 1)
        jacobian.middleRows(first, count) = rows;
      else
        for (Eigen::Index s = 0; s < count; ++s) jacobian.row((first + s) * outputs + o) = rows.row(s);
    }
  }
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
