#include "support.hpp"

#include <catch2/catch.hpp>
#include <ogr_spatialref.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <set>
#include <stdexcept>

namespace smr::test {

namespace fs = std::filesystem;

TempDir::TempDir() {
  static std::atomic<int> counter{0};
  path_ = fs::temp_directory_path() / ("smr-test-" + std::to_string(getpid()) + "-" + std::to_string(counter++));
  fs::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code error;
  fs::remove_all(path_, error);
}

std::vector<std::string> TempDir::entries() const {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(path_)) names.push_back(entry.path().filename().string());
  return names;
}

void write_raster(const std::string& path, const std::vector<float>& values, const GridSpec& grid, const double* nodata) {
  write_stack(path, {values}, grid, nodata);
}

void write_stack(const std::string& path, const std::vector<std::vector<float>>& bands, const GridSpec& grid,
                 const double* nodata, const std::vector<std::string>& descriptions) {
  GDALAllRegister();
  GDALDriver* driver = GetGDALDriverManager()->GetDriverByName("GTiff");
  GDALDatasetUniquePtr dataset(
      driver->Create(path.c_str(), grid.width, grid.height, static_cast<int>(bands.size()), GDT_Float32, nullptr));
  double transform[6] = {grid.x0, grid.pixel, 0, grid.y0, 0, -grid.pixel};
  dataset->SetGeoTransform(transform);
  OGRSpatialReference srs;
  srs.importFromEPSG(grid.epsg);
  dataset->SetSpatialRef(&srs);
  for (std::size_t b = 0; b < bands.size(); ++b) {
    if (bands[b].size() != static_cast<std::size_t>(grid.width) * grid.height) throw std::logic_error("size mismatch");
    GDALRasterBand* band = dataset->GetRasterBand(static_cast<int>(b) + 1);
    if (nodata) band->SetNoDataValue(*nodata);
    if (b < descriptions.size()) band->SetDescription(descriptions[b].c_str());
    if (band->RasterIO(GF_Write, 0, 0, grid.width, grid.height, const_cast<float*>(bands[b].data()), grid.width,
                       grid.height, GDT_Float32, 0, 0, nullptr) != CE_None)
      throw std::runtime_error("cannot write " + path);
  }
}

std::vector<std::vector<float>> read_stack(const std::string& path) {
  GDALAllRegister();
  GDALDatasetUniquePtr dataset(GDALDataset::Open(path.c_str(), GDAL_OF_RASTER | GDAL_OF_READONLY));
  if (!dataset) throw std::runtime_error("cannot open " + path);
  std::vector<std::vector<float>> bands;
  for (int b = 1; b <= dataset->GetRasterCount(); ++b) bands.push_back(read_raster(path, b));
  return bands;
}

std::vector<std::string> read_descriptions(const std::string& path) {
  GDALAllRegister();
  GDALDatasetUniquePtr dataset(GDALDataset::Open(path.c_str(), GDAL_OF_RASTER | GDAL_OF_READONLY));
  if (!dataset) throw std::runtime_error("cannot open " + path);
  std::vector<std::string> descriptions;
  for (int b = 1; b <= dataset->GetRasterCount(); ++b) descriptions.push_back(dataset->GetRasterBand(b)->GetDescription());
  return descriptions;
}

std::vector<float> read_raster(const std::string& path, int band_number) {
  GDALAllRegister();
  GDALDatasetUniquePtr dataset(GDALDataset::Open(path.c_str(), GDAL_OF_RASTER | GDAL_OF_READONLY));
  if (!dataset) throw std::runtime_error("cannot open " + path);
  const int width = dataset->GetRasterXSize(), height = dataset->GetRasterYSize();
  std::vector<float> values(static_cast<std::size_t>(width) * height);
  if (dataset->GetRasterBand(band_number)->RasterIO(GF_Read, 0, 0, width, height, values.data(), width, height,
                                                     GDT_Float32, 0, 0, nullptr) != CE_None)
    throw std::runtime_error("cannot read " + path);
  return values;
}

void check_pixel_series(const std::vector<std::vector<float>>& stack, std::size_t p,
                        const std::vector<double>& expected, double tolerance) {
  REQUIRE(stack.size() == expected.size());
  for (std::size_t band = 0; band < expected.size(); ++band) {
    INFO("pixel " << p << ", band " << band + 1);
    CHECK_THAT(stack[band][p], Catch::Matchers::WithinAbs(expected[band], tolerance));
  }
}

CommandRun run_command(const std::string& name, const json& parameters, const CancelToken* cancel) {
  const Command* command = find_command(name);
  if (!command) throw std::logic_error("no command " + name);
  std::FILE* stream = std::tmpfile();
  CommandRun run;
  try {
    Reporter reporter(stream, cancel);
    run.outputs = execute(*command, parameters, reporter);
  } catch (...) {
    std::fclose(stream);
    throw;
  }
  std::rewind(stream);
  char buffer[4096];
  std::size_t read = 0;
  while ((read = std::fread(buffer, 1, sizeof buffer, stream)) > 0) run.lines.append(buffer, read);
  std::fclose(stream);
  return run;
}

std::vector<double> progress_values(const std::string& lines) {
  std::vector<double> values;
  std::size_t start = 0;
  while (start < lines.size()) {
    std::size_t end = lines.find('\n', start);
    if (end == std::string::npos) end = lines.size();
    const json line = json::parse(lines.substr(start, end - start));
    if (line.at("type") == "progress") values.push_back(line.at("value").get<double>());
    start = end + 1;
  }
  return values;
}

void check_progress(const std::string& lines, double above, std::size_t intermediate) {
  const std::vector<double> values = progress_values(lines);
  REQUIRE_FALSE(values.empty());
  for (std::size_t i = 1; i < values.size(); ++i) {
    INFO("progress line " << i << " goes from " << values[i - 1] << " to " << values[i]);
    CHECK(values[i] >= values[i - 1]);
  }
  std::set<double> between;
  for (const double value : values)
    if (value > above && value < 1.0) between.insert(value);
  INFO(between.size() << " progress values between " << above << " and 1");
  CHECK(between.size() >= intermediate);
  CHECK(values.back() == 1.0);
}

}  // namespace smr::test
