#include "smr/training.hpp"

#include "smr/params.hpp"

#include <omp.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <exception>
#include <limits>
#include <map>
#include <new>
#include <mutex>
#include <numeric>
#include <optional>

namespace smr {

MinMaxScaling MinMaxScaling::fit(const Eigen::MatrixXd& values, double low, double high) {
  if (values.cols() == 0) throw InputError("no samples to scale");
  MinMaxScaling scaling;
  scaling.low = low;
  scaling.high = high;
  scaling.minimum = values.rowwise().minCoeff();
  scaling.maximum = values.rowwise().maxCoeff();
  return scaling;
}

double MinMaxScaling::gain(Eigen::Index row) const {
  const double span = maximum[row] - minimum[row];
  return span > 0.0 ? (high - low) / span : 0.0;
}

Eigen::MatrixXd MinMaxScaling::apply(const Eigen::MatrixXd& values) const {
  Eigen::MatrixXd scaled(values.rows(), values.cols());
  for (Eigen::Index row = 0; row < values.rows(); ++row) {
    const double g = gain(row);
    if (g > 0.0)
      scaled.row(row) = ((values.row(row).array() - minimum[row]) * g + low).matrix();
    else
      scaled.row(row).setConstant(0.5 * (low + high));
  }
  return scaled;
}

Eigen::MatrixXd MinMaxScaling::invert(const Eigen::MatrixXd& scaled) const {
  Eigen::MatrixXd values(scaled.rows(), scaled.cols());
  for (Eigen::Index row = 0; row < scaled.rows(); ++row) {
    const double g = gain(row);
    if (g > 0.0)
      values.row(row) = ((scaled.row(row).array() - low) / g + minimum[row]).matrix();
    else
      values.row(row).setConstant(minimum[row]);
  }
  return values;
}

namespace {

struct DivisionEntry {
  DivisionMethod method;
  const char* name;
};
constexpr DivisionEntry kDivisions[] = {{DivisionMethod::Random, "random"},
                                        {DivisionMethod::Block, "block"},
                                        {DivisionMethod::Interleaved, "interleaved"},
                                        {DivisionMethod::Group, "group"}};

// How many of `count` items each subset gets: validation and test by rounding, training the rest.
std::array<Eigen::Index, 3> subset_sizes(Eigen::Index count, const DivisionRatios& ratios, const char* unit) {
  const double total = ratios.train + ratios.validation + ratios.test;
  // ratio / total first: count · ratio overflows for ratios near DBL_MAX, and llround of that is undefined.
  const auto share = [&](double ratio) {
    return static_cast<Eigen::Index>(std::llround(static_cast<double>(count) * (ratio / total)));
  };
  const Eigen::Index validation = share(ratios.validation), test = share(ratios.test);
  const Eigen::Index train = count - validation - test;
  const auto too_few = [&](const std::string& what) {
    return InputError("too few " + std::string(unit) + " for the split: " + std::to_string(count) + " " + unit +
                      " with TRAIN_RATIO " + describe(json(ratios.train)) + ", VALIDATION_RATIO " +
                      describe(json(ratios.validation)) + ", TEST_RATIO " + describe(json(ratios.test)) + " leave " +
                      what + "; give more samples or set that ratio to 0");
  };
  if (train < 1) throw too_few("no training " + std::string(unit));
  if (ratios.validation > 0.0 && validation < 1) throw too_few("no validation " + std::string(unit));
  if (ratios.test > 0.0 && test < 1) throw too_few("no test " + std::string(unit));
  return {train, validation, test};
}

void validate_ratios(const DivisionRatios& ratios) {
  const auto check = [](double value, const char* key) {
    if (!std::isfinite(value) || value < 0.0)
      throw InputError(std::string(key) + " must be a number ≥ 0, got " + describe(json(value)));
  };
  check(ratios.train, "TRAIN_RATIO");
  check(ratios.validation, "VALIDATION_RATIO");
  check(ratios.test, "TEST_RATIO");
  if (ratios.train <= 0.0) throw InputError("TRAIN_RATIO must be greater than 0, got " + describe(json(ratios.train)));
}

// Item i goes to the subset furthest behind its share so far: train, validation and test in turn.
std::vector<int> interleaved_labels(Eigen::Index count, const std::array<Eigen::Index, 3>& sizes) {
  std::vector<int> labels(static_cast<std::size_t>(count));
  std::array<Eigen::Index, 3> given{0, 0, 0};
  for (Eigen::Index i = 0; i < count; ++i) {
    int pick = 0;
    double deficit = -std::numeric_limits<double>::infinity();
    for (int s = 0; s < 3; ++s) {
      if (given[s] >= sizes[s]) continue;
      const double behind = static_cast<double>(sizes[s]) * static_cast<double>(i + 1) / static_cast<double>(count) -
                            static_cast<double>(given[s]);
      if (behind > deficit) {
        deficit = behind;
        pick = s;
      }
    }
    ++given[pick];
    labels[static_cast<std::size_t>(i)] = pick;
  }
  return labels;
}

// Consecutive runs of the given order: the first sizes[0] items train, then validation, then test.
std::vector<int> block_labels(const std::array<Eigen::Index, 3>& sizes) {
  std::vector<int> labels;
  for (int s = 0; s < 3; ++s) labels.insert(labels.end(), static_cast<std::size_t>(sizes[s]), s);
  return labels;
}

Division from_labels(const std::vector<int>& label_of_sample) {
  Division division;
  std::vector<Eigen::Index>* subsets[3] = {&division.train, &division.validation, &division.test};
  for (std::size_t i = 0; i < label_of_sample.size(); ++i) subsets[label_of_sample[i]]->push_back(static_cast<Eigen::Index>(i));
  return division;
}

}  // namespace

DivisionMethod division_from_name(const std::string& name) {
  for (const auto& entry : kDivisions)
    if (name == entry.name) return entry.method;
  throw InputError("DIVISION '" + name + "' is unknown: valid values are random, block, interleaved, group");
}

std::string division_name(DivisionMethod method) {
  for (const auto& entry : kDivisions)
    if (method == entry.method) return entry.name;
  return "unknown";
}

std::mt19937_64 seeded_generator(std::uint64_t seed, std::uint64_t stream) {
  std::seed_seq sequence{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32),
                         static_cast<std::uint32_t>(stream), static_cast<std::uint32_t>(stream >> 32)};
  return std::mt19937_64(sequence);
}

Division divide_samples(Eigen::Index count, DivisionMethod method, const DivisionRatios& ratios,
                        const std::vector<std::string>& groups, std::uint64_t seed) {
  validate_ratios(ratios);
  std::mt19937_64 random = seeded_generator(seed, 0);
  if (method != DivisionMethod::Group) {
    const auto sizes = subset_sizes(count, ratios, "samples");
    std::vector<int> labels = method == DivisionMethod::Interleaved ? interleaved_labels(count, sizes) : block_labels(sizes);
    if (method == DivisionMethod::Random) std::shuffle(labels.begin(), labels.end(), random);
    return from_labels(labels);
  }
  if (static_cast<Eigen::Index>(groups.size()) != count)
    throw InputError("DIVISION group needs a group for every sample (a GROUP_FIELD); got " +
                     std::to_string(groups.size()) + " groups for " + std::to_string(count) + " samples");
  std::map<std::string, int> label_of_group;  // sorted names: the shuffle below alone decides
  for (const auto& group : groups) label_of_group.emplace(group, 0);
  std::vector<int> group_labels = block_labels(subset_sizes(static_cast<Eigen::Index>(label_of_group.size()), ratios, "groups"));
  std::shuffle(group_labels.begin(), group_labels.end(), random);
  std::size_t next = 0;
  for (auto& entry : label_of_group) entry.second = group_labels[next++];
  std::vector<int> labels(static_cast<std::size_t>(count));
  for (std::size_t i = 0; i < groups.size(); ++i) labels[i] = label_of_group.at(groups[i]);
  return from_labels(labels);
}

namespace {

struct Subset {
  Eigen::MatrixXd inputs, targets;
  bool empty() const { return targets.cols() == 0; }
};

Subset select(const Eigen::MatrixXd& inputs, const Eigen::MatrixXd& targets, const std::vector<Eigen::Index>& indices) {
  return {inputs(Eigen::all, indices), targets(Eigen::all, indices)};
}

double mean_squared_error(const Mlp& network, const Subset& subset, MlpWorkspace& workspace) {
  if (subset.empty()) return std::numeric_limits<double>::quiet_NaN();
  const double mse = (network.predict(subset.inputs, workspace) - subset.targets).squaredNorm() /
                     static_cast<double>(subset.targets.size());
  return std::isfinite(mse) ? mse : std::numeric_limits<double>::infinity();
}

struct RestartOutcome {
  std::optional<Mlp> network;
  int best_epoch = 0, epochs_run = 0;
  std::string stop_reason;
  TrainingCurves curves;
  double selection_error = std::numeric_limits<double>::infinity();
};

// Tracks the errors after each epoch and the weights of the validation minimum (trainlm's early
// stopping: a new minimum resets the count of failures, a higher error adds one, an equal one neither).
// The curves have room for every epoch from the start and the kept network is assigned over the
// previous one (same shapes), so recording an epoch allocates nothing.
class EpochRecorder {
 public:
  EpochRecorder(const Subset& validation, const Subset& test, int max_fail, int max_epochs)
      : validation_(validation), test_(test), max_fail_(max_fail) {
    const auto epochs = static_cast<std::size_t>(max_epochs) + 1;
    outcome_.curves.train.reserve(epochs);
    if (!validation_.empty()) outcome_.curves.validation.reserve(epochs);
    if (!test_.empty()) outcome_.curves.test.reserve(epochs);
  }

  // Returns false when the validation error has failed to improve max_fail times in a row.
  bool record(const Mlp& network, int epoch, double train_mse) {
    outcome_.curves.train.push_back(train_mse);
    if (!test_.empty()) outcome_.curves.test.push_back(mean_squared_error(network, test_, test_workspace_));
    outcome_.epochs_run = epoch;
    if (validation_.empty()) {  // nothing to stop on: keep the latest weights, as trainlm does
      keep(network, epoch, train_mse);
      return true;
    }
    const double error = mean_squared_error(network, validation_, validation_workspace_);
    outcome_.curves.validation.push_back(error);
    if (!outcome_.network || error < outcome_.selection_error) {
      keep(network, epoch, error);
      failures_ = 0;
      return true;
    }
    if (error > outcome_.selection_error) ++failures_;
    return max_fail_ == 0 || failures_ < max_fail_;
  }

  RestartOutcome finish(std::string stop_reason) {
    outcome_.stop_reason = std::move(stop_reason);
    // Early stopping usually leaves most of the reserved epochs unused; the outcome is kept until
    // every restart has finished.
    outcome_.curves.train.shrink_to_fit();
    outcome_.curves.validation.shrink_to_fit();
    outcome_.curves.test.shrink_to_fit();
    return std::move(outcome_);
  }

 private:
  void keep(const Mlp& network, int epoch, double selection_error) {
    if (outcome_.network)
      *outcome_.network = network;
    else
      outcome_.network = network;
    outcome_.best_epoch = epoch;
    outcome_.selection_error = selection_error;
  }

  const Subset& validation_;
  const Subset& test_;
  int max_fail_;
  int failures_ = 0;
  RestartOutcome outcome_;
  MlpWorkspace validation_workspace_, test_workspace_;
};

constexpr const char* kValidationStop = "validation stop";

// Every restart owns EPOCHS steps of the bar: one per epoch, and the epochs it did not need once it
// stops early, so the bar reaches 100 % when the last restart ends.
class Progress {
 public:
  Progress(Reporter& reporter, long long total) : reporter_(reporter), total_(std::max(1LL, total)) {}
  void epoch_done() { advance(1); }
  void skip(long long epochs) { advance(epochs); }
  bool cancelled() const { return reporter_.cancelled(); }

 private:
  void advance(long long epochs) {
    reporter_.progress(static_cast<double>(done_ += epochs) / static_cast<double>(total_));
  }
  Reporter& reporter_;
  long long total_;
  std::atomic<long long> done_{0};
};

RestartOutcome train_levenberg_marquardt(Mlp network, const Subset& train, const Subset& validation,
                                         const Subset& test, const TrainingSettings& settings, Progress& progress) {
  MlpWorkspace workspace;  // the training samples' forward pass and Jacobian chunks
  const LevenbergMarquardt::Residuals residuals = [&](const Eigen::VectorXd& x, Eigen::VectorXd& e) {
    network.set_parameters(x);
    const Eigen::MatrixXd& outputs = network.predict(train.inputs, workspace);
    // Sample-major, as the Jacobian.
    e = Eigen::Map<const Eigen::VectorXd>(outputs.data(), outputs.size()) -
        Eigen::Map<const Eigen::VectorXd>(train.targets.data(), train.targets.size());
  };
  const LevenbergMarquardt::Jacobian jacobian = [&](const Eigen::VectorXd& x, Eigen::MatrixXd& j) {
    network.set_parameters(x);
    network.jacobian(train.inputs, j, workspace);
  };
  LevenbergMarquardt solver(residuals, jacobian, settings.lm);
  EpochRecorder recorder(validation, test, settings.max_fail, settings.lm.max_epochs);
  LevenbergMarquardtStatus status = solver.init(network.parameters());
  network.set_parameters(solver.x());
  bool keep_going = recorder.record(network, 0, solver.mean_squared_error());
  while (status == LevenbergMarquardtStatus::Running && keep_going) {
    if (progress.cancelled()) throw Cancelled();
    status = solver.step();
    network.set_parameters(solver.x());
    keep_going = recorder.record(network, solver.epoch(), solver.mean_squared_error());
    progress.epoch_done();
  }
  progress.skip(settings.lm.max_epochs - solver.epoch());
  return recorder.finish(keep_going ? stop_reason_text(status) : kValidationStop);
}

// A mini-batch's samples and buffers. Every batch of an epoch has BATCH_SIZE samples but the last,
// which has the remainder: each of the two sizes keeps its own, so neither is ever resized.
struct Batch {
  Subset part;
  MlpWorkspace workspace;
  Eigen::MatrixXd jacobian, difference;

  Batch(Eigen::Index inputs, Eigen::Index outputs, Eigen::Index size)
      : part{Eigen::MatrixXd(inputs, size), Eigen::MatrixXd(outputs, size)} {}
};

RestartOutcome train_adam(Mlp network, const Subset& train, const Subset& validation, const Subset& test,
                          const TrainingSettings& settings, std::mt19937_64& random, Progress& progress) {
  const AdamParams& adam = settings.adam;
  Eigen::VectorXd x = network.parameters();
  Eigen::VectorXd first_moment = Eigen::VectorXd::Zero(x.size()), second_moment = Eigen::VectorXd::Zero(x.size());
  Eigen::VectorXd gradient(x.size());
  long long step = 0;
  const Eigen::Index samples = train.targets.cols();
  std::vector<Eigen::Index> order(static_cast<std::size_t>(samples));
  std::iota(order.begin(), order.end(), 0);
  const Eigen::Index full_size = std::min<Eigen::Index>(samples, adam.batch_size);
  Batch full(train.inputs.rows(), train.targets.rows(), full_size);
  Batch last(train.inputs.rows(), train.targets.rows(), samples % full_size);
  MlpWorkspace train_workspace;
  EpochRecorder recorder(validation, test, settings.max_fail, settings.lm.max_epochs);
  double train_mse = mean_squared_error(network, train, train_workspace);
  bool keep_going = recorder.record(network, 0, train_mse);
  std::string reason = stop_reason_text(LevenbergMarquardtStatus::MaximumEpochs);
  int epoch = 0;
  if (train_mse <= settings.lm.goal) reason = stop_reason_text(LevenbergMarquardtStatus::GoalReached);
  while (keep_going && train_mse > settings.lm.goal && epoch < settings.lm.max_epochs) {
    if (progress.cancelled()) throw Cancelled();
    std::shuffle(order.begin(), order.end(), random);
    for (Eigen::Index first = 0; first < samples; first += adam.batch_size) {
      const Eigen::Index size = std::min<Eigen::Index>(samples - first, adam.batch_size);
      Batch& batch = size == full_size ? full : last;
      for (Eigen::Index k = 0; k < size; ++k) {
        const Eigen::Index sample = order[static_cast<std::size_t>(first + k)];
        batch.part.inputs.col(k) = train.inputs.col(sample);
        batch.part.targets.col(k) = train.targets.col(sample);
      }
      batch.difference = network.predict(batch.part.inputs, batch.workspace) - batch.part.targets;
      network.jacobian(batch.part.inputs, batch.jacobian, batch.workspace);
      gradient.noalias() = (2.0 / static_cast<double>(batch.difference.size())) * batch.jacobian.transpose() *
                           Eigen::Map<const Eigen::VectorXd>(batch.difference.data(), batch.difference.size());
      ++step;
      first_moment = adam.beta1 * first_moment + (1.0 - adam.beta1) * gradient;
      second_moment = adam.beta2 * second_moment + (1.0 - adam.beta2) * gradient.cwiseAbs2();
      const double correction1 = 1.0 - std::pow(adam.beta1, static_cast<double>(step));
      const double correction2 = 1.0 - std::pow(adam.beta2, static_cast<double>(step));
      x.array() -= adam.learning_rate * (first_moment.array() / correction1) /
                   ((second_moment.array() / correction2).sqrt() + adam.epsilon);
      network.set_parameters(x);
    }
    ++epoch;
    train_mse = mean_squared_error(network, train, train_workspace);
    keep_going = recorder.record(network, epoch, train_mse);
    progress.epoch_done();
    if (!std::isfinite(train_mse)) {
      reason = stop_reason_text(LevenbergMarquardtStatus::NumericalIssue);
      break;
    }
    if (train_mse <= settings.lm.goal) reason = stop_reason_text(LevenbergMarquardtStatus::GoalReached);
  }
  progress.skip(settings.lm.max_epochs - epoch);
  return recorder.finish(keep_going ? reason : kValidationStop);
}

// Restarts run in parallel only at the outermost level: inside a loop over cells (even a one-thread
// one) they stay on the caller's thread, so THREADS bounds the threads in use.
bool restarts_in_parallel(const TrainingSettings& settings) { return settings.restarts > 1 && omp_get_level() == 0; }

}  // namespace

TrainingMemory estimate_training_memory(Eigen::Index inputs, Eigen::Index outputs, Eigen::Index train,
                                        Eigen::Index validation, Eigen::Index test, const TrainingSettings& settings,
                                        int threads) {
  threads = std::max(1, threads);
  std::vector<Eigen::Index> sizes{inputs};
  sizes.insert(sizes.end(), settings.hidden.begin(), settings.hidden.end());
  sizes.push_back(outputs);
  TrainingMemory memory;
  for (std::size_t l = 1; l < sizes.size(); ++l) memory.weights += sizes[l] * (sizes[l - 1] + 1);
  const auto weights = static_cast<double>(memory.weights);
  constexpr double kDouble = sizeof(double);
  const bool parallel_restarts = settings.restarts > 1;
  memory.concurrent = parallel_restarts ? std::min(settings.restarts, threads) : 1;
  const int jacobian_threads = parallel_restarts ? 1 : threads;
  const double scored = MlpWorkspace::bytes(sizes, validation, false, 1) + MlpWorkspace::bytes(sizes, test, false, 1);
  if (settings.trainer == Trainer::LevenbergMarquardt) {
    const double residuals = static_cast<double>(train) * static_cast<double>(outputs);
    memory.jacobian = residuals * weights * kDouble;
    memory.matrices = LevenbergMarquardt::bytes(train * outputs, memory.weights, jacobian_threads) - memory.jacobian;
    memory.activations = MlpWorkspace::bytes(sizes, train, true, jacobian_threads) + scored;
  } else {
    const Eigen::Index batch = std::min<Eigen::Index>(train, settings.adam.batch_size), rest = batch > 0 ? train % batch : 0;
    memory.jacobian = static_cast<double>((batch + rest) * outputs) * weights * kDouble;
    memory.activations = MlpWorkspace::bytes(sizes, batch, true, 1) + MlpWorkspace::bytes(sizes, rest, true, 1) +
                         MlpWorkspace::bytes(sizes, train, false, 1) + scored +
                         static_cast<double>((batch + rest) * (inputs + 2 * outputs)) * kDouble;  // batch copies
    memory.matrices = 4.0 * weights * kDouble;  // x, the two moments, the gradient
  }
  // The network trained, the kept one and the initial parameters; three error curves.
  const double curves = 3.0 * (static_cast<double>(settings.lm.max_epochs) + 1.0) * kDouble;
  // Plus what the allocator rounds up and the small vectors of a restart: 64 KiB.
  memory.other = 3.0 * weights * kDouble + curves + 65536.0;
  // The samples, and every restart's outcome (its network and curves) until the best is chosen.
  memory.shared = static_cast<double>((train + validation + test) * (inputs + outputs)) * kDouble +
                  static_cast<double>(settings.restarts) * (weights * kDouble + curves);
  return memory;
}

namespace {

TrainingOutcome train_restarts(const Eigen::MatrixXd& inputs, const Eigen::MatrixXd& targets,
                               const Division& division, const TrainingSettings& settings, Reporter& reporter) {
  if (settings.restarts < 1) throw InputError("RESTARTS must be at least 1, got " + std::to_string(settings.restarts));
  if (settings.max_fail < 0) throw InputError("MAX_FAIL must not be negative, got " + std::to_string(settings.max_fail));
  if (settings.trainer == Trainer::Adam) {
    if (!(settings.adam.learning_rate > 0.0) || !std::isfinite(settings.adam.learning_rate))
      throw InputError("LEARNING_RATE must be a positive number, got " + describe(json(settings.adam.learning_rate)));
    if (settings.adam.batch_size < 1)
      throw InputError("BATCH_SIZE must be at least 1, got " + std::to_string(settings.adam.batch_size));
  }
  const Subset train = select(inputs, targets, division.train);
  const Subset validation = select(inputs, targets, division.validation);
  const Subset test = select(inputs, targets, division.test);
  if (train.empty()) throw InputError("no training samples");

  std::vector<RestartOutcome> outcomes(static_cast<std::size_t>(settings.restarts));
  Progress progress(reporter, static_cast<long long>(settings.restarts) * settings.lm.max_epochs);
  std::exception_ptr failure;
  std::mutex failure_mutex;
  // Restarts in parallel when there are several; inside, the Jacobian's own loop then runs on one thread.
#pragma omp parallel for schedule(dynamic, 1) if (restarts_in_parallel(settings))
  for (int restart = 0; restart < settings.restarts; ++restart) {
    try {
      {
        std::lock_guard<std::mutex> lock(failure_mutex);
        if (failure) continue;
      }
      std::mt19937_64 random = seeded_generator(settings.seed, static_cast<std::uint64_t>(restart) + 1);
      Mlp network(static_cast<int>(inputs.rows()), settings.hidden, static_cast<int>(targets.rows()),
                  settings.hidden_activation, settings.output_activation);
      network.initialise_nguyen_widrow(random);
      outcomes[static_cast<std::size_t>(restart)] =
          settings.trainer == Trainer::LevenbergMarquardt
              ? train_levenberg_marquardt(std::move(network), train, validation, test, settings, progress)
              : train_adam(std::move(network), train, validation, test, settings, random, progress);
    } catch (...) {
      std::lock_guard<std::mutex> lock(failure_mutex);
      if (!failure) failure = std::current_exception();
    }
  }
  if (failure) std::rethrow_exception(failure);

  std::size_t best = 0;
  for (std::size_t r = 1; r < outcomes.size(); ++r)
    if (outcomes[r].selection_error < outcomes[best].selection_error) best = r;
  RestartOutcome& kept = outcomes[best];
  if (!kept.network || !std::isfinite(kept.selection_error))
    throw std::runtime_error("training diverged: every restart ended with non-finite errors");
  return {std::move(*kept.network), static_cast<int>(best), kept.best_epoch, kept.epochs_run,
          kept.stop_reason, std::move(kept.curves), kept.selection_error};
}

}  // namespace

TrainingOutcome train_network(const Eigen::MatrixXd& inputs, const Eigen::MatrixXd& targets,
                              const Division& division, const TrainingSettings& settings, Reporter& reporter) {
  settings.lm.validate();
  try {
    return train_restarts(inputs, targets, division, settings, reporter);
  } catch (const std::bad_alloc&) {
    // The commands estimate the memory first (MAX_MEMORY_MB); this is for when the machine has less
    // free than that estimate allows.
    const TrainingMemory memory = estimate_training_memory(inputs.rows(), targets.rows(),
                                                           static_cast<Eigen::Index>(division.train.size()),
                                                           static_cast<Eigen::Index>(division.validation.size()),
                                                           static_cast<Eigen::Index>(division.test.size()), settings,
                                                           restarts_in_parallel(settings) ? omp_get_max_threads() : 1);
    throw InputError("out of memory while training: HIDDEN " + describe(json(settings.hidden)) + " (" +
                     std::to_string(memory.weights) + " weights) with TRAINER " +
                     (settings.trainer == Trainer::LevenbergMarquardt ? "lm" : "adam") + " on " +
                     std::to_string(division.train.size()) + " training samples, RESTARTS " +
                     std::to_string(settings.restarts) + ", estimated at " +
                     std::to_string(static_cast<long long>(std::ceil(memory.total() / 1048576.0))) +
                     " MB; the machine has less free. Lower HIDDEN, the samples, RESTARTS or THREADS, or MAX_MEMORY_MB so "
                     "that the estimate stops such a training before it starts");
  }
}

}  // namespace smr
