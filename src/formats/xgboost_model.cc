#include "formats/xgboost_model.h"

#include <charconv>
#include <cstdio>
#include <cmath>
#include <set>

#include "common/error.h"

namespace orchard {
namespace {

// A position in the document, so that every error names the JSON path it is about.
class Node {
 public:
  Node(const XgboostDocument& value, std::string path, const std::string& file)
      : value_(value), path_(std::move(path)), file_(file) {}

  const XgboostDocument& value() const { return value_; }
  const std::string& path() const { return path_; }

  [[noreturn]] void fail(const std::string& what, const std::string& expected = {}) const {
    throw_invalid_model(file_ + ": at " + (path_.empty() ? "/" : path_), what, expected);
  }

  bool has(const char* key) const { return value_.is_object() && value_.contains(key); }

  Node operator[](const char* key) const {
    if (!value_.is_object()) fail("not an object", "an object with \"" + std::string(key) + "\"");
    auto it = value_.find(key);
    if (it == value_.end()) fail("missing \"" + std::string(key) + "\"", "a field named \"" + std::string(key) + "\"");
    return Node(*it, path_ + "/" + key, file_);
  }

  Node at(std::size_t i) const { return Node(value_[i], path_ + "/" + std::to_string(i), file_); }

  std::size_t array_size() const {
    if (!value_.is_array()) fail("not an array", "an array");
    return value_.size();
  }

  std::string text() const {
    if (!value_.is_string()) fail("not a string", "a string");
    return value_.get<std::string>();
  }

  // XGBoost writes many integers as strings ("num_trees": "50"); accept both.
  std::int64_t integer() const {
    if (value_.is_number_integer()) return value_.get<std::int64_t>();
    if (value_.is_boolean()) return value_.get<bool>() ? 1 : 0;
    if (value_.is_string()) {
      const std::string s = value_.get<std::string>();
      std::int64_t v = 0;
      auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
      if (ec == std::errc() && end == s.data() + s.size()) return v;
    }
    if (value_.is_number_float()) {
      const float f = value_.get<float>();
      if (std::floor(f) == f && std::fabs(f) < 9e15f) return static_cast<std::int64_t>(f);
    }
    fail("not an integer", "an integer");
  }

  std::int64_t integer_in(std::int64_t lo, std::int64_t hi) const {
    const std::int64_t v = integer();
    if (v < lo || v > hi) fail("value " + std::to_string(v) + " is out of range", "between " + std::to_string(lo) + " and " + std::to_string(hi));
    return v;
  }

  float real() const {
    if (value_.is_number()) return value_.get<float>();
    fail("not a number", "a number");
  }

 private:
  const XgboostDocument& value_;
  std::string path_;
  const std::string& file_;
};

// Reads a float written as text ("5E-1", or "[5E-1]" since XGBoost 3.1).
float parse_base_score(const Node& node) {
  std::string s = node.text();
  if (s.size() >= 2 && s.front() == '[' && s.back() == ']') s = s.substr(1, s.size() - 2);
  float v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || !std::isfinite(v)) node.fail("base_score \"" + s + "\" is not a number", "a number");
  return v;
}

struct Objective {
  TransformKind transform;
  enum class Link { kIdentity, kLogit, kLog } link;
};

const std::map<std::string, Objective>& objectives() {
  using L = Objective::Link;
  static const std::map<std::string, Objective> table{
      {"binary:logistic", {TransformKind::kSigmoid, L::kLogit}},
      {"reg:logistic", {TransformKind::kSigmoid, L::kLogit}},
      {"binary:logitraw", {TransformKind::kIdentity, L::kLogit}},
      {"binary:hinge", {TransformKind::kHinge, L::kIdentity}},
      {"reg:squarederror", {TransformKind::kIdentity, L::kIdentity}},
      {"reg:linear", {TransformKind::kIdentity, L::kIdentity}},
      {"reg:squaredlogerror", {TransformKind::kIdentity, L::kIdentity}},
      {"reg:pseudohubererror", {TransformKind::kIdentity, L::kIdentity}},
      {"reg:absoluteerror", {TransformKind::kIdentity, L::kIdentity}},
      {"reg:quantileerror", {TransformKind::kIdentity, L::kIdentity}},
      {"count:poisson", {TransformKind::kExp, L::kLog}},
      {"reg:gamma", {TransformKind::kExp, L::kLog}},
      {"reg:tweedie", {TransformKind::kExp, L::kLog}},
      {"multi:softprob", {TransformKind::kSoftmax, L::kIdentity}},
      {"multi:softmax", {TransformKind::kArgMax, L::kIdentity}},
      {"rank:pairwise", {TransformKind::kIdentity, L::kIdentity}},
      {"rank:ndcg", {TransformKind::kIdentity, L::kIdentity}},
      {"rank:map", {TransformKind::kIdentity, L::kIdentity}},
  };
  return table;
}

std::string supported_objectives() {
  std::string list;
  for (const auto& [name, objective] : objectives()) list += (list.empty() ? "" : ", ") + name;
  return list;
}

template <typename T>
std::vector<T> read_ints(const Node& node, std::int64_t lo, std::int64_t hi) {
  const std::size_t n = node.array_size();
  std::vector<T> out(n);
  for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<T>(node.at(i).integer_in(lo, hi));
  return out;
}

std::vector<float> read_floats(const Node& node) {
  const std::size_t n = node.array_size();
  std::vector<float> out(n);
  for (std::size_t i = 0; i < n; ++i) out[i] = node.at(i).real();
  return out;
}

Tree build_tree(const Node& json, std::int32_t num_features, std::int32_t group, float weight) {
  const std::int64_t num_nodes = json["tree_param"]["num_nodes"].integer_in(1, std::int64_t{1} << 31);
  if (json["tree_param"].has("size_leaf_vector") && json["tree_param"]["size_leaf_vector"].integer() > 1) {
    json.fail("multi-target trees (vector leaves) are not supported", "size_leaf_vector 0 or 1");
  }
  const auto n = static_cast<std::size_t>(num_nodes);
  auto sized = [&](const char* key) {
    Node field = json[key];
    if (field.array_size() != n) {
      field.fail("has " + std::to_string(field.array_size()) + " entries", std::to_string(n) + " (num_nodes)");
    }
    return field;
  };
  const auto left = read_ints<std::int32_t>(sized("left_children"), -1, num_nodes - 1);
  const auto right = read_ints<std::int32_t>(sized("right_children"), -1, num_nodes - 1);
  const auto feature = read_ints<std::int64_t>(sized("split_indices"), 0, std::int64_t{1} << 31);
  const auto condition = read_floats(sized("split_conditions"));
  const auto default_left = read_ints<std::uint8_t>(sized("default_left"), 0, 1);
  std::vector<std::uint8_t> split_type(n, 0);
  if (json.has("split_type")) split_type = read_ints<std::uint8_t>(sized("split_type"), 0, 1);

  Tree tree;
  tree.group = group;
  tree.nodes.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    TreeNode& node = tree.nodes[i];
    if (left[i] == -1) {
      if (right[i] != -1) json["right_children"].at(i).fail("leaf has a right child", "-1 like its left child");
      node.kind = NodeKind::kLeaf;
      node.leaf_index = static_cast<std::uint32_t>(tree.leaf_values.size());
      // DART: XGBoost multiplies the tree's float output by its float weight.
      const float value = weight == 1.0f ? condition[i] : condition[i] * weight;
      if (!std::isfinite(value)) json["split_conditions"].at(i).fail("leaf value is not finite", "a finite number");
      tree.leaf_values.push_back(value);
      continue;
    }
    if (right[i] == -1) json["right_children"].at(i).fail("split node has no right child", "a node index");
    if (feature[i] >= num_features) {
      json["split_indices"].at(i).fail("split on feature " + std::to_string(feature[i]),
                                       "a feature index below num_feature = " + std::to_string(num_features));
    }
    node.kind = split_type[i] == 1 ? NodeKind::kCategorical : NodeKind::kNumerical;
    node.feature = static_cast<std::int32_t>(feature[i]);
    node.left = left[i];
    node.right = right[i];
    node.default_left = default_left[i] != 0;
    node.missing = MissingRule::kNanGoesDefault;
    node.threshold = condition[i];
    node.categories_go_left = false;  // XGBoost: listed categories go right
  }

  if (json.has("categories_nodes")) {
    const auto cat_nodes = read_ints<std::int64_t>(json["categories_nodes"], 0, num_nodes - 1);
    const auto segments = read_ints<std::int64_t>(json["categories_segments"], 0, std::int64_t{1} << 40);
    const auto sizes = read_ints<std::int64_t>(json["categories_sizes"], 0, std::int64_t{1} << 24);
    const auto categories = read_ints<std::int64_t>(json["categories"], 0, (std::int64_t{1} << 24) - 1);
    if (segments.size() != cat_nodes.size() || sizes.size() != cat_nodes.size()) {
      json["categories_segments"].fail("categories_nodes, categories_segments and categories_sizes differ in length", "arrays of equal length");
    }
    std::set<std::int64_t> categorical_nodes;
    // Each category entry belongs to one node, as XGBoost writes them; this also bounds the IR's size
    // by the file's (overlapping segments could otherwise multiply it).
    std::int64_t listed = 0;
    for (auto size : sizes) listed += size;
    if (listed > static_cast<std::int64_t>(categories.size())) {
      json["categories_sizes"].fail("category segments list " + std::to_string(listed) + " entries but categories has " +
                                    std::to_string(categories.size()), "non-overlapping segments");
    }
    for (std::size_t k = 0; k < cat_nodes.size(); ++k) {
      const auto i = static_cast<std::size_t>(cat_nodes[k]);
      if (categorical_nodes.count(cat_nodes[k])) json["categories_nodes"].at(k).fail("node " + std::to_string(i) + " is listed twice", "each categorical node once");
      if (tree.nodes[i].kind != NodeKind::kCategorical) {
        json["categories_nodes"].at(k).fail("node " + std::to_string(i) + " is not a categorical split", "the id of a node with split_type 1");
      }
      if (segments[k] + sizes[k] > static_cast<std::int64_t>(categories.size())) {
        json["categories_segments"].at(k).fail("category segment runs past the end of categories");
      }
      TreeNode& node = tree.nodes[i];
      node.category_begin = static_cast<std::uint32_t>(tree.categories.size());
      std::vector<std::uint32_t> list(categories.begin() + segments[k], categories.begin() + segments[k] + sizes[k]);
      std::sort(list.begin(), list.end());
      list.erase(std::unique(list.begin(), list.end()), list.end());
      node.category_count = static_cast<std::uint32_t>(list.size());
      tree.categories.insert(tree.categories.end(), list.begin(), list.end());
      categorical_nodes.insert(cat_nodes[k]);
    }
    for (std::size_t i = 0; i < n; ++i) {
      if (tree.nodes[i].kind == NodeKind::kCategorical && !categorical_nodes.count(static_cast<std::int64_t>(i))) {
        json["split_type"].at(i).fail("categorical split without a category list", "the node listed in categories_nodes");
      }
    }
  } else {
    for (std::size_t i = 0; i < n; ++i) {
      if (tree.nodes[i].kind == NodeKind::kCategorical) json["split_type"].at(i).fail("categorical split without categories");
    }
  }
  return tree;
}

void read_features(const Node& learner, Model& model, std::int32_t num_features) {
  model.features.resize(static_cast<std::size_t>(num_features));
  for (std::int32_t f = 0; f < num_features; ++f) {
    // Formatted into a buffer: GCC 12 warns falsely on short string concatenation (bug 105329).
    char name[16];
    const int length = std::snprintf(name, sizeof name, "f%d", f);
    model.features[static_cast<std::size_t>(f)].name.assign(name, static_cast<std::size_t>(length));
  }
  if (learner.has("feature_names") && learner["feature_names"].array_size() > 0) {
    Node names = learner["feature_names"];
    if (names.array_size() != static_cast<std::size_t>(num_features)) {
      names.fail("has " + std::to_string(names.array_size()) + " names", std::to_string(num_features) + " (num_feature)");
    }
    std::set<std::string> seen;
    for (std::size_t f = 0; f < names.array_size(); ++f) {
      std::string name = names.at(f).text();
      if (!seen.insert(name).second) names.at(f).fail("duplicate feature name \"" + name + "\"", "unique names");
      model.features[f].name = std::move(name);
    }
    model.has_feature_names = true;
  }
  if (learner.has("feature_types") && learner["feature_types"].array_size() == static_cast<std::size_t>(num_features)) {
    Node types = learner["feature_types"];
    for (std::size_t f = 0; f < types.array_size(); ++f) {
      const std::string type = types.at(f).text();
      if (type == "c") model.features[f].type = FeatureType::kCategorical;
      else if (type == "int" || type == "i") model.features[f].type = FeatureType::kInteger;
    }
  }
}

}  // namespace

Model build_xgboost_model(const XgboostDocument& document, const std::string& where, const std::string& format) {
  Node root(document, "", where);
  Node learner = root["learner"];
  if (root.has("version")) {
    Node version = root["version"];
    if (version.array_size() >= 1 && version.at(0).integer() < 1) version.fail("XGBoost version is older than 1.0", "a model saved by XGBoost 1.0 or later");
  }
  Node params = learner["learner_model_param"];
  const auto num_features = static_cast<std::int32_t>(params["num_feature"].integer_in(0, kMaxFeatures));
  const auto num_class = static_cast<std::int32_t>(params["num_class"].integer_in(0, 1 << 20));
  if (params.has("num_target") && params["num_target"].integer() > 1) {
    params["num_target"].fail("multi-target models are not supported", "num_target 1");
  }
  const float base_score = parse_base_score(params["base_score"]);

  Node objective_node = learner["objective"]["name"];
  const std::string objective_name = objective_node.text();
  auto objective = objectives().find(objective_name);
  if (objective == objectives().end()) {
    objective_node.fail("unsupported objective \"" + objective_name + "\"", "one of: " + supported_objectives());
  }

  Model model;
  model.source_format = format;
  model.objective = objective_name;
  model.input_precision = Precision::kFloat32;
  model.comparison = Comparison::kLessThan;
  model.accumulation = Precision::kFloat32;
  model.num_outputs = std::max(1, num_class);
  model.transform.kind = objective->second.transform;
  model.transform.precision = Precision::kFloat32;
  if ((model.transform.kind == TransformKind::kSoftmax || model.transform.kind == TransformKind::kArgMax) && num_class < 2) {
    params["num_class"].fail("multi-class objective with num_class " + std::to_string(num_class), "num_class >= 2");
  }
  read_features(learner, model, num_features);

  // base_score is in prediction space; XGBoost converts it to a margin in float (ProbToMargin).
  float margin = base_score;
  switch (objective->second.link) {
    case Objective::Link::kIdentity: break;
    case Objective::Link::kLogit:
      if (!(base_score > 0.0f && base_score < 1.0f)) params["base_score"].fail("base_score " + std::to_string(base_score) + " is outside (0, 1)", "a probability for a logistic objective");
      margin = -std::log(1.0f / base_score - 1.0f);
      break;
    case Objective::Link::kLog:
      if (!(base_score > 0.0f)) params["base_score"].fail("base_score " + std::to_string(base_score) + " is not positive", "a positive mean for a log-link objective");
      margin = std::log(base_score);
      break;
  }
  model.base_margin.assign(static_cast<std::size_t>(model.num_outputs), margin);

  Node booster = learner["gradient_booster"];
  const std::string booster_name = booster["name"].text();
  if (booster_name == "gbtree" || booster_name == "dart") {
    Node gbtree = booster_name == "dart" ? booster["gbtree"] : booster;
    Node tree_model = gbtree["model"];
    Node trees = tree_model["trees"];
    Node tree_info = tree_model["tree_info"];
    const std::size_t num_trees = trees.array_size();
    if (tree_info.array_size() != num_trees) {
      tree_info.fail("has " + std::to_string(tree_info.array_size()) + " entries", std::to_string(num_trees) + " (one per tree)");
    }
    if (tree_model.has("gbtree_model_param")) {
      const std::int64_t declared = tree_model["gbtree_model_param"]["num_trees"].integer();
      if (declared != static_cast<std::int64_t>(num_trees)) {
        tree_model["gbtree_model_param"]["num_trees"].fail("declares " + std::to_string(declared) + " trees but " +
                                                           std::to_string(num_trees) + " are present", "the number of trees");
      }
    }
    std::vector<float> weights(num_trees, 1.0f);
    if (booster_name == "dart") {
      weights = read_floats(booster["weight_drop"]);
      if (weights.size() != num_trees) booster["weight_drop"].fail("has " + std::to_string(weights.size()) + " weights", std::to_string(num_trees) + " (one per tree)");
    }
    model.trees.reserve(num_trees);
    for (std::size_t t = 0; t < num_trees; ++t) {
      const auto group = static_cast<std::int32_t>(tree_info.at(t).integer_in(0, model.num_outputs - 1));
      model.trees.push_back(build_tree(trees.at(t), num_features, group, weights[t]));
    }
  } else if (booster_name == "gblinear") {
    Node weights_node = booster["model"]["weights"];
    const auto weights = read_floats(weights_node);
    const std::size_t groups = static_cast<std::size_t>(model.num_outputs);
    const std::size_t expected = (static_cast<std::size_t>(num_features) + 1) * groups;
    if (weights.size() != expected) {
      weights_node.fail("has " + std::to_string(weights.size()) + " weights", std::to_string(expected) + " ((num_feature + 1) * groups)");
    }
    model.has_linear = true;
    model.linear.num_features = num_features;
    model.linear.num_groups = model.num_outputs;
    model.linear.weights.assign(weights.begin(), weights.begin() + static_cast<std::ptrdiff_t>(expected - groups));
    model.linear.bias.assign(weights.end() - static_cast<std::ptrdiff_t>(groups), weights.end());
  } else {
    booster["name"].fail("unsupported booster \"" + booster_name + "\"", "gbtree, dart or gblinear");
  }

  if (model.num_outputs == 1 || model.transform.kind == TransformKind::kArgMax) {
    model.output_names = {model.transform.kind == TransformKind::kArgMax ? "class" : "prediction"};
  } else {
    for (std::int32_t k = 0; k < model.num_outputs; ++k) model.output_names.push_back("class_" + std::to_string(k));
  }
  return model;
}

}  // namespace orchard
