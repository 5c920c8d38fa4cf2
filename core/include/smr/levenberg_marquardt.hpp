// Levenberg–Marquardt least squares as MATLAB's trainlm runs it (DESIGN §6): each epoch solves
// (JᵀJ + μI)·dx = −Jᵀe, raising μ ×mu_inc until the mean squared error falls, then lowering it ×mu_dec.
// The caller drives it epoch by epoch (init/step), so a trainer can check a validation set between
// epochs and keep the weights of its minimum.
#pragma once

#include "smr/eigen_products.hpp"

#include <Eigen/Dense>

#include <functional>
#include <string>
#include <vector>

namespace smr {

struct LevenbergMarquardtParams {
  int max_epochs = 1000;        // 'epochs': epochs at most
  double goal = 0.0;            // 'goal': stop once the mean squared error is ≤ goal
  double min_gradient = 1e-7;   // 'min_grad': stop once ‖2·Jᵀe‖ < min_gradient
  double mu = 1e-3;             // 'mu': initial damping
  double mu_dec = 0.1;          // 'mu_dec': factor after a successful step, in (0, 1)
  double mu_inc = 10.0;         // 'mu_inc': factor after a failed step, > 1
  double mu_max = 1e10;         // 'mu_max': stop once μ exceeds it

  // Throws InputError naming the first invalid field, e.g. "'mu_inc' must be greater than 1".
  void validate() const;
};

enum class LevenbergMarquardtStatus {
  Running,         // step() may be called again
  GoalReached,     // mean squared error ≤ goal
  MinimumGradient, // ‖2·Jᵀe‖ < min_gradient
  MaximumEpochs,   // max_epochs steps done
  MaximumMu,       // no damping up to mu_max lowered the error
  NumericalIssue,  // the residuals or the Jacobian are not finite
};

std::string stop_reason_text(LevenbergMarquardtStatus status);

class LevenbergMarquardt {
 public:
  // e(x): residuals (m), model minus observation. J(x): ∂e/∂x (m × n), one row per residual.
  using Residuals = std::function<void(const Eigen::VectorXd& x, Eigen::VectorXd& residuals)>;
  using Jacobian = std::function<void(const Eigen::VectorXd& x, Eigen::MatrixXd& jacobian)>;

  LevenbergMarquardt(Residuals residuals, Jacobian jacobian, LevenbergMarquardtParams params);

  // Bytes the solver holds for m residuals and n parameters: the Jacobian (m × n), JᵀJ, JᵀJ + μI and
  // its Cholesky factor (n × n each), the vectors, and JᵀJ's product blocks on `threads` threads.
  static double bytes(Eigen::Index residuals, Eigen::Index parameters, int threads = 1);

  LevenbergMarquardtStatus init(const Eigen::VectorXd& start);
  LevenbergMarquardtStatus step();  // one epoch
  LevenbergMarquardtStatus minimize(const Eigen::VectorXd& start);  // init, then step until done

  const Eigen::VectorXd& x() const { return x_; }
  double mean_squared_error() const { return mse_; }
  double gradient_norm() const { return gradient_norm_; }
  double mu() const { return mu_; }
  int epoch() const { return epoch_; }
  LevenbergMarquardtStatus status() const { return status_; }

 private:
  double evaluate(const Eigen::VectorXd& x, Eigen::VectorXd& residuals) const;  // MSE, NaN if not finite
  LevenbergMarquardtStatus linearise();  // J, JᵀJ, Jᵀe and the gradient at x_
  LevenbergMarquardtStatus check_stop();

  // Every buffer is a member, sized by init() and reused by each step: an epoch allocates nothing
  // (see bytes()).
  Residuals residuals_;
  Jacobian jacobian_;
  LevenbergMarquardtParams params_;
  Eigen::VectorXd x_;          // parameters (n)
  Eigen::VectorXd e_;          // residuals at x_ (m)
  Eigen::MatrixXd j_;          // Jacobian at x_ (m × n)
  Eigen::MatrixXd jtj_;        // JᵀJ (n × n), lower triangle
  Eigen::VectorXd jte_;        // Jᵀe (n)
  Eigen::MatrixXd damped_;     // JᵀJ + μI (n × n)
  Eigen::LLT<Eigen::MatrixXd> cholesky_;  // its factor (n × n)
  Eigen::VectorXd delta_;      // (JᵀJ + μI)⁻¹Jᵀe (n)
  Eigen::VectorXd candidate_;  // x_ − delta_ (n)
  Eigen::VectorXd candidate_residuals_;  // at candidate_ (m)
  std::vector<ProductBuffers> gram_buffers_;  // JᵀJ's product blocks, one per thread
  double mse_ = 0.0;
  double gradient_norm_ = 0.0;
  double mu_ = 0.0;
  int epoch_ = 0;
  LevenbergMarquardtStatus status_ = LevenbergMarquardtStatus::Running;
};

}  // namespace smr
