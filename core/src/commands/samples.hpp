// Samples sent as JSON by the plugin for a vector layer (SAMPLES), shared by the learning commands.
#pragma once

#include "smr/params.hpp"

#include <Eigen/Dense>

#include <string>
#include <vector>

namespace smr {

// Samples as columns: features (inputs × samples), target (1 × samples), and their groups and
// precipitation (mm; NaN where missing) when given.
struct Samples {
  std::vector<std::string> names;
  Eigen::MatrixXd features;
  Eigen::MatrixXd target;
  std::vector<std::string> groups;
  std::vector<double> precipitation;
  long long skipped = 0;
};

// SAMPLES {"names", "features", "target", "groups", and with `with_precipitation` "precipitation"}: a
// sample with a missing feature, target or group is skipped (a missing precipitation is kept as NaN).
Samples samples_from_json(const Params& params, bool with_precipitation);

}  // namespace smr
