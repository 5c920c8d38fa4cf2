// Training as fitnet + trainlm: mapminmax, data division, early stopping at the validation minimum,
// restarts, Adam, and the trainmlp command's reproducibility for any thread count.
#include "smr/model_file.hpp"
#include "smr/training.hpp"
#include "support.hpp"

#include <catch2/catch.hpp>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iterator>
#include <set>

using namespace smr;
using Catch::Matchers::Contains;
using Catch::Matchers::WithinAbs;
using Catch::Matchers::WithinRel;
using Eigen::MatrixXd;

namespace {

// t = 0.2 + 0.1·tanh(a) − 0.05·b with Gaussian noise: a smooth target a 2-5-1 network can learn.
struct Synthetic {
  std::vector<double> a, b, t;
};

Synthetic synthetic(int count, double noise, std::uint64_t seed) {
  std::mt19937_64 random(seed);
  std::uniform_real_distribution<double> uniform(-2.0, 2.0);
  std::normal_distribution<double> gauss(0.0, noise);
  Synthetic data;
  for (int i = 0; i < count; ++i) {
    data.a.push_back(uniform(random));
    data.b.push_back(uniform(random) / 2.0);
    data.t.push_back(0.2 + 0.1 * std::tanh(data.a.back()) - 0.05 * data.b.back() + gauss(random));
  }
  return data;
}

json samples_json(const Synthetic& data) {
  return {{"names", {"a", "b"}}, {"features", {data.a, data.b}}, {"target", data.t}};
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The synthetic problem with inputs and target brought near [−1, 1] (as mapminmax would), divided
// at random with seed 2.
struct Problem {
  MatrixXd inputs, targets;
  Division division;
};

Problem scaled_problem(int count, double noise, std::uint64_t seed, const DivisionRatios& ratios) {
  const Synthetic data = synthetic(count, noise, seed);
  Problem problem{MatrixXd(2, count), MatrixXd(1, count), {}};
  for (int i = 0; i < count; ++i) {
    problem.inputs(0, i) = data.a[static_cast<std::size_t>(i)] / 2.0;
    problem.inputs(1, i) = data.b[static_cast<std::size_t>(i)] * 2.0;
    problem.targets(0, i) = (data.t[static_cast<std::size_t>(i)] - 0.2) * 8.0;
  }
  problem.division = divide_samples(count, DivisionMethod::Random, ratios, {}, 2);
  return problem;
}

TrainingOutcome train_quietly(const Problem& problem, const TrainingSettings& settings) {
  Reporter quiet(nullptr);
  return train_network(problem.inputs, problem.targets, problem.division, settings, quiet);
}

double mse(const Mlp& network, const MatrixXd& inputs, const MatrixXd& targets) {
  return (network.predict(inputs) - targets).squaredNorm() / static_cast<double>(targets.size());
}

// Two predictor rasters a = x/(width/4) − 2 and b = y/height − 0.5 and the target
// 0.2 + 0.1·tanh(a) − 0.05·b on GRID, written as a.tif, b.tif and t.tif into FOLDER; with
// nodata_pixel >= 0, that target pixel is nodata (−9999).
void write_tanh_scene(const test::TempDir& folder, const test::GridSpec& grid, int nodata_pixel = -1) {
  std::vector<float> a, b, t;
  for (int y = 0; y < grid.height; ++y)
    for (int x = 0; x < grid.width; ++x) {
      a.push_back(static_cast<float>(x) / (static_cast<float>(grid.width) / 4.0f) - 2.0f);
      b.push_back(static_cast<float>(y) / static_cast<float>(grid.height) - 0.5f);
      t.push_back(static_cast<float>(0.2 + 0.1 * std::tanh(a.back()) - 0.05 * b.back()));
    }
  const double nodata = -9999.0;
  if (nodata_pixel >= 0) t[static_cast<std::size_t>(nodata_pixel)] = static_cast<float>(nodata);
  test::write_raster(folder.file("a.tif"), a, grid);
  test::write_raster(folder.file("b.tif"), b, grid);
  test::write_raster(folder.file("t.tif"), t, grid, nodata_pixel >= 0 ? &nodata : nullptr);
}

}  // namespace

TEST_CASE("mapminmax maps each row onto the range and back", "[training][scaling]") {
  MatrixXd values(3, 3);
  values << 2, 4, 6,     // [2, 6] → [-1, 1]: 4 ↦ 0
      -1, 0, 1,          // already [-1, 1]
      5, 5, 5;           // constant: the middle of the range
  const MinMaxScaling scaling = MinMaxScaling::fit(values, -1.0, 1.0);
  const MatrixXd scaled = scaling.apply(values);
  CHECK(scaled(0, 0) == -1.0);
  CHECK(scaled(0, 1) == 0.0);
  CHECK(scaled(0, 2) == 1.0);
  CHECK(scaled(1, 2) == 1.0);
  CHECK(scaled.row(2).isConstant(0.0));
  CHECK(scaling.invert(scaled).isApprox(values));
  const MinMaxScaling unit = MinMaxScaling::fit(values, 0.0, 1.0);
  CHECK(unit.apply(values)(0, 1) == 0.5);  // (4 − 2)/(6 − 2)
  CHECK(unit.apply(values)(2, 0) == 0.5);
}

TEST_CASE("data division: sizes by ratio, block order, interleaving, whole groups", "[training][division]") {
  const DivisionRatios ratios{0.7, 0.15, 0.15};
  SECTION("random: 20 samples give 14 / 3 / 3, every sample once, reproducible by seed") {
    const Division division = divide_samples(20, DivisionMethod::Random, ratios, {}, 5);
    CHECK(division.train.size() == 14);  // 20 − round(3.0) − round(3.0)
    CHECK(division.validation.size() == 3);
    CHECK(division.test.size() == 3);
    std::set<Eigen::Index> seen(division.train.begin(), division.train.end());
    seen.insert(division.validation.begin(), division.validation.end());
    seen.insert(division.test.begin(), division.test.end());
    CHECK(seen.size() == 20);
    CHECK(divide_samples(20, DivisionMethod::Random, ratios, {}, 5).validation == division.validation);
    CHECK(divide_samples(20, DivisionMethod::Random, ratios, {}, 6).validation != division.validation);
  }
  SECTION("block keeps the order; the ratios are divided by their sum (4:1)") {
    const Division division = divide_samples(10, DivisionMethod::Block, {4, 1, 0}, {}, 1);
    CHECK(division.train == std::vector<Eigen::Index>{0, 1, 2, 3, 4, 5, 6, 7});
    CHECK(division.validation == std::vector<Eigen::Index>{8, 9});
    CHECK(division.test.empty());
  }
  SECTION("interleaved spreads validation and test through the series") {
    const Division division = divide_samples(20, DivisionMethod::Interleaved, {0.6, 0.2, 0.2}, {}, 1);
    REQUIRE(division.validation.size() == 4);
    CHECK(division.validation.front() < 5);
    CHECK(division.validation.back() >= 15);
  }
  SECTION("a group never spans two subsets") {
    std::vector<std::string> groups;
    for (int i = 0; i < 40; ++i) groups.push_back("station" + std::to_string(i % 10));
    const Division division = divide_samples(40, DivisionMethod::Group, ratios, groups, 3);
    std::set<std::string> train, other;
    for (auto i : division.train) train.insert(groups[static_cast<std::size_t>(i)]);
    for (auto i : division.validation) other.insert(groups[static_cast<std::size_t>(i)]);
    for (auto i : division.test) other.insert(groups[static_cast<std::size_t>(i)]);
    for (const auto& g : other) CHECK(train.count(g) == 0);
    CHECK(train.size() == 6);  // 10 groups − round(1.5) − round(1.5), halves rounded away from zero
  }
  SECTION("too few samples for the split, and bad ratios, are input errors") {
    CHECK_THROWS_WITH(divide_samples(3, DivisionMethod::Random, ratios, {}, 1),
                      Contains("too few samples for the split: 3 samples with TRAIN_RATIO 0.7, VALIDATION_RATIO 0.15"));
    CHECK_THROWS_WITH(divide_samples(10, DivisionMethod::Random, {0, 1, 0}, {}, 1), Contains("TRAIN_RATIO"));
    CHECK_THROWS_WITH(divide_samples(10, DivisionMethod::Random, {1, -0.5, 0}, {}, 1), Contains("VALIDATION_RATIO"));
    CHECK_THROWS_WITH(divide_samples(10, DivisionMethod::Group, ratios, {}, 1), Contains("GROUP_FIELD"));
  }
}

TEST_CASE("early stopping returns the weights of the validation minimum", "[training][early-stopping]") {
  // A large network on few noisy samples overfits: the validation error turns up and training stops
  // max_fail epochs after its minimum.
  const Problem problem = scaled_problem(40, 0.03, 11, {0.5, 0.5, 0.0});
  TrainingSettings settings;
  settings.hidden = {25};
  settings.max_fail = 4;
  const TrainingOutcome outcome = train_quietly(problem, settings);
  REQUIRE(outcome.stop_reason == "validation stop");
  const auto& validation = outcome.curves.validation;
  const auto minimum = std::min_element(validation.begin(), validation.end());
  CHECK(outcome.best_epoch == minimum - validation.begin());
  CHECK(outcome.epochs_run == outcome.best_epoch + settings.max_fail);
  CHECK(outcome.best_epoch < outcome.epochs_run);
  // The returned network is the one of that epoch: its validation error is the minimum, and the last
  // epoch's training error is lower than the kept one's (it went on fitting the noise).
  const MatrixXd validation_inputs = problem.inputs(Eigen::all, problem.division.validation);
  const MatrixXd validation_targets = problem.targets(Eigen::all, problem.division.validation);
  CHECK_THAT(mse(outcome.network, validation_inputs, validation_targets), WithinRel(*minimum, 1e-12));
  CHECK(outcome.curves.train.back() < outcome.curves.train[static_cast<std::size_t>(outcome.best_epoch)]);
}

TEST_CASE("restarts keep the lowest validation error", "[training][restarts]") {
  const Problem problem = scaled_problem(60, 0.01, 4, {0.7, 0.3, 0.0});
  TrainingSettings settings;
  settings.hidden = {3};
  settings.restarts = 5;
  const TrainingOutcome all = train_quietly(problem, settings);
  CHECK(all.best_restart >= 0);
  CHECK(all.best_restart < settings.restarts);
  TrainingSettings one = settings;
  one.restarts = 1;
  const TrainingOutcome first = train_quietly(problem, one);
  CHECK(all.selection_error <= first.selection_error);  // restart 0 is among the five
}

TEST_CASE("Adam trains a network to a small error", "[training][adam]") {
  const Problem problem = scaled_problem(200, 0.0, 8, {0.8, 0.2, 0.0});
  TrainingSettings settings;
  settings.hidden = {8};
  settings.trainer = Trainer::Adam;
  settings.adam.learning_rate = 0.01;
  settings.lm.max_epochs = 300;
  settings.max_fail = 0;
  const TrainingOutcome outcome = train_quietly(problem, settings);
  CHECK(outcome.curves.train.front() > 0.05);
  CHECK(outcome.curves.train.back() < 0.01 * outcome.curves.train.front());
  CHECK(outcome.epochs_run == 300);
}

TEST_CASE("the goal, in target units, stops training", "[training][goal]") {
  test::TempDir folder;
  const Synthetic data = synthetic(80, 0.0, 3);
  // target span ≈ 0.3 m³/m³: an RMSE of 0.03 (MSE 9e-4) is reached within a few epochs, never 0.
  const json result = test::run_command("trainmlp", {{"SAMPLES", samples_json(data)}, {"HIDDEN", 4}, {"GOAL", 9e-4},
                                                      {"OUTPUT_MODEL", folder.file("m.json")}}).outputs;
  CHECK(result["STOP_REASON"] == "performance goal met");
  CHECK(result["TRAIN_RMSE"].get<double>() <= 0.03);
}

TEST_CASE("trainmlp writes the same model file for 1 and 2 threads", "[training][threads]") {
  test::TempDir folder;
  const Synthetic data = synthetic(600, 0.01, 21);  // more than one Jacobian chunk
  json parameters = {{"SAMPLES", samples_json(data)}, {"HIDDEN", "6 3"}, {"RESTARTS", 3}, {"SEED", 9}, {"EPOCHS", 40}};
  for (const int threads : {1, 2}) {
    parameters["THREADS"] = threads;
    parameters["OUTPUT_MODEL"] = folder.file("model" + std::to_string(threads) + ".json");
    test::run_command("trainmlp", parameters);
  }
  const std::string one = read_text(folder.file("model1.json")), two = read_text(folder.file("model2.json"));
  REQUIRE(!one.empty());
  CHECK(one == two);
  // One restart on enough samples that the Jacobian's chunks and JᵀJ's blocks run in parallel.
  parameters["SAMPLES"] = samples_json(synthetic(36000, 0.01, 21));
  parameters["RESTARTS"] = 1;
  parameters["EPOCHS"] = 8;
  for (const int threads : {1, 2}) {
    parameters["THREADS"] = threads;
    parameters["OUTPUT_MODEL"] = folder.file("single" + std::to_string(threads) + ".json");
    test::run_command("trainmlp", parameters);
  }
  CHECK(read_text(folder.file("single1.json")) == read_text(folder.file("single2.json")));
  CHECK(read_text(folder.file("single1.json")) != one);
}

TEST_CASE("trainmlp learns a smooth target and reports honest metrics", "[training][command]") {
  test::TempDir folder;
  const Synthetic data = synthetic(300, 0.005, 5);
  const auto run = test::run_command("trainmlp", {{"SAMPLES", samples_json(data)}, {"HIDDEN", 6}, {"RESTARTS", 2},
                                                  {"OUTPUT_MODEL", folder.file("m.json")}});
  const json& result = run.outputs;
  CHECK(result["TRAIN_N"] == 210);
  CHECK(result["VALIDATION_N"] == 45);
  CHECK(result["TEST_N"] == 45);
  CHECK(result["ALL_N"] == 300);
  CHECK(result["TEST_RMSE"].get<double>() < 0.012);  // the noise is 0.005
  CHECK(result["TEST_R2"].get<double>() > 0.95);
  // The model file reproduces the reported estimates.
  const MlpModel model = read_model_file(folder.file("m.json"), "MODEL");
  CHECK(model.input_names == std::vector<std::string>{"a", "b"});
  MatrixXd inputs(2, 1);
  inputs << data.a[0], data.b[0];
  CHECK_THAT(model.predict(inputs)(0, 0), WithinAbs(result["PREDICTIONS"]["estimate"][0].get<double>(), 1e-12));
  CHECK(result["CURVES"]["train"].size() == static_cast<std::size_t>(result["EPOCHS_RUN"].get<int>() + 1));
}

TEST_CASE("trainmlp skips incomplete samples and rejects bad ones", "[training][errors]") {
  test::TempDir folder;
  const std::string model = folder.file("m.json");
  Synthetic data = synthetic(50, 0.0, 1);
  json samples = samples_json(data);
  samples["features"][0][3] = nullptr;
  samples["target"][7] = nullptr;
  const json result = test::run_command("trainmlp", {{"SAMPLES", samples}, {"HIDDEN", 2}, {"OUTPUT_MODEL", model}}).outputs;
  CHECK(result["SKIPPED_SAMPLES"] == 2);
  CHECK(result["ALL_N"] == 48);

  const auto fails_with = [&](json parameters, const std::string& message) {
    parameters["OUTPUT_MODEL"] = folder.file("bad.json");
    CHECK_THROWS_WITH(test::run_command("trainmlp", parameters), Contains(message));
    CHECK_FALSE(std::filesystem::exists(folder.file("bad.json")));
  };
  json text_value = samples_json(data);
  text_value["features"][1][2] = "wet";
  fails_with({{"SAMPLES", text_value}}, "SAMPLES.features[1] ('b') entry 2 is \"wet\", not a number");
  json short_list = samples_json(data);
  short_list["features"][0].erase(0);
  fails_with({{"SAMPLES", short_list}}, "must be a list of 50 values");
  fails_with({{"SAMPLES", samples_json(synthetic(3, 0.0, 1))}}, "too few samples for the split");
  json flat = samples_json(data);
  flat["target"] = std::vector<double>(50, 0.25);
  fails_with({{"SAMPLES", flat}}, "nothing to learn");
  fails_with({{"SAMPLES", samples_json(data)}, {"HIDDEN", "10 x"}}, "HIDDEN");
  fails_with({{"SAMPLES", samples_json(data)}, {"HIDDEN", 2000}}, "1 to 1000 neurons");
  fails_with({{"SAMPLES", samples_json(data)}, {"DIVISION", "group"}}, "GROUP_FIELD");
  fails_with({{"SAMPLES", samples_json(data)}, {"TRAINER", "sgd"}}, "TRAINER");
  fails_with({{"SAMPLES", samples_json(data)}, {"HIDDEN", "100 60"}}, "use TRAINER adam");
  fails_with({}, "no samples");
}

TEST_CASE("trainmlp from rasters takes the same random pixels for 1 and 2 threads", "[training][rasters]") {
  test::TempDir folder;
  test::GridSpec grid;
  grid.width = 300;
  grid.height = 280;
  write_tanh_scene(folder, grid, 5);  // pixel 5 is nodata: never a sample
  json parameters = {{"INPUT_RASTERS", {folder.file("a.tif"), folder.file("b.tif")}},
                     {"TARGET_RASTER", folder.file("t.tif")}, {"MAX_SAMPLES", 500}, {"HIDDEN", 3}, {"EPOCHS", 30}};
  for (const int threads : {1, 2}) {
    parameters["THREADS"] = threads;
    parameters["OUTPUT_MODEL"] = folder.file("r" + std::to_string(threads) + ".json");
    const json result = test::run_command("trainmlp", parameters).outputs;
    CHECK(result["ALL_N"] == 500);
  }
  CHECK(read_text(folder.file("r1.json")) == read_text(folder.file("r2.json")));
  const MlpModel model = read_model_file(folder.file("r1.json"), "MODEL");
  CHECK(model.input_names == std::vector<std::string>{"a", "b"});
  CHECK(model.target_scaling.minimum[0] >= 0.2 - 0.1 * std::tanh(2.0) - 0.05 * 0.5 - 1e-6);
}

TEST_CASE("a cancelled training writes no model file", "[training][cancel]") {
  test::TempDir folder;
  CancelToken cancel;
  cancel.request();
  CHECK_THROWS_AS(test::run_command("trainmlp", {{"SAMPLES", samples_json(synthetic(100, 0.01, 2))},
                                                 {"OUTPUT_MODEL", folder.file("m.json")}}, &cancel),
                  Cancelled);
  CHECK(folder.entries().empty());
}

TEST_CASE("trainmlp's progress moves through the raster scan, every epoch and every restart to 100 %", "[training][progress]") {
  test::TempDir folder;
  test::GridSpec grid;
  grid.width = 60;
  grid.height = 50;
  write_tanh_scene(folder, grid);
  // MAX_FAIL 0: every restart runs all its epochs, so each of the 2 × 100 epochs moves the bar.
  const auto rasters = test::run_command("trainmlp", {{"INPUT_RASTERS", {folder.file("a.tif"), folder.file("b.tif")}},
                                                      {"TARGET_RASTER", folder.file("t.tif")}, {"HIDDEN", 3}, {"EPOCHS", 100},
                                                      {"MAX_FAIL", 0}, {"RESTARTS", 2}, {"THREADS", 1},
                                                      {"OUTPUT_MODEL", folder.file("r.json")}});
  REQUIRE(rasters.outputs["EPOCHS_RUN"] == 100);
  // The scan fills the first tenth of the bar; training then moves it through the rest, a step per
  // whole percent (before, the scan reached 100 % and training reported nothing).
  const std::vector<double> values = test::progress_values(rasters.lines);
  CHECK(std::count_if(values.begin(), values.end(), [](double v) { return v <= 0.1; }) >= 1);
  test::check_progress(rasters.lines, 0.1, 80);

  // Early stopping: each of the 3 restarts stops long before EPOCHS 1000, and the epochs it did not
  // need are counted when it stops, so the bar still reaches 100 % and moves at every restart.
  const auto samples = test::run_command("trainmlp", {{"SAMPLES", samples_json(synthetic(200, 0.01, 4))}, {"HIDDEN", 3},
                                                      {"MAX_FAIL", 2}, {"RESTARTS", 3}, {"THREADS", 1},
                                                      {"OUTPUT_MODEL", folder.file("s.json")}});
  REQUIRE(samples.outputs["EPOCHS_RUN"].get<int>() < 500);
  test::check_progress(samples.lines, 0.0, 2);
  const std::vector<double> restarts = test::progress_values(samples.lines);
  for (const double third : {1.0 / 3.0, 2.0 / 3.0}) {
    INFO("the bar passes " << third << " when a restart ends");
    CHECK(std::any_of(restarts.begin(), restarts.end(), [&](double v) { return v >= third - 0.011 && v <= third + 0.02; }));
  }
}
