// Values of table parameters, one per row: numbers, null for a missing value (PAIRS.estimate of
// validationmetrics, TABLE.x of triplecollocation, SERIES.source of cdfmatching), and group names, a
// station id as a number or a name (PAIRS.groups, TABLE.groups, the groups of timematching). The
// commands read them alike and name a wrong entry by its place, e.g. PAIRS.estimate[3]; validation and
// collocation sort their per-group results the same way, so a user reads the tables of one station
// network side by side.
#pragma once

#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "smr/params.hpp"
#include "smr/protocol.hpp"

namespace smr {

// The list `table[field]`, the table being the parameter `key` (e.g. PAIRS): its numbers, with null
// for a missing value.
inline std::vector<std::optional<double>> optional_numbers(const json& table, const std::string& key,
                                                           const std::string& field) {
  const auto list = table.find(field);
  if (list == table.end() || !list->is_array())
    throw InputError(key + "." + field + " must be a list of numbers (null for a missing value), got " +
                     (list == table.end() ? std::string("nothing") : describe(*list)));
  std::vector<std::optional<double>> values;
  for (const json& item : *list) {
    if (item.is_null()) {
      values.emplace_back();
      continue;
    }
    if (!item.is_number() || !std::isfinite(item.get<double>()))
      throw InputError(key + "." + field + "[" + std::to_string(values.size()) + "] is " + describe(item) +
                       ": valid values are finite numbers, or null for a missing value");
    values.emplace_back(item.get<double>());
  }
  return values;
}

// Rows whose group is null form this group, so a missing id never drops a row unseen.
inline const std::string kNoGroup = "(none)";

// A group as the user gave it: numbers sort by value (station 2 before station 10), text by name.
struct GroupName {
  bool numeric = false;
  double value = 0.0;
  std::string label;

  bool operator<(const GroupName& other) const {
    if (numeric != other.numeric) return numeric;
    if (numeric && value != other.value) return value < other.value;
    return label < other.label;
  }
  bool ungrouped() const { return !numeric && label == kNoGroup; }
};

// Whole numbers print without a fraction, so station 7 is "7" and not "7.0".
inline std::string number_label(double value) {
  if (std::abs(value) < 1e15 && std::floor(value) == value) return std::to_string(static_cast<long long>(value));
  return json(value).dump();
}

// `field` is how messages name the list, e.g. "PAIRS.groups"; `row` what one entry belongs to ("pair").
inline std::vector<GroupName> group_names(const json& list, const std::string& field, const std::string& row) {
  if (!list.is_array()) throw InputError(field + " must be a list of group names or numbers, got " + describe(list));
  std::vector<GroupName> groups;
  for (const json& item : list) {
    GroupName group;
    if (item.is_string()) {
      group.label = item.get<std::string>();
    } else if (item.is_number() && std::isfinite(item.get<double>())) {
      group.numeric = true;
      group.value = item.get<double>();
      group.label = number_label(group.value);
    } else if (item.is_null()) {
      group.label = kNoGroup;
    } else {
      throw InputError(field + "[" + std::to_string(groups.size()) + "] is " + describe(item) +
                       ": valid values are strings or numbers (null for a " + row + " without a group)");
    }
    groups.push_back(std::move(group));
  }
  return groups;
}

}  // namespace smr
