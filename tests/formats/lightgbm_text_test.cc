// LightgbmTextLoader (src/formats/lightgbm_text.h).
//
// Most tests build a tiny model.txt in memory (so they always run) and pin down the IR: node
// layout (LightGBM's negative leaf indices), decision_type bits (categorical, default-left, missing
// type None/Zero/NaN), categorical bitsets, objectives and their transforms, multiclass groups,
// average_output (rf) and linear trees; and predictions of that IR on hand-computed rows, including
// missing values. The rest feed it malformed files, which must be refused with Error(kInvalidModel)
// naming the file (and line) and what was expected.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "common/error.h"
#include "engine/model.h"
#include "engine/predictor.h"
#include "formats/lightgbm_text.h"
#include "formats/model_loader.h"
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
// Building tiny LightGBM model files. A tree is a list of "key=value" lines; tests override single
// keys by name.

using Fields = std::vector<std::pair<std::string, std::string>>;

void set_field(Fields& fields, const std::string& key, const std::string& value) {
  for (auto& [k, v] : fields) {
    if (k == key) {
      v = value;
      return;
    }
  }
  fields.emplace_back(key, value);
}

void erase_field(Fields& fields, const std::string& key) {
  std::erase_if(fields, [&](const auto& field) { return field.first == key; });
}

// Tree 0, three splits exercising the three missing types:
//   node 0: a <= -0.5, decision_type 6 = default-left | Zero  -> left: leaf 0 (0.1), right: node 1
//   node 1: b <= 2.5,  decision_type 8 = NaN (default right)  -> left: node 2,        right: leaf 1 (0.2)
//   node 2: d <= 1.0,  decision_type 0 = None (default right) -> left: leaf 2 (0.3),  right: leaf 3 (0.4)
// In the IR, leaf j is node 3 + j.
Fields tree0() {
  return {{"num_leaves", "4"},
          {"num_cat", "0"},
          {"split_feature", "0 1 3"},
          {"split_gain", "3 2 1"},
          {"threshold", "-0.5 2.5 1"},
          {"decision_type", "6 8 0"},
          {"left_child", "-1 2 -3"},
          {"right_child", "1 -2 -4"},
          {"leaf_value", "0.10000000000000001 0.20000000000000001 0.29999999999999999 0.40000000000000002"},
          {"leaf_weight", "1 1 1 1"},
          {"leaf_count", "1 1 1 1"},
          {"internal_value", "0 0 0"},
          {"internal_weight", "0 0 0"},
          {"internal_count", "4 3 2"},
          {"is_linear", "0"},
          {"shrinkage", "1"}};
}

// Tree 1: a categorical split on c; categories {1, 5, 32} (bitset words 34 = bits 1 and 5, then 1 =
// bit 0 of the second word) go left to 1.0, the rest right to -1.0.
Fields tree1() {
  return {{"num_leaves", "2"},     {"num_cat", "1"},        {"split_feature", "2"}, {"split_gain", "1"},
          {"threshold", "0"},      {"decision_type", "1"},  {"left_child", "-1"},   {"right_child", "-2"},
          {"leaf_value", "1 -1"},  {"leaf_weight", "1 1"},  {"leaf_count", "1 1"},  {"internal_value", "0"},
          {"internal_weight", "0"}, {"internal_count", "2"}, {"cat_boundaries", "0 2"}, {"cat_threshold", "34 1"},
          {"is_linear", "0"},      {"shrinkage", "1"}};
}

// Tree 2: d <= 5, decision_type 10 = default-left | NaN -> 0.5 : -0.5.
Fields tree2() {
  return {{"num_leaves", "2"},       {"num_cat", "0"},        {"split_feature", "3"}, {"split_gain", "1"},
          {"threshold", "5"},        {"decision_type", "10"}, {"left_child", "-1"},   {"right_child", "-2"},
          {"leaf_value", "0.5 -0.5"}, {"leaf_weight", "1 1"},  {"leaf_count", "1 1"},  {"internal_value", "0"},
          {"internal_weight", "0"},  {"internal_count", "2"}, {"is_linear", "0"},     {"shrinkage", "1"}};
}

// A single-leaf tree.
Fields constant_tree(const std::string& value) {
  return {{"num_leaves", "1"}, {"num_cat", "0"}, {"leaf_value", value}, {"is_linear", "0"}, {"shrinkage", "1"}};
}

struct LgbModel {
  Fields header{{"version", "v4"},
                {"num_class", "1"},
                {"num_tree_per_iteration", "1"},
                {"label_index", "0"},
                {"max_feature_idx", "3"},
                {"objective", "binary sigmoid:2"},
                {"feature_names", "a b c d"},
                {"feature_infos", "[-10:10] [-10:10] 1:5:32 [-10:10]"},
                {"tree_sizes", "1 1 1"}};
  std::vector<std::string> flags;  // header lines without '=' (average_output)
  std::vector<Fields> trees{tree0(), tree1(), tree2()};
  bool end_of_trees = true;
  std::string newline = "\n";

  std::string text() const {
    const std::string& nl = newline;
    std::ostringstream out;
    out << "tree" << nl;
    for (const auto& [k, v] : header) {
      out << k << "=" << v << nl;
      if (k == "objective") for (const auto& flag : flags) out << flag << nl;
    }
    out << nl;
    for (std::size_t t = 0; t < trees.size(); ++t) {
      out << "Tree=" << t << nl;
      for (const auto& [k, v] : trees[t]) out << k << "=" << v << nl;
      out << nl << nl;
    }
    if (end_of_trees) {
      out << "end of trees" << nl << nl << "feature_importances:" << nl << "a=1" << nl << nl << "parameters:" << nl
          << "[boosting: gbdt]" << nl << "end of parameters" << nl << nl << "pandas_categorical:null" << nl;
    }
    return out.str();
  }
};

Model load(const std::string& text, const std::string& where = "tiny.txt") { return LightgbmTextLoader().load(text, where); }

// Loads through the LightGBM loader directly; the message must name the file.
std::string text_refusal(const LgbModel& model) {
  const std::string message = refusal([&] { load(model.text(), "bad_model.txt"); });
  EXPECT_TRUE(Contains(message, "bad_model.txt:"));
  return message;
}

std::vector<std::uint32_t> categories_of(const Tree& tree, const TreeNode& node) {
  return {tree.categories.begin() + node.category_begin, tree.categories.begin() + node.category_begin + node.category_count};
}


// ---------------------------------------------------------------------------------------------
// The IR of the tiny model.

TEST(LightgbmTextLoader, TinyModelHeaderAndSchema) {
  const Model model = load(LgbModel().text());
  EXPECT_EQ(model.source_format, "lightgbm-text");
  EXPECT_EQ(model.objective, "binary sigmoid:2");
  ASSERT_EQ(model.num_features(), 4);
  EXPECT_TRUE(model.has_feature_names);
  EXPECT_EQ(model.features[0].name, "a");
  EXPECT_EQ(model.features[3].name, "d");
  // A feature_infos entry listing categories marks a categorical feature.
  EXPECT_EQ(model.features[0].type, FeatureType::kNumeric);
  EXPECT_EQ(model.features[2].type, FeatureType::kCategorical);
  // LightGBM compares x <= threshold in double and sums in double.
  EXPECT_EQ(model.comparison, Comparison::kLessOrEqual);
  EXPECT_EQ(model.input_precision, Precision::kFloat64);
  EXPECT_EQ(model.accumulation, Precision::kFloat64);
  EXPECT_EQ(model.num_outputs, 1);
  EXPECT_EQ(model.base_margin, std::vector<double>{0.0});
  EXPECT_EQ(model.transform.kind, TransformKind::kSigmoid);
  EXPECT_EQ(model.transform.scale, 2.0);
  EXPECT_EQ(model.transform.precision, Precision::kFloat64);
  EXPECT_EQ(model.average_divisor, 1.0);
  EXPECT_EQ(model.output_names, std::vector<std::string>{"prediction"});
  EXPECT_EQ(model.trees.size(), 3u);
  EXPECT_NO_THROW(model.validate("tiny.txt"));
}

TEST(LightgbmTextLoader, WithoutFeatureNamesFeaturesAreNumbered) {
  LgbModel m;
  erase_field(m.header, "feature_names");
  const Model model = load(m.text());
  EXPECT_FALSE(model.has_feature_names);
  EXPECT_EQ(model.features[0].name, "Column_0");
  EXPECT_EQ(model.features[3].name, "Column_3");
}

TEST(LightgbmTextLoader, NodeLayout) {
  const Model model = load(LgbModel().text());
  const Tree& tree = model.trees[0];
  ASSERT_EQ(tree.nodes.size(), 7u);  // 3 splits, then 4 leaves
  EXPECT_EQ(tree.group, 0);
  EXPECT_EQ(tree.depth(), 3);
  EXPECT_EQ(tree.nodes[0].left, 3);   // leaf 0
  EXPECT_EQ(tree.nodes[0].right, 1);
  EXPECT_EQ(tree.nodes[1].left, 2);
  EXPECT_EQ(tree.nodes[1].right, 4);  // leaf 1
  EXPECT_EQ(tree.nodes[2].left, 5);   // leaf 2
  EXPECT_EQ(tree.nodes[2].right, 6);  // leaf 3
  EXPECT_EQ(tree.nodes[0].feature, 0);
  EXPECT_EQ(tree.nodes[1].feature, 1);
  EXPECT_EQ(tree.nodes[2].feature, 3);
  EXPECT_EQ(tree.nodes[0].threshold, -0.5);
  EXPECT_EQ(tree.nodes[1].threshold, 2.5);
  EXPECT_EQ(tree.nodes[2].threshold, 1.0);
  for (std::size_t j = 0; j < 4; ++j) {
    const TreeNode& leaf = tree.nodes[3 + j];
    EXPECT_EQ(leaf.kind, NodeKind::kLeaf);
    EXPECT_EQ(leaf.leaf_index, j);
    EXPECT_EQ(leaf.linear_leaf, -1);
  }
  EXPECT_EQ(tree.leaf_values, (std::vector<double>{0.1, 0.2, 0.3, 0.4}));
}

TEST(LightgbmTextLoader, ThresholdsAreParsedAsDoubles) {
  LgbModel m;
  set_field(m.trees[2], "threshold", "0.10000000000000001");
  EXPECT_EQ(load(m.text()).trees[2].nodes[0].threshold, 0.1);
  set_field(m.trees[2], "threshold", "1.0000000180025095e-35");
  EXPECT_EQ(load(m.text()).trees[2].nodes[0].threshold, kZeroThreshold);
}

TEST(LightgbmTextLoader, DecisionTypeBits) {
  const Model model = load(LgbModel().text());
  const TreeNode& zero = model.trees[0].nodes[0];  // 6: default-left, Zero
  EXPECT_EQ(zero.kind, NodeKind::kNumerical);
  EXPECT_TRUE(zero.default_left);
  EXPECT_EQ(zero.missing, MissingRule::kZeroGoesDefault);
  const TreeNode& nan = model.trees[0].nodes[1];  // 8: NaN, default right
  EXPECT_FALSE(nan.default_left);
  EXPECT_EQ(nan.missing, MissingRule::kNanGoesDefault);
  const TreeNode& none = model.trees[0].nodes[2];  // 0: None
  EXPECT_FALSE(none.default_left);
  EXPECT_EQ(none.missing, MissingRule::kNanAsZero);
  const TreeNode& nan_left = model.trees[2].nodes[0];  // 10: default-left, NaN
  EXPECT_TRUE(nan_left.default_left);
  EXPECT_EQ(nan_left.missing, MissingRule::kNanGoesDefault);

  // Every combination of the low four bits of a numerical split.
  for (int type : {0, 2, 4, 6, 8, 10}) {
    SCOPED_TRACE("decision_type " + std::to_string(type));
    LgbModel m;
    set_field(m.trees[2], "decision_type", std::to_string(type));
    const Model model_with_type = load(m.text());
    const TreeNode& node = model_with_type.trees[2].nodes[0];
    EXPECT_EQ(node.kind, NodeKind::kNumerical);
    EXPECT_EQ(node.default_left, (type & 2) != 0);
    const MissingRule expected = (type >> 2) == 0 ? MissingRule::kNanAsZero
                                 : (type >> 2) == 1 ? MissingRule::kZeroGoesDefault
                                                    : MissingRule::kNanGoesDefault;
    EXPECT_EQ(node.missing, expected);
  }
}

TEST(LightgbmTextLoader, MissingTypeThreeIsRefused) {
  LgbModel m;
  set_field(m.trees[2], "decision_type", "12");
  const std::string message = text_refusal(m);
  EXPECT_TRUE(Contains(message, "missing type 3"));
  EXPECT_TRUE(Contains(message, "0 (None), 1 (Zero) or 2 (NaN)"));
}

TEST(LightgbmTextLoader, CategoricalBitsetIsDecoded) {
  const Model model = load(LgbModel().text());
  const Tree& tree = model.trees[1];
  const TreeNode& node = tree.nodes[0];
  EXPECT_EQ(node.kind, NodeKind::kCategorical);
  EXPECT_EQ(node.feature, 2);
  EXPECT_TRUE(node.categories_go_left);
  EXPECT_FALSE(node.default_left);
  EXPECT_EQ(categories_of(tree, node), (std::vector<std::uint32_t>{1, 5, 32}));
}

TEST(LightgbmTextLoader, SeveralCategorySetsInOneTree) {
  // Node 0 uses set 1 (words 1..2), node 1 uses set 0 (word 0); leaves: -1, -2, -3.
  LgbModel m;
  m.trees[1] = {{"num_leaves", "3"},       {"num_cat", "2"},          {"split_feature", "2 2"},
                {"threshold", "1 0"},      {"decision_type", "1 3"},  {"left_child", "-1 -2"},
                {"right_child", "1 -3"},   {"leaf_value", "1 2 3"},   {"cat_boundaries", "0 1 3"},
                {"cat_threshold", "4 0 2147483648"}, {"shrinkage", "1"}};
  const Model model = load(m.text());
  const Tree& tree = model.trees[1];
  EXPECT_EQ(categories_of(tree, tree.nodes[0]), std::vector<std::uint32_t>{63});  // bit 31 of word 1
  EXPECT_EQ(categories_of(tree, tree.nodes[1]), std::vector<std::uint32_t>{2});   // bit 2 of word 0
  // decision_type 3 (categorical with the default-left bit): LightGBM ignores default-left there.
  EXPECT_FALSE(tree.nodes[1].default_left);
  EXPECT_EQ(tree.nodes[0].left, 2);
  EXPECT_EQ(tree.nodes[0].right, 1);
}

TEST(LightgbmTextLoader, CategoricalErrors) {
  LgbModel m;
  set_field(m.trees[1], "threshold", "1");  // set 1 of 1
  std::string message = text_refusal(m);
  EXPECT_TRUE(Contains(message, "category set"));
  EXPECT_TRUE(Contains(message, "num_cat = 1"));

  m = LgbModel();
  set_field(m.trees[1], "threshold", "0.5");
  EXPECT_TRUE(Contains(text_refusal(m), "category set"));

  m = LgbModel();
  set_field(m.trees[1], "cat_boundaries", "0 3");  // past the two words
  EXPECT_TRUE(Contains(text_refusal(m), "cat_boundaries"));

  m = LgbModel();
  set_field(m.trees[1], "cat_boundaries", "0");  // num_cat + 1 values needed
  EXPECT_TRUE(Contains(text_refusal(m), "cat_boundaries has 1 values"));

  m = LgbModel();
  set_field(m.trees[1], "num_cat", "0");  // a categorical split but no sets
  EXPECT_TRUE(Contains(text_refusal(m), "num_cat = 0"));
}

// ---------------------------------------------------------------------------------------------
// Predictions of the tiny model, hand-computed: raw = tree0 + tree1 + tree2, prediction =
// sigmoid(2 * raw).

TEST(LightgbmTextLoader, TinyModelPredictions) {
  const Model model = load(LgbModel().text());
  struct Case {
    const char* what;
    double a, b, c, d, raw;
  };
  const std::vector<Case> cases{
      // a = 0 is "zero": default left (0 <= -0.5 would go right).
      {"zero goes default", 0.0, 0.0, 5.0, kNaN, 0.1 + 1.0 + 0.5},
      {"tiny is zero", 1e-36, 0.0, 5.0, 6.0, 0.1 + 1.0 - 0.5},
      {"NaN is zero", kNaN, 0.0, 5.0, 6.0, 0.1 + 1.0 - 0.5},
      {"small non-zero compares", 1e-30, 2.5, 32.0, 1.0, 0.3 + 1.0 + 0.5},
      {"a == threshold goes left", -0.5, 0.0, -1.0, 5.0, 0.1 - 1.0 + 0.5},
      // Node 1 (NaN, default right); node 2 (None: NaN read as 0, 0 <= 1 goes left).
      {"NaN default right", 1.0, kNaN, kNaN, 7.0, 0.2 - 1.0 - 0.5},
      {"NaN as zero", 1.0, 0.5, 2.0, kNaN, 0.3 - 1.0 + 0.5},
      {"above threshold", 1.0, 2.5000001, 1.0, 5.0000001, 0.2 + 1.0 - 0.5},
      {"right at node 2", 1.0, 2.0, 5.7, 1.5, 0.4 + 1.0 + 0.5},  // 5.7 is category 5
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    const auto raw = predict_row(model, {c.a, c.b, c.c, c.d}, true);
    ASSERT_EQ(raw.size(), 1u);
    EXPECT_NEAR(raw[0], c.raw, 1e-12);
    const auto p = predict_row(model, {c.a, c.b, c.c, c.d}, false);
    EXPECT_NEAR(p[0], 1.0 / (1.0 + std::exp(-2.0 * c.raw)), 1e-12);
  }
}

TEST(LightgbmTextLoader, CategoricalPredictions) {
  const Model model = load(LgbModel().text());
  // Tree 0 gives 0.1 for a = -1 and tree 2 gives 0.5 for d = 0; tree 1 decides the rest.
  auto tree1 = [&](double c) { return predict_row(model, {-1.0, 0.0, c, 0.0}, true)[0] - 0.6; };
  EXPECT_NEAR(tree1(1.0), 1.0, 1e-12);
  EXPECT_NEAR(tree1(5.0), 1.0, 1e-12);
  EXPECT_NEAR(tree1(32.0), 1.0, 1e-12);
  EXPECT_NEAR(tree1(0.0), -1.0, 1e-12);
  EXPECT_NEAR(tree1(33.0), -1.0, 1e-12);
  EXPECT_NEAR(tree1(64.0), -1.0, 1e-12);     // beyond the bitset
  EXPECT_NEAR(tree1(-1.0), -1.0, 1e-12);     // negative: right
  EXPECT_NEAR(tree1(kNaN), -1.0, 1e-12);     // missing: right
  EXPECT_NEAR(tree1(1e12), -1.0, 1e-12);     // huge: right
}

// ---------------------------------------------------------------------------------------------
// Objectives, multiclass, average_output, linear trees.

TEST(LightgbmTextLoader, ObjectiveToTransform) {
  struct Case {
    const char* objective;
    TransformKind transform;
    double scale;
  };
  const std::vector<Case> cases{
      {"binary sigmoid:1", TransformKind::kSigmoid, 1.0},
      {"binary sigmoid:0.5", TransformKind::kSigmoid, 0.5},
      {"binary", TransformKind::kSigmoid, 1.0},
      {"regression", TransformKind::kIdentity, 1.0},
      {"regression_l1", TransformKind::kIdentity, 1.0},
      {"huber alpha:0.9", TransformKind::kIdentity, 1.0},
      {"quantile alpha:0.5", TransformKind::kIdentity, 1.0},
      {"regression sqrt", TransformKind::kSquareSigned, 1.0},
      {"poisson", TransformKind::kExp, 1.0},
      {"gamma", TransformKind::kExp, 1.0},
      {"tweedie tweedie_variance_power:1.5", TransformKind::kExp, 1.0},
      {"lambdarank", TransformKind::kIdentity, 1.0},
      {"rank_xendcg", TransformKind::kIdentity, 1.0},
      {"cross_entropy", TransformKind::kSigmoid, 1.0},
      {"cross_entropy_lambda", TransformKind::kLog1pExp, 1.0},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.objective);
    LgbModel m;
    set_field(m.header, "objective", c.objective);
    const Model model = load(m.text());
    EXPECT_EQ(model.objective, c.objective);
    EXPECT_EQ(model.transform.kind, c.transform);
    EXPECT_EQ(model.transform.scale, c.scale);
    EXPECT_EQ(model.base_margin, std::vector<double>{0.0});
  }
}

TEST(LightgbmTextLoader, PoissonPredictsExp) {
  LgbModel m;
  set_field(m.header, "objective", "poisson");
  const Model model = load(m.text());
  const double raw = 0.1 + 1.0 + 0.5;
  EXPECT_NEAR(predict_row(model, {0.0, 0.0, 5.0, kNaN}, false)[0], std::exp(raw), 1e-12);
}

TEST(LightgbmTextLoader, UnsupportedObjectiveIsNamed) {
  LgbModel m;
  set_field(m.header, "objective", "some_objective param:1");
  const std::string message = text_refusal(m);
  EXPECT_TRUE(Contains(message, "unsupported objective \"some_objective\""));
  EXPECT_TRUE(Contains(message, "binary, multiclass"));
  EXPECT_TRUE(Contains(message, "bad_model.txt:7"));  // the objective's line
}

TEST(LightgbmTextLoader, BadSigmoidIsRefused) {
  LgbModel m;
  set_field(m.header, "objective", "binary sigmoid:abc");
  EXPECT_TRUE(Contains(text_refusal(m), "sigmoid:abc"));
  set_field(m.header, "objective", "binary sigmoid:-1");
  EXPECT_TRUE(Contains(text_refusal(m), "sigmoid"));
  set_field(m.header, "objective", "");
  EXPECT_TRUE(Contains(text_refusal(m), "objective is empty"));
}

LgbModel multiclass_model() {
  LgbModel m;
  set_field(m.header, "num_class", "3");
  set_field(m.header, "num_tree_per_iteration", "3");
  set_field(m.header, "objective", "multiclass num_class:3");
  m.trees = {constant_tree("0.5"), constant_tree("1"), tree2(), constant_tree("0.25"), constant_tree("-1"), constant_tree("2")};
  return m;
}

TEST(LightgbmTextLoader, MulticlassTreesCycleThroughGroups) {
  const Model model = load(multiclass_model().text());
  EXPECT_EQ(model.num_outputs, 3);
  EXPECT_EQ(model.transform.kind, TransformKind::kSoftmax);
  EXPECT_EQ(model.base_margin, (std::vector<double>{0.0, 0.0, 0.0}));
  EXPECT_EQ(model.output_names, (std::vector<std::string>{"class_0", "class_1", "class_2"}));
  ASSERT_EQ(model.trees.size(), 6u);
  for (std::size_t t = 0; t < 6; ++t) EXPECT_EQ(model.trees[t].group, static_cast<std::int32_t>(t % 3)) << "tree " << t;
  // A single-leaf tree is one leaf node.
  EXPECT_EQ(model.trees[0].nodes.size(), 1u);
  EXPECT_EQ(model.trees[0].nodes[0].kind, NodeKind::kLeaf);
  EXPECT_EQ(model.trees[0].depth(), 0);

  const auto raw = predict_row(model, {0.0, 0.0, 0.0, 7.0}, true);  // tree 2: d = 7 > 5 -> -0.5
  EXPECT_EQ(raw, (std::vector<double>{0.75, 0.0, 1.5}));
  const auto p = predict_row(model, {0.0, 0.0, 0.0, 7.0}, false);
  const double sum = std::exp(0.75) + std::exp(0.0) + std::exp(1.5);
  EXPECT_NEAR(p[0], std::exp(0.75) / sum, 1e-12);
  EXPECT_NEAR(p[1], 1.0 / sum, 1e-12);
  EXPECT_NEAR(p[2], std::exp(1.5) / sum, 1e-12);
}

TEST(LightgbmTextLoader, MulticlassShapeErrors) {
  LgbModel m = multiclass_model();
  set_field(m.header, "num_tree_per_iteration", "2");
  EXPECT_TRUE(Contains(text_refusal(m), "one tree per class and iteration"));
  m = multiclass_model();
  m.trees.pop_back();
  const std::string message = text_refusal(m);
  EXPECT_TRUE(Contains(message, "5 trees is not a whole number of iterations"));
  EXPECT_TRUE(Contains(message, "num_tree_per_iteration = 3"));
}

TEST(LightgbmTextLoader, MulticlassOvaUsesSigmoid) {
  LgbModel m = multiclass_model();
  set_field(m.header, "objective", "multiclassova num_class:3 sigmoid:1.5");
  const Model model = load(m.text());
  EXPECT_EQ(model.transform.kind, TransformKind::kSigmoid);
  EXPECT_EQ(model.transform.scale, 1.5);
  EXPECT_EQ(model.num_outputs, 3);
}

TEST(LightgbmTextLoader, AverageOutputDividesPredictionsByIterations) {
  LgbModel m;
  m.flags = {"average_output"};
  set_field(m.header, "objective", "regression");
  m.trees = {tree2(), constant_tree("3"), tree2(), constant_tree("1.5")};
  const Model model = load(m.text());
  EXPECT_EQ(model.average_divisor, 4.0);
  EXPECT_FALSE(model.raw_is_averaged);
  // d = 0: 0.5 + 3 + 0.5 + 1.5 = 5.5; the prediction is the average, raw the plain sum.
  EXPECT_DOUBLE_EQ(predict_row(model, {0.0, 0.0, 0.0, 0.0}, true)[0], 5.5);
  EXPECT_DOUBLE_EQ(predict_row(model, {0.0, 0.0, 0.0, 0.0}, false)[0], 5.5 / 4.0);
}

TEST(LightgbmTextLoader, AverageOutputForMulticlassDividesByIterations) {
  LgbModel m = multiclass_model();
  m.flags = {"average_output"};
  EXPECT_EQ(load(m.text()).average_divisor, 2.0);
}

// Linear tree: a <= 0 (NaN goes right) ? 0.5 + 2a : -1 + 3a - b; plain leaf values 1 and 2 are used
// when an input of the leaf's formula is missing.
Fields linear_tree() {
  return {{"num_leaves", "2"},      {"num_cat", "0"},           {"split_feature", "0"},
          {"threshold", "0"},       {"decision_type", "8"},     {"left_child", "-1"},
          {"right_child", "-2"},    {"leaf_value", "1 2"},      {"is_linear", "1"},
          {"leaf_const", "0.5 -1"}, {"num_features", "1 2"},    {"leaf_features", "0  0 1  "},
          {"leaf_coeff", "2  3 -1  "}, {"shrinkage", "1"}};
}

TEST(LightgbmTextLoader, LinearTreeLeaves) {
  LgbModel m;
  set_field(m.header, "objective", "regression");
  m.trees = {linear_tree()};
  const Model model = load(m.text());
  const Tree& tree = model.trees[0];
  ASSERT_EQ(tree.linear_leaves.size(), 2u);
  EXPECT_EQ(tree.nodes[1].linear_leaf, 0);
  EXPECT_EQ(tree.nodes[2].linear_leaf, 1);
  EXPECT_EQ(tree.linear_leaves[0].constant, 0.5);
  EXPECT_EQ(tree.linear_leaves[0].features, std::vector<std::int32_t>{0});
  EXPECT_EQ(tree.linear_leaves[0].coefficients, std::vector<double>{2.0});
  EXPECT_EQ(tree.linear_leaves[1].constant, -1.0);
  EXPECT_EQ(tree.linear_leaves[1].features, (std::vector<std::int32_t>{0, 1}));
  EXPECT_EQ(tree.linear_leaves[1].coefficients, (std::vector<double>{3.0, -1.0}));

  EXPECT_DOUBLE_EQ(predict_row(model, {-1.0, 7.0, 0.0, 0.0}, true)[0], 0.5 - 2.0);
  EXPECT_DOUBLE_EQ(predict_row(model, {2.0, 1.0, 0.0, 0.0}, true)[0], -1.0 + 6.0 - 1.0);
  EXPECT_DOUBLE_EQ(predict_row(model, {2.0, kNaN, 0.0, 0.0}, true)[0], 2.0);  // b missing: plain leaf
  EXPECT_DOUBLE_EQ(predict_row(model, {kNaN, 1.0, 0.0, 0.0}, true)[0], 2.0);  // a missing: right, plain leaf
}

TEST(LightgbmTextLoader, LinearTreeWithoutFeaturesIsConstant) {
  LgbModel m;
  set_field(m.header, "objective", "regression");
  m.trees = {linear_tree()};
  set_field(m.trees[0], "num_features", "0 0");
  set_field(m.trees[0], "leaf_features", "    ");
  set_field(m.trees[0], "leaf_coeff", "  ");
  const Model model = load(m.text());
  EXPECT_TRUE(model.trees[0].linear_leaves[0].features.empty());
  EXPECT_DOUBLE_EQ(predict_row(model, {-1.0, 0.0, 0.0, 0.0}, true)[0], 0.5);
}

TEST(LightgbmTextLoader, LinearTreeErrors) {
  LgbModel m;
  m.trees = {linear_tree()};
  set_field(m.trees[0], "leaf_features", "0  0 4  ");  // feature 4 of 4
  EXPECT_TRUE(Contains(text_refusal(m), "leaf_features"));
  m.trees = {linear_tree()};
  set_field(m.trees[0], "leaf_coeff", "2  3");  // 2 of 3
  EXPECT_TRUE(Contains(text_refusal(m), "leaf_coeff has 2 values"));
  m.trees = {linear_tree()};
  erase_field(m.trees[0], "leaf_const");
  EXPECT_TRUE(Contains(text_refusal(m), "\"leaf_const\""));
}

TEST(LightgbmTextLoader, WindowsLineEndings) {
  LgbModel m;
  m.newline = "\r\n";
  ASSERT_TRUE(LightgbmTextLoader().recognizes(m.text()));
  const Model model = load(m.text());
  EXPECT_EQ(model.features[3].name, "d");
  EXPECT_EQ(model.objective, "binary sigmoid:2");
  EXPECT_NEAR(predict_row(model, {0.0, 0.0, 5.0, kNaN}, true)[0], 1.6, 1e-12);
}

TEST(LightgbmTextLoader, Recognizes) {
  const LightgbmTextLoader loader;
  EXPECT_EQ(loader.format_name(), "lightgbm-text");
  EXPECT_TRUE(loader.recognizes(LgbModel().text()));
  EXPECT_TRUE(loader.recognizes("tree\n"));
  EXPECT_FALSE(loader.recognizes("tree"));
  EXPECT_FALSE(loader.recognizes("trees\n"));
  EXPECT_FALSE(loader.recognizes("{\"learner\":{}}"));
  EXPECT_FALSE(loader.recognizes(""));
}

// ---------------------------------------------------------------------------------------------
// Malformed files: each is refused, naming the file, the line and what was expected.

TEST(LightgbmTextLoader, ChildIndexOutOfRange) {
  LgbModel m;
  set_field(m.trees[0], "left_child", "-1 5 -3");  // 3 internal nodes
  std::string message = text_refusal(m);
  EXPECT_TRUE(Contains(message, "left_child value 5 is out of range"));
  EXPECT_TRUE(Contains(message, "between -4 and 2"));
  m = LgbModel();
  set_field(m.trees[0], "right_child", "1 -2 -9");  // leaf 8 of 4
  EXPECT_TRUE(Contains(text_refusal(m), "right_child value -9 is out of range"));
  m = LgbModel();
  set_field(m.trees[0], "left_child", "-1 2");  // one value short
  EXPECT_TRUE(Contains(text_refusal(m), "left_child has 2 values"));
}

TEST(LightgbmTextLoader, ErrorsNameTheLine) {
  LgbModel m;
  set_field(m.trees[0], "left_child", "-1 5 -3");
  // Line 1 "tree", 9 header lines, a blank line, then "Tree=0" at 12 and its fields from 13.
  EXPECT_TRUE(Contains(text_refusal(m), "bad_model.txt:19:"));
}

TEST(LightgbmTextLoader, CyclesAreRefusedBeforeUse) {
  // Child indices in range but pointing back up: caught by Model::validate, which load_model_bytes
  // runs on every loaded model.
  LgbModel back_to_root;
  set_field(back_to_root.trees[0], "left_child", "-1 2 0");  // node 2 -> node 0
  std::string message = refusal([&] { load_model_bytes(back_to_root.text(), "cycle.txt"); });
  EXPECT_TRUE(Contains(message, "cycle.txt: tree 0, node 2"));

  LgbModel self_loop;
  set_field(self_loop.trees[0], "right_child", "1 1 -4");  // node 1 -> node 1
  message = refusal([&] { load_model_bytes(self_loop.text(), "cycle.txt"); });
  EXPECT_TRUE(Contains(message, "tree 0, node 1"));
  EXPECT_TRUE(Contains(message, "reached twice"));

  LgbModel shared_leaf;
  set_field(shared_leaf.trees[2], "right_child", "-1");  // both children are leaf 0
  message = refusal([&] { load_model_bytes(shared_leaf.text(), "cycle.txt"); });
  EXPECT_TRUE(Contains(message, "tree 2, node 0"));
}

TEST(LightgbmTextLoader, ArraySizesMustMatchNumLeaves) {
  LgbModel m;
  set_field(m.trees[0], "num_leaves", "5");
  std::string message = text_refusal(m);
  EXPECT_TRUE(Contains(message, "leaf_value has 4 values"));
  EXPECT_TRUE(Contains(message, "expected 5"));
  m = LgbModel();
  set_field(m.trees[0], "threshold", "-0.5 2.5");
  EXPECT_TRUE(Contains(text_refusal(m), "threshold has 2 values"));
  m = LgbModel();
  set_field(m.trees[0], "decision_type", "6 8 0 0");
  EXPECT_TRUE(Contains(text_refusal(m), "decision_type has 4 values"));
  m = LgbModel();
  set_field(m.trees[0], "num_leaves", "0");
  EXPECT_TRUE(Contains(text_refusal(m), "num_leaves value 0 is out of range"));
}

TEST(LightgbmTextLoader, FeatureIndexOutOfRange) {
  LgbModel m;
  set_field(m.trees[0], "split_feature", "0 4 3");  // max_feature_idx = 3
  const std::string message = text_refusal(m);
  EXPECT_TRUE(Contains(message, "split_feature value 4 is out of range"));
  EXPECT_TRUE(Contains(message, "between 0 and 3"));
}

TEST(LightgbmTextLoader, BadNumbersAreRefused) {
  LgbModel m;
  set_field(m.trees[0], "leaf_value", "0.1 0.2 zero 0.4");
  EXPECT_TRUE(Contains(text_refusal(m), "leaf_value value \"zero\" is not a number"));
  m = LgbModel();
  set_field(m.trees[0], "leaf_value", "0.1 0.2 inf 0.4");
  EXPECT_TRUE(Contains(text_refusal(m), "leaf value is not finite"));
  m = LgbModel();
  set_field(m.trees[0], "split_feature", "0 1.5 3");
  EXPECT_TRUE(Contains(text_refusal(m), "is not an integer"));
  m = LgbModel();
  set_field(m.trees[2], "threshold", "nan");
  EXPECT_TRUE(Contains(refusal([&] { load_model_bytes(m.text(), "nan.txt"); }), "threshold is NaN"));
}

TEST(LightgbmTextLoader, HeaderErrors) {
  LgbModel m;
  erase_field(m.header, "num_class");
  EXPECT_TRUE(Contains(text_refusal(m), "header has no \"num_class\" line"));
  m = LgbModel();
  set_field(m.header, "version", "v9");
  EXPECT_TRUE(Contains(text_refusal(m), "unsupported model version \"v9\""));
  m = LgbModel();
  set_field(m.header, "feature_names", "a b c");
  EXPECT_TRUE(Contains(text_refusal(m), "feature_names has 3 names"));
  m = LgbModel();
  set_field(m.header, "feature_names", "a b a d");
  EXPECT_TRUE(Contains(text_refusal(m), "duplicate feature name \"a\""));
  m = LgbModel();
  set_field(m.header, "num_tree_per_iteration", "0");
  EXPECT_TRUE(Contains(text_refusal(m), "num_tree_per_iteration"));
}

TEST(LightgbmTextLoader, TreeListErrors) {
  LgbModel m;
  m.end_of_trees = false;
  EXPECT_TRUE(Contains(text_refusal(m), "before \"end of trees\""));
  m = LgbModel();
  m.trees.clear();
  EXPECT_TRUE(Contains(text_refusal(m), "model has no trees"));
  // Trees numbered out of order.
  std::string text = LgbModel().text();
  text.replace(text.find("Tree=1"), 6, "Tree=7");
  const std::string message = refusal([&] { load(text, "bad_model.txt"); });
  EXPECT_TRUE(Contains(message, "found \"Tree=7\""));
  EXPECT_TRUE(Contains(message, "Tree=1"));
  // Stray lines between trees.
  text = LgbModel().text();
  text.insert(text.find("Tree=1"), "\nstray=1\n\n");
  EXPECT_TRUE(Contains(refusal([&] { load(text, "bad_model.txt"); }), "unexpected lines between trees"));
}

// ---------------------------------------------------------------------------------------------
// The real fixtures: spot checks of the IR.

TEST(LightgbmFixtures, BinaryBreastCancer) {
  if (!testing::fixtures_dir()) GTEST_SKIP() << "fixtures not found (set ORCHARD_FIXTURES)";
  const Model model = load(read_fixture_model("lightgbm/binary_breast_cancer.txt"), "binary_breast_cancer.txt");
  EXPECT_EQ(model.num_features(), 30);
  EXPECT_EQ(model.features[27].name, "worst_concave_points");
  EXPECT_EQ(model.transform.kind, TransformKind::kSigmoid);
  ASSERT_FALSE(model.trees.empty());
  // Tree=0: num_leaves=6, split_feature=27 13 22 22 21, left_child=1 3 -2 4 -1.
  const Tree& tree = model.trees[0];
  ASSERT_EQ(tree.nodes.size(), 11u);
  EXPECT_EQ(tree.nodes[0].feature, 27);
  EXPECT_EQ(tree.nodes[0].threshold, 0.14150000000000004);
  EXPECT_EQ(tree.nodes[2].left, 5 + 1);  // -2: leaf 1
  EXPECT_EQ(tree.nodes[4].left, 5 + 0);  // -1: leaf 0
  EXPECT_TRUE(tree.nodes[0].default_left);  // decision_type 2
  EXPECT_EQ(tree.nodes[0].missing, MissingRule::kNanAsZero);
  EXPECT_EQ(tree.leaf_values[0], 0.67334594743795506);
}

TEST(LightgbmFixtures, ChurnCategoricalHasCategoricalSplits) {
  if (!testing::fixtures_dir()) GTEST_SKIP() << "fixtures not found (set ORCHARD_FIXTURES)";
  const Model model = load(read_fixture_model("lightgbm/churn_categorical.txt"), "churn_categorical.txt");
  std::size_t categorical = 0;
  for (const Tree& tree : model.trees) {
    for (const TreeNode& node : tree.nodes) {
      if (node.kind != NodeKind::kCategorical) continue;
      ++categorical;
      EXPECT_TRUE(node.categories_go_left);
      EXPECT_GT(node.category_count, 0u);
      const auto list = categories_of(tree, node);
      EXPECT_TRUE(std::is_sorted(list.begin(), list.end()));
    }
  }
  EXPECT_GT(categorical, 0u);
}

TEST(LightgbmFixtures, RandomForestAndLinearTree) {
  if (!testing::fixtures_dir()) GTEST_SKIP() << "fixtures not found (set ORCHARD_FIXTURES)";
  const Model rf = load(read_fixture_model("lightgbm/rf_breast_cancer.txt"), "rf_breast_cancer.txt");
  EXPECT_EQ(rf.average_divisor, static_cast<double>(rf.trees.size()));
  EXPECT_GT(rf.average_divisor, 1.0);
  const Model linear = load(read_fixture_model("lightgbm/linear_tree_diabetes.txt"), "linear_tree_diabetes.txt");
  // Tree=1 has 12 leaves with 3 3 3 3 3 4 4 3 4 3 5 5 features.
  ASSERT_GE(linear.trees.size(), 2u);
  ASSERT_EQ(linear.trees[1].linear_leaves.size(), 12u);
  EXPECT_EQ(linear.trees[1].linear_leaves[0].features, (std::vector<std::int32_t>{2, 6, 8}));
  EXPECT_EQ(linear.trees[1].linear_leaves[11].features.size(), 5u);
}

}  // namespace
}  // namespace orchard
