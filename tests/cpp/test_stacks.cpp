// The engine's time stacks: band lists read at once, gaps left to the kernel, multi-band outputs with
// band descriptions, and windows that shrink with the band count.
#include "support.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <mutex>

using namespace smr;
using namespace smr::test;

namespace {

std::vector<std::vector<float>> numbered_stack(int bands, const GridSpec& grid, float scale) {
  std::vector<std::vector<float>> stack(bands, std::vector<float>(static_cast<std::size_t>(grid.width) * grid.height));
  for (int b = 0; b < bands; ++b)
    for (std::size_t p = 0; p < stack[b].size(); ++p) stack[b][p] = scale * static_cast<float>(b * 1000 + static_cast<int>(p));
  return stack;
}

std::vector<std::string> descriptions(int bands) {
  std::vector<std::string> names;
  for (int b = 0; b < bands; ++b) names.push_back("step " + std::to_string(b + 1));
  return names;
}

}  // namespace

TEST_CASE("a stack kernel sees each band and writes a multi-band output with descriptions", "[engine][stacks]") {
  TempDir dir;
  const GridSpec grid{5, 4};
  const double nodata = -1.0;
  auto a = numbered_stack(3, grid, 1.0f);
  a[1][7] = -1.0f;  // a gap in band 2 only
  write_stack(dir.file("a.tif"), a, grid, &nodata);
  write_stack(dir.file("b.tif"), numbered_stack(3, grid, 0.5f), grid);
  Reporter reporter(nullptr);
  const GdalSession gdal(reporter);
  const std::vector<StackSource> inputs = {{"A", dir.file("a.tif"), {3, 1, 2}, std::nullopt},  // any order
                                           {"B", dir.file("b.tif"), {2}, std::nullopt}};
  const std::vector<RasterTarget> outputs = {{"OUT", dir.file("out.tif"), "", {"first", "second", "third"}}};
  const BlockKernel kernel = [](Block& block) {
    REQUIRE(block.inputs.size() == 4);
    REQUIRE(block.outputs.size() == 3);
    for (std::size_t p = 0; p < block.size(); ++p)
      for (int k = 0; k < 3; ++k) block.outputs[k][p] = block.inputs[k][p] + block.inputs[3][p];
  };
  const RunCounts counts = run_stackwise(inputs, outputs, EngineOptions{}, 0, kernel, reporter);
  CHECK(counts.nodata == 0);  // stacks never drop a whole pixel
  CHECK(counts.valid == 20);
  const auto out = read_stack(dir.file("out.tif"));
  REQUIRE(out.size() == 3);
  const float b2 = 0.5f * 1000;  // band 2 of B at pixel p is 0.5·(1000 + p)
  CHECK(out[0][0] == Approx(2000 + b2));   // band 3 of A
  CHECK(out[1][3] == Approx(3 + b2 + 1.5f));  // band 1 of A
  CHECK(out[2][7] == -9999.0f);             // band 2 of A is nodata there: NaN reaches the kernel
  CHECK(out[2][8] == Approx(1008 + b2 + 4.0f));
  CHECK(out[0][7] == Approx(2007 + b2 + 3.5f));  // the other bands of that pixel are unaffected
  CHECK(read_descriptions(dir.file("out.tif")) == std::vector<std::string>{"first", "second", "third"});
  GDALDatasetUniquePtr written(GDALDataset::Open(dir.file("out.tif").c_str(), GDAL_OF_RASTER | GDAL_OF_READONLY));
  CHECK(std::string(written->GetMetadataItem("INTERLEAVE", "IMAGE_STRUCTURE")) == "BAND");
}

TEST_CASE("windows shrink with the band count and tiles stay multiples of 16", "[engine][stacks]") {
  TempDir dir;
  const GridSpec grid{200, 150};
  const int bands = 300;
  write_stack(dir.file("a.tif"), numbered_stack(bands, grid, 1.0f), grid);
  Reporter reporter(nullptr);
  const GdalSession gdal(reporter);
  std::vector<int> all(bands);
  for (int b = 0; b < bands; ++b) all[b] = b + 1;
  const std::vector<RasterTarget> outputs = {{"OUT", dir.file("out.tif"), "", descriptions(bands)}};
  std::mutex mutex;
  std::size_t largest = 0, windows = 0;
  const BlockKernel kernel = [&](Block& block) {
    {
      std::lock_guard<std::mutex> lock(mutex);
      largest = std::max(largest, block.size());
      ++windows;
    }
    for (int b = 0; b < bands; ++b)
      for (std::size_t p = 0; p < block.size(); ++p) block.outputs[b][p] = 2.0f * block.inputs[b][p];
  };
  run_stackwise({{"A", dir.file("a.tif"), all, std::nullopt}}, outputs, EngineOptions{}, 0, kernel, reporter);
  // 600 bands of 4 bytes: a 64 MB window holds at most 27962 of the grid's 30000 pixels, and a tile
  // (a multiple of 16) must fit the same budget.
  CHECK(largest * bands * 2 * sizeof(float) <= 64u * 1024 * 1024);
  GDALDatasetUniquePtr written(GDALDataset::Open(dir.file("out.tif").c_str(), GDAL_OF_RASTER | GDAL_OF_READONLY));
  int block_x = 0, block_y = 0;
  written->GetRasterBand(1)->GetBlockSize(&block_x, &block_y);
  CHECK(block_x == block_y);
  CHECK(block_x % 16 == 0);
  CHECK(static_cast<long long>(block_x) * block_x * bands * 2 * 4 <= 64LL * 1024 * 1024);
  CHECK(windows > 1);
  const auto out = read_stack(dir.file("out.tif"));
  CHECK(out[299][29999] == 2.0f * (299000 + 29999));
  CHECK(out[0][200 * 145 + 77] == 2.0f * (200 * 145 + 77));
}

TEST_CASE("a stack on another grid is aligned band by band", "[engine][stacks]") {
  TempDir dir;
  const GridSpec fine{4, 4, 500000.0, 4650000.0, 10.0};
  const GridSpec coarse{2, 2, 500000.0, 4650000.0, 20.0};
  write_stack(dir.file("fine.tif"), numbered_stack(2, fine, 1.0f), fine);
  write_stack(dir.file("coarse.tif"), {{1, 2, 3, 4}, {10, 20, 30, 40}}, coarse);
  Reporter reporter(nullptr);
  const GdalSession gdal(reporter);
  EngineOptions options;
  options.resampling = "nearest";
  const BlockKernel kernel = [](Block& block) {
    for (int b = 0; b < 2; ++b)
      for (std::size_t p = 0; p < block.size(); ++p) block.outputs[b][p] = block.inputs[2 + b][p];
  };
  run_stackwise({{"FINE", dir.file("fine.tif"), {1, 2}, std::nullopt}, {"COARSE", dir.file("coarse.tif"), {1, 2}, std::nullopt}},
                {{"OUT", dir.file("out.tif"), "", {"a", "b"}}}, options, 0, kernel, reporter);
  const auto out = read_stack(dir.file("out.tif"));
  CHECK(out[0] == std::vector<float>{1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4});
  CHECK(out[1] == std::vector<float>{10, 10, 20, 20, 10, 10, 20, 20, 30, 30, 40, 40, 30, 30, 40, 40});
}
