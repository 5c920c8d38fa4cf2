// Per-pixel physics of the papers in shared/seeds. Each function is pure and returns NaN where its
// equation is undefined (zero denominator, σ⁰ ≤ σ⁰_veg, log of a non-positive number); the raster
// engine turns NaN into nodata and counts it, so no singular case is ever clamped silently.
#pragma once

#include <cmath>
#include <limits>
#include <vector>

namespace smr::kernels {

inline constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
inline constexpr double kDegToRad = 3.14159265358979323846 / 180.0;

// (a − b)/(a + b); the shared shape of NDVI, NDMI, NDWI, NSDSI3 and MPDI.
inline double normalized_difference(double a, double b) {
  const double sum = a + b;
  return sum == 0.0 ? kNaN : (a - b) / sum;
}

// Paper 000 eq. 4.
inline double ndvi(double nir, double red) { return normalized_difference(nir, red); }
// Paper 000 eq. 5 (MIR = SWIR1, 1.6 µm).
inline double ndmi(double nir, double swir1) { return normalized_difference(nir, swir1); }
// Paper 000 eq. 6 (McFeeters 1996).
inline double ndwi(double green, double nir) { return normalized_difference(green, nir); }

// Enhanced vegetation index, 2.5·(NIR − RED)/(NIR + 6·RED − 7.5·BLUE + 1), reflectances in [0, 1].
inline double evi(double nir, double red, double blue) {
  const double denominator = nir + 6.0 * red - 7.5 * blue + 1.0;
  return denominator == 0.0 ? kNaN : 2.5 * (nir - red) / denominator;
}

// Paper 003 NSDSI, three definitions found in the literature (DESIGN §5); S1 = SWIR 1.6 µm, S2 = 2.1 µm.
inline double nsdsi1(double s1, double s2) { return s1 == 0.0 ? kNaN : (s1 - s2) / s1; }
inline double nsdsi2(double s1, double s2) { return s2 == 0.0 ? kNaN : (s1 - s2) / s2; }
inline double nsdsi3(double s1, double s2) { return normalized_difference(s1, s2); }

// Paper 003: microwave polarisation difference index from brightness temperatures (K).
inline double mpdi(double tbv, double tbh) { return normalized_difference(tbv, tbh); }

// Σ cₖ·xᵏ by Horner's rule; coefficients[0] is the constant term.
inline double polynomial(const std::vector<double>& coefficients, double x) {
  double value = 0.0;
  for (auto it = coefficients.rbegin(); it != coefficients.rend(); ++it) value = value * x + *it;
  return value;
}

// Vegetation water content (kg/m²), paper 000 eq. 7, 8, 9, as polynomial coefficients c0, c1, c2.
inline const std::vector<double> kVwcFromNdvi = {0.0, -0.3215, 1.9134};  // 1.9134·NDVI² − 0.3215·NDVI
inline const std::vector<double> kVwcFromNdmi = {0.32, 2.15};            // 2.15·NDMI + 0.32
inline const std::vector<double> kVwcFromNdwi = {0.34, 1.36, 1.44};      // 1.44·NDWI² + 1.36·NDWI + 0.34
inline double vwc_from_ndvi(double x) { return polynomial(kVwcFromNdvi, x); }
inline double vwc_from_ndmi(double x) { return polynomial(kVwcFromNdmi, x); }
inline double vwc_from_ndwi(double x) { return polynomial(kVwcFromNdwi, x); }

// 10^(dB/10) written as exp(dB·ln10/10): the same value to the last bits, several times cheaper than pow.
inline constexpr double kLn10Over10 = 0.23025850929940458;  // ln(10)/10
inline double db_to_linear(double db) { return std::exp(db * kLn10Over10); }
// 10·log10(x) written as (10/ln10)·ln(x): glibc's log is much faster than its log10, same value to 1 ulp.
inline constexpr double kTenOverLn10 = 4.3429448190325182;  // 10/ln(10)
inline double linear_to_db(double linear) { return linear > 0.0 ? kTenOverLn10 * std::log(linear) : kNaN; }

// Water cloud model terms (paper 000 eq. 1–3, with its eq. 2 typo read as cosθ·(1 − γ²); paper 002
// eq. 2, 4, 5). Linear units; the angle in degrees; v1 is VWC (paper 000) or 1 (paper 002); v2 = VWC.
struct WaterCloudTerms {
  double attenuation;  // γ², two-way, dimensionless in (0, 1] for B·V2 ≥ 0
  double vegetation;   // σ⁰_veg, linear
};

inline WaterCloudTerms water_cloud_terms(double a, double b, double v1, double v2, double angle_deg) {
  const double cos_theta = std::cos(angle_deg * kDegToRad);
  if (!(cos_theta > 1e-9)) return {kNaN, kNaN};  // grazing or beyond: secθ is unbounded
  const double attenuation = std::exp(-2.0 * b * v2 / cos_theta);
  return {attenuation, a * v1 * cos_theta * (1.0 - attenuation)};
}

// σ⁰ = σ⁰_veg + γ²·σ⁰_soil (paper 000 eq. 1), linear.
inline double water_cloud_forward(const WaterCloudTerms& terms, double sigma_soil_linear) {
  return terms.vegetation + terms.attenuation * sigma_soil_linear;
}

// σ⁰_soil = (σ⁰ − σ⁰_veg)/γ² (paper 000 eq. 10), linear. Undefined where σ⁰ ≤ σ⁰_veg: no soil
// backscatter can explain a total that the vegetation alone already reaches.
inline double water_cloud_inversion(const WaterCloudTerms& terms, double sigma_total_linear) {
  if (!(sigma_total_linear > terms.vegetation) || !(terms.attenuation > 0.0)) return kNaN;
  return (sigma_total_linear - terms.vegetation) / terms.attenuation;
}

// Paper 002 eq. 3: σ⁰_soil[dB] = C + D·SM (SM in m³/m³), and its inverse (eq. 6).
inline double soil_backscatter_db(double c, double d, double soil_moisture) { return c + d * soil_moisture; }
inline double soil_moisture_from_db(double c, double d, double sigma_soil_db) {
  return d == 0.0 ? kNaN : (sigma_soil_db - c) / d;
}

}  // namespace smr::kernels
