// smr samplestacks: the values of time stacks at points, as a long table (one row per point and date).
// The in-situ tables of paper 002's water cloud calibration and LSTM, and many validations, start
// here: station positions + σ⁰, VWC, θ stacks → one row per station and overpass date.
//
// Only the pixels under the points are read: points are grouped by the block (tile or strip) of the
// stack that holds them, and each group reads, band by band, the smallest window around its points,
// so memory stays flat whatever the raster size (GDAL's block cache is capped by GdalSession).
#include "smr/commands.hpp"
#include "smr/dates.hpp"
#include "smr/outputs.hpp"
#include "smr/raster.hpp"
#include "smr/time_stacks.hpp"
#include "table_values.hpp"

#include <cpl_conv.h>
#include <gdal_priv.h>
#include <ogr_spatialref.h>
#include <omp.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <atomic>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>

namespace smr {

namespace {

// Points × dates × stacks held in the result: far above a station network (1000 stations × 10 years of
// daily dates × 5 stacks is 1.8·10⁷) and still within a machine's memory as JSON.
constexpr long long kMostValues = 100000000;
const std::vector<std::string> kPointsFields = {"ids", "x", "y"};
// Column names the table has besides the stacks' (the id column's is ID_NAME).
const std::vector<std::string> kFixedColumns = {"band", "date"};

std::string count_of(long long count, const std::string& noun) {
  return std::to_string(count) + " " + noun + (count == 1 ? "" : "s");
}

// ---- parameters -----------------------------------------------------------------------------------

struct Points {
  std::vector<json> ids;  // numbers, strings or null, as given
  std::vector<double> x, y;
};

std::vector<double> coordinates(const json& points, const std::string& field) {
  const auto list = points.find(field);
  if (list == points.end() || !list->is_array())
    throw InputError("POINTS." + field + " must be a list of numbers (coordinates in the first stack's CRS), got " +
                     (list == points.end() ? std::string("nothing") : describe(*list)));
  std::vector<double> values;
  for (const json& item : *list) {
    if (!item.is_number() || !std::isfinite(item.get<double>()))
      throw InputError("POINTS." + field + "[" + std::to_string(values.size()) + "] is " + describe(item) +
                       ": valid values are finite numbers, coordinates in the CRS of the first stack (STACKS_0)");
    values.push_back(item.get<double>());
  }
  return values;
}

Points points_parameter(const Params& params) {
  const json& points = params.value("POINTS");
  if (!points.is_object())
    throw InputError("POINTS must be an object {\"ids\": [...], \"x\": [...], \"y\": [...]}, got " + describe(points));
  for (const auto& item : points.items())
    if (std::find(kPointsFields.begin(), kPointsFields.end(), item.key()) == kPointsFields.end())
      throw InputError("POINTS has no field '" + item.key() + "': its fields are ids (optional), x and y");
  Points result;
  result.x = coordinates(points, "x");
  result.y = coordinates(points, "y");
  if (result.x.empty()) throw InputError("POINTS has no point: POINTS.x and POINTS.y are empty; give at least one point");
  if (result.y.size() != result.x.size())
    throw InputError("POINTS.y has " + count_of(static_cast<long long>(result.y.size()), "value") + " but POINTS.x has " +
                     count_of(static_cast<long long>(result.x.size()), "value") + ": give one y per x");
  if (points.contains("ids") && !points.at("ids").is_null()) {
    const json& ids = points.at("ids");
    if (!ids.is_array()) throw InputError("POINTS.ids must be a list of point ids (numbers or text), got " + describe(ids));
    if (ids.size() != result.x.size())
      throw InputError("POINTS.ids has " + count_of(static_cast<long long>(ids.size()), "value") + " but POINTS.x has " +
                       count_of(static_cast<long long>(result.x.size()), "value") + ": give one id per point");
    for (std::size_t i = 0; i < ids.size(); ++i) {
      const json& id = ids[i];
      if (!id.is_null() && !id.is_string() && !(id.is_number() && std::isfinite(id.get<double>())))
        throw InputError("POINTS.ids[" + std::to_string(i) + "] is " + describe(id) +
                         ": valid values are numbers or text (e.g. station names), or null");
      result.ids.push_back(id);
    }
  } else {
    for (std::size_t i = 0; i < result.x.size(); ++i) result.ids.emplace_back(static_cast<long long>(i));
  }
  return result;
}

std::string lower(const std::string& text) { return lowercase(text); }

// Letters, digits and '_' (each run of other characters becomes one '_'), not starting with a digit,
// at most 63 characters: a field name every vector format and database takes.
std::string sanitized(const std::string& name) {
  std::string result;
  for (const char c : name) {
    if (std::isalnum(static_cast<unsigned char>(c)) && static_cast<unsigned char>(c) < 128) {
      result += c;
    } else if (result.empty() || result.back() != '_') {
      result += '_';
    }
  }
  while (!result.empty() && result.back() == '_') result.pop_back();
  while (!result.empty() && result.front() == '_') result.erase(result.begin());
  if (result.empty()) result = "stack";
  if (std::isdigit(static_cast<unsigned char>(result.front()))) result = "s_" + result;
  if (result.size() > 60) result.resize(60);
  return result;
}

// One column name per stack: the names sanitized, then made unique (case-insensitively, as most
// formats compare field names) against each other, the id column and band/date by a suffix _2, _3, ….
std::vector<std::string> column_names(const std::vector<std::string>& names, const std::string& id_name) {
  std::set<std::string> taken = {lower(id_name)};
  for (const auto& fixed : kFixedColumns) taken.insert(fixed);
  std::vector<std::string> columns;
  for (const auto& name : names) {
    const std::string base = sanitized(name);
    std::string column = base;
    for (int suffix = 2; taken.count(lower(column)); ++suffix) column = base + "_" + std::to_string(suffix);
    taken.insert(lower(column));
    columns.push_back(column);
  }
  return columns;
}

// ---- reading --------------------------------------------------------------------------------------

struct StackInfo {
  StackSource source;
  std::string label;  // "STACKS_1 ('smap_sm')": how messages name the stack
  int width = 0, height = 0, block_width = 1, block_height = 1;
  std::vector<std::optional<double>> nodata;  // per band
  std::vector<bool> float32;                  // per band: nodata compared at Float32 precision
  std::array<double, 6> inverse{};            // pixel/line from x/y
  bool north_up = true;
  std::array<double, 6> transform{};
  std::string crs_wkt;
};

GDALDatasetUniquePtr open_stack(const StackSource& stack, const std::string& label) {
  CPLPushErrorHandler(CPLQuietErrorHandler);
  GDALDatasetUniquePtr dataset(GDALDataset::Open(stack.path.c_str(), GDAL_OF_RASTER | GDAL_OF_READONLY));
  CPLPopErrorHandler();
  if (!dataset) throw InputError(label + ": '" + stack.path + "' cannot be opened as a raster");
  return dataset;
}

StackInfo describe_stack(const StackSource& source, const std::string& label) {
  StackInfo info;
  info.source = source;
  info.label = label;
  const GDALDatasetUniquePtr dataset = open_stack(source, label);
  info.width = dataset->GetRasterXSize();
  info.height = dataset->GetRasterYSize();
  if (dataset->GetGeoTransform(info.transform.data()) != CE_None)
    throw InputError(label + ": '" + source.path + "' has no geotransform, so points cannot be placed on it; give a "
                     "georeferenced stack");
  if (!GDALInvGeoTransform(info.transform.data(), info.inverse.data()))
    throw InputError(label + ": '" + source.path + "' has a degenerate geotransform (pixel size 0)");
  info.north_up = info.transform[2] == 0.0 && info.transform[4] == 0.0;
  if (const OGRSpatialReference* srs = dataset->GetSpatialRef()) {
    char* wkt = nullptr;
    srs->exportToWkt(&wkt);
    if (wkt) info.crs_wkt = wkt;
    CPLFree(wkt);
  }
  GDALRasterBand* first = dataset->GetRasterBand(1);
  first->GetBlockSize(&info.block_width, &info.block_height);
  info.block_width = std::max(1, info.block_width);
  info.block_height = std::max(1, info.block_height);
  for (const int b : source.bands) {
    GDALRasterBand* band = dataset->GetRasterBand(b);
    int has_nodata = FALSE;
    const double own = band->GetNoDataValue(&has_nodata);
    const std::optional<double> nodata = source.nodata ? source.nodata : has_nodata ? std::optional<double>(own) : std::nullopt;
    info.nodata.push_back(nodata && !std::isnan(*nodata) ? nodata : std::nullopt);
    info.float32.push_back(band->GetRasterDataType() == GDT_Float32);
  }
  return info;
}

// The pixel holding (x, y): pixel coordinates rounded down, so a point on the edge between two pixels
// takes the one east of it (higher column) or south of it (higher row, north-up). A pixel covers
// [column, column + 1) × [row, row + 1): the raster's west and north edges are inside, its east and
// south edges outside.
std::optional<std::pair<int, int>> pixel_of(const StackInfo& stack, double x, double y) {
  double column = 0.0, row = 0.0;
  if (stack.north_up) {
    // Divided rather than multiplied by the inverse, so a point on an edge lands exactly on it.
    column = (x - stack.transform[0]) / stack.transform[1];
    row = (y - stack.transform[3]) / stack.transform[5];
  } else {
    GDALApplyGeoTransform(const_cast<double*>(stack.inverse.data()), x, y, &column, &row);
  }
  if (!std::isfinite(column) || !std::isfinite(row)) return std::nullopt;
  column = std::floor(column);
  row = std::floor(row);
  if (column < 0.0 || row < 0.0 || column >= stack.width || row >= stack.height) return std::nullopt;
  return std::make_pair(static_cast<int>(column), static_cast<int>(row));
}

bool same_crs(const std::string& a, const std::string& b) {
  if (a.empty() || b.empty() || a == b) return true;
  OGRSpatialReference first, second;
  if (first.importFromWkt(a.c_str()) != OGRERR_NONE || second.importFromWkt(b.c_str()) != OGRERR_NONE) return false;
  return first.IsSame(&second) != 0;
}

// (x, y) of the points in `stack`'s CRS, given in `from`'s; nullopt where the transformation fails.
std::vector<std::optional<std::pair<double, double>>> positions_in(const StackInfo& stack, const std::string& from,
                                                                    const Points& points) {
  std::vector<std::optional<std::pair<double, double>>> positions;
  if (same_crs(from, stack.crs_wkt)) {
    for (std::size_t i = 0; i < points.x.size(); ++i) positions.emplace_back(std::make_pair(points.x[i], points.y[i]));
    return positions;
  }
  OGRSpatialReference source, target;
  source.importFromWkt(from.c_str());
  target.importFromWkt(stack.crs_wkt.c_str());
  source.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
  target.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
  CPLPushErrorHandler(CPLQuietErrorHandler);
  std::unique_ptr<OGRCoordinateTransformation> transform(OGRCreateCoordinateTransformation(&source, &target));
  CPLPopErrorHandler();
  if (!transform)
    throw InputError(stack.label + ": the points (in the CRS of STACKS_0) cannot be transformed into this stack's CRS; "
                     "give stacks in one CRS");
  for (std::size_t i = 0; i < points.x.size(); ++i) {
    double x = points.x[i], y = points.y[i];
    int ok = FALSE;
    CPLPushErrorHandler(CPLQuietErrorHandler);
    transform->Transform(1, &x, &y, nullptr, &ok);
    CPLPopErrorHandler();
    positions.push_back(ok && std::isfinite(x) && std::isfinite(y) ? std::optional(std::make_pair(x, y)) : std::nullopt);
  }
  return positions;
}

// A point of one stack, with where it goes in the table.
struct Placed {
  int column = 0, row = 0;
  std::size_t point = 0;
  long long block = 0;  // row-major block index: the unit of reading
};

// Float32 values as the shortest decimal that reads back as the same Float32 (0.2, not
// 0.20000000298023224); others as they are.
double shortest(double value, bool float32) {
  if (!float32) return value;
  const float stored = static_cast<float>(value);
  char buffer[32];
  for (int digits = 6; digits <= 9; ++digits) {
    std::snprintf(buffer, sizeof buffer, "%.*g", digits, static_cast<double>(stored));
    const double decimal = std::strtod(buffer, nullptr);
    if (static_cast<float>(decimal) == stored) return decimal;
  }
  return value;
}

std::string csv_number(double value) {
  char buffer[40];
  for (int digits = 1; digits <= 17; ++digits) {
    std::snprintf(buffer, sizeof buffer, "%.*g", digits, value);
    if (std::strtod(buffer, nullptr) == value) break;
  }
  return buffer;
}

std::string csv_text(const std::string& text) {
  if (text.find_first_of(",\"\n\r") == std::string::npos) return text;
  std::string quoted = "\"";
  for (const char c : text) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return quoted + "\"";
}

std::string id_text(const json& id) {
  if (id.is_null()) return "";
  if (id.is_string()) return id.get<std::string>();
  return number_label(id.get<double>());
}

json run_sample_stacks(const Params& params, Reporter& reporter) {
  params.reject_unknown({"STACKS", "NAMES", "POINTS", "ID_NAME", "OUTPUT", "THREADS"});
  std::vector<StackSource> sources = stack_list_parameter(params, "STACKS");
  std::vector<std::string> names;
  if (params.has("NAMES")) {
    names = params.texts("NAMES");
    if (names.size() != sources.size())
      throw InputError("NAMES has " + count_of(static_cast<long long>(names.size()), "name") + " for " +
                       count_of(static_cast<long long>(sources.size()), "stack") +
                       " in STACKS: give one name per stack, in the same order (or none: the file names)");
    for (const auto& name : names)
      if (name.empty()) throw InputError("NAMES holds an empty name: give each stack a name");
  } else {
    for (const auto& source : sources) names.push_back(file_stem(source.path));
  }
  const std::string id_name = params.text("ID_NAME", std::string("id"));
  if (id_name.empty() || id_name.size() > 255)
    throw InputError("ID_NAME is " + describe(params.value("ID_NAME")) + ": give the id column's name, 1 to 255 characters");
  for (const auto& fixed : kFixedColumns)
    if (lower(id_name) == fixed)
      throw InputError("ID_NAME is '" + id_name + "': the table already has the columns band and date; give another name");
  const std::vector<std::string> columns = column_names(names, id_name);
  const Points points = points_parameter(params);
  const auto output = params.optional_output("OUTPUT");
  if (output && lowercase(std::filesystem::path(*output).extension().string()) != ".csv")
    throw InputError("OUTPUT is '" + *output + "': the table is written as CSV; give a .csv file");
  const int threads = resolve_threads(static_cast<int>(params.integer_in("THREADS", 0, 1024, 0)));

  // Messages name a stack by its key and name.
  for (std::size_t s = 0; s < sources.size(); ++s) sources[s].key += " ('" + names[s] + "')";
  const Series series = common_series(sources);
  const std::size_t dates = static_cast<std::size_t>(series.band_count);
  const std::size_t point_count = points.x.size();
  const std::size_t stack_count = sources.size();
  const long long value_count = static_cast<long long>(point_count) * static_cast<long long>(dates) *
                                static_cast<long long>(stack_count);
  if (value_count > kMostValues)
    throw InputError("POINTS has " + count_of(static_cast<long long>(point_count), "point") + " and the stacks " +
                     count_of(static_cast<long long>(dates), "band") + ": " + std::to_string(value_count) +
                     " values, more than the " + std::to_string(kMostValues) + " one run returns; sample fewer points "
                     "or shorter stacks per run");

  std::vector<StackInfo> stacks;
  for (std::size_t s = 0; s < stack_count; ++s) stacks.push_back(describe_stack(sources[s], sources[s].key));
  if (series.days.empty())
    reporter.warning("no stack has ISO dates as band descriptions: the date column is empty and rows are told apart by "
                     "their band number");

  // Where each point falls in each stack, grouped by block.
  std::vector<std::vector<Placed>> placed(stack_count);
  std::vector<long long> outside_per_stack(stack_count, 0);
  std::vector<std::string> outside_examples(stack_count);  // up to 5 ids per stack, for the warning
  std::vector<bool> point_outside(point_count, false);
  for (std::size_t s = 0; s < stack_count; ++s) {
    const StackInfo& stack = stacks[s];
    if (s > 0 && !same_crs(stacks[0].crs_wkt, stack.crs_wkt))
      reporter.info(stack.label + " is in another CRS than STACKS_0: the points are transformed into it");
    const auto positions = positions_in(stack, stacks[0].crs_wkt, points);
    const long long blocks_across = (stack.width + stack.block_width - 1) / stack.block_width;
    for (std::size_t p = 0; p < point_count; ++p) {
      const auto pixel = positions[p] ? pixel_of(stack, positions[p]->first, positions[p]->second) : std::nullopt;
      if (!pixel) {
        if (outside_per_stack[s] < 5) outside_examples[s] += (outside_per_stack[s] ? ", " : "") + id_text(points.ids[p]);
        ++outside_per_stack[s];
        point_outside[p] = true;
        continue;
      }
      const long long block = static_cast<long long>(pixel->second / stack.block_height) * blocks_across +
                              pixel->first / stack.block_width;
      placed[s].push_back({pixel->first, pixel->second, p, block});
    }
    std::stable_sort(placed[s].begin(), placed[s].end(),
                     [](const Placed& a, const Placed& b) { return a.block < b.block; });
  }

  // The work: one group per (stack, block that holds points).
  struct Group {
    std::size_t stack = 0, begin = 0, end = 0;
  };
  std::vector<Group> groups;
  for (std::size_t s = 0; s < stack_count; ++s)
    for (std::size_t i = 0; i < placed[s].size();) {
      std::size_t j = i;
      while (j < placed[s].size() && placed[s][j].block == placed[s][i].block) ++j;
      groups.push_back({s, i, j});
      i = j;
    }

  // values[(point · dates + date) · stacks + stack]; NaN is NULL.
  std::vector<double> values(static_cast<std::size_t>(value_count), std::numeric_limits<double>::quiet_NaN());
  std::atomic<long long> done{0};
  FirstError first_error;

#pragma omp parallel num_threads(threads)
  {
    std::vector<GDALDatasetUniquePtr> handles(stack_count);
    std::vector<double> window;
#pragma omp for schedule(dynamic, 1)
    for (long long g = 0; g < static_cast<long long>(groups.size()); ++g) {
      if (first_error.failed() || reporter.cancelled()) continue;
      const Group& group = groups[static_cast<std::size_t>(g)];
      const StackInfo& stack = stacks[group.stack];
      try {
        if (!handles[group.stack]) handles[group.stack] = open_stack(stack.source, stack.label);
        GDALDataset& dataset = *handles[group.stack];
        int x0 = stack.width, y0 = stack.height, x1 = 0, y1 = 0;
        for (std::size_t i = group.begin; i < group.end; ++i) {
          const Placed& point = placed[group.stack][i];
          x0 = std::min(x0, point.column);
          y0 = std::min(y0, point.row);
          x1 = std::max(x1, point.column + 1);
          y1 = std::max(y1, point.row + 1);
        }
        const int w = x1 - x0, h = y1 - y0;
        window.resize(static_cast<std::size_t>(w) * static_cast<std::size_t>(h));
        for (std::size_t d = 0; d < dates; ++d) {
          GDALRasterBand* band = dataset.GetRasterBand(stack.source.bands[d]);
          if (band->RasterIO(GF_Read, x0, y0, w, h, window.data(), w, h, GDT_Float64, 0, 0, nullptr) != CE_None)
            throw InputError(stack.label + ": reading band " + std::to_string(stack.source.bands[d]) + " of '" +
                             stack.source.path + "' failed at rows " + std::to_string(y0 + 1) + "–" + std::to_string(y1) +
                             " (a truncated or corrupt file?): " + CPLGetLastErrorMsg());
          const auto& nodata = stack.nodata[d];
          const bool float32 = stack.float32[d];
          for (std::size_t i = group.begin; i < group.end; ++i) {
            const Placed& point = placed[group.stack][i];
            const double value = window[static_cast<std::size_t>(point.row - y0) * static_cast<std::size_t>(w) +
                                        static_cast<std::size_t>(point.column - x0)];
            const bool missing = !std::isfinite(value) ||
                                 (nodata && (float32 ? static_cast<float>(value) == static_cast<float>(*nodata)
                                                     : value == *nodata));
            if (!missing)
              values[(point.point * dates + d) * stack_count + group.stack] = shortest(value, float32);
          }
        }
        // Each block is read by one group only: dropping it keeps memory flat whatever the raster size,
        // instead of filling GDAL's cache with blocks no later group needs.
        dataset.FlushCache();
        const long long finished = ++done;
        reporter.progress(0.95 * static_cast<double>(finished) / static_cast<double>(groups.size()));
      } catch (const InputError& error) {
        first_error.record(error.what(), true);
      } catch (const std::exception& error) {
        first_error.record(error.what(), false);
      }
    }
  }
  reporter.throw_if_cancelled();
  first_error.rethrow_if_any();

  // Counts and the table.
  long long null_values = 0;
  std::vector<long long> null_per_stack(stack_count, 0);
  for (std::size_t k = 0; k < values.size(); ++k)
    if (std::isnan(values[k])) {
      ++null_values;
      ++null_per_stack[k % stack_count];
    }
  const long long points_outside = std::count(point_outside.begin(), point_outside.end(), true);
  json date_list = json::array();
  for (std::size_t d = 0; d < dates; ++d)
    date_list.push_back(series.days.empty() ? json(nullptr) : json(format_iso_date(series.days[d])));
  json stack_summary = json::array();
  for (std::size_t s = 0; s < stack_count; ++s) {
    stack_summary.push_back({{"name", names[s]},
                             {"column", columns[s]},
                             {"path", stacks[s].source.path},
                             {"points_outside", outside_per_stack[s]},
                             {"null_values", null_per_stack[s]}});
    if (outside_per_stack[s] > 0)
      reporter.warning(count_of(outside_per_stack[s], "point") + " outside " + stacks[s].label + " (ids " +
                       outside_examples[s] + (outside_per_stack[s] > 5 ? ", …" : "") +
                       "): their values of this stack are NULL");
  }
  const long long rows = static_cast<long long>(point_count * dates);
  reporter.info(count_of(rows, "row") + " (" + count_of(static_cast<long long>(point_count), "point") + " × " +
                count_of(static_cast<long long>(dates), "date") + "), " + count_of(null_values, "NULL value") +
                " (nodata, NaN or outside a stack)");

  json result = {{"COLUMNS", columns},
                 {"DATES", std::move(date_list)},
                 {"STACKS", std::move(stack_summary)},
                 {"ROWS", rows},
                 {"POINTS", static_cast<long long>(point_count)},
                 {"POINTS_OUTSIDE", points_outside},
                 {"NULL_VALUES", null_values}};
  if (output) {
    std::ostringstream csv;
    csv << csv_text(id_name) << ",band,date";
    for (const auto& column : columns) csv << "," << column;
    csv << "\n";
    for (std::size_t p = 0; p < point_count; ++p)
      for (std::size_t d = 0; d < dates; ++d) {
        csv << csv_text(id_text(points.ids[p])) << "," << d + 1 << ","
            << (series.days.empty() ? std::string() : format_iso_date(series.days[d]));
        for (std::size_t s = 0; s < stack_count; ++s) {
          const double value = values[(p * dates + d) * stack_count + s];
          csv << "," << (std::isnan(value) ? std::string() : csv_number(value));
        }
        csv << "\n";
      }
    write_file_atomically("OUTPUT", *output, csv.str());
    result["OUTPUT"] = *output;
  } else {
    json table = json::array();
    for (std::size_t r = 0; r < static_cast<std::size_t>(rows); ++r) {
      json row = json::array();
      for (std::size_t s = 0; s < stack_count; ++s) {
        const double value = values[r * stack_count + s];
        row.push_back(std::isnan(value) ? json(nullptr) : json(value));
      }
      table.push_back(std::move(row));
    }
    result["VALUES"] = std::move(table);
  }
  reporter.progress(1.0);
  return result;
}

}  // namespace

void add_sampling_commands(std::vector<Command>& registry) {
  registry.push_back({"samplestacks", "values of time stacks at points: one row per point and date",
                      R"~(smr samplestacks: the values of one or more time stacks (multi-band rasters, band = date) at
points, as a long table with one row per point and date: the point's id, the band number, the date
and each stack's value there. Use it to build the in-situ table of a calibration or training
(stations × overpasses: σ⁰, VWC, θ, …) or to compare a product with stations over time.

  STACKS    list of stacks, each a path or {"path", "nodata"} (messages name them STACKS_0, …);
            every band is read. All need the same band count; where two carry ISO dates as band
            descriptions (DESIGN §4), band b must have the same date in both, or it is an error
            naming both stacks, the band and the two dates. A stack without dates takes those of
            the dated ones; when none is dated, the date column is empty (null) and the band
            number tells the rows apart.
  NAMES     optional, one name per stack (default: the file names). The column names are the
            names made safe for every table format: letters, digits and '_' (each run of other
            characters becomes one '_'), not starting with a digit ("s_" is put before), at most
            60 characters, and unique case-insensitively among themselves, the id column, band and
            date (a suffix _2, _3, … is added). Result COLUMNS lists them.
  POINTS    {"ids": [...], "x": [...], "y": [...]}: one entry per point; x and y finite numbers in
            the CRS of the first stack (STACKS_0); ids numbers, text or null (default: the
            0-based position). A stack in another CRS gets the points transformed into its CRS.
  ID_NAME   the id column's name in OUTPUT (default "id"); band and date are taken
  OUTPUT    optional .csv file: header ID_NAME,band,date,<COLUMNS>; one line per point and date,
            point by point in POINTS order, dates in band order; NULL is an empty field; numbers
            as the shortest decimal that reads back as the value. Written through the output
            guard (all or nothing).
  THREADS   threads reading the stacks, 0 = all cores (default 0); the values are identical for
            any THREADS

Pixel: the value of the pixel that holds the point (nearest neighbour, never interpolated).
A pixel covers [column, column + 1) × [row, row + 1) in pixel coordinates: a point on the edge
shared by two pixels takes the one with the higher column (east of the edge on a north-up
raster) and the higher row (south of the edge); a point on the raster's west or north edge is
inside, on its east or south edge outside.
NULL: the band's nodata value (or the stack's "nodata" override), NaN and ±Inf are NULL, and so
is every value of a stack that the point lies outside of (the point keeps its rows, so every
point has one row per date; counted in POINTS_OUTSIDE and warned with some of their ids). Float32
values are returned as the shortest decimal that reads back as the stored Float32 (0.2, not
0.20000000298023224).
Memory: only the pixels under the points are read, block by block of each stack (points sorted
by the block that holds them; one window per block and band), so memory grows with the points
and dates, not with the rasters' size. At most 10^8 values (points × dates × stacks) per run.

Result: COLUMNS (one per stack), DATES (ISO date per band, null when undated), STACKS [{"name",
"column", "path", "points_outside", "null_values"}], ROWS (points × dates), POINTS,
POINTS_OUTSIDE (points outside at least one stack), NULL_VALUES (NULL cells over all stacks),
and either OUTPUT (when given) or VALUES: one list per row (row = point · dates + band − 1) of
one value per stack, null for NULL.
)~",
                      run_sample_stacks, {"OUTPUT"}});
}

}  // namespace smr
