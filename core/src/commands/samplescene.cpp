// A seeded synthetic scene with its truth, physically consistent with the chain of paper 000:
// reflectances from a linear soil/vegetation mixture → indices → VWC (paper 000 eq. 8 on the noise-free
// NDMI) → σ⁰ VV and VH by the water cloud model (paper 000 eq. 1–3) over a dB-linear soil term
// (paper 002 eq. 3) with multiplicative speckle, plus in-situ points with measurement noise.
// Every random number is a hash of (seed, stream, position), so the scene is the same for any thread count.
#include "smr/commands.hpp"
#include "smr/kernels.hpp"
#include "smr/raster.hpp"

#include <gdal_priv.h>
#include <ogrsf_frmts.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>

namespace smr {

namespace {

namespace fs = std::filesystem;
constexpr double kPi = 3.14159265358979323846;
constexpr int kEpsg = 32632;  // UTM 32N
constexpr double kOriginX = 500000.0, kOriginY = 4650000.0;
constexpr double kParcelSize = 400.0;  // metres between parcel seeds

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

BrightnessTemperature brightness(const Surface& s, double vwc, double temperature) {
  const double theta = kPassiveAngle * kernels::kDegToRad;
  const double eps = permittivity(s.soil_moisture);
  const double c = std::cos(theta), root = std::sqrt(eps - std::sin(theta) * std::sin(theta));
  const double rough = std::exp(-kRoughness * c * c);
  const double rh = std::pow((c - root) / (c + root), 2) * rough;
  const double rv = std::pow((eps * c - root) / (eps * c + root), 2) * rough;
  const double gamma = std::exp(-kOpacityPerVwc * vwc / c);
  const auto tau_omega = [&](double r) {
    return temperature * ((1.0 - r) * gamma + (1.0 - kAlbedo) * (1.0 - gamma) * (1.0 + r * gamma));
  };
  return {tau_omega(rv), tau_omega(rh)};
}

json run_sample_scene(const Params& params, Reporter& reporter) {
  params.reject_unknown(with_engine_keys({"OUTPUT_DIR", "WIDTH", "HEIGHT", "SEED", "POINTS", "PIXEL_SIZE",
                                          "OPTICAL_PIXEL_SIZE", "PASSIVE_PIXEL_SIZE", "LOOKS", "INSITU_NOISE",
                                          "PRODUCTS"}));
  const fs::path folder = params.text("OUTPUT_DIR");
  const int width = static_cast<int>(params.integer_in("WIDTH", 16, 100000, 600));
  const int height = static_cast<int>(params.integer_in("HEIGHT", 16, 100000, 600));
  const auto seed = static_cast<std::uint64_t>(params.integer_in("SEED", 0, 1LL << 62, 42));
  const int points = static_cast<int>(params.integer_in("POINTS", 0, 100000, 60));
  const double pixel = params.number_in("PIXEL_SIZE", 0.1, 10000.0, 20.0);
  const double optical_pixel = params.number_in("OPTICAL_PIXEL_SIZE", 0.1, 10000.0, 30.0);
  const double passive_pixel = params.number_in("PASSIVE_PIXEL_SIZE", 1.0, 100000.0, 600.0);
  const double looks = params.number_in("LOOKS", 1.0, 1000.0, 20.0);
  const double insitu_noise = params.number_in("INSITU_NOISE", 0.0, 0.2, 0.02);
  const bool full = params.choice("PRODUCTS", {"full", "radar"}, std::string("full")) == "full";
  std::error_code error;
  fs::create_directories(folder, error);
  if (!fs::is_directory(folder)) throw InputError("OUTPUT_DIR: cannot create folder '" + folder.string() + "'");

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

  // Optical grid: coarser, like Landsat beside Sentinel-1, so the chain must align it.
  const int optical_width = static_cast<int>(std::ceil(width * pixel / optical_pixel));
  const int optical_height = static_cast<int>(std::ceil(height * pixel / optical_pixel));
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

  // Passive-microwave grid: coarse, each pixel the mean emission of a 4 × 4 sub-grid of the surface.
  const int passive_width = static_cast<int>(std::ceil(width * pixel / passive_pixel));
  const int passive_height = static_cast<int>(std::ceil(height * pixel / passive_pixel));
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
  std::ofstream(description_path) << description.dump(2) << "\n";
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
  PRODUCTS            full (default) or radar (σ⁰ VV, VWC and angle only, for benchmarks)
  THREADS, CREATE_OPTIONS   as for every raster command

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
)~",
                      run_sample_scene});
}

}  // namespace smr
