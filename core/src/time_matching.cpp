#include "smr/time_matching.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <tuple>

namespace smr {

namespace {

constexpr std::size_t kNone = std::numeric_limits<std::size_t>::max();

// An other row as the search sees it: ordered by group, then time, then index, so that a group's
// rows are contiguous and, among equal times, the lowest index comes first.
struct OtherRow {
  std::size_t group;
  double time;
  std::size_t index;
  bool operator<(const OtherRow& o) const { return std::tie(group, time, index) < std::tie(o.group, o.time, o.index); }
};

}  // namespace

TimeMatches match_times(const std::vector<double>& reference_times, const std::vector<double>& other_times,
                        const std::vector<std::size_t>& reference_groups, const std::vector<std::size_t>& other_groups,
                        const TimeMatchSettings& settings) {
  const bool grouped = !reference_groups.empty() || !other_groups.empty();
  if (grouped && (reference_groups.size() != reference_times.size() || other_groups.size() != other_times.size()))
    throw std::logic_error("time matching: one group per row of each series, or none");

  TimeMatches result;
  std::vector<OtherRow> others;
  others.reserve(other_times.size());
  for (std::size_t j = 0; j < other_times.size(); ++j) {
    if (std::isnan(other_times[j])) {
      ++result.missing_times;
      continue;
    }
    others.push_back({grouped ? other_groups[j] : 0, other_times[j], j});
  }
  std::sort(others.begin(), others.end());

  // The nearest other row of each reference row, and its |Δt|.
  std::vector<std::size_t> chosen(reference_times.size(), kNone);
  std::vector<double> distance(reference_times.size(), 0.0);
  for (std::size_t i = 0; i < reference_times.size(); ++i) {
    const double t = reference_times[i];
    if (std::isnan(t)) {
      ++result.missing_times;
      continue;
    }
    const std::size_t group = grouped ? reference_groups[i] : 0;
    const auto group_begin = std::lower_bound(others.begin(), others.end(), OtherRow{group, -std::numeric_limits<double>::infinity(), 0});
    const auto group_end = std::lower_bound(group_begin, others.end(), OtherRow{group + 1, -std::numeric_limits<double>::infinity(), 0});
    const auto at_or_after = std::lower_bound(group_begin, group_end, OtherRow{group, t, 0});
    std::size_t best = kNone;
    double best_distance = std::numeric_limits<double>::infinity();
    if (at_or_after != group_begin) {
      // The latest earlier time; among rows sharing it, the lowest index.
      const double before = std::prev(at_or_after)->time;
      const auto first_of_time = std::lower_bound(group_begin, at_or_after, OtherRow{group, before, 0});
      best = first_of_time->index;
      best_distance = t - before;
    }
    // Strictly closer only: on a tie the earlier time, already chosen, stays.
    if (at_or_after != group_end && at_or_after->time - t < best_distance) {
      best = at_or_after->index;
      best_distance = at_or_after->time - t;
    }
    if (best == kNone || !(best_distance <= settings.window_seconds)) {
      ++result.unmatched;
      continue;
    }
    chosen[i] = best;
    distance[i] = best_distance;
  }

  if (settings.unique) {
    std::vector<std::size_t> owner(other_times.size(), kNone);
    for (std::size_t i = 0; i < chosen.size(); ++i) {
      if (chosen[i] == kNone) continue;
      std::size_t& current = owner[chosen[i]];
      const bool wins = current == kNone ||
                        std::tie(distance[i], reference_times[i], i) <
                            std::tie(distance[current], reference_times[current], current);
      if (wins) current = i;
    }
    for (std::size_t i = 0; i < chosen.size(); ++i)
      if (chosen[i] != kNone && owner[chosen[i]] != i) {
        chosen[i] = kNone;
        ++result.duplicates_dropped;
      }
  }
  for (std::size_t i = 0; i < chosen.size(); ++i)
    if (chosen[i] != kNone) result.pairs.emplace_back(i, chosen[i]);
  return result;
}

}  // namespace smr
