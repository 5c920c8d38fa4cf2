// Levenberg–Marquardt against NIST StRD nonlinear regression certified values (public-domain data of
// the NIST Statistical Reference Datasets), and its parameter checks.
#include "smr/levenberg_marquardt.hpp"
#include "smr/protocol.hpp"

#include <catch2/catch.hpp>

#include <vector>

using namespace smr;
using Catch::Matchers::Contains;
using Catch::Matchers::WithinRel;
using Eigen::MatrixXd;
using Eigen::VectorXd;

namespace {

// Misra1a (lower difficulty): y = b1·(1 − exp(−b2·x)), 14 observations.
const std::vector<double> kMisraX = {77.6, 114.9, 141.1, 190.8, 239.9, 289.0, 332.8,
                                     378.4, 434.8, 477.3, 536.8, 593.1, 689.1, 760.0};
const std::vector<double> kMisraY = {10.07, 14.73, 17.94, 23.93, 29.61, 35.18, 40.02,
                                     44.82, 50.76, 55.05, 61.01, 66.40, 75.47, 81.78};
const std::vector<double> kMisraCertified = {2.3894212918E+02, 5.5015643181E-04};
constexpr double kMisraResidualSumOfSquares = 1.2455138894E-01;

// Thurber (higher difficulty): y = (b1 + b2·x + b3·x² + b4·x³)/(1 + b5·x + b6·x² + b7·x³), 37 observations.
const std::vector<double> kThurberX = {-3.067, -2.981, -2.921, -2.912, -2.840, -2.797, -2.702, -2.699, -2.633, -2.481,
                                       -2.363, -2.322, -1.501, -1.460, -1.274, -1.212, -1.100, -1.046, -0.915, -0.714,
                                       -0.566, -0.545, -0.400, -0.309, -0.109, -0.103, 0.010,  0.119,  0.377,  0.790,
                                       0.963,  1.006,  1.115,  1.572,  1.841,  2.047,  2.200};
const std::vector<double> kThurberY = {80.574,   84.248,   87.264,   87.195,   89.076,   89.608,   89.868,   90.101,
                                       92.405,   95.854,   100.696,  101.060,  401.672,  390.724,  567.534,  635.316,
                                       733.054,  759.087,  894.206,  990.785,  1090.109, 1080.914, 1122.643, 1178.351,
                                       1260.531, 1273.514, 1288.339, 1327.543, 1353.863, 1414.509, 1425.208, 1421.384,
                                       1442.962, 1464.350, 1468.705, 1447.894, 1457.628};
const std::vector<double> kThurberCertified = {1.2881396800E+03, 1.4910792535E+03, 5.8323836877E+02, 7.5416644291E+01,
                                               9.6629502864E-01, 3.9797285797E-01, 4.9727297349E-02};
constexpr double kThurberResidualSumOfSquares = 5.6427082397E+03;

LevenbergMarquardt misra1a(const LevenbergMarquardtParams& params) {
  return LevenbergMarquardt(
      [](const VectorXd& b, VectorXd& e) {
        e.resize(static_cast<Eigen::Index>(kMisraX.size()));
        for (std::size_t i = 0; i < kMisraX.size(); ++i) e[i] = b[0] * (1.0 - std::exp(-b[1] * kMisraX[i])) - kMisraY[i];
      },
      [](const VectorXd& b, MatrixXd& j) {
        j.resize(static_cast<Eigen::Index>(kMisraX.size()), 2);
        for (std::size_t i = 0; i < kMisraX.size(); ++i) {
          const double decay = std::exp(-b[1] * kMisraX[i]);
          j(i, 0) = 1.0 - decay;
          j(i, 1) = b[0] * kMisraX[i] * decay;
        }
      },
      params);
}

LevenbergMarquardt thurber(const LevenbergMarquardtParams& params) {
  return LevenbergMarquardt(
      [](const VectorXd& b, VectorXd& e) {
        e.resize(static_cast<Eigen::Index>(kThurberX.size()));
        for (std::size_t i = 0; i < kThurberX.size(); ++i) {
          const double x = kThurberX[i];
          e[i] = (b[0] + x * (b[1] + x * (b[2] + x * b[3]))) / (1.0 + x * (b[4] + x * (b[5] + x * b[6]))) - kThurberY[i];
        }
      },
      [](const VectorXd& b, MatrixXd& j) {
        j.resize(static_cast<Eigen::Index>(kThurberX.size()), 7);
        for (std::size_t i = 0; i < kThurberX.size(); ++i) {
          const double x = kThurberX[i];
          const double numerator = b[0] + x * (b[1] + x * (b[2] + x * b[3]));
          const double denominator = 1.0 + x * (b[4] + x * (b[5] + x * b[6]));
          double power = 1.0;
          for (int k = 0; k < 4; ++k, power *= x) j(i, k) = power / denominator;
          power = x;
          for (int k = 4; k < 7; ++k, power *= x) j(i, k) = -numerator * power / (denominator * denominator);
        }
      },
      params);
}

void check_certified(const LevenbergMarquardt& solver, const std::vector<double>& certified, double rss,
                     std::size_t observations) {
  INFO("status " << stop_reason_text(solver.status()) << " after " << solver.epoch() << " epochs, mu " << solver.mu()
                 << ", |g| " << solver.gradient_norm());
  for (std::size_t k = 0; k < certified.size(); ++k) {
    INFO("b" << k + 1);
    CHECK_THAT(solver.x()[static_cast<Eigen::Index>(k)], WithinRel(certified[k], 1e-6));
  }
  CHECK_THAT(solver.mean_squared_error() * static_cast<double>(observations), WithinRel(rss, 1e-6));
}

// Certified values need convergence well past trainlm's default gradient threshold.
LevenbergMarquardtParams precise() {
  LevenbergMarquardtParams params;
  params.min_gradient = 0.0;
  params.max_epochs = 5000;
  return params;
}

}  // namespace

TEST_CASE("Levenberg-Marquardt reaches the NIST certified values of Misra1a", "[lm][nist]") {
  for (const auto& start : {std::vector<double>{500.0, 1e-4}, std::vector<double>{250.0, 5e-4}}) {
    auto solver = misra1a(precise());
    solver.minimize(Eigen::Map<const VectorXd>(start.data(), 2));
    check_certified(solver, kMisraCertified, kMisraResidualSumOfSquares, kMisraX.size());
  }
}

TEST_CASE("Levenberg-Marquardt reaches the NIST certified values of Thurber", "[lm][nist]") {
  for (const auto& start : {std::vector<double>{1000, 1000, 400, 40, 0.7, 0.3, 0.03},
                            std::vector<double>{1300, 1500, 500, 75, 1, 0.4, 0.05}}) {
    auto solver = thurber(precise());
    solver.minimize(Eigen::Map<const VectorXd>(start.data(), 7));
    check_certified(solver, kThurberCertified, kThurberResidualSumOfSquares, kThurberX.size());
  }
}

TEST_CASE("Levenberg-Marquardt stops by trainlm's rules", "[lm]") {
  SECTION("goal") {
    LevenbergMarquardtParams params;
    params.goal = 1.0;  // mean squared error; Misra1a starts far above and ends near 0.0089
    auto solver = misra1a(params);
    CHECK(solver.minimize(VectorXd::Map(std::vector<double>{500.0, 1e-4}.data(), 2)) ==
          LevenbergMarquardtStatus::GoalReached);
    CHECK(solver.mean_squared_error() <= 1.0);
  }
  SECTION("epochs") {
    LevenbergMarquardtParams params;
    params.max_epochs = 3;
    auto solver = thurber(params);
    CHECK(solver.minimize(VectorXd::Map(std::vector<double>{1000, 1000, 400, 40, 0.7, 0.3, 0.03}.data(), 7)) ==
          LevenbergMarquardtStatus::MaximumEpochs);
    CHECK(solver.epoch() == 3);
  }
  SECTION("every accepted epoch lowers the error") {
    auto solver = thurber(LevenbergMarquardtParams{});
    solver.init(VectorXd::Map(std::vector<double>{1300, 1500, 500, 75, 1, 0.4, 0.05}.data(), 7));
    double previous = solver.mean_squared_error();
    for (int i = 0; i < 20 && solver.step() == LevenbergMarquardtStatus::Running; ++i) {
      CHECK(solver.mean_squared_error() < previous);
      previous = solver.mean_squared_error();
    }
  }
  SECTION("non-finite residuals are a numerical issue, not a crash") {
    LevenbergMarquardt solver([](const VectorXd&, VectorXd& e) { e = VectorXd::Constant(3, std::nan("")); },
                              [](const VectorXd&, MatrixXd& j) { j = MatrixXd::Zero(3, 1); }, {});
    CHECK(solver.minimize(VectorXd::Zero(1)) == LevenbergMarquardtStatus::NumericalIssue);
  }
}

TEST_CASE("Levenberg-Marquardt parameters are validated", "[lm]") {
  const auto rejects = [](auto change, const std::string& message) {
    LevenbergMarquardtParams params;
    change(params);
    CHECK_THROWS_WITH(params.validate(), Contains(message));
  };
  rejects([](auto& p) { p.mu = 0.0; }, "'mu' must be positive");
  rejects([](auto& p) { p.mu_dec = 1.5; }, "'mu_dec'");
  rejects([](auto& p) { p.mu_inc = 1.0; }, "'mu_inc' must be greater than 1");
  rejects([](auto& p) { p.mu_max = 1e-4; }, "'mu_max'");
  rejects([](auto& p) { p.goal = -1.0; }, "'goal'");
  rejects([](auto& p) { p.max_epochs = -1; }, "'max_epochs'");
  CHECK_NOTHROW(LevenbergMarquardtParams{}.validate());
}
