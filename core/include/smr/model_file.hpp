// Trained-model files (DESIGN §6; contract in core/README.md): JSON with a format name and version,
// input names, the mapminmax scaling, the layers, and the training settings and metrics. Reading
// validates every field, so a corrupt, truncated or hostile file is an InputError naming what is wrong.
#pragma once

#include "smr/mlp.hpp"
#include "smr/protocol.hpp"
#include "smr/training.hpp"

#include <cmath>
#include <optional>
#include <string>
#include <vector>

namespace smr {

class Params;

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

// The inputs' training ranges as raster values meet them. The extremes are doubles (a vector layer's
// fields), the pixels Float32: each extreme is rounded outward to Float32, so a pixel holding
// float(maximum) is inside the range, and one Float32 step beyond it is outside. One test for
// applymodel's OUT_OF_RANGE_PIXELS and pixelwisereconstruction's EXTRAPOLATED_STEPS.
class TrainingRanges {
 public:
  explicit TrainingRanges(const MinMaxScaling& inputs);
  bool outside(Eigen::Index input, double value) const { return value < low_[input] || value > high_[input]; }

 private:
  Eigen::VectorXd low_, high_;
};

// CLAMP_MIN and CLAMP_MAX of the commands that apply networks (optional, in the target's units).
struct EstimateBounds {
  std::optional<double> minimum, maximum;

  // InputError naming the key for a value that is not a finite number or lies beyond the Float32
  // range of the outputs, and naming both when CLAMP_MIN > CLAMP_MAX.
  static EstimateBounds from(const Params& params);
  bool any() const { return minimum || maximum; }
  // A finite estimate beyond a bound becomes that bound; true when it did.
  bool clamp(double& value) const {
    if (!std::isfinite(value)) return false;
    if (minimum && value < *minimum) return value = *minimum, true;
    if (maximum && value > *maximum) return value = *maximum, true;
    return false;
  }
};

// Written under a temporary name beside `path` and renamed on success.
void write_model_file(const std::string& path, const MlpModel& model);
// Throws InputError naming `key` (the parameter) and the file for anything unreadable or invalid.
MlpModel read_model_file(const std::string& path, const std::string& key);

}  // namespace smr
