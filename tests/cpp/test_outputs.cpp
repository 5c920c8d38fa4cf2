// The output guard (smr/outputs.hpp) and the engine's writers: no run writes over one of its inputs,
// a run's outputs are committed together or not at all, partial files of dead runs are cleaned up,
// every writable format round-trips with nothing left behind, and the bytes do not depend on THREADS.
#include "support.hpp"

#include "smr/outputs.hpp"

#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <iterator>
#include <thread>

using namespace smr;
using namespace smr::test;
using Catch::Matchers::Contains;

namespace fs = std::filesystem;

namespace {

std::string file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::vector<float> ramp(std::size_t count, float start, float step) {
  std::vector<float> values(count);
  for (std::size_t i = 0; i < count; ++i) values[i] = start + step * static_cast<float>(i);
  return values;
}

// Names in `folder` that no finished run should leave: staging folders and per-file temporaries.
std::vector<std::string> leftovers(const TempDir& dir) {
  std::vector<std::string> found;
  for (const auto& name : dir.entries())
    if (name.find("smr-partial") != std::string::npos || name.find("smr-previous") != std::string::npos ||
        name.find("smr-work") != std::string::npos)
      found.push_back(name);
  return found;
}

// A pid that belonged to a process which has exited (and been reaped).
pid_t dead_pid() {
  const pid_t child = fork();
  if (child == 0) _exit(0);
  int status = 0;
  waitpid(child, &status, 0);
  return child;
}

json stack_parameters(const TempDir& dir) {
  std::vector<std::vector<float>> estimate, reference;
  for (int t = 0; t < 8; ++t) {
    estimate.push_back(ramp(12, 0.1f + 0.01f * static_cast<float>(t), 0.01f));
    reference.push_back(ramp(12, 0.12f + 0.011f * static_cast<float>(t * t % 5), 0.009f));
  }
  write_stack(dir.file("estimate.tif"), estimate);
  write_stack(dir.file("reference.tif"), reference);
  return {{"ESTIMATE", dir.file("estimate.tif")}, {"REFERENCE_STACK", dir.file("reference.tif")},
          {"MIN_OBSERVATIONS", 4}, {"OUTPUT", dir.file("metrics.tif")}};
}

}  // namespace

TEST_CASE("no output is ever written over an input, through any path or symlink", "[outputs]") {
  TempDir dir;
  write_raster(dir.file("sigma0.tif"), ramp(12, -12.0f, 0.5f));
  write_raster(dir.file("target.tif"), ramp(12, 0.10f, 0.02f));
  fs::create_symlink(dir.file("target.tif"), dir.file("link.tif"));
  const std::string sigma0 = file_bytes(dir.file("sigma0.tif")), target = file_bytes(dir.file("target.tif"));

  // The audit's case: trainmlp's model over TARGET_RASTER, or over an INPUT_RASTERS file.
  for (const std::string& model : {dir.file("target.tif"), dir.file("sigma0.tif"), dir.file("./target.tif"),
                                   dir.file("link.tif"), dir.file("../" + fs::path(dir.file("")).parent_path().filename().string() + "/target.tif")}) {
    INFO(model);
    CHECK_THROWS_WITH(run_command("trainmlp", {{"INPUT_RASTERS", {dir.file("sigma0.tif")}},
                                               {"TARGET_RASTER", dir.file("target.tif")},
                                               {"EPOCHS", 2},
                                               {"OUTPUT_MODEL", model}}),
                      Contains("OUTPUT_MODEL: '" + model + "' is the input") && Contains("choose another file"));
  }
  CHECK(file_bytes(dir.file("sigma0.tif")) == sigma0);
  CHECK(file_bytes(dir.file("target.tif")) == target);

  // A model file that happens to carry a raster extension is applymodel's input, never its output.
  run_command("trainmlp", {{"INPUT_RASTERS", {dir.file("sigma0.tif")}}, {"TARGET_RASTER", dir.file("target.tif")},
                           {"EPOCHS", 2}, {"HIDDEN", 2}, {"OUTPUT_MODEL", dir.file("model.tif")}});
  const std::string model = file_bytes(dir.file("model.tif"));
  CHECK_THROWS_WITH(run_command("applymodel", {{"MODEL", dir.file("model.tif")}, {"INPUTS", {dir.file("sigma0.tif")}},
                                               {"OUTPUT", dir.file("model.tif")}}),
                    Contains("OUTPUT: '" + dir.file("model.tif") + "' is the input MODEL"));
  CHECK(file_bytes(dir.file("model.tif")) == model);

  // temporalmetrics' CSV over the ESTIMATE stack.
  json parameters = stack_parameters(dir);
  const std::string estimate = file_bytes(dir.file("estimate.tif"));
  parameters["SPATIAL_OUTPUT"] = dir.file("estimate.tif");
  CHECK_THROWS_WITH(run_command("temporalmetrics", parameters),
                    Contains("SPATIAL_OUTPUT: '" + dir.file("estimate.tif") + "' is the input ESTIMATE"));
  CHECK(file_bytes(dir.file("estimate.tif")) == estimate);
  CHECK_FALSE(fs::exists(dir.file("metrics.tif")));

  // Two outputs of one run on one file.
  parameters["SPATIAL_OUTPUT"] = dir.file("./metrics.tif");
  CHECK_THROWS_WITH(run_command("temporalmetrics", parameters), Contains("is also OUTPUT"));
  CHECK(leftovers(dir).empty());
}

TEST_CASE("a run whose second output fails keeps every previous output", "[outputs]") {
  TempDir dir;
  json parameters = stack_parameters(dir);
  parameters["SPATIAL_OUTPUT"] = dir.file("spatial.csv");
  run_command("temporalmetrics", parameters);
  const std::string metrics = file_bytes(dir.file("metrics.tif")), spatial = file_bytes(dir.file("spatial.csv"));
  REQUIRE(!metrics.empty());

  // OUTPUT is computed and written, then SPATIAL_OUTPUT cannot be: a folder stands where the file should go.
  parameters["SPATIAL_OUTPUT"] = dir.file("folder.csv");
  fs::create_directory(dir.file("folder.csv"));
  parameters["MIN_OBSERVATIONS"] = 5;  // a different result, so a replaced OUTPUT would show
  CHECK_THROWS_WITH(run_command("temporalmetrics", parameters), Contains("SPATIAL_OUTPUT") && Contains("is a folder"));
  CHECK(file_bytes(dir.file("metrics.tif")) == metrics);
  CHECK(file_bytes(dir.file("spatial.csv")) == spatial);
  CHECK(leftovers(dir).empty());
}

TEST_CASE("a full disk is an input error that names the output and keeps the previous files", "[outputs][disk]") {
  TempDir dir;
  const std::string small = dir.file("small");
  fs::create_directory(small);
  // A 192 KiB file system; needs root (CI runs as root). Elsewhere the case cannot be made.
  if (::mount("tmpfs", small.c_str(), "tmpfs", 0, "size=192k") != 0) {
    WARN("cannot mount a small tmpfs here (not root?): the full-disk case is not run");
    return;
  }
  struct Unmount {
    std::string path;
    ~Unmount() { ::umount(path.c_str()); }
  } unmount{small};
  json parameters = stack_parameters(dir);
  parameters["SPATIAL_OUTPUT"] = small + "/spatial.csv";
  run_command("temporalmetrics", parameters);
  const std::string metrics = file_bytes(dir.file("metrics.tif")), spatial = file_bytes(small + "/spatial.csv");
  { std::ofstream(small + "/ballast", std::ios::binary) << std::string(180 * 1024, 'x'); }
  // Fill what is left, so the next CSV cannot be written.
  {
    std::ofstream filler(small + "/filler", std::ios::binary);
    const std::string chunk(4096, 'y');
    for (int i = 0; i < 64 && filler; ++i) filler << chunk;
  }
  parameters["MIN_OBSERVATIONS"] = 5;
  CHECK_THROWS_WITH(run_command("temporalmetrics", parameters),
                    Contains("SPATIAL_OUTPUT") && Contains("no space left on device"));
  CHECK(file_bytes(dir.file("metrics.tif")) == metrics);
  CHECK(file_bytes(small + "/spatial.csv") == spatial);

  // A raster output on the full disk: the same, through the engine's writer (room to create it, not to fill it).
  fs::remove(small + "/filler");
  write_raster(dir.file("tbv.tif"), ramp(300 * 300, 250.0f, 0.0001f), {300, 300});
  write_raster(dir.file("tbh.tif"), ramp(300 * 300, 240.0f, 0.0002f), {300, 300});
  CHECK_THROWS_WITH(run_command("mpdi", {{"TBV", dir.file("tbv.tif")}, {"TBH", dir.file("tbh.tif")},
                                         {"CREATE_OPTIONS", "COMPRESS=NONE"}, {"OUTPUT", small + "/mpdi.tif"}}),
                    Contains("OUTPUT") && Contains("no space left on device"));
  CHECK_FALSE(fs::exists(small + "/mpdi.tif"));
  for (const auto& entry : fs::directory_iterator(small))
    CHECK_THAT(entry.path().filename().string(), !Contains("smr-partial"));
}

TEST_CASE("partial files of dead runs are removed by the next run into the same folder", "[outputs]") {
  TempDir dir;
  write_raster(dir.file("tbv.tif"), ramp(12, 250.0f, 1.0f));
  write_raster(dir.file("tbh.tif"), ramp(12, 240.0f, 0.5f));
  const pid_t dead = dead_pid();
  // What a SIGKILL leaves: a staging folder of this host (with a previous output set aside mid-commit),
  // and the per-file temporaries of earlier versions.
  const std::string own_prefix = staging_folder_name().substr(0, staging_folder_name().rfind('-') + 1);
  const fs::path stale = dir.file(own_prefix + std::to_string(dead));
  fs::create_directories(stale / "0");
  fs::create_directories(stale / "previous-1");
  { std::ofstream(stale / "0" / "mpdi.tif") << "half a raster"; }
  { std::ofstream(stale / "previous-1" / "kept.csv") << "a previous output whose target is gone"; }
  { std::ofstream(dir.file("mpdi.smr-partial-" + std::to_string(dead) + ".tif")) << "half a raster"; }
  // A live process's staging folder (pid 1 is always alive) is none of our business.
  const fs::path alive = dir.file(own_prefix + "1");
  fs::create_directories(alive / "0");

  run_command("mpdi", {{"TBV", dir.file("tbv.tif")}, {"TBH", dir.file("tbh.tif")}, {"OUTPUT", dir.file("mpdi.tif")}});
  CHECK_FALSE(fs::exists(stale));
  CHECK_FALSE(fs::exists(dir.file("mpdi.smr-partial-" + std::to_string(dead) + ".tif")));
  CHECK(file_bytes(dir.file("kept.csv")) == "a previous output whose target is gone");
  CHECK(fs::exists(alive));
  CHECK(read_raster(dir.file("mpdi.tif")).size() == 12);
}

TEST_CASE("a run killed with SIGKILL keeps the previous outputs, and the next run cleans up", "[outputs][signal]") {
  TempDir dir;
  const std::string scene = dir.file("scene");
  run_command("samplescene", {{"OUTPUT_DIR", scene}, {"WIDTH", 40}, {"HEIGHT", 30}, {"POINTS", 5}});
  const std::string previous = file_bytes(scene + "/sigma0_vv_db.tif");
  // A scene large enough to be killed while it writes.
  { std::ofstream(dir.file("big.json")) << json{{"OUTPUT_DIR", scene}, {"WIDTH", 6000}, {"HEIGHT", 3000}, {"POINTS", 5}, {"THREADS", 1}}.dump(); }
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    std::freopen("/dev/null", "w", stdout);
    execl(SMR_EXECUTABLE, SMR_EXECUTABLE, "samplescene", dir.file("big.json").c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  const fs::path staging = fs::path(scene) / (staging_folder_name().substr(0, staging_folder_name().rfind('-') + 1) + std::to_string(pid));
  for (int i = 0; i < 400 && !fs::exists(staging); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(25));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  REQUIRE(WIFSIGNALED(status));
  CHECK(fs::exists(staging));  // what SIGKILL leaves: nothing can run in a killed process
  CHECK(file_bytes(scene + "/sigma0_vv_db.tif") == previous);

  run_command("samplescene", {{"OUTPUT_DIR", scene}, {"WIDTH", 40}, {"HEIGHT", 30}, {"POINTS", 5}, {"SEED", 7}});
  CHECK_FALSE(fs::exists(staging));
  CHECK(file_bytes(scene + "/sigma0_vv_db.tif") != previous);
}

TEST_CASE("every writable format round-trips and leaves only its own files", "[outputs][formats]") {
  GDALAllRegister();
  const std::vector<float> tbv = ramp(20 * 10, 250.0f, 0.25f), tbh = ramp(20 * 10, 240.0f, 0.125f);
  const std::vector<std::string> extensions = writable_raster_extensions();
  REQUIRE(extensions.size() > 10);
  // The audit's broken formats: those GDAL cannot write as Float32 files are refused with the list.
  for (const std::string& refused : {"vrt", "mpr", "mpl", "ter", "png", "kml"}) {
    INFO("." << refused);
    CHECK(std::find(extensions.begin(), extensions.end(), refused) == extensions.end());
    TempDir dir;
    write_raster(dir.file("tb.tif"), tbv, {20, 10});
    CHECK_THROWS_WITH(run_command("mpdi", {{"TBV", dir.file("tb.tif")}, {"TBH", dir.file("tb.tif")},
                                           {"OUTPUT", dir.file("mpdi." + refused)}}),
                      Contains("OUTPUT: smr cannot write Float32 rasters as '." + refused + "'") &&
                          Contains("supported extensions: ") && Contains(" tif "));
    CHECK(dir.entries().size() == 1);
  }
  for (const std::string& extension : extensions) {
    INFO("." << extension);
    TempDir dir;
    GridSpec grid{20, 10};
    write_raster(dir.file("tbv.tif"), tbv, grid);
    write_raster(dir.file("tbh.tif"), tbh, grid);
    const std::string output = dir.file("mpdi." + extension);
    // Twice: the second run replaces the first and its sidecars.
    for (const float shift : {0.0f, 5.0f}) {
      if (shift != 0.0f) write_raster(dir.file("tbv.tif"), ramp(20 * 10, 250.0f + shift, 0.25f), grid);
      json parameters = {{"TBV", dir.file("tbv.tif")}, {"TBH", dir.file("tbh.tif")}, {"OUTPUT", output}};
      try {
        run_command("mpdi", parameters);
      } catch (const InputError& refused) {
        // A driver may refuse this grid (size, CRS); it must say so as an input error and leave nothing.
        CHECK_THAT(refused.what(), Contains("OUTPUT"));
        CHECK(leftovers(dir).empty());
        break;
      }
      std::vector<float> values;
      CHECK_NOTHROW(values = read_raster(output));
      if (values.size() != tbv.size()) {
        FAIL_CHECK("the output is not the grid that was written");
        break;
      }
      const float v = 250.0f + shift + 0.25f * 7.0f, h = 240.0f + 0.125f * 7.0f;
      CHECK_THAT(values[7], Catch::Matchers::WithinRel((v - h) / (v + h), 1e-5f));
      CHECK(leftovers(dir).empty());
    }
  }
}

TEST_CASE("1 and 2 threads write byte-identical files", "[outputs][engine][threads]") {
  TempDir dir;
  for (int threads : {1, 2})
    run_command("samplescene", {{"OUTPUT_DIR", dir.file("scene" + std::to_string(threads))}, {"WIDTH", 1100},
                                {"HEIGHT", 700}, {"POINTS", 5}, {"THREADS", threads}});
  for (const std::string name : {"sigma0_vv_db", "truth_vwc", "reflectance_nir", "incidence_angle"}) {
    INFO(name);
    const std::string one = file_bytes(dir.file("scene1/" + name + ".tif"));
    CHECK(one.size() > 1000);
    CHECK(one == file_bytes(dir.file("scene2/" + name + ".tif")));
  }
  for (int threads : {1, 2})
    run_command("watercloudinversion",
                {{"SIGMA0", dir.file("scene1/sigma0_vv_db.tif")}, {"VWC", dir.file("scene1/truth_vwc.tif")},
                 {"ANGLE", dir.file("scene1/incidence_angle.tif")}, {"A", 0.12}, {"B", 0.09}, {"THREADS", threads},
                 {"OUTPUT", dir.file("soil" + std::to_string(threads) + ".tif")}});
  CHECK(file_bytes(dir.file("soil1.tif")) == file_bytes(dir.file("soil2.tif")));
}

TEST_CASE("a truncated input is an input error that names the parameter and the file", "[outputs][engine]") {
  TempDir dir;
  write_raster(dir.file("tbv.tif"), ramp(300 * 300, 250.0f, 0.0001f), {300, 300});
  write_raster(dir.file("tbh.tif"), ramp(300 * 300, 240.0f, 0.0002f), {300, 300});
  // Cut the file short: its header (and directory) still open, the pixel data ends early.
  const auto size = fs::file_size(dir.file("tbh.tif"));
  fs::resize_file(dir.file("tbh.tif"), size / 3);
  CHECK_THROWS_WITH(run_command("mpdi", {{"TBV", dir.file("tbv.tif")}, {"TBH", dir.file("tbh.tif")},
                                         {"OUTPUT", dir.file("mpdi.tif")}}),
                    Contains("TBH: ") && Contains(dir.file("tbh.tif")));
  CHECK_FALSE(fs::exists(dir.file("mpdi.tif")));
  CHECK(leftovers(dir).empty());
}
