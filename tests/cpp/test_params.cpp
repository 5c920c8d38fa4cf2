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
  CHECK_THROWS_WITH(params.raster("C"), Contains("C band is 0: valid values are 1 to"));
  CHECK(params.raster_or_constant("D", 0, 89.9).constant == 12.0);
  CHECK(params.raster_or_constant("A", 0, 89.9).raster->path == "/a.tif");
  CHECK(params.texts("L") == std::vector<std::string>{"COMPRESS=LZW", "TILED=YES"});
  CHECK_THROWS_WITH(params.numbers("V"), Contains("V must hold finite numbers only"));
  CHECK_THROWS_WITH(params.reject_unknown({"A", "B"}), Contains("has no parameter C"));
  CHECK_THROWS_AS(Params(json::array(), "test"), InputError);
}

TEST_CASE("members of a raster object are named after the parameter that holds them", "[params]") {
  const json object = {{"NIR", {{"path", "/n.tif"}, {"band", "2"}}},
                       {"RED", {{"path", "/r.tif"}, {"nodata", "none"}}},
                       {"SWIR1", {{"path", "/s.tif"}, {"bands", 2}}},
                       {"LIST", {"/a.tif", {{"path", "/b.tif"}, {"band", -3}}}},
                       {"EMPTY", {{"band", 1}}}};
  const Params params(object, "test");
  CHECK_THROWS_WITH(params.raster("NIR"), Contains("NIR band must be an integer, got \"2\""));
  CHECK_THROWS_WITH(params.raster("RED"), Contains("RED nodata must be a number"));
  CHECK_THROWS_WITH(params.raster("SWIR1"), Contains("SWIR1 has no member bands; its members are path, band, nodata"));
  CHECK_THROWS_WITH(params.rasters("LIST"), Contains("LIST_1 band is -3"));
  CHECK_THROWS_WITH(params.raster("EMPTY"), Contains("EMPTY path is required"));
}

TEST_CASE("a key the chosen mode does not read is an error; null is how an unset key arrives", "[params]") {
  const json object = {{"BLUE", {{"path", "/b.tif"}}}, {"GREEN", nullptr}};
  const Params params(object, "test");
  CHECK_NOTHROW(params.reject_unused({"GREEN", "RED"}, "is not used by INDEX ndvi"));
  CHECK_THROWS_WITH(params.reject_unused({"GREEN", "BLUE"}, "is not used by INDEX ndvi (it reads NIR, RED)"),
                    Catch::Equals("BLUE is not used by INDEX ndvi (it reads NIR, RED)"));
}

TEST_CASE("messages quote a long value cut short, never whole", "[params]") {
  const json object = {{"S", std::string(100000, 'x')}, {"L", std::vector<int>(50000, 7)}};
  const Params params(object, "test");
  std::string message;
  try {
    params.number("S");
  } catch (const InputError& error) {
    message = error.what();
  }
  CHECK_THAT(message, Contains("S must be a number") && Contains("(100002 characters)"));
  CHECK(message.size() < 400);
  CHECK(describe(object.at("L")).size() < 300);
  CHECK(describe(json("short")) == "\"short\"");
  // A cut never splits a UTF-8 character: after '"' and "aa", every odd byte starts an "é", so the
  // cut point, byte 200, falls inside one.
  std::string accents = "aa";
  for (int i = 0; i < 150; ++i) accents += "é";
  const std::string cut = describe(json(accents));
  CHECK_THAT(cut, Contains("… (304 characters)"));
  CHECK_NOTHROW(json(cut).dump());  // nlohmann's strict dump throws on a broken UTF-8 sequence
}

TEST_CASE("one JSON parser for parameters and files: every failure names where, as wrong input", "[params][json]") {
  const auto message = [](const std::string& text, std::uintmax_t bytes = 1 << 20, int nesting = 8) {
    try {
      parse_json_text(text, "parameters", bytes, nesting, "a parameter object");
    } catch (const InputError& error) {
      return std::string(error.what());
    }
    return std::string("accepted");
  };
  CHECK(parse_json_text(R"({"A": [1, {"b": 2}]})", "parameters", 100, 3, "x")["A"][1]["b"] == 2);
  // nlohmann's out_of_range (a number beyond double) is not a parse_error, and was an internal error.
  CHECK_THAT(message(R"({"A": 1, "NIR": {"path": "a.tif", "band": 1e400}})"),
             Contains("parameters: NIR.band is a number beyond the range of double"));
  CHECK_THAT(message(R"({"L": [1, 2, -1e999]})"), Contains("parameters: L[2] is a number beyond"));
  CHECK_THAT(message(R"({"A": 1, "B": [1, 2, oops]})"), Contains("not valid JSON") && Contains("at B[2]"));
  CHECK_THAT(message("{\"A\": \"\xff\xfe\"}"), Contains("not valid JSON"));
  CHECK_THAT(message(R"({"A": {"x": 1, "x": 2}})"), Contains("parameters: A.x is given twice"));
  CHECK_THAT(message(R"({"A": 1, "A": 1})"), Contains("parameters: A is given twice"));
  CHECK(message(R"([{"x": 1}, {"x": 2}])") == "accepted");  // the same key in two objects is no duplicate
  // Nesting is refused before nlohmann's recursive parser runs, naming the outermost key it is under.
  CHECK_THAT(message(R"({"A": 1, "DEEP": )" + std::string(9, '[') + std::string(9, ']') + "}"),
             Contains("parameters: DEEP is nested more than 8 levels deep; not a parameter object"));
  CHECK(message(R"({"S": "[[[[[[[[[[[[[[[["})") == "accepted");  // brackets inside a string do not nest
  CHECK_THAT(message(std::string(200, ' ') + "{}", 100), Contains("parameters is larger than"));
  CHECK_THAT(message(""), Contains("not valid JSON"));
}
