// Calibration of the water cloud model's A, B, C, D against in-situ soil moisture (paper 002 eq. 1-6):
//   σ⁰ = σ⁰_veg + γ²·σ⁰_soil (linear),  γ² = exp(−2·B·VWC/cosθ),  σ⁰_veg = A·V1·cosθ·(1 − γ²),
//   σ⁰_soil[dB] = C + D·SM,  and inverted (eq. 6)  SM = (10·log10((σ⁰ − σ⁰_veg)/γ²) − C)/D,
// with V1 = VWC (paper 000) or 1 (paper 002). The values come from the same kernels as
// smr watercloudforward and watercloudinversion (smr/kernels.hpp). Fitted by our Levenberg–Marquardt
// on (logA, B, C, D), any of them held fixed, from several seeded starts, either in σ⁰ (dB: the model's
// σ⁰ at the in-situ SM against the observed) or in SM (eq. 6 against the in-situ SM, as paper 002).
#pragma once

#include "smr/levenberg_marquardt.hpp"

#include <Eigen/Dense>

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace smr {

struct WaterCloudSample {
  double sigma0 = 0.0;         // observed total σ⁰, linear power (> 0)
  double vwc = 0.0;            // vegetation water content, kg/m² (≥ 0)
  double angle = 0.0;          // incidence angle θ, degrees (0 to 89.9)
  double soil_moisture = 0.0;  // in situ, m³/m³
};

// Parameters in the order A, B, C, D everywhere (values, standard errors, fixed flags).
using WaterCloudValues = std::array<double, 4>;
inline const std::array<const char*, 4> kWaterCloudNames = {"A", "B", "C", "D"};

enum class WaterCloudObjective { Sigma0Db, SoilMoisture };

// Eq. 1-5: the model's total σ⁰ in dB at the sample's in-situ SM.
double water_cloud_sigma0_db(const WaterCloudValues& p, bool v1_is_vwc, const WaterCloudSample& sample);
// Eq. 6: SM from the observed σ⁰; NaN where σ⁰ ≤ σ⁰_veg (or D = 0).
double water_cloud_soil_moisture(const WaterCloudValues& p, bool v1_is_vwc, const WaterCloudSample& sample);

// Where a fitted parameter counts as run to a bound (AT_BOUND): A below kLowA or above kHighA (logA
// runs off), B below kLowB (no attenuation) or above kHighB (an opaque canopy), D below kLowD with the
// SM objective (eq. 6 divides by D). The fit itself never leaves A in [kSmallestA, kLargestA], B in
// [0, kLargestB], nor, with the SM objective, D > 0.
inline constexpr double kSmallestA = 1e-9, kLargestA = 1e4, kLargestB = 50.0;
inline constexpr double kLowA = 1e-6, kHighA = 100.0, kLowB = 1e-4, kHighB = 10.0, kLowD = 1e-3;

struct WaterCloudFitSettings {
  WaterCloudValues initial = {0.1, 0.084, 0.0, 0.0};  // initial values of free, values of fixed parameters
  std::array<bool, 4> fixed = {false, false, false, false};
  // C and D without an initial value start from the regression of σ⁰_soil[dB] (inverted with the
  // start's A and B) on SM; fixed ones must have a value.
  std::array<bool, 4> given = {true, true, false, false};
  bool v1_is_vwc = true;
  WaterCloudObjective objective = WaterCloudObjective::SoilMoisture;
  int starts = 10;
  std::uint64_t seed = 1;
  LevenbergMarquardtParams lm;  // the defaults below suit the four parameters

  WaterCloudFitSettings() {
    lm.max_epochs = 1000;
    lm.min_gradient = 0.0;  // stop when no step lowers the error (mu_max): full precision
  }
  int free_count() const;
};

struct WaterCloudFit {
  WaterCloudValues value{};
  WaterCloudValues standard_error{};  // NaN for a fixed parameter or where JᵀJ is singular
  double mean_squared_error = 0.0;    // of the objective, at the optimum
  int best_start = 0;                 // 0-based
  int epochs = 0;
  std::string stop_reason;
  long long fitted = 0;    // samples in the fit
  long long excluded = 0;  // SM objective: σ⁰ ≤ σ⁰_veg, left out of the fit
  bool singular = false;   // JᵀJ not invertible: standard errors undefined
  std::vector<std::string> at_bound;  // names of the parameters run to a bound
};

// Fits the samples `use` (indices into `samples`). `stream` separates the random starts of several
// fits with one seed (the folds of a cross-validation). `after_start` is called after each start
// (progress, cancel). The caller checks the counts (at least free parameters + 1 samples; SM not
// constant); what remains is an InputError naming SAMPLES.
WaterCloudFit fit_water_cloud(const std::vector<WaterCloudSample>& samples, const std::vector<Eigen::Index>& use,
                              const WaterCloudFitSettings& settings, std::uint64_t stream,
                              const std::function<void()>& after_start = {});

}  // namespace smr
