// Kernels against values worked out from the equations they implement (equation numbers of shared/seeds).
#include "smr/kernels.hpp"

#include <catch2/catch.hpp>

#include <cmath>

using namespace smr::kernels;
using Catch::Matchers::WithinRel;

TEST_CASE("normalised-difference indices follow paper 000 eq. 4-6", "[kernels]") {
  CHECK_THAT(ndvi(0.5, 0.1), WithinRel(0.4 / 0.6, 1e-12));      // eq. 4: (NIR − RED)/(NIR + RED)
  CHECK_THAT(ndmi(0.4, 0.2), WithinRel(0.2 / 0.6, 1e-12));      // eq. 5: (NIR − MIR)/(NIR + MIR)
  CHECK_THAT(ndwi(0.1, 0.3), WithinRel(-0.5, 1e-12));           // eq. 6: (GREEN − NIR)/(GREEN + NIR)
  CHECK(std::isnan(ndvi(0.0, 0.0)));                            // zero denominator
  CHECK(std::isnan(ndwi(0.2, -0.2)));
}

TEST_CASE("EVI, NSDSI variants and MPDI", "[kernels]") {
  // 2.5·0.4/(0.5 + 0.6 − 0.375 + 1) = 1/1.725
  CHECK_THAT(evi(0.5, 0.1, 0.05), WithinRel(1.0 / 1.725, 1e-12));
  CHECK(std::isnan(evi(0.0, 0.0, 1.0 / 7.5)));
  CHECK_THAT(nsdsi1(0.3, 0.2), WithinRel(0.1 / 0.3, 1e-12));  // (S1 − S2)/S1
  CHECK_THAT(nsdsi2(0.3, 0.2), WithinRel(0.5, 1e-12));        // (S1 − S2)/S2
  CHECK_THAT(nsdsi3(0.3, 0.2), WithinRel(0.2, 1e-12));        // (S1 − S2)/(S1 + S2)
  CHECK(std::isnan(nsdsi1(0.0, 0.2)));
  CHECK(std::isnan(nsdsi2(0.3, 0.0)));
  CHECK_THAT(mpdi(260.0, 240.0), WithinRel(0.04, 1e-12));    // paper 003: 20/500
  CHECK(std::isnan(mpdi(0.0, 0.0)));
}

TEST_CASE("vegetation water content follows paper 000 eq. 7-9", "[kernels]") {
  CHECK_THAT(vwc_from_ndvi(0.5), WithinRel(1.9134 * 0.25 - 0.3215 * 0.5, 1e-12));  // 0.3176
  CHECK_THAT(vwc_from_ndvi(0.5), WithinRel(0.3176, 1e-12));
  CHECK_THAT(vwc_from_ndmi(0.3), WithinRel(0.965, 1e-12));
  CHECK_THAT(vwc_from_ndwi(-0.2), WithinRel(0.1256, 1e-12));  // 0.0576 − 0.272 + 0.34
  CHECK_THAT(polynomial({0.34, 1.36, 1.44}, -0.2), WithinRel(vwc_from_ndwi(-0.2), 1e-12));
  CHECK(polynomial({2.0}, 123.0) == 2.0);
}

TEST_CASE("dB conversion", "[kernels]") {
  CHECK_THAT(db_to_linear(-10.0), WithinRel(0.1, 1e-12));
  CHECK_THAT(linear_to_db(0.01), WithinRel(-20.0, 1e-12));
  CHECK(std::isnan(linear_to_db(0.0)));
  CHECK(std::isnan(linear_to_db(-1.0)));
  CHECK_THAT(linear_to_db(db_to_linear(-17.3)), WithinRel(-17.3, 1e-12));
}

TEST_CASE("water cloud terms match paper 000 eq. 2-3 worked by hand", "[kernels][wcm]") {
  // A = 0.12, B = 0.09, VWC = 2 kg/m², θ = 40°: γ² = exp(−0.36/cos 40°), σ⁰_veg = A·VWC·cos 40°·(1 − γ²)
  const auto terms = water_cloud_terms(0.12, 0.09, 2.0, 2.0, 40.0);
  CHECK_THAT(terms.attenuation, WithinRel(0.6250356291943351, 1e-12));
  CHECK_THAT(terms.vegetation, WithinRel(0.06893744942958804, 1e-12));
  // Paper 002 eq. 2 convention: V1 = 1 halves σ⁰_veg for VWC = 2.
  CHECK_THAT(water_cloud_terms(0.12, 0.09, 1.0, 2.0, 40.0).vegetation, WithinRel(0.03446872471479402, 1e-12));
  // σ⁰_soil = −12 dB: total = σ⁰_veg + γ²·σ⁰_soil = 0.108374531… (−9.6507 dB)
  const double total = water_cloud_forward(terms, db_to_linear(-12.0));
  CHECK_THAT(total, WithinRel(0.10837453150978449, 1e-12));
  CHECK_THAT(linear_to_db(total), WithinRel(-9.650727669150891, 1e-10));
  // No vegetation: no attenuation, no vegetation term.
  const auto bare = water_cloud_terms(0.12, 0.09, 0.0, 0.0, 35.0);
  CHECK(bare.attenuation == 1.0);
  CHECK(bare.vegetation == 0.0);
  CHECK(std::isnan(water_cloud_terms(0.12, 0.09, 1.0, 1.0, 90.0).attenuation));
}

TEST_CASE("water cloud inversion (paper 000 eq. 10) inverts the forward model", "[kernels][wcm]") {
  for (double vwc : {0.0, 0.3, 1.0, 2.5, 4.0})
    for (double angle : {20.0, 33.3, 45.0, 60.0})
      for (double soil_db : {-25.0, -15.0, -8.0, -2.0}) {
        const auto terms = water_cloud_terms(0.12, 0.09, vwc, vwc, angle);
        const double total = water_cloud_forward(terms, db_to_linear(soil_db));
        INFO("vwc " << vwc << " angle " << angle << " soil " << soil_db);
        CHECK_THAT(linear_to_db(water_cloud_inversion(terms, total)), WithinRel(soil_db, 1e-9));
      }
}

TEST_CASE("inversion is undefined where the total does not exceed the vegetation term", "[kernels][wcm]") {
  const auto terms = water_cloud_terms(0.12, 0.09, 2.0, 2.0, 40.0);
  CHECK(std::isnan(water_cloud_inversion(terms, terms.vegetation)));
  CHECK(std::isnan(water_cloud_inversion(terms, 0.5 * terms.vegetation)));
  CHECK(std::isnan(water_cloud_inversion(terms, kNaN)));
  CHECK(water_cloud_inversion(terms, terms.vegetation * 1.0001) > 0.0);
}

TEST_CASE("soil term of paper 002 eq. 3 and its inverse eq. 6", "[kernels]") {
  CHECK_THAT(soil_backscatter_db(-17.0, 28.0, 0.25), WithinRel(-10.0, 1e-12));
  CHECK_THAT(soil_moisture_from_db(-17.0, 28.0, -10.0), WithinRel(0.25, 1e-12));
  CHECK(std::isnan(soil_moisture_from_db(-17.0, 0.0, -10.0)));
}
