#include "smr/raster.hpp"

#include "smr/outputs.hpp"

#include <cpl_conv.h>
#include <cpl_error.h>
#include <cpl_string.h>
#include <cpl_vsi.h>
#include <gdal_priv.h>
#include <gdal_utils.h>
#include <ogr_spatialref.h>
#include <omp.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cmath>
#include <filesystem>
#include <map>
#include <set>
#include <memory>
#include <mutex>
#include <numeric>
#include <optional>
#include <sstream>

namespace smr {

namespace fs = std::filesystem;

namespace {

constexpr int kTileSize = 256;
constexpr int kMaxWindowWidth = 2048;  // bounds the per-thread buffers whatever the raster width
constexpr long long kMaxWindowPixels = static_cast<long long>(kTileSize) * kMaxWindowWidth;
// What one window's input and output bands may take per thread: with stacks of hundreds of bands the
// window, not the raster, must shrink.
constexpr long long kWindowBudgetBytes = 64LL * 1024 * 1024;
const std::vector<std::string> kResamplings = {"nearest", "bilinear", "cubic", "cubicspline",
                                               "lanczos", "average", "mode"};

Reporter* g_gdal_reporter = nullptr;
std::atomic<int> g_gdal_failures{0};
std::atomic<int> g_gdal_messages{0};
constexpr int kMaxGdalMessages = 20;

void CPL_STDCALL forward_gdal_message(CPLErr level, CPLErrorNum, const char* message) {
  if (level == CE_Failure || level == CE_Fatal) g_gdal_failures.fetch_add(1);
  if (level < CE_Warning || g_gdal_reporter == nullptr) return;
  if (g_gdal_messages.fetch_add(1) >= kMaxGdalMessages) return;
  g_gdal_reporter->warning(std::string("GDAL: ") + message);
}

// Silences GDAL while we probe something whose failure we explain ourselves.
struct QuietGdal {
  QuietGdal() { CPLPushErrorHandler(CPLQuietErrorHandler); }
  ~QuietGdal() { CPLPopErrorHandler(); }
  QuietGdal(const QuietGdal&) = delete;
  QuietGdal& operator=(const QuietGdal&) = delete;
};


std::string crs_name(const std::string& wkt) {
  if (wkt.empty()) return "no CRS";
  OGRSpatialReference srs;
  if (srs.importFromWkt(wkt.c_str()) != OGRERR_NONE) return "unknown CRS";
  const char* authority = srs.GetAuthorityName(nullptr);
  const char* code = srs.GetAuthorityCode(nullptr);
  if (authority && code) return std::string(authority) + ":" + code;
  const char* name = srs.GetName();
  return name ? name : "unnamed CRS";
}

bool same_crs(const std::string& a, const std::string& b) {
  if (a.empty() || b.empty()) return true;  // an unreferenced raster on the same pixel grid is taken as is
  if (a == b) return true;
  OGRSpatialReference sa, sb;
  if (sa.importFromWkt(a.c_str()) != OGRERR_NONE || sb.importFromWkt(b.c_str()) != OGRERR_NONE) return false;
  const char* options[] = {"IGNORE_DATA_AXIS_TO_SRS_AXIS_MAPPING=YES", "CRITERION=EQUIVALENT_EXCEPT_AXIS_ORDER_GEOGCRS",
                           nullptr};
  return sa.IsSame(&sb, options) != 0;
}

bool same_grid(const Grid& a, const Grid& b) {
  if (a.width != b.width || a.height != b.height) return false;
  const double tolerance = 1e-6 * std::max(std::abs(a.transform[1]), std::abs(a.transform[5]));
  for (int i = 0; i < 6; ++i)
    if (std::abs(a.transform[i] - b.transform[i]) > tolerance) return false;
  return same_crs(a.crs_wkt, b.crs_wkt);
}

Grid grid_of(GDALDataset& dataset) {
  Grid grid;
  grid.width = dataset.GetRasterXSize();
  grid.height = dataset.GetRasterYSize();
  if (dataset.GetGeoTransform(grid.transform.data()) != CE_None) grid.transform = {0, 1, 0, 0, 0, 1};
  const OGRSpatialReference* srs = dataset.GetSpatialRef();
  if (srs) {
    char* wkt = nullptr;
    srs->exportToWkt(&wkt);
    if (wkt) grid.crs_wkt = wkt;
    CPLFree(wkt);
  }
  return grid;
}

std::string describe_grid(const Grid& grid) {
  std::ostringstream out;
  out << grid.width << "×" << grid.height << " px of " << std::abs(grid.transform[1]) << "×"
      << std::abs(grid.transform[5]) << ", " << crs_name(grid.crs_wkt);
  return out.str();
}

GDALDatasetUniquePtr open_dataset(const std::string& path) {
  QuietGdal quiet;
  return GDALDatasetUniquePtr(
      GDALDataset::Open(path.c_str(), GDAL_OF_RASTER | GDAL_OF_READONLY, nullptr, nullptr, nullptr));
}

GDALDatasetUniquePtr open_raster(const std::string& key, const std::string& path) {
  auto dataset = open_dataset(path);
  if (!dataset) {
    VSIStatBufL status;
    if (VSIStatL(path.c_str(), &status) != 0) throw InputError(key + ": cannot open '" + path + "': no such file");
    throw InputError(key + ": '" + path + "' is not a raster that GDAL can read");
  }
  if (dataset->GetRasterCount() == 0) throw InputError(key + ": '" + path + "' has no raster band");
  return dataset;
}

// One input of a run, a single band or a stack of bands.
struct SourceSpec {
  std::string key;
  std::string path;
  std::vector<int> bands;
  std::optional<double> nodata;
  bool propagate_nodata = true;  // a pixel missing here is missing in every output
};

SourceSpec spec_of(const RasterSource& source) { return {source.key, source.path, {source.band}, source.nodata, true}; }
SourceSpec spec_of(const StackSource& source) { return {source.key, source.path, source.bands, source.nodata, false}; }

GDALDatasetUniquePtr open_source(const SourceSpec& source) {
  auto dataset = open_raster(source.key, source.path);
  const int band_count = dataset->GetRasterCount();
  if (source.bands.empty()) throw InputError(source.key + ": no band of '" + source.path + "' selected");
  for (const int band : source.bands)
    if (band < 1 || band > band_count)
      throw InputError("Invalid band number for " + source.key + " (" + std::to_string(band) +
                       "): valid values for '" + source.path + "' are 1 to " + std::to_string(band_count));
  return dataset;
}

// An input ready for per-thread opening: the file itself when it lies on the reference grid, else a
// warped VRT in GDAL's in-memory file system that resamples it onto the grid (its bands then are 1…n).
struct PreparedInput {
  std::string key;
  std::string path;
  std::vector<int> bands;
  std::optional<double> nodata;
  bool propagate_nodata = true;
  std::vector<std::string> temporary_files;
};

std::string absolute_if_local(const std::string& path) {
  std::error_code error;
  if (path.rfind("/vsi", 0) == 0 || !fs::exists(path, error)) return path;
  return fs::absolute(path, error).string();
}

std::string format_double(double value) {
  std::ostringstream out;
  out.precision(17);
  out << value;
  return out.str();
}

// The extent of `grid` in its own coordinates: xmin, ymin, xmax, ymax.
std::array<double, 4> extent_of(const Grid& grid) {
  const double x0 = grid.transform[0], y0 = grid.transform[3];
  const double x1 = x0 + grid.width * grid.transform[1] + grid.height * grid.transform[2];
  const double y1 = y0 + grid.width * grid.transform[4] + grid.height * grid.transform[5];
  return {std::min(x0, x1), std::min(y0, y1), std::max(x0, x1), std::max(y0, y1)};
}

// An input that lies wholly outside the reference grid would align to nothing but nodata: an error,
// not an empty result with exit 0.
void check_overlap(const SourceSpec& source, const Grid& own, const Grid& reference, const std::string& reference_key) {
  std::array<double, 4> bounds = extent_of(own);
  if (!own.crs_wkt.empty() && !reference.crs_wkt.empty() && !same_crs(own.crs_wkt, reference.crs_wkt)) {
    OGRSpatialReference from, to;
    from.importFromWkt(own.crs_wkt.c_str());
    to.importFromWkt(reference.crs_wkt.c_str());
    from.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
    to.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
    std::unique_ptr<OGRCoordinateTransformation> transform(OGRCreateCoordinateTransformation(&from, &to));
    std::array<double, 4> projected{};
    QuietGdal quiet;
    // Bounds that cannot be projected (a CRS far outside the other's area) leave the warp to decide.
    if (!transform || !transform->TransformBounds(bounds[0], bounds[1], bounds[2], bounds[3], &projected[0],
                                                  &projected[1], &projected[2], &projected[3], 21))
      return;
    bounds = projected;
  }
  const std::array<double, 4> target = extent_of(reference);
  if (bounds[2] <= target[0] || bounds[0] >= target[2] || bounds[3] <= target[1] || bounds[1] >= target[3]) {
    std::ostringstream message;
    message << source.key << ": '" << source.path << "' does not overlap the grid of " << reference_key << " ("
            << describe_grid(reference) << ", x " << target[0] << " to " << target[2] << ", y " << target[1] << " to "
            << target[3] << "); it covers x " << bounds[0] << " to " << bounds[2] << ", y " << bounds[1] << " to "
            << bounds[3] << " in that CRS: the result would be nodata everywhere";
    throw InputError(message.str());
  }
}

PreparedInput align_to_grid(const SourceSpec& source, GDALDataset& dataset, const Grid& reference,
                            const std::string& reference_key, const EngineOptions& options, int serial,
                            Reporter& reporter) {
  const Grid own = grid_of(dataset);
  if (own.crs_wkt.empty() != reference.crs_wkt.empty())
    throw InputError(source.key + ": '" + source.path + "' is on another grid than " + reference_key +
                     " and one of the two has no CRS, so it cannot be aligned; assign a CRS to both");
  if (reference.transform[2] != 0.0 || reference.transform[4] != 0.0 || reference.transform[5] >= 0.0)
    throw InputError(reference_key + ": the reference grid must be north-up without rotation to align " + source.key);

  check_overlap(source, own, reference, reference_key);

  std::vector<int> warped_bands(source.bands.size());
  std::iota(warped_bands.begin(), warped_bands.end(), 1);
  PreparedInput prepared{source.key, "", warped_bands, std::nullopt, source.propagate_nodata, {}};
  const std::string stem = "/vsimem/smr/" + std::to_string(getpid()) + "_" + std::to_string(serial);

  // The selected bands first, so the warp does not resample bands nobody reads.
  std::vector<std::string> translate_args = {"-of", "VRT"};
  for (const int band : source.bands) translate_args.insert(translate_args.end(), {"-b", std::to_string(band)});
  if (source.nodata) translate_args.insert(translate_args.end(), {"-a_nodata", format_double(*source.nodata)});
  CPLStringList translate_list;
  for (const auto& arg : translate_args) translate_list.AddString(arg.c_str());
  GDALTranslateOptions* translate_options = GDALTranslateOptionsNew(translate_list.List(), nullptr);
  const std::string band_path = stem + "_band.vrt";
  int usage_error = FALSE;
  GDALDatasetH band_vrt = GDALTranslate(band_path.c_str(), GDALDataset::ToHandle(&dataset), translate_options, &usage_error);
  GDALTranslateOptionsFree(translate_options);
  if (!band_vrt) throw std::runtime_error(source.key + ": could not select band for alignment: " + CPLGetLastErrorMsg());
  prepared.temporary_files.push_back(band_path);

  const double xmin = reference.transform[0];
  const double ymax = reference.transform[3];
  const double xmax = xmin + reference.width * reference.transform[1];
  const double ymin = ymax + reference.height * reference.transform[5];
  std::vector<std::string> warp_args = {"-of", "VRT", "-ot", "Float32", "-r", options.resampling,
                                        "-te", format_double(xmin), format_double(ymin), format_double(xmax),
                                        format_double(ymax), "-ts", std::to_string(reference.width),
                                        std::to_string(reference.height), "-dstnodata", "nan"};
  if (!reference.crs_wkt.empty()) warp_args.insert(warp_args.end(), {"-t_srs", reference.crs_wkt});
  CPLStringList warp_list;
  for (const auto& arg : warp_args) warp_list.AddString(arg.c_str());
  GDALWarpAppOptions* warp_options = GDALWarpAppOptionsNew(warp_list.List(), nullptr);
  const std::string warp_path = stem + "_warp.vrt";
  GDALDatasetH warped = GDALWarp(warp_path.c_str(), nullptr, 1, &band_vrt, warp_options, &usage_error);
  GDALWarpAppOptionsFree(warp_options);
  GDALClose(warped);
  GDALClose(band_vrt);
  if (!warped) throw std::runtime_error(source.key + ": could not build the alignment: " + CPLGetLastErrorMsg());
  prepared.temporary_files.push_back(warp_path);
  prepared.path = warp_path;

  reporter.info(source.key + ": aligned to the grid of " + reference_key + " (" + describe_grid(reference) +
                ") with " + options.resampling + " resampling; source grid " + describe_grid(own));
  return prepared;
}

// Formats that cannot hold a run's values: a VRT refers to its sources by path (the run's temporaries,
// gone after the run); a KML super-overlay renders image tiles, not data.
const std::vector<std::string> kRefusedDrivers = {"VRT", "KMLSUPEROVERLAY"};

bool writes_float32(GDALDriver* driver) {
  const char* types = driver->GetMetadataItem(GDAL_DMD_CREATIONDATATYPES);
  if (types == nullptr) return false;
  std::istringstream words(types);
  for (std::string word; words >> word;)
    if (word == "Float32") return true;
  return false;
}

bool writable_raster_driver(GDALDriver* driver) {
  return driver->GetMetadataItem(GDAL_DCAP_RASTER) != nullptr &&
         (driver->GetMetadataItem(GDAL_DCAP_CREATE) != nullptr || driver->GetMetadataItem(GDAL_DCAP_CREATECOPY) != nullptr) &&
         writes_float32(driver) &&
         std::find(kRefusedDrivers.begin(), kRefusedDrivers.end(), driver->GetDescription()) == kRefusedDrivers.end();
}

std::vector<std::string> extensions_of(GDALDriver* driver) {
  std::vector<std::string> result;
  const char* extensions = driver->GetMetadataItem(GDAL_DMD_EXTENSIONS);
  if (extensions == nullptr) return result;
  std::istringstream words(extensions);
  for (std::string word; words >> word;) result.push_back(lowercase(word));
  return result;
}

GDALDriver* driver_for(const RasterTarget& target) {
  const std::string extension = lowercase(fs::path(target.path).extension().string());
  if (extension.empty())
    throw InputError(target.key + ": '" + target.path + "' has no file extension; use .tif for GeoTIFF");
  const std::string bare = extension.substr(1);
  if (bare == "tif" || bare == "tiff") return GetGDALDriverManager()->GetDriverByName("GTiff");
  auto* manager = GetGDALDriverManager();
  for (int i = 0; i < manager->GetDriverCount(); ++i) {
    GDALDriver* driver = manager->GetDriver(i);
    if (!writable_raster_driver(driver)) continue;
    const auto extensions = extensions_of(driver);
    if (std::find(extensions.begin(), extensions.end(), bare) != extensions.end()) return driver;
  }
  std::string supported;
  for (const auto& known : writable_raster_extensions()) supported += (supported.empty() ? "" : " ") + known;
  throw InputError(target.key + ": smr cannot write Float32 rasters as '" + extension + "' ('" + target.path +
                   "'); supported extensions: " + supported + " (.tif for GeoTIFF)");
}

// The previous raster at `path` and the sidecars GDAL keeps beside it (.aux.xml statistics, .ovr
// overviews, a .hdr header): files that would describe old data once the new output is in place.
std::vector<std::string> previous_dataset_files(const std::string& path) {
  std::vector<std::string> files;
  std::error_code error;
  if (!fs::exists(path, error)) return files;
  const auto dataset = open_dataset(path);
  if (!dataset) return files;
  char** list = dataset->GetFileList();
  for (char** item = list; item != nullptr && *item != nullptr; ++item) files.emplace_back(*item);
  CSLDestroy(list);
  return files;
}

// The GeoTIFF tile edge for a run whose windows carry `bytes_per_pixel`: 256, or less so that one tile
// of every band fits the window budget (a multiple of 16, as TIFF tiles must be).
// No larger than the raster needs: padding blocks of a tiny grid would be written and compressed too.
int tile_size_for(long long bytes_per_pixel, const Grid& grid) {
  int tile = kTileSize;
  while (tile > 16 && static_cast<long long>(tile) * tile * bytes_per_pixel > kWindowBudgetBytes) tile -= 16;
  const int needed = (std::max(grid.width, grid.height) + 15) / 16 * 16;
  return std::max(16, std::min(tile, needed));
}

CPLStringList creation_options(GDALDriver* driver, const std::vector<std::string>& user_options, int threads, int tile,
                               bool several_bands) {
  CPLStringList list;
  const bool geotiff = std::string(driver->GetDescription()) == "GTiff";
  if (user_options.empty() && geotiff) {
    const std::string size = std::to_string(tile);
    for (const std::string& option : {std::string("TILED=YES"), "BLOCKXSIZE=" + size, "BLOCKYSIZE=" + size,
                                      std::string("COMPRESS=DEFLATE"), std::string("PREDICTOR=3"), std::string("BIGTIFF=IF_SAFER")})
      list.AddString(option.c_str());
    // Band-interleaved, so each band's blocks are written on their own (pixel interleaving would gather
    // every band of a block in GDAL's cache first).
    if (several_bands) list.AddString("INTERLEAVE=BAND");
  }
  for (const auto& option : user_options) {
    if (option.find('=') == std::string::npos)
      throw InputError("CREATE_OPTIONS: '" + option + "' is not of the form KEY=VALUE");
    list.AddString(option.c_str());
  }
  // Compression runs on GDAL's worker threads, or it would serialise behind the single writer.
  if (geotiff && list.FetchNameValue("NUM_THREADS") == nullptr)
    list.SetNameValue("NUM_THREADS", std::to_string(threads).c_str());
  {
    QuietGdal quiet;
    if (!GDALValidateCreationOptions(driver, list.List()))
      throw InputError("CREATE_OPTIONS: " + std::string(CPLGetLastErrorMsg()) + " (" + driver->GetDescription() + " format)");
  }
  return list;
}

struct OutputDataset {
  GDALDatasetUniquePtr dataset;   // a GeoTIFF: the output itself, or the work file converted at the end
  std::vector<GDALRasterBand*> bands;
  int block_width = 0, block_height = 0;
  std::string staged;             // where the output is written until the run's outputs are committed
  GDALDriver* final_driver = nullptr;  // null when `dataset` is the output; else converted to this format
  CPLStringList final_options;
};

// Every output is written as a tiled GeoTIFF — the file itself when the target is one, else a work file
// converted once at the end by the target format's driver (CreateCopy): every format then gets whole
// blocks in a fixed order, including those that cannot Create or write blocks at random.
std::vector<OutputDataset> create_outputs(const std::vector<RasterTarget>& targets, const Grid& grid,
                                          const EngineOptions& options, int threads, int tile,
                                          OutputTransaction& transaction, Reporter& reporter) {
  GDALDriver* geotiff = GetGDALDriverManager()->GetDriverByName("GTiff");
  std::vector<OutputDataset> outputs;
  for (const RasterTarget& target : targets) {
    reporter.throw_if_cancelled();
    if (target.path.empty()) throw InputError(target.key + ": no output path given");
    GDALDriver* driver = driver_for(target);
    const int band_count = target.band_count();
    OutputDataset output;
    output.staged = transaction.stage(target.key, target.path, previous_dataset_files(target.path));
    std::string work_path = output.staged;
    CPLStringList create;
    if (driver == geotiff) {
      create = creation_options(geotiff, options.create_options, threads, tile, band_count > 1);
    } else {
      output.final_driver = driver;
      output.final_options = creation_options(driver, options.create_options, threads, tile, band_count > 1);
      create = creation_options(geotiff, {}, threads, tile, band_count > 1);
      create.SetNameValue("COMPRESS", "NONE");  // read once by the conversion: not worth compressing
      create.SetNameValue("PREDICTOR", nullptr);
      work_path = output.staged + ".smr-work.tif";
    }
    GDALDataset* created = geotiff->Create(work_path.c_str(), grid.width, grid.height, band_count, GDT_Float32, create.List());
    if (!created) {
      const std::string full = disk_full_reason(work_path);
      throw InputError(target.key + ": cannot create '" + target.path + "': " + (full.empty() ? CPLGetLastErrorMsg() : full));
    }
    output.dataset.reset(created);
    for (int b = 1; b <= band_count; ++b) output.bands.push_back(created->GetRasterBand(b));
    output.bands.front()->GetBlockSize(&output.block_width, &output.block_height);
    created->SetGeoTransform(const_cast<double*>(grid.transform.data()));
    if (!grid.crs_wkt.empty()) created->SetProjection(grid.crs_wkt.c_str());
    for (const auto& [name, value] : target.metadata) created->SetMetadataItem(name.c_str(), value.c_str());
    for (int b = 0; b < band_count; ++b) {
      output.bands[b]->SetNoDataValue(kOutputNodata);
      const std::string& description = target.band_descriptions.empty() ? target.description : target.band_descriptions[b];
      if (!description.empty()) output.bands[b]->SetDescription(description.c_str());
    }
    outputs.push_back(std::move(output));
  }
  return outputs;
}

int CPL_STDCALL conversion_progress(double, const char*, void* reporter) {
  return static_cast<Reporter*>(reporter)->cancelled() ? FALSE : TRUE;
}

// Closes every output (flushing GDAL's cache) and converts the work files of other formats; any failure
// names the output and, where that is the cause, says the disk is full.
void finish_outputs(std::vector<OutputDataset>& outputs, const std::vector<RasterTarget>& targets, Reporter& reporter) {
  for (std::size_t o = 0; o < outputs.size(); ++o) {
    OutputDataset& output = outputs[o];
    const RasterTarget& target = targets[o];
    const auto write_failure = [&](const std::string& what) {
      const std::string full = disk_full_reason(output.staged);
      return InputError(target.key + ": writing '" + target.path + "' failed: " + (full.empty() ? what : full));
    };
    const int failures_before = g_gdal_failures.load();
    if (output.final_driver == nullptr) {
      output.dataset->FlushCache(true);
      if (g_gdal_failures.load() != failures_before) throw write_failure(CPLGetLastErrorMsg());
      output.dataset.reset();
      if (g_gdal_failures.load() != failures_before) throw write_failure(CPLGetLastErrorMsg());
      continue;
    }
    output.dataset->FlushCache(true);
    if (g_gdal_failures.load() != failures_before) throw write_failure(CPLGetLastErrorMsg());
    GDALDatasetUniquePtr converted(output.final_driver->CreateCopy(output.staged.c_str(), output.dataset.get(), FALSE,
                                                                   output.final_options.List(), conversion_progress,
                                                                   &reporter));
    reporter.throw_if_cancelled();
    if (!converted) throw write_failure(std::string(output.final_driver->GetDescription()) + ": " + CPLGetLastErrorMsg());
    converted.reset();
    if (g_gdal_failures.load() != failures_before) throw write_failure(CPLGetLastErrorMsg());
    const std::string work_path = output.dataset->GetDescription();
    output.dataset.reset();
    QuietGdal quiet;
    GDALDeleteDataset(GDALGetDriverByName("GTiff"), work_path.c_str());
  }
}

struct Window {
  int x0, y0, width, height;
};

// Windows hold whole blocks of every output, so no block is written twice and every write is a whole
// block. Their area stays near `max_pixels` whatever the layout (full-width strips get fewer rows),
// which bounds the per-thread buffers whatever the raster size.
std::vector<Window> windows_for(const Grid& grid, const std::vector<OutputDataset>& outputs, long long max_pixels) {
  long long unit_width = 1, unit_height = 1;
  for (const auto& output : outputs) {
    unit_width = std::lcm(unit_width, static_cast<long long>(std::min(output.block_width, grid.width)));
    unit_height = std::lcm(unit_height, static_cast<long long>(std::min(output.block_height, grid.height)));
    if (unit_width * unit_height > 16 * kMaxWindowPixels)
      throw InputError("the outputs' formats lay out their blocks too differently to be written together; "
                       "give every output the same format (e.g. .tif)");
  }
  const long long width_limit = std::min<long long>(kMaxWindowWidth, max_pixels / std::min<long long>(unit_height, grid.height));
  long long columns = unit_width >= grid.width ? grid.width : unit_width * std::max(1LL, width_limit / unit_width);
  if (columns >= grid.width) columns = grid.width;
  long long rows = unit_height * std::max(1LL, (kTileSize + unit_height - 1) / unit_height);
  rows = std::max(unit_height, std::min(rows, unit_height * std::max(1LL, max_pixels / (columns * unit_height))));
  std::vector<Window> windows;
  for (long long y = 0; y < grid.height; y += rows)
    for (long long x = 0; x < grid.width; x += columns)
      windows.push_back({static_cast<int>(x), static_cast<int>(y), static_cast<int>(std::min(columns, grid.width - x)),
                         static_cast<int>(std::min(rows, grid.height - y))});
  return windows;
}

// Writes a window as whole blocks straight to the driver. Going through GDAL's block cache instead would
// leave dirty blocks that whichever thread next needs cache space must flush (and compress) under the
// dataset's lock, which serialises the run.
void write_blocks(GDALRasterBand& band, const OutputDataset& output, const Window& window, const float* values,
                  std::vector<float>& tile, const RasterTarget& target) {
  const int block_width = output.block_width, block_height = output.block_height;
  tile.resize(static_cast<std::size_t>(block_width) * block_height);
  for (int by = window.y0; by < window.y0 + window.height; by += block_height)
    for (int bx = window.x0; bx < window.x0 + window.width; bx += block_width) {
      const int rows = std::min(block_height, window.y0 + window.height - by);
      const int columns = std::min(block_width, window.x0 + window.width - bx);
      if (rows < block_height || columns < block_width) std::fill(tile.begin(), tile.end(), kOutputNodata);
      for (int r = 0; r < rows; ++r)
        std::copy_n(values + static_cast<std::size_t>(by - window.y0 + r) * window.width + (bx - window.x0), columns,
                    tile.begin() + static_cast<std::size_t>(r) * block_width);
      if (band.WriteBlock(bx / block_width, by / block_height, tile.data()) != CE_None) {
        const std::string full = disk_full_reason(output.staged);
        throw InputError(target.key + ": writing '" + target.path + "' failed: " + (full.empty() ? CPLGetLastErrorMsg() : full));
      }
    }
}

// One window's output bands: per target, band after band, width·height values each.
using WindowValues = std::vector<std::vector<float>>;

// Writes the windows in window order whatever order the threads finish them in, so a file's bytes (the
// order of its blocks) are the same for any THREADS. A window finished early waits in a bounded queue;
// a thread that finds the queue full waits for the writer to catch up, so memory stays bounded.
class OrderedWriter {
 public:
  OrderedWriter(std::vector<OutputDataset>& outputs, const std::vector<RasterTarget>& targets,
                const std::vector<Window>& windows, std::size_t max_waiting)
      : outputs_(outputs), targets_(targets), windows_(windows), max_waiting_(std::max<std::size_t>(1, max_waiting)) {}

  // Hands over window w; `values` comes back ready for the thread's next window. Returns false when
  // the run stopped (`stopped()` became true) before the window could be written.
  template <typename Stopped>
  bool submit(long long w, WindowValues& values, const Stopped& stopped) {
    std::unique_lock<std::mutex> lock(mutex_);
    // Cancel arrives by signal, without a notification: poll it.
    while (w != next_ && waiting_.size() >= max_waiting_) {
      if (stopped()) return false;
      ready_.wait_for(lock, std::chrono::milliseconds(20));
    }
    if (w != next_) {
      WindowValues fresh;
      if (spare_.empty())
        for (const auto& band_values : values) fresh.emplace_back(band_values.size());
      waiting_.emplace(w, std::move(values));
      if (spare_.empty()) {
        values = std::move(fresh);
      } else {
        values = std::move(spare_.back());
        spare_.pop_back();
      }
      return true;
    }
    try {
      write(w, values);
      while (!waiting_.empty() && waiting_.begin()->first == next_) {
        write(next_, waiting_.begin()->second);
        spare_.push_back(std::move(waiting_.begin()->second));
        waiting_.erase(waiting_.begin());
      }
    } catch (...) {
      ready_.notify_all();
      throw;
    }
    ready_.notify_all();
    return true;
  }

 private:
  void write(long long w, const WindowValues& values) {
    const Window& window = windows_[static_cast<std::size_t>(w)];
    const std::size_t n = static_cast<std::size_t>(window.width) * static_cast<std::size_t>(window.height);
    for (std::size_t o = 0; o < outputs_.size(); ++o)
      for (std::size_t b = 0; b < outputs_[o].bands.size(); ++b)
        write_blocks(*outputs_[o].bands[b], outputs_[o], window, values[o].data() + b * n, tile_, targets_[o]);
    ++next_;
  }

  std::vector<OutputDataset>& outputs_;
  const std::vector<RasterTarget>& targets_;
  const std::vector<Window>& windows_;
  const std::size_t max_waiting_;
  std::mutex mutex_;
  std::condition_variable ready_;
  long long next_ = 0;
  std::map<long long, WindowValues> waiting_;
  std::vector<WindowValues> spare_;
  std::vector<float> tile_;
};

struct ThreadInput {
  GDALDatasetUniquePtr dataset;
  std::vector<std::optional<float>> nodata;  // per band
};

// With no targets the run is a scan: windows come from the grid alone, the kernel only reads, and a
// pixel is valid wherever every input is.
RunCounts run_blocks(const Grid& grid, const std::vector<PreparedInput>& inputs,
                     const std::vector<RasterTarget>& targets, const EngineOptions& options, int counter_count,
                     const BlockKernel& kernel, Reporter& reporter, const std::vector<SourceSpec>& sources) {
  if (targets.empty() && inputs.empty()) throw std::logic_error("a run needs an input to scan or an output to write");
  const int threads = resolve_threads(options.threads);
  long long bands_per_pixel = 0;
  for (const auto& input : inputs) bands_per_pixel += static_cast<long long>(input.bands.size());
  for (const auto& target : targets) bands_per_pixel += target.band_count();
  const long long bytes_per_pixel = std::max(1LL, bands_per_pixel) * static_cast<long long>(sizeof(float));
  const long long max_pixels = std::max(1LL, std::min(kMaxWindowPixels, kWindowBudgetBytes / bytes_per_pixel));
  // Declared before the outputs, so their datasets are closed before a failed run's files are removed.
  OutputScope scope;
  for (const auto& source : sources) scope.transaction().declare_input(source.key, source.path);
  auto outputs = create_outputs(targets, grid, options, threads, tile_size_for(bytes_per_pixel, grid),
                                scope.transaction(), reporter);
  const auto windows = windows_for(grid, outputs, max_pixels);
  OrderedWriter writer(outputs, targets, windows, static_cast<std::size_t>(threads));

  RunCounts totals;
  totals.counters.assign(counter_count, 0);
  FirstError first_error;
  std::atomic<long long> done{0};
  const int failures_before = g_gdal_failures.load();

#pragma omp parallel num_threads(options.parallel_kernel ? 1 : threads)
  {
    std::vector<ThreadInput> handles(inputs.size());
    std::vector<std::vector<float>> in_buffers, out_buffers;
    bool opened = true;
    // Nothing may escape an OpenMP region: a failure here (e.g. bad_alloc) is recorded like any other.
    try {
      for (std::size_t i = 0; i < inputs.size() && opened; ++i) {
        handles[i].dataset = open_dataset(inputs[i].path);
        if (!handles[i].dataset) {
          first_error.record(inputs[i].key + ": cannot reopen '" + inputs[i].path + "'", false);
          opened = false;
          break;
        }
        for (const int band : inputs[i].bands) {
          int has_nodata = FALSE;
          const double nodata = handles[i].dataset->GetRasterBand(band)->GetNoDataValue(&has_nodata);
          const std::optional<double> effective = inputs[i].nodata ? inputs[i].nodata
                                                  : has_nodata   ? std::optional<double>(nodata)
                                                                 : std::nullopt;
          handles[i].nodata.push_back(effective && !std::isnan(*effective) ? std::optional<float>(static_cast<float>(*effective))
                                                                          : std::nullopt);
        }
      }
      const std::size_t capacity = static_cast<std::size_t>(windows.empty() ? 0 : windows.front().width) *
                                   static_cast<std::size_t>(windows.empty() ? 0 : windows.front().height);
      if (opened) {
        for (const auto& input : inputs) in_buffers.emplace_back(capacity * input.bands.size());
        for (const auto& target : targets) out_buffers.emplace_back(capacity * static_cast<std::size_t>(target.band_count()));
      }
    } catch (const std::exception& error) {
      first_error.record(std::string("preparing a worker thread: ") + error.what(), false);
      opened = false;
    }
    RunCounts local;
    local.counters.assign(counter_count, 0);

#pragma omp for schedule(dynamic, 1)
    for (long long w = 0; w < static_cast<long long>(windows.size()); ++w) {
      if (!opened || first_error.failed() || reporter.cancelled()) continue;
      const Window& window = windows[static_cast<std::size_t>(w)];
      try {
        Block block;
        block.x0 = window.x0;
        block.y0 = window.y0;
        block.width = window.width;
        block.height = window.height;
        block.grid = &grid;
        block.counters.assign(counter_count, 0);
        const std::size_t n = block.size();
        std::vector<const float*> propagating;
        for (std::size_t i = 0; i < inputs.size(); ++i) {
          float* values = in_buffers[i].data();
          const int band_count = static_cast<int>(inputs[i].bands.size());
          if (handles[i].dataset->RasterIO(GF_Read, window.x0, window.y0, window.width, window.height, values,
                                           window.width, window.height, GDT_Float32, band_count,
                                           const_cast<int*>(inputs[i].bands.data()), 0, 0,
                                           static_cast<GSpacing>(n * sizeof(float)), nullptr) != CE_None)
            throw InputError(inputs[i].key + ": reading '" + (i < sources.size() ? sources[i].path : inputs[i].path) +
                             "' failed at rows " + std::to_string(window.y0 + 1) + "–" +
                             std::to_string(window.y0 + window.height) + " (a truncated or corrupt file?): " +
                             CPLGetLastErrorMsg());
          for (int b = 0; b < band_count; ++b) {
            float* band_values = values + static_cast<std::size_t>(b) * n;
            if (const auto nodata = handles[i].nodata[static_cast<std::size_t>(b)])
              for (std::size_t p = 0; p < n; ++p)
                if (band_values[p] == *nodata) band_values[p] = std::numeric_limits<float>::quiet_NaN();
            block.inputs.push_back(band_values);
            if (inputs[i].propagate_nodata) propagating.push_back(band_values);
          }
        }
        for (std::size_t o = 0; o < targets.size(); ++o)
          for (int b = 0; b < targets[o].band_count(); ++b) block.outputs.push_back(out_buffers[o].data() + static_cast<std::size_t>(b) * n);
        kernel(block);

        for (std::size_t p = 0; p < n; ++p) {
          bool input_missing = false;
          for (const float* values : propagating) input_missing |= std::isnan(values[p]);
          if (input_missing) {
            ++local.nodata;
            for (float* values : block.outputs) values[p] = kOutputNodata;
            continue;
          }
          if (block.outputs.empty()) {
            ++local.valid;
            continue;
          }
          if (std::isfinite(block.outputs[0][p])) ++local.valid; else ++local.invalid;
          for (float* values : block.outputs)
            if (!std::isfinite(values[p])) values[p] = kOutputNodata;
        }
        for (int c = 0; c < counter_count; ++c) local.counters[c] += block.counters[c];

        if (!outputs.empty() && !writer.submit(w, out_buffers, [&] { return first_error.failed() || reporter.cancelled(); })) continue;
        reporter.progress(static_cast<double>(++done) / static_cast<double>(windows.size()));
      } catch (const InputError& error) {
        first_error.record(error.what(), true);
      } catch (const std::exception& error) {
        first_error.record(error.what(), false);
      }
    }
#pragma omp critical(smr_merge_counts)
    {
      totals.nodata += local.nodata;
      totals.invalid += local.invalid;
      totals.valid += local.valid;
      for (int c = 0; c < counter_count; ++c) totals.counters[c] += local.counters[c];
    }
  }

  reporter.throw_if_cancelled();  // first: a kernel stopped by the cancel reports it as its failure
  first_error.rethrow_if_any();
  if (g_gdal_failures.load() != failures_before)
    throw std::runtime_error(std::string("GDAL reported an error during the run: ") + CPLGetLastErrorMsg());
  finish_outputs(outputs, targets, reporter);
  scope.finish();
  return totals;
}

// Every input opened and checked once, and aligned to the reference grid (REFERENCE, else the first
// input). The warped VRTs of the alignment live in GDAL's in-memory file system as long as this does.
class AlignedInputs {
 public:
  AlignedInputs(const std::vector<SourceSpec>& sources, const EngineOptions& options, Reporter& reporter) {
    if (sources.empty()) throw std::logic_error("a raster run needs at least one input");
    try {
      prepare(sources, options, reporter);
    } catch (...) {
      remove_temporary_files();
      throw;
    }
  }
  ~AlignedInputs() { remove_temporary_files(); }
  AlignedInputs(const AlignedInputs&) = delete;
  AlignedInputs& operator=(const AlignedInputs&) = delete;

  const Grid& grid() const { return grid_; }
  const std::vector<PreparedInput>& inputs() const { return inputs_; }

 private:
  void prepare(const std::vector<SourceSpec>& sources, const EngineOptions& options, Reporter& reporter) {
    std::size_t reference_index = 0;
    if (!options.reference_key.empty()) {
      const auto it = std::find_if(sources.begin(), sources.end(),
                                   [&](const SourceSpec& s) { return s.key == options.reference_key; });
      if (it == sources.end()) {
        std::string keys;
        for (const auto& s : sources) keys += (keys.empty() ? "" : ", ") + s.key;
        throw InputError("REFERENCE is '" + options.reference_key + "': valid values are the raster inputs " + keys);
      }
      reference_index = static_cast<std::size_t>(it - sources.begin());
    }
    std::vector<GDALDatasetUniquePtr> datasets;
    for (const auto& source : sources) datasets.push_back(open_source(source));
    grid_ = grid_of(*datasets[reference_index]);
    const std::string& reference_key = sources[reference_index].key;
    for (std::size_t i = 0; i < sources.size(); ++i) {
      if (same_grid(grid_of(*datasets[i]), grid_)) {
        inputs_.push_back({sources[i].key, absolute_if_local(sources[i].path), sources[i].bands, sources[i].nodata,
                           sources[i].propagate_nodata, {}});
      } else {
        SourceSpec source = sources[i];
        source.path = absolute_if_local(source.path);
        inputs_.push_back(align_to_grid(source, *datasets[i], grid_, reference_key, options, static_cast<int>(i), reporter));
      }
    }
  }

  void remove_temporary_files() {
    for (const auto& input : inputs_)
      for (const auto& file : input.temporary_files) VSIUnlink(file.c_str());
  }

  Grid grid_;
  std::vector<PreparedInput> inputs_;
};

}  // namespace

int resolve_threads(int requested) { return requested > 0 ? requested : std::max(1, omp_get_num_procs()); }

GdalSession::GdalSession(Reporter& reporter) {
  static std::once_flag once;
  std::call_once(once, [] {
    GDALAllRegister();
    // Our blocks are read and written once each; a large cache would only make memory grow with the raster.
    if (CPLGetConfigOption("GDAL_CACHEMAX", nullptr) == nullptr) GDALSetCacheMax64(64LL * 1024 * 1024);
  });
  g_gdal_reporter = &reporter;
  g_gdal_messages = 0;
  CPLSetErrorHandler(forward_gdal_message);
}

GdalSession::~GdalSession() {
  CPLSetErrorHandler(CPLDefaultErrorHandler);
  g_gdal_reporter = nullptr;
}

EngineOptions engine_options(const Params& params) {
  EngineOptions options;
  options.threads = static_cast<int>(params.integer_in("THREADS", 0, 1024, 0));
  options.resampling = params.choice("RESAMPLING", kResamplings, std::string("bilinear"));
  options.create_options = params.texts("CREATE_OPTIONS");
  options.reference_key = params.has("REFERENCE") ? params.text("REFERENCE") : "";
  return options;
}

namespace {

template <typename Source>
std::vector<SourceSpec> specs_of(const std::vector<Source>& sources) {
  std::vector<SourceSpec> specs;
  for (const auto& source : sources) specs.push_back(spec_of(source));
  return specs;
}

RunCounts run_sources(const std::vector<SourceSpec>& inputs, const std::vector<RasterTarget>& outputs,
                      const EngineOptions& options, int counter_count, const BlockKernel& kernel, Reporter& reporter) {
  if (outputs.empty()) throw std::logic_error("a writing run needs at least one output; a scan reads only");
  const AlignedInputs aligned(inputs, options, reporter);
  return run_blocks(aligned.grid(), aligned.inputs(), outputs, options, counter_count, kernel, reporter, inputs);
}

RunCounts scan_sources(const std::vector<SourceSpec>& inputs, const EngineOptions& options, const BlockVisitor& visit,
                       Reporter& reporter) {
  const AlignedInputs aligned(inputs, options, reporter);
  const BlockKernel reader = [&visit](Block& block) { visit(block); };
  return run_blocks(aligned.grid(), aligned.inputs(), {}, options, 0, reader, reporter, inputs);
}

}  // namespace

RunCounts run_pixelwise(const std::vector<RasterSource>& inputs, const std::vector<RasterTarget>& outputs,
                        const EngineOptions& options, int counter_count, const BlockKernel& kernel,
                        Reporter& reporter) {
  return run_sources(specs_of(inputs), outputs, options, counter_count, kernel, reporter);
}

RunCounts scan_pixelwise(const std::vector<RasterSource>& inputs, const EngineOptions& options,
                         const BlockVisitor& visit, Reporter& reporter) {
  return scan_sources(specs_of(inputs), options, visit, reporter);
}

RunCounts run_stackwise(const std::vector<StackSource>& inputs, const std::vector<RasterTarget>& outputs,
                        const EngineOptions& options, int counter_count, const BlockKernel& kernel, Reporter& reporter) {
  return run_sources(specs_of(inputs), outputs, options, counter_count, kernel, reporter);
}

RunCounts scan_stackwise(const std::vector<StackSource>& inputs, const EngineOptions& options,
                         const BlockVisitor& visit, Reporter& reporter) {
  return scan_sources(specs_of(inputs), options, visit, reporter);
}

std::vector<std::string> band_descriptions(const std::string& key, const std::string& path) {
  const auto dataset = open_raster(key, path);
  std::vector<std::string> descriptions;
  for (int b = 1; b <= dataset->GetRasterCount(); ++b) descriptions.push_back(dataset->GetRasterBand(b)->GetDescription());
  return descriptions;
}

RunCounts run_on_grid(const Grid& grid, const std::vector<RasterTarget>& outputs, const EngineOptions& options,
                      int counter_count, const BlockKernel& kernel, Reporter& reporter) {
  return run_blocks(grid, {}, outputs, options, counter_count, kernel, reporter, {});
}

json raster_result(const RunCounts& counts, const std::vector<RasterTarget>& targets) {
  json result = {{"NODATA_PIXELS", counts.nodata}, {"INVALID_PIXELS", counts.invalid}, {"VALID_PIXELS", counts.valid}};
  for (const auto& target : targets) result[target.key] = target.path;
  return result;
}

std::vector<std::string> writable_raster_extensions() {
  std::set<std::string> extensions;
  auto* manager = GetGDALDriverManager();
  for (int i = 0; i < manager->GetDriverCount(); ++i) {
    GDALDriver* driver = manager->GetDriver(i);
    if (!writable_raster_driver(driver)) continue;
    for (const auto& extension : extensions_of(driver)) extensions.insert(extension);
  }
  return {extensions.begin(), extensions.end()};
}

std::vector<std::string> with_engine_keys(std::vector<std::string> keys) {
  keys.insert(keys.end(), kEngineKeys.begin(), kEngineKeys.end());
  return keys;
}

}  // namespace smr
