#include "smr/commands.hpp"

namespace smr {

const char* const kRasterHelp = R"~(
Raster inputs are {"path": file, "band": 1, "nodata": null} or a plain path. "nodata" overrides the
band's own nodata; NaN is always nodata. A pixel where any input is nodata is nodata in every output
(counted in NODATA_PIXELS); a pixel where the equation is undefined is nodata too (INVALID_PIXELS).
Outputs are Float32 with nodata -9999.

Common parameters:
  REFERENCE       key of the raster input whose grid the outputs take (default: the first input)
  RESAMPLING      nearest|bilinear|cubic|cubicspline|lanczos|average|mode (default bilinear); used
                  only for inputs on another grid or CRS, which are aligned through a GDAL warped VRT
  THREADS         OpenMP threads, 0 = all cores (default 0)
  CREATE_OPTIONS  GDAL creation options, list or "KEY=VALUE;KEY=VALUE" (GeoTIFF default: tiled 256,
                  DEFLATE, PREDICTOR=3, BIGTIFF=IF_SAFER)
Result: the output paths, NODATA_PIXELS, INVALID_PIXELS, VALID_PIXELS.
)~";

const std::vector<Command>& commands() {
  static const std::vector<Command> registry = [] {
    std::vector<Command> all;
    add_optical_commands(all);
    add_radar_commands(all);
    add_passive_commands(all);
    add_sample_commands(all);
    add_learning_commands(all);
    add_validation_commands(all);
    add_timeseries_commands(all);
    add_collocation_commands(all);
    add_matching_commands(all);
    return all;
  }();
  return registry;
}

const Command* find_command(const std::string& name) {
  for (const auto& command : commands())
    if (command.name == name) return &command;
  return nullptr;
}

}  // namespace smr
