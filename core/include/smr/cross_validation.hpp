// Cross-validation, one code path for every trainer (DESIGN §6): K folds of whole groups (spatial
// cross-validation: stations, fields) or of single samples, or leave one group out; the held-out
// metrics of each fold and pooled over all folds. The water cloud calibration uses it today; trainmlp
// and the LSTM take the same folds from here, so a station is never in two folds whichever trainer
// is judged.
#pragma once

#include "smr/metrics.hpp"
#include "smr/params.hpp"
#include "smr/protocol.hpp"

#include <Eigen/Dense>

#include <cstdint>
#include <string>
#include <vector>

namespace smr {

enum class CrossValidationMethod { None, KFold, LeaveOneGroupOut };

// "none", "kfold", "leave_one_group_out": the values of the CROSS_VALIDATION parameter.
const std::vector<std::string>& cross_validation_names();
std::string cross_validation_name(CrossValidationMethod method);

struct CrossValidationChoice {
  CrossValidationMethod method = CrossValidationMethod::KFold;
  int folds = 4;           // K of kfold; leave_one_group_out makes one fold per group
  std::uint64_t seed = 1;  // which groups go to which fold
};

// The keys cross_validation_choice reads, for a command's reject_unknown list.
inline const std::vector<std::string> kCrossValidationKeys = {"CROSS_VALIDATION", "FOLDS"};
inline constexpr int kMostFolds = 1000;

// CROSS_VALIDATION (default kfold) and FOLDS (2 to 1000, default 4; only with kfold: given with
// another method it is an error naming it). `seed` is the command's SEED.
CrossValidationChoice cross_validation_choice(const Params& params, std::uint64_t seed,
                                              CrossValidationMethod fallback = CrossValidationMethod::KFold,
                                              int fallback_folds = 4);

struct Folds {
  std::vector<int> fold_of;                         // per sample: its fold, 0-based
  std::vector<std::vector<Eigen::Index>> held_out;  // per fold: its samples, ascending
  std::vector<std::vector<std::string>> groups;     // per fold: its groups, sorted (empty without groups)

  int count() const { return static_cast<int>(held_out.size()); }
  // The samples of every other fold, ascending: what a fold's model is trained on.
  std::vector<Eigen::Index> training(int fold) const;
};

// The folds of `samples` samples. `groups`: one name per sample, or empty, in which case every sample
// is its own group. A group is never split: with kfold the groups are shuffled by the seed and dealt,
// largest first, to the fold that holds the fewest samples so far, so folds hold about equal numbers
// of samples; leave_one_group_out makes one fold per group, in the order of their names. Throws
// InputError naming FOLDS when K exceeds the groups (or the samples), and CROSS_VALIDATION when
// leave_one_group_out has no groups or fewer than 2. `groups_key` is how messages name the groups
// (e.g. "SAMPLES.groups"). Method None gives no fold.
Folds make_folds(Eigen::Index samples, const std::vector<std::string>& groups, const CrossValidationChoice& choice,
                 const std::string& groups_key);

// Held-out predictions, per fold and pooled (every held-out pair of every fold, merged in fold order,
// so the result does not depend on the order folds finish in).
class HeldOutMetrics {
 public:
  explicit HeldOutMetrics(int folds) : folds_(static_cast<std::size_t>(folds)) {}
  void add(int fold, double estimate, double reference) { folds_.at(static_cast<std::size_t>(fold)).add(estimate, reference); }
  Metrics fold(int fold) const { return folds_.at(static_cast<std::size_t>(fold)).result(); }
  Metrics pooled() const;
  // [{"fold": 1, "groups": [...], "r":…, "r2":…, "nse":…, "rmse":…, "ubrmse":…, "mae":…, "bias":…, "n":…}, …],
  // folds numbered from 1 as users count them.
  json fold_table(const Folds& folds) const;

 private:
  std::vector<MetricsAccumulator> folds_;
};

}  // namespace smr
