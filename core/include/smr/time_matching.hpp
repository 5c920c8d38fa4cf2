// Temporal matching of two irregular series (the usual first step of comparing a satellite product
// with in-situ probes, as pytesmo's temporal matching does): each reference time takes the nearest
// other time within a window. Contract in core/README.md "Matching commands".
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

namespace smr {

struct TimeMatchSettings {
  double window_seconds = 3600.0;  // the largest |Δt| matched, inclusive
  bool unique = false;             // each other row matches at most one reference row
};

struct TimeMatches {
  std::vector<std::pair<std::size_t, std::size_t>> pairs;  // (reference index, other index), by reference index
  long long unmatched = 0;           // reference rows with a time and no other time within the window
  long long missing_times = 0;       // NaN times, both series
  long long duplicates_dropped = 0;  // UNIQUE: reference rows that lost their other row to a closer one
};

// Times in seconds, NaN where missing (the row takes no part). Groups, when given, hold one id per row
// of their series (both or neither): rows match only within the same id. Nearest other time wins, a
// tie in |Δt| goes to the earlier other time, then to the lower other index. With `unique`, an other
// row claimed by several reference rows stays with the smallest |Δt| (ties: the earlier reference
// time, then the lower index); the others stay unmatched and are counted in duplicates_dropped.
// Neither series needs to be sorted.
TimeMatches match_times(const std::vector<double>& reference_times, const std::vector<double>& other_times,
                        const std::vector<std::size_t>& reference_groups, const std::vector<std::size_t>& other_groups,
                        const TimeMatchSettings& settings);

}  // namespace smr
