// Benchmark program: paper 001's one network per pixel, trained by smr's core for many datasets at once.
//
//   smr_bench_train_many datasets.json      (bench/mlp_training.py writes the file and runs this)
//
// Each dataset is one pixel's time series. Its last `test_count` samples are the held-out test set chosen
// by the Python side, so scikit-learn is scored on exactly the same samples; the others are divided into
// training and validation at random by divide_samples, as `smr trainmlp` does. Each network gets its own
// mapminmax scaling (fitted on the training + validation samples, as scikit-learn's scalers are fitted on
// what fit() sees), Nguyen–Widrow initialisation and Levenberg–Marquardt with fitnet's defaults and early
// stopping. Networks are trained in parallel (OpenMP over networks); each train_network call runs on one
// thread. Prints one JSON object: the wall times and, per network, the test RMSE in target units.
#include "smr/metrics.hpp"
#include "smr/params.hpp"
#include "smr/protocol.hpp"
#include "smr/training.hpp"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <exception>
#include <fstream>
#include <iostream>
#include <iterator>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using smr::json;
using Clock = std::chrono::steady_clock;

constexpr const char* kFormat = "smr-bench-many-networks";

struct Dataset {
  Eigen::MatrixXd features;  // inputs × samples
  Eigen::MatrixXd target;    // 1 × samples
  Eigen::Index test_count = 0;
};

struct Request {
  std::vector<int> hidden;
  double low = 0.0, high = 1.0;  // mapminmax range (paper 001: [0, 1])
  smr::DivisionRatios ratios;    // of the samples left after the test set; test is 0
  std::uint64_t seed = 1;
  int threads = 0;
  std::vector<Dataset> datasets;
};

// A value for a message: lists by their length, since a dataset's list may hold thousands of numbers.
std::string summary(const json& value) {
  return value.is_array() ? "a list of " + std::to_string(value.size()) + " entries" : smr::describe(value);
}

const json& member(const json& object, const std::string& key, const std::string& where) {
  const auto found = object.find(key);
  if (found == object.end())
    throw smr::InputError(where + " has no '" + key + "'");
  return *found;
}

double finite_number(const json& value, const std::string& where) {
  if (!value.is_number() || !std::isfinite(value.get<double>()))
    throw smr::InputError(where + " is " + smr::describe(value) + ", not a finite number");
  return value.get<double>();
}

long long whole_number(const json& value, const std::string& where, long long minimum, long long maximum) {
  if (!value.is_number_integer() || value.get<long long>() < minimum || value.get<long long>() > maximum)
    throw smr::InputError(where + " is " + smr::describe(value) + ": give a whole number from " +
                          std::to_string(minimum) + " to " + std::to_string(maximum));
  return value.get<long long>();
}

Dataset read_dataset(const json& entry, std::size_t index) {
  const std::string where = "datasets[" + std::to_string(index) + "]";
  if (!entry.is_object()) throw smr::InputError(where + " must be an object {features, target, test_count}");
  const json& features = member(entry, "features", where);
  const json& target = member(entry, "target", where);
  if (!target.is_array() || target.size() < 4)
    throw smr::InputError(where + ".target must be a list of at least 4 numbers, got " + summary(target));
  if (!features.is_array() || features.empty())
    throw smr::InputError(where + ".features must be a non-empty list of inputs, each a list of numbers");
  const auto samples = static_cast<Eigen::Index>(target.size());
  Dataset dataset;
  dataset.features.resize(static_cast<Eigen::Index>(features.size()), samples);
  dataset.target.resize(1, samples);
  for (Eigen::Index s = 0; s < samples; ++s)
    dataset.target(0, s) = finite_number(target[static_cast<std::size_t>(s)], where + ".target[" + std::to_string(s) + "]");
  for (std::size_t i = 0; i < features.size(); ++i) {
    const json& values = features[i];
    const std::string input = where + ".features[" + std::to_string(i) + "]";
    if (!values.is_array() || values.size() != target.size())
      throw smr::InputError(input + " must be a list of " + std::to_string(samples) + " numbers, as many as the target");
    for (Eigen::Index s = 0; s < samples; ++s)
      dataset.features(static_cast<Eigen::Index>(i), s) =
          finite_number(values[static_cast<std::size_t>(s)], input + "[" + std::to_string(s) + "]");
  }
  // At least 2 test samples, for which the RMSE is defined; at least 2 left to train and validate on.
  dataset.test_count = whole_number(member(entry, "test_count", where), where + ".test_count", 2, samples - 2);
  return dataset;
}

Request read_request(const std::string& path) {
  std::ifstream file(path);
  if (!file) throw smr::InputError("cannot read the datasets file '" + path + "'");
  const std::string text{std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
  json document;
  try {
    document = json::parse(text);
  } catch (const json::parse_error& error) {
    throw smr::InputError("the datasets file '" + path + "' is not valid JSON: " + error.what());
  }
  if (!document.is_object())
    throw smr::InputError("the datasets file '" + path + "' holds " + summary(document) + ", not a JSON object");
  const auto format = document.find("format");
  if (format == document.end() || *format != kFormat)
    throw smr::InputError("the datasets file '" + path + "' has \"format\" " +
                          (format == document.end() ? std::string("missing") : smr::describe(*format)) +
                          "; expected \"" + kFormat + "\" (written by bench/mlp_training.py)");
  Request request;
  const json& hidden = member(document, "hidden", "the datasets file");
  if (!hidden.is_array() || hidden.empty() || hidden.size() > 10)
    throw smr::InputError("hidden is " + summary(hidden) + ": give 1 to 10 layer sizes, e.g. [12]");
  for (std::size_t l = 0; l < hidden.size(); ++l)
    request.hidden.push_back(static_cast<int>(whole_number(hidden[l], "hidden[" + std::to_string(l) + "]", 1, 1000)));
  const json& range = member(document, "normalisation_range", "the datasets file");
  if (!range.is_array() || range.size() != 2)
    throw smr::InputError("normalisation_range is " + smr::describe(range) + ": give [low, high], e.g. [0, 1]");
  request.low = finite_number(range[0], "normalisation_range[0]");
  request.high = finite_number(range[1], "normalisation_range[1]");
  if (!(request.low < request.high))
    throw smr::InputError("normalisation_range is " + smr::describe(range) + ": low must be below high");
  request.ratios.train = finite_number(member(document, "train_ratio", "the datasets file"), "train_ratio");
  request.ratios.validation = finite_number(member(document, "validation_ratio", "the datasets file"), "validation_ratio");
  request.ratios.test = 0.0;  // the test samples are the last test_count of each dataset
  request.seed = static_cast<std::uint64_t>(whole_number(member(document, "seed", "the datasets file"), "seed", 0, 4294967295LL));
  request.threads = static_cast<int>(whole_number(member(document, "threads", "the datasets file"), "threads", 0, 1024));
  const json& datasets = member(document, "datasets", "the datasets file");
  if (!datasets.is_array() || datasets.empty())
    throw smr::InputError("datasets must be a non-empty list, got " + summary(datasets));
  request.datasets.reserve(datasets.size());
  for (std::size_t d = 0; d < datasets.size(); ++d) request.datasets.push_back(read_dataset(datasets[d], d));
  return request;
}

struct NetworkResult {
  double test_rmse = std::nan("");
  int epochs_run = 0;
  std::string stop_reason;
};

NetworkResult train_one(const Dataset& dataset, const Request& request, std::uint64_t seed) {
  const Eigen::Index samples = dataset.target.cols();
  const Eigen::Index fitted = samples - dataset.test_count;
  // Scaling from the samples training may see, as a scikit-learn Pipeline fits its scalers.
  const smr::MinMaxScaling input_scaling =
      smr::MinMaxScaling::fit(dataset.features.leftCols(fitted), request.low, request.high);
  const smr::MinMaxScaling target_scaling =
      smr::MinMaxScaling::fit(dataset.target.leftCols(fitted), request.low, request.high);
  const double gain = target_scaling.gain(0);
  if (gain == 0.0)
    throw smr::InputError("the target is " + smr::describe(json(dataset.target(0, 0))) + " in all " +
                          std::to_string(fitted) + " training and validation samples: there is nothing to learn");

  smr::Division division = smr::divide_samples(fitted, smr::DivisionMethod::Random, request.ratios, {}, seed);
  for (Eigen::Index s = fitted; s < samples; ++s) division.test.push_back(s);

  smr::TrainingSettings settings;
  settings.hidden = request.hidden;
  settings.seed = seed;
  // fitnet's min_grad is in target units, the solver works on scaled targets: as `smr trainmlp` does.
  settings.lm.min_gradient *= gain * gain;
  smr::Reporter silent(nullptr);
  const smr::TrainingOutcome outcome = smr::train_network(input_scaling.apply(dataset.features),
                                                          target_scaling.apply(dataset.target), division, settings, silent);

  const Eigen::MatrixXd test_inputs = input_scaling.apply(dataset.features.rightCols(dataset.test_count));
  const Eigen::MatrixXd estimate = target_scaling.invert(outcome.network.predict(test_inputs));
  const std::vector<double> estimated(estimate.data(), estimate.data() + estimate.size());
  const Eigen::MatrixXd reference_values = dataset.target.rightCols(dataset.test_count);
  const std::vector<double> reference(reference_values.data(), reference_values.data() + reference_values.size());
  return {smr::compute_metrics(estimated, reference).rmse, outcome.epochs_run, outcome.stop_reason};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2 || std::string(argv[1]) == "--help") {
    std::fprintf(stderr,
                 "usage: smr_bench_train_many DATASETS.json\n"
                 "Trains one network per dataset (written by bench/mlp_training.py) and prints JSON with the\n"
                 "wall times and each network's test RMSE.\n");
    return argc == 2 ? smr::kExitDone : smr::kExitBadInput;
  }
  try {
    const auto started = Clock::now();
    const Request request = read_request(argv[1]);
    const auto read = Clock::now();

    const int threads = request.threads > 0 ? request.threads : std::max(1, omp_get_num_procs());
    omp_set_max_active_levels(1);  // the parallel loops inside train_network then run on the calling thread
    const auto count = static_cast<long long>(request.datasets.size());
    std::vector<NetworkResult> results(static_cast<std::size_t>(count));
    std::exception_ptr failure;
    long long failed_network = -1;
    std::mutex failure_mutex;
#pragma omp parallel for schedule(dynamic) num_threads(threads)
    for (long long n = 0; n < count; ++n) {
      try {
        results[static_cast<std::size_t>(n)] =
            train_one(request.datasets[static_cast<std::size_t>(n)], request, request.seed + static_cast<std::uint64_t>(n));
      } catch (...) {
        std::lock_guard<std::mutex> lock(failure_mutex);
        if (!failure || n < failed_network) {
          failure = std::current_exception();
          failed_network = n;
        }
      }
    }
    const auto trained = Clock::now();
    if (failure) {
      const std::string network = "datasets[" + std::to_string(failed_network) + "]: ";
      try {
        std::rethrow_exception(failure);
      } catch (const smr::InputError& error) {
        throw smr::InputError(network + error.what());
      } catch (const std::exception& error) {
        throw std::runtime_error(network + error.what());
      }
    }

    json test_rmse = json::array(), epochs = json::array(), stop_reasons = json::object();
    for (const auto& result : results) {
      test_rmse.push_back(std::isfinite(result.test_rmse) ? json(result.test_rmse) : json(nullptr));
      epochs.push_back(result.epochs_run);
      stop_reasons[result.stop_reason] = stop_reasons.value(result.stop_reason, 0) + 1;
    }
    const auto seconds = [](Clock::time_point from, Clock::time_point to) {
      return std::chrono::duration<double>(to - from).count();
    };
    const json output = {{"networks", count},
                         {"threads", threads},
                         {"read_seconds", seconds(started, read)},
                         {"train_seconds", seconds(read, trained)},
                         {"test_rmse", test_rmse},
                         {"epochs_run", epochs},
                         {"stop_reasons", stop_reasons}};
    std::cout << output.dump() << '\n';
    return smr::kExitDone;
  } catch (const smr::InputError& error) {
    std::fprintf(stderr, "smr_bench_train_many: %s\n", error.what());
    return smr::kExitBadInput;
  } catch (const std::exception& error) {
    std::fprintf(stderr, "smr_bench_train_many: internal error: %s\n", error.what());
    return smr::kExitInternal;
  }
}
