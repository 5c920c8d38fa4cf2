// Parameter parsing: every message names the key, the value and what is valid.
#include "smr/params.hpp"

#include <catch2/catch.hpp>

using namespace smr;
using Catch::Matchers::Contains;

TEST_CASE("numbers, ranges, integers and choices", "[params]") {
  const json object = {{"X", 2.5}, {"N", 3}, {"F", 3.5}, {"S", "NDVI"}, {"T", true}};
  const Params params(object, "test");
  CHECK(params.number("X") == 2.5);
  CHECK(params.number("MISSING", 7.0) == 7.0);
  CHECK_THROWS_WITH(params.number("MISSING"), Contains("MISSING is required"));
  CHECK_THROWS_WITH(params.number("S"), Contains("S must be a number"));
  CHECK_THROWS_WITH(params.number_in("X", 0.0, 1.0), Contains("X is 2.5: valid values are 0 to 1"));
  CHECK(params.integer_in("N", 0, 10) == 3);
  CHECK_THROWS_WITH(params.integer_in("F", 0, 10), Contains("F must be an integer"));
  CHECK_THROWS_WITH(params.integer_in("N", 5, 10), Contains("valid values are 5 to 10"));
  CHECK(params.choice("S", {"ndvi", "ndmi"}) == "ndvi");  // case-insensitive
  CHECK_THROWS_WITH(params.choice("S", {"evi"}), Contains("S is 'NDVI': valid values are evi"));
  CHECK_THROWS_WITH(params.text("T"), Contains("T must be a string"));
}

TEST_CASE("raster inputs, lists and unknown keys", "[params]") {
  const json object = {{"A", "/a.tif"},
                       {"B", {{"path", "/b.tif"}, {"band", 2}, {"nodata", -9999}}},
                       {"C", {{"path", "/c.tif"}, {"band", 0}}},
                       {"D", 12},
                       {"L", "COMPRESS=LZW; TILED=YES"},
                       {"V", {1, "x"}}};
  const Params params(object, "test");
  CHECK(params.raster("A").band == 1);
  CHECK_FALSE(params.raster("A").nodata.has_value());
  const auto b = params.raster("B");
  CHECK(b.band == 2);
  CHECK(*b.nodata == -9999.0);
  CHECK_THROWS_WITH(params.raster("C"), Contains("band is 0"));
  CHECK(params.raster_or_constant("D", 0, 89.9).constant == 12.0);
  CHECK(params.raster_or_constant("A", 0, 89.9).raster->path == "/a.tif");
  CHECK(params.texts("L") == std::vector<std::string>{"COMPRESS=LZW", "TILED=YES"});
  CHECK_THROWS_WITH(params.numbers("V"), Contains("V must hold finite numbers only"));
  CHECK_THROWS_WITH(params.reject_unknown({"A", "B"}), Contains("has no parameter C"));
  CHECK_THROWS_AS(Params(json::array(), "test"), InputError);
}
