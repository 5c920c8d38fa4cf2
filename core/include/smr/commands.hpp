// The commands of the smr executable. Each takes its JSON parameters and returns the "outputs" object
// of the protocol's result line; the help texts are what `smr <command> --help` prints.
#pragma once

#include "smr/params.hpp"
#include "smr/protocol.hpp"

#include <functional>
#include <string>
#include <vector>

namespace smr {

struct Command {
  std::string name;
  std::string summary;  // one line for `smr --help`
  std::string help;     // parameters, equations, units, nodata handling
  std::function<json(const Params&, Reporter&)> run;
};

const std::vector<Command>& commands();
const Command* find_command(const std::string& name);

// Registration of each family, defined beside its kernels.
void add_optical_commands(std::vector<Command>& registry);
void add_radar_commands(std::vector<Command>& registry);
void add_passive_commands(std::vector<Command>& registry);
void add_sample_commands(std::vector<Command>& registry);
void add_learning_commands(std::vector<Command>& registry);
void add_validation_commands(std::vector<Command>& registry);
void add_timeseries_commands(std::vector<Command>& registry);
void add_collocation_commands(std::vector<Command>& registry);  // temporalmetrics, triplecollocation
void add_matching_commands(std::vector<Command>& registry);     // cdfmatching, timematching

// The help paragraph shared by every raster command.
extern const char* const kRasterHelp;

}  // namespace smr
