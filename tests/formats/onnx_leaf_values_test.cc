// Arithmetic folded into a single tree's leaves, and the IsolationForest graph skl2onnx writes
// (src/formats/onnx_leaf_values.h, the Sum and decision_function chain in onnx_model.cc).
//
// Guards: the converter's per-tree arithmetic (Cast, LabelEncoder, Equal, Greater, Mul, Add, Max, Log,
// Div) is computed per leaf exactly as scikit-learn's formula gives it; the trees are summed and the
// decision_function applied; labels computed from the scores are never what Orchard answers; values of
// two trees are never combined leaf by leaf.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "engine/predictor.h"
#include "formats/model_loader.h"
#include "formats/onnx_builder.h"
#include "support/test_support.h"

namespace orchard {
namespace {

using testing::EnsembleSpec;
using testing::OnnxBuilder;
using testing::set_floats;
using testing::set_int;
using testing::set_ints;

constexpr double kEulerGamma = 0.57721566490153286060;

// scikit-learn's _average_path_length.
double average_path_length(double n) {
  if (n <= 1.0) return 0.0;
  if (n <= 2.0) return 1.0;
  return 2.0 * (std::log(n - 1.0) + kEulerGamma) - 2.0 * (n - 1.0) / n;
}

// One isolation tree on two features: root splits feature `first` at a; its right child splits the
// other feature at b. n_node_samples and nodes-on-path per node id.
struct IsoTree {
  std::vector<std::int64_t> features;  // the tree's column -> X column (estimators_features_)
  float a, b;
  std::vector<double> samples{6, 3, 3, 1, 2};
  std::vector<double> path{1, 2, 2, 3, 3};
  int leaf(const std::vector<double>& x) const {
    const float x0 = static_cast<float>(x[static_cast<std::size_t>(features[0])]);
    const float x1 = static_cast<float>(x[static_cast<std::size_t>(features[1])]);
    if (x0 <= a) return 1;
    return x1 <= b ? 3 : 4;
  }
};

// The graph skl2onnx's convert_sklearn_isolation_forest writes, node for node.
OnnxBuilder isolation_forest(const std::vector<IsoTree>& trees, double max_samples, double offset) {
  OnnxBuilder builder(2);
  builder.float_initializer("two", {2.0f});
  builder.float_initializer("minus_one", {-1.0f});
  builder.float_initializer("one", {1.0f});
  builder.float_initializer("zero", {0.0f});
  builder.float_initializer("gamma", {static_cast<float>(kEulerGamma)});
  builder.float_initializer("minus_two", {-2.0f});
  builder.int64_initializer("shape", {-1, 1});
  std::vector<std::string> depths;
  for (std::size_t i = 0; i < trees.size(); ++i) {
    const IsoTree& tree = trees[i];
    const std::string p = "t" + std::to_string(i) + "_";
    builder.int64_initializer(p + "features", tree.features);
    set_int(builder.node("Gather", "", {"X", p + "features"}, {p + "x"}), "axis", 1);
    EnsembleSpec spec;
    spec.branch(0, 0, "BRANCH_LEQ", 0, tree.a, 1, 2);
    spec.leaf(0, 1, {{0, 1.0f}});
    spec.branch(0, 2, "BRANCH_LEQ", 1, tree.b, 3, 4);
    spec.leaf(0, 3, {{0, 3.0f}});
    spec.leaf(0, 4, {{0, 4.0f}});  // target weights: the leaf's node id
    auto& regressor = builder.ml_node("TreeEnsembleRegressor", {p + "x"}, {p + "leave"});
    spec.write(regressor, false);
    set_int(regressor, "n_targets", 1);
    for (const char* what : {"node_sample", "path_length"}) {
      const std::string name = p + what;
      set_int(builder.node("Cast", "", {p + "leave"}, {name + "_int"}), "to", onnx::TensorProto::INT64);
      auto& encoder = builder.ml_node("LabelEncoder", {name + "_int"}, {name + "_raw"});
      set_ints(encoder, "keys_int64s", {1, 3, 4});
      const auto& values = std::string(what) == "node_sample" ? tree.samples : tree.path;
      set_floats(encoder, "values_floats", {static_cast<float>(values[1]), static_cast<float>(values[3]), static_cast<float>(values[4])});
      builder.node("Reshape", "", {name + "_raw", "shape"}, {name});
    }
    auto node = [&](const std::string& op, std::vector<std::string> in, const std::string& out) {
      builder.node(op, "", in, {p + out});
      return p + out;
    };
    const std::string ns = p + "node_sample";
    const std::string eq2 = node("Equal", {ns, "two"}, "eq2_b");
    set_int(builder.node("Cast", "", {eq2}, {p + "eq2"}), "to", onnx::TensorProto::FLOAT);
    const std::string gt2 = node("Greater", {ns, "two"}, "gt2_b");
    set_int(builder.node("Cast", "", {gt2}, {p + "gt2"}), "to", onnx::TensorProto::FLOAT);
    const std::string eqp2ps = node("Mul", {p + "gt2", ns}, "eqp2ps");
    const std::string eqp2ps_1 = node("Add", {eqp2ps, "minus_one"}, "eqp2ps_1");
    const std::string m1 = node("Max", {eqp2ps_1, "one"}, "m1");
    const std::string log = node("Log", {m1}, "log");
    const std::string log_g = node("Add", {log, "gamma"}, "log_g");
    const std::string eqp_log = node("Mul", {log_g, "two"}, "eqp_log");
    const std::string m0 = node("Max", {eqp2ps_1, "zero"}, "m0");
    const std::string den = node("Max", {eqp2ps, "one"}, "den");
    const std::string ratio = node("Div", {m0, den}, "ratio");
    const std::string eqp_ns = node("Mul", {ratio, "minus_two"}, "eqp_ns");
    const std::string sum_log = node("Add", {eqp_log, eqp_ns}, "sum_log");
    const std::string av_log = node("Mul", {sum_log, p + "gt2"}, "av_log");
    const std::string av = node("Add", {p + "eq2", av_log}, "av");
    const std::string with_path = node("Add", {p + "path_length", av}, "with_path");
    depths.push_back(node("Add", {with_path, "minus_one"}, "depth"));
  }
  builder.float_initializer("cst", {static_cast<float>(static_cast<double>(trees.size()) * average_path_length(max_samples))});
  builder.float_initializer("minus_offset", {static_cast<float>(-offset)});
  builder.int64_initializer("minus_two_int", {-2});
  builder.int64_initializer("one_int", {1});
  builder.node("Sum", "", depths, {"sum"});
  builder.node("Div", "", {"sum", "cst"}, {"depths"});
  builder.node("Neg", "", {"depths"}, {"neg_depths"});
  builder.node("Pow", "", {"two", "neg_depths"}, {"pow"});
  builder.node("Neg", "", {"pow"}, {"neg_pow"});
  builder.node("Add", "", {"neg_pow", "minus_offset"}, {"scores"});
  builder.node("Less", "", {"scores", "zero"}, {"less"});
  set_int(builder.node("Cast", "", {"less"}, {"less_int"}), "to", onnx::TensorProto::INT64);
  builder.node("Mul", "", {"less_int", "minus_two_int"}, {"times"});
  builder.node("Add", "", {"times", "one_int"}, {"label"});
  builder.output("label");
  builder.output("scores");
  return builder;
}

TEST(OnnxLeafValues, IsolationForestGraphGivesScikitLearnsDecisionFunction) {
  const std::vector<IsoTree> trees{{{0, 1}, 0.5f, 0.2f}, {{1, 0}, -0.3f, 1.5f}, {{0, 1}, 2.0f, -1.0f}};
  const double offset = -0.5;
  const Predictor predictor(load_model_bytes(isolation_forest(trees, 6.0, offset).bytes(), "iforest.onnx"), "iforest.onnx");
  EXPECT_EQ(predictor.value_names(false), std::vector<std::string>{"score"});
  EXPECT_EQ(predictor.model().trees.size(), 3u);
  std::mt19937 random(3);
  std::uniform_real_distribution<double> value(-3.0, 3.0);
  for (int row = 0; row < 200; ++row) {
    const std::vector<double> x{value(random), value(random)};
    double total = 0.0;
    for (const IsoTree& tree : trees) {
      const int leaf = tree.leaf(x);
      total += tree.path[static_cast<std::size_t>(leaf)] + average_path_length(tree.samples[static_cast<std::size_t>(leaf)]) - 1.0;
    }
    const double expected = -std::pow(2.0, -total / (3.0 * average_path_length(6.0))) - offset;
    double got = 0.0;
    predictor.predict_row(x.data(), &got, false);
    ASSERT_NEAR(got, expected, 1e-6 + 1e-6 * std::abs(expected)) << "row " << row;
  }
}

TEST(OnnxLeafValues, ArithmeticOnOneTreeIsFoldedIntoItsLeaves) {
  // A decision tree regressor whose output is scaled and shifted: still one compiled tree.
  OnnxBuilder builder(1);
  EnsembleSpec spec;
  spec.branch(0, 0, "BRANCH_LEQ", 0, 0.5f, 1, 2);
  spec.leaf(0, 1, {{0, 3.0f}});
  spec.leaf(0, 2, {{0, 5.0f}});
  auto& regressor = builder.ml_node("TreeEnsembleRegressor", {"X"}, {"raw"});
  spec.write(regressor, false);
  set_floats(regressor, "base_values", {0.5f});
  builder.float_initializer("k", {2.0f});
  builder.node("Mul", "", {"raw", "k"}, {"twice"});
  builder.node("Neg", "", {"twice"}, {"Y"});
  builder.output("Y");
  const Predictor predictor(load_model_bytes(builder.bytes(), "folded.onnx"), "folded.onnx");
  double y = 0.0;
  const double left = 0.0, right = 1.0;
  predictor.predict_row(&left, &y, false);
  EXPECT_EQ(y, -7.0);
  predictor.predict_row(&right, &y, false);
  EXPECT_EQ(y, -11.0);
}

TEST(OnnxLeafValues, RefusesCombiningTwoTreesLeafByLeafAndAnswersNeverWithLabels) {
  OnnxBuilder builder(1);
  for (const char* name : {"a", "b"}) {
    EnsembleSpec spec;
    spec.branch(0, 0, "BRANCH_LEQ", 0, 0.5f, 1, 2);
    spec.leaf(0, 1, {{0, 1.0f}});
    spec.leaf(0, 2, {{0, 2.0f}});
    spec.write(builder.ml_node("TreeEnsembleRegressor", {"X"}, {name}), false);
  }
  builder.node("Mul", "", {"a", "b"}, {"product"});
  builder.output("product");
  try {
    load_model_bytes(builder.bytes(), "two.onnx");
    ADD_FAILURE() << "loaded";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("two different trees"), std::string::npos) << e.what();
  }

  // A classifier's scores compared with a constant are a label: not an answer.
  OnnxBuilder labels(1);
  set_floats(labels.ml_node("LinearRegressor", {"X"}, {"y"}), "coefficients", {1.0f});
  labels.float_initializer("zero", {0.0f});
  labels.node("Less", "", {"y", "zero"}, {"negative"});
  labels.output("negative");
  EXPECT_ERROR_KIND(load_model_bytes(labels.bytes(), "labels.onnx"), ErrorKind::kInvalidModel);
}

}  // namespace
}  // namespace orchard
