#include "formats/orchard_json.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include <nlohmann/json.hpp>

#include "common/error.h"

namespace orchard {
namespace {

using json = nlohmann::json;

constexpr int kMaxDepth = 64;
// Outputs (classes) a model may declare; base margins and output names are sized from it.
constexpr std::int64_t kMaxOutputs = std::int64_t{1} << 16;

// A position in the document, so that every error names the JSON path it is about.
class Field {
 public:
  Field(const json& value, std::string path, const std::string& file) : value_(value), path_(std::move(path)), file_(file) {}

  const json& value() const { return value_; }
  bool is_null() const { return value_.is_null(); }

  [[noreturn]] void fail(const std::string& what, const std::string& expected = {}) const {
    throw_invalid_model(file_ + ": at " + (path_.empty() ? "/" : path_), what, expected);
  }

  bool has(const char* key) const { return value_.is_object() && value_.contains(key) && !value_.at(key).is_null(); }

  Field operator[](const char* key) const {
    if (!value_.is_object()) fail("not an object", "an object with \"" + std::string(key) + "\"");
    auto it = value_.find(key);
    if (it == value_.end()) fail("missing \"" + std::string(key) + "\"", "a field named \"" + std::string(key) + "\"");
    return Field(*it, path_ + "/" + key, file_);
  }

  Field at(std::size_t i) const { return Field(value_[i], path_ + "/" + std::to_string(i), file_); }

  std::size_t array_size() const {
    if (!value_.is_array()) fail("not an array", "an array");
    return value_.size();
  }

  std::size_t array_size(std::size_t expected, const std::string& of) const {
    const std::size_t n = array_size();
    if (n != expected) fail("has " + std::to_string(n) + " entries", std::to_string(expected) + " (" + of + ")");
    return n;
  }

  std::string text() const {
    if (!value_.is_string()) fail("not a string", "a string");
    return value_.get<std::string>();
  }

  bool boolean() const {
    if (value_.is_boolean()) return value_.get<bool>();
    if (value_.is_number_integer() && (value_.get<std::int64_t>() == 0 || value_.get<std::int64_t>() == 1)) return value_.get<std::int64_t>() == 1;
    fail("not a boolean", "true or false (or 0 / 1)");
  }

  std::int64_t integer(std::int64_t lo, std::int64_t hi) const {
    std::int64_t v = 0;
    if (value_.is_number_integer()) {
      if (value_.is_number_unsigned() && value_.get<std::uint64_t>() > static_cast<std::uint64_t>(hi)) {
        fail("value " + std::to_string(value_.get<std::uint64_t>()) + " is out of range", range(lo, hi));
      }
      v = value_.get<std::int64_t>();
    } else if (value_.is_number_float() && std::floor(value_.get<double>()) == value_.get<double>() &&
               std::fabs(value_.get<double>()) < 9e15) {
      v = static_cast<std::int64_t>(value_.get<double>());
    } else {
      fail("not an integer", "an integer " + range(lo, hi));
    }
    if (v < lo || v > hi) fail("value " + std::to_string(v) + " is out of range", range(lo, hi));
    return v;
  }

  // A finite number; null stands for NaN where `null_is_nan` (missing values, "no fill").
  double real(bool null_is_nan = false) const {
    if (null_is_nan && value_.is_null()) return std::numeric_limits<double>::quiet_NaN();
    if (!value_.is_number()) fail("not a number", null_is_nan ? "a number, or null for NaN" : "a number");
    const double v = value_.get<double>();
    if (!std::isfinite(v)) fail("not a finite number", "a finite number");
    return v;
  }

  std::vector<double> reals(bool null_is_nan = false) const {
    const std::size_t n = array_size();
    std::vector<double> out(n);
    for (std::size_t i = 0; i < n; ++i) out[i] = at(i).real(null_is_nan);
    return out;
  }

  // One of `choices` (by name); the error lists them.
  template <typename T>
  T choice(const std::map<std::string, T>& choices) const {
    const std::string name = text();
    auto it = choices.find(name);
    if (it != choices.end()) return it->second;
    std::string list;
    for (const auto& [key, value] : choices) list += (list.empty() ? "\"" : ", \"") + key + "\"";
    fail("unknown value \"" + name + "\"", "one of " + list);
  }

 private:
  static std::string range(std::int64_t lo, std::int64_t hi) {
    return "between " + std::to_string(lo) + " and " + std::to_string(hi);
  }
  const json& value_;
  std::string path_;
  const std::string& file_;
};

json parse_document(std::string_view bytes, const std::string& where) {
  // The callback sees every value with its depth; refusing past kMaxDepth keeps nesting (and the
  // recursive destruction of the DOM) bounded whatever the file says.
  bool too_deep = false;
  auto limit_depth = [&too_deep](int depth, json::parse_event_t, json&) {
    if (depth > kMaxDepth) too_deep = true;
    return !too_deep;
  };
  json document;
  try {
    document = json::parse(bytes.begin(), bytes.end(), limit_depth, /*allow_exceptions=*/true, /*ignore_comments=*/false);
  } catch (const json::exception& e) {
    // nlohmann's message names the byte position and the offending token.
    throw_invalid_model(where, std::string("not valid JSON: ") + e.what(), "an Orchard model document (docs/model-format.md)");
  }
  if (too_deep) throw_invalid_model(where, "the document nests deeper than " + std::to_string(kMaxDepth) + " levels", "an Orchard model document");
  return document;
}

const std::map<std::string, Precision>& precisions() {
  static const std::map<std::string, Precision> table{{"float32", Precision::kFloat32}, {"float64", Precision::kFloat64}};
  return table;
}

const std::map<std::string, TransformKind>& transforms() {
  static const std::map<std::string, TransformKind> table{
      {"identity", TransformKind::kIdentity},
      {"sigmoid", TransformKind::kSigmoid},
      {"softmax", TransformKind::kSoftmax},
      {"exp", TransformKind::kExp},
      {"log1p_exp", TransformKind::kLog1pExp},
      {"square_signed", TransformKind::kSquareSigned},
      {"hinge", TransformKind::kHinge},
      {"argmax", TransformKind::kArgMax},
      {"sigmoid_pair", TransformKind::kSigmoidPair},
      {"sigmoid_normalized", TransformKind::kSigmoidNormalized},
      {"isolation_score", TransformKind::kIsolationScore},
  };
  return table;
}

void read_features(const Field& root, Model& model) {
  static const std::map<std::string, FeatureType> types{
      {"numeric", FeatureType::kNumeric}, {"integer", FeatureType::kInteger}, {"categorical", FeatureType::kCategorical}};
  const Field features = root["features"];
  const std::size_t n = features.array_size();
  if (n > static_cast<std::size_t>(kMaxFeatures)) features.fail(std::to_string(n) + " features", "at most " + std::to_string(kMaxFeatures));
  model.features.resize(n);
  for (std::size_t f = 0; f < n; ++f) {
    const Field entry = features.at(f);
    Feature& feature = model.features[f];
    feature.name = entry["name"].text();
    if (entry.has("type")) feature.type = entry["type"].choice(types);
    if (entry.has("categories")) {
      const Field categories = entry["categories"];
      const std::size_t k = categories.array_size();
      for (std::size_t c = 0; c < k; ++c) feature.categories.push_back(categories.at(c).text());
    }
  }
  model.has_feature_names = true;
  if (root.has("match_by")) {
    static const std::map<std::string, bool> by{{"name", true}, {"position", false}};
    model.has_feature_names = root["match_by"].choice(by);
  }
}

void read_input_steps(const Field& root, Model& model) {
  if (!root.has("input_steps")) return;
  static const std::map<std::string, InputStepKind> kinds{{"copy", InputStepKind::kCopy},
                                                          {"affine", InputStepKind::kAffine},
                                                          {"standardize", InputStepKind::kStandardize},
                                                          {"one_hot", InputStepKind::kOneHot},
                                                          {"ordinal", InputStepKind::kOrdinal}};
  const Field steps = root["input_steps"];
  const std::size_t n = steps.array_size();
  for (std::size_t s = 0; s < n; ++s) {
    const Field entry = steps.at(s);
    InputStep step;
    step.kind = entry["kind"].choice(kinds);
    step.source = static_cast<std::int32_t>(entry["source"].integer(0, std::max<std::int64_t>(0, model.num_features() - 1)));
    if (entry.has("fill")) step.fill = entry["fill"].real();
    const bool arithmetic = step.kind == InputStepKind::kAffine || step.kind == InputStepKind::kStandardize;
    const bool lookup = step.kind == InputStepKind::kOneHot || step.kind == InputStepKind::kOrdinal;
    if (arithmetic) {
      step.offset = entry.has("offset") ? entry["offset"].real() : 0.0;
      step.scale = entry.has("scale") ? entry["scale"].real() : 1.0;
      if (step.kind == InputStepKind::kAffine && entry.has("shift")) step.shift = entry["shift"].real();
    }
    if (lookup) step.values = entry["values"].reals(/*null_is_nan=*/true);
    if (step.kind == InputStepKind::kOrdinal && entry.has("unknown")) step.unknown = entry["unknown"].real();
    model.input_steps.push_back(std::move(step));
  }
}

void read_linear(const Field& root, Model& model) {
  if (!root.has("linear")) return;
  const Field linear = root["linear"];
  const Field coefficients = linear["coefficients"];
  coefficients.array_size(static_cast<std::size_t>(model.num_outputs), "one row per output");
  const std::size_t columns = static_cast<std::size_t>(model.num_columns());
  const std::size_t width = coefficients.at(0).array_size();
  if (width > columns) coefficients.at(0).fail("has " + std::to_string(width) + " coefficients", "at most " + std::to_string(columns) + " (one per column)");
  model.has_linear = true;
  model.linear.num_features = static_cast<std::int32_t>(width);
  model.linear.num_groups = model.num_outputs;
  model.linear.weights.assign(width * static_cast<std::size_t>(model.num_outputs), 0.0);
  for (std::size_t g = 0; g < static_cast<std::size_t>(model.num_outputs); ++g) {
    const Field row = coefficients.at(g);
    row.array_size(width, "as many as the first row");
    for (std::size_t f = 0; f < width; ++f) model.linear.weights[f * static_cast<std::size_t>(model.num_outputs) + g] = row.at(f).real();
  }
  if (linear.has("bias")) {
    linear["bias"].array_size(static_cast<std::size_t>(model.num_outputs), "one per output");
    model.linear.bias = linear["bias"].reals();
  } else {
    model.linear.bias.assign(static_cast<std::size_t>(model.num_outputs), 0.0);
  }
}

// JSON has no infinities; thresholds may be the strings "inf" and "-inf" (a split that sends every
// number one way and only NaN the other, as HistGradientBoosting writes for missing values).
double threshold(const Field& field) {
  if (field.value().is_string()) {
    const std::string text = field.text();
    if (text == "inf") return std::numeric_limits<double>::infinity();
    if (text == "-inf") return -std::numeric_limits<double>::infinity();
    field.fail("threshold \"" + text + "\" is not a number", "a number, \"inf\" or \"-inf\"");
  }
  return field.real();
}

Tree read_tree(const Field& entry, const Model& model) {
  static const std::map<std::string, MissingRule> rules{{"nan_default", MissingRule::kNanGoesDefault},
                                                        {"zero_default", MissingRule::kZeroGoesDefault},
                                                        {"nan_as_zero", MissingRule::kNanAsZero}};
  Tree tree;
  tree.leaf_size = entry.has("leaf_size") ? static_cast<std::int32_t>(entry["leaf_size"].integer(1, kMaxOutputs)) : 1;
  if (tree.leaf_size == 1) {
    tree.group = entry.has("group") ? static_cast<std::int32_t>(entry["group"].integer(0, model.num_outputs - 1)) : 0;
  } else {
    tree.group = -1;
    if (tree.leaf_size != model.num_outputs) {
      entry["leaf_size"].fail("vector leaves of size " + std::to_string(tree.leaf_size), std::to_string(model.num_outputs) + " (num_outputs)");
    }
  }
  if (entry.has("weight")) tree.weight = entry["weight"].real();

  const Field left = entry["left"];
  const std::size_t n = left.array_size();
  if (n == 0) left.fail("tree has no nodes", "at least one node");
  const auto max_index = static_cast<std::int64_t>(n) - 1;
  const Field right = entry["right"];
  right.array_size(n, "one per node, like \"left\"");
  const Field feature = entry["feature"];
  feature.array_size(n, "one per node, like \"left\"");
  const Field leaf_value = entry["leaf_value"];
  leaf_value.array_size(n, "one per node, like \"left\"");
  const bool has_threshold = entry.has("threshold");
  const bool has_default = entry.has("default_left");
  const bool has_missing = entry.has("missing");
  const bool has_categories = entry.has("categories");
  const bool has_go_left = entry.has("categories_go_left");
  if (has_threshold) entry["threshold"].array_size(n, "one per node, like \"left\"");
  if (has_default) entry["default_left"].array_size(n, "one per node, like \"left\"");
  if (has_missing) entry["missing"].array_size(n, "one per node, like \"left\"");
  if (has_categories) entry["categories"].array_size(n, "one per node, like \"left\"");
  if (has_go_left) entry["categories_go_left"].array_size(n, "one per node, like \"left\"");

  tree.nodes.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    TreeNode& node = tree.nodes[i];
    const std::int64_t l = left.at(i).integer(-1, max_index);
    const std::int64_t r = right.at(i).integer(-1, max_index);
    if ((l < 0) != (r < 0)) right.at(i).fail("a node with one child", "-1 for both children (a leaf) or two node indices");
    if (l < 0) {
      node.kind = NodeKind::kLeaf;
      node.leaf_index = static_cast<std::uint32_t>(tree.leaf_values.size());
      const Field value = leaf_value.at(i);
      if (tree.leaf_size == 1) {
        tree.leaf_values.push_back(value.real());
      } else {
        value.array_size(static_cast<std::size_t>(tree.leaf_size), "leaf_size values");
        for (std::size_t k = 0; k < static_cast<std::size_t>(tree.leaf_size); ++k) tree.leaf_values.push_back(value.at(k).real());
      }
      continue;
    }
    node.left = static_cast<std::int32_t>(l);
    node.right = static_cast<std::int32_t>(r);
    node.feature = static_cast<std::int32_t>(feature.at(i).integer(0, std::max<std::int64_t>(0, model.num_columns() - 1)));
    if (has_default) node.default_left = entry["default_left"].at(i).boolean();
    if (has_missing) node.missing = entry["missing"].at(i).choice(rules);
    const bool categorical = has_categories && !entry["categories"].at(i).is_null();
    if (categorical) {
      node.kind = NodeKind::kCategorical;
      const Field list = entry["categories"].at(i);
      const std::size_t k = list.array_size();
      node.category_begin = static_cast<std::uint32_t>(tree.categories.size());
      node.category_count = static_cast<std::uint32_t>(k);
      for (std::size_t c = 0; c < k; ++c) tree.categories.push_back(static_cast<std::uint32_t>(list.at(c).integer(0, (std::int64_t{1} << 24) - 1)));
      auto begin = tree.categories.begin() + node.category_begin;
      if (!std::is_sorted(begin, tree.categories.end()) || std::adjacent_find(begin, tree.categories.end()) != tree.categories.end()) {
        list.fail("categories are not in increasing order", "distinct category codes in increasing order");
      }
      if (has_go_left) node.categories_go_left = entry["categories_go_left"].at(i).boolean();
    } else {
      node.kind = NodeKind::kNumerical;
      if (!has_threshold) entry.fail("a numerical split without thresholds", "a \"threshold\" array");
      node.threshold = threshold(entry["threshold"].at(i));
    }
  }
  return tree;
}

}  // namespace

bool OrchardJsonLoader::recognizes(std::string_view bytes) const {
  std::size_t i = 0;
  while (i < bytes.size() && (bytes[i] == ' ' || bytes[i] == '\n' || bytes[i] == '\r' || bytes[i] == '\t')) ++i;
  if (i >= bytes.size() || bytes[i] != '{') return false;
  return bytes.substr(0, 4096).find("\"orchard-model\"") != std::string_view::npos;
}

Model OrchardJsonLoader::load(std::string_view bytes, const std::string& where) const {
  const json document = parse_document(bytes, where);
  const Field root(document, "", where);
  if (!document.is_object()) root.fail("the document is not a JSON object", "an object with \"format\": \"orchard-model\"");
  if (root["format"].text() != "orchard-model") root["format"].fail("format is \"" + root["format"].text() + "\"", "\"orchard-model\"");
  const std::int64_t version = root["version"].integer(0, std::numeric_limits<std::int32_t>::max());
  if (version != kOrchardModelVersion) {
    root["version"].fail("version " + std::to_string(version) + " is not one this Orchard reads",
                         "version " + std::to_string(kOrchardModelVersion) + " (a newer file needs a newer Orchard)");
  }

  Model model;
  model.source_format = std::string(format_name());
  if (root.has("objective")) model.objective = root["objective"].text();
  read_features(root, model);
  read_input_steps(root, model);
  if (model.input_steps.size() > 0 && model.num_columns() > kMaxFeatures) {
    root["input_steps"].fail("the steps produce more than " + std::to_string(kMaxFeatures) + " columns", "fewer columns");
  }
  if (root.has("input_precision")) model.input_precision = root["input_precision"].choice(precisions());
  if (root.has("comparison")) {
    static const std::map<std::string, Comparison> comparisons{{"<=", Comparison::kLessOrEqual}, {"<", Comparison::kLessThan}};
    model.comparison = root["comparison"].choice(comparisons);
  }
  if (root.has("accumulation")) model.accumulation = root["accumulation"].choice(precisions());
  model.num_outputs = static_cast<std::int32_t>(root["num_outputs"].integer(1, kMaxOutputs));
  const auto outputs = static_cast<std::size_t>(model.num_outputs);
  if (root.has("base_margin")) {
    root["base_margin"].array_size(outputs, "one per output");
    model.base_margin = root["base_margin"].reals();
  } else {
    model.base_margin.assign(outputs, 0.0);
  }
  if (root.has("average_divisor")) {
    model.average_divisor = root["average_divisor"].real();
    if (!(model.average_divisor > 0.0)) root["average_divisor"].fail("is not positive", "a positive number");
  }
  model.raw_is_averaged = root.has("raw_is_averaged") ? root["raw_is_averaged"].boolean() : true;
  if (root.has("transform")) {
    const Field transform = root["transform"];
    model.transform.kind = transform["kind"].choice(transforms());
    if (transform.has("scale")) model.transform.scale = transform["scale"].real();
    if (transform.has("offset")) model.transform.offset = transform["offset"].real();
    if (transform.has("precision")) model.transform.precision = transform["precision"].choice(precisions());
    if ((model.transform.kind == TransformKind::kSigmoidPair || model.transform.kind == TransformKind::kIsolationScore) && model.num_outputs != 1) {
      transform["kind"].fail("needs one margin, the model has num_outputs " + std::to_string(model.num_outputs), "num_outputs 1");
    }
  }
  read_linear(root, model);
  if (root.has("trees")) {
    const Field trees = root["trees"];
    const std::size_t n = trees.array_size();
    model.trees.reserve(n);
    for (std::size_t t = 0; t < n; ++t) model.trees.push_back(read_tree(trees.at(t), model));
  }
  if (model.trees.empty() && !model.has_linear) root.fail("the model has neither trees nor a linear part", "\"trees\" or \"linear\"");

  const auto predictions = static_cast<std::size_t>(model.num_predictions());
  if (root.has("output_names")) {
    const Field names = root["output_names"];
    names.array_size(predictions, "one per prediction column");
    for (std::size_t k = 0; k < predictions; ++k) model.output_names.push_back(names.at(k).text());
  } else if (predictions == 1) {
    model.output_names = {"prediction"};
  } else {
    for (std::size_t k = 0; k < predictions; ++k) model.output_names.push_back("prediction_" + std::to_string(k));
  }
  return model;
}

}  // namespace orchard
