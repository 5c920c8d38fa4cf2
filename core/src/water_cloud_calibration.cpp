#include "smr/water_cloud_calibration.hpp"

#include "smr/kernels.hpp"
#include "smr/protocol.hpp"
#include "smr/training.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

namespace smr {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// Random starts of one fit draw from streams stream·kStreamStride + start, so no two fits of a
// cross-validation share a start.
constexpr std::uint64_t kStreamStride = 1u << 20;
// Re-fits that take in samples which the fitted A and B make valid again (SM objective).
constexpr int kMostInclusionRounds = 5;
// A start's A with the SM objective: at most this share of the largest A that keeps every fitted
// sample's σ⁰ above σ⁰_veg, so that eq. 6 is defined at the start.
constexpr double kStartShareOfLargestA = 0.5;

kernels::WaterCloudTerms terms_of(const WaterCloudValues& p, bool v1_is_vwc, const WaterCloudSample& s) {
  return kernels::water_cloud_terms(p[0], p[1], v1_is_vwc ? s.vwc : 1.0, s.vwc, s.angle);
}

// The soil backscatter in dB with the vegetation removed (paper 000 eq. 10), NaN where σ⁰ ≤ σ⁰_veg.
double soil_db(const WaterCloudValues& p, bool v1_is_vwc, const WaterCloudSample& s) {
  return kernels::linear_to_db(kernels::water_cloud_inversion(terms_of(p, v1_is_vwc, s), s.sigma0));
}

bool valid_for_inversion(const WaterCloudValues& p, bool v1_is_vwc, const WaterCloudSample& s) {
  return std::isfinite(soil_db(p, v1_is_vwc, s));
}

// The values of the free parameters map to (logA, B, C, D); the fixed ones keep their values.
class Parametrisation {
 public:
  explicit Parametrisation(const WaterCloudFitSettings& settings) : base_(settings.initial), fixed_(settings.fixed) {
    for (int i = 0; i < 4; ++i)
      if (!fixed_[static_cast<std::size_t>(i)]) free_.push_back(i);
  }
  Eigen::Index size() const { return static_cast<Eigen::Index>(free_.size()); }
  const std::vector<int>& free() const { return free_; }

  WaterCloudValues values(const Eigen::VectorXd& x) const {
    WaterCloudValues p = base_;
    for (Eigen::Index j = 0; j < size(); ++j) {
      const int i = free_[static_cast<std::size_t>(j)];
      p[static_cast<std::size_t>(i)] = i == 0 ? std::exp(x[j]) : x[j];
    }
    return p;
  }
  Eigen::VectorXd vector(const WaterCloudValues& p) const {
    Eigen::VectorXd x(size());
    for (Eigen::Index j = 0; j < size(); ++j) {
      const int i = free_[static_cast<std::size_t>(j)];
      x[j] = i == 0 ? std::log(p[0]) : p[static_cast<std::size_t>(i)];
    }
    return x;
  }

 private:
  WaterCloudValues base_;
  std::array<bool, 4> fixed_;
  std::vector<int> free_;  // indices 0..3 of the free parameters
};

// The objective's residuals (model minus observation) and their derivatives by (logA, B, C, D).
class Objective {
 public:
  Objective(const std::vector<WaterCloudSample>& samples, std::vector<Eigen::Index> active,
            const WaterCloudFitSettings& settings, const Parametrisation& parametrisation)
      : samples_(samples), active_(std::move(active)), settings_(settings), parametrisation_(parametrisation) {}

  bool feasible(const WaterCloudValues& p) const {
    if (!(p[0] >= kSmallestA && p[0] <= kLargestA) || !(p[1] >= 0.0 && p[1] <= kLargestB)) return false;
    if (!std::isfinite(p[2]) || !std::isfinite(p[3])) return false;
    return settings_.objective == WaterCloudObjective::Sigma0Db || p[3] > 0.0;
  }

  double residual(const WaterCloudValues& p, const WaterCloudSample& s) const {
    if (settings_.objective == WaterCloudObjective::Sigma0Db)
      return water_cloud_sigma0_db(p, settings_.v1_is_vwc, s) - kernels::linear_to_db(s.sigma0);
    return water_cloud_soil_moisture(p, settings_.v1_is_vwc, s) - s.soil_moisture;
  }

  void residuals(const Eigen::VectorXd& x, Eigen::VectorXd& e) const {
    const WaterCloudValues p = parametrisation_.values(x);
    e.resize(static_cast<Eigen::Index>(active_.size()));
    // Outside the bounds the error is not finite: the solver counts such a step as failed.
    if (!feasible(p)) {
      e.setConstant(kNaN);
      return;
    }
    for (std::size_t j = 0; j < active_.size(); ++j)
      e[static_cast<Eigen::Index>(j)] = residual(p, samples_[static_cast<std::size_t>(active_[j])]);
  }

  void jacobian(const Eigen::VectorXd& x, Eigen::MatrixXd& jacobian) const {
    const WaterCloudValues p = parametrisation_.values(x);
    jacobian.resize(static_cast<Eigen::Index>(active_.size()), parametrisation_.size());
    const double a = p[0], c = p[2], d = p[3];
    constexpr double k = kernels::kLn10Over10;  // d(linear)/d(dB) = k·linear
    for (std::size_t j = 0; j < active_.size(); ++j) {
      const WaterCloudSample& s = samples_[static_cast<std::size_t>(active_[j])];
      const double cos_theta = std::cos(s.angle * kernels::kDegToRad);
      const double v1 = settings_.v1_is_vwc ? s.vwc : 1.0;
      const auto terms = terms_of(p, settings_.v1_is_vwc, s);
      const double g = terms.attenuation, vegetation = terms.vegetation;
      const double dg_db = -2.0 * s.vwc / cos_theta * g;        // ∂γ²/∂B
      const double dveg_db = 2.0 * a * v1 * s.vwc * g;          // ∂σ⁰_veg/∂B = −A·V1·cosθ·∂γ²/∂B
      std::array<double, 4> row{};                              // ∂e/∂(logA, B, C, D)
      if (settings_.objective == WaterCloudObjective::Sigma0Db) {
        const double soil = kernels::db_to_linear(kernels::soil_backscatter_db(c, d, s.soil_moisture));
        const double total = kernels::water_cloud_forward(terms, soil);
        row = {vegetation / (k * total), (dveg_db + soil * dg_db) / (k * total), g * soil / total,
               s.soil_moisture * g * soil / total};
      } else {
        const double y = (s.sigma0 - vegetation) / g;  // σ⁰_soil, linear
        const double estimate = (std::log(y) / k - c) / d;
        const double dy_dloga = -vegetation / g;
        const double dy_db = -dveg_db / g - y * dg_db / g;
        row = {dy_dloga / (k * y * d), dy_db / (k * y * d), -1.0 / d, -estimate / d};
      }
      for (Eigen::Index f = 0; f < parametrisation_.size(); ++f)
        jacobian(static_cast<Eigen::Index>(j), f) = row[static_cast<std::size_t>(parametrisation_.free()[static_cast<std::size_t>(f)])];
    }
  }

 private:
  const std::vector<WaterCloudSample>& samples_;
  std::vector<Eigen::Index> active_;
  const WaterCloudFitSettings& settings_;
  const Parametrisation& parametrisation_;
};

// C and D of a start without given values: least squares of σ⁰_soil[dB] (inverted with the start's A
// and B) on SM over the samples where it is defined; a free D that would come out ≤ 0 with the SM
// objective (eq. 6 needs D > 0) starts at 20 dB per m³/m³.
void regress_soil_line(const std::vector<WaterCloudSample>& samples, const std::vector<Eigen::Index>& use,
                       const WaterCloudFitSettings& settings, bool set_c, bool set_d, WaterCloudValues& p) {
  std::vector<double> sm, level;
  for (const Eigen::Index i : use) {
    const double value = soil_db(p, settings.v1_is_vwc, samples[static_cast<std::size_t>(i)]);
    if (!std::isfinite(value)) continue;
    sm.push_back(samples[static_cast<std::size_t>(i)].soil_moisture);
    level.push_back(value);
  }
  double c = p[2], d = p[3];
  if (sm.empty()) {  // no sample to regress on: a typical C-band line
    for (const Eigen::Index i : use) {
      sm.push_back(samples[static_cast<std::size_t>(i)].soil_moisture);
      level.push_back(kernels::linear_to_db(samples[static_cast<std::size_t>(i)].sigma0));
    }
    if (set_d) d = 20.0;
    set_d = false;
  }
  const double n = static_cast<double>(sm.size());
  double mean_sm = 0.0, mean_level = 0.0;
  for (std::size_t i = 0; i < sm.size(); ++i) {
    mean_sm += sm[i] / n;
    mean_level += level[i] / n;
  }
  if (set_d) {
    double sxy = 0.0, sxx = 0.0;
    for (std::size_t i = 0; i < sm.size(); ++i) {
      const double x = set_c ? sm[i] - mean_sm : sm[i];
      const double y = set_c ? level[i] - mean_level : level[i] - c;
      sxy += x * y;
      sxx += x * x;
    }
    d = sxx > 0.0 ? sxy / sxx : 20.0;
    if (settings.objective == WaterCloudObjective::SoilMoisture && !(d > 1.0)) d = 20.0;
  }
  if (set_c) c = mean_level - d * mean_sm;
  if (std::isfinite(c)) p[2] = c;
  if (std::isfinite(d)) p[3] = d;
}

// The largest A (≤ kLargestA) at which every sample of `use` keeps σ⁰ > σ⁰_veg, for the start's B.
double largest_valid_a(const std::vector<WaterCloudSample>& samples, const std::vector<Eigen::Index>& use,
                       const WaterCloudValues& p, bool v1_is_vwc) {
  double largest = kLargestA;
  WaterCloudValues unit = p;
  unit[0] = 1.0;
  for (const Eigen::Index i : use) {
    const WaterCloudSample& s = samples[static_cast<std::size_t>(i)];
    const double vegetation_per_a = terms_of(unit, v1_is_vwc, s).vegetation;
    if (vegetation_per_a > 0.0) largest = std::min(largest, s.sigma0 / vegetation_per_a);
  }
  return largest;
}

std::vector<Eigen::Index> valid_samples(const std::vector<WaterCloudSample>& samples, const std::vector<Eigen::Index>& use,
                                        const WaterCloudValues& p, bool v1_is_vwc) {
  std::vector<Eigen::Index> valid;
  for (const Eigen::Index i : use)
    if (valid_for_inversion(p, v1_is_vwc, samples[static_cast<std::size_t>(i)])) valid.push_back(i);
  return valid;
}

struct Attempt {
  WaterCloudValues value{};
  double mse = std::numeric_limits<double>::infinity();
  int epochs = 0;
  std::string stop_reason;
};

Attempt minimise(const std::vector<WaterCloudSample>& samples, const std::vector<Eigen::Index>& active,
                 const WaterCloudFitSettings& settings, const WaterCloudValues& start) {
  WaterCloudFitSettings local = settings;
  local.initial = start;
  const Parametrisation parametrisation(local);
  const Objective objective(samples, active, local, parametrisation);
  Attempt attempt;
  if (!objective.feasible(start)) return attempt;
  if (parametrisation.size() == 0) {
    Eigen::VectorXd e;
    objective.residuals(Eigen::VectorXd(0), e);
    attempt.value = start;
    attempt.mse = e.size() > 0 ? e.squaredNorm() / static_cast<double>(e.size()) : 0.0;
    if (!std::isfinite(attempt.mse)) attempt.mse = std::numeric_limits<double>::infinity();
    attempt.stop_reason = "every parameter fixed";
    return attempt;
  }
  LevenbergMarquardt solver([&objective](const Eigen::VectorXd& x, Eigen::VectorXd& e) { objective.residuals(x, e); },
                            [&objective](const Eigen::VectorXd& x, Eigen::MatrixXd& j) { objective.jacobian(x, j); },
                            local.lm);
  const auto status = solver.minimize(parametrisation.vector(start));
  if (status == LevenbergMarquardtStatus::NumericalIssue && solver.epoch() == 0) return attempt;
  if (!std::isfinite(solver.mean_squared_error())) return attempt;
  attempt.value = parametrisation.values(solver.x());
  attempt.mse = solver.mean_squared_error();
  attempt.epochs = solver.epoch();
  attempt.stop_reason = stop_reason_text(status);
  return attempt;
}

}  // namespace

double water_cloud_sigma0_db(const WaterCloudValues& p, bool v1_is_vwc, const WaterCloudSample& sample) {
  const double soil = kernels::db_to_linear(kernels::soil_backscatter_db(p[2], p[3], sample.soil_moisture));
  return kernels::linear_to_db(kernels::water_cloud_forward(terms_of(p, v1_is_vwc, sample), soil));
}

double water_cloud_soil_moisture(const WaterCloudValues& p, bool v1_is_vwc, const WaterCloudSample& sample) {
  return kernels::soil_moisture_from_db(p[2], p[3], soil_db(p, v1_is_vwc, sample));
}

int WaterCloudFitSettings::free_count() const {
  return static_cast<int>(std::count(fixed.begin(), fixed.end(), false));
}

WaterCloudFit fit_water_cloud(const std::vector<WaterCloudSample>& samples, const std::vector<Eigen::Index>& use,
                              const WaterCloudFitSettings& settings, std::uint64_t stream,
                              const std::function<void()>& after_start) {
  const bool sm_objective = settings.objective == WaterCloudObjective::SoilMoisture;
  const int free = settings.free_count();
  // With the SM objective, eq. 6 must be defined for every fitted sample: the samples where σ⁰ ≤ σ⁰_veg
  // at the initial A and B are left out (and taken back in below when the fitted A and B allow).
  std::vector<Eigen::Index> active = sm_objective ? valid_samples(samples, use, settings.initial, settings.v1_is_vwc) : use;
  if (static_cast<int>(active.size()) < free + 1)
    throw InputError("SAMPLES: " + std::to_string(active.size()) + " of " + std::to_string(use.size()) +
                     " samples can be fitted" +
                     (sm_objective ? " (the others have σ⁰ ≤ σ⁰_veg at the initial A and B: lower A)" : "") +
                     ", but " + std::to_string(free) + " free parameters need at least " + std::to_string(free + 1));

  Attempt best;
  WaterCloudFit fit;
  const bool random_starts = !settings.fixed[0] || !settings.fixed[1];
  const int starts = random_starts ? std::max(1, settings.starts) : 1;  // with A and B fixed every start is the same
  for (int start = 0; start < starts; ++start) {
    WaterCloudValues p = settings.initial;
    std::mt19937_64 random = seeded_generator(settings.seed, stream * kStreamStride + static_cast<std::uint64_t>(start));
    if (start > 0) {
      std::uniform_real_distribution<double> unit(-1.0, 1.0);
      if (!settings.fixed[0]) p[0] = settings.initial[0] * std::exp(std::log(10.0) * unit(random));  // ×/÷ 10
      if (!settings.fixed[1])
        p[1] = settings.initial[1] > 0.0 ? settings.initial[1] * std::exp(std::log(3.0) * unit(random))  // ×/÷ 3
                                         : 0.1 * (1.0 + unit(random));
    }
    if (sm_objective && !settings.fixed[0])
      p[0] = std::min(p[0], kStartShareOfLargestA * largest_valid_a(samples, active, p, settings.v1_is_vwc));
    const bool set_c = !settings.fixed[2] && (start > 0 || !settings.given[2]);
    const bool set_d = !settings.fixed[3] && (start > 0 || !settings.given[3]);
    if (set_c || set_d) regress_soil_line(samples, active, settings, set_c, set_d, p);
    const Attempt attempt = minimise(samples, active, settings, p);
    if (attempt.mse < best.mse) {
      best = attempt;
      fit.best_start = start;
    }
    if (after_start) after_start();
  }
  if (!std::isfinite(best.mse))
    throw InputError("SAMPLES: no start of the fit reached a finite error; check the initial values of A, B, C, D "
                     "and that σ⁰ is in the unit SIGMA0_UNIT says");

  // Samples that the fitted A and B make valid again join the fit, from the fitted values.
  for (int round = 0; sm_objective && round < kMostInclusionRounds; ++round) {
    const std::vector<Eigen::Index> valid = valid_samples(samples, use, best.value, settings.v1_is_vwc);
    if (valid.size() <= active.size()) break;
    active = valid;
    const Attempt attempt = minimise(samples, active, settings, best.value);
    if (!std::isfinite(attempt.mse)) break;
    best = attempt;
  }

  fit.value = best.value;
  fit.mean_squared_error = best.mse;
  fit.epochs = best.epochs;
  fit.stop_reason = best.stop_reason;
  fit.fitted = static_cast<long long>(active.size());
  fit.excluded = static_cast<long long>(use.size() - active.size());
  fit.standard_error.fill(kNaN);

  // Standard errors from the Jacobian at the optimum: Cov(logA, B, C, D) = s²·(JᵀJ)⁻¹ over the free
  // parameters, s² = Σe²/(N − P); A's by the delta method, SE(A) = A·SE(logA).
  WaterCloudFitSettings local = settings;
  local.initial = best.value;
  const Parametrisation parametrisation(local);
  const auto m = static_cast<Eigen::Index>(active.size()), n = parametrisation.size();
  if (n > 0 && m > n) {
    const Objective objective(samples, active, local, parametrisation);
    const Eigen::VectorXd x = parametrisation.vector(best.value);
    Eigen::VectorXd e;
    Eigen::MatrixXd j;
    objective.residuals(x, e);
    objective.jacobian(x, j);
    const double s2 = e.squaredNorm() / static_cast<double>(m - n);
    const Eigen::MatrixXd gram = j.transpose() * j;
    // Judged on the correlation form, so that the parameters' different scales do not count as
    // ill-conditioning.
    const Eigen::VectorXd scale = gram.diagonal().cwiseSqrt();
    bool singular = !(scale.array() > 0.0).all() || !gram.allFinite();
    if (!singular) {
      const Eigen::MatrixXd correlation = scale.cwiseInverse().asDiagonal() * gram * scale.cwiseInverse().asDiagonal();
      const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eigen(correlation);
      singular = eigen.info() != Eigen::Success || !(eigen.eigenvalues().minCoeff() > 1e-12 * eigen.eigenvalues().maxCoeff());
      if (!singular) {
        const Eigen::MatrixXd covariance = s2 * gram.inverse();
        for (Eigen::Index f = 0; f < n; ++f) {
          const int i = parametrisation.free()[static_cast<std::size_t>(f)];
          const double se = std::sqrt(std::max(0.0, covariance(f, f)));
          fit.standard_error[static_cast<std::size_t>(i)] = i == 0 ? best.value[0] * se : se;
        }
      }
    }
    fit.singular = singular;
  }

  const WaterCloudValues& p = fit.value;
  if (!settings.fixed[0] && (p[0] < kLowA || p[0] > kHighA)) fit.at_bound.push_back("A");
  if (!settings.fixed[1] && (p[1] < kLowB || p[1] > kHighB)) fit.at_bound.push_back("B");
  if (sm_objective && !settings.fixed[3] && p[3] < kLowD) fit.at_bound.push_back("D");
  return fit;
}

}  // namespace smr
