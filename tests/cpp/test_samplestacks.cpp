// smr samplestacks: the values of time stacks at points, one row per point and date.
#include "support.hpp"

#include <catch2/catch.hpp>

#include <ogr_spatialref.h>

#include <cmath>
#include <fstream>
#include <random>
#include <sstream>

using namespace smr;
using namespace smr::test;

namespace {

// 4 × 3 pixels of 20 m from (500000, 4650000), as GridSpec{}: pixel (column c, row r) is
// x ∈ [500000 + 20c, 500000 + 20(c + 1)), y ∈ (4650000 − 20(r + 1), 4650000 − 20r].
const GridSpec kGrid{};
double centre_x(int column) { return kGrid.x0 + kGrid.pixel * (column + 0.5); }
double centre_y(int row) { return kGrid.y0 - kGrid.pixel * (row + 0.5); }

// Band b (0-based) at pixel p (row-major): scale·(100·b + p) + 0.25, rounded once to Float32.
std::vector<std::vector<float>> numbered(int bands, double scale, const GridSpec& grid = kGrid) {
  std::vector<std::vector<float>> stack(bands, std::vector<float>(static_cast<std::size_t>(grid.width) * grid.height));
  for (int b = 0; b < bands; ++b)
    for (std::size_t p = 0; p < stack[b].size(); ++p) // Exact integers divided once: the nearest double to the decimal, then to Float32.
      stack[b][p] = static_cast<float>((std::round(scale * 1000.0 * (100 * b + static_cast<double>(p))) + 250.0) / 1000.0);
  return stack;
}

const std::vector<std::string> kDates = {"2016-01-01", "2016-01-07T05:48:11", "2016-01-13"};

json points(const std::vector<json>& ids, const std::vector<double>& x, const std::vector<double>& y) {
  return {{"ids", ids}, {"x", x}, {"y", y}};
}

// VALUES[row][stack] as a double, NaN for null.
double value(const json& outputs, std::size_t row, std::size_t stack) {
  const json& cell = outputs.at("VALUES").at(row).at(stack);
  return cell.is_null() ? std::nan("") : cell.get<double>();
}

std::string read_text(const std::string& path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

// A tiled Float32 stack (16 × 16 tiles), so that points fall in many blocks.
void write_tiled_stack(const std::string& path, const std::vector<std::vector<float>>& bands, const GridSpec& grid,
                       const std::vector<std::string>& descriptions) {
  GDALAllRegister();
  char** options = nullptr;
  options = CSLSetNameValue(options, "TILED", "YES");
  options = CSLSetNameValue(options, "BLOCKXSIZE", "16");
  options = CSLSetNameValue(options, "BLOCKYSIZE", "16");
  GDALDriver* driver = GetGDALDriverManager()->GetDriverByName("GTiff");
  GDALDatasetUniquePtr dataset(
      driver->Create(path.c_str(), grid.width, grid.height, static_cast<int>(bands.size()), GDT_Float32, options));
  CSLDestroy(options);
  double transform[6] = {grid.x0, grid.pixel, 0, grid.y0, 0, -grid.pixel};
  dataset->SetGeoTransform(transform);
  OGRSpatialReference srs;
  srs.importFromEPSG(grid.epsg);
  dataset->SetSpatialRef(&srs);
  for (std::size_t b = 0; b < bands.size(); ++b) {
    GDALRasterBand* band = dataset->GetRasterBand(static_cast<int>(b) + 1);
    band->SetDescription(descriptions[b].c_str());
    REQUIRE(band->RasterIO(GF_Write, 0, 0, grid.width, grid.height, const_cast<float*>(bands[b].data()), grid.width,
                           grid.height, GDT_Float32, 0, 0, nullptr) == CE_None);
  }
}

}  // namespace

TEST_CASE("samplestacks returns each stack's pixel under each point, one row per point and date", "[samplestacks]") {
  TempDir dir;
  const double nodata = -9999.0;
  auto a = numbered(3, 1.0f);
  a[1][6] = -9999.0f;                                   // pixel (2, 1) is nodata in band 2
  a[2][6] = std::numeric_limits<float>::quiet_NaN();    // and NaN in band 3
  write_stack(dir.file("sigma0 VV (dB).tif"), a, kGrid, &nodata, kDates);
  write_stack(dir.file("vwc.tif"), numbered(3, 0.001f), kGrid, nullptr, kDates);
  const auto run = run_command(
      "samplestacks",
      {{"STACKS", {dir.file("sigma0 VV (dB).tif"), {{"path", dir.file("vwc.tif")}, {"nodata", nullptr}}}},
       {"POINTS", points({"S1", 7}, {centre_x(2), centre_x(3)}, {centre_y(1), centre_y(0)})},
       {"THREADS", 1}});
  const json& out = run.outputs;
  CHECK(out["COLUMNS"] == json({"sigma0_VV_dB", "vwc"}));
  CHECK(out["DATES"] == json({"2016-01-01", "2016-01-07", "2016-01-13"}));  // the time of day is dropped
  CHECK(out["ROWS"] == 6);
  CHECK(out["POINTS"] == 2);
  CHECK(out["POINTS_OUTSIDE"] == 0);
  CHECK(out["NULL_VALUES"] == 2);
  REQUIRE(out["VALUES"].size() == 6);
  // Point S1 on pixel (2, 1), p = 6: rows 0-2; point 7 on pixel (3, 0), p = 3: rows 3-5.
  CHECK(value(out, 0, 0) == 6.25);
  CHECK(std::isnan(value(out, 1, 0)));  // nodata
  CHECK(std::isnan(value(out, 2, 0)));  // NaN
  CHECK(value(out, 3, 0) == 3.25);
  CHECK(value(out, 4, 0) == 103.25);
  CHECK(value(out, 5, 0) == 203.25);
  // Float32 values come back as their shortest decimal: Float32(0.356) reads as 0.356.
  const std::vector<float> vwc_band2 = read_stack(dir.file("vwc.tif"))[1];
  CHECK(static_cast<float>(value(out, 1, 1)) == vwc_band2[6]);
  CHECK(value(out, 1, 1) == 0.356);
  CHECK(value(out, 5, 1) == 0.453);
  CHECK(out["STACKS"][0]["null_values"] == 2);
  CHECK(out["STACKS"][1]["null_values"] == 0);

  SECTION("a nodata override replaces the band's own") {
    const auto overridden = run_command(
        "samplestacks", {{"STACKS", {{{"path", dir.file("vwc.tif")}, {"nodata", 0.001 * 106 + 0.25}}}},
                         {"POINTS", points({1}, {centre_x(2)}, {centre_y(1)})}});
    CHECK(overridden.outputs["VALUES"][1][0].is_null());  // compared at Float32 precision
    CHECK(overridden.outputs["NULL_VALUES"] == 1);
  }
  SECTION("the CSV holds the same table") {
    const auto written = run_command(
        "samplestacks",
        {{"STACKS", {dir.file("sigma0 VV (dB).tif"), dir.file("vwc.tif")}},
         {"NAMES", {"vv", "VV"}},
         {"ID_NAME", "station"},
         {"POINTS", points({"S,1", 7}, {centre_x(2), centre_x(3)}, {centre_y(1), centre_y(0)})},
         {"OUTPUT", dir.file("table.csv")}});
    CHECK(written.outputs["COLUMNS"] == json({"vv", "VV_2"}));  // unique case-insensitively
    CHECK_FALSE(written.outputs.contains("VALUES"));
    CHECK(read_text(dir.file("table.csv")) ==
          "station,band,date,vv,VV_2\n"
          "\"S,1\",1,2016-01-01,6.25,0.256\n"
          "\"S,1\",2,2016-01-07,,0.356\n"
          "\"S,1\",3,2016-01-13,,0.456\n"
          "7,1,2016-01-01,3.25,0.253\n"
          "7,2,2016-01-07,103.25,0.353\n"
          "7,3,2016-01-13,203.25,0.453\n");
  }
}

TEST_CASE("samplestacks: a point on a pixel edge takes the pixel east and south of it", "[samplestacks]") {
  TempDir dir;
  write_stack(dir.file("a.tif"), numbered(1, 1.0f), kGrid, nullptr, {"2016-01-01"});
  const double x0 = kGrid.x0, y0 = kGrid.y0, d = kGrid.pixel;
  // Pixel values are p + 0.25, p = 4·row + column.
  const std::vector<double> xs = {x0 + d, x0 + d, x0, x0 + 4 * d, x0 + 0.5 * d, x0 + 2 * d};
  const std::vector<double> ys = {y0 - 0.5 * d, y0 - d, y0, y0 - 0.5 * d, y0 - 3 * d, y0 - 2 * d};
  const auto run = run_command("samplestacks", {{"STACKS", {dir.file("a.tif")}}, {"POINTS", points({0, 1, 2, 3, 4, 5}, xs, ys)}});
  const json& out = run.outputs;
  CHECK(value(out, 0, 0) == 1.25);            // on the edge between columns 0 and 1: column 1
  CHECK(value(out, 1, 0) == 5.25);            // on the corner of four pixels: column 1, row 1
  CHECK(value(out, 2, 0) == 0.25);            // the raster's north-west corner is inside
  CHECK(std::isnan(value(out, 3, 0)));        // its east edge is outside
  CHECK(std::isnan(value(out, 4, 0)));        // and its south edge
  CHECK(value(out, 5, 0) == 10.25);           // the corner of column 2, row 2
  CHECK(out["POINTS_OUTSIDE"] == 2);
  CHECK(out["NULL_VALUES"] == 2);
  CHECK(out["ROWS"] == 6);  // points outside keep their rows
  CHECK(out["STACKS"][0]["points_outside"] == 2);
  CHECK(run.lines.find("2 points outside STACKS_0 ('a') (ids 3, 4)") != std::string::npos);
}

TEST_CASE("samplestacks: dates, undated stacks and stacks of different dates", "[samplestacks]") {
  TempDir dir;
  write_stack(dir.file("a.tif"), numbered(3, 1.0f), kGrid, nullptr, kDates);
  write_stack(dir.file("undated.tif"), numbered(3, 2.0f), kGrid, nullptr, {"first", "second", "third"});
  write_stack(dir.file("shifted.tif"), numbered(3, 1.0f), kGrid, nullptr, {"2016-01-01", "2016-01-08", "2016-01-13"});
  write_stack(dir.file("short.tif"), numbered(2, 1.0f), kGrid, nullptr, {"2016-01-01", "2016-01-07"});
  const json one_point = points({1}, {centre_x(0)}, {centre_y(0)});

  SECTION("an undated stack beside a dated one takes its dates") {
    const auto run = run_command("samplestacks", {{"STACKS", {dir.file("undated.tif"), dir.file("a.tif")}}, {"POINTS", one_point}});
    CHECK(run.outputs["DATES"] == json({"2016-01-01", "2016-01-07", "2016-01-13"}));
    CHECK(value(run.outputs, 2, 0) == 400.25);
  }
  SECTION("without dates the date column is null") {
    const auto run = run_command("samplestacks", {{"STACKS", {dir.file("undated.tif")}}, {"POINTS", one_point},
                                                  {"OUTPUT", dir.file("t.csv")}});
    CHECK(run.outputs["DATES"] == json({nullptr, nullptr, nullptr}));
    CHECK(run.lines.find("no stack has ISO dates") != std::string::npos);
    CHECK(read_text(dir.file("t.csv")) == "id,band,date,undated\n1,1,,0.25\n1,2,,200.25\n1,3,,400.25\n");
  }
  SECTION("different dates are an error naming both stacks and the first differing date") {
    try {
      run_command("samplestacks", {{"STACKS", {dir.file("a.tif"), dir.file("shifted.tif")}}, {"POINTS", one_point}});
      FAIL("no error");
    } catch (const InputError& error) {
      const std::string message = error.what();
      CHECK(message.find("STACKS_1 ('shifted') band 2 is dated 2016-01-08") != std::string::npos);
      CHECK(message.find("STACKS_0 ('a') band 2 2016-01-07") != std::string::npos);
    }
  }
  SECTION("a different band count is an error") {
    CHECK_THROWS_WITH(run_command("samplestacks", {{"STACKS", {dir.file("a.tif"), dir.file("short.tif")}}, {"POINTS", one_point}}),
                      Catch::Contains("STACKS_1 ('short') has 2 bands but STACKS_0 ('a') has 3"));
  }
}

TEST_CASE("samplestacks: bad inputs name the parameter", "[samplestacks]") {
  TempDir dir;
  write_stack(dir.file("a.tif"), numbered(3, 1.0f), kGrid, nullptr, kDates);
  const json one_point = points({1}, {centre_x(0)}, {centre_y(0)});
  CHECK_THROWS_WITH(run_command("samplestacks", {{"STACKS", json::array()}, {"POINTS", one_point}}),
                    Catch::Contains("STACKS must be a non-empty list"));
  CHECK_THROWS_WITH(run_command("samplestacks", {{"STACKS", {dir.file("a.tif")}}, {"POINTS", points({}, {}, {})}}),
                    Catch::Contains("POINTS has no point"));
  CHECK_THROWS_WITH(run_command("samplestacks", {{"STACKS", {dir.file("a.tif")}}, {"POINTS", points({1, 2}, {1.0, 2.0}, {1.0})}}),
                    Catch::Contains("POINTS.y has 1 value but POINTS.x has 2 values"));
  CHECK_THROWS_WITH(run_command("samplestacks", {{"STACKS", {dir.file("a.tif")}}, {"POINTS", points({1}, {centre_x(0)}, {centre_y(0)})},
                                                 {"NAMES", {"a", "b"}}}),
                    Catch::Contains("NAMES has 2 names for 1 stack"));
  CHECK_THROWS_WITH(run_command("samplestacks", {{"STACKS", {dir.file("a.tif")}}, {"POINTS", one_point}, {"ID_NAME", "Date"}}),
                    Catch::Contains("ID_NAME is 'Date'"));
  CHECK_THROWS_WITH(run_command("samplestacks", {{"STACKS", {dir.file("a.tif")}}, {"POINTS", one_point}, {"OUTPUT", dir.file("t.tif")}}),
                    Catch::Contains("give a .csv file"));
  CHECK_THROWS_WITH(run_command("samplestacks", {{"STACKS", {dir.file("missing.tif")}}, {"POINTS", one_point}}),
                    Catch::Contains("STACKS_0"));
}

TEST_CASE("samplestacks: names become unique, safe column names", "[samplestacks]") {
  TempDir dir;
  write_stack(dir.file("a.tif"), numbered(1, 1.0f), kGrid, nullptr, {"2016-01-01"});
  const std::string a = dir.file("a.tif");
  const auto run = run_command("samplestacks", {{"STACKS", {a, a, a, a, a, a, a}},
                                                {"NAMES", {"σ⁰ VV", "1st", "date", "ID", "x-y z", "x_y_z", "++"}},
                                                {"POINTS", points({1}, {centre_x(0)}, {centre_y(0)})}});
  CHECK(run.outputs["COLUMNS"] == json({"VV", "s_1st", "date_2", "ID_2", "x_y_z", "x_y_z_2", "stack"}));
}

TEST_CASE("samplestacks: a stack in another CRS gets the points transformed", "[samplestacks]") {
  TempDir dir;
  write_stack(dir.file("utm32.tif"), numbered(1, 1.0f), kGrid, nullptr, {"2016-01-01"});
  // The same place in UTM zone 33: the grid's origin moved there, so the points fall on the same pixels.
  OGRSpatialReference from, to;
  from.importFromEPSG(32632);
  to.importFromEPSG(32633);
  from.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
  to.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
  std::unique_ptr<OGRCoordinateTransformation> transform(OGRCreateCoordinateTransformation(&from, &to));
  double x = centre_x(1), y = centre_y(2);
  REQUIRE(transform->Transform(1, &x, &y));
  GridSpec utm33 = kGrid;
  utm33.epsg = 32633;
  utm33.x0 = std::floor(x / 20.0) * 20.0 - 40.0;  // the point lies in column 2, row 1
  utm33.y0 = std::floor(y / 20.0) * 20.0 + 40.0;
  write_stack(dir.file("utm33.tif"), numbered(1, 2.0f, utm33), utm33, nullptr, {"2016-01-01"});
  const auto run = run_command("samplestacks", {{"STACKS", {dir.file("utm32.tif"), dir.file("utm33.tif")}},
                                                {"POINTS", points({1}, {centre_x(1)}, {centre_y(2)})}});
  CHECK(value(run.outputs, 0, 0) == 9.25);   // pixel (1, 2) of the first
  CHECK(value(run.outputs, 0, 1) == 12.25);  // pixel (2, 1) of the second: 2·6 + 0.25
  CHECK(run.lines.find("is in another CRS than STACKS_0") != std::string::npos);
}

TEST_CASE("samplestacks reads block-wise and gives the same values for 1 and 2 threads", "[samplestacks]") {
  TempDir dir;
  const GridSpec grid{70, 50, 0.0, 1000.0, 10.0, 32632};
  std::mt19937 random(5);
  std::uniform_real_distribution<float> uniform(0.0f, 1.0f);
  std::vector<std::vector<float>> bands(4, std::vector<float>(70 * 50));
  for (auto& band : bands)
    for (auto& v : band) v = uniform(random);
  const std::vector<std::string> dates = {"2017-03-01", "2017-03-07", "2017-03-13", "2017-03-19"};
  write_tiled_stack(dir.file("tiled.tif"), bands, grid, dates);
  std::vector<json> ids;
  std::vector<double> xs, ys;
  std::vector<std::size_t> pixels;
  std::uniform_real_distribution<double> along(-20.0, 720.0), down(480.0, 1020.0);
  for (int i = 0; i < 300; ++i) {
    ids.emplace_back(i);
    xs.push_back(along(random));
    ys.push_back(down(random));
  }
  const json request = {{"STACKS", {dir.file("tiled.tif")}}, {"POINTS", points(ids, xs, ys)}};
  json one = request, two = request;
  one["THREADS"] = 1;
  two["THREADS"] = 2;
  const auto first = run_command("samplestacks", one);
  const auto second = run_command("samplestacks", two);
  CHECK(first.outputs == second.outputs);
  // Every value against the pixel read by hand.
  long long outside = 0;
  for (std::size_t p = 0; p < xs.size(); ++p) {
    const double column = std::floor(xs[p] / 10.0), row = std::floor((1000.0 - ys[p]) / 10.0);
    const bool inside = column >= 0 && column < 70 && row >= 0 && row < 50;
    outside += !inside;
    for (std::size_t d = 0; d < 4; ++d) {
      const double got = value(first.outputs, p * 4 + d, 0);
      if (!inside) {
        CHECK(std::isnan(got));
        continue;
      }
      const float expected = bands[d][static_cast<std::size_t>(row) * 70 + static_cast<std::size_t>(column)];
      CHECK(static_cast<float>(got) == expected);
    }
  }
  CHECK(outside > 0);
  CHECK(first.outputs["POINTS_OUTSIDE"] == outside);
  check_progress(first.lines, 0.0, 3);
}

TEST_CASE("samplestacks: a cancelled run writes nothing", "[samplestacks]") {
  TempDir dir;
  write_stack(dir.file("a.tif"), numbered(3, 1.0f), kGrid, nullptr, kDates);
  CancelToken cancel;
  cancel.request();
  CHECK_THROWS_AS(run_command("samplestacks", {{"STACKS", {dir.file("a.tif")}},
                                               {"POINTS", points({1}, {centre_x(0)}, {centre_y(0)})},
                                               {"OUTPUT", dir.file("t.csv")}},
                              &cancel),
                  Cancelled);
  CHECK_FALSE(std::filesystem::exists(dir.file("t.csv")));
}
