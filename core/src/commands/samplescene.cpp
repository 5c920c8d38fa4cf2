// A seeded synthetic scene with its truth, physically consistent with the chain of paper 000:
// reflectances from a linear soil/vegetation mixture → indices → VWC (paper 000 eq. 8 on the noise-free
// NDMI) → σ⁰ VV and VH by the water cloud model (paper 000 eq. 1–3) over a dB-linear soil term
// (paper 002 eq. 3) with multiplicative speckle, plus in-situ points with measurement noise.
// PRODUCTS timeseries instead writes paper 001's daily stacks (below, before run_sample_scene).
// Every random number is a hash of (seed, stream, position), so the scene is the same for any thread count.
#include "smr/commands.hpp"
#include "smr/dates.hpp"
#include "smr/kernels.hpp"
#include "smr/raster.hpp"

#include <gdal_priv.h>
#include <ogrsf_frmts.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

namespace smr {

namespace {

namespace fs = std::filesystem;
constexpr double kPi = 3.14159265358979323846;
constexpr int kEpsg = 32632;  // UTM 32N
constexpr double kOriginX = 500000.0, kOriginY = 4650000.0;
constexpr double kParcelSize = 400.0;  // metres between parcel seeds

// What one scene may take, checked on the parameters before anything is created: a scene is for
// workflows and benchmarks, and a request past these would fill the disk (and GDAL's grids are int).
constexpr double kMaxGridSide = 1000000.0;                  // pixels a side of any grid
constexpr double kMaxSceneBytes = 16.0 * 1024 * 1024 * 1024;  // Float32 rasters, uncompressed
const char* const kMaxSceneSize = "16 GiB";

std::string count_text(double value) {
  char text[32];
  std::snprintf(text, sizeof text, value < 1e15 ? "%.0f" : "%.3g", value);
  return text;
}

// The side, in pixels, of a grid covering `extent_m` with pixels of `pixel_m`: computed in double so a
// huge ratio is reported, not wrapped by an int cast.
double grid_side(double extent_m, double pixel_m, const std::string& what) {
  const double side = std::ceil(extent_m / pixel_m);
  if (!(side <= kMaxGridSide))
    throw InputError(what + " makes a grid of " + count_text(side) + " pixels a side, more than the limit of " +
                     count_text(kMaxGridSide) + " pixels a side; give a larger pixel size or a smaller WIDTH or HEIGHT");
  return side;
}

void create_output_folder(const fs::path& folder) {
  std::error_code error;
  if (folder.empty()) throw InputError("OUTPUT_DIR is empty: give the folder to write the scene into");
  fs::create_directories(folder, error);
  if (!fs::is_directory(folder, error))
    throw InputError("OUTPUT_DIR: cannot create folder " + describe(json(folder.string())) +
                     (error ? ": " + error.message() : std::string()));
}

// `bytes`: what the scene's rasters take, uncompressed; `what` names the parameters that set it.
void check_scene_bytes(double bytes, const std::string& what) {
  if (!(bytes <= kMaxSceneBytes))
    throw InputError(what + " make " + count_text(bytes / 1e9) + " GB of Float32 rasters (uncompressed), more than the "
                     "limit of " + std::string(kMaxSceneSize) + ": give a smaller WIDTH or HEIGHT, or larger pixel sizes");
}

std::uint64_t mix(std::uint64_t x) {  // splitmix64 finaliser
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

double uniform(std::uint64_t seed, std::uint64_t stream, std::uint64_t a, std::uint64_t b = 0) {
  const std::uint64_t h = mix(mix(mix(mix(seed) ^ stream) ^ a) ^ (b * 0x632be59bd9b4e019ULL));
  return (static_cast<double>(h >> 11) + 0.5) * (1.0 / 9007199254740992.0);  // in (0, 1)
}

double normal(std::uint64_t seed, std::uint64_t stream, std::uint64_t a, std::uint64_t b = 0) {
  const double u1 = uniform(seed, stream, a, b), u2 = uniform(seed, stream + 1000, a, b);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * kPi * u2);
}

// Unit-mean gamma speckle of `looks` looks, Wilson–Hilferty: one normal draw per pixel.
double speckle(double looks, double z) {
  const double c = 1.0 / (9.0 * looks);
  const double cube = 1.0 - c + z * std::sqrt(c);
  return std::max(cube * cube * cube, 1e-6);
}

enum Stream : std::uint64_t { kParcelX = 1, kParcelY, kParcelClass, kParcelCover, kParcelWetness, kReflectanceNoise = 10,
                              kSpeckleVV = 30, kSpeckleVH = 40, kPointX = 50, kPointY, kPointNoise };

struct Polarisation {
  const char* name;
  double a, b, c, d;  // water cloud A, B (linear); soil C (dB), D (dB per m³/m³)
};
constexpr Polarisation kVV{"VV", 0.12, 0.09, -17.0, 28.0};
constexpr Polarisation kVH{"VH", 0.035, 0.14, -25.0, 22.0};

// Landsat-like bands: blue, green, red, nir, swir1 (1.6 µm), swir2 (2.1 µm).
constexpr std::array<const char*, 6> kBandNames = {"blue", "green", "red", "nir", "swir1", "swir2"};
constexpr std::array<double, 6> kDrySoil = {0.10, 0.14, 0.18, 0.24, 0.32, 0.28};
constexpr std::array<double, 6> kWetDarkening = {0.8, 0.8, 0.8, 0.9, 1.2, 1.3};  // per m³/m³ of soil moisture
constexpr std::array<double, 6> kLeaf = {0.03, 0.07, 0.04, 0.45, 0.15, 0.07};

struct Surface {
  double soil_moisture;  // m³/m³
  double cover;          // vegetation fraction 0..1
};

class SceneModel {
 public:
  SceneModel(std::uint64_t seed, double height_m) : seed_(seed), height_(height_m) {}

  // Parcels are Voronoi cells around jittered seeds; each is bare soil, grassland or crop.
  Surface at(double x, double y) const {
    const double gx = x / kParcelSize, gy = y / kParcelSize;
    const long long cx = static_cast<long long>(std::floor(gx)), cy = static_cast<long long>(std::floor(gy));
    double best = 1e300;
    std::uint64_t parcel_i = 0, parcel_j = 0;
    for (long long j = cy - 1; j <= cy + 1; ++j)
      for (long long i = cx - 1; i <= cx + 1; ++i) {
        const auto ui = static_cast<std::uint64_t>(i), uj = static_cast<std::uint64_t>(j);
        const double sx = i + uniform(seed_, kParcelX, ui, uj), sy = j + uniform(seed_, kParcelY, ui, uj);
        const double distance = (sx - gx) * (sx - gx) + (sy - gy) * (sy - gy);
        if (distance < best) best = distance, parcel_i = ui, parcel_j = uj;
      }
    const double kind = uniform(seed_, kParcelClass, parcel_i, parcel_j);
    const double vigour = uniform(seed_, kParcelCover, parcel_i, parcel_j);
    double cover = kind < 0.25 ? 0.1 * vigour : kind < 0.6 ? 0.3 + 0.3 * vigour : 0.5 + 0.45 * vigour;
    // A slow gradient of vigour across the scene keeps fields of one class from looking identical.
    cover = std::clamp(cover * (0.85 + 0.15 * std::sin(2.0 * kPi * x / 9000.0)), 0.0, 0.97);
    const double wetness = uniform(seed_, kParcelWetness, parcel_i, parcel_j) - 0.5;  // irrigation, drainage
    double sm = 0.22 + 0.08 * std::sin(2.0 * kPi * x / 7000.0) * std::cos(2.0 * kPi * y / 5000.0) +
                0.06 * (y / std::max(height_, 1.0) - 0.5) + 0.08 * wetness + 0.03 * cover;
    sm = std::clamp(sm, 0.03, 0.48);
    return {sm, cover};
  }

  static double reflectance(const Surface& s, int band) {
    const double soil = kDrySoil[band] * (1.0 - kWetDarkening[band] * s.soil_moisture);
    return s.cover * kLeaf[band] + (1.0 - s.cover) * soil;
  }

  // Truth VWC: paper 000 eq. 8 on the noise-free NDMI, never negative.
  static double vwc(const Surface& s) {
    return std::max(0.0, kernels::vwc_from_ndmi(kernels::ndmi(reflectance(s, 3), reflectance(s, 4))));
  }

 private:
  std::uint64_t seed_;
  double height_;  // metres, for the north–south moisture gradient
};

double incidence_angle(double column, double width) { return 30.0 + 15.0 * (column + 0.5) / width; }

double observed_db(const Polarisation& pol, const Surface& s, double vwc, double angle, double looks, double z) {
  const auto terms = kernels::water_cloud_terms(pol.a, pol.b, vwc, vwc, angle);
  const double soil = kernels::db_to_linear(kernels::soil_backscatter_db(pol.c, pol.d, s.soil_moisture));
  return kernels::linear_to_db(kernels::water_cloud_forward(terms, soil) * speckle(looks, z));
}

// Passive microwave: soil permittivity from moisture by inverting Topp et al. (1980)'s cubic
// θ(ε) = −0.053 + 0.0292ε − 5.5e−4ε² + 4.3e−6ε³ (monotonic on 1..40), Fresnel reflectivity at the
// AMSR2 incidence angle, roughness after Choudhury et al. (1979), vegetation by the τ-ω model.
constexpr double kPassiveAngle = 55.0;  // degrees
constexpr double kRoughness = 0.2;      // h
constexpr double kOpacityPerVwc = 0.12; // b in τ = b·VWC
constexpr double kAlbedo = 0.05;        // ω

double permittivity(double soil_moisture) {
  const auto topp = [](double e) { return -0.053 + 0.0292 * e - 5.5e-4 * e * e + 4.3e-6 * e * e * e; };
  double low = 1.0, high = 40.0;
  for (int i = 0; i < 60; ++i) {
    const double middle = 0.5 * (low + high);
    (topp(middle) < soil_moisture ? low : high) = middle;
  }
  return 0.5 * (low + high);
}

struct BrightnessTemperature {
  double v, h;  // K
};

struct Reflectivity {
  double v, h;
};

// Smooth-surface Fresnel reflectivities of a soil of permittivity `eps` at the passive angle.
Reflectivity fresnel(double eps) {
  const double theta = kPassiveAngle * kernels::kDegToRad;
  const double c = std::cos(theta), root = std::sqrt(eps - std::sin(theta) * std::sin(theta));
  return {std::pow((eps * c - root) / (eps * c + root), 2), std::pow((c - root) / (c + root), 2)};
}

// τ-ω emission of a soil of reflectivity r under a canopy of one-way transmissivity gamma.
double tau_omega(double temperature, double r, double gamma) {
  return temperature * ((1.0 - r) * gamma + (1.0 - kAlbedo) * (1.0 - gamma) * (1.0 + r * gamma));
}

BrightnessTemperature brightness(const Surface& s, double vwc, double temperature) {
  const double c = std::cos(kPassiveAngle * kernels::kDegToRad);
  const Reflectivity smooth = fresnel(permittivity(s.soil_moisture));
  const double rough = std::exp(-kRoughness * c * c);
  const double gamma = std::exp(-kOpacityPerVwc * vwc / c);
  return {tau_omega(temperature, smooth.v * rough, gamma), tau_omega(temperature, smooth.h * rough, gamma)};
}

// ---------------------------------------------------------------------------------------------------
// PRODUCTS timeseries: paper 001's inputs on a coarse geographic grid over the Qinghai–Tibet Plateau,
// daily stacks of AMSR2-like brightness temperatures (descending, 01:30), GLDAS-like model fields,
// MODIS-like LAI, the precipitation between the 01:30 and 06:00 overpasses and the SMAP-like target
// (06:00). Each pixel's whole series is simulated inside the kernel call for that pixel, and every
// random number is a hash of (seed, stream, cell or stripe, day index), so windows and threads cannot
// change a value.

constexpr double kPlateauWest = 88.0, kPlateauNorth = 38.0;  // upper-left corner, degrees
constexpr std::array<double, 5> kAmsr2Frequencies = {6.9, 7.3, 10.7, 18.7, 23.8};  // GHz, F1–F5
constexpr double kFreezing = 273.15;          // K: SMAP flags frozen soil
constexpr double kYear = 365.2425;            // days
constexpr double kRainWindowChance = 0.3;     // of a rain day: some of it falls between 01:30 and 06:00
constexpr double kSmapMissing = 1.0 / 3.0;    // revisit: no 06:00 pass over the cell that day
constexpr double kSwathGap = 0.1;             // AMSR2 swath gaps
constexpr int kSmapStripe = 4, kSwathStripe = 6;  // columns sharing one orbit track
constexpr double kSmapNoise = 0.02, kModelNoise = 0.03, kTbNoise = 1.0;  // m³/m³, m³/m³, K
constexpr double kLstNoise = 3.0, kStNoise = 1.5, kLaiNoise = 0.1;         // K, K, m²/m²
constexpr double kSoilAmplitude = 12.0, kSurfaceAmplitude = 15.0;          // K
constexpr double kGlacierRadius2 = 0.2 / kPi;  // (u² + v² < r²): a quarter disc of 5 % of the grid
constexpr double kGlacierSoilTemperature = 258.0;  // K: only noise lifts the peak (270 K) above freezing
constexpr double kSmapMin = 0.01, kSmapMax = 0.6;   // m³/m³

enum SeriesStream : std::uint64_t {
  kClimate = 200, kResidual, kCapacity, kEfolding, kDepth, kRoughnessH, kLaiPeak, kSoilMean,
  kModelBias, kModelGain,
  kRainOccurs = 220, kRainAmount, kWindowOccurs, kWindowShare, kSmapPass, kSwath,
  kSmapError = 230, kLaiError, kLstError, kStError, kModelError, kSigma40Error, kTbError = 240,  // 240–244: one per frequency
  kTcError = 250,  // 250–252: retrieval, satellite, reanalysis
  kTcGap = 260     // 260–262
};

double round_to(double x, double scale) { return std::round(x * scale) / scale; }

struct CellClimate {
  bool glacier;
  double wet;             // 0 dry north-west … 1 wet south-east
  double residual, capacity;  // m³/m³
  double decay;           // daily: exp(−1/e-folding)
  double depth_mm;        // water per unit of volumetric moisture: Δθ = rain/depth
  double roughness_h;     // Choudhury h at 6.9 GHz
  double lai_peak;
  double soil_mean;       // K, annual mean soil temperature
  double model_bias, model_gain;
  double rain_mean_mm, rain_base, rain_summer;  // amount; probability = base + summer·max(season, 0)
};

CellClimate cell_climate(std::uint64_t seed, int column, int row, int width, int height) {
  const auto cell = static_cast<std::uint64_t>(row) * static_cast<std::uint64_t>(width) +
                    static_cast<std::uint64_t>(column);
  const double u = (column + 0.5) / width, v = (row + 0.5) / height;  // east, south
  const auto draw = [&](std::uint64_t stream) { return uniform(seed, stream, cell); };
  CellClimate climate{};
  // The monsoon reaches the plateau from the south and east; the north-west is arid and glaciated.
  climate.glacier = u * u + v * v < kGlacierRadius2;
  climate.wet = std::clamp(0.6 * u + 0.4 * v + 0.3 * (draw(kClimate) - 0.5), 0.0, 1.0);
  climate.residual = 0.03 + 0.09 * draw(kResidual);
  climate.capacity = climate.residual + 0.15 + 0.20 * draw(kCapacity);
  climate.decay = std::exp(-1.0 / (3.0 + 9.0 * draw(kEfolding)));
  climate.depth_mm = 40.0 + 40.0 * draw(kDepth);
  climate.roughness_h = 0.1 + 0.4 * draw(kRoughnessH);
  climate.lai_peak = climate.glacier ? 0.0 : 0.1 + 2.4 * climate.wet * (0.6 + 0.4 * draw(kLaiPeak));
  climate.soil_mean =
      climate.glacier ? kGlacierSoilTemperature : 270.0 + 8.0 * climate.wet + 2.0 * (draw(kSoilMean) - 0.5);
  climate.model_bias = -0.05 + 0.13 * draw(kModelBias);
  climate.model_gain = 0.6 + 0.6 * draw(kModelGain);
  climate.rain_mean_mm = 2.0 + 6.0 * climate.wet;
  climate.rain_base = 0.02 + 0.04 * climate.wet;
  climate.rain_summer = 0.05 + 0.35 * climate.wet;
  return climate;
}

// The target files in kernel order; each is a stack with one band per day.
struct SeriesFile {
  const char* key;
  const char* name;
  const char* description;
};
constexpr std::array<SeriesFile, 16> kSeriesFiles = {{
    {"TB_06_9GHZ", "tb_06_9ghz", "AMSR2 Tb 6.9 GHz H, descending 01:30 (K)"},
    {"TB_07_3GHZ", "tb_07_3ghz", "AMSR2 Tb 7.3 GHz H, descending 01:30 (K)"},
    {"TB_10_7GHZ", "tb_10_7ghz", "AMSR2 Tb 10.7 GHz H, descending 01:30 (K)"},
    {"TB_18_7GHZ", "tb_18_7ghz", "AMSR2 Tb 18.7 GHz H, descending 01:30 (K)"},
    {"TB_23_8GHZ", "tb_23_8ghz", "AMSR2 Tb 23.8 GHz H, descending 01:30 (K)"},
    {"GLDAS_SM", "gldas_sm", "GLDAS soil moisture (m3/m3)"},
    {"GLDAS_LST", "gldas_lst", "GLDAS land surface temperature (K)"},
    {"GLDAS_ST", "gldas_st", "GLDAS soil temperature (K)"},
    {"MODIS_LAI", "modis_lai", "MODIS LAI (m2/m2)"},
    {"PRECIPITATION", "precipitation", "precipitation 01:30-06:00 (mm)"},
    {"SMAP_SM", "smap_sm", "SMAP soil moisture, descending 06:00 (m3/m3)"},
    {"TRUTH_SM", "truth_sm", "true soil moisture at 01:30 (m3/m3)"},
    {"ASCAT_SIGMA40", "ascat_sigma40_db", "ASCAT sigma0 at 40 degrees, descending (dB)"},
    {"TC_RETRIEVAL_SM", "tc_retrieval_sm", "triple-collocation retrieval-like soil moisture (m3/m3)"},
    {"TC_SATELLITE_SSM", "tc_satellite_ssm", "triple-collocation satellite-like surface soil moisture (% saturation)"},
    {"TC_REANALYSIS_SM", "tc_reanalysis_sm", "triple-collocation reanalysis-like soil moisture (m3/m3)"},
}};
enum SeriesIndex {
  kTb0 = 0, kGldasSm = 5, kGldasLst, kGldasSt, kModisLai, kPrecipitation, kSmap, kTruth, kSigma40,
  kTcRetrieval, kTcSatellite, kTcReanalysis
};

// Paper 003 §3.3 collocates [NN retrieval, satellite, reanalysis]. These three products are the
// truth under a linear calibration plus errors that are Gaussian, independent of each other and of the
// truth, and never clipped: exactly triple collocation's assumptions, so its estimates can be checked
// against the error standard deviations below. The satellite product is in % saturation, so the
// collocation has to rescale between units.
struct TcProduct {
  double offset, gain, error_std, missing;  // value = offset + gain·θ + N(0, error_std); missing: share of days
};
constexpr TcProduct kTcRetrievalModel{0.0, 1.0, 0.015, 0.1};
constexpr TcProduct kTcSatelliteModel{0.0, 200.0, 6.0, 0.3};
constexpr TcProduct kTcReanalysisModel{0.05, 0.7, 0.02, 0.0};
constexpr std::array<TcProduct, 3> kTcModels = {kTcRetrievalModel, kTcSatelliteModel, kTcReanalysisModel};
constexpr std::array<double, 3> kTcRounding = {1e4, 100.0, 1e4};  // m³/m³ to 1e-4, % saturation to 0.01

// ASCAT-like σ⁰ at 40° in dB (paper 003's BTI input): linear in soil moisture as paper 002's soil
// term, attenuated by vegetation, brighter for rougher soil; frozen soil scatters like dry soil.
constexpr double kSigma40Dry = -17.0, kSigma40Slope = 22.0, kSigma40PerLai = -0.8, kSigma40PerH = 3.0;
constexpr double kSigma40Noise = 0.3, kFrozenMoisture = 0.02;

struct TimeAxis {
  long long first_day;  // days since 1970-01-01
  int days;
};

json tc_description() {
  const auto product = [](const TcProduct& model, const char* unit) {
    return json{{"model", "offset + gain·θ + N(0, error_std), not clipped"}, {"offset", model.offset},
                {"gain", model.gain}, {"error_std", model.error_std}, {"unit", unit},
                {"error_std_in_truth_units", model.error_std / model.gain}, {"missing_share", model.missing}};
  };
  return {{"purpose", "paper 003 §3.3's triplet [retrieval, satellite, reanalysis] with known, independent errors"},
          {"tc_retrieval_sm", product(kTcRetrievalModel, "m3/m3")},
          {"tc_satellite_ssm", product(kTcSatelliteModel, "% saturation")},
          {"tc_reanalysis_sm", product(kTcReanalysisModel, "m3/m3")},
          {"randomness", "errors and gaps drawn from streams of their own: independent of each other, of the truth "
                         "and of every other file"}};
}

TimeAxis read_time_axis(const Params& params) {
  const int days = static_cast<int>(params.integer_in("DAYS", 2, 5000, 730));
  const std::string start = params.text("START_DATE", std::string("2015-04-01"));
  const auto first = parse_iso_date(start);
  if (!first)
    throw InputError("START_DATE is '" + start + "': not a calendar date; give YYYY-MM-DD, e.g. 2015-04-01");
  const long long last_allowed = *parse_iso_date("9999-12-31");
  if (*first + days - 1 > last_allowed)
    throw InputError("START_DATE is '" + start + "': with DAYS " + std::to_string(days) + " the stack would end after "
                     "9999-12-31; give a start on or before " + format_iso_date(last_allowed - days + 1));
  return {*first, days};
}

json run_time_series_scene(const Params& params, Reporter& reporter) {
  const fs::path folder = params.text("OUTPUT_DIR");
  const int width = static_cast<int>(params.integer_in("WIDTH", 1, 100000, 40));
  const int height = static_cast<int>(params.integer_in("HEIGHT", 1, 100000, 30));
  const auto seed = static_cast<std::uint64_t>(params.integer_in("SEED", 0, 1LL << 62, 42));
  const double pixel = params.number_in("PIXEL_SIZE", 0.001, 10.0, 0.25);
  const auto degrees = [](double x) { return describe(json(x)) + "°"; };
  if (height * pixel > kPlateauNorth + 90.0)
    throw InputError("HEIGHT " + std::to_string(height) + " × PIXEL_SIZE " + degrees(pixel) + " = " +
                     degrees(height * pixel) + ": the grid (top at latitude 38°) would pass the south pole; give a "
                     "smaller HEIGHT or PIXEL_SIZE");
  if (width * pixel > 360.0)
    throw InputError("WIDTH " + std::to_string(width) + " × PIXEL_SIZE " + degrees(pixel) + " = " +
                     degrees(width * pixel) + ": more than 360°; give a smaller WIDTH or PIXEL_SIZE");
  const TimeAxis axis = read_time_axis(params);
  const int days = axis.days;
  check_scene_bytes(static_cast<double>(width) * height * days * static_cast<double>(kSeriesFiles.size()) * sizeof(float),
                    "WIDTH " + std::to_string(width) + " × HEIGHT " + std::to_string(height) + " cells × DAYS " +
                        std::to_string(days) + " × " + std::to_string(kSeriesFiles.size()) + " stacks");
  create_output_folder(folder);
  const EngineOptions options = engine_options(params);

  OGRSpatialReference srs;
  srs.importFromEPSG(4326);
  char* wkt = nullptr;
  srs.exportToWkt(&wkt);
  const Grid grid{width, height, {kPlateauWest, pixel, 0, kPlateauNorth, 0, -pixel}, std::string(wkt)};
  CPLFree(wkt);

  std::vector<std::string> dates;
  std::vector<double> season(days), soil_season(days);  // +1 at the warm peak, −1 at the cold one
  for (int d = 0; d < days; ++d) {
    const auto day = static_cast<double>(axis.first_day + d);  // 1970-01-01 is a 1 January, so this is the phase
    dates.push_back(format_iso_date(axis.first_day + d));
    season[static_cast<std::size_t>(d)] = std::sin(2.0 * kPi * (day - 110.0) / kYear);       // air: July
    soil_season[static_cast<std::size_t>(d)] = std::sin(2.0 * kPi * (day - 135.0) / kYear);  // soil lags
  }
  std::vector<RasterTarget> targets;
  for (const auto& file : kSeriesFiles)
    targets.push_back({file.key, (folder / (std::string(file.name) + ".tif")).string(), file.description, dates});

  const double cos_incidence = std::cos(kPassiveAngle * kernels::kDegToRad);
  std::array<double, kAmsr2Frequencies.size()> roughness_scale{}, opacity_per_lai{};
  for (std::size_t f = 0; f < kAmsr2Frequencies.size(); ++f) {
    const double ratio = kAmsr2Frequencies[f] / kAmsr2Frequencies[0];
    roughness_scale[f] = cos_incidence * cos_incidence * std::sqrt(ratio);
    opacity_per_lai[f] = kOpacityPerVwc * std::pow(ratio, 0.6) * 0.5;  // VWC ≈ 0.5·LAI kg/m²
  }

  const BlockKernel kernel = [&](Block& block) {
    const auto out = [&](int file, int d) { return block.outputs[static_cast<std::size_t>(file) * days + d]; };
    for (int r = 0; r < block.height; ++r)
      for (int c = 0; c < block.width; ++c) {
        const std::size_t p = static_cast<std::size_t>(r) * block.width + c;
        const int column = block.x0 + c, row = block.y0 + r;
        const auto cell = static_cast<std::uint64_t>(row) * static_cast<std::uint64_t>(width) +
                          static_cast<std::uint64_t>(column);
        const CellClimate k = cell_climate(seed, column, row, width, height);
        std::array<double, kAmsr2Frequencies.size()> rough{};
        for (std::size_t f = 0; f < rough.size(); ++f) rough[f] = std::exp(-k.roughness_h * roughness_scale[f]);
        const auto smap_stripe = static_cast<std::uint64_t>(column / kSmapStripe);
        const auto swath_stripe = static_cast<std::uint64_t>(column / kSwathStripe);
        double moisture = k.residual + 0.05;
        for (int d = 0; d < days; ++d) {
          const auto day = static_cast<std::uint64_t>(d);
          const double probability = k.rain_base + k.rain_summer * std::max(season[day], 0.0);
          const double rain = uniform(seed, kRainOccurs, cell, day) < probability
                                  ? -k.rain_mean_mm * std::log(uniform(seed, kRainAmount, cell, day)) : 0.0;
          double window_mm = 0.0;
          if (rain > 0.0 && uniform(seed, kWindowOccurs, cell, day) < kRainWindowChance)
            window_mm = round_to(rain * uniform(seed, kWindowShare, cell, day), 100.0);
          const double soil_t = k.soil_mean + kSoilAmplitude * soil_season[day] + kStNoise * normal(seed, kStError, cell, day);
          const double surface_t = k.soil_mean - 2.0 + kSurfaceAmplitude * season[day] - 20.0 * (moisture - k.residual) +
                                   kLstNoise * normal(seed, kLstError, cell, day);
          const double lai = std::max(0.0, k.lai_peak * std::pow(std::max(season[day], 0.0), 1.5) +
                                               kLaiNoise * normal(seed, kLaiError, cell, day));
          const double model = std::clamp(
              k.model_bias + k.model_gain * moisture + kModelNoise * normal(seed, kModelError, cell, day), kSmapMin, kSmapMax);
          const float stored_st = static_cast<float>(round_to(soil_t, 100.0));

          if (uniform(seed, kSwath, swath_stripe, day) < kSwathGap) {
            for (int f = 0; f < static_cast<int>(kAmsr2Frequencies.size()); ++f)
              out(kTb0 + f, d)[p] = std::numeric_limits<float>::quiet_NaN();
          } else {
            const double h = fresnel(permittivity(moisture)).h;
            const double effective_t = 0.5 * (surface_t + soil_t);
            for (std::size_t f = 0; f < kAmsr2Frequencies.size(); ++f) {
              const double gamma = std::exp(-opacity_per_lai[f] * lai / cos_incidence);
              const double tb = tau_omega(effective_t, h * rough[f], gamma) + kTbNoise * normal(seed, kTbError + f, cell, day);
              out(kTb0 + static_cast<int>(f), d)[p] = static_cast<float>(round_to(tb, 100.0));
            }
          }
          out(kGldasSm, d)[p] = static_cast<float>(round_to(model, 1e4));
          out(kGldasLst, d)[p] = static_cast<float>(round_to(surface_t, 100.0));
          out(kGldasSt, d)[p] = stored_st;
          out(kModisLai, d)[p] = static_cast<float>(round_to(lai, 1e3));
          out(kPrecipitation, d)[p] = static_cast<float>(window_mm);
          out(kTruth, d)[p] = static_cast<float>(round_to(moisture, 1e4));
          // Frozen is judged on the stored soil temperature, so a reader of the files sees the same rule.
          const bool frozen = static_cast<double>(stored_st) < kFreezing;
          if (frozen || uniform(seed, kSmapPass, smap_stripe, day) < kSmapMissing) {
            out(kSmap, d)[p] = std::numeric_limits<float>::quiet_NaN();
          } else {
            // Rain after the 01:30 overpass wets the soil SMAP sees at 06:00: paper 001 §3.2.4's inconsistent pairs.
            const double smap = moisture + window_mm / k.depth_mm + kSmapNoise * normal(seed, kSmapError, cell, day);
            out(kSmap, d)[p] = static_cast<float>(round_to(std::clamp(smap, kSmapMin, kSmapMax), 1e4));
          }
          const double scattering_moisture = frozen ? kFrozenMoisture : moisture;
          const double sigma40 = kSigma40Dry + kSigma40Slope * scattering_moisture + kSigma40PerLai * lai +
                                 kSigma40PerH * (k.roughness_h - 0.3) + kSigma40Noise * normal(seed, kSigma40Error, cell, day);
          out(kSigma40, d)[p] = static_cast<float>(round_to(sigma40, 100.0));
          for (std::uint64_t product = 0; product < kTcModels.size(); ++product) {
            const TcProduct& model = kTcModels[product];
            const bool missing = uniform(seed, kTcGap + product, cell, day) < model.missing;
            const double value = model.offset + model.gain * moisture + model.error_std * normal(seed, kTcError + product, cell, day);
            out(kTcRetrieval + static_cast<int>(product), d)[p] =
                missing ? std::numeric_limits<float>::quiet_NaN() : static_cast<float>(round_to(value, kTcRounding[product]));
          }
          // Rain of day d falls between its 01:30 and the next 01:30: it shows in the next day's truth.
          moisture = std::min(k.capacity, k.residual + (moisture - k.residual) * k.decay + rain / k.depth_mm);
        }
      }
  };
  reporter.info("time-series grid: " + std::to_string(width) + "×" + std::to_string(height) + " cells of " +
                degrees(pixel) + ", EPSG:4326, " + std::to_string(days) + " days from " + dates.front());
  run_on_grid(grid, targets, options, 0, kernel, reporter);

  json outputs, contents;
  for (const auto& target : targets) outputs[target.key] = target.path;
  for (const auto& file : kSeriesFiles) contents[file.key] = file.description;
  json frequencies = json::array();
  for (const double f : kAmsr2Frequencies) frequencies.push_back(f);
  const json description = {
      {"generator", "smr samplescene"}, {"product", "timeseries"}, {"paper", "001 (Wang & Xu 2021), Qinghai-Tibet Plateau"},
      {"seed", seed}, {"width", width}, {"height", height}, {"cells", static_cast<long long>(width) * height},
      {"days", days}, {"start_date", dates.front()}, {"end_date", dates.back()},
      {"band_descriptions", "band b (1-based) is START_DATE + b - 1, written as YYYY-MM-DD"},
      {"crs", "EPSG:4326"}, {"upper_left_lon_lat", {kPlateauWest, kPlateauNorth}}, {"pixel_size_deg", pixel},
      {"nodata", kOutputNodata},
      {"randomness", "every draw is a hash of (seed, stream, cell = row·width + column or an orbit stripe, "
                     "day index 0..DAYS-1): the same for any THREADS; a longer DAYS (same START_DATE) extends the same series"},
      {"cell_coordinates", "u = (column + 0.5)/width (west→east), v = (row + 0.5)/height (north→south)"},
      {"climate", {{"wetness", "clamp(0.6·u + 0.4·v + 0.3·(U − 0.5), 0, 1): wetter south and east"},
                   {"season", "sin(2π(day − 110)/365.2425), day counted from 1970-01-01: +1 mid-July"},
                   {"soil_season", "sin(2π(day − 135)/365.2425)"}}},
      {"glacier", {{"cells", "u² + v² < 0.2/π: the north-west quarter disc, about 5 % of the grid"},
                   {"soil_temperature_mean_K", kGlacierSoilTemperature}, {"lai", 0},
                   {"effect", "frozen on almost every day, so SMAP is valid on very few days (fewer than 30 in total)"}}},
      {"soil_moisture", {{"model", "bucket: θ(d+1) = min(capacity, residual + (θ(d) − residual)·exp(−1/efold) + "
                                   "rain(d)/depth); θ(0) = residual + 0.05"},
                         {"residual_m3m3", "U(0.03, 0.12)"}, {"capacity_m3m3", "residual + U(0.15, 0.35)"},
                         {"efolding_days", "U(3, 12)"}, {"depth_mm", "U(40, 80)"},
                         {"truth_time", "01:30 (the AMSR2 descending overpass); rain(d) falls between day d 01:30 "
                                        "and day d+1 01:30"}}},
      {"rain", {{"probability", "0.02 + 0.04·wet + (0.05 + 0.35·wet)·max(season, 0)"},
                {"amount_mm", "exponential, mean 2 + 6·wet"}}},
      {"precipitation", {{"meaning", "mm between the 01:30 TB overpass and the 06:00 SMAP overpass"},
                         {"model", "with probability 0.3 on a rain day: rain(d)·U(0, 1), else 0"},
                         {"heavy", "paper 001 §3.2.4 filters pairs at ≥ 8.75 mm"}}},
      {"ascat_sigma40_db", {{"model", "-17 + 22·θ' − 0.8·LAI + 3·(h − 0.3) + N(0, 0.3) dB, θ' = θ, or 0.02 on frozen days"},
                            {"use", "paper 003's backscatter time index (smr backscattertimeindex)"}}},
      {"smap_sm", {{"model", "clip(θ(d) + precipitation/depth + N(0, 0.02), 0.01, 0.6)"},
                   {"missing", "revisit: probability 1/3 per day and stripe of 4 columns; frozen: stored GLDAS_ST < 273.15 K"}}},
      {"brightness_temperature", {{"frequencies_GHz", frequencies}, {"polarisation", "H"}, {"incidence_angle_deg", kPassiveAngle},
                                  {"permittivity", "Topp et al. (1980) inverted"},
                                  {"reflectivity", "Fresnel(ε)·exp(−h·cos²θ·sqrt(f/6.9)), h = U(0.1, 0.5) per cell"},
                                  {"vegetation", "τ-ω: τ = 0.12·(f/6.9)^0.6·0.5·LAI, γ = exp(−τ/cosθ), ω = 0.05"},
                                  {"effective_temperature_K", "(LST + ST)/2, before rounding"},
                                  {"noise_K", kTbNoise},
                                  {"missing", "swath gaps: probability 0.1 per day and stripe of 6 columns"}}},
      {"gldas_sm", "clip(U(−0.05, 0.08) + U(0.6, 1.2)·θ + N(0, 0.03), 0.01, 0.6), bias and gain per cell"},
      {"gldas_st_K", "soil_mean + 12·soil_season + N(0, 1.5); soil_mean = 270 + 8·wet + 2·(U − 0.5) (glacier 258)"},
      {"gldas_lst_K", "soil_mean − 2 + 15·season − 20·(θ − residual) + N(0, 3)"},
      {"modis_lai", "max(0, peak·max(season, 0)^1.5 + N(0, 0.1)); peak = 0.1 + 2.4·wet·U(0.6, 1) (glacier 0)"},
      {"triple_collocation", tc_description()},
      {"rounding", {{"K", 0.01}, {"m3m3", 1e-4}, {"lai", 1e-3}, {"mm", 0.01}, {"percent_saturation", 0.01}}},
      {"contents", contents}, {"files", outputs}};
  const std::string description_path = (folder / "scene.json").string();
  write_file_atomically("OUTPUT_DIR", description_path, description.dump(2) + "\n");
  outputs["DESCRIPTION"] = description_path;
  outputs["DAYS"] = days;
  outputs["START_DATE"] = dates.front();
  outputs["CELLS"] = static_cast<long long>(width) * height;
  return outputs;
}

// Keys of the full and radar products.
struct SceneKeys {
  int points;
  double optical_pixel, passive_pixel, looks, insitu_noise;
};

SceneKeys read_scene_keys(const Params& params) {
  return {static_cast<int>(params.integer_in("POINTS", 0, 100000, 60)),
          params.number_in("OPTICAL_PIXEL_SIZE", 0.1, 10000.0, 30.0),
          params.number_in("PASSIVE_PIXEL_SIZE", 1.0, 100000.0, 600.0),
          params.number_in("LOOKS", 1.0, 1000.0, 20.0),
          params.number_in("INSITU_NOISE", 0.0, 0.2, 0.02)};
}

// Every key is validated whatever the product (a wrong value is an error whichever product is asked
// for); those the product does not use are named, so a user does not wait for an effect that never comes.
void warn_unused(const Params& params, const std::string& product, const std::vector<std::string>& keys, Reporter& reporter) {
  std::string given;
  for (const auto& key : keys)
    if (params.has(key)) given += (given.empty() ? "" : ", ") + key;
  if (!given.empty()) reporter.warning("PRODUCTS " + product + " does not use " + given + "; ignored");
}

json run_sample_scene(const Params& params, Reporter& reporter) {
  params.reject_unknown(with_engine_keys({"OUTPUT_DIR", "WIDTH", "HEIGHT", "SEED", "POINTS", "PIXEL_SIZE",
                                          "OPTICAL_PIXEL_SIZE", "PASSIVE_PIXEL_SIZE", "LOOKS", "INSITU_NOISE",
                                          "PRODUCTS", "DAYS", "START_DATE"}));
  params.reject_unused({"RESAMPLING", "REFERENCE"}, "is not used by samplescene: it reads no rasters, so nothing is aligned");
  const std::string product = params.choice("PRODUCTS", {"full", "radar", "timeseries"}, std::string("full"));
  if (product == "timeseries") {
    read_scene_keys(params);
    warn_unused(params, product, {"POINTS", "OPTICAL_PIXEL_SIZE", "PASSIVE_PIXEL_SIZE", "LOOKS", "INSITU_NOISE"}, reporter);
    return run_time_series_scene(params, reporter);
  }
  const fs::path folder = params.text("OUTPUT_DIR");
  // The time-series grid allows smaller sizes: say which product these limits are for.
  const auto side = [&](const char* key) {
    try {
      return static_cast<int>(params.integer_in(key, 16, 100000, 600));
    } catch (const InputError& error) {
      throw InputError(std::string(error.what()) + " for PRODUCTS " + product);
    }
  };
  const int width = side("WIDTH");
  const int height = side("HEIGHT");
  const auto seed = static_cast<std::uint64_t>(params.integer_in("SEED", 0, 1LL << 62, 42));
  const double pixel = params.number_in("PIXEL_SIZE", 0.1, 10000.0, 20.0);
  const SceneKeys keys = read_scene_keys(params);
  const int points = keys.points;
  const double optical_pixel = keys.optical_pixel, passive_pixel = keys.passive_pixel, looks = keys.looks;
  const double insitu_noise = keys.insitu_noise;
  read_time_axis(params);
  const bool full = product == "full";
  const std::vector<std::string> unused =
      full ? std::vector<std::string>{"DAYS", "START_DATE"}
           : std::vector<std::string>{"POINTS", "OPTICAL_PIXEL_SIZE", "PASSIVE_PIXEL_SIZE", "INSITU_NOISE", "DAYS", "START_DATE"};
  warn_unused(params, product, unused, reporter);
  const std::string radar_extent = "WIDTH " + std::to_string(width) + " × HEIGHT " + std::to_string(height) +
                                   " px of PIXEL_SIZE " + describe(json(pixel)) + " m";
  const double radar_pixels = static_cast<double>(width) * height;
  double scene_bytes = radar_pixels * (full ? 7 : 3) * sizeof(float);
  double optical_side_x = 0, optical_side_y = 0, passive_side_x = 0, passive_side_y = 0;
  if (full) {
    const std::string optical = radar_extent + " with OPTICAL_PIXEL_SIZE " + describe(json(optical_pixel)) + " m";
    optical_side_x = grid_side(width * pixel, optical_pixel, optical);
    optical_side_y = grid_side(height * pixel, optical_pixel, optical);
    const std::string passive = radar_extent + " with PASSIVE_PIXEL_SIZE " + describe(json(passive_pixel)) + " m";
    passive_side_x = grid_side(width * pixel, passive_pixel, passive);
    passive_side_y = grid_side(height * pixel, passive_pixel, passive);
    scene_bytes += (optical_side_x * optical_side_y * 6 + passive_side_x * passive_side_y * 2) * sizeof(float);
  }
  check_scene_bytes(scene_bytes, radar_extent + (full ? ", OPTICAL_PIXEL_SIZE and PASSIVE_PIXEL_SIZE" : ""));
  create_output_folder(folder);

  EngineOptions options = engine_options(params);
  OGRSpatialReference srs;
  srs.importFromEPSG(kEpsg);
  char* wkt = nullptr;
  srs.exportToWkt(&wkt);
  const std::string crs(wkt);
  CPLFree(wkt);
  const SceneModel scene(seed, height * pixel);
  json outputs;
  const auto path_of = [&](const std::string& name) { return (folder / (name + ".tif")).string(); };

  // Radar grid: σ⁰, angle and the truth.
  Grid radar{width, height, {kOriginX, pixel, 0, kOriginY, 0, -pixel}, crs};
  std::vector<RasterTarget> radar_targets = {
      {"SIGMA0_VV", path_of("sigma0_vv_db"), "sigma0 VV (dB)"},
      {"VWC_TRUE", path_of("truth_vwc"), "true VWC (kg/m2)"},
      {"ANGLE", path_of("incidence_angle"), "incidence angle (degrees)"}};
  if (full) {
    radar_targets.push_back({"SIGMA0_VH", path_of("sigma0_vh_db"), "sigma0 VH (dB)"});
    radar_targets.push_back({"SOIL_MOISTURE_TRUE", path_of("truth_soil_moisture"), "true soil moisture (m3/m3)"});
    radar_targets.push_back({"SIGMA_SOIL_VV_TRUE", path_of("truth_sigma_soil_vv_db"), "true soil sigma0 VV (dB)"});
    radar_targets.push_back({"SIGMA_SOIL_VH_TRUE", path_of("truth_sigma_soil_vh_db"), "true soil sigma0 VH (dB)"});
  }
  const BlockKernel radar_kernel = [&](Block& block) {
    for (int r = 0; r < block.height; ++r)
      for (int c = 0; c < block.width; ++c) {
        const std::size_t p = static_cast<std::size_t>(r) * block.width + c;
        const double column = block.x0 + c, row = block.y0 + r;
        const auto index = static_cast<std::uint64_t>(row * width + column);
        const Surface s = scene.at((column + 0.5) * pixel, (row + 0.5) * pixel);
        const double vwc = SceneModel::vwc(s), angle = incidence_angle(column, width);
        block.outputs[0][p] = static_cast<float>(observed_db(kVV, s, vwc, angle, looks, normal(seed, kSpeckleVV, index)));
        block.outputs[1][p] = static_cast<float>(vwc);
        block.outputs[2][p] = static_cast<float>(angle);
        if (block.outputs.size() > 3) {
          block.outputs[3][p] = static_cast<float>(observed_db(kVH, s, vwc, angle, looks, normal(seed, kSpeckleVH, index)));
          block.outputs[4][p] = static_cast<float>(s.soil_moisture);
          block.outputs[5][p] = static_cast<float>(kernels::soil_backscatter_db(kVV.c, kVV.d, s.soil_moisture));
          block.outputs[6][p] = static_cast<float>(kernels::soil_backscatter_db(kVH.c, kVH.d, s.soil_moisture));
        }
      }
  };
  reporter.info("radar grid: " + std::to_string(width) + "×" + std::to_string(height) + " px of " +
                std::to_string(pixel) + " m, EPSG:" + std::to_string(kEpsg));
  run_on_grid(radar, radar_targets, options, 0, radar_kernel, reporter);
  for (const auto& target : radar_targets) outputs[target.key] = target.path;
  if (!full) return outputs;
  reporter.throw_if_cancelled();  // before each grid's files are created, not only between blocks

  // Optical grid: coarser, like Landsat beside Sentinel-1, so the chain must align it.
  const int optical_width = static_cast<int>(optical_side_x);
  const int optical_height = static_cast<int>(optical_side_y);
  Grid optical{optical_width, optical_height, {kOriginX, optical_pixel, 0, kOriginY, 0, -optical_pixel}, crs};
  std::vector<RasterTarget> optical_targets;
  for (const char* band : kBandNames) {
    std::string key = band;
    std::transform(key.begin(), key.end(), key.begin(), [](unsigned char ch) { return std::toupper(ch); });
    optical_targets.push_back({key, path_of(std::string("reflectance_") + band), std::string(band) + " reflectance"});
  }
  const BlockKernel optical_kernel = [&](Block& block) {
    for (int r = 0; r < block.height; ++r)
      for (int c = 0; c < block.width; ++c) {
        const std::size_t p = static_cast<std::size_t>(r) * block.width + c;
        const double column = block.x0 + c, row = block.y0 + r;
        const Surface s = scene.at((column + 0.5) * optical_pixel, (row + 0.5) * optical_pixel);
        const auto index = static_cast<std::uint64_t>(row * optical_width + column);
        for (int b = 0; b < 6; ++b)
          block.outputs[b][p] = static_cast<float>(std::max(
              0.001, SceneModel::reflectance(s, b) + 0.004 * normal(seed, kReflectanceNoise + 2 * b, index)));
      }
  };
  reporter.info("optical grid: " + std::to_string(optical_width) + "×" + std::to_string(optical_height) +
                " px of " + std::to_string(optical_pixel) + " m");
  run_on_grid(optical, optical_targets, options, 0, optical_kernel, reporter);
  for (const auto& target : optical_targets) outputs[target.key] = target.path;
  reporter.throw_if_cancelled();

  // Passive-microwave grid: coarse, each pixel the mean emission of a 4 × 4 sub-grid of the surface.
  const int passive_width = static_cast<int>(passive_side_x);
  const int passive_height = static_cast<int>(passive_side_y);
  Grid passive{passive_width, passive_height, {kOriginX, passive_pixel, 0, kOriginY, 0, -passive_pixel}, crs};
  const std::vector<RasterTarget> passive_targets = {{"TBV", path_of("brightness_temperature_v"), "Tb V (K)"},
                                                     {"TBH", path_of("brightness_temperature_h"), "Tb H (K)"}};
  const BlockKernel passive_kernel = [&](Block& block) {
    constexpr int kSubSamples = 4;
    for (int r = 0; r < block.height; ++r)
      for (int c = 0; c < block.width; ++c) {
        const std::size_t p = static_cast<std::size_t>(r) * block.width + c;
        double v = 0.0, h = 0.0;
        for (int j = 0; j < kSubSamples; ++j)
          for (int i = 0; i < kSubSamples; ++i) {
            const double x = (block.x0 + c + (i + 0.5) / kSubSamples) * passive_pixel;
            const double y = (block.y0 + r + (j + 0.5) / kSubSamples) * passive_pixel;
            const Surface s = scene.at(x, y);
            const double temperature = 290.0 + 8.0 * std::cos(2.0 * kPi * x / 11000.0) - 20.0 * (s.soil_moisture - 0.2);
            const auto tb = brightness(s, SceneModel::vwc(s), temperature);
            v += tb.v;
            h += tb.h;
          }
        block.outputs[0][p] = static_cast<float>(v / (kSubSamples * kSubSamples));
        block.outputs[1][p] = static_cast<float>(h / (kSubSamples * kSubSamples));
      }
  };
  reporter.info("passive-microwave grid: " + std::to_string(passive_width) + "×" + std::to_string(passive_height) +
                " px of " + std::to_string(passive_pixel) + " m");
  run_on_grid(passive, passive_targets, options, 0, passive_kernel, reporter);
  for (const auto& target : passive_targets) outputs[target.key] = target.path;
  reporter.throw_if_cancelled();

  // In-situ stations: the true soil moisture at a random pixel plus Gaussian measurement noise.
  const std::string points_path = (folder / "insitu.gpkg").string();
  GDALDriver* gpkg = GetGDALDriverManager()->GetDriverByName("GPKG");
  if (gpkg == nullptr) throw std::runtime_error("GDAL has no GPKG driver");
  VSIUnlink(points_path.c_str());
  GDALDatasetUniquePtr vector(gpkg->Create(points_path.c_str(), 0, 0, 0, GDT_Unknown, nullptr));
  if (!vector) throw std::runtime_error("cannot create '" + points_path + "'");
  OGRLayer* layer = vector->CreateLayer("insitu", &srs, wkbPoint, nullptr);
  OGRFieldDefn station("station", OFTString), measured("sm_insitu", OFTReal), truth("sm_true", OFTReal);
  layer->CreateField(&station);
  layer->CreateField(&measured);
  layer->CreateField(&truth);
  for (int i = 0; i < points; ++i) {
    if (i % 1024 == 0) reporter.throw_if_cancelled();
    const double column = std::floor(2 + uniform(seed, kPointX, i) * (width - 4));
    const double row = std::floor(2 + uniform(seed, kPointY, i) * (height - 4));
    const double x = (column + 0.5) * pixel, y = (row + 0.5) * pixel;
    const double sm = scene.at(x, y).soil_moisture;
    OGRFeature feature(layer->GetLayerDefn());
    char name[16];
    std::snprintf(name, sizeof name, "S%03d", i + 1);
    feature.SetField("station", name);
    feature.SetField("sm_insitu", std::max(0.01, sm + insitu_noise * normal(seed, kPointNoise, i)));
    feature.SetField("sm_true", sm);
    OGRPoint point(kOriginX + x, kOriginY - y);
    feature.SetGeometry(&point);
    if (layer->CreateFeature(&feature) != OGRERR_NONE) throw std::runtime_error("cannot write station " + std::string(name));
  }
  vector.reset();
  outputs["INSITU"] = points_path;

  json description = {
      {"generator", "smr samplescene"}, {"seed", seed}, {"width", width}, {"height", height},
      {"crs", "EPSG:" + std::to_string(kEpsg)}, {"pixel_size_m", pixel}, {"optical_pixel_size_m", optical_pixel},
      {"speckle_looks", looks}, {"insitu_points", points}, {"insitu_noise_m3m3", insitu_noise},
      {"incidence_angle_deg", "30 + 15·(column + 0.5)/width"},
      {"vwc", "paper 000 eq. 8 on the noise-free NDMI, kg/m2"},
      {"water_cloud", "V1 = V2 = VWC (paper 000), sigma0_soil[dB] = C + D·SM (paper 002 eq. 3)"},
      {"VV", {{"A", kVV.a}, {"B", kVV.b}, {"C", kVV.c}, {"D", kVV.d}}},
      {"VH", {{"A", kVH.a}, {"B", kVH.b}, {"C", kVH.c}, {"D", kVH.d}}},
      {"passive_pixel_size_m", passive_pixel},
      {"passive_microwave", {{"incidence_angle_deg", kPassiveAngle}, {"roughness_h", kRoughness},
                             {"opacity_per_vwc_b", kOpacityPerVwc}, {"albedo_omega", kAlbedo},
                             {"permittivity", "Topp et al. (1980) inverted"},
                             {"surface_temperature_K", "290 + 8·cos(2πx/11 km) − 20·(SM − 0.2)"}}},
      {"files", outputs}};
  const std::string description_path = (folder / "scene.json").string();
  write_file_atomically("OUTPUT_DIR", description_path, description.dump(2) + "\n");
  outputs["DESCRIPTION"] = description_path;
  return outputs;
}

}  // namespace

void add_sample_commands(std::vector<Command>& registry) {
  registry.push_back({"samplescene", "write a seeded synthetic scene (optical, radar, in-situ) with its truth",
                      R"~(smr samplescene: a deterministic synthetic scene for the sample workflow and benchmarks.

  OUTPUT_DIR          folder to write into (created if missing)
  WIDTH, HEIGHT       radar grid size in pixels (default 600 × 600)
  PIXEL_SIZE          radar pixel size in metres (default 20); EPSG:32632
  OPTICAL_PIXEL_SIZE  optical pixel size in metres (default 30), a separate grid to be aligned
  SEED                random seed (default 42); the same seed gives the same files for any THREADS
  LOOKS               equivalent number of looks of the multiplicative speckle (default 20, filtered)
  PASSIVE_PIXEL_SIZE  passive-microwave pixel size in metres (default 600), a third, coarse grid
  POINTS              in-situ stations (default 60); INSITU_NOISE their error std (default 0.02 m³/m³)
  PRODUCTS            full (default), radar (σ⁰ VV, VWC and angle only, for benchmarks) or
                      timeseries (daily stacks for paper 001, below)
  THREADS, CREATE_OPTIONS   as for every raster command
Every key is validated whatever the product; one the product does not use is ignored with a warning.
Limits, checked before anything is written: every grid at most 1000000 pixels a side, and all the
rasters of the scene together at most 16 GiB (uncompressed Float32). RESAMPLING and REFERENCE are an
error: the scene reads no raster.

Model: parcels (Voronoi cells, ~400 m) of bare soil, grassland or crop with a vegetation fraction;
reflectance = cover·leaf + (1 - cover)·soil, where soil darkens with moisture (most in SWIR);
true VWC = paper 000 eq. 8 on the noise-free NDMI; σ⁰ by the water cloud model with V1 = V2 = VWC
(paper 000 eq. 1-3) over σ⁰_soil[dB] = C + D·SM (paper 002 eq. 3), VV: A 0.12, B 0.09, C -17, D 28;
VH: A 0.035, B 0.14, C -25, D 22; times unit-mean gamma speckle; written in dB.
Brightness temperatures at 55°: soil permittivity from Topp et al. (1980), Fresnel reflectivity with
roughness h = 0.2, vegetation by the τ-ω model (τ = 0.12·VWC, ω = 0.05), mean of 4 × 4 sub-samples.
Files: sigma0_vv_db, sigma0_vh_db, incidence_angle, truth_vwc, truth_soil_moisture,
truth_sigma_soil_vv_db, truth_sigma_soil_vh_db (noise-free C + D·SM), reflectance_*,
brightness_temperature_v, brightness_temperature_h (.tif), insitu.gpkg (station, sm_insitu,
sm_true) and scene.json with every parameter.

PRODUCTS timeseries: paper 001's inputs and target as daily time stacks on a coarse geographic grid
(the Qinghai-Tibet Plateau). Every file is one Float32 GeoTIFF with DAYS bands, nodata -9999,
band descriptions = ISO dates (band b is START_DATE + b - 1).
  WIDTH, HEIGHT       grid size in cells (default 40 × 30, 1-100000)
  PIXEL_SIZE          cell size in degrees (default 0.25, 0.001-10); EPSG:4326, upper-left corner
                      at longitude 88°, latitude 38°
  DAYS                bands (default 730, 2-5000); START_DATE first band (default 2015-04-01)
  SEED, THREADS, CREATE_OPTIONS as above; each cell's series is the same for any THREADS
Model, per cell: a soil-moisture bucket (depth 40-80 mm, e-folding 3-12 days toward a residual
0.03-0.12 m³/m³, capacity residual + 0.15-0.35) refilled by daily rain whose probability peaks in
summer; the south and east are wetter, and the north-west corner (u² + v² < 0.2/π in grid fractions,
about 5 % of the cells) is a glacier, frozen on almost every day. Truth = the bucket at 01:30.
On a rain day, with probability 0.3, a random share of the day's rain falls between the 01:30 AMSR2
and 06:00 SMAP overpasses (PRECIPITATION, mm; a few heavy events above paper 001's 8.75 mm).
SMAP = truth + PRECIPITATION/depth + N(0, 0.02), clipped to 0.01-0.6 m³/m³: heavy rain makes the
inconsistent pairs that paper 001 §3.2.4 filters out. SMAP is missing on 1/3 of the days (revisit,
stripes of 4 columns) and where the stored GLDAS_ST < 273.15 K (frozen).
Tb (H polarisation, 55°) at 6.9, 7.3, 10.7, 18.7 and 23.8 GHz: Topp permittivity, Fresnel
reflectivity × exp(-h·cos²θ·sqrt(f/6.9)) with h 0.1-0.5, τ-ω vegetation (τ = 0.12·(f/6.9)^0.6·0.5·LAI,
ω = 0.05), effective temperature (LST + ST)/2, plus N(0, 1 K); missing on 10 % of the days (swath
gaps, stripes of 6 columns). GLDAS SM = per-cell bias + gain × truth + N(0, 0.03), clipped to
0.01-0.6; GLDAS ST and LST and MODIS LAI are seasonal with noise. Values rounded as products store
them (0.01 K, 1e-4 m³/m³, 0.001 LAI, 0.01 mm).
Files: tb_06_9ghz, tb_07_3ghz, tb_10_7ghz, tb_18_7ghz, tb_23_8ghz, gldas_sm, gldas_lst, gldas_st,
modis_lai, precipitation, smap_sm, truth_sm, ascat_sigma40_db (ASCAT-like σ⁰ at 40°, dB: -17 + 22·SM
− 0.8·LAI + roughness + 0.3 dB noise, dry-soil level when frozen; paper 003's BTI input), and the
triple-collocation triplet of paper 003 §3.3 with known, independent, unclipped Gaussian errors:
tc_retrieval_sm = θ + N(0, 0.015) m³/m³ (10 % of days missing), tc_satellite_ssm = 200·θ + N(0, 6)
% saturation (30 % missing), tc_reanalysis_sm = 0.05 + 0.7·θ + N(0, 0.02) m³/m³ (.tif), and
scene.json with every parameter and formula.
Result: each file under its upper-case key (TB_06_9GHZ … TRUTH_SM, TC_RETRIEVAL_SM, TC_SATELLITE_SSM,
TC_REANALYSIS_SM, DESCRIPTION), DAYS, START_DATE, CELLS.
)~",
                      run_sample_scene});
}

}  // namespace smr
