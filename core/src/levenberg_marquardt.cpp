#include "smr/levenberg_marquardt.hpp"

#include "smr/protocol.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

namespace smr {

namespace {

// The lower triangle of JᵀJ (what the Cholesky factorisation reads), by blocks of columns. Every block is one product whose
// shape does not depend on the thread count, so the result has the same bits for any number of threads.
// Below ~30 M multiply-adds one thread is faster than a parallel region.
void lower_gram(const Eigen::MatrixXd& j, Eigen::MatrixXd& gram) {
  constexpr Eigen::Index kBlock = 32;
  const Eigen::Index n = j.cols();
  gram.resize(n, n);
  const Eigen::Index blocks = (n + kBlock - 1) / kBlock;
#pragma omp parallel for schedule(dynamic, 1) if (j.rows() * n * n > (Eigen::Index(1) << 25))
  for (Eigen::Index b = 0; b < blocks; ++b) {
    const Eigen::Index first = b * kBlock, width = std::min(kBlock, n - first);
    gram.block(first, first, n - first, width).noalias() =
        j.rightCols(n - first).transpose() * j.middleCols(first, width);
  }
}

}  // namespace

void LevenbergMarquardtParams::validate() const {
  const auto require = [](bool condition, const char* message) {
    if (!condition) throw InputError(message);
  };
  require(max_epochs >= 0, "'max_epochs' must not be negative");
  require(std::isfinite(goal) && goal >= 0.0, "'goal' must be a finite number ≥ 0");
  require(std::isfinite(min_gradient) && min_gradient >= 0.0, "'min_gradient' must be a finite number ≥ 0");
  require(std::isfinite(mu) && mu > 0.0, "'mu' must be positive");
  require(mu_dec > 0.0 && mu_dec < 1.0, "'mu_dec' must lie between 0 and 1");
  require(std::isfinite(mu_inc) && mu_inc > 1.0, "'mu_inc' must be greater than 1");
  require(std::isfinite(mu_max) && mu_max >= mu, "'mu_max' must be finite and at least 'mu'");
}

std::string stop_reason_text(LevenbergMarquardtStatus status) {
  switch (status) {
    case LevenbergMarquardtStatus::Running: return "running";
    case LevenbergMarquardtStatus::GoalReached: return "performance goal met";
    case LevenbergMarquardtStatus::MinimumGradient: return "minimum gradient reached";
    case LevenbergMarquardtStatus::MaximumEpochs: return "maximum epochs reached";
    case LevenbergMarquardtStatus::MaximumMu: return "maximum mu reached";
    case LevenbergMarquardtStatus::NumericalIssue: return "residuals or Jacobian not finite";
  }
  return "unknown";
}

LevenbergMarquardt::LevenbergMarquardt(Residuals residuals, Jacobian jacobian, LevenbergMarquardtParams params)
    : residuals_(std::move(residuals)), jacobian_(std::move(jacobian)), params_(params) {
  params_.validate();
}

double LevenbergMarquardt::evaluate(const Eigen::VectorXd& x, Eigen::VectorXd& residuals) const {
  residuals_(x, residuals);
  if (residuals.size() == 0) return 0.0;
  const double mse = residuals.squaredNorm() / static_cast<double>(residuals.size());
  return std::isfinite(mse) ? mse : std::numeric_limits<double>::quiet_NaN();
}

LevenbergMarquardtStatus LevenbergMarquardt::linearise() {
  jacobian_(x_, j_);
  if (!j_.allFinite()) return LevenbergMarquardtStatus::NumericalIssue;
  lower_gram(j_, jtj_);
  jte_.noalias() = j_.transpose() * e_;
  gradient_norm_ = 2.0 * jte_.norm();
  return LevenbergMarquardtStatus::Running;
}

LevenbergMarquardtStatus LevenbergMarquardt::check_stop() {
  if (mse_ <= params_.goal) return LevenbergMarquardtStatus::GoalReached;
  if (gradient_norm_ < params_.min_gradient) return LevenbergMarquardtStatus::MinimumGradient;
  if (mu_ > params_.mu_max) return LevenbergMarquardtStatus::MaximumMu;
  if (epoch_ >= params_.max_epochs) return LevenbergMarquardtStatus::MaximumEpochs;
  return LevenbergMarquardtStatus::Running;
}

LevenbergMarquardtStatus LevenbergMarquardt::init(const Eigen::VectorXd& start) {
  x_ = start;
  mu_ = params_.mu;
  epoch_ = 0;
  mse_ = evaluate(x_, e_);
  if (std::isnan(mse_)) return status_ = LevenbergMarquardtStatus::NumericalIssue;
  if ((status_ = linearise()) != LevenbergMarquardtStatus::Running) return status_;
  return status_ = check_stop();
}

LevenbergMarquardtStatus LevenbergMarquardt::step() {
  if (status_ != LevenbergMarquardtStatus::Running) return status_;
  Eigen::VectorXd candidate_residuals;
  while (mu_ <= params_.mu_max) {
    Eigen::MatrixXd damped = jtj_;
    damped.diagonal().array() += mu_;
    // JᵀJ + μI is symmetric positive definite for μ > 0: Cholesky is the cheapest solver, and when
    // rounding makes it fail the step counts as failed and μ grows, as trainlm does.
    const Eigen::LLT<Eigen::MatrixXd> solver(damped);
    if (solver.info() == Eigen::Success) {
      const Eigen::VectorXd candidate = x_ - solver.solve(jte_);
      const double candidate_mse = candidate.allFinite() ? evaluate(candidate, candidate_residuals)
                                                         : std::numeric_limits<double>::quiet_NaN();
      if (candidate_mse < mse_) {  // false for NaN: a step into non-finite territory is a failed step
        x_ = candidate;
        e_.swap(candidate_residuals);
        mse_ = candidate_mse;
        mu_ = std::max(mu_ * params_.mu_dec, 1e-20);
        ++epoch_;
        if ((status_ = linearise()) != LevenbergMarquardtStatus::Running) return status_;
        return status_ = check_stop();
      }
    }
    mu_ *= params_.mu_inc;
  }
  ++epoch_;
  return status_ = LevenbergMarquardtStatus::MaximumMu;
}

LevenbergMarquardtStatus LevenbergMarquardt::minimize(const Eigen::VectorXd& start) {
  init(start);
  while (status_ == LevenbergMarquardtStatus::Running) step();
  return status_;
}

}  // namespace smr
