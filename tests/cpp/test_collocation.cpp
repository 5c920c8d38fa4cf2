// smr temporalmetrics (paper 001 eq. 1-3, paper 003 §2.2.2) and smr triplecollocation (paper 003
// §2.2.1, extended TC): p-values against closed forms of Student's t and an independent integration,
// metrics and error variances worked out by hand, the simulated n = 100,000 recovery, masks and their
// counts, NaN and ±Inf dropped pairwise / triplewise, window-order merging, thread invariance, and
// inputs that are wrong.
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <sstream>

#include "smr/metrics.hpp"
#include "smr/series_moments.hpp"
#include "support.hpp"

using namespace smr;
using namespace smr::test;
using Catch::Matchers::Contains;
using Catch::Matchers::WithinAbs;
using Catch::Matchers::WithinRel;

namespace {

constexpr float kNodataIn = -32768.0f;
constexpr float kOut = -9999.0f;  // the outputs' nodata
constexpr double kPixelTolerance = 2e-6;  // Float32 outputs against values worked out in double
const float nd = kNodataIn;
const float kNan = std::numeric_limits<float>::quiet_NaN();
const float kInf = std::numeric_limits<float>::infinity();
constexpr double kPi = 3.14159265358979323846;

std::vector<std::string> dates(int count) {
  std::vector<std::string> days;
  for (int d = 0; d < count; ++d) {
    char text[16];
    std::snprintf(text, sizeof text, "2015-04-%02d", 1 + d);
    days.push_back(text);
  }
  return days;
}

std::string write_input(const TempDir& dir, const std::string& name, const std::vector<std::vector<float>>& bands,
                        const GridSpec& grid = {}, const std::vector<std::string>& descriptions = {}) {
  const double nodata = kNodataIn;
  write_stack(dir.file(name), bands, grid, &nodata, descriptions);
  return dir.file(name);
}

// Student's t two-sided p-value by Simpson's rule on the density: independent of Boost.
double integrated_p_value(double r, long long n) {
  const double nu = static_cast<double>(n - 2);
  const double t = std::abs(r) * std::sqrt(nu / (1.0 - r * r));
  const double scale = std::exp(std::lgamma((nu + 1) / 2) - std::lgamma(nu / 2)) / std::sqrt(nu * kPi);
  const auto density = [&](double x) { return scale * std::pow(1.0 + x * x / nu, -(nu + 1) / 2); };
  const int intervals = 20000;
  const double h = t / intervals;
  double sum = density(0) + density(t);
  for (int i = 1; i < intervals; ++i) sum += density(i * h) * (i % 2 == 1 ? 4 : 2);
  return 1.0 - 2.0 * sum * h / 3.0;
}

// Sylvester–Hadamard column k over 8 rows: ±1, zero mean for k > 0 and mutually orthogonal, so
// series built from them have covariances known exactly (Σh² = 8, variance 8/7).
double hadamard(int k, int row) { return __builtin_popcount(static_cast<unsigned>(k & row)) % 2 == 0 ? 1.0 : -1.0; }

// The hand-worked triple-collocation case: truth T = 0.25 + 0.1·h1 (var 0.01·8/7),
//   X = T + 0.05·h2            σ²_εX = 0.0025·8/7, signal 0.01·8/7   → SNR 10·log10 4 = 6.0206 dB, R² 0.8
//   Y = 0.05 + 2T + 0.2·h4     σ²_εY = 0.04·8/7,   signal 0.04·8/7   → SNR 0 dB, R² 0.5
//   Z = 0.5T + 0.1·h7          σ²_εZ = 0.01·8/7,   signal 0.0025·8/7 → SNR −6.0206 dB, R² 0.2
// Covariances: σ_XY = 0.02·8/7, σ_XZ = 0.005·8/7, σ_YZ = 0.01·8/7; scaled to x: s_Y = σ_XZ/σ_YZ = 0.5,
// s_Z = σ_XY/σ_YZ = 2. Pairwise r: xy 0.02/√(0.0125·0.08) = 0.6325, xz 0.4, yz 0.3162.
struct HandTriplet {
  std::vector<double> x, y, z;
};
HandTriplet hand_triplet() {
  HandTriplet series;
  for (int row = 0; row < 8; ++row) {
    const double truth = 0.25 + 0.1 * hadamard(1, row);
    series.x.push_back(truth + 0.05 * hadamard(2, row));
    series.y.push_back(0.05 + 2 * truth + 0.2 * hadamard(4, row));
    series.z.push_back(0.5 * truth + 0.1 * hadamard(7, row));
  }
  return series;
}
constexpr double kEightSevenths = 8.0 / 7.0;

void check_hand_datasets(const std::array<CollocatedDataset, 3>& datasets, double tolerance) {
  const double error_variance[3] = {0.0025 * kEightSevenths, 0.04 * kEightSevenths, 0.01 * kEightSevenths};
  const double snr[3] = {10 * std::log10(4.0), 0.0, 10 * std::log10(0.25)};
  const double r_truth[3] = {std::sqrt(0.8), std::sqrt(0.5), std::sqrt(0.2)};
  const double scaling[3] = {1.0, 0.5, 2.0};
  for (int d = 0; d < 3; ++d) {
    INFO("dataset " << d);
    CHECK_THAT(datasets[d].error_variance, WithinRel(error_variance[d], tolerance));
    CHECK_THAT(datasets[d].error_std, WithinRel(std::sqrt(error_variance[d]), tolerance));
    CHECK_THAT(datasets[d].error_std_scaled, WithinRel(scaling[d] * std::sqrt(error_variance[d]), tolerance));
    CHECK_THAT(datasets[d].snr_db, WithinAbs(snr[d], 1e-3));
    CHECK_THAT(datasets[d].r_truth, WithinRel(r_truth[d], tolerance));
    CHECK_THAT(datasets[d].scaling, WithinRel(scaling[d], tolerance));
  }
}

}  // namespace

// ---- pure maths ------------------------------------------------------------------------------------

TEST_CASE("correlation p-value: closed forms of Student's t and an independent integration", "[collocation]") {
  // df = 2 (n = 4): t² = 2r²/(1 − r²), so p = 1 − |t|/√(2 + t²) = 1 − |r|.
  CHECK_THAT(correlation_p_value(0.5, 4), WithinAbs(0.5, 1e-12));
  CHECK_THAT(correlation_p_value(-0.8, 4), WithinAbs(0.2, 1e-12));
  // df = 1 (n = 3) is Cauchy: r = 0.6 gives t = 0.75, p = 1 − (2/π)·atan(0.75) = 0.590334.
  CHECK_THAT(correlation_p_value(0.6, 3), WithinAbs(1.0 - 2.0 / kPi * std::atan(0.75), 1e-12));
  // df = 3 (n = 5): F(t) = 1/2 + (1/π)·(u/(1 + u²) + atan u), u = t/√3.
  const double t = 0.9 * std::sqrt(3.0 / (1 - 0.81)), u = t / std::sqrt(3.0);
  CHECK_THAT(correlation_p_value(0.9, 5), WithinAbs(1.0 - 2.0 / kPi * (u / (1 + u * u) + std::atan(u)), 1e-12));
  for (const long long n : {6LL, 30LL, 365LL})
    for (const double r : {0.1, 0.45, -0.7}) {
      INFO("n " << n << ", r " << r);
      CHECK_THAT(correlation_p_value(r, n), WithinAbs(integrated_p_value(r, n), 1e-9));
    }
  CHECK(correlation_p_value(1.0, 10) == 0.0);
  CHECK(correlation_p_value(-1.0, 10) == 0.0);
  CHECK_THAT(correlation_p_value(0.0, 10), WithinAbs(1.0, 1e-15));
  CHECK(std::isnan(correlation_p_value(0.5, 2)));
  CHECK(std::isnan(correlation_p_value(std::nan(""), 10)));
}

TEST_CASE("chunk moments equal pair-by-pair accumulation, per pixel and per step; NaN and ±Inf dropped",
          "[collocation]") {
  // 300 pixels (a full run of 256 and a partial one) over 9 steps, with gaps of every kind.
  const std::size_t pixels = 300, steps = 9;
  std::mt19937_64 random(3);
  std::uniform_real_distribution<float> value(0.05f, 0.45f), kind(0.0f, 1.0f);
  const auto series = [&] {
    std::vector<std::vector<float>> stack(steps, std::vector<float>(pixels));
    for (auto& band : stack)
      for (auto& v : band) {
        const float u = kind(random);
        v = u < 0.1f ? kNan : u < 0.13f ? kInf : u < 0.16f ? -kInf : value(random);
      }
    return stack;
  };
  const auto e = series(), r = series(), z = series();
  std::vector<const float*> e_steps, r_steps, z_steps;
  for (std::size_t t = 0; t < steps; ++t) {
    e_steps.push_back(e[t].data());
    r_steps.push_back(r[t].data());
    z_steps.push_back(z[t].data());
  }
  long long infinite = 0;
  for (const auto* stack : {&e, &r})
    for (const auto& band : *stack)
      for (const float v : band) infinite += std::isinf(v) ? 1 : 0;

  PairedSeriesMoments moments;
  TripleSeriesMoments triples;
  std::vector<MetricsAccumulator> per_step(steps), expected_steps(steps);
  long long counted = 0;
  for (std::size_t first = 0; first < pixels; first += PairedSeriesMoments::kChunkPixels) {
    const std::size_t count = std::min(PairedSeriesMoments::kChunkPixels, pixels - first);
    moments.compute(e_steps.data(), r_steps.data(), steps, first, count, per_step.data());
    triples.compute(e_steps.data(), r_steps.data(), z_steps.data(), steps, first, count);
    counted += moments.infinite_values();
    for (std::size_t q = 0; q < count; ++q) {
      const std::size_t p = first + q;
      MetricsAccumulator streamed;
      std::vector<double> xs, ys, zs;
      for (std::size_t t = 0; t < steps; ++t) {
        if (std::isfinite(e[t][p]) && std::isfinite(r[t][p])) streamed.add(e[t][p], r[t][p]);
        xs.push_back(e[t][p]);
        ys.push_back(r[t][p]);
        zs.push_back(z[t][p]);
      }
      const Metrics a = MetricsAccumulator(moments.moments(q)).result(), b = streamed.result();
      INFO("pixel " << p);
      REQUIRE(a.n == b.n);
      for (const auto& [x, y] : {std::pair{a.r, b.r},
                                 {a.rmse, b.rmse},
                                 {a.ubrmse, b.ubrmse},
                                 {a.bias, b.bias},
                                 {a.mae, b.mae},
                                 {a.nse, b.nse}})
        CHECK((std::isnan(x) ? std::isnan(y) : std::abs(x - y) < 1e-12));
      const TripleCovariance c = triples.covariance(q), d = triple_covariance(xs, ys, zs);
      REQUIRE(c.n == d.n);
      for (const auto& [x, y] :
           {std::pair{c.xx, d.xx}, {c.yy, d.yy}, {c.zz, d.zz}, {c.xy, d.xy}, {c.xz, d.xz}, {c.yz, d.yz}})
        CHECK(std::abs(x - y) < 1e-14);
    }
  }
  CHECK(counted == infinite);
  for (std::size_t t = 0; t < steps; ++t) {
    for (std::size_t p = 0; p < pixels; ++p)
      if (std::isfinite(e[t][p]) && std::isfinite(r[t][p])) expected_steps[t].add(e[t][p], r[t][p]);
    const Metrics a = per_step[t].result(), b = expected_steps[t].result();
    INFO("step " << t);
    CHECK(a.n == b.n);
    CHECK_THAT(a.r, WithinAbs(b.r, 1e-12));
    CHECK_THAT(a.rmse, WithinAbs(b.rmse, 1e-12));
    CHECK_THAT(a.ubrmse, WithinAbs(b.ubrmse, 1e-12));
    CHECK_THAT(a.mae, WithinAbs(b.mae, 1e-12));
    CHECK_THAT(a.bias, WithinAbs(b.bias, 1e-12));
  }
}

TEST_CASE("triple collocation of known covariances, worked by hand", "[collocation]") {
  // σ_T² = 4; X = T + ε (σ²_ε 1); Y = 2T + ε (σ²_ε 8); Z = 0.5T + ε (σ²_ε 1):
  // σ²_X = 5, σ²_Y = 24, σ²_Z = 2, σ_XY = 8, σ_XZ = 2, σ_YZ = 4.
  //   σ²_εX = 5 − 8·2/4 = 1,  σ²_εY = 24 − 8·4/2 = 8,  σ²_εZ = 2 − 2·4/8 = 1
  //   signal 4, 16, 1 → SNR 10·log10(4) = 6.02, 10·log10(2) = 3.01, 0 dB; R² 0.8, 2/3, 0.5
  //   scaled to x: s_Y = σ_XZ/σ_YZ = 0.5, s_Z = σ_XY/σ_YZ = 2 → scaled std 1, 0.5·√8, 2
  //   scaled to y: s_X = β_Y/β_X = 2, s_Z = β_Y/β_Z = 4 → scaled std 2, √8, 4
  const TripleCovariance covariance{100, 5, 24, 2, 8, 2, 4};
  const TripleCollocation to_x = triple_collocation(covariance, {0, 0.2, 30});
  REQUIRE(to_x.status == CollocationStatus::Collocated);
  CHECK(to_x.n == 100);
  CHECK_THAT(to_x.pairwise_r[0], WithinAbs(8 / std::sqrt(120.0), 1e-12));
  CHECK_THAT(to_x.pairwise_r[1], WithinAbs(2 / std::sqrt(10.0), 1e-12));
  CHECK_THAT(to_x.pairwise_r[2], WithinAbs(4 / std::sqrt(48.0), 1e-12));
  const double variance[3] = {1, 8, 1}, snr[3] = {10 * std::log10(4.0), 10 * std::log10(2.0), 0.0};
  const double r2[3] = {0.8, 2.0 / 3.0, 0.5}, scaling[3] = {1, 0.5, 2};
  for (int d = 0; d < 3; ++d) {
    INFO("dataset " << d);
    CHECK_THAT(to_x.datasets[d].error_variance, WithinAbs(variance[d], 1e-12));
    CHECK_THAT(to_x.datasets[d].error_std, WithinAbs(std::sqrt(variance[d]), 1e-12));
    CHECK_THAT(to_x.datasets[d].snr_db, WithinAbs(snr[d], 1e-12));
    CHECK_THAT(to_x.datasets[d].r_truth, WithinAbs(std::sqrt(r2[d]), 1e-12));
    CHECK_THAT(to_x.datasets[d].scaling, WithinAbs(scaling[d], 1e-12));
    CHECK_THAT(to_x.datasets[d].error_std_scaled, WithinAbs(scaling[d] * std::sqrt(variance[d]), 1e-12));
  }
  const TripleCollocation to_y = triple_collocation(covariance, {1, 0.2, 30});
  CHECK_THAT(to_y.datasets[0].scaling, WithinAbs(2.0, 1e-12));
  CHECK_THAT(to_y.datasets[1].scaling, WithinAbs(1.0, 1e-12));
  CHECK_THAT(to_y.datasets[2].scaling, WithinAbs(4.0, 1e-12));
  CHECK_THAT(to_y.datasets[0].error_std_scaled, WithinAbs(2.0, 1e-12));
  CHECK_THAT(to_y.datasets[1].error_std_scaled, WithinAbs(std::sqrt(8.0), 1e-12));
  CHECK_THAT(to_y.datasets[2].error_std_scaled, WithinAbs(4.0, 1e-12));
  CHECK_THAT(to_y.datasets[1].error_variance, WithinAbs(8.0, 1e-12));  // own units whatever SCALE_TO

  // The statuses, the first that applies.
  CHECK(triple_collocation({0, 0, 0, 0, 0, 0, 0}, {}).status == CollocationStatus::Empty);
  CHECK(triple_collocation(covariance, {0, 0.2, 101}).status == CollocationStatus::FewObservations);
  CHECK(triple_collocation(covariance, {0, 0.6, 30}).status ==
        CollocationStatus::LowCorrelation);  // r_xz 0.632, r_yz 0.577
  const TripleCollocation constant = triple_collocation({100, 5, 24, 0, 8, 0, 0}, {});
  CHECK(constant.status == CollocationStatus::LowCorrelation);
  CHECK(std::isnan(constant.pairwise_r[1]));
  CHECK(std::isnan(constant.datasets[0].error_variance));
  // σ_XY large against σ_YZ: σ²_εX = 5 − 6·2/2 = −1, while every r passes (0.548, 0.632, 0.289).
  CHECK(triple_collocation({100, 5, 24, 2, 6, 2, 2}, {}).status == CollocationStatus::NegativeVariance);
  // One negative covariance (allowed by MIN_CORRELATION −1): every signal variance is negative.
  CHECK(triple_collocation({100, 5, 24, 2, -8, 2, 4}, {0, -1.0, 30}).status == CollocationStatus::NegativeVariance);
}

TEST_CASE("triple covariance by hand; NaN and ±Inf rows dropped triplewise", "[collocation]") {
  // x = 1 2 3 4, y = 1 3 2 6, z = 2 2 4 4: means 2.5, 3, 3; deviations x −1.5 −0.5 0.5 1.5,
  // y −2 0 −1 3, z −1 −1 1 1 → Σ: xx 5, yy 14, zz 4, xy 7, xz 4, yz 4; /(n − 1 = 3).
  const double n = std::nan("");
  const double i = std::numeric_limits<double>::infinity();
  const TripleCovariance c = triple_covariance({1, n, 2, 3, 7, 4}, {1, 5, 3, 2, -i, 6}, {2, 1, 2, 4, 3, 4});
  CHECK(c.n == 4);
  CHECK_THAT(c.xx, WithinAbs(5.0 / 3, 1e-14));
  CHECK_THAT(c.yy, WithinAbs(14.0 / 3, 1e-14));
  CHECK_THAT(c.zz, WithinAbs(4.0 / 3, 1e-14));
  CHECK_THAT(c.xy, WithinAbs(7.0 / 3, 1e-14));
  CHECK_THAT(c.xz, WithinAbs(4.0 / 3, 1e-14));
  CHECK_THAT(c.yz, WithinAbs(4.0 / 3, 1e-14));
  // σ²_εX = 5/3 − (7/3)(4/3)/(4/3) = −2/3: masked, although every pairwise r (0.837, 0.894, 0.535) passes.
  CHECK(triple_collocation(c, {0, 0.2, 4}).status == CollocationStatus::NegativeVariance);

  const HandTriplet hand = hand_triplet();
  const TripleCollocation collocation = triple_collocation(triple_covariance(hand.x, hand.y, hand.z), {0, 0.2, 8});
  REQUIRE(collocation.status == CollocationStatus::Collocated);
  check_hand_datasets(collocation.datasets, 1e-10);
  CHECK_THAT(collocation.pairwise_r[0], WithinAbs(0.02 / std::sqrt(0.0125 * 0.08), 1e-12));
  CHECK_THAT(collocation.pairwise_r[1], WithinAbs(0.4, 1e-12));
}

TEST_CASE("triple collocation recovers the error variances of simulated products (n = 100,000)", "[collocation]") {
  // The truth and three products with their own gains, offsets and independent errors.
  std::mt19937_64 random(20240501);
  std::normal_distribution<double> truth(0.25, 0.06), error_x(0.0, 0.02), error_y(0.0, 0.05), error_z(0.0, 0.015);
  const std::size_t n = 100000;
  std::vector<double> x(n), y(n), z(n);
  for (std::size_t i = 0; i < n; ++i) {
    const double t = truth(random);
    x[i] = t + error_x(random);
    y[i] = 0.05 + 1.6 * t + error_y(random);
    z[i] = -0.02 + 0.7 * t + error_z(random);
  }
  const TripleCollocation result = triple_collocation(triple_covariance(x, y, z), {0, 0.2, 30});
  REQUIRE(result.status == CollocationStatus::Collocated);
  CHECK_THAT(result.datasets[0].error_variance, WithinRel(0.02 * 0.02, 0.05));
  CHECK_THAT(result.datasets[1].error_variance, WithinRel(0.05 * 0.05, 0.05));
  CHECK_THAT(result.datasets[2].error_variance, WithinRel(0.015 * 0.015, 0.05));
  // In x's units: Y's error divided by its gain 1.6, Z's by 0.7.
  CHECK_THAT(result.datasets[1].error_std_scaled, WithinRel(0.05 / 1.6, 0.05));
  CHECK_THAT(result.datasets[2].error_std_scaled, WithinRel(0.015 / 0.7, 0.05));
  CHECK_THAT(result.datasets[1].scaling, WithinRel(1 / 1.6, 0.05));
  // r_truth² = gain²·σ_T²/(gain²·σ_T² + σ²_ε).
  const double signal = 0.06 * 0.06;
  CHECK_THAT(result.datasets[0].r_truth, WithinRel(std::sqrt(signal / (signal + 0.0004)), 0.01));
  CHECK_THAT(result.datasets[1].r_truth, WithinRel(std::sqrt(2.56 * signal / (2.56 * signal + 0.0025)), 0.01));
  CHECK_THAT(result.datasets[2].snr_db, WithinAbs(10 * std::log10(0.49 * signal / (0.015 * 0.015)), 0.25));
}

TEST_CASE("window partials are merged in window order whatever order they finish in", "[collocation]") {
  // A 10×7 grid in windows of 4×3: rows of windows at y 0, 3, 6; x 0, 4, 8 (the last ones narrower/shorter).
  Grid grid;
  grid.width = 10;
  grid.height = 7;
  std::vector<Block> windows;
  for (int y = 0; y < 7; y += 3)
    for (int x = 0; x < 10; x += 4) {
      Block block;
      block.x0 = x;
      block.y0 = y;
      block.width = std::min(4, 10 - x);
      block.height = std::min(3, 7 - y);
      block.grid = &grid;
      windows.push_back(block);
    }
  std::vector<int> order;
  WindowOrderMerger<int> merger([&](int& index) { order.push_back(index); });
  for (const int index : {1, 2, 0, 4, 3, 8, 5, 7, 6}) merger.add(windows[static_cast<std::size_t>(index)], index);
  merger.check_complete();
  CHECK(order == std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8});

  WindowOrderMerger<int> unfinished([](int&) {});
  unfinished.add(windows[1], 1);
  CHECK_THROWS_AS(unfinished.check_complete(), std::logic_error);  // window 1 waits for window 0
  WindowOrderMerger<int> short_of_the_end([](int&) {});
  for (int index = 0; index < 8; ++index) short_of_the_end.add(windows[static_cast<std::size_t>(index)], index);
  CHECK_THROWS_AS(short_of_the_end.check_complete(), std::logic_error);  // the last window never came
}

// ---- temporalmetrics -------------------------------------------------------------------------------

namespace {

// 4×3 pixels, 6 dated steps (soil moisture, m³/m³). reference r and estimate e of pixel 0:
//   r = 0.20 0.25 0.30 0.22 0.35 0.28,  e = 0.22 0.24 0.33 0.25 0.36 0.32,  d = e − r = .02 −.01 .03 .03 .01 .04
//   bias = 0.12/6 = 0.02; MAE = 0.14/6 = 0.023333; RMSE = √(40e-4/6) = 0.0258199; ubRMSE = √(RMSE² − bias²)
//   = √(16e-4/6) = 0.0163299; r̄ = 0.266667, ē = 0.286667: Σ products of deviations 0.0149333,
//   Σ dev_r² 0.0151333, Σ dev_e² 0.0163333 → r = 0.949843; p (t with 4 df) = 0.0037104.
// pixel 1: pixel 0 with e nodata at step 2 and r NaN at step 5: pairs at steps 1, 3, 4, 6:
//   d = .02 .03 .03 .04 → bias 0.03, MAE 0.03, RMSE √(38e-4/4) = 0.0308221, ubRMSE √(0.00095 − 0.0009)
//   = 0.00707107, r = 0.993825 and, with 2 df, p = 1 − r = 0.006175.
// pixel 2: every value nodata (EMPTY); pixel 3: 3 pairs (FEW_OBSERVATIONS with MIN_OBSERVATIONS 4).
// pixel 4: e = 0.3 at every step (CONSTANT): d = 0.1 0.05 0 0.08 −0.05 0.02 → bias 0.033333,
//   MAE 0.05, RMSE 0.0602771, ubRMSE 0.0502217; r and p undefined.
// pixel 5: pixel 0 with e = +Inf at step 3 and r = −Inf at step 6: pairs at steps 1, 2, 4, 5 →
//   bias 0.0125, MAE 0.0175, RMSE 0.0193649, ubRMSE 0.0147902, r = 0.966793, p = 1 − r = 0.033207.
// pixels 6-11: nodata (EMPTY).
const std::vector<float> kReference0 = {0.20f, 0.25f, 0.30f, 0.22f, 0.35f, 0.28f};
const std::vector<float> kEstimate0 = {0.22f, 0.24f, 0.33f, 0.25f, 0.36f, 0.32f};

struct TemporalCase {
  std::vector<std::vector<float>> estimate, reference;
};

TemporalCase temporal_case() {
  TemporalCase c{std::vector<std::vector<float>>(6, std::vector<float>(12, nd)),
                 std::vector<std::vector<float>>(6, std::vector<float>(12, nd))};
  for (int t = 0; t < 6; ++t) {
    for (const int p : {0, 1, 4, 5}) {
      c.estimate[t][p] = kEstimate0[t];
      c.reference[t][p] = kReference0[t];
    }
    c.estimate[t][4] = 0.3f;
    if (t < 3) {
      c.estimate[t][3] = 0.1f * static_cast<float>(t + 1);
      c.reference[t][3] = 0.2f;
    }
  }
  c.estimate[1][1] = nd;
  c.reference[4][1] = kNan;
  c.estimate[2][5] = kInf;
  c.reference[5][5] = -kInf;
  return c;
}

json temporal_parameters(const TempDir& dir, const std::string& estimate, const std::string& reference) {
  return {{"ESTIMATE", estimate}, {"REFERENCE_STACK", reference}, {"OUTPUT", dir.file("metrics.tif")}};
}

}  // namespace

TEST_CASE("temporalmetrics: per-pixel metrics by hand, gaps, NaN and ±Inf, masks and counts", "[collocation]") {
  TempDir dir;
  const TemporalCase c = temporal_case();
  const auto estimate = write_input(dir, "estimate.tif", c.estimate, {}, dates(6));
  const auto reference = write_input(dir, "reference.tif", c.reference, {}, dates(6));
  json parameters = temporal_parameters(dir, estimate, reference);
  parameters["MIN_OBSERVATIONS"] = 4;
  const auto run = run_command("temporalmetrics", parameters);
  const json& out = run.outputs;

  CHECK(read_descriptions(dir.file("metrics.tif")) ==
        std::vector<std::string>{"r", "p_value", "rmse", "ubrmse", "bias", "mae", "n"});
  const auto metrics = read_stack(dir.file("metrics.tif"));
  REQUIRE(metrics.size() == 7);
  const double r0 = 0.9498434835128396, r1 = 0.993824983835289, r5 = 0.9667933362236025;
  check_pixel_series(metrics, 0,
                     {r0, integrated_p_value(r0, 6), 0.025819888974716113, 0.01632993161855452, 0.02, 0.023333333, 6},
                     kPixelTolerance);
  check_pixel_series(metrics, 1, {r1, 1 - r1, 0.03082207001484488, 0.0070710678118654615, 0.03, 0.03, 4},
                     kPixelTolerance);
  check_pixel_series(metrics, 2, {kOut, kOut, kOut, kOut, kOut, kOut, 0}, kPixelTolerance);
  check_pixel_series(metrics, 3, {kOut, kOut, kOut, kOut, kOut, kOut, 3}, kPixelTolerance);
  check_pixel_series(metrics, 4, {kOut, kOut, 0.06027713773341707, 0.05022173057773121, 0.0333333333, 0.05, 6},
                     kPixelTolerance);
  check_pixel_series(metrics, 5, {r5, 1 - r5, 0.019364916731037084, 0.014790199457749042, 0.0125, 0.0175, 4},
                     kPixelTolerance);
  for (std::size_t p = 6; p < 12; ++p)
    check_pixel_series(metrics, p, {kOut, kOut, kOut, kOut, kOut, kOut, 0}, kPixelTolerance);

  CHECK(out.at("COMPARED_PIXELS") == 4);
  CHECK(out.at("FEW_OBSERVATIONS_PIXELS") == 1);
  CHECK(out.at("EMPTY_PIXELS") == 7);
  CHECK(out.at("CONSTANT_PIXELS") == 1);
  CHECK(out.at("NON_FINITE_VALUES") == 2);
  CHECK_THAT(run.lines, Contains("NON_FINITE_VALUES") && Contains("warning"));
  CHECK(out.at("STEPS") == 6);
  // Means over the compared pixels where defined: r over pixels 0, 1, 5 (4 is constant).
  CHECK_THAT(out.at("MEAN_TEMPORAL_R").get<double>(), WithinAbs((r0 + r1 + r5) / 3, 1e-6));
  CHECK_THAT(
      out.at("MEAN_RMSE").get<double>(),
      WithinAbs((0.025819888974716113 + 0.03082207001484488 + 0.06027713773341707 + 0.019364916731037084) / 4, 1e-6));
  CHECK_THAT(out.at("MEAN_BIAS").get<double>(), WithinAbs((0.02 + 0.03 + 0.0333333333 + 0.0125) / 4, 1e-6));
  CHECK_THAT(out.at("MEAN_MAE").get<double>(), WithinAbs((0.0233333333 + 0.03 + 0.05 + 0.0175) / 4, 1e-6));
  CHECK_THAT(
      out.at("MEAN_UBRMSE").get<double>(),
      WithinAbs((0.01632993161855452 + 0.0070710678118654615 + 0.05022173057773121 + 0.014790199457749042) / 4, 1e-6));

  // The sample holds every compared pixel, in pixel order; the constant one has r null.
  const json& sample = out.at("SAMPLE");
  REQUIRE(sample.at("r").size() == 4);
  CHECK_THAT(sample.at("r")[0].get<double>(), WithinAbs(r0, 1e-6));
  CHECK(sample.at("r")[2].is_null());
  CHECK_THAT(sample.at("bias")[2].get<double>(), WithinAbs(0.0333333333, 1e-6));
  CHECK_THAT(sample.at("rmse")[3].get<double>(), WithinAbs(0.019364916731037084, 1e-6));
  CHECK(sample.at("ubrmse").size() == 4);

  // Per step, 4 pixels or fewer have both values: below MIN_OBSERVATIONS 4 except where 4 do.
  const json& spatial = out.at("SPATIAL");
  REQUIRE(spatial.size() == 6);
  CHECK(spatial[0].at("band") == 1);
  CHECK(spatial[0].at("date") == "2015-04-01");
  CHECK(spatial[0].at("n") == 5);  // pixels 0, 1, 3, 4, 5
  CHECK(spatial[2].at("n") == 4);  // pixel 5's +Inf is left out
}

TEST_CASE("temporalmetrics: spatial correlation per step, its CSV and MEAN_SPATIAL_R, by hand", "[collocation]") {
  // 2×2 pixels, 3 steps.
  //   step 1: e = 1 2 3 4, r = 1 2 3 4 → r = 1, p = 0; every error 0
  //   step 2: e = 1 2 3 4, r = 2 1 4 3 → deviations e −1.5 −0.5 0.5 1.5, r −0.5 −1.5 1.5 0.5: Σ products 3,
  //           Σ squares 5 and 5 → r = 0.6; n = 4 so p = 1 − r = 0.4; d = −1 1 −1 1: RMSE 1, bias 0, MAE 1
  //   step 3: e = 1 nd 3 5, r = 2 2 nd 4 → pairs at pixels 1 and 4 only: n = 2 < 3, r and p null;
  //           d = −1 1: RMSE 1, ubRMSE 1, bias 0, MAE 1
  // SIGNIFICANCE 0.05 keeps step 1 (MEAN_SPATIAL_R 1); 0.5 keeps steps 1 and 2 (mean 0.8).
  TempDir dir;
  const GridSpec grid{2, 2};
  const auto estimate = write_input(dir, "e.tif", {{1, 2, 3, 4}, {1, 2, 3, 4}, {1, nd, 3, 5}}, grid, dates(3));
  const auto reference = write_input(dir, "r.tif", {{1, 2, 3, 4}, {2, 1, 4, 3}, {2, 2, nd, 4}}, grid, dates(3));
  json parameters = temporal_parameters(dir, estimate, reference);
  parameters["MIN_OBSERVATIONS"] = 3;
  parameters["SPATIAL_OUTPUT"] = dir.file("spatial.csv");
  const auto run = run_command("temporalmetrics", parameters);
  const json& out = run.outputs;
  CHECK(out.at("SPATIAL_OUTPUT") == dir.file("spatial.csv"));
  CHECK(out.at("SIGNIFICANT_STEPS") == 1);
  CHECK(out.at("MEAN_SPATIAL_R") == 1.0);
  const json& spatial = out.at("SPATIAL");
  CHECK(spatial[0].at("r") == 1.0);
  CHECK(spatial[0].at("p_value") == 0.0);
  CHECK(spatial[0].at("rmse") == 0.0);
  CHECK_THAT(spatial[1].at("r").get<double>(), WithinAbs(0.6, 1e-12));
  CHECK_THAT(spatial[1].at("p_value").get<double>(), WithinAbs(0.4, 1e-12));
  CHECK(spatial[1].at("rmse") == 1.0);
  CHECK(spatial[1].at("mae") == 1.0);
  CHECK(spatial[1].at("bias") == 0.0);
  CHECK(spatial[2].at("n") == 2);
  CHECK(spatial[2].at("r").is_null());
  CHECK(spatial[2].at("p_value").is_null());
  CHECK(spatial[2].at("ubrmse") == 1.0);

  std::ifstream csv_file(dir.file("spatial.csv"));
  std::stringstream csv;
  csv << csv_file.rdbuf();
  std::vector<std::string> lines;
  for (std::string line; std::getline(csv, line);) lines.push_back(line);
  REQUIRE(lines.size() == 4);
  CHECK(lines[0] == "band,date,n,r,p_value,rmse,ubrmse,bias,mae");
  CHECK(lines[1] == "1,2015-04-01,4,1.0,0.0,0.0,0.0,0.0,0.0");
  CHECK_THAT(lines[2], Contains("2,2015-04-02,4,0.6"));
  CHECK(lines[3] == "3,2015-04-03,2,,,1.0,1.0,0.0,1.0");

  parameters["SIGNIFICANCE"] = 0.5;
  const auto lenient = run_command("temporalmetrics", parameters);
  CHECK(lenient.outputs.at("SIGNIFICANT_STEPS") == 2);
  CHECK_THAT(lenient.outputs.at("MEAN_SPATIAL_R").get<double>(), WithinAbs(0.8, 1e-12));

  // Undated stacks: the date is null in SPATIAL and empty in the CSV.
  const auto undated_e = write_input(dir, "ue.tif", {{1, 2, 3, 4}, {1, 2, 3, 4}, {1, nd, 3, 5}}, grid);
  const auto undated_r = write_input(dir, "ur.tif", {{1, 2, 3, 4}, {2, 1, 4, 3}, {2, 2, nd, 4}}, grid);
  json undated = temporal_parameters(dir, undated_e, undated_r);
  undated["MIN_OBSERVATIONS"] = 3;
  undated["PERIOD"] = "1:3";
  undated["SPATIAL_OUTPUT"] = dir.file("undated.csv");
  const auto plain = run_command("temporalmetrics", undated);
  CHECK(plain.outputs.at("SPATIAL")[0].at("date").is_null());
  std::ifstream plain_csv(dir.file("undated.csv"));
  std::string header, first;
  std::getline(plain_csv, header);
  std::getline(plain_csv, first);
  CHECK(first == "1,,4,1.0,0.0,0.0,0.0,0.0,0.0");
}

TEST_CASE("temporalmetrics: PERIOD selects the bands; constant stacks give no correlation, not a crash",
          "[collocation]") {
  TempDir dir;
  const TemporalCase c = temporal_case();
  const auto estimate = write_input(dir, "estimate.tif", c.estimate, {}, dates(6));
  const auto reference = write_input(dir, "reference.tif", c.reference, {}, dates(6));
  json parameters = temporal_parameters(dir, estimate, reference);
  parameters["PERIOD"] = "2015-04-02:2015-04-05";  // bands 2-5
  parameters["MIN_OBSERVATIONS"] = 3;
  const auto run = run_command("temporalmetrics", parameters);
  CHECK(run.outputs.at("STEPS") == 4);
  CHECK(run.outputs.at("SPATIAL")[0].at("band") == 2);
  const auto metrics = read_stack(dir.file("metrics.tif"));
  // Pixel 0 over steps 2-5: d = −.01 .03 .03 .01 → bias 0.015, MAE 0.02.
  CHECK_THAT(metrics[4][0], WithinAbs(0.015, 1e-6));
  CHECK_THAT(metrics[5][0], WithinAbs(0.02, 1e-6));
  CHECK(metrics[6][0] == 4);

  const std::vector<std::vector<float>> flat(6, std::vector<float>(12, 0.25f));
  const auto flat_path = write_input(dir, "flat.tif", flat, {}, dates(6));
  json constant = temporal_parameters(dir, flat_path, flat_path);
  constant["OUTPUT"] = dir.file("flat_metrics.tif");
  constant["MIN_OBSERVATIONS"] = 3;
  const auto flat_run = run_command("temporalmetrics", constant);
  CHECK(flat_run.outputs.at("CONSTANT_PIXELS") == 12);
  CHECK(flat_run.outputs.at("MEAN_TEMPORAL_R").is_null());
  CHECK(flat_run.outputs.at("MEAN_SPATIAL_R").is_null());
  CHECK(flat_run.outputs.at("SIGNIFICANT_STEPS") == 0);
  CHECK(flat_run.outputs.at("SPATIAL")[0].at("r").is_null());
  CHECK(flat_run.outputs.at("MEAN_RMSE") == 0.0);
  const auto flat_metrics = read_stack(dir.file("flat_metrics.tif"));
  CHECK(flat_metrics[0][7] == kOut);
  CHECK(flat_metrics[1][7] == kOut);
  CHECK(flat_metrics[2][7] == 0.0f);
}

// ---- thread invariance -----------------------------------------------------------------------------

namespace {

// 12×600 pixels in 16-pixel tiles: the engine reads three windows of up to 256 rows, each in many
// chunks, so the merging across chunks and windows is exercised.
const GridSpec kTallGrid{12, 600};
const std::vector<std::string> kSmallTiles = {"TILED=YES", "BLOCKXSIZE=16", "BLOCKYSIZE=16"};

std::vector<std::vector<float>> random_stack(std::mt19937_64& random, int bands, double gain, double offset,
                                             const std::vector<double>& truth, double noise) {
  std::normal_distribution<double> error(0.0, noise);
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  const std::size_t pixels = static_cast<std::size_t>(kTallGrid.width * kTallGrid.height);
  std::vector<std::vector<float>> stack(static_cast<std::size_t>(bands), std::vector<float>(pixels));
  for (int b = 0; b < bands; ++b)
    for (std::size_t p = 0; p < pixels; ++p) {
      const double u = uniform(random);
      stack[b][p] = u < 0.1     ? nd
                    : u < 0.11  ? kNan
                    : u < 0.112 ? kInf
                                : static_cast<float>(offset + gain * truth[b * pixels + p] + error(random));
    }
  return stack;
}

std::vector<double> random_truth(std::mt19937_64& random, int bands) {
  std::normal_distribution<double> truth(0.25, 0.05);
  std::vector<double> values(static_cast<std::size_t>(bands * kTallGrid.width * kTallGrid.height));
  for (auto& value : values) value = truth(random);
  return values;
}

int progress_lines(const std::string& lines) {
  int count = 0;
  for (std::size_t at = lines.find("\"progress\""); at != std::string::npos; at = lines.find("\"progress\"", at + 1))
    ++count;
  return count;
}

}  // namespace

TEST_CASE("temporalmetrics: THREADS 1 and 2 give the same bytes and results; merged steps match one pass",
          "[collocation]") {
  TempDir dir;
  std::mt19937_64 random(7);
  const int bands = 24;
  const auto truth = random_truth(random, bands);
  const auto estimate = random_stack(random, bands, 1.2, -0.03, truth, 0.03);
  const auto reference = random_stack(random, bands, 1.0, 0.0, truth, 0.01);
  const auto e_path = write_input(dir, "e.tif", estimate, kTallGrid, dates(bands));
  const auto r_path = write_input(dir, "r.tif", reference, kTallGrid, dates(bands));
  json parameters = temporal_parameters(dir, e_path, r_path);
  parameters["CREATE_OPTIONS"] = kSmallTiles;
  parameters["MAX_PLOT_PIXELS"] = 500;
  json one = parameters, two = parameters;
  one.update({{"THREADS", 1}, {"OUTPUT", dir.file("one.tif")}, {"SPATIAL_OUTPUT", dir.file("one.csv")}});
  two.update({{"THREADS", 2}, {"OUTPUT", dir.file("two.tif")}, {"SPATIAL_OUTPUT", dir.file("two.csv")}});
  const auto first = run_command("temporalmetrics", one);
  const auto second = run_command("temporalmetrics", two);
  CHECK(progress_lines(first.lines) >= 3);  // several windows
  CHECK(read_stack(dir.file("one.tif")) == read_stack(dir.file("two.tif")));
  json a = first.outputs, b = second.outputs;
  for (json* outputs : {&a, &b}) {
    outputs->erase("OUTPUT");
    outputs->erase("SPATIAL_OUTPUT");
  }
  CHECK(a.dump() == b.dump());
  CHECK(a.at("SAMPLE").at("r").size() == 500);
  CHECK(a.at("NON_FINITE_VALUES").get<long long>() > 0);

  // Each step's metrics, merged over chunks and windows, equal one pass over all of its pixels.
  for (int t = 0; t < bands; ++t) {
    std::vector<double> e, r;
    for (std::size_t p = 0; p < estimate[t].size(); ++p)
      if (std::isfinite(estimate[t][p]) && estimate[t][p] != nd && std::isfinite(reference[t][p]) &&
          reference[t][p] != nd) {
        e.push_back(estimate[t][p]);
        r.push_back(reference[t][p]);
      }
    const Metrics expected = compute_metrics(e, r);
    const json& step = a.at("SPATIAL")[static_cast<std::size_t>(t)];
    INFO("step " << t + 1);
    CHECK(step.at("n") == expected.n);
    CHECK_THAT(step.at("r").get<double>(), WithinAbs(expected.r, 1e-12));
    CHECK_THAT(step.at("rmse").get<double>(), WithinAbs(expected.rmse, 1e-12));
    CHECK_THAT(step.at("ubrmse").get<double>(), WithinAbs(expected.ubrmse, 1e-12));
    CHECK_THAT(step.at("mae").get<double>(), WithinAbs(expected.mae, 1e-12));
    CHECK_THAT(step.at("bias").get<double>(), WithinAbs(expected.bias, 1e-12));
    CHECK_THAT(step.at("p_value").get<double>(), WithinAbs(correlation_p_value(expected.r, expected.n), 1e-12));
  }
  // Every step is strongly correlated across 7200 pixels.
  CHECK(a.at("SIGNIFICANT_STEPS") == bands);
}

TEST_CASE("triplecollocation: THREADS 1 and 2 give the same bytes and results", "[collocation]") {
  TempDir dir;
  std::mt19937_64 random(11);
  const int bands = 40;
  const auto truth = random_truth(random, bands);
  const auto x = write_input(dir, "x.tif", random_stack(random, bands, 1.0, 0.0, truth, 0.02), kTallGrid);
  const auto y = write_input(dir, "y.tif", random_stack(random, bands, 1.5, 0.05, truth, 0.04), kTallGrid);
  const auto z = write_input(dir, "z.tif", random_stack(random, bands, 0.8, -0.02, truth, 0.015), kTallGrid);
  json parameters = {{"X", x},
                     {"Y", y},
                     {"Z", z},
                     {"CREATE_OPTIONS", kSmallTiles},
                     {"MAX_PLOT_PIXELS", 300},
                     {"MIN_OBSERVATIONS", 15}};
  json one = parameters, two = parameters;
  one.update({{"THREADS", 1}, {"OUTPUT", dir.file("one.tif")}});
  two.update({{"THREADS", 2}, {"OUTPUT", dir.file("two.tif")}});
  const auto first = run_command("triplecollocation", one);
  const auto second = run_command("triplecollocation", two);
  CHECK(progress_lines(first.lines) >= 3);
  CHECK(read_stack(dir.file("one.tif")) == read_stack(dir.file("two.tif")));
  json a = first.outputs, b = second.outputs;
  a.erase("OUTPUT");
  b.erase("OUTPUT");
  CHECK(a.dump() == b.dump());
  CHECK(a.at("SAMPLE").at("error_std").at("x").size() == 300);
  CHECK(a.at("COLLOCATED_PIXELS").get<long long>() + a.at("NEGATIVE_VARIANCE_PIXELS").get<long long>() +
            a.at("LOW_CORRELATION_PIXELS").get<long long>() + a.at("FEW_OBSERVATIONS_PIXELS").get<long long>() +
            a.at("EMPTY_PIXELS").get<long long>() ==
        7200);
  CHECK(a.at("NAMES") == json({"x", "y", "z"}));
  // 40 steps with 28 or so triplets per pixel: the medians sit near the simulated error std.
  CHECK_THAT(a.at("MEDIAN_ERROR_STD_X").get<double>(), WithinRel(0.02, 0.25));
  CHECK_THAT(a.at("MEDIAN_ERROR_STD_SCALED_Y").get<double>(), WithinRel(0.04 / 1.5, 0.25));
}

// ---- triplecollocation stacks by hand --------------------------------------------------------------

TEST_CASE("triplecollocation stacks: hand-worked pixel, masks with counts, NaN and ±Inf dropped triplewise",
          "[collocation]") {
  // 4×3 pixels, 8 steps, MIN_OBSERVATIONS 4:
  //   0, 7-11  the hand-worked triplet (collocated)
  //   1        the hand triplet with Z constant: r_xz, r_yz undefined → low_correlation
  //   2        every value nodata → empty
  //   3        3 complete steps → few_observations
  //   4        x = 1 2 3 4, y = 1 3 2 6, z = 2 2 4 4 then nodata: σ²_εX = −2/3 → negative_variance
  //   5        the hand triplet with X NaN and Y −Inf at step 2, Z +Inf at step 6: 6 triplets left
  //   6        Z = 0.25 + 0.1·h3, uncorrelated with X (σ_XZ = 0) → low_correlation
  TempDir dir;
  const HandTriplet hand = hand_triplet();
  std::vector<std::vector<float>> x(8, std::vector<float>(12)), y = x, z = x;
  for (int t = 0; t < 8; ++t) {
    for (int p = 0; p < 12; ++p) {
      x[t][p] = static_cast<float>(hand.x[t]);
      y[t][p] = static_cast<float>(hand.y[t]);
      z[t][p] = static_cast<float>(hand.z[t]);
    }
    z[t][1] = 0.3f;
    x[t][2] = y[t][2] = z[t][2] = nd;
    if (t >= 3) x[t][3] = nd;
    const float x4[4] = {1, 2, 3, 4}, y4[4] = {1, 3, 2, 6}, z4[4] = {2, 2, 4, 4};
    x[t][4] = t < 4 ? x4[t] : nd;
    y[t][4] = t < 4 ? y4[t] : nd;
    z[t][4] = t < 4 ? z4[t] : nd;
    z[t][6] = static_cast<float>(0.25 + 0.1 * hadamard(3, t));
  }
  x[1][5] = kNan;
  y[1][5] = -kInf;
  z[5][5] = kInf;
  const auto x_path = write_input(dir, "smap.tif", x);
  const auto y_path = write_input(dir, "ascat.tif", y);
  const auto z_path = write_input(dir, "gldas.tif", z);
  json parameters = {
      {"X", x_path}, {"Y", y_path}, {"Z", z_path}, {"OUTPUT", dir.file("tc.tif")}, {"MIN_OBSERVATIONS", 4}};
  const auto run = run_command("triplecollocation", parameters);
  const json& out = run.outputs;

  const auto descriptions = read_descriptions(dir.file("tc.tif"));
  REQUIRE(descriptions.size() == 19);
  CHECK(descriptions[0] == "error_variance x (smap)");
  CHECK(descriptions[4] == "error_std y (ascat)");
  CHECK(descriptions[8] == "error_std_scaled z (gldas)");
  CHECK(descriptions[9] == "snr_db x (smap)");
  CHECK(descriptions[14] == "r_truth z (gldas)");
  CHECK(descriptions[15] == "scaling x (smap)");
  CHECK(descriptions[18] == "n");
  CHECK(out.at("NAMES") == json({"smap", "ascat", "gldas"}));

  const auto tc = read_stack(dir.file("tc.tif"));
  const auto as_datasets = [&](std::size_t p) {
    std::array<CollocatedDataset, 3> datasets{};
    for (int d = 0; d < 3; ++d)
      datasets[d] = {tc[d][p], tc[3 + d][p], tc[6 + d][p], tc[9 + d][p], tc[12 + d][p], tc[15 + d][p]};
    return datasets;
  };
  for (const std::size_t p : {0, 7, 11}) {
    INFO("pixel " << p);
    check_hand_datasets(as_datasets(p), 1e-4);
    CHECK(tc[18][p] == 8);
  }
  for (const std::size_t p : {1, 2, 3, 4, 6}) {
    INFO("pixel " << p);
    for (int band = 0; band < 18; ++band) CHECK(tc[band][p] == kOut);
  }
  CHECK(tc[18][1] == 8);
  CHECK(tc[18][2] == 0);
  CHECK(tc[18][3] == 3);
  CHECK(tc[18][4] == 4);

  // Pixel 5 equals the estimate from its 6 complete triplets alone.
  std::vector<double> x5, y5, z5;
  for (int t = 0; t < 8; ++t)
    if (t != 1 && t != 5) {
      x5.push_back(x[t][0]);
      y5.push_back(y[t][0]);
      z5.push_back(z[t][0]);
    }
  const TripleCollocation expected = triple_collocation(triple_covariance(x5, y5, z5), {0, 0.2, 4});
  REQUIRE(expected.status == CollocationStatus::Collocated);
  CHECK(tc[18][5] == 6);
  const auto pixel5 = as_datasets(5);
  for (int d = 0; d < 3; ++d) {
    INFO("dataset " << d);
    CHECK_THAT(pixel5[d].error_variance, WithinRel(expected.datasets[d].error_variance, 1e-4));
    CHECK_THAT(pixel5[d].r_truth, WithinRel(expected.datasets[d].r_truth, 1e-4));
    CHECK_THAT(pixel5[d].scaling, WithinRel(expected.datasets[d].scaling, 1e-4));
  }

  CHECK(out.at("COLLOCATED_PIXELS") == 7);
  CHECK(out.at("EMPTY_PIXELS") == 1);
  CHECK(out.at("FEW_OBSERVATIONS_PIXELS") == 1);
  CHECK(out.at("LOW_CORRELATION_PIXELS") == 2);
  CHECK(out.at("NEGATIVE_VARIANCE_PIXELS") == 1);
  CHECK(out.at("NON_FINITE_VALUES") == 2);
  // The sample holds every collocated pixel; six of seven are the hand triplet, so it is the median.
  const json& sample = out.at("SAMPLE");
  CHECK(sample.at("error_variance").at("y").size() == 7);
  CHECK_THAT(sample.at("r_truth").at("z")[0].get<double>(), WithinRel(std::sqrt(0.2), 1e-4));
  CHECK_THAT(out.at("MEDIAN_ERROR_STD_X").get<double>(), WithinRel(0.05 * std::sqrt(kEightSevenths), 1e-4));
  CHECK_THAT(out.at("MEDIAN_ERROR_STD_SCALED_Z").get<double>(), WithinRel(0.2 * std::sqrt(kEightSevenths), 1e-4));
  CHECK_THAT(out.at("MEDIAN_R_TRUTH_Y").get<double>(), WithinRel(std::sqrt(0.5), 1e-4));
  CHECK_THAT(out.at("MEDIAN_SNR_DB_Z").get<double>(), WithinAbs(10 * std::log10(0.25), 1e-3));

  // NAMES and SCALE_TO: y's units make s_X = 2, s_Z = 4 (β = 1 : 2 : 0.5).
  parameters.update({{"OUTPUT", dir.file("tc_y.tif")}, {"SCALE_TO", "y"}, {"NAMES", {"a", "b", "c"}}});
  run_command("triplecollocation", parameters);
  const auto scaled = read_stack(dir.file("tc_y.tif"));
  CHECK_THAT(scaled[15][0], WithinRel(2.0, 1e-4));
  CHECK_THAT(scaled[16][0], WithinRel(1.0, 1e-4));
  CHECK_THAT(scaled[17][0], WithinRel(4.0, 1e-4));
  CHECK_THAT(scaled[6][0], WithinRel(2 * 0.05 * std::sqrt(kEightSevenths), 1e-4));
  CHECK(read_descriptions(dir.file("tc_y.tif"))[1] == "error_variance y (b)");
}

// ---- triplecollocation TABLE -----------------------------------------------------------------------

TEST_CASE("triplecollocation TABLE: one collocation per group, sorted, with statuses and counts", "[collocation]") {
  // Group 2: the hand triplet (collocated); group 10: the negative-variance rows; "a": 3 rows (few);
  // "b": 4 rows with z constant (low correlation); null group: its only row misses y (empty).
  const HandTriplet hand = hand_triplet();
  json x = json::array(), y = json::array(), z = json::array(), groups = json::array();
  const auto add = [&](json group, json a, json b, json c) {
    groups.push_back(group);
    x.push_back(a);
    y.push_back(b);
    z.push_back(c);
  };
  for (int row = 0; row < 8; ++row) add(2, hand.x[row], hand.y[row], hand.z[row]);
  const double x4[4] = {1, 2, 3, 4}, y4[4] = {1, 3, 2, 6}, z4[4] = {2, 2, 4, 4};
  for (int row = 0; row < 4; ++row) add(10, x4[row], y4[row], z4[row]);
  for (int row = 0; row < 3; ++row) add("a", x4[row], y4[row], z4[row]);
  for (int row = 0; row < 4; ++row) add("b", x4[row], y4[row], 0.3);
  add(nullptr, 0.1, nullptr, 0.2);
  add(10, nullptr, 0.3, 0.3);  // skipped: group 10 keeps its 4 complete rows
  json parameters = {{"TABLE", {{"x", x}, {"y", y}, {"z", z}, {"groups", groups}}}, {"MIN_OBSERVATIONS", 4}};
  const auto run = run_command("triplecollocation", parameters);
  const json& out = run.outputs;
  CHECK(out.at("SKIPPED") == 2);
  CHECK(out.at("NAMES") == json({"x", "y", "z"}));
  CHECK(out.at("COLLOCATED_GROUPS") == 1);
  CHECK(out.at("NEGATIVE_VARIANCE_GROUPS") == 1);
  CHECK(out.at("FEW_OBSERVATIONS_GROUPS") == 1);
  CHECK(out.at("LOW_CORRELATION_GROUPS") == 1);
  CHECK(out.at("EMPTY_GROUPS") == 1);
  const json& table = out.at("GROUPS");
  REQUIRE(table.size() == 5);
  const std::vector<std::string> order = {"2", "10", "(none)", "a", "b"};
  const std::vector<std::string> statuses = {"collocated", "negative_variance", "empty", "few_observations",
                                             "low_correlation"};
  for (std::size_t g = 0; g < 5; ++g) {
    CHECK(table[g].at("group") == order[g]);
    CHECK(table[g].at("status") == statuses[g]);
  }
  CHECK(table[0].at("n") == 8);
  CHECK(table[1].at("n") == 4);
  CHECK(table[2].at("n") == 0);
  CHECK_THAT(table[0].at("pairwise_r").at("xz").get<double>(), WithinAbs(0.4, 1e-12));
  CHECK_THAT(table[1].at("pairwise_r").at("xy").get<double>(), WithinAbs(7 / std::sqrt(70.0), 1e-12));
  CHECK(table[1].at("x").at("error_variance").is_null());  // masked: no estimate
  CHECK(table[4].at("pairwise_r").at("xz").is_null());     // z constant
  std::array<CollocatedDataset, 3> datasets{};
  for (int d = 0; d < 3; ++d) {
    const json& fields = table[0].at(std::string(1, "xyz"[d]));
    datasets[d] = {fields.at("error_variance").get<double>(),   fields.at("error_std").get<double>(),
                   fields.at("error_std_scaled").get<double>(), fields.at("snr_db").get<double>(),
                   fields.at("r_truth").get<double>(),          fields.at("scaling").get<double>()};
  }
  check_hand_datasets(datasets, 1e-10);
  CHECK_THAT(out.at("MEDIAN_ERROR_STD_Y").get<double>(), WithinRel(0.2 * std::sqrt(kEightSevenths), 1e-10));
  CHECK_THAT(out.at("MEDIAN_R_TRUTH_X").get<double>(), WithinRel(std::sqrt(0.8), 1e-10));

  // Without groups: one collocation over every complete row, named "(all)".
  const auto all = run_command("triplecollocation", {{"TABLE", {{"x", hand.x}, {"y", hand.y}, {"z", hand.z}}},
                                                     {"MIN_OBSERVATIONS", 8},
                                                     {"NAMES", "smap ascat gldas"}});
  REQUIRE(all.outputs.at("GROUPS").size() == 1);
  CHECK(all.outputs.at("GROUPS")[0].at("group") == "(all)");
  CHECK(all.outputs.at("GROUPS")[0].at("status") == "collocated");
  CHECK(all.outputs.at("NAMES") == json({"smap", "ascat", "gldas"}));
  // Too few rows for the default 30: masked and counted, the medians null.
  const auto few = run_command("triplecollocation", {{"TABLE", {{"x", hand.x}, {"y", hand.y}, {"z", hand.z}}}});
  CHECK(few.outputs.at("FEW_OBSERVATIONS_GROUPS") == 1);
  CHECK(few.outputs.at("MEDIAN_ERROR_STD_X").is_null());
  CHECK_THAT(few.lines, Contains("no group could be collocated"));
}

// ---- bad inputs ------------------------------------------------------------------------------------

namespace {

json changed(json base, const json& changes) {
  base.update(changes);
  return base;
}

void require_input_error(const std::string& command, const json& parameters, const std::vector<std::string>& parts) {
  try {
    run_command(command, parameters);
    FAIL("no InputError for " << parameters.dump());
  } catch (const InputError& error) {
    const std::string message = error.what();
    INFO(message);
    for (const auto& part : parts) CHECK_THAT(message, Contains(part));
  }
}

}  // namespace

TEST_CASE("temporalmetrics: wrong inputs name the parameter, the value and what is valid", "[collocation]") {
  TempDir dir;
  const TemporalCase c = temporal_case();
  const auto estimate = write_input(dir, "estimate.tif", c.estimate, {}, dates(6));
  const auto reference = write_input(dir, "reference.tif", c.reference, {}, dates(6));
  const auto five = write_input(dir, "five.tif", std::vector<std::vector<float>>(5, std::vector<float>(12, 0.2f)));
  json base = temporal_parameters(dir, estimate, reference);
  base["MIN_OBSERVATIONS"] = 4;
  const auto with = [&](const json& changes) { return changed(base, changes); };

  require_input_error("temporalmetrics", with({{"REFERENCE_STACK", five}}), {"REFERENCE_STACK", "5 bands", "6"});
  require_input_error("temporalmetrics", with({{"MIN_OBSERVATIONS", 2}}), {"MIN_OBSERVATIONS", "2", "3 to 6"});
  require_input_error("temporalmetrics", with({{"MIN_OBSERVATIONS", 7}}), {"MIN_OBSERVATIONS", "7", "3 to 6"});
  json defaulted = base;
  defaulted.erase("MIN_OBSERVATIONS");
  require_input_error("temporalmetrics", defaulted, {"MIN_OBSERVATIONS", "10", "default", "6 bands", "3 to 6"});
  require_input_error("temporalmetrics", with({{"PERIOD", "1:2"}}), {"PERIOD", "2 bands", "at least 3"});
  require_input_error("temporalmetrics", with({{"PERIOD", "1:9"}}), {"PERIOD", "1:9", "1 to 6"});
  require_input_error("temporalmetrics", with({{"SIGNIFICANCE", 1}}), {"SIGNIFICANCE", "1", "between 0 and 1"});
  require_input_error("temporalmetrics", with({{"SIGNIFICANCE", 0}}), {"SIGNIFICANCE", "0", "between 0 and 1"});
  require_input_error("temporalmetrics", with({{"MAX_PLOT_PIXELS", -1}}), {"MAX_PLOT_PIXELS", "-1", "0 to 1000000"});
  require_input_error("temporalmetrics", with({{"SPATIAL_OUTPUT", dir.file("metrics.tif")}}),
                      {"SPATIAL_OUTPUT", "also OUTPUT"});
  require_input_error("temporalmetrics", with({{"SPATIAL_OUTPUT", dir.file("missing/s.csv")}}),
                      {"SPATIAL_OUTPUT", "missing"});
  require_input_error("temporalmetrics", with({{"REFERENCE", "X"}}), {"REFERENCE", "X", "ESTIMATE, REFERENCE_STACK"});
  require_input_error("temporalmetrics", with({{"ESTIMATE", {{"path", estimate}, {"band", 1}}}}), {"ESTIMATE", "band"});
  require_input_error("temporalmetrics", with({{"MIN_OBS", 4}}), {"MIN_OBS", "SIGNIFICANCE"});
  json missing = base;
  missing.erase("REFERENCE_STACK");
  require_input_error("temporalmetrics", missing, {"REFERENCE_STACK", "required"});
  // A failed run leaves no output behind.
  CHECK_FALSE(std::filesystem::exists(dir.file("metrics.tif")));
}

TEST_CASE("triplecollocation: wrong inputs name the parameter, the value and what is valid", "[collocation]") {
  TempDir dir;
  const HandTriplet hand = hand_triplet();
  std::vector<std::vector<float>> bands;
  for (double value : hand.x) bands.push_back(std::vector<float>(12, static_cast<float>(value)));
  const auto x = write_input(dir, "x.tif", bands);
  const auto seven = write_input(dir, "seven.tif", std::vector<std::vector<float>>(bands.begin(), bands.end() - 1));
  json stacks = {{"X", x}, {"Y", x}, {"Z", x}, {"OUTPUT", dir.file("tc.tif")}, {"MIN_OBSERVATIONS", 5}};
  const json table = {{"x", hand.x}, {"y", hand.y}, {"z", hand.z}};
  const auto with = [](const json& base, const json& changes) { return changed(base, changes); };

  require_input_error("triplecollocation", with(stacks, {{"Z", seven}}), {"Z", "7 bands", "8"});
  require_input_error("triplecollocation", with(stacks, {{"TABLE", table}}), {"TABLE", "X/Y/Z", "not both"});
  require_input_error("triplecollocation", json::object(), {"X, Y and Z", "TABLE"});
  json only_xy = stacks;
  only_xy.erase("Z");
  require_input_error("triplecollocation", only_xy, {"Z", "missing", "X, Y and Z"});
  require_input_error("triplecollocation", with(stacks, {{"SCALE_TO", "w"}}), {"SCALE_TO", "'w'", "x, y, z"});
  require_input_error("triplecollocation", with(stacks, {{"MIN_CORRELATION", 1.5}}),
                      {"MIN_CORRELATION", "1.5", "-1 to 1"});
  require_input_error("triplecollocation", with(stacks, {{"MIN_OBSERVATIONS", 2}}),
                      {"MIN_OBSERVATIONS", "2", "3 to 1000000000"});
  require_input_error("triplecollocation", with(stacks, {{"MIN_OBSERVATIONS", 9}}),
                      {"MIN_OBSERVATIONS", "9", "8 bands", "3 to 8"});
  json defaulted = stacks;
  defaulted.erase("MIN_OBSERVATIONS");
  require_input_error("triplecollocation", defaulted, {"MIN_OBSERVATIONS", "30", "default"});
  require_input_error("triplecollocation", with(stacks, {{"NAMES", {"a", "b"}}}), {"NAMES", "2 names", "three"});
  require_input_error("triplecollocation", with(stacks, {{"THREADS", -1}}), {"THREADS", "-1"});

  const json table_mode = {{"TABLE", table}, {"MIN_OBSERVATIONS", 5}};
  require_input_error("triplecollocation",
                      with(table_mode, {{"TABLE", {{"x", {1, 2, 3}}, {"y", {1, 2}}, {"z", {1, 2, 3}}}}}),
                      {"TABLE.y", "2 values", "TABLE.x has 3 values", "one value of x, y and z per row"});
  require_input_error("triplecollocation", with(table_mode, {{"TABLE", {{"x", {1}}, {"y", {1}}}}}),
                      {"TABLE.z", "nothing"});
  require_input_error("triplecollocation", with(table_mode, {{"TABLE", {{"x", {"a"}}, {"y", {1}}, {"z", {1}}}}}),
                      {"TABLE.x[0]", "\"a\"", "finite numbers"});
  require_input_error("triplecollocation",
                      with(table_mode, {{"TABLE", {{"x", {1}}, {"y", {1}}, {"z", {1}}, {"w", {1}}}}}),
                      {"TABLE", "'w'", "x, y, z and groups"});
  require_input_error("triplecollocation",
                      with(table_mode, {{"TABLE", {{"x", {1, 2}}, {"y", {1, 2}}, {"z", {1, 2}}, {"groups", {1}}}}}),
                      {"TABLE.groups", "1 value", "one group per row"});
  require_input_error("triplecollocation",
                      with(table_mode, {{"TABLE", {{"x", {1}}, {"y", {1}}, {"z", {1}}, {"groups", {true}}}}}),
                      {"TABLE.groups[0]", "true", "strings or numbers"});
  require_input_error("triplecollocation", with(table_mode, {{"TABLE", json::array()}}), {"TABLE", "object"});
  require_input_error("triplecollocation", with(table_mode, {{"OUTPUT", dir.file("t.tif")}}),
                      {"OUTPUT", "stacks mode", "TABLE"});
  require_input_error("triplecollocation", with(table_mode, {{"PERIOD", "1:5"}}), {"PERIOD", "stacks mode"});
  require_input_error("triplecollocation", with(table_mode, {{"MIN_OBSERVATIONS", 0}}),
                      {"MIN_OBSERVATIONS", "0", "3 to"});
}
