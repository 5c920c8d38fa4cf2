// Radar commands: σ⁰ unit conversion, the water cloud model forward and inverted (paper 000
// eq. 1–3 and 10; paper 002 eq. 1, 2, 4, 5 for the V1 = 1 convention), soil moisture from the
// inverted soil term (paper 002 eq. 3, 6) and the backscatter time index of a σ⁰ stack (paper 003).
#include "smr/commands.hpp"
#include "smr/kernels.hpp"
#include "smr/raster.hpp"
#include "smr/time_stacks.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace smr {

namespace {

constexpr double kInfinity = std::numeric_limits<double>::infinity();
const std::vector<std::string> kUnits = {"db", "linear"};

json run_backscatter_conversion(const Params& params, Reporter& reporter) {
  params.reject_unknown(with_engine_keys({"INPUT", "DIRECTION", "OUTPUT"}));
  const RasterSource input = params.raster("INPUT");
  const std::string direction = params.choice("DIRECTION", {"db_to_linear", "linear_to_db"});
  const bool to_linear = direction == "db_to_linear";
  const std::vector<RasterTarget> outputs = {{"OUTPUT", params.text("OUTPUT"), to_linear ? "sigma0 (linear)" : "sigma0 (dB)"}};
  const BlockKernel kernel = [to_linear](Block& block) {
    const float* in = block.inputs[0];
    float* out = block.outputs[0];
    for (std::size_t p = 0; p < block.size(); ++p)
      out[p] = static_cast<float>(to_linear ? kernels::db_to_linear(in[p]) : kernels::linear_to_db(in[p]));
  };
  return raster_result(run_pixelwise({input}, outputs, engine_options(params), 0, kernel, reporter), outputs);
}

// What the forward model and the inversion share: A, B, the V1 convention and the incidence angle.
struct WaterCloudSetup {
  double a = 0.0, b = 0.0;
  bool v1_is_vwc = true;
  RasterOrConstant angle;

  kernels::WaterCloudTerms terms(double vwc, double angle_deg) const {
    if (!(vwc >= 0.0)) return {kernels::kNaN, kernels::kNaN};  // the model has no meaning for VWC < 0
    return kernels::water_cloud_terms(a, b, v1_is_vwc ? vwc : 1.0, vwc, angle_deg);
  }
};

WaterCloudSetup water_cloud_setup(const Params& params) {
  WaterCloudSetup setup;
  setup.a = params.number_in("A", 0.0, kInfinity);
  setup.b = params.number_in("B", 0.0, kInfinity);
  setup.v1_is_vwc = params.choice("V1", {"vwc", "one"}, std::string("vwc")) == "vwc";
  setup.angle = params.raster_or_constant("ANGLE", 0.0, 89.9);
  return setup;
}

// Input index of the angle raster, or the constant when there is none.
struct AngleReader {
  int index = -1;
  double constant = 0.0;
  double at(const Block& block, std::size_t p) const { return index < 0 ? constant : block.inputs[index][p]; }
};

AngleReader add_angle_input(const WaterCloudSetup& setup, std::vector<RasterSource>& inputs) {
  AngleReader reader;
  reader.constant = setup.angle.constant;
  if (setup.angle.raster) {
    reader.index = static_cast<int>(inputs.size());
    inputs.push_back(*setup.angle.raster);
  }
  return reader;
}

double to_linear(double value, bool is_db) { return is_db ? kernels::db_to_linear(value) : value; }
double from_linear(double value, bool to_db) { return to_db ? kernels::linear_to_db(value) : value; }

json run_water_cloud_forward(const Params& params, Reporter& reporter) {
  params.reject_unknown(with_engine_keys({"SIGMA_SOIL", "SIGMA_SOIL_UNIT", "VWC", "ANGLE", "A", "B", "V1",
                                          "OUTPUT_UNIT", "OUTPUT"}));
  std::vector<RasterSource> inputs = {params.raster("SIGMA_SOIL"), params.raster("VWC")};
  const bool soil_db = params.choice("SIGMA_SOIL_UNIT", kUnits, std::string("db")) == "db";
  const bool output_db = params.choice("OUTPUT_UNIT", kUnits, std::string("db")) == "db";
  const WaterCloudSetup setup = water_cloud_setup(params);
  const AngleReader angle = add_angle_input(setup, inputs);
  const std::vector<RasterTarget> outputs = {
      {"OUTPUT", params.text("OUTPUT"), output_db ? "sigma0 total (dB)" : "sigma0 total (linear)"}};
  const BlockKernel kernel = [=](Block& block) {
    const float *soil = block.inputs[0], *vwc = block.inputs[1];
    for (std::size_t p = 0; p < block.size(); ++p) {
      const auto terms = setup.terms(vwc[p], angle.at(block, p));
      const double total = kernels::water_cloud_forward(terms, to_linear(soil[p], soil_db));
      block.outputs[0][p] = static_cast<float>(from_linear(total, output_db));
    }
  };
  return raster_result(run_pixelwise(inputs, outputs, engine_options(params), 0, kernel, reporter), outputs);
}

// Soil moisture from the soil term (paper 002 eq. 3 and 6): SM = (σ⁰_soil[dB] − C)/D, with σ⁰_soil
// the inversion's own. SOIL_MOISTURE_OUTPUT, C, D, SM_MAX and CLAMP.
struct SoilMoistureSetup {
  double c = 0.0, d = 1.0;
  double maximum = 0.6;  // SM_MAX, m³/m³
  bool clamp = false;
};

// Tallies of the soil-moisture output, in the order of Block::counters.
enum SoilMoistureCounter { kSmBelow, kSmAbove, kSmCounters };

// The soil moisture of a pixel whose soil σ⁰ (linear) is known: eq. 6, then tallied against
// [0, SM_MAX] and, with CLAMP, set to the bound. NaN (σ⁰ ≤ σ⁰_veg, a nodata input) stays NaN and is
// not tallied.
double soil_moisture_of(const SoilMoistureSetup& setup, double soil_linear, long long* counters) {
  double moisture = kernels::soil_moisture_from_db(setup.c, setup.d, kernels::linear_to_db(soil_linear));
  if (moisture < 0.0) {
    ++counters[kSmBelow];
    if (setup.clamp) moisture = 0.0;
  } else if (moisture > setup.maximum) {
    ++counters[kSmAbove];
    if (setup.clamp) moisture = setup.maximum;
  }
  return moisture;
}

const std::vector<std::string> kSoilMoistureKeys = {"C", "D", "SM_MAX", "CLAMP"};

// C, D, SM_MAX and CLAMP when SOIL_MOISTURE_OUTPUT is asked for; without it they would have no
// effect, so giving one is an error that says so.
SoilMoistureSetup soil_moisture_setup(const Params& params, Reporter& reporter) {
  SoilMoistureSetup setup;
  for (const std::string key : {"C", "D"})
    if (!params.has(key))
      throw InputError(key + " is required when SOIL_MOISTURE_OUTPUT is given: the soil model of paper 002 "
                       "eq. 3, σ⁰_soil[dB] = C + D·SM (C in dB, D in dB per m³/m³), e.g. C -17, D 28");
  setup.c = params.number("C");
  setup.d = params.number("D");
  if (setup.d == 0.0)
    throw InputError("D is 0: SM = (σ⁰_soil[dB] - C)/D needs a slope D ≠ 0 (dB per m³/m³; positive in "
                     "practice, as σ⁰ rises with soil moisture)");
  if (setup.d < 0.0)
    reporter.warning("D is " + describe(json(setup.d)) + ": a negative slope means σ⁰ falls as the soil gets "
                     "wetter, the opposite of paper 002 eq. 3 fitted on real soils; check the sign");
  setup.maximum = params.number("SM_MAX", 0.6);
  if (!(setup.maximum > 0.0 && setup.maximum <= 1.0))
    throw InputError("SM_MAX is " + describe(json(setup.maximum)) +
                     ": valid values are greater than 0 and at most 1 (m³/m³, a volume fraction)");
  setup.clamp = params.boolean("CLAMP", false);
  return setup;
}

json run_water_cloud_inversion(const Params& params, Reporter& reporter) {
  params.reject_unknown(with_engine_keys({"SIGMA0", "SIGMA0_UNIT", "VWC", "ANGLE", "A", "B", "V1", "OUTPUT_UNIT",
                                          "OUTPUT", "VEGETATION_OUTPUT", "ATTENUATION_OUTPUT",
                                          "SOIL_MOISTURE_OUTPUT", "C", "D", "SM_MAX", "CLAMP"}));
  std::vector<RasterSource> inputs = {params.raster("SIGMA0"), params.raster("VWC")};
  const bool total_db = params.choice("SIGMA0_UNIT", kUnits, std::string("db")) == "db";
  const bool output_db = params.choice("OUTPUT_UNIT", kUnits, std::string("db")) == "db";
  const WaterCloudSetup setup = water_cloud_setup(params);
  const AngleReader angle = add_angle_input(setup, inputs);

  std::vector<RasterTarget> outputs = {
      {"OUTPUT", params.text("OUTPUT"), output_db ? "sigma0 soil (dB)" : "sigma0 soil (linear)"}};
  int vegetation_slot = -1, attenuation_slot = -1, moisture_slot = -1;
  if (const auto path = params.optional_output("VEGETATION_OUTPUT")) {
    vegetation_slot = static_cast<int>(outputs.size());
    outputs.push_back({"VEGETATION_OUTPUT", *path, "vegetation contribution, sigma0 total - soil (dB)"});
  }
  if (const auto path = params.optional_output("ATTENUATION_OUTPUT")) {
    attenuation_slot = static_cast<int>(outputs.size());
    outputs.push_back({"ATTENUATION_OUTPUT", *path, "two-way attenuation gamma2"});
  }
  SoilMoistureSetup moisture;
  if (const auto path = params.optional_output("SOIL_MOISTURE_OUTPUT")) {
    moisture = soil_moisture_setup(params, reporter);
    moisture_slot = static_cast<int>(outputs.size());
    outputs.push_back({"SOIL_MOISTURE_OUTPUT", *path, "soil moisture (m3/m3), paper 002 eq. 6"});
  } else {
    params.reject_unused(kSoilMoistureKeys, "applies to the soil-moisture output only: give SOIL_MOISTURE_OUTPUT "
                                            "too, or leave it out");
  }
  const BlockKernel kernel = [=](Block& block) {
    const float *total = block.inputs[0], *vwc = block.inputs[1];
    for (std::size_t p = 0; p < block.size(); ++p) {
      const auto terms = setup.terms(vwc[p], angle.at(block, p));
      const double total_linear = to_linear(total[p], total_db);
      const double soil_linear = kernels::water_cloud_inversion(terms, total_linear);
      block.outputs[0][p] = static_cast<float>(from_linear(soil_linear, output_db));
      if (vegetation_slot >= 0)
        block.outputs[vegetation_slot][p] =
            static_cast<float>(kernels::linear_to_db(total_linear) - kernels::linear_to_db(soil_linear));
      if (attenuation_slot >= 0) block.outputs[attenuation_slot][p] = static_cast<float>(terms.attenuation);
      if (moisture_slot >= 0)
        block.outputs[moisture_slot][p] = static_cast<float>(soil_moisture_of(moisture, soil_linear, block.counters.data()));
    }
  };
  const RunCounts counts = run_pixelwise(inputs, outputs, engine_options(params), kSmCounters, kernel, reporter);
  json result = raster_result(counts, outputs);
  if (moisture_slot < 0) {
    for (const char* key : {"SM_BELOW_PIXELS", "SM_ABOVE_PIXELS", "CLAMPED_PIXELS"}) result[key] = nullptr;
    return result;
  }
  const long long below = counts.counters[kSmBelow], above = counts.counters[kSmAbove];
  result["SM_BELOW_PIXELS"] = below;
  result["SM_ABOVE_PIXELS"] = above;
  result["CLAMPED_PIXELS"] = moisture.clamp ? below + above : 0;
  if (below + above > 0) {
    const std::string range = "[0, " + describe(json(moisture.maximum)) + "] m³/m³";
    reporter.warning(std::to_string(below) + " pixels have SM < 0 (SM_BELOW_PIXELS) and " + std::to_string(above) +
                     " SM > SM_MAX (SM_ABOVE_PIXELS), outside " + range + ": " +
                     (moisture.clamp ? "set to the bound (CLAMP)"
                                     : "written as computed; CLAMP sets them to the bound"));
  }
  return result;
}

// Tallies of smr backscattertimeindex, in the order of Block::counters.
enum BtiCounter { kSeriesPixels, kEmptyPixels, kSparsePixels, kFlatPixels, kBtiCounters };

json run_backscatter_time_index(const Params& params, Reporter& reporter) {
  params.reject_unknown(with_engine_keys({"INPUT", "INPUT_UNITS", "SCALE", "MIN_OBSERVATIONS", "OUTPUT"}));
  const StackSource input = stack_parameter(params, "INPUT");
  const long long band_count = static_cast<long long>(input.bands.size());
  if (band_count < 2)
    throw InputError("INPUT: '" + input.path + "' has " + std::to_string(band_count) +
                     " band; the backscatter time index needs a time series of at least 2 bands (one per date)");
  const bool input_db = params.choice("INPUT_UNITS", kUnits, std::string("db")) == "db";
  const bool scale_db = params.choice("SCALE", kUnits, std::string("db")) == "db";
  // One value cannot have a range, so fewer than 2 would only relabel sparse series as flat; more
  // than the bands would leave every pixel nodata.
  const long long min_observations = params.integer_in("MIN_OBSERVATIONS", 2, band_count, 2);

  const std::vector<RasterTarget> outputs = {
      {"OUTPUT", params.text("OUTPUT"), "", band_descriptions("INPUT", input.path)}};
  const std::size_t steps = input.bands.size();
  const BlockKernel kernel = [=](Block& block) {
    std::vector<double> series(steps);
    for (std::size_t p = 0; p < block.size(); ++p) {
      long long observations = 0;
      double low = kInfinity, high = -kInfinity;
      for (std::size_t t = 0; t < steps; ++t) {
        const double value = block.inputs[t][p];
        // In dB, a linear σ⁰ ≤ 0 has no value (linear_to_db gives NaN): a gap like nodata.
        series[t] = input_db == scale_db ? value
                    : scale_db           ? kernels::linear_to_db(value)
                                         : kernels::db_to_linear(value);
        if (!std::isfinite(series[t])) continue;
        ++observations;
        low = std::min(low, series[t]);
        high = std::max(high, series[t]);
      }
      BtiCounter kind = kSeriesPixels;
      if (observations == 0) kind = kEmptyPixels;
      else if (observations < min_observations) kind = kSparsePixels;
      else if (!(high > low)) kind = kFlatPixels;  // 0/0: the index has no meaning
      ++block.counters[kind];
      for (std::size_t t = 0; t < steps; ++t)
        block.outputs[t][p] = kind == kSeriesPixels && std::isfinite(series[t])
                                  ? static_cast<float>((series[t] - low) / (high - low))
                                  : std::numeric_limits<float>::quiet_NaN();
    }
  };
  const RunCounts counts = run_stackwise({input}, outputs, engine_options(params), kBtiCounters, kernel, reporter);
  const long long flat = counts.counters[kFlatPixels], sparse = counts.counters[kSparsePixels];
  if (flat > 0)
    reporter.warning(std::to_string(flat) + " pixels have the same σ⁰ at every date (FLAT_PIXELS): their index is "
                     "undefined and nodata");
  if (sparse > 0)
    reporter.warning(std::to_string(sparse) + " pixels have 1 to " + std::to_string(min_observations - 1) +
                     " valid dates (SPARSE_PIXELS, fewer than MIN_OBSERVATIONS): nodata");
  return {{"OUTPUT", outputs.front().path},
          {"SERIES_PIXELS", counts.counters[kSeriesPixels]},
          {"EMPTY_PIXELS", counts.counters[kEmptyPixels]},
          {"SPARSE_PIXELS", sparse},
          {"FLAT_PIXELS", flat}};
}

const char* const kWaterCloudHelp = R"~(
  Water cloud model, linear units (paper 000 eq. 1-3; its eq. 2 "cos(1 - r²)" read as cosθ·(1 - γ²)):
    σ⁰ = σ⁰_veg + γ²·σ⁰_soil,   γ² = exp(-2·B·VWC·secθ),   σ⁰_veg = A·V1·cosθ·(1 - γ²)
  VWC       vegetation water content raster (kg/m²); VWC < 0 is undefined (INVALID_PIXELS)
  ANGLE     incidence angle θ in degrees: a raster input or one number (0 to 89.9);
            raster pixels with cosθ ≤ 0 are invalid
  A, B      empirical parameters (≥ 0), linear units
  V1        vwc (default): V1 = VWC as in paper 000; one: V1 = 1 as in paper 002 eq. 2
)~";

}  // namespace

void add_radar_commands(std::vector<Command>& registry) {
  registry.push_back({"backscatterconversion", "σ⁰ between dB and linear power",
                      std::string(R"~(smr backscatterconversion: σ⁰ between dB and linear power.

  INPUT      σ⁰ raster
  DIRECTION  db_to_linear: 10^(dB/10);  linear_to_db: 10·log10(linear), where linear ≤ 0 is invalid
  OUTPUT     converted σ⁰
)~") + kRasterHelp,
                      run_backscatter_conversion, {"OUTPUT"}});
  registry.push_back({"watercloudforward", "total σ⁰ from soil σ⁰ and vegetation by the water cloud model",
                      std::string(R"~(smr watercloudforward: total σ⁰ from soil σ⁰, VWC and incidence angle.
)~") + kWaterCloudHelp + R"~(  SIGMA_SOIL       soil backscatter σ⁰_soil;  SIGMA_SOIL_UNIT db (default) | linear
  OUTPUT           total σ⁰;                  OUTPUT_UNIT     db (default) | linear
)~" + kRasterHelp,
                      run_water_cloud_forward, {"OUTPUT"}});
  registry.push_back({"watercloudinversion",
                      "soil σ⁰ (and soil moisture) by inverting the water cloud model (000 eq. 10, 002 eq. 6)",
                      std::string(R"~(smr watercloudinversion: soil σ⁰ with the vegetation removed, paper 000 eq. 10:
    σ⁰_soil = (σ⁰ - σ⁰_veg)/γ²;  pixels where σ⁰ ≤ σ⁰_veg are invalid (INVALID_PIXELS).
)~") + kWaterCloudHelp + R"~(  SIGMA0              observed total σ⁰;  SIGMA0_UNIT db (default) | linear
  OUTPUT              σ⁰_soil;            OUTPUT_UNIT db (default) | linear
  VEGETATION_OUTPUT   optional: vegetation contribution σ⁰[dB] - σ⁰_soil[dB] (paper 000 §3.3),
                      nodata where σ⁰_soil is undefined
  ATTENUATION_OUTPUT  optional: two-way attenuation γ² (dimensionless), written wherever the
                      inputs are valid, also where σ⁰_soil is undefined
  SOIL_MOISTURE_OUTPUT  optional: volumetric soil moisture (m³/m³) from the same σ⁰_soil by the
                      linear soil model of paper 002 eq. 3, σ⁰_soil[dB] = C + D·SM, inverted (eq. 6):
                        SM = (10·log10((σ⁰ - σ⁰_veg)/γ²) - C)/D
                      nodata where σ⁰_soil is (σ⁰ ≤ σ⁰_veg, INVALID_PIXELS)
  C, D                intercept (dB) and slope (dB per m³/m³, ≠ 0; positive in practice) of eq. 3,
                      required with SOIL_MOISTURE_OUTPUT
  SM_MAX              wettest plausible SM, m³/m³ (default 0.6: above the porosity of nearly every
                      mineral soil; above 0, at most 1)
  CLAMP               false (default): SM outside [0, SM_MAX] is written as computed; true: it is set
                      to the bound. Counted either way in SM_BELOW_PIXELS (SM < 0) and SM_ABOVE_PIXELS
                      (SM > SM_MAX); CLAMPED_PIXELS is their sum with CLAMP, else 0.
                      C, D, SM_MAX and CLAMP without SOIL_MOISTURE_OUTPUT are an error.
)~" + kRasterHelp + R"~(Result also: SM_BELOW_PIXELS, SM_ABOVE_PIXELS, CLAMPED_PIXELS (null without SOIL_MOISTURE_OUTPUT).
)~",
                      run_water_cloud_inversion,
                      {"OUTPUT", "VEGETATION_OUTPUT", "ATTENUATION_OUTPUT", "SOIL_MOISTURE_OUTPUT"}});
  registry.push_back({"backscattertimeindex", "backscatter time index of a σ⁰ stack (paper 003)",
                      R"~(smr backscattertimeindex: the backscatter time index (BTI) of a σ⁰ time stack, paper 003:
    BTI_t = (σ⁰_t - min_t σ⁰)/(max_t σ⁰ - min_t σ⁰)
  per pixel over its valid dates: 0 at the pixel's lowest σ⁰, 1 at its highest (wetter soil
  backscatters more). Paper 003 normalises ASCAT σ⁰ (σ40) in dB.

  INPUT             σ⁰ stack: one band per date (band descriptions carry ISO dates when known); a
                    path or {"path", "nodata"}, every band is read ("band" is not allowed)
  INPUT_UNITS       db (default) | linear: the units of INPUT
  SCALE             db (default) | linear: the scale in which min, max and the index are taken;
                    a linear σ⁰ ≤ 0 has no dB value and is treated as nodata
  MIN_OBSERVATIONS  valid dates a series needs (default 2; 2 to the band count)
  OUTPUT            stack of the index: the same bands and band descriptions as INPUT, values 0 to 1

Nodata: a nodata (or NaN) date is nodata in OUTPUT at that date only; the other dates of the pixel
still get their index. A pixel with no valid date (EMPTY_PIXELS), with fewer than MIN_OBSERVATIONS
(SPARSE_PIXELS) or with the same σ⁰ at every valid date (FLAT_PIXELS, 0/0) is nodata in every band.
Outputs are Float32 with nodata -9999; the identical values come out for any THREADS.

Common parameters: THREADS (0 = all cores), CREATE_OPTIONS (GeoTIFF default: tiled, DEFLATE,
PREDICTOR=3, band-interleaved), REFERENCE and RESAMPLING as every raster command.
Result: OUTPUT, SERIES_PIXELS (index computed), EMPTY_PIXELS, SPARSE_PIXELS, FLAT_PIXELS.
)~",
                      run_backscatter_time_index, {"OUTPUT"}});
}

}  // namespace smr
