#include "smr/cross_validation.hpp"

#include "smr/training.hpp"

#include <algorithm>
#include <map>
#include <numeric>

namespace smr {

namespace {

// The random stream of the fold assignment, apart from the streams of initialisations and divisions
// that the same SEED drives ("fold" in ASCII).
constexpr std::uint64_t kFoldStream = 0x666f6c64;

}  // namespace

const std::vector<std::string>& cross_validation_names() {
  static const std::vector<std::string> names = {"none", "kfold", "leave_one_group_out"};
  return names;
}

std::string cross_validation_name(CrossValidationMethod method) {
  return cross_validation_names().at(static_cast<std::size_t>(method));
}

CrossValidationChoice cross_validation_choice(const Params& params, std::uint64_t seed, CrossValidationMethod fallback,
                                              int fallback_folds) {
  CrossValidationChoice choice;
  choice.seed = seed;
  const std::string name = params.choice("CROSS_VALIDATION", cross_validation_names(), cross_validation_name(fallback));
  choice.method = static_cast<CrossValidationMethod>(
      std::find(cross_validation_names().begin(), cross_validation_names().end(), name) - cross_validation_names().begin());
  if (choice.method == CrossValidationMethod::KFold)
    choice.folds = static_cast<int>(params.integer_in("FOLDS", 2, kMostFolds, fallback_folds));
  else
    params.reject_unused({"FOLDS"}, "applies to CROSS_VALIDATION kfold only, not to " + name +
                                        (choice.method == CrossValidationMethod::LeaveOneGroupOut
                                             ? " (one fold per group)"
                                             : ""));
  return choice;
}

std::vector<Eigen::Index> Folds::training(int fold) const {
  std::vector<Eigen::Index> indices;
  for (std::size_t i = 0; i < fold_of.size(); ++i)
    if (fold_of[i] != fold) indices.push_back(static_cast<Eigen::Index>(i));
  return indices;
}

Folds make_folds(Eigen::Index samples, const std::vector<std::string>& groups, const CrossValidationChoice& choice,
                 const std::string& groups_key) {
  Folds folds;
  if (choice.method == CrossValidationMethod::None) return folds;
  const bool grouped = !groups.empty();
  if (grouped && static_cast<Eigen::Index>(groups.size()) != samples)
    throw InputError(groups_key + " has " + std::to_string(groups.size()) + " groups for " + std::to_string(samples) +
                     " samples: give one group per sample");

  // Each group's samples, the groups in the order of their names: the shuffle alone decides the folds.
  std::map<std::string, std::vector<Eigen::Index>> members;
  if (grouped) {
    for (Eigen::Index i = 0; i < samples; ++i) members[groups[static_cast<std::size_t>(i)]].push_back(i);
  }
  std::vector<std::pair<std::string, std::vector<Eigen::Index>>> units;  // (group name, samples)
  if (grouped)
    for (auto& [name, indices] : members) units.emplace_back(name, std::move(indices));
  else
    for (Eigen::Index i = 0; i < samples; ++i) units.push_back({"", {i}});

  int count = 0;
  std::vector<int> fold_of_unit(units.size());
  if (choice.method == CrossValidationMethod::LeaveOneGroupOut) {
    if (!grouped)
      throw InputError("CROSS_VALIDATION leave_one_group_out needs a group for every sample (" + groups_key +
                       ", a group field): without groups use kfold");
    if (units.size() < 2)
      throw InputError("CROSS_VALIDATION leave_one_group_out needs at least 2 groups, but " + groups_key + " holds " +
                       std::to_string(units.size()) + " ('" + units.front().first + "')");
    count = static_cast<int>(units.size());
    std::iota(fold_of_unit.begin(), fold_of_unit.end(), 0);
  } else {
    count = choice.folds;
    if (static_cast<std::size_t>(count) > units.size())
      throw InputError("FOLDS " + std::to_string(count) + " is more than the " + std::to_string(units.size()) +
                       (grouped ? " groups of " + groups_key + " (a group is never split between folds)"
                                : " samples") +
                       ": valid values are 2 to " + std::to_string(units.size()));
    std::vector<std::size_t> order(units.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::mt19937_64 random = seeded_generator(choice.seed, kFoldStream);
    std::shuffle(order.begin(), order.end(), random);
    // Largest group first, each to the fold with the fewest samples so far (the lowest fold on a tie):
    // folds of about equal size, whose make-up the seed decides among groups of equal size.
    std::stable_sort(order.begin(), order.end(),
                     [&units](std::size_t a, std::size_t b) { return units[a].second.size() > units[b].second.size(); });
    std::vector<std::size_t> sizes(static_cast<std::size_t>(count), 0);
    for (const std::size_t unit : order) {
      const auto smallest = static_cast<int>(std::min_element(sizes.begin(), sizes.end()) - sizes.begin());
      fold_of_unit[unit] = smallest;
      sizes[static_cast<std::size_t>(smallest)] += units[unit].second.size();
    }
  }

  folds.fold_of.assign(static_cast<std::size_t>(samples), -1);
  folds.held_out.resize(static_cast<std::size_t>(count));
  folds.groups.resize(static_cast<std::size_t>(count));
  for (std::size_t u = 0; u < units.size(); ++u) {
    const int fold = fold_of_unit[u];
    for (const Eigen::Index i : units[u].second) {
      folds.fold_of[static_cast<std::size_t>(i)] = fold;
      folds.held_out[static_cast<std::size_t>(fold)].push_back(i);
    }
    if (grouped) folds.groups[static_cast<std::size_t>(fold)].push_back(units[u].first);
  }
  for (auto& indices : folds.held_out) std::sort(indices.begin(), indices.end());
  for (auto& names : folds.groups) std::sort(names.begin(), names.end());
  return folds;
}

Metrics HeldOutMetrics::pooled() const {
  MetricsAccumulator all;
  for (const auto& fold : folds_) all.merge(fold);
  return all.result();
}

json HeldOutMetrics::fold_table(const Folds& folds) const {
  json table = json::array();
  for (std::size_t k = 0; k < folds_.size(); ++k) {
    json row = {{"fold", k + 1}, {"groups", k < folds.groups.size() ? folds.groups[k] : std::vector<std::string>{}}};
    row.update(metrics_json(folds_[k].result()));
    table.push_back(std::move(row));
  }
  return table;
}

}  // namespace smr
