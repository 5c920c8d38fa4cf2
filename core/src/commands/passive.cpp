// Passive-microwave commands (paper 003).
#include "smr/commands.hpp"
#include "smr/kernels.hpp"
#include "smr/raster.hpp"

namespace smr {

namespace {

json run_mpdi(const Params& params, Reporter& reporter) {
  params.reject_unknown(with_engine_keys({"TBV", "TBH", "OUTPUT"}));
  const std::vector<RasterSource> inputs = {params.raster("TBV"), params.raster("TBH")};
  const std::vector<RasterTarget> outputs = {{"OUTPUT", params.text("OUTPUT"), "MPDI"}};
  const BlockKernel kernel = [](Block& block) {
    const float *tbv = block.inputs[0], *tbh = block.inputs[1];
    for (std::size_t p = 0; p < block.size(); ++p) block.outputs[0][p] = static_cast<float>(kernels::mpdi(tbv[p], tbh[p]));
  };
  return raster_result(run_pixelwise(inputs, outputs, engine_options(params), 0, kernel, reporter), outputs);
}

}  // namespace

void add_passive_commands(std::vector<Command>& registry) {
  registry.push_back({"mpdi", "microwave polarisation difference index from Tbv and Tbh",
                      std::string(R"~(smr mpdi: MPDI = (Tbv - Tbh)/(Tbv + Tbh), paper 003 §2.1.

  TBV, TBH  vertically and horizontally polarised brightness temperatures (K)
  OUTPUT    MPDI (dimensionless); Tbv + Tbh = 0 is invalid (INVALID_PIXELS)
)~") + kRasterHelp,
                      run_mpdi, {"OUTPUT"}});
}

}  // namespace smr
