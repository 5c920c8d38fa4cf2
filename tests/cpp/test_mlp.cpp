// The MLP: a forward pass worked by hand, the Jacobian against finite differences for every activation,
// thread-count invariance, Nguyen–Widrow initialisation, and Levenberg–Marquardt training it.
#include "smr/levenberg_marquardt.hpp"
#include "smr/mlp.hpp"
#include "smr/protocol.hpp"

#include <catch2/catch.hpp>
#include <omp.h>

#include <cmath>

using namespace smr;
using Catch::Matchers::Contains;
using Catch::Matchers::WithinAbs;
using Catch::Matchers::WithinRel;
using Eigen::MatrixXd;
using Eigen::VectorXd;

namespace {

Mlp random_network(Activation hidden, std::uint64_t seed) {
  Mlp network(3, {5, 4}, 2, hidden);
  std::mt19937_64 random(seed);
  network.initialise_nguyen_widrow(random);
  return network;
}

MatrixXd random_inputs(Eigen::Index samples, std::uint64_t seed) {
  std::mt19937_64 random(seed);
  std::uniform_real_distribution<double> uniform(-1.0, 1.0);
  MatrixXd inputs(3, samples);
  for (Eigen::Index i = 0; i < inputs.size(); ++i) inputs.data()[i] = uniform(random);
  return inputs;
}

// Row sample·outputs + o of ∂output/∂parameters by central differences.
MatrixXd finite_difference_jacobian(Mlp network, const MatrixXd& inputs) {
  const VectorXd base = network.parameters();
  const Eigen::Index outputs = network.output_count();
  MatrixXd jacobian(inputs.cols() * outputs, base.size());
  constexpr double h = 1e-6;
  for (Eigen::Index p = 0; p < base.size(); ++p) {
    VectorXd plus = base, minus = base;
    plus[p] += h;
    minus[p] -= h;
    network.set_parameters(plus);
    const MatrixXd up = network.predict(inputs);
    network.set_parameters(minus);
    const MatrixXd down = network.predict(inputs);
    const MatrixXd slope = (up - down) / (2.0 * h);
    jacobian.col(p) = Eigen::Map<const VectorXd>(slope.data(), slope.size());  // column-major = sample-major rows
  }
  return jacobian;
}

}  // namespace

TEST_CASE("forward pass of a 1-1-1 tansig network worked by hand", "[mlp]") {
  Mlp network(1, {1}, 1, Activation::Tansig);
  network.set_parameters((VectorXd(4) << 2.0, 0.5, 3.0, -1.0).finished());  // W1, b1, W2, b2
  // x = 0.25: net 2·0.25 + 0.5 = 1, tansig(1) = tanh(1) = 0.7615941559557649, y = 3·0.76159… − 1
  CHECK_THAT(network.predict(MatrixXd::Constant(1, 1, 0.25))(0, 0), WithinRel(1.2847824678672947, 1e-14));
  Mlp logistic(1, {1}, 1, Activation::Logsig);
  logistic.set_parameters((VectorXd(4) << 2.0, 0.5, 3.0, -1.0).finished());
  // logsig(1) = 1/(1 + e^−1) = 0.7310585786300049
  CHECK_THAT(logistic.predict(MatrixXd::Constant(1, 1, 0.25))(0, 0), WithinRel(3.0 * 0.7310585786300049 - 1.0, 1e-14));
}

TEST_CASE("parameters pack and unpack to the same network", "[mlp]") {
  const Mlp network = random_network(Activation::Tansig, 7);
  Mlp copy(3, {5, 4}, 2, Activation::Tansig);
  CHECK(network.parameter_count() == 3 * 5 + 5 + 5 * 4 + 4 + 4 * 2 + 2);
  copy.set_parameters(network.parameters());
  const MatrixXd inputs = random_inputs(10, 3);
  CHECK(copy.predict(inputs) == network.predict(inputs));
  CHECK_THROWS(copy.set_parameters(VectorXd::Zero(3)));
}

TEST_CASE("the Jacobian matches central finite differences", "[mlp][gradient]") {
  for (Activation hidden : {Activation::Tansig, Activation::Logsig, Activation::Relu, Activation::Purelin}) {
    INFO("hidden activation " << activation_name(hidden));
    const Mlp network = random_network(hidden, 11);
    const MatrixXd inputs = random_inputs(7, 5);
    MatrixXd analytic;
    network.jacobian(inputs, analytic);
    const MatrixXd numeric = finite_difference_jacobian(network, inputs);
    REQUIRE(analytic.rows() == 14);
    // relu's kink is measure-zero: random inputs do not land on it.
    CHECK((analytic - numeric).cwiseAbs().maxCoeff() < 1e-6 * std::max(1.0, numeric.cwiseAbs().maxCoeff()));
  }
}

TEST_CASE("the Jacobian is the same for 1 and 2 threads", "[mlp][threads]") {
  const Mlp network = random_network(Activation::Tansig, 13);
  // Enough samples × parameters for the parallel path (kParallelJacobianEntries), ending in a partial chunk.
  const MatrixXd inputs = random_inputs(kParallelJacobianEntries / network.parameter_count() + 301, 17);
  REQUIRE(inputs.cols() * network.parameter_count() >= kParallelJacobianEntries);
  MatrixXd one, two;
  const int previous = omp_get_max_threads();
  omp_set_num_threads(1);
  network.jacobian(inputs, one);
  omp_set_num_threads(2);
  network.jacobian(inputs, two);
  omp_set_num_threads(previous);
  CHECK(one == two);
}

TEST_CASE("a workspace reused across sample counts and networks gives a fresh workspace's bits", "[mlp][workspace]") {
  // The trainers keep one workspace per sample set; whatever it held before, results must not change.
  // 300 samples: a full Jacobian chunk and a partial one; wide layers take the product-buffer path.
  Mlp wide(3, {70, 40}, 2, Activation::Logsig);
  std::mt19937_64 random(5);
  wide.initialise_nguyen_widrow(random);
  const Mlp networks[] = {random_network(Activation::Tansig, 3), random_network(Activation::Relu, 4), wide};
  MlpWorkspace shared;
  for (const Eigen::Index samples : {300, 7, 256, 300, 1}) {
    const MatrixXd inputs = random_inputs(samples, static_cast<std::uint64_t>(samples));
    for (const Mlp& network : networks) {
      INFO(samples << " samples, " << network.parameter_count() << " weights");
      MlpWorkspace fresh;
      MatrixXd reused_jacobian, fresh_jacobian;
      network.jacobian(inputs, reused_jacobian, shared);
      network.jacobian(inputs, fresh_jacobian, fresh);
      CHECK(reused_jacobian == fresh_jacobian);
      const MatrixXd reused = network.predict(inputs, shared);
      CHECK(reused == network.predict(inputs, fresh));
      CHECK(reused == network.predict(inputs));
    }
  }
}

TEST_CASE("Nguyen-Widrow initialisation", "[mlp]") {
  const Mlp network = random_network(Activation::Tansig, 21);
  // Hidden rows have norm 0.7·S^(1/R): 0.7·5^(1/3) and 0.7·4^(1/5).
  for (Eigen::Index i = 0; i < 5; ++i) CHECK_THAT(network.layers()[0].weights.row(i).norm(), WithinRel(0.7 * std::cbrt(5.0), 1e-12));
  for (Eigen::Index i = 0; i < 4; ++i)
    CHECK_THAT(network.layers()[1].weights.row(i).norm(), WithinRel(0.7 * std::pow(4.0, 1.0 / 5.0), 1e-12));
  // Biases spread evenly over [−magnitude, magnitude].
  CHECK_THAT(std::abs(network.layers()[0].bias[0]), WithinRel(0.7 * std::cbrt(5.0), 1e-12));
  CHECK_THAT(network.layers()[0].bias[2], WithinAbs(0.0, 1e-15));
  CHECK(random_network(Activation::Tansig, 21).parameters() == network.parameters());
  CHECK(random_network(Activation::Tansig, 22).parameters() != network.parameters());
}

TEST_CASE("Levenberg-Marquardt trains a 1-6-1 tansig network on a smooth curve", "[mlp][lm]") {
  const Eigen::Index samples = 60;
  MatrixXd inputs(1, samples), targets(1, samples);
  for (Eigen::Index s = 0; s < samples; ++s) {
    inputs(0, s) = -1.0 + 2.0 * static_cast<double>(s) / static_cast<double>(samples - 1);
    targets(0, s) = std::sin(2.5 * inputs(0, s)) + 0.3 * inputs(0, s) * inputs(0, s);
  }
  Mlp network(1, {6}, 1, Activation::Tansig);
  std::mt19937_64 random(3);
  network.initialise_nguyen_widrow(random);
  LevenbergMarquardt solver(
      [&](const VectorXd& p, VectorXd& e) {
        network.set_parameters(p);
        const MatrixXd error = network.predict(inputs) - targets;
        e = Eigen::Map<const VectorXd>(error.data(), error.size());
      },
      [&](const VectorXd& p, MatrixXd& j) {
        network.set_parameters(p);
        network.jacobian(inputs, j);
      },
      LevenbergMarquardtParams{});
  const auto status = solver.minimize(network.parameters());
  INFO(stop_reason_text(status) << " after " << solver.epoch() << " epochs");
  CHECK(solver.mean_squared_error() < 1e-6);
}

TEST_CASE("bad network definitions name what is wrong", "[mlp][errors]") {
  CHECK_THROWS_WITH(activation_from_name("sigmoid"), Contains("valid values are tansig, logsig, relu, purelin"));
  CHECK(activation_from_name("logsig") == Activation::Logsig);
  CHECK_THROWS_WITH(Mlp(2, {3, 0}, 1, Activation::Tansig), Contains("hidden layer sizes must be at least 1"));
  CHECK_THROWS_WITH(Mlp(0, {3}, 1, Activation::Tansig), Contains("at least one input"));
}
