// Optical commands: spectral indices (paper 000 eq. 4–6, EVI, paper 003 NSDSI) and vegetation water
// content (paper 000 eq. 7–9).
#include "smr/commands.hpp"
#include "smr/kernels.hpp"
#include "smr/raster.hpp"

#include <algorithm>
#include <map>

namespace smr {

namespace {

struct IndexDefinition {
  std::vector<std::string> bands;  // the inputs the formula reads, in its argument order
  std::string formula;
};

const std::map<std::string, IndexDefinition>& index_definitions() {
  static const std::map<std::string, IndexDefinition> definitions = {
      {"ndvi", {{"NIR", "RED"}, "(NIR - RED)/(NIR + RED), paper 000 eq. 4"}},
      {"ndmi", {{"NIR", "SWIR1"}, "(NIR - SWIR1)/(NIR + SWIR1), paper 000 eq. 5"}},
      {"ndwi", {{"GREEN", "NIR"}, "(GREEN - NIR)/(GREEN + NIR), McFeeters, paper 000 eq. 6"}},
      {"evi", {{"NIR", "RED", "BLUE"}, "2.5(NIR - RED)/(NIR + 6RED - 7.5BLUE + 1)"}},
      {"nsdsi1", {{"SWIR1", "SWIR2"}, "(SWIR1 - SWIR2)/SWIR1, paper 003"}},
      {"nsdsi2", {{"SWIR1", "SWIR2"}, "(SWIR1 - SWIR2)/SWIR2"}},
      {"nsdsi3", {{"SWIR1", "SWIR2"}, "(SWIR1 - SWIR2)/(SWIR1 + SWIR2)"}},
  };
  return definitions;
}

template <typename Formula>
void apply_two(Block& block, double scale, double offset, Formula formula) {
  const float* a = block.inputs[0];
  const float* b = block.inputs[1];
  float* out = block.outputs[0];
  for (std::size_t p = 0; p < block.size(); ++p)
    out[p] = static_cast<float>(formula(a[p] * scale + offset, b[p] * scale + offset));
}

json run_spectral_index(const Params& params, Reporter& reporter) {
  const std::vector<std::string> band_keys = {"BLUE", "GREEN", "RED", "NIR", "SWIR1", "SWIR2"};
  std::vector<std::string> known = band_keys;
  known.insert(known.end(), {"INDEX", "SCALE", "OFFSET", "OUTPUT"});
  params.reject_unknown(with_engine_keys(known));

  std::vector<std::string> names;
  for (const auto& entry : index_definitions()) names.push_back(entry.first);
  const std::string index = params.choice("INDEX", names);
  const IndexDefinition& definition = index_definitions().at(index);
  std::vector<std::string> unread;
  std::string read;
  for (const auto& key : band_keys)
    if (std::find(definition.bands.begin(), definition.bands.end(), key) == definition.bands.end()) unread.push_back(key);
  for (const auto& key : definition.bands) read += (read.empty() ? "" : ", ") + key;
  params.reject_unused(unread, "is not used by INDEX " + index + " (it reads " + read + ")");
  const double scale = params.number("SCALE", 1.0);
  const double offset = params.number("OFFSET", 0.0);
  if (scale == 0.0) throw InputError("SCALE is 0: reflectance = DN·SCALE + OFFSET needs a non-zero SCALE");

  std::vector<RasterSource> inputs;
  for (const auto& key : definition.bands) {
    if (!params.has(key)) throw InputError(key + " is required by INDEX " + index + " = " + definition.formula);
    inputs.push_back(params.raster(key));
  }
  const std::vector<RasterTarget> outputs = {{"OUTPUT", params.text("OUTPUT"), index}};
  reporter.info("INDEX " + index + " = " + definition.formula);

  const BlockKernel kernel = [index, scale, offset](Block& block) {
    if (index == "ndvi") apply_two(block, scale, offset, kernels::ndvi);
    else if (index == "ndmi") apply_two(block, scale, offset, kernels::ndmi);
    else if (index == "ndwi") apply_two(block, scale, offset, kernels::ndwi);
    else if (index == "nsdsi1") apply_two(block, scale, offset, kernels::nsdsi1);
    else if (index == "nsdsi2") apply_two(block, scale, offset, kernels::nsdsi2);
    else if (index == "nsdsi3") apply_two(block, scale, offset, kernels::nsdsi3);
    else {
      const float *nir = block.inputs[0], *red = block.inputs[1], *blue = block.inputs[2];
      for (std::size_t p = 0; p < block.size(); ++p)
        block.outputs[0][p] = static_cast<float>(
            kernels::evi(nir[p] * scale + offset, red[p] * scale + offset, blue[p] * scale + offset));
    }
  };
  const RunCounts counts = run_pixelwise(inputs, outputs, engine_options(params), 0, kernel, reporter);
  return raster_result(counts, outputs);
}

enum class NegativeVwc { Zero, Nodata, Keep };

json run_vegetation_water_content(const Params& params, Reporter& reporter) {
  params.reject_unknown(with_engine_keys({"INPUT", "MODEL", "COEFFICIENTS", "NEGATIVE", "OUTPUT"}));
  const RasterSource input = params.raster("INPUT");
  const std::string model = params.choice("MODEL", {"ndvi", "ndmi", "ndwi", "polynomial"});
  std::vector<double> coefficients;
  if (model != "polynomial")
    params.reject_unused({"COEFFICIENTS"}, "applies to MODEL polynomial only; MODEL " + model + " has paper 000's coefficients");
  if (model == "polynomial") {
    if (!params.has("COEFFICIENTS"))
      throw InputError("COEFFICIENTS is required when MODEL is polynomial: give [c0, c1, ...] for VWC = c0 + c1·x + ...");
    coefficients = params.numbers("COEFFICIENTS");
  }
  const std::string negative = params.choice("NEGATIVE", {"zero", "nodata", "keep"}, std::string("zero"));
  const NegativeVwc policy = negative == "zero" ? NegativeVwc::Zero
                             : negative == "nodata" ? NegativeVwc::Nodata
                                                    : NegativeVwc::Keep;
  const std::vector<RasterTarget> outputs = {{"OUTPUT", params.text("OUTPUT"), "VWC (kg/m2) from " + model}};

  // The paper's models are polynomials too, so one evaluation serves all four.
  if (model == "ndvi") coefficients = kernels::kVwcFromNdvi;
  if (model == "ndmi") coefficients = kernels::kVwcFromNdmi;
  if (model == "ndwi") coefficients = kernels::kVwcFromNdwi;
  const BlockKernel kernel = [coefficients, policy](Block& block) {
    const float* x = block.inputs[0];
    float* out = block.outputs[0];
    for (std::size_t p = 0; p < block.size(); ++p) {
      double vwc = kernels::polynomial(coefficients, x[p]);
      if (vwc < 0.0 && policy != NegativeVwc::Keep) {
        if (policy == NegativeVwc::Zero) {
          vwc = 0.0;
          ++block.counters[0];
        } else {
          vwc = kernels::kNaN;
        }
      }
      out[p] = static_cast<float>(vwc);
    }
  };
  const RunCounts counts = run_pixelwise({input}, outputs, engine_options(params), 1, kernel, reporter);
  json result = raster_result(counts, outputs);
  result["CLAMPED_PIXELS"] = counts.counters[0];
  return result;
}

}  // namespace

void add_optical_commands(std::vector<Command>& registry) {
  registry.push_back({"spectralindex", "NDVI, NDMI, NDWI, EVI or NSDSI from per-band reflectance rasters",
                      std::string(R"~(smr spectralindex: a spectral index from per-band reflectance rasters.

  INDEX   ndvi   (NIR - RED)/(NIR + RED)                 paper 000 eq. 4
          ndmi   (NIR - SWIR1)/(NIR + SWIR1)             paper 000 eq. 5
          ndwi   (GREEN - NIR)/(GREEN + NIR)             paper 000 eq. 6 (McFeeters)
          evi    2.5(NIR - RED)/(NIR + 6RED - 7.5BLUE + 1)
          nsdsi1 (SWIR1 - SWIR2)/SWIR1   (default NSDSI, paper 003)
          nsdsi2 (SWIR1 - SWIR2)/SWIR2
          nsdsi3 (SWIR1 - SWIR2)/(SWIR1 + SWIR2)
          SWIR1 is the 1.6 µm band, SWIR2 the 2.1 µm band.
  BLUE, GREEN, RED, NIR, SWIR1, SWIR2   raster inputs: give those INDEX reads; another one is an
                  error (null counts as not given)
  SCALE, OFFSET   reflectance = DN·SCALE + OFFSET (default 1, 0; Landsat C2 L2: 2.75e-5, -0.2)
  OUTPUT          the index (dimensionless). A zero denominator gives nodata (INVALID_PIXELS).
)~") + kRasterHelp,
                      run_spectral_index, {"OUTPUT"}});
  registry.push_back({"vegetationwatercontent", "vegetation water content (kg/m²) from NDVI, NDMI or NDWI",
                      std::string(R"~(smr vegetationwatercontent: vegetation water content (kg/m²) from an index.

  INPUT         the index raster
  MODEL         ndvi  VWC = 1.9134·NDVI² - 0.3215·NDVI      paper 000 eq. 7
                ndmi  VWC = 2.15·NDMI + 0.32                paper 000 eq. 8
                ndwi  VWC = 1.44·NDWI² + 1.36·NDWI + 0.34   paper 000 eq. 9
                polynomial  VWC = c0 + c1·x + c2·x² + ...
  COEFFICIENTS  [c0, c1, ...] for MODEL polynomial (an error with the other models)
  NEGATIVE      zero (default): a negative VWC is set to 0 and counted in CLAMPED_PIXELS;
                nodata: it becomes nodata (INVALID_PIXELS); keep: it is written as computed
  OUTPUT        VWC in kg/m²
)~") + kRasterHelp,
                      run_vegetation_water_content, {"OUTPUT"}});
}

}  // namespace smr
