#include "smr/model_file.hpp"

#include "smr/params.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <sstream>

namespace smr {

namespace {

// Bounds that no real model reaches and that keep a hostile file from exhausting memory.
constexpr std::size_t kMaxInputs = 1000;
constexpr std::size_t kMaxNeurons = 1000;
constexpr std::size_t kMaxLayers = 11;  // ten hidden layers and the output layer
constexpr std::size_t kMaxNameLength = 256;
constexpr std::uintmax_t kMaxFileBytes = 256u << 20;
constexpr int kMaxNesting = 32;

// Reads one field of the document; every failure names the field's path, e.g. layers[1].bias[3].
class Field {
 public:
  Field(const json& value, std::string path, const std::string& origin) : value_(value), path_(std::move(path)), origin_(origin) {}

  [[noreturn]] void fail(const std::string& what) const {
    throw InputError(origin_ + ": field '" + path_ + "' " + what);
  }
  Field member(const std::string& name) const {
    if (!value_.is_object()) fail("must be an object, got " + describe(value_));
    const auto found = value_.find(name);
    if (found == value_.end()) Field(value_, join(name), origin_).fail("is missing");
    return Field(*found, join(name), origin_);
  }
  Field item(std::size_t index) const { return Field(value_.at(index), path_ + "[" + std::to_string(index) + "]", origin_); }
  std::size_t array(std::size_t lowest, std::size_t highest) const {
    if (!value_.is_array()) fail("must be a list, got " + describe(value_));
    if (value_.size() < lowest || value_.size() > highest)
      fail("must have " + std::to_string(lowest) + " to " + std::to_string(highest) + " entries, got " +
           std::to_string(value_.size()));
    return value_.size();
  }
  double number() const {
    if (!value_.is_number()) fail("must be a number, got " + describe(value_));
    const double result = value_.get<double>();
    if (!std::isfinite(result)) fail("must be finite");
    return result;
  }
  std::string text() const {
    if (!value_.is_string()) fail("must be a string, got " + describe(value_));
    const std::string result = value_.get<std::string>();
    if (result.empty() || result.size() > kMaxNameLength)
      fail("must be a string of 1 to " + std::to_string(kMaxNameLength) + " characters");
    return result;
  }
  void equals(const json& expected) const {
    if (value_ != expected) fail("must be " + expected.dump() + ", got " + describe(value_));
  }
  const json& object() const {
    if (!value_.is_object()) fail("must be an object, got " + describe(value_));
    return value_;
  }
  void only(const std::vector<std::string>& known) const {
    for (const auto& entry : object().items())
      if (std::find(known.begin(), known.end(), entry.key()) == known.end())
        Field(entry.value(), join(entry.key()), origin_).fail("is not part of format smr-model version 1");
  }

 private:
  std::string join(const std::string& name) const { return path_.empty() ? name : path_ + "." + name; }
  const json& value_;
  std::string path_;
  const std::string& origin_;
};

struct NamedRange {
  std::string name;
  double minimum, maximum;
};

NamedRange read_named_range(const Field& field) {
  field.only({"name", "minimum", "maximum"});
  NamedRange range{field.member("name").text(), field.member("minimum").number(), field.member("maximum").number()};
  if (range.maximum < range.minimum) field.member("maximum").fail("must not be less than 'minimum'");
  return range;
}

json scaling_range(const MinMaxScaling& scaling) { return json::array({scaling.low, scaling.high}); }

}  // namespace

Eigen::MatrixXd MlpModel::predict(const Eigen::MatrixXd& inputs) const {
  return target_scaling.invert(network.predict(input_scaling.apply(inputs)));
}

json model_to_json(const MlpModel& model) {
  json inputs = json::array();
  for (std::size_t i = 0; i < model.input_names.size(); ++i)
    inputs.push_back({{"name", model.input_names[i]},
                      {"minimum", model.input_scaling.minimum[static_cast<Eigen::Index>(i)]},
                      {"maximum", model.input_scaling.maximum[static_cast<Eigen::Index>(i)]}});
  json layers = json::array();
  for (const auto& layer : model.network.layers()) {
    json rows = json::array();
    for (Eigen::Index r = 0; r < layer.weights.rows(); ++r) {
      std::vector<double> row(static_cast<std::size_t>(layer.weights.cols()));
      for (Eigen::Index c = 0; c < layer.weights.cols(); ++c) row[static_cast<std::size_t>(c)] = layer.weights(r, c);
      rows.push_back(row);
    }
    layers.push_back({{"activation", activation_name(layer.activation)},
                      {"weights", rows},
                      {"bias", std::vector<double>(layer.bias.data(), layer.bias.data() + layer.bias.size())}});
  }
  return {{"format", kModelFormat},
          {"version", kModelVersion},
          {"kind", "mlp"},
          {"inputs", inputs},
          {"target",
           {{"name", model.target_name},
            {"minimum", model.target_scaling.minimum[0]},
            {"maximum", model.target_scaling.maximum[0]}}},
          {"normalisation", {{"method", "mapminmax"}, {"range", scaling_range(model.input_scaling)}}},
          {"layers", layers},
          {"training", model.training},
          {"metrics", model.metrics}};
}

MlpModel model_from_json(const json& document, const std::string& origin) {
  const Field root(document, "", origin);
  root.object();
  root.only({"format", "version", "kind", "inputs", "target", "normalisation", "layers", "training", "metrics"});
  root.member("format").equals(kModelFormat);
  root.member("version").equals(kModelVersion);
  root.member("kind").equals("mlp");

  const Field normalisation = root.member("normalisation");
  normalisation.only({"method", "range"});
  normalisation.member("method").equals("mapminmax");
  const Field range = normalisation.member("range");
  range.array(2, 2);
  const double low = range.item(0).number(), high = range.item(1).number();
  if (!(low < high)) range.fail("must be [low, high] with low < high");

  const Field inputs = root.member("inputs");
  const std::size_t input_count = inputs.array(1, kMaxInputs);
  std::vector<std::string> names;
  MinMaxScaling input_scaling{low, high, Eigen::VectorXd(input_count), Eigen::VectorXd(input_count)};
  for (std::size_t i = 0; i < input_count; ++i) {
    const NamedRange input = read_named_range(inputs.item(i));
    names.push_back(input.name);
    input_scaling.minimum[static_cast<Eigen::Index>(i)] = input.minimum;
    input_scaling.maximum[static_cast<Eigen::Index>(i)] = input.maximum;
  }
  const NamedRange target = read_named_range(root.member("target"));
  if (!(target.maximum > target.minimum)) root.member("target").member("maximum").fail("must be greater than 'minimum'");
  MinMaxScaling target_scaling{low, high, Eigen::VectorXd::Constant(1, target.minimum),
                               Eigen::VectorXd::Constant(1, target.maximum)};

  const Field layers_field = root.member("layers");
  const std::size_t layer_count = layers_field.array(1, kMaxLayers);
  std::vector<DenseLayer> layers;
  std::size_t fan_in = input_count;
  for (std::size_t l = 0; l < layer_count; ++l) {
    const Field layer_field = layers_field.item(l);
    layer_field.only({"activation", "weights", "bias"});
    DenseLayer layer;
    try {
      layer.activation = activation_from_name(layer_field.member("activation").text());
    } catch (const InputError& error) {
      layer_field.member("activation").fail(std::string("is not valid: ") + error.what());
    }
    const Field weights = layer_field.member("weights");
    const std::size_t neurons = weights.array(1, kMaxNeurons);
    if (l + 1 == layer_count && neurons != 1)
      weights.fail("of the output layer must have 1 row (one target), got " + std::to_string(neurons));
    layer.weights.resize(static_cast<Eigen::Index>(neurons), static_cast<Eigen::Index>(fan_in));
    for (std::size_t r = 0; r < neurons; ++r) {
      const Field row = weights.item(r);
      if (row.array(fan_in, fan_in) != fan_in) row.fail("has the wrong length");
      for (std::size_t c = 0; c < fan_in; ++c)
        layer.weights(static_cast<Eigen::Index>(r), static_cast<Eigen::Index>(c)) = row.item(c).number();
    }
    const Field bias = layer_field.member("bias");
    bias.array(neurons, neurons);
    layer.bias.resize(static_cast<Eigen::Index>(neurons));
    for (std::size_t r = 0; r < neurons; ++r) layer.bias[static_cast<Eigen::Index>(r)] = bias.item(r).number();
    layers.push_back(std::move(layer));
    fan_in = neurons;
  }
  const json& training = root.member("training").object();
  const json& metrics = root.member("metrics").object();
  return {std::move(names), target.name, std::move(input_scaling), std::move(target_scaling), Mlp(std::move(layers)),
          training, metrics};
}

TrainingRanges::TrainingRanges(const MinMaxScaling& inputs) : low_(inputs.minimum.size()), high_(inputs.maximum.size()) {
  constexpr float kInfinity = std::numeric_limits<float>::infinity();
  for (Eigen::Index i = 0; i < low_.size(); ++i) {
    float low = static_cast<float>(inputs.minimum[i]);
    if (static_cast<double>(low) > inputs.minimum[i]) low = std::nextafter(low, -kInfinity);
    float high = static_cast<float>(inputs.maximum[i]);
    if (static_cast<double>(high) < inputs.maximum[i]) high = std::nextafter(high, kInfinity);
    low_[i] = low;
    high_[i] = high;
  }
}

EstimateBounds EstimateBounds::from(const Params& params) {
  EstimateBounds bounds;
  const auto bound = [&](const char* key) -> std::optional<double> {
    if (!params.has(key)) return std::nullopt;
    const double value = params.number(key);  // a finite number, or InputError naming the key
    // Beyond it the Float32 output would hold ±infinity, which is nodata.
    constexpr double kFloatMax = std::numeric_limits<float>::max();
    if (std::abs(value) > kFloatMax)
      throw InputError(std::string(key) + " is " + describe(json(value)) +
                       ": the output is Float32, give a bound within ±3.4e38");
    return value;
  };
  bounds.minimum = bound("CLAMP_MIN");
  bounds.maximum = bound("CLAMP_MAX");
  if (bounds.minimum && bounds.maximum && *bounds.minimum > *bounds.maximum)
    throw InputError("CLAMP_MIN " + describe(json(*bounds.minimum)) + " is greater than CLAMP_MAX " +
                     describe(json(*bounds.maximum)) + ": give CLAMP_MIN ≤ CLAMP_MAX, or leave one out");
  return bounds;
}

void write_model_file(const std::string& path, const MlpModel& model) {
  write_file_atomically("OUTPUT_MODEL", path, model_to_json(model).dump(1) + "\n");
}

MlpModel read_model_file(const std::string& path, const std::string& key) {
  const std::string origin = key + ": model file '" + path + "'";
  return model_from_json(read_json_file(origin, path, kMaxFileBytes, kMaxNesting, "a model file"), origin);
}

}  // namespace smr
