#include "smr/levenberg_marquardt.hpp"

#include "smr/protocol.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <exception>
#include <limits>
#include <utility>

namespace smr {

namespace {

// The lower triangle of JᵀJ (what the Cholesky factorisation reads), by blocks of columns. Every block is one product whose
// shape does not depend on the thread count, so the result has the same bits for any number of threads.
// Below ~30 M multiply-adds one thread is faster than a parallel region. `buffers`: one per thread.
constexpr Eigen::Index kGramBlock = 32;

bool gram_in_parallel(Eigen::Index rows, Eigen::Index columns) { return rows * columns * columns > (Eigen::Index(1) << 25); }

void lower_gram(const Eigen::MatrixXd& j, Eigen::MatrixXd& gram, std::vector<ProductBuffers>& buffers) {
  constexpr Eigen::Index kBlock = kGramBlock;
  const Eigen::Index n = j.cols();
  gram.resize(n, n);
  const Eigen::Index blocks = (n + kBlock - 1) / kBlock;
  const auto block = [&](Eigen::Index b, ProductBuffers& scratch) {
    const Eigen::Index first = b * kBlock, width = std::min(kBlock, n - first);
    multiply(gram.block(first, first, n - first, width), j.rightCols(n - first).transpose(), j.middleCols(first, width),
             scratch);
  };
  // Not even an inactive parallel region when serial: libgomp allocates a team for each one.
  if (!gram_in_parallel(j.rows(), n)) {
    if (buffers.empty()) buffers.resize(1);
    for (Eigen::Index b = 0; b < blocks; ++b) block(b, buffers.front());
    return;
  }
  const auto threads = static_cast<std::size_t>(std::max(1, omp_get_max_threads()));
  if (buffers.size() < threads) buffers.resize(threads);
  // An exception must not leave a parallel region (std::terminate): the first one is kept, rethrown.
  std::exception_ptr failure;
#pragma omp parallel for schedule(dynamic, 1)
  for (Eigen::Index b = 0; b < blocks; ++b) {
    try {
      block(b, buffers[static_cast<std::size_t>(omp_get_thread_num())]);
    } catch (...) {
#pragma omp critical(smr_gram_failure)
      if (!failure) failure = std::current_exception();
    }
  }
  if (failure) std::rethrow_exception(failure);
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

double LevenbergMarquardt::bytes(Eigen::Index residuals, Eigen::Index parameters, int threads) {
  const auto m = static_cast<double>(residuals), n = static_cast<double>(parameters);
  const double gram_threads = gram_in_parallel(residuals, parameters) ? std::max(1, threads) : 1;
  return (m * n + 3.0 * n * n + 3.0 * m + 4.0 * n) * sizeof(double) +
         gram_threads * ProductBuffers::bytes(parameters, std::min<Eigen::Index>(kGramBlock, parameters), residuals);
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
  lower_gram(j_, jtj_, gram_buffers_);
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
  while (mu_ <= params_.mu_max) {
    damped_ = jtj_;
    damped_.diagonal().array() += mu_;
    // JᵀJ + μI is symmetric positive definite for μ > 0: Cholesky is the cheapest solver, and when
    // rounding makes it fail the step counts as failed and μ grows, as trainlm does.
    cholesky_.compute(damped_);
    if (cholesky_.info() == Eigen::Success) {
      delta_ = cholesky_.solve(jte_);
      candidate_ = x_ - delta_;
      const double candidate_mse = candidate_.allFinite() ? evaluate(candidate_, candidate_residuals_)
                                                          : std::numeric_limits<double>::quiet_NaN();
      if (candidate_mse < mse_) {  // false for NaN: a step into non-finite territory is a failed step
        x_.swap(candidate_);
        e_.swap(candidate_residuals_);
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
