#include "smr/time_stacks.hpp"

#include "smr/dates.hpp"

#include <algorithm>
#include <cctype>
#include <optional>

namespace smr {

namespace {

struct DatedStack {
  std::string key;
  int bands = 0;
  std::vector<long long> days;  // empty unless every band is dated
};

DatedStack read_dates(const StackSource& stack) {
  const std::vector<std::string> descriptions = band_descriptions(stack.key, stack.path);
  DatedStack dated{stack.key, static_cast<int>(descriptions.size()), {}};
  for (const auto& description : descriptions) {
    const auto day = parse_iso_date(description);
    if (!day) {
      dated.days.clear();
      break;
    }
    dated.days.push_back(*day);
  }
  return dated;
}

std::string trim(const std::string& text) {
  const auto first = text.find_first_not_of(" \t");
  if (first == std::string::npos) return "";
  return text.substr(first, text.find_last_not_of(" \t") - first + 1);
}

std::optional<int> whole_number(const std::string& text) {
  if (text.empty() || text.size() > 9 || !std::all_of(text.begin(), text.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }))
    return std::nullopt;
  return std::stoi(text);
}

}  // namespace

namespace {

// `given` is the parameter's JSON: an object with a "band" asks for one band, which a stack cannot be.
StackSource whole_stack(const RasterSource& raster, const json& given) {
  if (given.is_object() && given.contains("band"))
    throw InputError(raster.key + ": a stack is read whole (band = time step); give no \"band\", got " + describe(given["band"]));
  StackSource stack{raster.key, raster.path, {}, raster.nodata};
  const int bands = static_cast<int>(band_descriptions(raster.key, raster.path).size());
  for (int b = 1; b <= bands; ++b) stack.bands.push_back(b);
  return stack;
}

}  // namespace

StackSource stack_parameter(const Params& params, const std::string& key) {
  return whole_stack(params.raster(key), params.value(key));
}

std::vector<StackSource> stack_list_parameter(const Params& params, const std::string& key) {
  const json& list = params.value(key);
  if (!list.is_array() || list.empty())
    throw InputError(key + " must be a non-empty list of stacks (multi-band rasters, band = time step), got " + describe(list));
  std::vector<StackSource> stacks;
  for (const RasterSource& raster : params.rasters(key)) stacks.push_back(whole_stack(raster, list[stacks.size()]));
  return stacks;
}

Series common_series(const std::vector<StackSource>& stacks) {
  if (stacks.empty()) throw std::logic_error("a series needs a stack");
  std::vector<DatedStack> dated;
  for (const auto& stack : stacks) dated.push_back(read_dates(stack));
  const DatedStack& first = dated.front();
  for (const auto& other : dated) {
    if (other.bands != first.bands)
      throw InputError(other.key + " has " + std::to_string(other.bands) + " bands but " + first.key + " has " +
                       std::to_string(first.bands) + ": every stack needs one band per time step of the same series");
  }
  Series series{first.bands, {}};
  const DatedStack* reference = nullptr;
  for (const auto& stack : dated) {
    if (stack.days.empty()) continue;
    if (!reference) {
      reference = &stack;
      continue;
    }
    for (int b = 0; b < series.band_count; ++b)
      if (stack.days[static_cast<std::size_t>(b)] != reference->days[static_cast<std::size_t>(b)])
        throw InputError(stack.key + " band " + std::to_string(b + 1) + " is dated " +
                         format_iso_date(stack.days[static_cast<std::size_t>(b)]) + " but " + reference->key + " band " +
                         std::to_string(b + 1) + " " + format_iso_date(reference->days[static_cast<std::size_t>(b)]) +
                         ": the stacks must hold the same time steps in the same order");
  }
  if (reference) series.days = reference->days;
  return series;
}

BandRange period_parameter(const Params& params, const std::string& key, const Series& series) {
  const BandRange all{1, series.band_count};
  if (!params.has(key)) return all;
  const std::string text = trim(params.text(key));
  if (text.empty() || lowercase(text) == "all") return all;
  const auto colon = text.find(':');
  const std::string syntax = "give \"first:last\" band numbers (1 to " + std::to_string(series.band_count) + ")" +
                             (series.days.empty() ? std::string(", or dated stacks for \"YYYY-MM-DD:YYYY-MM-DD\"")
                                                  : ", or dates \"" + format_iso_date(series.days.front()) + ":" +
                                                        format_iso_date(series.days.back()) + "\"");
  if (colon == std::string::npos) throw InputError(key + " is '" + text + "': " + syntax);
  const std::string left = trim(text.substr(0, colon)), right = trim(text.substr(colon + 1));
  if (const auto a = whole_number(left), b = whole_number(right); a && b) {
    if (*a < 1 || *b > series.band_count || *a > *b)
      throw InputError(key + " '" + text + "': the stacks have " + std::to_string(series.band_count) +
                       " bands, give band numbers 1 to " + std::to_string(series.band_count) + " with first ≤ last");
    return {*a, *b};
  }
  const auto from = parse_iso_date(left), to = parse_iso_date(right);
  if (!from || !to) throw InputError(key + " is '" + text + "': " + syntax);
  if (series.days.empty())
    throw InputError(key + " is '" + text + "': the stacks' bands carry no ISO dates; give \"first:last\" band numbers (1 to " +
                     std::to_string(series.band_count) + ")");
  std::vector<int> inside;
  for (int b = 0; b < series.band_count; ++b)
    if (series.days[static_cast<std::size_t>(b)] >= *from && series.days[static_cast<std::size_t>(b)] <= *to) inside.push_back(b + 1);
  if (inside.empty() || *from > *to)
    throw InputError(key + " '" + text + "': no band is dated in that interval; the stacks run from " +
                     format_iso_date(series.days.front()) + " to " + format_iso_date(series.days.back()));
  if (inside.back() - inside.front() + 1 != static_cast<int>(inside.size()))
    throw InputError(key + " '" + text + "': the bands dated in that interval are not consecutive; give band numbers instead");
  return {inside.front(), inside.back()};
}

}  // namespace smr
