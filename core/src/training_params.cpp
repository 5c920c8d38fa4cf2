#include "smr/training_params.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>

namespace smr {

namespace {
const std::vector<std::string> kActivations = {"tansig", "logsig", "relu", "purelin"};
}

std::vector<int> hidden_layers(const Params& params, const std::vector<int>& fallback) {
  if (!params.has("HIDDEN")) return fallback;
  const json& value = params.value("HIDDEN");
  std::vector<json> items;
  if (value.is_array()) {
    items.assign(value.begin(), value.end());
  } else if (value.is_number()) {
    items.push_back(value);
  } else if (value.is_string()) {
    std::string item;
    for (const char c : value.get<std::string>() + ",") {
      if (c == ',' || c == ';' || std::isspace(static_cast<unsigned char>(c))) {
        if (item.empty()) continue;
        try {
          std::size_t used = 0;
          const long long size = std::stoll(item, &used);
          if (used != item.size()) throw std::invalid_argument(item);
          items.push_back(size);
        } catch (const std::exception&) {
          throw InputError("HIDDEN is " + describe(value) + ": give neurons per hidden layer as whole numbers, e.g. \"10\" or \"10 5\"");
        }
        item.clear();
      } else {
        item += c;
      }
    }
  }
  if (items.empty() || items.size() > 10)
    throw InputError("HIDDEN is " + describe(value) + ": give 1 to 10 hidden layers, e.g. \"10\" or \"10 5\"");
  std::vector<int> sizes;
  for (const auto& item : items) {
    if (!item.is_number_integer() || item.get<long long>() < 1 || item.get<long long>() > 1000)
      throw InputError("HIDDEN is " + describe(value) + ": every layer needs 1 to 1000 neurons");
    sizes.push_back(item.get<int>());
  }
  return sizes;
}

TrainingChoice training_choice(const Params& params, const TrainingDefaults& defaults,
                               const std::vector<std::string>& divisions) {
  TrainingChoice choice;
  TrainingSettings& settings = choice.settings;
  settings.seed = static_cast<std::uint64_t>(params.integer_in("SEED", 0, 4294967295LL, 1));
  settings.hidden = hidden_layers(params, defaults.hidden);
  settings.hidden_activation = activation_from_name(params.choice("HIDDEN_ACTIVATION", kActivations, std::string("tansig")));
  settings.output_activation = activation_from_name(params.choice("OUTPUT_ACTIVATION", kActivations, std::string("purelin")));
  choice.zero_one = params.choice("NORMALISATION", {"minus_one_one", "zero_one"},
                                  std::string(defaults.zero_one ? "zero_one" : "minus_one_one")) == "zero_one";
  settings.trainer = params.choice("TRAINER", {"lm", "adam"}, std::string("lm")) == "lm" ? Trainer::LevenbergMarquardt : Trainer::Adam;
  settings.lm.max_epochs = static_cast<int>(params.integer_in("EPOCHS", 1, 1000000, 1000));
  choice.goal = params.number_in("GOAL", 0.0, 1e300, 0.0);
  choice.min_gradient = params.number_in("MIN_GRADIENT", 0.0, 1e300, 1e-7);
  settings.lm.mu = params.number_in("MU", 1e-300, 1e300, 1e-3);
  settings.lm.mu_dec = params.number_in("MU_DEC", 1e-12, 0.999999, 0.1);
  settings.lm.mu_inc = params.number_in("MU_INC", 1.000001, 1e12, 10.0);
  settings.lm.mu_max = params.number_in("MU_MAX", 1e-300, 1e300, 1e10);
  if (settings.lm.mu_max < settings.lm.mu)
    throw InputError("MU_MAX is " + describe(json(settings.lm.mu_max)) + " but MU is " + describe(json(settings.lm.mu)) +
                     ": μ starts at MU and grows up to MU_MAX, so MU_MAX must be at least MU");
  settings.max_fail = static_cast<int>(params.integer_in("MAX_FAIL", 0, 1000000, 6));
  settings.adam.learning_rate = params.number_in("LEARNING_RATE", 1e-12, 10.0, 1e-3);
  settings.adam.batch_size = static_cast<int>(params.integer_in("BATCH_SIZE", 1, 1000000, 32));
  settings.restarts = static_cast<int>(params.integer_in("RESTARTS", 1, 1000, 1));
  choice.division = division_from_name(params.choice("DIVISION", divisions, std::string("random")));
  choice.ratios = {params.number("TRAIN_RATIO", defaults.ratios.train),
                   params.number("VALIDATION_RATIO", defaults.ratios.validation),
                   params.number("TEST_RATIO", defaults.ratios.test)};
  choice.max_memory_mb = params.integer_in("MAX_MEMORY_MB", kLowestMaxMemoryMb, kHighestMaxMemoryMb, kDefaultMaxMemoryMb);
  return choice;
}

TrainingShape divided_shape(Eigen::Index count, const DivisionRatios& ratios) {
  TrainingShape shape;
  const double total = ratios.train + ratios.validation + ratios.test;
  if (!(total > 0.0) || !std::isfinite(total)) {  // invalid ratios are reported when the samples are divided
    shape.train = count;
    return shape;
  }
  // ratio / total first: count · ratio overflows for ratios near DBL_MAX, and llround of that is undefined.
  const auto share = [&](double ratio) {
    return std::min<Eigen::Index>(count, std::llround(static_cast<double>(count) * (ratio / total)));
  };
  shape.validation = share(ratios.validation);
  shape.test = std::min<Eigen::Index>(count - shape.validation, share(ratios.test));
  shape.train = count - shape.validation - shape.test;
  return shape;
}

TrainingMemory command_training_memory(const TrainingChoice& choice, const TrainingShape& shape) {
  const int threads = std::max(1, shape.threads);
  TrainingMemory memory = estimate_training_memory(shape.inputs, shape.outputs, shape.train, shape.validation,
                                                   shape.test, choice.settings, shape.per_cell ? 1 : threads);
  if (shape.per_cell) {  // cells in parallel, each on one thread with its restarts in turn
    memory.concurrent = shape.trainings > 0 ? static_cast<int>(std::min<long long>(threads, shape.trainings)) : threads;
    memory.shared *= memory.concurrent;
  }
  return memory;
}

namespace {

std::string megabytes(double bytes) { return std::to_string(static_cast<long long>(std::ceil(bytes / 1048576.0))) + " MB"; }

std::string thousands(long long value) {
  std::string digits = std::to_string(value), grouped;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) grouped += ',';
    grouped += digits[i];
  }
  return grouped;
}

}  // namespace

void check_training_memory(const TrainingChoice& choice, const TrainingShape& shape) {
  const TrainingMemory memory = command_training_memory(choice, shape);
  const double limit = static_cast<double>(choice.max_memory_mb) * 1048576.0;
  if (memory.total() <= limit) return;
  const TrainingSettings& settings = choice.settings;
  const bool lm = settings.trainer == Trainer::LevenbergMarquardt;
  const long long samples = shape.train + shape.validation + shape.test;
  std::string message = "the training would need about " + megabytes(memory.total()) + ", more than MAX_MEMORY_MB " +
                        std::to_string(choice.max_memory_mb) + ". HIDDEN " + describe(json(settings.hidden)) +
                        " gives " + thousands(memory.weights) + " weights; ";
  if (lm)
    message += "TRAINER lm holds per restart a Jacobian of " + thousands(shape.train * shape.outputs) +
               " training samples × the weights (" + megabytes(memory.jacobian) + ") and three weights × weights matrices (" +
               megabytes(memory.matrices) + ")";
  else
    message += "TRAINER adam holds per restart a Jacobian of BATCH_SIZE " + std::to_string(settings.adam.batch_size) +
               " samples (and of the last, shorter batch) × the weights (" + megabytes(memory.jacobian) + ")";
  message += ", and the passes through the layers of " + thousands(samples) +
             " samples (outputs, slopes and Jacobian rows of each chunk: " + megabytes(memory.activations) + ")";
  if (shape.per_cell)
    message += "; THREADS " + std::to_string(shape.threads) + ": " + std::to_string(memory.concurrent) +
               " of these trainings at once, each on up to " + thousands(samples) + " samples with RESTARTS " +
               std::to_string(settings.restarts) + " in turn";
  else
    message += "; RESTARTS " + std::to_string(settings.restarts) + " with THREADS " + std::to_string(shape.threads) +
               " run " + std::to_string(memory.concurrent) + " at once";
  message += ". Lower HIDDEN" + std::string(lm ? "" : ", BATCH_SIZE") + ", RESTARTS or THREADS";
  if (!shape.sample_keys.empty()) message += ", train on fewer samples (" + shape.sample_keys + ")";
  if (lm) message += ", use TRAINER adam (no weights × weights matrices)";
  message += ", or raise MAX_MEMORY_MB (" + std::to_string(kLowestMaxMemoryMb) + " to " +
             std::to_string(kHighestMaxMemoryMb) + ") if the machine has that memory free";
  throw InputError(message);
}

TrainingSettings TrainingChoice::in_scaled_units(double gain) const {
  TrainingSettings scaled = settings;
  scaled.lm.goal = goal * gain * gain;
  scaled.lm.min_gradient = min_gradient * gain * gain;
  return scaled;
}

json TrainingChoice::metadata() const {
  return {{"trainer", settings.trainer == Trainer::LevenbergMarquardt ? "lm" : "adam"},
          {"hidden", settings.hidden},
          {"hidden_activation", activation_name(settings.hidden_activation)},
          {"output_activation", activation_name(settings.output_activation)},
          {"epochs", settings.lm.max_epochs},
          {"goal", goal},
          {"min_gradient", min_gradient},
          {"mu", settings.lm.mu},
          {"mu_dec", settings.lm.mu_dec},
          {"mu_inc", settings.lm.mu_inc},
          {"mu_max", settings.lm.mu_max},
          {"max_fail", settings.max_fail},
          {"learning_rate", settings.adam.learning_rate},
          {"batch_size", settings.adam.batch_size},
          {"division", division_name(division)},
          {"ratios", {ratios.train, ratios.validation, ratios.test}},
          {"seed", settings.seed},
          {"restarts", settings.restarts}};
}

std::vector<std::string> with_training_keys(std::vector<std::string> keys) {
  keys.insert(keys.end(), kTrainingKeys.begin(), kTrainingKeys.end());
  return keys;
}

}  // namespace smr
