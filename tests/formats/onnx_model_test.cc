// The ONNX loader on models built in the test (src/formats/onnx_model.h, onnx_tree_ensemble.cc,
// onnx_linear.cc).
//
// Guards: every BRANCH mode decides exactly as ONNX Runtime does for every float input (thresholds at,
// just above and just below float values, non-float double thresholds, NaN with and without
// missing_value_tracks_true, ±0, ±inf); ONNX Runtime's binary-classifier layouts; base values,
// averaging and transforms; the pre- and post-processing operators; and every refusal, with a
// message that names what is wrong.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "engine/predictor.h"
#include "formats/model_loader.h"
#include "formats/onnx_builder.h"
#include "support/predictions.h"
#include "support/test_support.h"

namespace orchard {
namespace {

using testing::EnsembleSpec;
using testing::onnx_true;
using testing::OnnxBuilder;
using testing::predict_row;
using testing::set_floats;
using testing::set_int;
using testing::set_ints;
using testing::set_string;

constexpr float kInf = std::numeric_limits<float>::infinity();
const double kNan = std::numeric_limits<double>::quiet_NaN();

Predictor load(const OnnxBuilder& builder) { return testing::load_onnx(builder, "test.onnx"); }
// The message of the Error(kInvalidModel) that loading throws ("" if it loads).
std::string refusal(const OnnxBuilder& builder) { return testing::onnx_refusal(builder, "test.onnx"); }

double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

// ---- BRANCH modes ------------------------------------------------------------------------------

// One tree: node 0 tests column 0; its true branch is a leaf worth 1, its false branch a leaf worth 2.
OnnxBuilder one_split(const std::string& mode, double threshold, bool tracks, bool as_double_tensor) {
  OnnxBuilder builder(1);
  EnsembleSpec spec;
  spec.branch(0, 0, mode, 0, static_cast<float>(threshold), 1, 2, tracks);
  spec.leaf(0, 1, {{0, 1.0f}});
  spec.leaf(0, 2, {{0, 2.0f}});
  auto& node = builder.ml_node("TreeEnsembleRegressor", {"X"}, {"Y"});
  spec.write(node, false);
  set_int(node, "n_targets", 1);
  if (as_double_tensor) {
    // The same node with its thresholds as a double tensor (ai.onnx.ml 3).
    for (int i = 0; i < node.attribute_size(); ++i) {
      if (node.attribute(i).name() == "nodes_values") node.mutable_attribute()->DeleteSubrange(i, 1);
    }
    testing::set_doubles_tensor(node, "nodes_values_as_tensor", {threshold, 0.0, 0.0});
  }
  builder.output("Y");
  return builder;
}

std::vector<double> probes(double t) {
  std::vector<double> xs{0.0, -0.0, 1.0, -1.0, kInf, -kInf, kNan, std::numeric_limits<float>::max(), -std::numeric_limits<float>::max(),
                         std::numeric_limits<float>::denorm_min(), -std::numeric_limits<float>::denorm_min(), 0.1, 1e30};
  const float f = static_cast<float>(t);
  if (std::isfinite(f)) {
    for (float g : {f, std::nextafter(f, kInf), std::nextafter(f, -kInf), std::nextafter(std::nextafter(f, kInf), kInf),
                    std::nextafter(std::nextafter(f, -kInf), -kInf)}) {
      xs.push_back(g);
    }
  }
  xs.push_back(t);  // also a double the input cast rounds
  return xs;
}

TEST(OnnxTreeModes, EveryModeDecidesLikeOnnxRuntimeOnEveryEdgeInput) {
  const std::vector<std::string> modes{"BRANCH_LEQ", "BRANCH_LT", "BRANCH_GTE", "BRANCH_GT", "BRANCH_EQ", "BRANCH_NEQ"};
  const std::vector<double> float_thresholds{0.5, static_cast<double>(1.0f / 3.0f), 0.0, -0.0, 1e-45f, -2.5, 3.4028234663852886e38, kInf, -kInf};
  const std::vector<double> double_thresholds{0.1, 1.0 / 3.0, -0.1, 1e300, -1e300, 5e-324};
  int checked = 0, refused = 0;
  for (const auto& mode : modes) {
    for (bool tracks : {false, true}) {
      for (bool as_double : {false, true}) {
        for (double t : as_double ? double_thresholds : float_thresholds) {
          const OnnxBuilder builder = one_split(mode, t, tracks, as_double);
          const std::string message = refusal(builder);
          if (!message.empty()) {
            // Refused only where no float32 node can reproduce the test: EQ/NEQ against a value that is
            // not a finite float, or a strict test against -inf.
            const bool non_float = !std::isfinite(t) || static_cast<double>(static_cast<float>(t)) != t;
            const bool expected = ((mode == "BRANCH_EQ" || mode == "BRANCH_NEQ") && non_float) ||
                                  ((mode == "BRANCH_LT" || mode == "BRANCH_GTE") && t == -kInf);
            EXPECT_TRUE(expected) << mode << " t=" << t << ": " << message;
            EXPECT_NE(message.find("threshold"), std::string::npos) << message;
            ++refused;
            continue;
          }
          const Predictor predictor = load(builder);
          for (double x : probes(t)) {
            const double xf = static_cast<double>(static_cast<float>(x));
            const double want = onnx_true(mode, xf, t, tracks) ? 1.0 : 2.0;
            EXPECT_EQ(predict_row(predictor, {x})[0], want) << mode << " tracks=" << tracks << " t=" << t << " x=" << x;
            ++checked;
          }
        }
      }
    }
  }
  EXPECT_GT(checked, 2000);
  EXPECT_GT(refused, 0);
}

TEST(OnnxTreeModes, DoubleInputsAreComparedInDouble) {
  // skl2onnx with a DoubleTensorType input: double thresholds (nodes_values_as_tensor) against double inputs.
  const double t = 0.1;  // not a float
  for (const std::string mode : {"BRANCH_LEQ", "BRANCH_LT", "BRANCH_GTE", "BRANCH_GT", "BRANCH_EQ", "BRANCH_NEQ"}) {
    for (bool tracks : {false, true}) {
      OnnxBuilder builder(1, "X", onnx::TensorProto::DOUBLE);
      EnsembleSpec spec;
      spec.branch(0, 0, mode, 0, 0.0f, 1, 2, tracks);
      spec.leaf(0, 1, {{0, 1.0f}});
      spec.leaf(0, 2, {{0, 2.0f}});
      auto& node = builder.ml_node("TreeEnsembleRegressor", {"X"}, {"Y"});
      spec.write(node, false);
      for (int i = 0; i < node.attribute_size(); ++i) {
        if (node.attribute(i).name() == "nodes_values") node.mutable_attribute()->DeleteSubrange(i, 1);
      }
      testing::set_doubles_tensor(node, "nodes_values_as_tensor", {t, 0.0, 0.0});
      builder.output("Y");
      const Predictor predictor = load(builder);
      EXPECT_EQ(predictor.model().input_precision, Precision::kFloat64);
      for (double x : {t, std::nextafter(t, 1.0), std::nextafter(t, -1.0), static_cast<double>(static_cast<float>(t)), 0.0, 1.0, -static_cast<double>(kInf), kNan}) {
        EXPECT_EQ(predict_row(predictor, {x})[0], onnx_true(mode, x, t, tracks) ? 1.0 : 2.0) << mode << " tracks " << tracks << " x " << x;
      }
    }
  }
}

TEST(OnnxTreeModes, CategoryChainsOfEqualityNodesSharingTheirTrueBranch) {
  // onnxmltools writes a LightGBM category set {1, 4, 7} as BRANCH_EQ nodes chained through their
  // false branches, all sending matches to one subtree (here a split on column 1).
  OnnxBuilder builder(2);
  EnsembleSpec spec;
  spec.branch(0, 0, "BRANCH_EQ", 0, 1.0f, 10, 1);
  spec.branch(0, 1, "BRANCH_EQ", 0, 4.0f, 10, 2);
  spec.branch(0, 2, "BRANCH_EQ", 0, 7.0f, 10, 3);
  spec.leaf(0, 3, {{0, -1.0f}});
  spec.branch(0, 10, "BRANCH_LEQ", 1, 0.5f, 11, 12);
  spec.leaf(0, 11, {{0, 10.0f}});
  spec.leaf(0, 12, {{0, 20.0f}});
  spec.write(builder.ml_node("TreeEnsembleRegressor", {"X"}, {"Y"}), false);
  builder.output("Y");
  const Predictor predictor = load(builder);
  for (double category : {1.0, 4.0, 7.0}) {
    EXPECT_EQ(predict_row(predictor, {category, 0.0})[0], 10.0) << category;
    EXPECT_EQ(predict_row(predictor, {category, 1.0})[0], 20.0) << category;
  }
  for (double other : {0.0, 2.0, 4.5, 3.9999998, 7.0000005, -1.0, kNan}) EXPECT_EQ(predict_row(predictor, {other, 0.0})[0], -1.0) << other;
}

TEST(OnnxTreeModes, SharedSubtreesAreCopiedAndCyclesRefused) {
  // Node 0 and node 1 both send their false branch to leaf 3 (a DAG): the IR gets a copy.
  OnnxBuilder builder(2);
  EnsembleSpec spec;
  spec.branch(0, 0, "BRANCH_LEQ", 0, 0.5f, 1, 3);
  spec.branch(0, 1, "BRANCH_LEQ", 1, 0.5f, 2, 3);
  spec.leaf(0, 2, {{0, 10.0f}});
  spec.leaf(0, 3, {{0, 20.0f}});
  spec.write(builder.ml_node("TreeEnsembleRegressor", {"X"}, {"Y"}), false);
  builder.output("Y");
  const Predictor predictor = load(builder);
  EXPECT_EQ(predict_row(predictor, {0.0, 0.0})[0], 10.0);
  EXPECT_EQ(predict_row(predictor, {0.0, 1.0})[0], 20.0);
  EXPECT_EQ(predict_row(predictor, {1.0, 0.0})[0], 20.0);

  OnnxBuilder cycle(1);
  EnsembleSpec loop;
  loop.branch(0, 0, "BRANCH_LEQ", 0, 0.5f, 1, 2);
  loop.branch(0, 1, "BRANCH_LEQ", 0, 0.25f, 0, 2);  // back to the root
  loop.leaf(0, 2, {{0, 1.0f}});
  loop.write(cycle.ml_node("TreeEnsembleRegressor", {"X"}, {"Y"}), false);
  cycle.output("Y");
  EXPECT_NE(refusal(cycle).find("cycle"), std::string::npos);
}

// ---- classifiers and regressors -----------------------------------------------------------------

// Two stumps on column 0 (threshold 0.5), weights for the given classes.
OnnxBuilder classifier(const std::vector<std::pair<std::int64_t, float>>& left, const std::vector<std::pair<std::int64_t, float>>& right,
                       const std::string& post, int classes, const std::vector<float>& base = {}) {
  OnnxBuilder builder(1);
  EnsembleSpec spec;
  for (std::int64_t tree = 0; tree < 2; ++tree) {
    spec.branch(tree, 0, "BRANCH_LEQ", 0, 0.5f, 1, 2);
    spec.leaf(tree, 1, left);
    spec.leaf(tree, 2, right);
  }
  auto& node = builder.ml_node("TreeEnsembleClassifier", {"X"}, {"label", "probabilities"});
  spec.write(node, true);
  std::vector<std::int64_t> labels;
  for (int k = 0; k < classes; ++k) labels.push_back(k);
  set_ints(node, "classlabels_int64s", labels);
  set_string(node, "post_transform", post);
  if (!base.empty()) set_floats(node, "base_values", base);
  builder.output("label");
  builder.output("probabilities");
  return builder;
}

TEST(OnnxTreeClassifier, BinaryWithNonNegativeWeightsReportsOneMinusScoreAndScore) {
  // scikit-learn forests: weights for class 0 only, the summed probability of class 1.
  const Predictor predictor = load(classifier({{0, 0.125f}}, {{0, 0.375f}}, "NONE", 2));
  EXPECT_EQ(predictor.value_names(false), (std::vector<std::string>{"class_0", "class_1"}));
  EXPECT_EQ(predict_row(predictor, {0.0}), (std::vector<double>{0.75, 0.25}));
  EXPECT_EQ(predict_row(predictor, {1.0}), (std::vector<double>{0.25, 0.75}));
}

TEST(OnnxTreeClassifier, NormalizerAfterTheBinaryLayoutOnlyWhereItChangesNothing) {
  // Votes bounded by 0.375 + 0.375: [1 - s, s] stays within [0, 1], L1 normalization is a no-op.
  OnnxBuilder forest = classifier({{0, 0.125f}}, {{0, 0.375f}}, "NONE", 2);
  set_string(forest.ml_node("Normalizer", {"probabilities"}, {"p"}), "norm", "L1");
  EXPECT_EQ(predict_row(load(forest), {1.0}), (std::vector<double>{0.25, 0.75}));
  // Leaves up to 0.75 per tree: s may reach 1.5, where the Normalizer would change the numbers.
  OnnxBuilder unbounded = classifier({{0, 0.5f}}, {{0, 0.75f}}, "NONE", 2);
  set_string(unbounded.ml_node("Normalizer", {"probabilities"}, {"p"}), "norm", "L1");
  EXPECT_NE(refusal(unbounded).find("Normalizer"), std::string::npos);
}

TEST(OnnxTreeClassifier, BinaryWithMixedWeightsAndLogisticReportsBothSigmoids) {
  // XGBoost / HistGradientBoosting: one margin plus base_values, LOGISTIC.
  const Predictor predictor = load(classifier({{0, -0.5f}}, {{0, 0.75f}}, "LOGISTIC", 2, {0.25f}));
  for (double x : {0.0, 1.0}) {
    const double s = (x <= 0.5 ? -1.0 : 1.5) + 0.25;
    const auto p = predict_row(predictor, {x});
    EXPECT_NEAR(p[0], sigmoid(-s), 1e-12);
    EXPECT_NEAR(p[1], sigmoid(s), 1e-12);
  }
}

TEST(OnnxTreeClassifier, MulticlassSoftmaxAddsBaseValuesPerClass) {
  const Predictor predictor = load(classifier({{0, 1.0f}, {2, 0.5f}}, {{1, 2.0f}}, "SOFTMAX", 3, {0.1f, 0.2f, 0.3f}));
  const auto p = predict_row(predictor, {0.0});
  const double m[3] = {0.1f + 2.0, 0.2f, 0.3f + 1.0};
  const double z = std::exp(m[0]) + std::exp(m[1]) + std::exp(m[2]);
  for (int k = 0; k < 3; ++k) EXPECT_NEAR(p[static_cast<std::size_t>(k)], std::exp(m[k]) / z, 1e-12);
}

TEST(OnnxTreeClassifier, RefusesWhatItCannotReproduceExactly) {
  EXPECT_NE(refusal(classifier({{0, 0.25f}}, {{0, 0.75f}}, "LOGISTIC", 2)).find("ignores the transform"), std::string::npos);
  EXPECT_NE(refusal(classifier({{0, -0.25f}}, {{0, 0.75f}}, "PROBIT", 2)).find("PROBIT"), std::string::npos);
  EXPECT_NE(refusal(classifier({{0, 1.0f}}, {{1, 1.0f}}, "SOFTMAX_ZERO", 3)).find("SOFTMAX_ZERO"), std::string::npos);
  EXPECT_NE(refusal(classifier({{0, -0.25f}}, {{0, 0.75f}}, "NONE", 2, {0.1f, 0.2f})).find("base_values"), std::string::npos);
  EXPECT_NE(refusal(classifier({{5, 1.0f}}, {{0, 1.0f}}, "NONE", 3)).find("class_ids"), std::string::npos);
  // No weights at all: ONNX Runtime reports [0, 0], not a binary layout.
  EXPECT_NE(refusal(classifier({}, {}, "NONE", 2)).find("class-1 weight"), std::string::npos);
}

TEST(OnnxTreeRegressor, AverageDividesTheSumAndAddsTheBaseAfterwards) {
  OnnxBuilder builder(1);
  EnsembleSpec spec;
  for (std::int64_t tree = 0; tree < 4; ++tree) {
    spec.branch(tree, 0, "BRANCH_LEQ", 0, 0.5f, 1, 2);
    spec.leaf(tree, 1, {{0, static_cast<float>(tree)}});
    spec.leaf(tree, 2, {{0, 10.0f}});
  }
  auto& node = builder.ml_node("TreeEnsembleRegressor", {"X"}, {"variable"});
  spec.write(node, false);
  set_int(node, "n_targets", 1);
  set_string(node, "aggregate_function", "AVERAGE");
  set_floats(node, "base_values", {100.0f});
  builder.output("variable");
  const Predictor predictor = load(builder);
  EXPECT_DOUBLE_EQ(predict_row(predictor, {0.0})[0], 1.5 + 100.0);
  EXPECT_DOUBLE_EQ(predict_row(predictor, {1.0})[0], 10.0 + 100.0);

  OnnxBuilder max_builder(1);
  auto& max_node = max_builder.ml_node("TreeEnsembleRegressor", {"X"}, {"variable"});
  spec.write(max_node, false);
  set_string(max_node, "aggregate_function", "MAX");
  max_builder.output("variable");
  EXPECT_NE(refusal(max_builder).find("MIN and MAX"), std::string::npos);
}

// onnxmltools' LightGBM regressors: Exp after the ensemble (poisson, gamma, tweedie), Div by a
// constant (random forests), and an ensemble split into several regressors summed in double.
TEST(OnnxTreeRegressor, OnnxmltoolsPostProcessing) {
  auto stump = [](OnnxBuilder& builder, const std::string& output, float left, float right) {
    EnsembleSpec spec;
    spec.branch(0, 0, "BRANCH_LEQ", 0, 0.5f, 1, 2);
    spec.leaf(0, 1, {{0, left}});
    spec.leaf(0, 2, {{0, right}});
    spec.branch(1, 0, "BRANCH_LEQ", 0, 1.5f, 1, 2);
    spec.leaf(1, 1, {{0, left}});
    spec.leaf(1, 2, {{0, right}});
    auto& node = builder.ml_node("TreeEnsembleRegressor", {"X"}, {output});
    spec.write(node, false);
    set_int(node, "n_targets", 1);
  };
  {
    OnnxBuilder builder(1);
    stump(builder, "raw", 0.25f, 0.5f);
    builder.node("Exp", "", {"raw"}, {"Y"});
    builder.output("Y");
    EXPECT_NEAR(predict_row(load(builder), {1.0})[0], std::exp(0.5 + 0.25), 1e-12);
  }
  {
    OnnxBuilder builder(1);
    stump(builder, "raw", 3.0f, 5.0f);
    builder.float_initializer("trees", {2.0f});
    builder.node("Div", "", {"raw", "trees"}, {"Y"});
    builder.output("Y");
    EXPECT_DOUBLE_EQ(predict_row(load(builder), {1.0})[0], (5.0 + 3.0) / 2.0);
  }
  {
    OnnxBuilder builder(1);
    stump(builder, "a", 1.0f, 2.0f);
    stump(builder, "b", 10.0f, 20.0f);
    set_int(builder.node("Cast", "", {"a"}, {"a64"}), "to", onnx::TensorProto::DOUBLE);
    set_int(builder.node("Cast", "", {"b"}, {"b64"}), "to", onnx::TensorProto::DOUBLE);
    builder.node("Sum", "", {"a64", "b64"}, {"sum"});
    set_int(builder.node("Cast", "", {"sum"}, {"Y"}), "to", onnx::TensorProto::FLOAT);
    builder.output("Y");
    const Predictor predictor = load(builder);
    EXPECT_EQ(predictor.model().trees.size(), 4u);
    EXPECT_DOUBLE_EQ(predict_row(predictor, {1.0})[0], 2.0 + 1.0 + 20.0 + 10.0);
  }
}

// ---- linear models and the operators around the estimator ---------------------------------------

TEST(OnnxLinear, BinarySingleRowClassifierReportsOneMinusScoreAndScore) {
  OnnxBuilder builder(2);
  auto& node = builder.ml_node("LinearClassifier", {"X"}, {"label", "scores"});
  set_floats(node, "coefficients", {0.25f, -0.5f});
  set_floats(node, "intercepts", {0.125f});
  set_ints(node, "classlabels_ints", {0, 1});
  builder.output("scores");
  const Predictor predictor = load(builder);
  const double s = 0.125 + 0.25 * 2.0 - 0.5 * 1.0;
  const auto p = predict_row(predictor, {2.0, 1.0});
  EXPECT_DOUBLE_EQ(p[0], 1.0 - s);
  EXPECT_DOUBLE_EQ(p[1], s);
}

TEST(OnnxLinear, ScalerAndColumnSelectionAreFoldedIntoTheWeights) {
  // X[3] -> ArrayFeatureExtractor [2, 0] -> Scaler -> LinearRegressor.
  OnnxBuilder builder(3);
  builder.int64_initializer("columns", {2, 0});
  builder.ml_node("ArrayFeatureExtractor", {"X", "columns"}, {"picked"});
  auto& scaler = builder.ml_node("Scaler", {"picked"}, {"scaled"});
  set_floats(scaler, "offset", {1.0f, 2.0f});
  set_floats(scaler, "scale", {0.5f, 4.0f});
  auto& linear = builder.ml_node("LinearRegressor", {"scaled"}, {"variable"});
  set_floats(linear, "coefficients", {3.0f, -1.0f});
  set_floats(linear, "intercepts", {10.0f});
  builder.output("variable");
  const Predictor predictor = load(builder);
  EXPECT_EQ(predictor.num_features(), 3);
  const std::vector<double> x{5.0, 7.0, 9.0};
  EXPECT_DOUBLE_EQ(predict_row(predictor, x)[0], 10.0 + 3.0 * (9.0 - 1.0) * 0.5 - 1.0 * (5.0 - 2.0) * 4.0);
}

TEST(OnnxLinear, SoftmaxThenL1NormalizerAndZipMapKeepTheProbabilities) {
  OnnxBuilder builder(1);
  auto& node = builder.ml_node("LinearClassifier", {"X"}, {"label", "raw"});
  set_floats(node, "coefficients", {1.0f, -1.0f, 0.5f});
  set_floats(node, "intercepts", {0.0f, 0.5f, -0.5f});
  set_ints(node, "classlabels_ints", {0, 1, 2});
  set_string(node, "post_transform", "SOFTMAX");
  set_string(builder.ml_node("Normalizer", {"raw"}, {"normalized"}), "norm", "L1");
  builder.ml_node("ZipMap", {"normalized"}, {"output_probability"});
  builder.output("output_probability");
  const auto p = predict_row(load(builder), {2.0});
  const double m[3] = {2.0, -1.5, 0.5};
  const double z = std::exp(m[0]) + std::exp(m[1]) + std::exp(m[2]);
  for (int k = 0; k < 3; ++k) EXPECT_NEAR(p[static_cast<std::size_t>(k)], std::exp(m[k]) / z, 1e-12);
}

TEST(OnnxLinear, OneVersusRestLogisticThenL1NormalizerDividesBySum) {
  // scikit-learn's LogisticRegression(multi_class='ovr') as skl2onnx writes it.
  OnnxBuilder builder(1);
  auto& node = builder.ml_node("LinearClassifier", {"X"}, {"label", "raw"});
  set_floats(node, "coefficients", {1.0f, -1.0f, 0.5f});
  set_floats(node, "intercepts", {0.0f, 0.5f, -0.5f});
  set_ints(node, "classlabels_ints", {0, 1, 2});
  set_string(node, "post_transform", "LOGISTIC");
  set_string(builder.ml_node("Normalizer", {"raw"}, {"p"}), "norm", "L1");
  builder.output("p");
  const auto p = predict_row(load(builder), {2.0});
  const double s[3] = {sigmoid(2.0), sigmoid(-1.5), sigmoid(0.5)};
  for (int k = 0; k < 3; ++k) EXPECT_NEAR(p[static_cast<std::size_t>(k)], s[k] / (s[0] + s[1] + s[2]), 1e-12);
}

TEST(OnnxGraph, LabelsMayBeProcessedAndScoresReshaped) {
  // A classifier whose label goes through a LabelEncoder (never computed), and a regressor whose
  // prediction is reshaped to [-1, 1] (still the answer).
  OnnxBuilder classifier(1);
  auto& node = classifier.ml_node("LinearClassifier", {"X"}, {"label", "scores"});
  set_floats(node, "coefficients", {1.0f, -1.0f});
  set_floats(node, "intercepts", {0.0f, 0.5f});
  set_ints(node, "classlabels_ints", {0, 1});
  set_string(node, "post_transform", "SOFTMAX");
  auto& names = classifier.ml_node("LabelEncoder", {"label"}, {"label_name"});
  set_ints(names, "keys_int64s", {0, 1});
  testing::set_strings(names, "values_strings", {"no", "yes"});
  classifier.output("label_name");
  classifier.output("scores");
  EXPECT_EQ(load(classifier).num_values(false), 2);

  OnnxBuilder regressor(1);
  set_floats(regressor.ml_node("LinearRegressor", {"X"}, {"y"}), "coefficients", {3.0f});
  regressor.int64_initializer("shape", {-1, 1});
  regressor.node("Reshape", "", {"y", "shape"}, {"variable"});
  regressor.output("variable");
  EXPECT_EQ(predict_row(load(regressor), {2.0})[0], 6.0);
}

TEST(OnnxGraph, OneInputPerColumnGivesNamedFeatures) {
  OnnxBuilder builder(1, "age");
  builder.add_input("income", 1);
  auto& concat = builder.node("Concat", "", {"income", "age"}, {"X"});
  set_int(concat, "axis", 1);
  auto& linear = builder.ml_node("LinearRegressor", {"X"}, {"variable"});
  set_floats(linear, "coefficients", {2.0f, 3.0f});
  builder.output("variable");
  const Predictor predictor = load(builder);
  EXPECT_TRUE(predictor.model().has_feature_names);
  EXPECT_EQ(predictor.model().features[0].name, "age");
  EXPECT_EQ(predictor.model().features[1].name, "income");
  EXPECT_DOUBLE_EQ(predict_row(predictor, {10.0, 100.0})[0], 2.0 * 100.0 + 3.0 * 10.0);
}

TEST(OnnxGraph, UnsupportedOperatorsAreAllListed) {
  OnnxBuilder builder(2);
  builder.node("Sin", "", {"X"}, {"a"});
  builder.node("Sin", "", {"a"}, {"b"});
  builder.ml_node("SVMClassifier", {"b"}, {"label", "scores"});
  builder.node("Foo", "com.example", {"scores"}, {"out"});
  builder.output("out");
  const std::string message = refusal(builder);
  EXPECT_NE(message.find("operators Orchard does not run"), std::string::npos) << message;
  EXPECT_NE(message.find("Sin (x2)"), std::string::npos) << message;
  EXPECT_NE(message.find("ai.onnx.ml.SVMClassifier"), std::string::npos) << message;
  EXPECT_NE(message.find("com.example.Foo"), std::string::npos) << message;
  EXPECT_NE(message.find("test.onnx"), std::string::npos) << message;
}

TEST(OnnxGraph, RefusesGraphsItCannotMapWithTheNodeNamed) {
  {  // A Normalizer over raw scores (neither probabilities nor logistic outputs).
    OnnxBuilder builder(1);
    auto& node = builder.ml_node("LinearClassifier", {"X"}, {"label", "raw"});
    set_floats(node, "coefficients", {1.0f, -1.0f, 0.5f});
    set_floats(node, "intercepts", {0.0f, 0.5f, -0.5f});
    set_ints(node, "classlabels_ints", {0, 1, 2});
    set_string(builder.ml_node("Normalizer", {"raw"}, {"p"}), "norm", "L1");
    builder.output("p");
    const std::string message = refusal(builder);
    EXPECT_NE(message.find("Normalizer"), std::string::npos) << message;
    EXPECT_NE(message.find("neither probabilities"), std::string::npos) << message;
  }
  {  // A Binarizer in front of a linear model (no input step computes it).
    OnnxBuilder builder(1);
    builder.ml_node("Binarizer", {"X"}, {"b"});
    set_floats(builder.ml_node("LinearRegressor", {"b"}, {"Y"}), "coefficients", {2.0f});
    builder.output("Y");
    const std::string message = refusal(builder);
    EXPECT_NE(message.find("Binarizer"), std::string::npos) << message;
    EXPECT_NE(message.find("LinearRegressor"), std::string::npos) << message;
  }
  {  // Two estimators as outputs.
    OnnxBuilder builder(1);
    set_floats(builder.ml_node("LinearRegressor", {"X"}, {"a"}), "coefficients", {1.0f});
    set_floats(builder.ml_node("LinearRegressor", {"X"}, {"b"}), "coefficients", {2.0f});
    builder.output("a");
    builder.output("b");
    EXPECT_NE(refusal(builder).find("scores of different estimators"), std::string::npos);
  }
  {  // Stacking: an estimator reading another's scores.
    OnnxBuilder builder(1);
    set_floats(builder.ml_node("LinearRegressor", {"X"}, {"a"}), "coefficients", {1.0f});
    set_floats(builder.ml_node("LinearRegressor", {"a"}, {"b"}), "coefficients", {2.0f});
    builder.output("b");
    EXPECT_NE(refusal(builder).find("not derived from the graph's inputs"), std::string::npos);
  }
  {  // Arithmetic on the features.
    OnnxBuilder builder(1);
    builder.node("Neg", "", {"X"}, {"n"});
    set_floats(builder.ml_node("LinearRegressor", {"n"}, {"Y"}), "coefficients", {1.0f});
    builder.output("Y");
    EXPECT_NE(refusal(builder).find("computes on the features"), std::string::npos);
  }
  {  // A node that reads a tensor nothing defines.
    OnnxBuilder builder(1);
    set_floats(builder.ml_node("LinearRegressor", {"nowhere"}, {"a"}), "coefficients", {1.0f});
    builder.output("a");
    EXPECT_NE(refusal(builder).find("\"nowhere\""), std::string::npos);
  }
  {  // No estimator at all.
    OnnxBuilder builder(1);
    builder.node("Identity", "", {"X"}, {"Y"});
    builder.output("Y");
    EXPECT_NE(refusal(builder).find("no estimator"), std::string::npos);
  }
  {  // A node declared twice, and a branch to a node that does not exist.
    for (int variant = 0; variant < 2; ++variant) {
      OnnxBuilder builder(1);
      EnsembleSpec spec;
      spec.branch(0, 0, "BRANCH_LEQ", 0, 0.5f, 1, variant == 0 ? 2 : 9);
      spec.leaf(0, 1, {{0, 1.0f}});
      spec.leaf(0, variant == 0 ? 1 : 2, {{0, 2.0f}});
      spec.write(builder.ml_node("TreeEnsembleRegressor", {"X"}, {"Y"}), false);
      builder.output("Y");
      const std::string message = refusal(builder);
      EXPECT_NE(message.find(variant == 0 ? "declares node 1 twice" : "refers to node 9 of tree 0"), std::string::npos) << message;
    }
  }
  {  // Mismatched attribute lengths.
    OnnxBuilder builder(1);
    EnsembleSpec spec;
    spec.branch(0, 0, "BRANCH_LEQ", 0, 0.5f, 1, 2);
    spec.leaf(0, 1, {{0, 1.0f}});
    spec.leaf(0, 2, {{0, 2.0f}});
    spec.thresholds.pop_back();
    spec.write(builder.ml_node("TreeEnsembleRegressor", {"X"}, {"Y"}), false);
    builder.output("Y");
    const std::string message = refusal(builder);
    EXPECT_NE(message.find("nodes_values has 2 entries"), std::string::npos) << message;
  }
}

TEST(OnnxDetection, OnlyOnnxFilesAreRecognized) {
  OnnxBuilder builder(1);
  set_floats(builder.ml_node("LinearRegressor", {"X"}, {"Y"}), "coefficients", {1.0f});
  builder.output("Y");
  EXPECT_EQ(load_model_bytes(builder.bytes(), "m.onnx").source_format, "onnx");
  EXPECT_ERROR_KIND(load_model_bytes(std::string("\x08\x08\x12", 3), "short.onnx"), ErrorKind::kInvalidModel);
  EXPECT_ERROR_KIND(load_model_bytes("tree\nversion=v4\n", "lgbm.txt"), ErrorKind::kInvalidModel);
}

}  // namespace
}  // namespace orchard
