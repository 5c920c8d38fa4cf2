// Calendar dates of time-stack bands (DESIGN §4: band descriptions carry ISO-8601 dates). Days are
// counted from 1970-01-01 in the proleptic Gregorian calendar (H. Hinnant's civil-date algorithms).
#pragma once

#include <optional>
#include <string>

namespace smr {

// "YYYY-MM-DD", optionally followed by a time ("T06:00:00", " 06:00"): the day number, or nothing
// when the text does not start with a valid date.
std::optional<long long> parse_iso_date(const std::string& text);

std::string format_iso_date(long long day);

}  // namespace smr
