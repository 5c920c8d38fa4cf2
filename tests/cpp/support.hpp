// Small fixtures for the C++ tests: temporary folders, tiny GeoTIFFs and running a command in-process.
#pragma once

#include "smr/commands.hpp"
#include "smr/protocol.hpp"
#include "smr/raster.hpp"

#include <gdal_priv.h>

#include <filesystem>
#include <string>
#include <vector>

namespace smr::test {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  std::vector<std::string> entries() const;

 private:
  std::filesystem::path path_;
};

struct GridSpec {
  int width = 4, height = 3;
  double x0 = 500000.0, y0 = 4650000.0, pixel = 20.0;
  int epsg = 32632;
};

// Writes a one-band Float32 GeoTIFF, row-major values; nodata is set when given.
void write_raster(const std::string& path, const std::vector<float>& values, const GridSpec& grid = {},
                  const double* nodata = nullptr);
std::vector<float> read_raster(const std::string& path, int band = 1);

// A time stack: bands[b] holds band b+1 row-major; descriptions (e.g. ISO dates) when given.
void write_stack(const std::string& path, const std::vector<std::vector<float>>& bands, const GridSpec& grid = {},
                 const double* nodata = nullptr, const std::vector<std::string>& descriptions = {});
std::vector<std::vector<float>> read_stack(const std::string& path);
std::vector<std::string> read_descriptions(const std::string& path);

// Checks pixel p of a stack from read_stack against `expected`, one value per band, each within
// `tolerance`; a failure names the pixel and the band.
void check_pixel_series(const std::vector<std::vector<float>>& stack, std::size_t p,
                        const std::vector<double>& expected, double tolerance);

struct CommandRun {
  json outputs;
  std::string lines;  // every protocol line the command wrote
};

// Runs a command in-process, as `smr <name>` would, with an optional cancel token.
CommandRun run_command(const std::string& name, const json& parameters, const CancelToken* cancel = nullptr);

// The values of the progress lines among `lines`, in order.
std::vector<double> progress_values(const std::string& lines);

// Checks what the progress bar shows of a run: never going back, at least `intermediate` distinct
// values strictly between `above` and 1 (a phase that moves the bar, not one jump), and 1 at the end.
void check_progress(const std::string& lines, double above, std::size_t intermediate);

}  // namespace smr::test
