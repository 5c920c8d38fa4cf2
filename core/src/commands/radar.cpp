// Radar commands: σ⁰ unit conversion and the water cloud model forward and inverted (paper 000
// eq. 1–3 and 10; paper 002 eq. 1, 2, 4, 5 for the V1 = 1 convention).
#include "smr/commands.hpp"
#include "smr/kernels.hpp"
#include "smr/raster.hpp"

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

json run_water_cloud_inversion(const Params& params, Reporter& reporter) {
  params.reject_unknown(with_engine_keys({"SIGMA0", "SIGMA0_UNIT", "VWC", "ANGLE", "A", "B", "V1", "OUTPUT_UNIT",
                                          "OUTPUT", "VEGETATION_OUTPUT", "ATTENUATION_OUTPUT"}));
  std::vector<RasterSource> inputs = {params.raster("SIGMA0"), params.raster("VWC")};
  const bool total_db = params.choice("SIGMA0_UNIT", kUnits, std::string("db")) == "db";
  const bool output_db = params.choice("OUTPUT_UNIT", kUnits, std::string("db")) == "db";
  const WaterCloudSetup setup = water_cloud_setup(params);
  const AngleReader angle = add_angle_input(setup, inputs);

  std::vector<RasterTarget> outputs = {
      {"OUTPUT", params.text("OUTPUT"), output_db ? "sigma0 soil (dB)" : "sigma0 soil (linear)"}};
  int vegetation_slot = -1, attenuation_slot = -1;
  if (const auto path = params.optional_output("VEGETATION_OUTPUT")) {
    vegetation_slot = static_cast<int>(outputs.size());
    outputs.push_back({"VEGETATION_OUTPUT", *path, "vegetation contribution, sigma0 total - soil (dB)"});
  }
  if (const auto path = params.optional_output("ATTENUATION_OUTPUT")) {
    attenuation_slot = static_cast<int>(outputs.size());
    outputs.push_back({"ATTENUATION_OUTPUT", *path, "two-way attenuation gamma2"});
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
    }
  };
  return raster_result(run_pixelwise(inputs, outputs, engine_options(params), 0, kernel, reporter), outputs);
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
                      run_backscatter_conversion});
  registry.push_back({"watercloudforward", "total σ⁰ from soil σ⁰ and vegetation by the water cloud model",
                      std::string(R"~(smr watercloudforward: total σ⁰ from soil σ⁰, VWC and incidence angle.
)~") + kWaterCloudHelp + R"~(  SIGMA_SOIL       soil backscatter σ⁰_soil;  SIGMA_SOIL_UNIT db (default) | linear
  OUTPUT           total σ⁰;                  OUTPUT_UNIT     db (default) | linear
)~" + kRasterHelp,
                      run_water_cloud_forward});
  registry.push_back({"watercloudinversion", "soil σ⁰ by inverting the water cloud model (paper 000 eq. 10)",
                      std::string(R"~(smr watercloudinversion: soil σ⁰ with the vegetation removed, paper 000 eq. 10:
    σ⁰_soil = (σ⁰ - σ⁰_veg)/γ²;  pixels where σ⁰ ≤ σ⁰_veg are invalid (INVALID_PIXELS).
)~") + kWaterCloudHelp + R"~(  SIGMA0              observed total σ⁰;  SIGMA0_UNIT db (default) | linear
  OUTPUT              σ⁰_soil;            OUTPUT_UNIT db (default) | linear
  VEGETATION_OUTPUT   optional: vegetation contribution σ⁰[dB] - σ⁰_soil[dB] (paper 000 §3.3),
                      nodata where σ⁰_soil is undefined
  ATTENUATION_OUTPUT  optional: two-way attenuation γ² (dimensionless), written wherever the
                      inputs are valid, also where σ⁰_soil is undefined
)~" + kRasterHelp,
                      run_water_cloud_inversion});
}

}  // namespace smr
