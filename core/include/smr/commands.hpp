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
  // The keys that name files the command writes: checked before it runs against its inputs and each
  // other, and staged through the output guard (smr/outputs.hpp).
  std::vector<std::string> outputs = {};
};

const std::vector<Command>& commands();
const Command* find_command(const std::string& name);

// One run as `smr <command>` makes it: GDAL set up, the parameters checked, every output staged and
// committed together only when the command succeeded and was not cancelled (smr/outputs.hpp).
// Returns the result's outputs; throws InputError, Cancelled or another exception like the command.
json execute(const Command& command, const json& parameters, Reporter& reporter);

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
void add_sampling_commands(std::vector<Command>& registry);     // samplestacks
void add_calibration_commands(std::vector<Command>& registry);  // calibratewatercloud

// The help paragraph shared by every raster command.
extern const char* const kRasterHelp;

}  // namespace smr
