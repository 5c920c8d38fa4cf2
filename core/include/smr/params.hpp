// Reading a command's JSON parameters. Every accessor validates and throws InputError with a message
// that names the parameter key, the value given and what is valid.
#pragma once

#include "smr/protocol.hpp"

#include <optional>
#include <string>
#include <vector>

namespace smr {

// One band of a GDAL raster, as the user gave it.
struct RasterSource {
  std::string key;                // parameter key, e.g. "NIR": every message names it
  std::string path;
  int band = 1;
  std::optional<double> nodata;   // overrides the band's own nodata when set
};

// A raster input that may instead be one number for the whole grid (e.g. an incidence angle).
struct RasterOrConstant {
  std::optional<RasterSource> raster;
  double constant = 0.0;
};

class Params {
 public:
  Params(const json& object, std::string command);

  bool has(const std::string& key) const;
  // The raw JSON of a structured parameter (sample arrays); throws InputError when it is missing.
  const json& value(const std::string& key) const { return at(key); }
  double number(const std::string& key, std::optional<double> fallback = std::nullopt) const;
  double number_in(const std::string& key, double lowest, double highest,
                   std::optional<double> fallback = std::nullopt) const;
  long long integer_in(const std::string& key, long long lowest, long long highest,
                       std::optional<long long> fallback = std::nullopt) const;
  std::string choice(const std::string& key, const std::vector<std::string>& valid,
                     std::optional<std::string> fallback = std::nullopt) const;
  std::string text(const std::string& key, std::optional<std::string> fallback = std::nullopt) const;
  bool boolean(const std::string& key, std::optional<bool> fallback = std::nullopt) const;  // JSON true or false
  std::vector<double> numbers(const std::string& key) const;
  std::vector<std::string> texts(const std::string& key) const;  // list, or one string split on ';' / whitespace
  RasterSource raster(const std::string& key) const;
  std::optional<RasterSource> optional_raster(const std::string& key) const;
  std::vector<RasterSource> rasters(const std::string& key) const;  // a list; element i is named KEY_i
  RasterOrConstant raster_or_constant(const std::string& key, double lowest, double highest) const;
  std::optional<std::string> optional_output(const std::string& key) const;

  // Keys the command does not know are an error, so a typo never silently falls back to a default.
  void reject_unknown(const std::vector<std::string>& known) const;
  // Keys the command knows but the chosen mode does not read: one given with a value is an error that
  // names it and says `why`, e.g. "applies to INPUT_RASTERS only, not to SAMPLES", so a user never
  // waits for an effect that cannot come. A null value is how the plugin sends an unset optional
  // parameter, and stays accepted.
  void reject_unused(const std::vector<std::string>& keys, const std::string& why) const;

 private:
  // The members of a structured parameter (a raster object): messages name them after the parameter,
  // e.g. "NIR band is 0", so the user knows which of several rasters is wrong.
  Params(const json& object, std::string command, std::string owner);
  std::string name(const std::string& key) const { return owner_.empty() ? key : owner_ + " " + key; }
  const json& at(const std::string& key) const;
  RasterSource raster_from(const json& value, const std::string& key) const;
  const json& object_;
  std::string command_;
  std::string owner_;  // the parameter whose members these are; empty for the command's parameters
};

// A parameter value as messages quote it: JSON, cut short when long (a message never repeats a huge
// list or string), with invalid UTF-8 replaced.
std::string describe(const json& value);
// Statistics square and sum the values they are given (metrics, triple collocation, CDF moments,
// mapminmax): beyond this magnitude those sums overflow a double and the results would silently be
// null or wrong. Values read from JSON lists (PAIRS, TABLE, SERIES, SAMPLES) are checked against it;
// raster values are Float32 and cannot reach it.
inline constexpr double kMaxStatisticMagnitude = 1e100;
// InputError naming `where` (e.g. "PAIRS.estimate[3]") when |value| > kMaxStatisticMagnitude; NaN,
// a missing value, passes.
void check_statistic_magnitude(double value, const std::string& where);

std::string lowercase(std::string text);  // ASCII letters only, as parameter values and names are
std::string file_stem(const std::string& path);  // "a/tb_06_9ghz.tif" → "tb_06_9ghz": default input names

}  // namespace smr
