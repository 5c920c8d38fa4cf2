// `smr samplescene` is bounded (issue 11): every derived grid and the bytes of all its rasters are
// computed in double and checked against stated limits before anything is created, and a cancel is
// honoured between the grids as well as between blocks.
#include "support.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <filesystem>

using namespace smr;
using namespace smr::test;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {

std::string refused(const json& parameters) {
  try {
    run_command("samplescene", parameters);
  } catch (const InputError& error) {
    return error.what();
  }
  return "accepted";
}

std::string rounded(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.0f", value);
  return text;
}

}  // namespace

TEST_CASE("samplescene: a scene beyond the limits is refused with them, before its folder exists", "[samplescene][limits]") {
  TempDir dir;
  const std::string folder = dir.file("scene");

  // A 16 × 16 radar grid of 10 km pixels under a passive grid of 1 m: 160000² pixels, two rasters.
  const double side = 160000.0, optical = std::ceil(side / 30.0);
  const double bytes = (16.0 * 16.0 * 7.0 + optical * optical * 6.0 + side * side * 2.0) * 4.0;
  const std::string passive = refused({{"OUTPUT_DIR", folder}, {"WIDTH", 16}, {"HEIGHT", 16}, {"PIXEL_SIZE", 10000},
                                       {"PASSIVE_PIXEL_SIZE", 1}});
  CHECK_THAT(passive, Contains("PASSIVE_PIXEL_SIZE") && Contains(rounded(bytes / 1e9) + " GB of Float32 rasters") &&
                          Contains("limit of 16 GiB"));
  CHECK_FALSE(fs::exists(folder));

  // The optical grid's side, 1e10 pixels, would wrap an int: refused by its side first.
  CHECK_THAT(refused({{"OUTPUT_DIR", folder}, {"WIDTH", 100000}, {"HEIGHT", 16}, {"PIXEL_SIZE", 10000},
                      {"OPTICAL_PIXEL_SIZE", 0.1}}),
             Contains("OPTICAL_PIXEL_SIZE 0.1 m makes a grid of 10000000000 pixels a side, more than the limit of "
                      "1000000 pixels a side"));
  // Radar alone: three rasters of WIDTH × HEIGHT.
  CHECK_THAT(refused({{"OUTPUT_DIR", folder}, {"PRODUCTS", "radar"}, {"WIDTH", 100000}, {"HEIGHT", 100000}}),
             Contains("WIDTH 100000 × HEIGHT 100000") && Contains(rounded(3 * 1e10 * 4 / 1e9) + " GB"));
  // Time series: 16 stacks of DAYS bands.
  CHECK_THAT(refused({{"OUTPUT_DIR", folder}, {"PRODUCTS", "timeseries"}, {"WIDTH", 1000}, {"HEIGHT", 1000},
                      {"DAYS", 5000}, {"PIXEL_SIZE", 0.01}}),
             Contains("DAYS 5000 × 16 stacks") && Contains(rounded(1e6 * 5000 * 16 * 4 / 1e9) + " GB"));
  CHECK_FALSE(fs::exists(folder));

  // The largest radar-only scene the benchmarks make (16000², 3 GB) stays within the limits: only
  // the checks run here, as the folder is a file and cannot be created.
  std::FILE* blocker = std::fopen(folder.c_str(), "w");
  std::fclose(blocker);
  CHECK_THAT(refused({{"OUTPUT_DIR", folder}, {"PRODUCTS", "radar"}, {"WIDTH", 16000}, {"HEIGHT", 16000}}),
             Contains("OUTPUT_DIR: cannot create folder"));
}

TEST_CASE("samplescene: a cancel between the grids stops before the next grid's files", "[samplescene][cancel]") {
  TempDir dir;
  CancelToken cancel;
  cancel.request();
  // Already cancelled: the radar grid's first block stops the run, and nothing after it starts.
  CHECK_THROWS_AS(run_command("samplescene", {{"OUTPUT_DIR", dir.file("scene")}, {"WIDTH", 64}, {"HEIGHT", 64}}, &cancel),
                  Cancelled);
  for (const auto& name : {"reflectance_nir.tif", "brightness_temperature_v.tif", "insitu.gpkg", "scene.json"})
    CHECK_FALSE(fs::exists(dir.file("scene/" + std::string(name))));
}
