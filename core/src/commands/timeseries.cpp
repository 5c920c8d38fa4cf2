#include "smr/commands.hpp"

namespace smr {
void add_timeseries_commands(std::vector<Command>&) {}
}  // namespace smr
