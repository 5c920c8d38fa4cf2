// Training memory: no heap allocation per epoch (workspaces sized once per restart), and the estimate
// that rejects a training larger than MAX_MEMORY_MB before it allocates.
#include "heap_counter.hpp"
#include "smr/training.hpp"
#include "smr/training_params.hpp"
#include "support.hpp"

#include <catch2/catch.hpp>
#include <omp.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <random>

using namespace smr;
using Catch::Matchers::Contains;
using Eigen::MatrixXd;

namespace {

// t = tanh(a) − 0.5·b + noise, inputs in [−1, 1]: a target a small network keeps improving on for
// hundreds of epochs, so early stopping off means every epoch really runs.
struct Problem {
  MatrixXd inputs, targets;
  Division division;
};

Problem problem(int count, std::uint64_t seed, const DivisionRatios& ratios) {
  std::mt19937_64 random(seed);
  std::uniform_real_distribution<double> uniform(-1.0, 1.0);
  std::normal_distribution<double> gauss(0.0, 0.05);
  Problem p{MatrixXd(2, count), MatrixXd(1, count), {}};
  for (int i = 0; i < count; ++i) {
    p.inputs(0, i) = uniform(random);
    p.inputs(1, i) = uniform(random);
    p.targets(0, i) = std::tanh(2.0 * p.inputs(0, i)) - 0.5 * p.inputs(1, i) + gauss(random);
  }
  p.division = divide_samples(count, DivisionMethod::Random, ratios, {}, seed);
  return p;
}

struct CountedTraining {
  test::HeapCount heap;
  TrainingOutcome outcome;
};

CountedTraining counted_training(const Problem& p, const TrainingSettings& settings) {
  Reporter quiet(nullptr);
  test::HeapCounter counter;
  TrainingOutcome outcome = train_network(p.inputs, p.targets, p.division, settings, quiet);
  return {counter.stop(), std::move(outcome)};
}

// Settings that run exactly `epochs` epochs: no goal, no gradient floor, no early stopping.
TrainingSettings every_epoch(Trainer trainer, std::vector<int> hidden, int epochs) {
  TrainingSettings settings;
  settings.trainer = trainer;
  settings.hidden = std::move(hidden);
  settings.lm.max_epochs = epochs;
  settings.lm.goal = 0.0;
  settings.lm.min_gradient = 0.0;
  settings.lm.mu_max = 1e300;
  settings.max_fail = 0;
  settings.adam.learning_rate = 1e-3;
  settings.seed = 5;
  return settings;
}

constexpr double kMiB = 1048576.0;

// n inputs in [−1, 1] and a smooth target, as trainmlp's SAMPLES.
json samples_json(int inputs, int count) {
  std::mt19937_64 random(7);
  std::uniform_real_distribution<double> uniform(-1.0, 1.0);
  json features = json::array(), target = json::array(), names = json::array();
  for (int i = 0; i < inputs; ++i) {
    names.push_back("x" + std::to_string(i));
    features.push_back(json::array());
  }
  for (int s = 0; s < count; ++s) {
    double sum = 0.0;
    for (int i = 0; i < inputs; ++i) {
      const double x = uniform(random);
      features[static_cast<std::size_t>(i)].push_back(x);
      sum += x;
    }
    target.push_back(std::tanh(sum));
  }
  return {{"names", names}, {"features", features}, {"target", target}};
}

// The exit code and everything `smr <command>` printed (stdout and stderr) for parameters on stdin.
struct ExecutableRun {
  int exit_code = -1;
  std::string output;
};

ExecutableRun run_executable(const std::string& command, const json& parameters) {
  test::TempDir folder;
  const std::string input = folder.file("params.json"), output = folder.file("output.txt");
  {
    std::FILE* file = std::fopen(input.c_str(), "w");
    REQUIRE(file != nullptr);
    const std::string text = parameters.dump();
    std::fwrite(text.data(), 1, text.size(), file);
    std::fclose(file);
  }
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    std::FILE* out = std::freopen(output.c_str(), "w", stdout);
    if (out == nullptr || dup2(fileno(stdout), STDERR_FILENO) < 0) _exit(126);
    execl(SMR_EXECUTABLE, SMR_EXECUTABLE, command.c_str(), input.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  ExecutableRun run;
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::FILE* file = std::fopen(output.c_str(), "r");
  REQUIRE(file != nullptr);
  char buffer[4096];
  for (std::size_t read; (read = std::fread(buffer, 1, sizeof buffer, file)) > 0;) run.output.append(buffer, read);
  std::fclose(file);
  return run;
}

}  // namespace

TEST_CASE("training allocates the same heap blocks for 120 epochs as for 600", "[training][memory][allocations]") {
  if (!test::HeapCounter::available()) {
    WARN("heap allocations are not counted in a sanitizer build");
    return;
  }
  struct Case {
    const char* name;
    Trainer trainer;
    std::vector<int> hidden;
    int samples, short_run, long_run, batch;
  };
  // 600 training samples: Jacobian chunks of 256, 256 and 88, and JᵀJ large enough that Eigen's
  // product would allocate its blocks; Adam's batches of 16 end in a batch of 8; validation and test
  // subsets are scored every epoch. Both runs of a case have over 100 epochs: the reporter builds a
  // line (allocating) once per whole percent, 101 times for either.
  const Case cases[] = {{"Levenberg-Marquardt, 2-7-1", Trainer::LevenbergMarquardt, {7}, 800, 120, 600, 32},
                        {"Levenberg-Marquardt, 2-6-3-1", Trainer::LevenbergMarquardt, {6, 3}, 800, 120, 600, 32},
                        {"Adam, 2-7-1", Trainer::Adam, {7}, 800, 110, 330, 16},
                        {"Adam, 2-80-80-1", Trainer::Adam, {80, 80}, 800, 101, 202, 100}};
  // The process's first training initialises OpenMP and Eigen's cache sizes, once.
  counted_training(problem(100, 1, {0.8, 0.1, 0.1}), every_epoch(Trainer::LevenbergMarquardt, {2}, 2));
  for (const Case& c : cases) {
    INFO(c.name);
    const Problem p = problem(c.samples, 3, {0.75, 0.125, 0.125});
    TrainingSettings settings = every_epoch(c.trainer, c.hidden, c.short_run);
    settings.adam.batch_size = c.batch;
    const CountedTraining short_run = counted_training(p, settings);
    settings.lm.max_epochs = c.long_run;
    const CountedTraining long_run = counted_training(p, settings);
    REQUIRE(short_run.outcome.epochs_run == c.short_run);
    REQUIRE(long_run.outcome.epochs_run == c.long_run);
    INFO("heap allocations: " << short_run.heap.allocations << " for " << c.short_run << " epochs, "
                              << long_run.heap.allocations << " for " << c.long_run << " epochs");
    CHECK(long_run.heap.allocations == short_run.heap.allocations);
  }
}

TEST_CASE("the memory estimate of a training, worked by hand", "[training][memory]") {
  // 4-7-1 (43 weights), Levenberg–Marquardt on 210 training, 45 validation and 45 test samples.
  TrainingSettings settings;
  settings.hidden = {7};
  settings.restarts = 5;
  const TrainingMemory lm = estimate_training_memory(4, 1, 210, 45, 45, settings, 2);
  CHECK(lm.weights == 43);
  CHECK(lm.jacobian == 210.0 * 43 * 8);
  CHECK(lm.matrices >= 3.0 * 43 * 43 * 8);  // JᵀJ, JᵀJ + μI, its Cholesky factor
  CHECK(lm.concurrent == 2);                 // five restarts, two threads
  // The samples (4 inputs and the target), and each restart's kept network and curves.
  CHECK(lm.shared == 300.0 * 5 * 8 + 5 * (43.0 + 3 * 1001) * 8);
  CHECK(lm.total() == lm.shared + 2 * lm.per_restart());
  settings.restarts = 1;
  CHECK(estimate_training_memory(4, 1, 210, 45, 45, settings, 2).concurrent == 1);

  // Adam holds the Jacobian of one full batch and of the last, shorter one, never of every sample.
  settings.trainer = Trainer::Adam;
  settings.adam.batch_size = 32;
  const TrainingMemory adam = estimate_training_memory(4, 1, 210, 45, 45, settings, 2);
  CHECK(adam.jacobian == (32.0 + 210 % 32) * 43 * 8);

  // Ten hidden layers of 1000 on 2 inputs: 9,013,001 weights, far beyond the default MAX_MEMORY_MB.
  settings.hidden.assign(10, 1000);
  const TrainingMemory deep = estimate_training_memory(2, 1, 70, 15, 15, settings, 1);
  CHECK(deep.weights == 2 * 1000 + 1000 + 9 * (1000 * 1000 + 1000) + 1000 + 1);
  CHECK(deep.total() > static_cast<double>(kDefaultMaxMemoryMb) * kMiB);
}

TEST_CASE("the memory estimate covers what a training holds at its peak", "[training][memory]") {
  if (!test::HeapCounter::available()) {
    WARN("heap bytes are not tracked in a sanitizer build");
    return;
  }
  struct Case {
    const char* name;
    Trainer trainer;
    std::vector<int> hidden;
    int samples, batch, restarts;
  };
  const Case cases[] = {{"Levenberg-Marquardt, 2-40-1, 2000 samples", Trainer::LevenbergMarquardt, {40}, 2000, 32, 1},
                        {"Levenberg-Marquardt, 2-12-1, 3 restarts", Trainer::LevenbergMarquardt, {12}, 700, 32, 3},
                        {"Adam, 2-200-200-1", Trainer::Adam, {200, 200}, 300, 32, 1}};
  for (const Case& c : cases) {
    INFO(c.name);
    const Problem p = problem(c.samples, 9, {0.7, 0.15, 0.15});
    TrainingSettings settings = every_epoch(c.trainer, c.hidden, 3);
    settings.adam.batch_size = c.batch;
    settings.restarts = c.restarts;
    const TrainingMemory estimate =
        estimate_training_memory(2, 1, static_cast<Eigen::Index>(p.division.train.size()),
                                 static_cast<Eigen::Index>(p.division.validation.size()),
                                 static_cast<Eigen::Index>(p.division.test.size()), settings, 1);
    omp_set_num_threads(1);
    const CountedTraining run = counted_training(p, settings);
    omp_set_num_threads(omp_get_num_procs());
    const double peak = static_cast<double>(run.heap.peak_bytes);
    INFO("peak " << peak / kMiB << " MB, estimate " << estimate.total() / kMiB << " MB");
    CHECK(peak <= estimate.total());
    CHECK(peak >= 0.8 * estimate.total());  // an estimate, not a bound pulled out of the air
  }
}

TEST_CASE("a training the machine has no memory for ends in an InputError naming its parameters", "[training][memory]") {
  if (!test::HeapCounter::available()) {
    WARN("allocations cannot be made to fail in a sanitizer build");
    return;
  }
  // 2-50-1 on 1400 training samples: its 1400 × 201 Jacobian alone is 2.2 MB; allocations above
  // 1 MB fail as on a machine out of memory, after MAX_MEMORY_MB let the training start.
  const Problem p = problem(2000, 4, {0.7, 0.15, 0.15});
  TrainingSettings settings = every_epoch(Trainer::LevenbergMarquardt, {50}, 5);
  settings.restarts = 2;
  Reporter quiet(nullptr);
  std::string message;
  {
    test::HeapCounter counter;
    counter.fail_above(1 << 20);
    try {
      train_network(p.inputs, p.targets, p.division, settings, quiet);
    } catch (const InputError& error) {
      message = error.what();
    } catch (const std::exception& other) {
      FAIL("not an InputError: " << other.what());
    }
  }
  CHECK_THAT(message, Contains("out of memory while training: HIDDEN [50] (201 weights) with TRAINER lm on 1400 "
                               "training samples, RESTARTS 2") &&
                          Contains("Lower HIDDEN, the samples, RESTARTS or THREADS, or MAX_MEMORY_MB"));
  // Allocations succeed again: the same training runs.
  CHECK(train_network(p.inputs, p.targets, p.division, settings, quiet).epochs_run == 5);
}

TEST_CASE("MAX_MEMORY_MB: a training just under the limit runs, just over it is refused by name", "[training][memory]") {
  TrainingChoice choice;
  choice.settings.hidden = {300, 300};
  choice.settings.trainer = Trainer::Adam;
  TrainingShape shape = divided_shape(100, choice.ratios);
  CHECK(shape.train == 70);
  CHECK(shape.validation == 15);
  CHECK(shape.test == 15);
  shape.inputs = 2;
  shape.threads = 1;
  shape.sample_keys = "MAX_SAMPLES";
  const double estimate = command_training_memory(choice, shape).total();
  const auto needed = static_cast<long long>(std::ceil(estimate / kMiB));
  REQUIRE(needed > kLowestMaxMemoryMb);
  choice.max_memory_mb = needed;
  CHECK_NOTHROW(check_training_memory(choice, shape));
  choice.max_memory_mb = needed - 1;
  CHECK_THROWS_AS(check_training_memory(choice, shape), InputError);
  CHECK_THROWS_WITH(check_training_memory(choice, shape),
                    Contains("about " + std::to_string(needed) + " MB, more than MAX_MEMORY_MB " + std::to_string(needed - 1)) &&
                        Contains("HIDDEN [300,300]") && Contains("91,501 weights") && Contains("BATCH_SIZE 32") &&
                        Contains("fewer samples (MAX_SAMPLES)") && Contains("RESTARTS") && Contains("THREADS") &&
                        Contains("raise MAX_MEMORY_MB (16 to 1048576)"));

  // Cells train THREADS at a time, so per-cell trainings count once per thread.
  shape.per_cell = true;
  shape.threads = 4;
  choice.max_memory_mb = kHighestMaxMemoryMb;
  CHECK(command_training_memory(choice, shape).total() > 3.9 * estimate);
  choice.max_memory_mb = 2 * needed;
  CHECK_THROWS_WITH(check_training_memory(choice, shape), Contains("THREADS 4: 4 of these trainings at once"));
  shape.trainings = 2;  // fewer trainings than threads
  CHECK(command_training_memory(choice, shape).concurrent == 2);
}

TEST_CASE("trainmlp checks MAX_MEMORY_MB with the shape it trains", "[training][memory][command]") {
  test::TempDir folder;
  json parameters = {{"SAMPLES", samples_json(2, 100)}, {"HIDDEN", "300 300"}, {"TRAINER", "adam"},
                     {"EPOCHS", 1},  {"THREADS", 1},                {"OUTPUT_MODEL", folder.file("m.json")}};
  const TrainingChoice choice = training_choice(Params(parameters, "trainmlp"), TrainingDefaults{}, {"random"});
  TrainingShape shape = divided_shape(100, choice.ratios);
  shape.inputs = 2;
  const auto needed = static_cast<long long>(std::ceil(command_training_memory(choice, shape).total() / kMiB));
  parameters["MAX_MEMORY_MB"] = needed - 1;
  CHECK_THROWS_WITH(test::run_command("trainmlp", parameters), Contains("more than MAX_MEMORY_MB " + std::to_string(needed - 1)));
  CHECK_FALSE(std::filesystem::exists(folder.file("m.json")));
  parameters["MAX_MEMORY_MB"] = needed;
  CHECK(test::run_command("trainmlp", parameters).outputs["EPOCHS_RUN"] == 1);
  parameters["MAX_MEMORY_MB"] = 8;
  CHECK_THROWS_WITH(test::run_command("trainmlp", parameters), Contains("MAX_MEMORY_MB is 8: valid values are 16 to 1048576"));
}

TEST_CASE("smr trainmlp: adam with ten hidden layers of 1000 ends with exit 2 naming MAX_MEMORY_MB", "[training][memory][executable]") {
  test::TempDir folder;
  const json parameters = {{"SAMPLES", samples_json(2, 100)},
                           {"HIDDEN", {1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000}},
                           {"TRAINER", "adam"},
                           {"OUTPUT_MODEL", folder.file("m.json")}};
  const ExecutableRun run = run_executable("trainmlp", parameters);
  INFO(run.output);
  CHECK(run.exit_code == 2);
  CHECK_THAT(run.output, Contains("more than MAX_MEMORY_MB 4096") && Contains("HIDDEN [1000,1000,1000,1000,1000") &&
                             Contains("9,013,001 weights") && Contains("BATCH_SIZE") && Contains("raise MAX_MEMORY_MB"));
  CHECK_THAT(run.output, !Contains("bad_alloc"));
  CHECK_FALSE(std::filesystem::exists(folder.file("m.json")));
}

TEST_CASE("per-cell trainers check MAX_MEMORY_MB before any cell trains", "[training][memory][timeseries]") {
  test::TempDir folder;
  // Pooled samples swept over HIDDEN: Levenberg–Marquardt with 1000 hidden neurons holds three
  // 6001 × 6001 matrices per training, 0.8 GB; a 16 MB limit stops the sweep before its first setting.
  json samples = samples_json(4, 200);
  const json sweep = {{"SAMPLES", samples}, {"AXIS", "hidden"}, {"VALUES", {2, 1000}}, {"REPEATS", 1},
                      {"THREADS", 2},       {"MAX_MEMORY_MB", 16}, {"OUTPUT_CSV", folder.file("sweep.csv")}};
  CHECK_THROWS_WITH(test::run_command("sensitivityanalysis", sweep),
                    Contains("HIDDEN [1000]") && Contains("6,001 weights") && Contains("more than MAX_MEMORY_MB 16") &&
                        Contains("THREADS 2: 1 of these trainings at once") && Contains("fewer samples (SAMPLES)"));
  CHECK_FALSE(std::filesystem::exists(folder.file("sweep.csv")));

  // One network per cell: HIDDEN 1000 1000 would need terabytes for its weights × weights matrices.
  const test::GridSpec grid{2, 2, 500000.0, 4650000.0, 1000.0, 32632};
  std::vector<std::vector<float>> x(60, std::vector<float>(4)), target = x;
  for (int d = 0; d < 60; ++d)
    for (int c = 0; c < 4; ++c) {
      x[static_cast<std::size_t>(d)][static_cast<std::size_t>(c)] = static_cast<float>(d % 7) + static_cast<float>(c);
      target[static_cast<std::size_t>(d)][static_cast<std::size_t>(c)] = 0.1f + 0.01f * static_cast<float>(d % 7);
    }
  test::write_stack(folder.file("x.tif"), x, grid);
  test::write_stack(folder.file("t.tif"), target, grid);
  const json cells = {{"PREDICTORS", {folder.file("x.tif")}}, {"TARGET", folder.file("t.tif")}, {"HIDDEN", "1000 1000"},
                      {"MIN_PAIRS", 20}, {"THREADS", 2}, {"OUTPUT", folder.file("out.tif")}};
  CHECK_THROWS_WITH(test::run_command("pixelwisereconstruction", cells),
                    Contains("HIDDEN [1000,1000]") && Contains("more than MAX_MEMORY_MB 4096") &&
                        Contains("THREADS 2: 2 of these trainings at once, each on up to 60 samples") &&
                        Contains("fewer samples (TRAINING_PERIOD)") && Contains("use TRAINER adam"));
  CHECK_FALSE(std::filesystem::exists(folder.file("out.tif")));
}
