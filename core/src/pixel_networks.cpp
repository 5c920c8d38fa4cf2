#include "smr/pixel_networks.hpp"

#include "smr/sampling.hpp"

#include <cmath>
#include <stdexcept>

namespace smr {

std::uint64_t cell_seed(std::uint64_t seed, std::uint64_t index) { return splitmix64(splitmix64(seed) ^ index); }

void check_min_pairs_divisible(long long min_pairs, const TrainingChoice& choice) {
  try {
    divide_samples(min_pairs, choice.division, choice.ratios, {}, choice.settings.seed);
  } catch (const InputError& error) {
    throw InputError("MIN_PAIRS " + std::to_string(min_pairs) + " is too small for the division: " + error.what());
  }
}

CellFit fit_cell(const Eigen::MatrixXd& features, const Eigen::MatrixXd& target, const TrainingChoice& choice,
                 long long min_pairs, std::uint64_t seed, const CancelToken* cancel) {
  CellFit fit;
  const Eigen::Index count = target.cols();
  if (count < min_pairs || count < 2) return fit;
  const double low = choice.low();
  MinMaxScaling input_scaling = MinMaxScaling::fit(features, low, 1.0);
  MinMaxScaling target_scaling = MinMaxScaling::fit(target, low, 1.0);
  const double gain = target_scaling.gain(0);
  if (gain == 0.0) {
    fit.status = CellStatus::ConstantTarget;
    return fit;
  }
  TrainingSettings settings = choice.in_scaled_units(gain);
  settings.seed = seed;
  const Division division = divide_samples(count, choice.division, choice.ratios, {}, seed);
  Reporter silent(nullptr, cancel);
  std::optional<TrainingOutcome> outcome;
  try {
    outcome = train_network(input_scaling.apply(features), target_scaling.apply(target), division, settings, silent);
  } catch (const Cancelled&) {
    throw;
  } catch (const InputError&) {
    throw;
  } catch (const std::runtime_error&) {  // every restart diverged: this cell has no model
    fit.status = CellStatus::Diverged;
    return fit;
  }
  MlpModel model{{}, "target", std::move(input_scaling), std::move(target_scaling), std::move(outcome->network),
                 json::object(), json::object()};
  const Eigen::MatrixXd estimate = model.predict(features);
  const std::vector<Eigen::Index>* subsets[3] = {&division.train, &division.validation, &division.test};
  std::vector<double> all_estimate, all_reference;
  for (int s = 0; s < 3; ++s) {
    std::vector<double> e, r;
    for (const Eigen::Index i : *subsets[s]) {
      e.push_back(estimate(0, i));
      r.push_back(target(0, i));
    }
    fit.subset_sizes[static_cast<std::size_t>(s)] = static_cast<long long>(e.size());
    fit.metrics[static_cast<std::size_t>(s)] = compute_metrics(e, r);
    all_estimate.insert(all_estimate.end(), e.begin(), e.end());
    all_reference.insert(all_reference.end(), r.begin(), r.end());
  }
  fit.metrics[kOverallSubset] = compute_metrics(all_estimate, all_reference);
  fit.model = std::move(model);
  fit.status = CellStatus::Trained;
  return fit;
}

}  // namespace smr
