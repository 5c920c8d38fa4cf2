#include "smr/commands.hpp"
#include "smr/outputs.hpp"
#include "smr/raster.hpp"

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
  CREATE_OPTIONS  GDAL creation options of the output format, list or "KEY=VALUE;KEY=VALUE" (GeoTIFF
                  default: tiled 256, DEFLATE, PREDICTOR=3, BIGTIFF=IF_SAFER)
Result: the output paths, NODATA_PIXELS, INVALID_PIXELS, VALID_PIXELS.

Outputs: the format follows the extension: .tif for GeoTIFF, or any GDAL format that stores Float32
(.img, .nc, .asc, .rst, .sdat, …; VRT is refused: it would point at temporary files). Other formats
are written as a GeoTIFF first and converted once. An output may not be an input of the run nor
another output. Every output is written beside its target in a private folder (.smr-partial-<host>-<pid>)
and all of them are moved into place together once the run succeeded: a failed or cancelled run
leaves every previous file as it was; such a folder left by a killed run is removed by the next run
writing into the same folder. Files are byte-identical for any THREADS.
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
    add_sampling_commands(all);
    add_calibration_commands(all);
    return all;
  }();
  return registry;
}

const Command* find_command(const std::string& name) {
  for (const auto& command : commands())
    if (command.name == name) return &command;
  return nullptr;
}

json execute(const Command& command, const json& parameters, Reporter& reporter) {
  const GdalSession gdal(reporter);
  OutputTransaction outputs(&parameters, command.outputs);
  const json result = command.run(Params(parameters, command.name), reporter);
  // A cancel that arrives after the last block still leaves the previous outputs as they were.
  reporter.throw_if_cancelled();
  outputs.commit();
  return result;
}

}  // namespace smr
