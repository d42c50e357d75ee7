// XgboostJsonLoader and XgboostUbjsonLoader (src/formats/xgboost_json.h, xgboost_model.cc).
//
// Most tests build a tiny model document in memory (so they always run): they pin down the IR the
// loader produces (comparison, precision, nodes, missing values, categories, base margin, objective,
// DART, gblinear) and the predictions of that IR on hand-computed rows. The rest feed it malformed
// documents, which must be refused with Error(kInvalidModel) naming the file and what was expected,
// quickly and without crashing, including adversarial UBJSON (deep nesting, huge declared counts).
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "common/error.h"
#include "engine/model.h"
#include "engine/predictor.h"
#include "formats/model_loader.h"
#include "formats/xgboost_json.h"
#include "support/expectations.h"
#include "support/predictions.h"
#include "support/test_support.h"

namespace orchard {
namespace {

using testing::Contains;
using testing::predict_row;
using testing::read_fixture_model;
using testing::refusal;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// ---------------------------------------------------------------------------------------------
// Building tiny XGBoost documents.

template <typename T>
std::string join(const std::vector<T>& values) {
  std::ostringstream out;
  out << '[';
  for (std::size_t i = 0; i < values.size(); ++i) out << (i ? "," : "") << values[i];
  out << ']';
  return out.str();
}

// One tree as XGBoost 1.7 writes it. `conditions` are JSON number literals (split thresholds for
// split nodes, leaf values for leaves).
struct XgbTree {
  std::vector<int> left, right, split_indices, default_left;
  std::vector<std::string> conditions;
  std::vector<int> split_type;  // empty: omitted
  std::string categories;       // extra fields, e.g. ,"categories_nodes":[0],...
  int num_nodes = -1;           // -1: left.size()

  std::string json() const {
    const std::size_t n = left.size();
    std::vector<int> parents(n, 2147483647), ids(n, 0);
    for (std::size_t i = 0; i < n; ++i) {
      if (left[i] >= 0 && static_cast<std::size_t>(left[i]) < n) parents[static_cast<std::size_t>(left[i])] = static_cast<int>(i);
      if (right[i] >= 0 && static_cast<std::size_t>(right[i]) < n) parents[static_cast<std::size_t>(right[i])] = static_cast<int>(i);
    }
    std::vector<std::string> zeros(n, "0E0");
    std::ostringstream out;
    out << R"({"base_weights":)" << join(zeros);
    if (categories.empty()) {
      out << R"(,"categories":[],"categories_nodes":[],"categories_segments":[],"categories_sizes":[])";
    } else {
      out << categories;
    }
    out << R"(,"default_left":)" << join(default_left) << R"(,"id":0,"left_children":)" << join(left)
        << R"(,"loss_changes":)" << join(zeros) << R"(,"parents":)" << join(parents)
        << R"(,"right_children":)" << join(right) << R"(,"split_conditions":)" << join(conditions)
        << R"(,"split_indices":)" << join(split_indices);
    if (!split_type.empty()) out << R"(,"split_type":)" << join(split_type);
    out << R"(,"sum_hessian":)" << join(zeros) << R"(,"tree_param":{"num_deleted":"0","num_feature":"2","num_nodes":")"
        << (num_nodes < 0 ? static_cast<int>(n) : num_nodes) << R"(","size_leaf_vector":"0"}})";
    return out.str();
  }
};

// Tree A: x0 < 0.5 (NaN left) ? 0.25 : (x1 < 10 (NaN right) ? -0.5 : 1.0).
XgbTree tree_a() {
  XgbTree t;
  t.left = {1, -1, 3, -1, -1};
  t.right = {2, -1, 4, -1, -1};
  t.split_indices = {0, 0, 1, 0, 0};
  t.conditions = {"5E-1", "2.5E-1", "1E1", "-5E-1", "1E0"};
  t.default_left = {1, 0, 0, 0, 0};
  t.split_type = {0, 0, 0, 0, 0};
  return t;
}

// Tree B: x1 < 10 (NaN right) ? 0.125 : 0.5.
XgbTree tree_b() {
  XgbTree t;
  t.left = {1, -1, -1};
  t.right = {2, -1, -1};
  t.split_indices = {1, 0, 0};
  t.conditions = {"1E1", "1.25E-1", "5E-1"};
  t.default_left = {0, 0, 0};
  t.split_type = {0, 0, 0};
  return t;
}

struct XgbDoc {
  std::string objective = "binary:logistic";
  std::string base_score = "5E-1";
  std::string num_class = "0";
  std::string num_feature = "2";
  std::string num_target = "1";
  std::string feature_names = R"(["age","income"])";  // empty: no field
  std::string feature_types = R"(["float","float"])";
  std::string booster = "gbtree";
  std::vector<XgbTree> trees = {tree_a(), tree_b()};
  std::string tree_info;     // empty: all zeros
  std::string num_trees;     // empty: trees.size()
  std::string weight_drop;   // dart
  std::string linear_weights = "[]";  // gblinear
  std::string version = "[1,7,4]";

  std::string json() const {
    std::ostringstream model;
    if (booster == "gblinear") {
      model << R"({"model":{"boosted_rounds":1,"weights":)" << linear_weights << R"(},"name":"gblinear"})";
    } else {
      std::ostringstream tree_model;
      std::vector<int> info(trees.size(), 0);
      tree_model << R"({"gbtree_model_param":{"num_parallel_tree":"1","num_trees":")"
                 << (num_trees.empty() ? std::to_string(trees.size()) : num_trees) << R"(","size_leaf_vector":"0"},"tree_info":)"
                 << (tree_info.empty() ? join(info) : tree_info) << R"(,"trees":[)";
      for (std::size_t i = 0; i < trees.size(); ++i) tree_model << (i ? "," : "") << trees[i].json();
      tree_model << "]}";
      if (booster == "dart") {
        model << R"({"gbtree":{"model":)" << tree_model.str() << R"(,"name":"gbtree"},"name":"dart","weight_drop":)"
              << weight_drop << "}";
      } else {
        model << R"({"model":)" << tree_model.str() << R"(,"name":")" << booster << R"("})";
      }
    }
    std::ostringstream out;
    out << R"({"learner":{"attributes":{},)";
    if (!feature_names.empty()) out << R"("feature_names":)" << feature_names << R"(,"feature_types":)" << feature_types << ",";
    out << R"("gradient_booster":)" << model.str() << R"(,"learner_model_param":{"base_score":")" << base_score
        << R"(","boost_from_average":"1","num_class":")" << num_class << R"(","num_feature":")" << num_feature
        << R"(","num_target":")" << num_target << R"("},"objective":{"name":")" << objective
        << R"(","reg_loss_param":{"scale_pos_weight":"1"}}},"version":)" << version << "}";
    return out.str();
  }
};

// A JSON-to-UBJSON converter for the documents above, in XGBoost's own layout: every length as
// 'L' (int64, big-endian), integers as 'L', reals as 'd' (float32), no optimized containers.
class UbjsonWriter {
 public:
  static std::string convert(std::string_view json) {
    UbjsonWriter writer(json);
    writer.value();
    return writer.out_;
  }

  static void be64(std::string& out, std::uint64_t v) {
    for (int shift = 56; shift >= 0; shift -= 8) out += static_cast<char>((v >> shift) & 0xFF);
  }
  static std::string length(std::uint64_t n) {
    std::string out = "L";
    be64(out, n);
    return out;
  }

 private:
  explicit UbjsonWriter(std::string_view json) : in_(json) {}

  void skip() {
    while (pos_ < in_.size() && (in_[pos_] == ' ' || in_[pos_] == '\n')) ++pos_;
  }
  std::string string() {
    ++pos_;  // '"'
    const std::size_t end = in_.find('"', pos_);
    std::string s(in_.substr(pos_, end - pos_));
    pos_ = end + 1;
    return s;
  }
  void value() {
    skip();
    const char c = in_[pos_];
    if (c == '{' || c == '[') {
      const char close = c == '{' ? '}' : ']';
      out_ += c;
      ++pos_;
      skip();
      if (in_[pos_] == close) {
        ++pos_;
        out_ += close;
        return;
      }
      for (;;) {
        skip();
        if (c == '{') {
          const std::string key = string();
          out_ += length(key.size()) + key;
          skip();
          ++pos_;  // ':'
        }
        value();
        skip();
        if (in_[pos_++] == close) break;  // else ','
      }
      out_ += close;
    } else if (c == '"') {
      const std::string s = string();
      out_ += "S" + length(s.size()) + s;
    } else if (in_.substr(pos_, 4) == "true") {
      out_ += 'T';
      pos_ += 4;
    } else if (in_.substr(pos_, 5) == "false") {
      out_ += 'F';
      pos_ += 5;
    } else {
      std::size_t end = pos_;
      while (end < in_.size() && std::string_view("+-0123456789.eE").find(in_[end]) != std::string_view::npos) ++end;
      const std::string token(in_.substr(pos_, end - pos_));
      pos_ = end;
      if (token.find_first_of(".eE") == std::string::npos) {
        out_ += 'L';
        be64(out_, static_cast<std::uint64_t>(std::stoll(token)));
      } else {
        const float f = std::stof(token);
        std::uint32_t bits = 0;
        std::memcpy(&bits, &f, sizeof bits);
        out_ += 'd';
        for (int shift = 24; shift >= 0; shift -= 8) out_ += static_cast<char>((bits >> shift) & 0xFF);
      }
    }
  }

  std::string_view in_;
  std::size_t pos_ = 0;
  std::string out_;
};

Model load_json(const std::string& text, const std::string& where = "tiny.json") {
  return XgboostJsonLoader().load(text, where);
}
Model load_ubj(const std::string& bytes, const std::string& where = "tiny.ubj") {
  return XgboostUbjsonLoader().load(bytes, where);
}

// Loads through the JSON loader directly; the message must name the file.
std::string json_refusal(const XgbDoc& doc) {
  const std::string message = refusal([&] { load_json(doc.json(), "bad_model.json"); });
  EXPECT_TRUE(Contains(message, "bad_model.json"));
  return message;
}

double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }


// ---------------------------------------------------------------------------------------------
// The IR of a tiny two-tree binary:logistic model.

TEST(XgboostJsonLoader, TinyModelHeaderAndSchema) {
  const Model model = load_json(XgbDoc().json());
  EXPECT_EQ(model.source_format, "xgboost-json");
  EXPECT_EQ(model.objective, "binary:logistic");
  ASSERT_EQ(model.num_features(), 2);
  EXPECT_EQ(model.features[0].name, "age");
  EXPECT_EQ(model.features[1].name, "income");
  EXPECT_EQ(model.features[0].type, FeatureType::kNumeric);
  EXPECT_TRUE(model.has_feature_names);
  // XGBoost compares x < threshold in float and sums leaves in float.
  EXPECT_EQ(model.comparison, Comparison::kLessThan);
  EXPECT_EQ(model.input_precision, Precision::kFloat32);
  EXPECT_EQ(model.accumulation, Precision::kFloat32);
  EXPECT_EQ(model.num_outputs, 1);
  EXPECT_EQ(model.transform.kind, TransformKind::kSigmoid);
  EXPECT_EQ(model.transform.precision, Precision::kFloat32);
  ASSERT_EQ(model.base_margin.size(), 1u);
  EXPECT_EQ(model.base_margin[0], 0.0);  // logit(0.5)
  EXPECT_FALSE(model.has_linear);
  EXPECT_EQ(model.average_divisor, 1.0);
  EXPECT_EQ(model.output_names, std::vector<std::string>{"prediction"});
  EXPECT_NO_THROW(model.validate("tiny.json"));
}

TEST(XgboostJsonLoader, TinyModelTrees) {
  const Model model = load_json(XgbDoc().json());
  ASSERT_EQ(model.trees.size(), 2u);
  const Tree& a = model.trees[0];
  ASSERT_EQ(a.nodes.size(), 5u);
  EXPECT_EQ(a.group, 0);
  EXPECT_EQ(a.leaf_size, 1);
  EXPECT_EQ(a.weight, 1.0);
  EXPECT_EQ(a.depth(), 2);

  const TreeNode& root = a.nodes[0];
  EXPECT_EQ(root.kind, NodeKind::kNumerical);
  EXPECT_EQ(root.feature, 0);
  EXPECT_EQ(root.threshold, 0.5);
  EXPECT_EQ(root.left, 1);
  EXPECT_EQ(root.right, 2);
  EXPECT_TRUE(root.default_left);
  EXPECT_EQ(root.missing, MissingRule::kNanGoesDefault);

  const TreeNode& inner = a.nodes[2];
  EXPECT_EQ(inner.kind, NodeKind::kNumerical);
  EXPECT_EQ(inner.feature, 1);
  EXPECT_EQ(inner.threshold, 10.0);
  EXPECT_FALSE(inner.default_left);
  EXPECT_EQ(inner.left, 3);
  EXPECT_EQ(inner.right, 4);

  // Leaves carry their values in split_conditions; leaf_index points into leaf_values.
  for (std::size_t i : {1u, 3u, 4u}) EXPECT_EQ(a.nodes[i].kind, NodeKind::kLeaf) << "node " << i;
  ASSERT_EQ(a.leaf_values.size(), 3u);
  EXPECT_EQ(a.leaf_values[a.nodes[1].leaf_index], 0.25);
  EXPECT_EQ(a.leaf_values[a.nodes[3].leaf_index], -0.5);
  EXPECT_EQ(a.leaf_values[a.nodes[4].leaf_index], 1.0);

  const Tree& b = model.trees[1];
  ASSERT_EQ(b.nodes.size(), 3u);
  EXPECT_EQ(b.depth(), 1);
  EXPECT_EQ(b.leaf_values[b.nodes[1].leaf_index], 0.125);
  EXPECT_EQ(b.leaf_values[b.nodes[2].leaf_index], 0.5);
}

TEST(XgboostJsonLoader, ThresholdsAreParsedAsFloat) {
  // 0.1 is not a float; XGBoost's threshold is the float nearest to it, not the double.
  XgbDoc doc;
  doc.trees = {tree_b()};
  doc.trees[0].conditions[0] = "1E-1";
  const Model model = load_json(doc.json());
  EXPECT_EQ(model.trees[0].nodes[0].threshold, static_cast<double>(0.1f));
  EXPECT_NE(model.trees[0].nodes[0].threshold, 0.1);
}

TEST(XgboostJsonLoader, WithoutFeatureNamesFeaturesAreNumbered) {
  XgbDoc doc;
  doc.feature_names.clear();
  const Model model = load_json(doc.json());
  EXPECT_FALSE(model.has_feature_names);
  ASSERT_EQ(model.num_features(), 2);
  EXPECT_EQ(model.features[0].name, "f0");
  EXPECT_EQ(model.features[1].name, "f1");
}

TEST(XgboostJsonLoader, FeatureTypes) {
  XgbDoc doc;
  doc.feature_types = R"(["c","int"])";
  const Model model = load_json(doc.json());
  EXPECT_EQ(model.features[0].type, FeatureType::kCategorical);
  EXPECT_EQ(model.features[1].type, FeatureType::kInteger);
}

// ---------------------------------------------------------------------------------------------
// Predictions of the tiny model (margin 0 + tree A + tree B), hand-computed.

TEST(XgboostJsonLoader, TinyModelPredictions) {
  const Model model = load_json(XgbDoc().json());
  struct Case {
    double x0, x1, margin;
  };
  const std::vector<Case> cases{
      {0.2, 5.0, 0.25 + 0.125},
      {kNaN, 20.0, 0.25 + 0.5},    // NaN at the root: default left
      {0.7, kNaN, 1.0 + 0.5},      // NaN at the inner node and in tree B: default right
      {0.5, 10.0, 1.0 + 0.5},      // x == threshold: not less, so right
      {0.7, 9.999, -0.5 + 0.125},
      {-3.0, -1e30, 0.25 + 0.125},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE("x = (" + std::to_string(c.x0) + ", " + std::to_string(c.x1) + ")");
    const auto raw = predict_row(model, {c.x0, c.x1}, true);
    ASSERT_EQ(raw.size(), 1u);
    EXPECT_DOUBLE_EQ(raw[0], c.margin);
    const auto transformed = predict_row(model, {c.x0, c.x1}, false);
    EXPECT_NEAR(transformed[0], sigmoid(c.margin), 1e-6);
  }
}

TEST(XgboostJsonLoader, InputsAreComparedAsFloat) {
  // 0.49999999999 rounds to 0.5f, which is not < 0.5: XGBoost sends it right (double would go left).
  const Model model = load_json(XgbDoc().json());
  EXPECT_DOUBLE_EQ(predict_row(model, {0.49999999999, 5.0}, true)[0], -0.5 + 0.125);
  EXPECT_DOUBLE_EQ(predict_row(model, {0.4999999, 5.0}, true)[0], 0.25 + 0.125);
}

// ---------------------------------------------------------------------------------------------
// Base score -> base margin, and objective -> transform.

TEST(XgboostJsonLoader, BaseMarginIsLogitForLogistic) {
  XgbDoc doc;
  doc.base_score = "8E-1";
  const Model model = load_json(doc.json());
  ASSERT_EQ(model.base_margin.size(), 1u);
  EXPECT_NEAR(model.base_margin[0], std::log(4.0), 1e-6);
  // ... and it is added to the trees' sum.
  EXPECT_NEAR(predict_row(model, {0.2, 5.0}, true)[0], std::log(4.0) + 0.375, 1e-6);
}

TEST(XgboostJsonLoader, BaseMarginIsLogForPoisson) {
  XgbDoc doc;
  doc.objective = "count:poisson";
  doc.base_score = "5E-1";
  const Model model = load_json(doc.json());
  EXPECT_EQ(model.transform.kind, TransformKind::kExp);
  EXPECT_NEAR(model.base_margin[0], std::log(0.5), 1e-6);
  EXPECT_NEAR(predict_row(model, {0.2, 5.0}, false)[0], std::exp(std::log(0.5) + 0.375), 1e-6);
}

TEST(XgboostJsonLoader, BaseMarginIsBaseScoreForIdentityLink) {
  XgbDoc doc;
  doc.objective = "reg:squarederror";
  doc.base_score = "1.5E0";
  const Model model = load_json(doc.json());
  EXPECT_EQ(model.transform.kind, TransformKind::kIdentity);
  EXPECT_EQ(model.base_margin[0], 1.5);
  EXPECT_DOUBLE_EQ(predict_row(model, {0.2, 5.0}, false)[0], 1.875);
}

TEST(XgboostJsonLoader, BaseScoreInBracketsIsAccepted) {
  // XGBoost 3.1 writes base_score as "[5E-1]".
  XgbDoc doc;
  doc.objective = "reg:squarederror";
  doc.base_score = "[2.5E-1]";
  EXPECT_EQ(load_json(doc.json()).base_margin[0], 0.25);
}

TEST(XgboostJsonLoader, BadBaseScoresAreRefused) {
  XgbDoc doc;
  doc.base_score = "1E0";  // logit(1) is infinite
  EXPECT_TRUE(Contains(json_refusal(doc), "(0, 1)"));
  doc.objective = "count:poisson";
  doc.base_score = "0E0";
  EXPECT_TRUE(Contains(json_refusal(doc), "positive"));
  doc.objective = "reg:squarederror";
  doc.base_score = "half";
  const std::string message = json_refusal(doc);
  EXPECT_TRUE(Contains(message, "half"));
  EXPECT_TRUE(Contains(message, "base_score"));
}

TEST(XgboostJsonLoader, ObjectiveToTransform) {
  struct Case {
    const char* objective;
    const char* num_class;
    TransformKind transform;
    int outputs;
    int predictions;
  };
  const std::vector<Case> cases{
      {"binary:logistic", "0", TransformKind::kSigmoid, 1, 1},
      {"reg:logistic", "0", TransformKind::kSigmoid, 1, 1},
      {"binary:logitraw", "0", TransformKind::kIdentity, 1, 1},
      {"binary:hinge", "0", TransformKind::kHinge, 1, 1},
      {"reg:squarederror", "0", TransformKind::kIdentity, 1, 1},
      {"reg:pseudohubererror", "0", TransformKind::kIdentity, 1, 1},
      {"count:poisson", "0", TransformKind::kExp, 1, 1},
      {"reg:gamma", "0", TransformKind::kExp, 1, 1},
      {"reg:tweedie", "0", TransformKind::kExp, 1, 1},
      {"rank:pairwise", "0", TransformKind::kIdentity, 1, 1},
      {"rank:ndcg", "0", TransformKind::kIdentity, 1, 1},
      {"multi:softprob", "3", TransformKind::kSoftmax, 3, 3},
      {"multi:softmax", "3", TransformKind::kArgMax, 3, 1},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.objective);
    XgbDoc doc;
    doc.objective = c.objective;
    doc.num_class = c.num_class;
    const Model model = load_json(doc.json());
    EXPECT_EQ(model.objective, c.objective);
    EXPECT_EQ(model.transform.kind, c.transform);
    EXPECT_EQ(model.num_outputs, c.outputs);
    EXPECT_EQ(model.num_predictions(), c.predictions);
    EXPECT_EQ(model.base_margin.size(), static_cast<std::size_t>(c.outputs));
    EXPECT_EQ(model.output_names.size(), static_cast<std::size_t>(c.predictions));
  }
}

TEST(XgboostJsonLoader, LogitrawKeepsLogitBaseMargin) {
  XgbDoc doc;
  doc.objective = "binary:logitraw";
  doc.base_score = "8E-1";
  EXPECT_NEAR(load_json(doc.json()).base_margin[0], std::log(4.0), 1e-6);
}

TEST(XgboostJsonLoader, MulticlassTreesGoToTheirGroups) {
  XgbDoc doc;
  doc.objective = "multi:softprob";
  doc.num_class = "3";
  doc.trees = {tree_b(), tree_b(), tree_b(), tree_a()};
  doc.tree_info = "[0,1,2,1]";
  const Model model = load_json(doc.json());
  ASSERT_EQ(model.trees.size(), 4u);
  EXPECT_EQ(model.trees[0].group, 0);
  EXPECT_EQ(model.trees[1].group, 1);
  EXPECT_EQ(model.trees[2].group, 2);
  EXPECT_EQ(model.trees[3].group, 1);
  EXPECT_EQ(model.output_names, (std::vector<std::string>{"class_0", "class_1", "class_2"}));
  EXPECT_EQ(model.base_margin, (std::vector<double>{0.5, 0.5, 0.5}));
  // x = (0.2, 5): tree B gives 0.125, tree A 0.25.
  const auto raw = predict_row(model, {0.2, 5.0}, true);
  ASSERT_EQ(raw.size(), 3u);
  EXPECT_DOUBLE_EQ(raw[0], 0.625);
  EXPECT_DOUBLE_EQ(raw[1], 0.875);
  EXPECT_DOUBLE_EQ(raw[2], 0.625);
  const auto p = predict_row(model, {0.2, 5.0}, false);
  const double sum = std::exp(0.625) * 2 + std::exp(0.875);
  EXPECT_NEAR(p[0], std::exp(0.625) / sum, 1e-6);
  EXPECT_NEAR(p[1], std::exp(0.875) / sum, 1e-6);
  EXPECT_NEAR(p[0] + p[1] + p[2], 1.0, 1e-6);
}

TEST(XgboostJsonLoader, SoftmaxPredictsTheClassIndex) {
  XgbDoc doc;
  doc.objective = "multi:softmax";
  doc.num_class = "3";
  doc.trees = {tree_b(), tree_a(), tree_b()};
  doc.tree_info = "[0,1,2]";
  const Model model = load_json(doc.json());
  EXPECT_EQ(model.output_names, std::vector<std::string>{"class"});
  // x = (0.7, 20): B = 0.5, A = 1.0, B = 0.5 -> class 1.
  EXPECT_EQ(predict_row(model, {0.7, 20.0}, false), std::vector<double>{1.0});
}

// ---------------------------------------------------------------------------------------------
// Categorical splits: categories_nodes/segments/sizes; listed categories go right.

XgbTree categorical_stump() {
  XgbTree t;
  t.left = {1, -1, -1};
  t.right = {2, -1, -1};
  t.split_indices = {0, 0, 0};
  t.conditions = {"0E0", "1E0", "2E0"};
  t.default_left = {1, 0, 0};
  t.split_type = {1, 0, 0};
  t.categories = R"(,"categories":[5,1,3],"categories_nodes":[0],"categories_segments":[0],"categories_sizes":[3])";
  return t;
}

TEST(XgboostJsonLoader, CategoricalSplitIR) {
  XgbDoc doc;
  doc.objective = "reg:squarederror";
  doc.base_score = "0E0";
  doc.feature_types = R"(["c","float"])";
  doc.trees = {categorical_stump()};
  const Model model = load_json(doc.json());
  const Tree& tree = model.trees[0];
  const TreeNode& root = tree.nodes[0];
  EXPECT_EQ(root.kind, NodeKind::kCategorical);
  EXPECT_EQ(root.feature, 0);
  EXPECT_FALSE(root.categories_go_left);
  EXPECT_TRUE(root.default_left);
  EXPECT_EQ(root.missing, MissingRule::kNanGoesDefault);
  ASSERT_EQ(root.category_count, 3u);
  const std::vector<std::uint32_t> categories(tree.categories.begin() + root.category_begin,
                                              tree.categories.begin() + root.category_begin + root.category_count);
  EXPECT_EQ(categories, (std::vector<std::uint32_t>{1, 3, 5}));  // sorted
}

TEST(XgboostJsonLoader, CategoricalSplitPredictions) {
  XgbDoc doc;
  doc.objective = "reg:squarederror";
  doc.base_score = "0E0";
  doc.trees = {categorical_stump()};
  const Model model = load_json(doc.json());
  auto value = [&](double x0) { return predict_row(model, {x0, 0.0}, true)[0]; };
  EXPECT_EQ(value(3.0), 2.0);   // listed: right
  EXPECT_EQ(value(5.0), 2.0);
  EXPECT_EQ(value(1.0), 2.0);
  EXPECT_EQ(value(2.0), 1.0);   // not listed: left
  EXPECT_EQ(value(0.0), 1.0);
  EXPECT_EQ(value(kNaN), 1.0);  // missing: default left
  EXPECT_EQ(value(-1.0), 1.0);  // not a category: not in the set
  EXPECT_EQ(value(5.5), 2.0);   // truncated to 5
}

TEST(XgboostJsonLoader, SeveralCategoricalNodesUseTheirOwnSegments) {
  XgbTree t;
  t.left = {1, -1, 3, -1, -1};
  t.right = {2, -1, 4, -1, -1};
  t.split_indices = {0, 0, 1, 0, 0};
  t.conditions = {"0E0", "1E0", "0E0", "2E0", "3E0"};
  t.default_left = {0, 0, 0, 0, 0};
  t.split_type = {1, 0, 1, 0, 0};
  t.categories = R"(,"categories":[7,2,9,4,6],"categories_nodes":[0,2],"categories_segments":[0,2],"categories_sizes":[2,3])";
  XgbDoc doc;
  doc.objective = "reg:squarederror";
  doc.trees = {t};
  const Model model = load_json(doc.json());
  const Tree& tree = model.trees[0];
  auto list = [&](std::size_t i) {
    const TreeNode& node = tree.nodes[i];
    return std::vector<std::uint32_t>(tree.categories.begin() + node.category_begin,
                                      tree.categories.begin() + node.category_begin + node.category_count);
  };
  EXPECT_EQ(list(0), (std::vector<std::uint32_t>{2, 7}));
  EXPECT_EQ(list(2), (std::vector<std::uint32_t>{4, 6, 9}));
  // x0 = 7 (listed at the root) goes right; x1 = 6 (listed at node 2) goes right again: leaf 3.
  EXPECT_DOUBLE_EQ(predict_row(model, {7.0, 6.0}, true)[0], 0.5 + 3.0);
  EXPECT_DOUBLE_EQ(predict_row(model, {7.0, 7.0}, true)[0], 0.5 + 2.0);
  EXPECT_DOUBLE_EQ(predict_row(model, {4.0, 6.0}, true)[0], 0.5 + 1.0);
}

TEST(XgboostJsonLoader, CategoricalErrors) {
  XgbDoc doc;
  doc.trees = {categorical_stump()};
  // A categorical split without a category list.
  doc.trees[0].categories = R"(,"categories":[],"categories_nodes":[],"categories_segments":[],"categories_sizes":[])";
  EXPECT_TRUE(Contains(json_refusal(doc), "categorical split without"));
  // The segment runs past the end of `categories`.
  doc.trees[0].categories = R"(,"categories":[5,1,3],"categories_nodes":[0],"categories_segments":[1],"categories_sizes":[3])";
  EXPECT_TRUE(Contains(json_refusal(doc), "past the end of categories"));
  // categories_nodes names a numerical node.
  doc.trees[0].categories = R"(,"categories":[5],"categories_nodes":[1],"categories_segments":[0],"categories_sizes":[1])";
  EXPECT_TRUE(Contains(json_refusal(doc), "not a categorical split"));
  // Arrays of different lengths.
  doc.trees[0].categories = R"(,"categories":[5],"categories_nodes":[0],"categories_segments":[0,0],"categories_sizes":[1])";
  EXPECT_TRUE(Contains(json_refusal(doc), "differ in length"));
  // categories_nodes outside the tree.
  doc.trees[0].categories = R"(,"categories":[5],"categories_nodes":[7],"categories_segments":[0],"categories_sizes":[1])";
  EXPECT_TRUE(Contains(json_refusal(doc), "categories_nodes"));
}

// ---------------------------------------------------------------------------------------------
// DART and gblinear.

TEST(XgboostJsonLoader, DartWeightsScaleLeafValues) {
  XgbDoc doc;
  doc.booster = "dart";
  doc.weight_drop = "[5E-1,4E0]";
  const Model model = load_json(doc.json());
  ASSERT_EQ(model.trees.size(), 2u);
  EXPECT_EQ(model.trees[0].leaf_values, (std::vector<double>{0.125, -0.25, 0.5}));
  EXPECT_EQ(model.trees[1].leaf_values, (std::vector<double>{0.5, 2.0}));
  // The weight is applied once, in the leaf values.
  EXPECT_EQ(model.trees[0].weight, 1.0);
  EXPECT_DOUBLE_EQ(predict_row(model, {0.2, 5.0}, true)[0], 0.125 + 0.5);
}

TEST(XgboostJsonLoader, DartNeedsOneWeightPerTree) {
  XgbDoc doc;
  doc.booster = "dart";
  doc.weight_drop = "[1E0]";
  const std::string message = json_refusal(doc);
  EXPECT_TRUE(Contains(message, "weight_drop"));
  EXPECT_TRUE(Contains(message, "one per tree"));
}

TEST(XgboostJsonLoader, GblinearLayout) {
  XgbDoc doc;
  doc.booster = "gblinear";
  doc.objective = "reg:squarederror";
  doc.linear_weights = "[2E0,-1E0,5E-1]";  // w0, w1, bias
  const Model model = load_json(doc.json());
  EXPECT_TRUE(model.has_linear);
  EXPECT_TRUE(model.trees.empty());
  EXPECT_EQ(model.linear.num_features, 2);
  EXPECT_EQ(model.linear.num_groups, 1);
  EXPECT_EQ(model.linear.weights, (std::vector<double>{2.0, -1.0}));
  EXPECT_EQ(model.linear.bias, std::vector<double>{0.5});
  // base 0.5 + bias 0.5 + 2 x0 - x1; a missing input contributes nothing.
  EXPECT_DOUBLE_EQ(predict_row(model, {1.0, 2.0}, false)[0], 1.0);
  EXPECT_DOUBLE_EQ(predict_row(model, {kNaN, 2.0}, false)[0], -1.0);
  EXPECT_DOUBLE_EQ(predict_row(model, {3.0, kNaN}, false)[0], 7.0);
}

TEST(XgboostJsonLoader, GblinearMulticlassLayoutIsFeatureMajor) {
  XgbDoc doc;
  doc.booster = "gblinear";
  doc.objective = "multi:softprob";
  doc.num_class = "2";
  doc.linear_weights = "[1E0,2E0,3E0,4E0,5E-1,-5E-1]";  // (f0,g0) (f0,g1) (f1,g0) (f1,g1) b0 b1
  const Model model = load_json(doc.json());
  EXPECT_EQ(model.linear.num_groups, 2);
  EXPECT_EQ(model.linear.weights, (std::vector<double>{1.0, 2.0, 3.0, 4.0}));
  EXPECT_EQ(model.linear.bias, (std::vector<double>{0.5, -0.5}));
  // g0 = 0.5 + 0.5 + 1 + 3 = 5; g1 = 0.5 - 0.5 + 2 + 4 = 6.
  EXPECT_EQ(predict_row(model, {1.0, 1.0}, true), (std::vector<double>{5.0, 6.0}));
}

TEST(XgboostJsonLoader, GblinearWeightCountMustMatch) {
  XgbDoc doc;
  doc.booster = "gblinear";
  doc.objective = "reg:squarederror";
  doc.linear_weights = "[2E0,-1E0]";
  EXPECT_TRUE(Contains(json_refusal(doc), "(num_feature + 1) * groups"));
}

// ---------------------------------------------------------------------------------------------
// Malformed documents: each is refused, naming the file and what was expected.

TEST(XgboostJsonLoader, UnsupportedObjectiveIsNamed) {
  XgbDoc doc;
  doc.objective = "survival:cox";
  const std::string message = json_refusal(doc);
  EXPECT_TRUE(Contains(message, "unsupported objective \"survival:cox\""));
  EXPECT_TRUE(Contains(message, "binary:logistic"));  // the list of supported ones
}

TEST(XgboostJsonLoader, UnsupportedBoosterIsNamed) {
  XgbDoc doc;
  doc.booster = "gbfancy";
  const std::string message = json_refusal(doc);
  EXPECT_TRUE(Contains(message, "gbfancy"));
  EXPECT_TRUE(Contains(message, "gbtree, dart or gblinear"));
}

TEST(XgboostJsonLoader, MultiTargetIsRefused) {
  XgbDoc doc;
  doc.num_target = "2";
  EXPECT_TRUE(Contains(json_refusal(doc), "multi-target"));
  XgbDoc vector_leaves;
  vector_leaves.trees = {tree_b()};
  std::string json = vector_leaves.json();
  const std::string from = R"("size_leaf_vector":"0"}})";
  json.replace(json.find(from), from.size(), R"("size_leaf_vector":"2"}})");
  EXPECT_TRUE(Contains(refusal([&] { load_json(json, "bad_model.json"); }), "vector leaves"));
}

TEST(XgboostJsonLoader, OldVersionIsRefused) {
  XgbDoc doc;
  doc.version = "[0,90,0]";
  EXPECT_TRUE(Contains(json_refusal(doc), "1.0"));
}

TEST(XgboostJsonLoader, MulticlassObjectiveNeedsClasses) {
  XgbDoc doc;
  doc.objective = "multi:softprob";
  doc.num_class = "1";
  EXPECT_TRUE(Contains(json_refusal(doc), "num_class >= 2"));
}

TEST(XgboostJsonLoader, ChildIndexOutsideTheTree) {
  XgbDoc doc;
  doc.trees[1].left[0] = 99;
  const std::string message = json_refusal(doc);
  EXPECT_TRUE(Contains(message, "left_children"));
  EXPECT_TRUE(Contains(message, "99"));
  EXPECT_TRUE(Contains(message, "between -1 and 2"));
  doc = XgbDoc();
  doc.trees[0].right[2] = -7;
  EXPECT_TRUE(Contains(json_refusal(doc), "right_children"));
}

TEST(XgboostJsonLoader, LeafWithOneChildIsRefused) {
  XgbDoc doc;
  doc.trees[1].right[1] = 2;  // left is -1
  EXPECT_TRUE(Contains(json_refusal(doc), "leaf has a right child"));
  doc = XgbDoc();
  doc.trees[1].right[0] = -1;  // split node with only a left child
  EXPECT_TRUE(Contains(json_refusal(doc), "split node has no right child"));
}

TEST(XgboostJsonLoader, CyclesAreRefusedBeforeUse) {
  // Child indices in range but pointing back up: caught by Model::validate, which load_model_bytes
  // runs on every loaded model.
  XgbDoc back_to_root;
  back_to_root.trees[0].right[2] = 0;
  std::string message = refusal([&] { load_model_bytes(back_to_root.json(), "cycle.json"); });
  EXPECT_TRUE(Contains(message, "cycle.json: tree 0, node 2"));

  XgbDoc back_to_parent;
  back_to_parent.trees[0].left[2] = 2;  // node 2 is its own child
  message = refusal([&] { load_model_bytes(back_to_parent.json(), "cycle.json"); });
  EXPECT_TRUE(Contains(message, "tree 0, node 2"));
  EXPECT_TRUE(Contains(message, "reached twice"));

  XgbDoc shared;
  shared.trees[1].right[0] = 1;  // both children are node 1
  message = refusal([&] { load_model_bytes(shared.json(), "cycle.json"); });
  EXPECT_TRUE(Contains(message, "tree 1, node 0"));
}

TEST(XgboostJsonLoader, NumNodesMustMatchArrays) {
  XgbDoc doc;
  doc.trees[1].num_nodes = 5;
  const std::string message = json_refusal(doc);
  EXPECT_TRUE(Contains(message, "has 3 entries"));
  EXPECT_TRUE(Contains(message, "5 (num_nodes)"));

  doc = XgbDoc();
  doc.trees[1].default_left = {0, 0};
  EXPECT_TRUE(Contains(json_refusal(doc), "default_left"));
  doc = XgbDoc();
  doc.trees[1].conditions = {"1E0"};
  EXPECT_TRUE(Contains(json_refusal(doc), "split_conditions"));
  doc = XgbDoc();
  doc.trees[1].num_nodes = 0;
  EXPECT_TRUE(Contains(json_refusal(doc), "num_nodes"));
}

TEST(XgboostJsonLoader, FeatureIndexMustBeBelowNumFeature) {
  XgbDoc doc;
  doc.trees[0].split_indices[2] = 2;
  const std::string message = json_refusal(doc);
  EXPECT_TRUE(Contains(message, "split on feature 2"));
  EXPECT_TRUE(Contains(message, "num_feature = 2"));
  EXPECT_TRUE(Contains(message, "split_indices"));
}

TEST(XgboostJsonLoader, TreeCountsMustAgree) {
  XgbDoc doc;
  doc.tree_info = "[0]";
  EXPECT_TRUE(Contains(json_refusal(doc), "tree_info"));
  doc = XgbDoc();
  doc.num_trees = "3";
  EXPECT_TRUE(Contains(json_refusal(doc), "declares 3 trees but 2 are present"));
  doc = XgbDoc();
  doc.tree_info = "[0,1]";  // group 1 with one output
  EXPECT_TRUE(Contains(json_refusal(doc), "tree_info"));
}

TEST(XgboostJsonLoader, FeatureNamesMustMatchAndBeUnique) {
  XgbDoc doc;
  doc.feature_names = R"(["a","b","c"])";
  doc.feature_types = R"(["float","float","float"])";
  EXPECT_TRUE(Contains(json_refusal(doc), "3 names"));
  doc.feature_names = R"(["a","a"])";
  doc.feature_types = R"(["float","float"])";
  EXPECT_TRUE(Contains(json_refusal(doc), "duplicate feature name \"a\""));
}

TEST(XgboostJsonLoader, MissingAndMistypedFieldsNameTheirPath) {
  std::string message = refusal([] { load_json(R"({"version":[1,7,4]})", "bad_model.json"); });
  EXPECT_TRUE(Contains(message, "bad_model.json"));
  EXPECT_TRUE(Contains(message, "missing \"learner\""));

  XgbDoc doc;
  doc.num_feature = "two";
  message = json_refusal(doc);
  EXPECT_TRUE(Contains(message, "/learner/learner_model_param/num_feature"));
  EXPECT_TRUE(Contains(message, "an integer"));

  doc = XgbDoc();
  doc.trees[0].conditions[1] = R"("x")";
  EXPECT_TRUE(Contains(json_refusal(doc), "a number"));
}

TEST(XgboostJsonLoader, InvalidJsonIsRefused) {
  for (const std::string& text : {std::string("{"), std::string(R"({"learner": [1, 2)"), std::string(R"({"learner":})"),
                                 std::string(R"({"learner":{}} trailing)"), std::string("{\"a\":\"\xff\"}")}) {
    SCOPED_TRACE(text);
    const std::string message = refusal([&] { load_json(text, "bad_model.json"); });
    EXPECT_TRUE(Contains(message, "bad_model.json"));
  }
  EXPECT_TRUE(Contains(refusal([] { load_json("{", "bad_model.json"); }), "not valid JSON"));
}

TEST(XgboostJsonLoader, DeepJsonNestingIsRefusedQuickly) {
  const std::string text = R"({"learner":)" + std::string(100000, '[');
  const auto start = std::chrono::steady_clock::now();
  const std::string message = refusal([&] { load_json(text, "deep.json"); });
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
  EXPECT_TRUE(Contains(message, "deep.json"));
  EXPECT_TRUE(Contains(message, "nests deeper"));
}

TEST(XgboostJsonLoader, Recognizes) {
  const XgboostJsonLoader loader;
  EXPECT_EQ(loader.format_name(), "xgboost-json");
  EXPECT_TRUE(loader.recognizes(XgbDoc().json()));
  EXPECT_TRUE(loader.recognizes(" \n\t{ \"learner\""));
  EXPECT_TRUE(loader.recognizes("{}"));
  EXPECT_FALSE(loader.recognizes(""));
  EXPECT_FALSE(loader.recognizes("{"));
  EXPECT_FALSE(loader.recognizes("[1]"));
  EXPECT_FALSE(loader.recognizes("tree\nversion=v4\n"));
  EXPECT_FALSE(loader.recognizes(UbjsonWriter::convert(XgbDoc().json())));
}

// ---------------------------------------------------------------------------------------------
// UBJSON: the same documents in binary form.

TEST(XgboostUbjsonLoader, TinyModelMatchesJson) {
  const XgbDoc doc;
  const std::string ubj = UbjsonWriter::convert(doc.json());
  const XgboostUbjsonLoader loader;
  EXPECT_EQ(loader.format_name(), "xgboost-ubjson");
  ASSERT_TRUE(loader.recognizes(ubj));
  EXPECT_FALSE(loader.recognizes(doc.json()));
  const Model from_ubj = load_ubj(ubj);
  const Model from_json = load_json(doc.json());
  EXPECT_EQ(from_ubj.source_format, "xgboost-ubjson");
  ASSERT_EQ(from_ubj.trees.size(), 2u);
  for (std::size_t t = 0; t < 2; ++t) {
    EXPECT_EQ(from_ubj.trees[t].leaf_values, from_json.trees[t].leaf_values);
    ASSERT_EQ(from_ubj.trees[t].nodes.size(), from_json.trees[t].nodes.size());
    for (std::size_t i = 0; i < from_ubj.trees[t].nodes.size(); ++i) {
      const TreeNode& u = from_ubj.trees[t].nodes[i];
      const TreeNode& j = from_json.trees[t].nodes[i];
      EXPECT_EQ(u.kind, j.kind);
      EXPECT_EQ(u.left, j.left);
      EXPECT_EQ(u.right, j.right);
      EXPECT_EQ(u.feature, j.feature);
      EXPECT_EQ(u.threshold, j.threshold);
      EXPECT_EQ(u.default_left, j.default_left);
    }
  }
  EXPECT_EQ(from_ubj.features[1].name, "income");
  EXPECT_DOUBLE_EQ(predict_row(from_ubj, {kNaN, 20.0}, true)[0], 0.75);
}

TEST(XgboostUbjsonLoader, GblinearAndCategoricalInUbjson) {
  XgbDoc linear;
  linear.booster = "gblinear";
  linear.objective = "reg:squarederror";
  linear.linear_weights = "[2E0,-1E0,5E-1]";
  const Model model = load_ubj(UbjsonWriter::convert(linear.json()));
  EXPECT_EQ(model.linear.weights, (std::vector<double>{2.0, -1.0}));
  EXPECT_EQ(model.linear.bias, std::vector<double>{0.5});

  XgbDoc categorical;
  categorical.trees = {categorical_stump()};
  const Model cat = load_ubj(UbjsonWriter::convert(categorical.json()));
  EXPECT_EQ(cat.trees[0].categories, (std::vector<std::uint32_t>{1, 3, 5}));
}

TEST(XgboostUbjsonLoader, StructuralErrorsAreReportedLikeJson) {
  XgbDoc doc;
  doc.objective = "survival:cox";
  std::string message = refusal([&] { load_ubj(UbjsonWriter::convert(doc.json()), "bad_model.ubj"); });
  EXPECT_TRUE(Contains(message, "bad_model.ubj"));
  EXPECT_TRUE(Contains(message, "survival:cox"));
  doc = XgbDoc();
  doc.trees[0].left[0] = 99;
  message = refusal([&] { load_ubj(UbjsonWriter::convert(doc.json()), "bad_model.ubj"); });
  EXPECT_TRUE(Contains(message, "left_children"));
}

// The start of a UBJSON document: {"learner": <value follows>
std::string ubjson_prefix() { return "{" + UbjsonWriter::length(7) + "learner"; }

template <typename F>
std::string refusal_within_a_second(F&& load) {
  const auto start = std::chrono::steady_clock::now();
  std::string message = refusal(std::forward<F>(load));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
  return message;
}

TEST(XgboostUbjsonLoader, DeepNestingIsRefusedQuickly) {
  const std::string bytes = ubjson_prefix() + std::string(100000, '[');
  ASSERT_TRUE(XgboostUbjsonLoader().recognizes(bytes));
  const std::string message = refusal_within_a_second([&] { load_ubj(bytes, "deep.ubj"); });
  EXPECT_TRUE(Contains(message, "deep.ubj"));
  EXPECT_TRUE(Contains(message, "nests deeper than 64 levels"));
}

TEST(XgboostUbjsonLoader, HugeCountOfZeroByteElementsIsRefusedQuickly) {
  // [$Z#L 2^40: an optimized array of 2^40 nulls, which take no bytes at all.
  std::string bytes = ubjson_prefix() + "[$Z#L";
  UbjsonWriter::be64(bytes, std::uint64_t{1} << 40);
  bytes += "}";
  const std::string message = refusal_within_a_second([&] { load_ubj(bytes, "huge.ubj"); });
  EXPECT_TRUE(Contains(message, "huge.ubj"));
  EXPECT_TRUE(Contains(message, "more values than the file has bytes"));
}

TEST(XgboostUbjsonLoader, HugeCountsOfOtherContainersAreRefusedQuickly) {
  std::vector<std::string> inputs;
  std::string no_op = ubjson_prefix() + "[$N#L";  // 2^40 no-ops
  UbjsonWriter::be64(no_op, std::uint64_t{1} << 40);
  inputs.push_back(no_op + "}");
  std::string untyped = ubjson_prefix() + "[#L";  // 2^40 elements, none present
  UbjsonWriter::be64(untyped, std::uint64_t{1} << 40);
  inputs.push_back(untyped + "}");
  std::string objects = ubjson_prefix() + "{$Z#L";  // 2^40 null members
  UbjsonWriter::be64(objects, std::uint64_t{1} << 40);
  inputs.push_back(objects + "}");
  std::string max_count = ubjson_prefix() + "[$Z#L";
  UbjsonWriter::be64(max_count, std::uint64_t{0x7FFFFFFFFFFFFFFF});
  inputs.push_back(max_count + "}");
  std::string negative = ubjson_prefix() + "[$Z#L";
  UbjsonWriter::be64(negative, std::uint64_t{0xFFFFFFFFFFFFFFFF});
  inputs.push_back(negative + "}");
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    SCOPED_TRACE("input " + std::to_string(i));
    EXPECT_TRUE(Contains(refusal_within_a_second([&] { load_ubj(inputs[i], "huge.ubj"); }), "huge.ubj"));
  }
}

TEST(XgboostUbjsonLoader, StringLongerThanTheFileIsRefused) {
  std::string bytes = ubjson_prefix() + "SL";
  UbjsonWriter::be64(bytes, std::uint64_t{1} << 40);
  bytes += "abc}";
  const std::string message = refusal_within_a_second([&] { load_ubj(bytes, "long.ubj"); });
  EXPECT_TRUE(Contains(message, "long.ubj"));
  EXPECT_TRUE(Contains(message, "not valid UBJSON"));
  // The same for a key.
  std::string key = "{L";
  UbjsonWriter::be64(key, std::uint64_t{1} << 40);
  key += "learner";
  EXPECT_TRUE(Contains(refusal_within_a_second([&] { load_ubj(key, "long.ubj"); }), "long.ubj"));
}

TEST(XgboostUbjsonLoader, InvalidBytesAreRefused) {
  for (const std::string& bytes : {std::string("{L"), std::string("{i"), ubjson_prefix(), ubjson_prefix() + "\x01",
                                  ubjson_prefix() + "[$d#i\x02" + "ab", std::string("{#i\x01") + "}"}) {
    EXPECT_TRUE(Contains(refusal_within_a_second([&] { load_ubj(bytes, "bad.ubj"); }), "bad.ubj"));
  }
}

// ---------------------------------------------------------------------------------------------
// A real model: the JSON and UBJSON files hold the same model.

TEST(XgboostFixtures, JsonAndUbjsonGiveTheSameModel) {
  if (!testing::fixtures_dir()) GTEST_SKIP() << "fixtures not found (set ORCHARD_FIXTURES)";
  const Model json = load_json(read_fixture_model("xgboost/binary_breast_cancer.json"), "binary_breast_cancer.json");
  const Model ubj = load_ubj(read_fixture_model("xgboost/binary_breast_cancer.ubj"), "binary_breast_cancer.ubj");
  EXPECT_EQ(json.num_features(), 30);
  EXPECT_EQ(json.features[0].name, "mean_radius");
  EXPECT_EQ(json.objective, "binary:logistic");
  ASSERT_EQ(json.trees.size(), 50u);
  ASSERT_EQ(ubj.trees.size(), 50u);
  EXPECT_EQ(json.base_margin, ubj.base_margin);
  for (std::size_t t = 0; t < json.trees.size(); ++t) {
    EXPECT_EQ(json.trees[t].leaf_values, ubj.trees[t].leaf_values) << "tree " << t;
    ASSERT_EQ(json.trees[t].nodes.size(), ubj.trees[t].nodes.size());
    EXPECT_LE(json.trees[t].depth(), 4);
    for (std::size_t i = 0; i < json.trees[t].nodes.size(); ++i) {
      EXPECT_EQ(json.trees[t].nodes[i].threshold, ubj.trees[t].nodes[i].threshold) << "tree " << t << " node " << i;
      EXPECT_EQ(json.trees[t].nodes[i].feature, ubj.trees[t].nodes[i].feature);
    }
  }
}

TEST(XgboostFixtures, GblinearFixture) {
  if (!testing::fixtures_dir()) GTEST_SKIP() << "fixtures not found (set ORCHARD_FIXTURES)";
  const Model model = load_json(read_fixture_model("xgboost/gblinear_diabetes.json"), "gblinear_diabetes.json");
  EXPECT_TRUE(model.has_linear);
  EXPECT_EQ(model.linear.weights.size(), 10u);
  EXPECT_EQ(model.linear.weights[0], static_cast<double>(-5.051503E1f));
  EXPECT_EQ(model.linear.bias, std::vector<double>{static_cast<double>(1.5314896E2f)});
}

}  // namespace
}  // namespace orchard
