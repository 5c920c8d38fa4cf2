// Time-stack parameters (DESIGN §4; contract in core/README.md "Time-series commands"): stacks read
// whole, checks that the stacks of one run describe the same series, and periods given as band
// ranges or dates.
#pragma once

#include "smr/params.hpp"
#include "smr/raster.hpp"

#include <string>
#include <vector>

namespace smr {

// A stack parameter: a path or {"path", "nodata"}; every band is read.
StackSource stack_parameter(const Params& params, const std::string& key);
std::vector<StackSource> stack_list_parameter(const Params& params, const std::string& key);  // KEY_i

// The series the stacks of a run share: their common band count and, per band, its date as a day
// number when the stacks carry ISO dates (empty otherwise).
struct Series {
  int band_count = 0;
  std::vector<long long> days;  // empty, or one per band
};

// Throws InputError naming both keys when two stacks differ in band count, or when two dated stacks
// give band b different dates.
Series common_series(const std::vector<StackSource>& stacks);

// 1-based, inclusive.
struct BandRange {
  int first = 1, last = 1;
  int count() const { return last - first + 1; }
};

// Empty or "all": every band; "a:b": band numbers; "YYYY-MM-DD:YYYY-MM-DD": the dated bands in that
// closed interval. Errors name `key`, the value and the valid bands or dates.
BandRange period_parameter(const Params& params, const std::string& key, const Series& series);

}  // namespace smr
