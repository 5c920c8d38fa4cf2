// Trained-model files (DESIGN §6; contract in core/README.md): JSON with a format name and version,
// input names, the mapminmax scaling, the layers, and the training settings and metrics. Reading
// validates every field, so a corrupt, truncated or hostile file is an InputError naming what is wrong.
#pragma once

#include "smr/mlp.hpp"
#include "smr/protocol.hpp"
#include "smr/training.hpp"

#include <string>
#include <vector>

namespace smr {

inline constexpr const char* kModelFormat = "smr-model";
inline constexpr int kModelVersion = 1;

struct MlpModel {
  std::vector<std::string> input_names;
  std::string target_name;
  MinMaxScaling input_scaling;   // one row per input
  MinMaxScaling target_scaling;  // one row per output
  Mlp network;
  json training = json::object();  // settings and how the training ended: recorded, not interpreted
  json metrics = json::object();

  // Estimates in the target's units from inputs in their own units (inputs × samples).
  Eigen::MatrixXd predict(const Eigen::MatrixXd& inputs) const;
};

json model_to_json(const MlpModel& model);
// `origin` names the file in messages.
MlpModel model_from_json(const json& document, const std::string& origin);

// Written under a temporary name beside `path` and renamed on success.
void write_model_file(const std::string& path, const MlpModel& model);
// Throws InputError naming `key` (the parameter) and the file for anything unreadable or invalid.
MlpModel read_model_file(const std::string& path, const std::string& key);

}  // namespace smr
