#include "smr/params.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <sstream>

namespace smr {

namespace {

// A long text cut short for a message.
std::string brief(std::string text) {
  constexpr std::size_t kLongest = 200;
  if (text.size() <= kLongest) return text;
  std::size_t cut = kLongest;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;  // not inside a UTF-8 character
  return text.substr(0, cut) + "… (" + std::to_string(text.size()) + " characters)";
}

std::string join(const std::vector<std::string>& items) {
  std::string text;
  for (const auto& item : items) text += (text.empty() ? "" : ", ") + item;
  return text;
}

std::string format_number(double value) {
  std::ostringstream out;
  out << value;
  return out.str();
}

}  // namespace

std::string describe(const json& value) { return brief(value.dump(-1, ' ', false, json::error_handler_t::replace)); }

Params::Params(const json& object, std::string command) : object_(object), command_(std::move(command)) {
  if (!object_.is_object()) throw InputError("parameters of '" + command_ + "' must be a JSON object, got " + describe(object_));
}

Params::Params(const json& object, std::string command, std::string owner)
    : object_(object), command_(std::move(command)), owner_(std::move(owner)) {}

bool Params::has(const std::string& key) const {
  const auto it = object_.find(key);
  return it != object_.end() && !it->is_null();
}

const json& Params::at(const std::string& key) const {
  if (!has(key)) throw InputError(name(key) + " is required by '" + command_ + "' but was not given");
  return object_.at(key);
}

double Params::number(const std::string& key, std::optional<double> fallback) const {
  if (!has(key)) {
    if (fallback) return *fallback;
    at(key);
  }
  const json& value = object_.at(key);
  if (!value.is_number()) throw InputError(name(key) + " must be a number, got " + describe(value));
  const double x = value.get<double>();
  if (!std::isfinite(x)) throw InputError(name(key) + " must be a finite number, got " + describe(value));
  return x;
}

bool Params::boolean(const std::string& key, std::optional<bool> fallback) const {
  if (!has(key)) {
    if (fallback) return *fallback;
    at(key);
  }
  const json& value = object_.at(key);
  if (!value.is_boolean()) throw InputError(name(key) + " must be true or false, got " + describe(value));
  return value.get<bool>();
}

double Params::number_in(const std::string& key, double lowest, double highest, std::optional<double> fallback) const {
  const double x = number(key, fallback);
  if (x < lowest || x > highest)
    throw InputError(name(key) + " is " + format_number(x) + ": valid values are " + format_number(lowest) + " to " +
                     format_number(highest));
  return x;
}

long long Params::integer_in(const std::string& key, long long lowest, long long highest,
                             std::optional<long long> fallback) const {
  if (!has(key)) {
    if (fallback) return *fallback;
    at(key);
  }
  const json& value = object_.at(key);
  const bool integral = value.is_number_integer() ||
                        (value.is_number_float() && std::floor(value.get<double>()) == value.get<double>());
  if (!integral) throw InputError(name(key) + " must be an integer, got " + describe(value));
  const double x = value.get<double>();
  if (x < static_cast<double>(lowest) || x > static_cast<double>(highest))
    throw InputError(name(key) + " is " + describe(value) + ": valid values are " + std::to_string(lowest) + " to " +
                     std::to_string(highest));
  return static_cast<long long>(x);
}

std::string lowercase(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

std::string Params::choice(const std::string& key, const std::vector<std::string>& valid,
                           std::optional<std::string> fallback) const {
  const std::string value = text(key, fallback);
  const std::string lowered = lowercase(value);
  if (std::find(valid.begin(), valid.end(), lowered) == valid.end())
    throw InputError(name(key) + " is '" + brief(value) + "': valid values are " + join(valid));
  return lowered;
}

std::string Params::text(const std::string& key, std::optional<std::string> fallback) const {
  if (!has(key)) {
    if (fallback) return *fallback;
    at(key);
  }
  const json& value = object_.at(key);
  if (!value.is_string()) throw InputError(name(key) + " must be a string, got " + describe(value));
  return value.get<std::string>();
}

std::vector<double> Params::numbers(const std::string& key) const {
  const json& value = at(key);
  if (!value.is_array() || value.empty())
    throw InputError(name(key) + " must be a non-empty list of numbers, got " + describe(value));
  std::vector<double> result;
  for (const auto& item : value) {
    if (!item.is_number() || !std::isfinite(item.get<double>()))
      throw InputError(name(key) + " must hold finite numbers only, got " + describe(item));
    result.push_back(item.get<double>());
  }
  return result;
}

std::vector<std::string> Params::texts(const std::string& key) const {
  if (!has(key)) return {};
  const json& value = object_.at(key);
  std::vector<std::string> result;
  if (value.is_string()) {
    std::string item;
    for (char c : value.get<std::string>() + ";") {
      if (c == ';' || std::isspace(static_cast<unsigned char>(c))) {
        if (!item.empty()) result.push_back(item);
        item.clear();
      } else {
        item += c;
      }
    }
    return result;
  }
  if (!value.is_array()) throw InputError(name(key) + " must be a list of strings, got " + describe(value));
  for (const auto& item : value) {
    if (!item.is_string()) throw InputError(name(key) + " must hold strings only, got " + describe(item));
    result.push_back(item.get<std::string>());
  }
  return result;
}

RasterSource Params::raster(const std::string& key) const { return raster_from(at(key), key); }

std::vector<RasterSource> Params::rasters(const std::string& key) const {
  const json& value = at(key);
  if (!value.is_array() || value.empty())
    throw InputError(name(key) + " must be a non-empty list of rasters, got " + describe(value));
  std::vector<RasterSource> sources;
  for (std::size_t i = 0; i < value.size(); ++i) sources.push_back(raster_from(value[i], key + "_" + std::to_string(i)));
  return sources;
}

RasterSource Params::raster_from(const json& value, const std::string& key) const {
  RasterSource source;
  source.key = key;
  if (value.is_string()) {
    source.path = value.get<std::string>();
  } else if (value.is_object()) {
    const Params inner(value, command_, key);
    inner.reject_unknown({"path", "band", "nodata"});
    source.path = inner.text("path");
    const auto band = inner.integer_in("band", 1, 1 << 20, 1);
    source.band = static_cast<int>(band);
    if (inner.has("nodata")) source.nodata = inner.number("nodata");
  } else {
    throw InputError(key + " must be a raster: a path or {\"path\", \"band\", \"nodata\"}, got " + describe(value));
  }
  if (source.path.empty()) throw InputError(key + " has an empty path");
  return source;
}

std::optional<RasterSource> Params::optional_raster(const std::string& key) const {
  if (!has(key)) return std::nullopt;
  return raster(key);
}

RasterOrConstant Params::raster_or_constant(const std::string& key, double lowest, double highest) const {
  RasterOrConstant result;
  if (has(key) && object_.at(key).is_number()) {
    result.constant = number_in(key, lowest, highest);
  } else {
    result.raster = raster(key);
  }
  return result;
}

std::optional<std::string> Params::optional_output(const std::string& key) const {
  if (!has(key)) return std::nullopt;
  const std::string path = text(key);
  if (path.empty()) return std::nullopt;
  return path;
}

void Params::reject_unknown(const std::vector<std::string>& known) const {
  for (const auto& item : object_.items()) {
    if (std::find(known.begin(), known.end(), item.key()) != known.end()) continue;
    const std::string given = brief(item.key());
    if (!owner_.empty())
      throw InputError(owner_ + " has no member " + given + "; its members are " + join(known));
    throw InputError("'" + command_ + "' has no parameter " + given + "; its parameters are " + join(known));
  }
}

void Params::reject_unused(const std::vector<std::string>& keys, const std::string& why) const {
  for (const auto& key : keys)
    if (has(key)) throw InputError(name(key) + " " + why);
}

void check_statistic_magnitude(double value, const std::string& where) {
  if (std::abs(value) > kMaxStatisticMagnitude)
    throw InputError(where + " is " + describe(json(value)) + ": values beyond ±1e100 overflow the sums of squares behind "
                     "the statistics; give the values in other units");
}

std::string file_stem(const std::string& path) { return std::filesystem::path(path).stem().string(); }

}  // namespace smr
