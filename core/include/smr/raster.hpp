// The raster engine (DESIGN §4): block-wise GDAL I/O, OpenMP across blocks with one GDAL handle per
// thread, on-the-fly alignment of inputs to a reference grid, nodata propagation, Float32 outputs with
// nodata −9999 written under a temporary name and renamed only on success.
#pragma once

#include "smr/params.hpp"
#include "smr/protocol.hpp"

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace smr {

// The first error any thread of a parallel block loop met; the others stop at their next block and
// it is rethrown after the loop as the kind it was (an input error or an internal one).
class FirstError {
 public:
  void record(const std::string& message, bool is_input) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (message_.empty()) {
      message_ = message;
      is_input_ = is_input;
    }
    failed_ = true;
  }
  bool failed() const { return failed_; }
  void rethrow_if_any() const {
    if (!failed_) return;
    if (is_input_) throw InputError(message_);
    throw std::runtime_error(message_);
  }

 private:
  std::mutex mutex_;
  std::string message_;
  bool is_input_ = false;
  std::atomic<bool> failed_{false};
};

inline constexpr float kOutputNodata = -9999.0f;

// Extent, size and CRS that every output of a run shares.
struct Grid {
  int width = 0;
  int height = 0;
  std::array<double, 6> transform{0, 1, 0, 0, 0, -1};  // GDAL geotransform
  std::string crs_wkt;
};

struct RasterTarget {
  std::string key;   // parameter key, e.g. "OUTPUT"
  std::string path;
  std::string description;  // band description written into the file
  // A stack (DESIGN §4): one band per entry, each with its description (an ISO date for time steps).
  // Empty: one band described by `description`.
  std::vector<std::string> band_descriptions = {};
  // Dataset metadata (key, value) written when the file is created: what a later run needs to read the
  // file back besides its bands (e.g. the method and edges of a CDF mapping raster).
  std::vector<std::pair<std::string, std::string>> metadata = {};
  int band_count() const { return band_descriptions.empty() ? 1 : static_cast<int>(band_descriptions.size()); }
};

// A time stack read whole (DESIGN §4): the listed bands of one raster, band = time step. A missing
// time step is a gap in the series, not a reason to drop the pixel, so stack runs leave nodata to the
// kernel instead of propagating it.
struct StackSource {
  std::string key;
  std::string path;
  std::vector<int> bands;          // 1-based, in the order the kernel sees them
  std::optional<double> nodata;    // overrides the raster's own nodata when set
};

// Band count and band descriptions of a raster (ISO dates for our stacks); InputError naming `key`
// when it cannot be read.
std::vector<std::string> band_descriptions(const std::string& key, const std::string& path);

struct EngineOptions {
  int threads = 0;                          // 0: all cores
  std::string resampling = "bilinear";      // for inputs not on the reference grid
  std::vector<std::string> create_options;  // replaces the GeoTIFF defaults when not empty
  std::string reference_key;                // empty: the first input
  // The kernel spreads a window's pixels over the threads itself (work per pixel, e.g. one network per
  // cell, outweighs I/O; coarse grids have too few windows to share): windows then run one at a time.
  bool parallel_kernel = false;
};

// What a kernel sees of one block. Input values are NaN where the input is nodata; the kernel writes
// NaN where its equation is undefined. x0/y0 place the block in the grid (for generators). A stack
// contributes one array per band, in order, to `inputs` (and a stack output one per band to `outputs`).
struct Block {
  int x0 = 0, y0 = 0, width = 0, height = 0;
  const Grid* grid = nullptr;
  std::vector<const float*> inputs;  // one array of width·height per input, row-major
  std::vector<float*> outputs;       // one array of width·height per output
  std::vector<long long> counters;   // kernel-specific tallies (e.g. clamped pixels), summed over blocks
  std::size_t size() const { return static_cast<std::size_t>(width) * static_cast<std::size_t>(height); }
  // The row-major position in the grid of the block's pixel p (p counts row-major within the block).
  std::uint64_t grid_index(std::size_t p) const {
    const auto row = static_cast<std::uint64_t>(y0) + p / static_cast<std::size_t>(width);
    const auto column = static_cast<std::uint64_t>(x0) + p % static_cast<std::size_t>(width);
    return row * static_cast<std::uint64_t>(grid->width) + column;
  }
};

using BlockKernel = std::function<void(Block&)>;

struct RunCounts {
  long long nodata = 0;   // a pixel where any input is nodata
  long long invalid = 0;  // inputs valid, primary output undefined
  long long valid = 0;
  std::vector<long long> counters;
};

// THREADS as the engine uses it: 0 means every core.
int resolve_threads(int requested);

// Reads the engine parameters shared by all raster commands (THREADS, RESAMPLING, CREATE_OPTIONS, REFERENCE).
EngineOptions engine_options(const Params& params);
inline const std::vector<std::string> kEngineKeys = {"THREADS", "RESAMPLING", "CREATE_OPTIONS", "REFERENCE"};

// Runs `kernel` over every block of the reference grid (taken from the inputs) and writes the outputs.
RunCounts run_pixelwise(const std::vector<RasterSource>& inputs, const std::vector<RasterTarget>& outputs,
                        const EngineOptions& options, int counter_count, const BlockKernel& kernel,
                        Reporter& reporter);

// The same on an explicit grid, for commands that create rasters from nothing (the sample generator).
RunCounts run_on_grid(const Grid& grid, const std::vector<RasterTarget>& outputs, const EngineOptions& options,
                      int counter_count, const BlockKernel& kernel, Reporter& reporter);

// Reads every window of the reference grid and hands it to `visit`, writing nothing: for statistics
// and sampling. `visit` runs on several threads at once; Block::x0/y0 identify the window, so a caller
// can keep partial results per window and combine them in a fixed order, the same for any thread
// count. Input values are NaN where the input is nodata. Counts: `nodata` where any input is nodata,
// `valid` elsewhere.
using BlockVisitor = std::function<void(const Block&)>;
RunCounts scan_pixelwise(const std::vector<RasterSource>& inputs, const EngineOptions& options,
                         const BlockVisitor& visit, Reporter& reporter);

// The same for time stacks: Block::inputs holds each stack's bands in turn. Nodata is not propagated:
// the kernel sees NaN for missing values and decides; any non-finite output value is written as nodata.
// Windows shrink so that a window's bands fit a fixed memory budget whatever the band count, and
// stack outputs default to small tiles, band-interleaved. Counts: `valid` where the first output band
// is finite, `invalid` elsewhere (for a scan: every pixel is `valid`).
RunCounts run_stackwise(const std::vector<StackSource>& inputs, const std::vector<RasterTarget>& outputs,
                        const EngineOptions& options, int counter_count, const BlockKernel& kernel, Reporter& reporter);
RunCounts scan_stackwise(const std::vector<StackSource>& inputs, const EngineOptions& options,
                         const BlockVisitor& visit, Reporter& reporter);

// The result of a raster command: every output path by its key, NODATA_PIXELS, INVALID_PIXELS, VALID_PIXELS.
json raster_result(const RunCounts& counts, const std::vector<RasterTarget>& targets);

// The file extensions smr writes rasters to, sorted: every GDAL driver that creates Float32 files,
// VRT excepted (its files would point at the run's temporaries). Other formats are written through a
// GeoTIFF work file converted once at the end.
std::vector<std::string> writable_raster_extensions();

// A command's own keys plus the engine's, for Params::reject_unknown.
std::vector<std::string> with_engine_keys(std::vector<std::string> keys);

// Registers GDAL's drivers (once) and routes GDAL's messages to the reporter while it lives.
class GdalSession {
 public:
  explicit GdalSession(Reporter& reporter);
  ~GdalSession();
  GdalSession(const GdalSession&) = delete;
  GdalSession& operator=(const GdalSession&) = delete;
};

}  // namespace smr
