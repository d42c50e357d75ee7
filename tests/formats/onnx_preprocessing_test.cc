// ONNX preprocessing operators in front of an estimator (src/formats/onnx_preprocessing.h): Imputer,
// Scaler, Binarizer, OneHotEncoder, LabelEncoder and the column plumbing skl2onnx writes around them.
//
// Guards: a Scaler or Binarizer in front of trees decides exactly as ONNX Runtime's float arithmetic
// does, on inputs at and around every boundary; imputers, encoders and a Scaler in front of a linear
// model become input steps with the right values; string inputs get category names a CSV can use;
// unsupported orders and attributes are refused naming the node.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <random>

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
using testing::set_float;
using testing::set_floats;
using testing::set_int;
using testing::set_ints;
using testing::set_string;
using testing::set_strings;

const double kNan = std::numeric_limits<double>::quiet_NaN();

Predictor load(const OnnxBuilder& builder) { return testing::load_onnx(builder, "pre.onnx"); }
// The first value the model predicts for `row`.
double predict1(const Predictor& predictor, const std::vector<double>& row) { return testing::predict_row(predictor, row)[0]; }
// The message of the Error(kInvalidModel) that loading throws ("" if it loads).
std::string refusal(const OnnxBuilder& builder) { return testing::onnx_refusal(builder, "pre.onnx"); }

// X[1] -> `pre` (a node named "P" writing "p") -> one split on column 0: true 1, false 2.
OnnxBuilder split_after(const std::function<void(OnnxBuilder&)>& pre, const std::string& mode, float threshold, bool tracks) {
  OnnxBuilder builder(1);
  pre(builder);
  EnsembleSpec spec;
  spec.branch(0, 0, mode, 0, threshold, 1, 2, tracks);
  spec.leaf(0, 1, {{0, 1.0f}});
  spec.leaf(0, 2, {{0, 2.0f}});
  spec.write(builder.ml_node("TreeEnsembleRegressor", {"p"}, {"Y"}), false);
  builder.output("Y");
  return builder;
}

// Inputs around the raw-space boundary b: b and its float neighbours, plus wide random values.
std::vector<double> probes_around(double b, std::mt19937& random) {
  std::vector<double> xs{kNan, 0.0, -0.0, INFINITY, -INFINITY, 1e30, -1e30};
  float f = static_cast<float>(b);
  if (std::isfinite(f)) {
    for (int k = 0; k < 6; ++k) f = std::nextafter(f, -INFINITY);
    for (int k = 0; k < 13; ++k, f = std::nextafter(f, INFINITY)) xs.push_back(f);
  }
  std::uniform_real_distribution<double> wide(-2000.0, 2000.0);
  for (int k = 0; k < 40; ++k) xs.push_back(wide(random));
  return xs;
}

TEST(OnnxPreprocessing, ScalerInFrontOfTreesDecidesLikeOnnxRuntimeFloatArithmetic) {
  std::mt19937 random(7);
  int checked = 0;
  for (float scale : {0.5f, -3.0f, 1e-3f, 7.1f, -0.0032508669f}) {
    for (float offset : {0.0f, 2.5f, -1000.25f, 746.766113f}) {
      for (const std::string mode : {"BRANCH_LEQ", "BRANCH_LT", "BRANCH_GTE", "BRANCH_GT"}) {
        for (float t : {0.0f, 0.3f, -1.7f, 1e5f}) {
          for (bool tracks : {false, true}) {
            const OnnxBuilder builder = split_after(
                [&](OnnxBuilder& b) {
                  auto& scaler = b.ml_node("Scaler", {"X"}, {"p"});
                  set_floats(scaler, "offset", {offset});
                  set_floats(scaler, "scale", {scale});
                },
                mode, t, tracks);
            const Predictor predictor = load(builder);
            for (double x : probes_around(static_cast<double>(t) / scale + offset, random)) {
              const float xf = static_cast<float>(x);
              const float shifted = xf - offset;
              const float y = shifted * scale;
              const double want = onnx_true(mode, y, t, tracks) ? 1.0 : 2.0;
              ASSERT_EQ(predict1(predictor, {x}), want) << mode << " scale " << scale << " offset " << offset << " t " << t << " x " << x;
              ++checked;
            }
          }
        }
      }
    }
  }
  EXPECT_GT(checked, 30000);
}

TEST(OnnxPreprocessing, BinarizerInFrontOfTreesIncludingNaN) {
  std::mt19937 random(8);
  for (float cut : {0.0f, 2.5f, -1.0f}) {
    for (const std::string mode : {"BRANCH_LEQ", "BRANCH_LT", "BRANCH_GTE", "BRANCH_GT", "BRANCH_EQ", "BRANCH_NEQ"}) {
      for (float t : {0.0f, 0.5f, 1.0f, -1.0f, 2.0f}) {
        for (bool tracks : {false, true}) {
          const OnnxBuilder builder = split_after([&](OnnxBuilder& b) { set_float(b.ml_node("Binarizer", {"X"}, {"p"}), "threshold", cut); }, mode, t, tracks);
          const Predictor predictor = load(builder);
          for (double x : probes_around(cut, random)) {
            const double y = static_cast<float>(x) > cut ? 1.0 : 0.0;  // NaN -> 0
            ASSERT_EQ(predict1(predictor, {x}), onnx_true(mode, y, t, tracks) ? 1.0 : 2.0) << mode << " cut " << cut << " t " << t << " x " << x;
          }
        }
      }
    }
  }
}

TEST(OnnxPreprocessing, ImputerFillsMissingValuesForTreesAndLinearModels) {
  OnnxBuilder builder(2);
  auto& imputer = builder.ml_node("Imputer", {"X"}, {"filled"});
  set_floats(imputer, "imputed_value_floats", {3.5f, -2.0f});
  auto& linear = builder.ml_node("LinearRegressor", {"filled"}, {"Y"});
  set_floats(linear, "coefficients", {1.0f, 10.0f});
  builder.output("Y");
  const Predictor predictor = load(builder);
  ASSERT_EQ(predictor.model().input_steps.size(), 2u);
  EXPECT_EQ(predict1(predictor, {kNan, kNan}), 3.5 - 20.0);
  EXPECT_EQ(predict1(predictor, {1.0, kNan}), 1.0 - 20.0);

  const OnnxBuilder tree = split_after([](OnnxBuilder& b) { set_floats(b.ml_node("Imputer", {"X"}, {"p"}), "imputed_value_floats", {0.75f}); },
                                       "BRANCH_LEQ", 0.5f, /*tracks=*/true);
  const Predictor tree_predictor = load(tree);
  EXPECT_EQ(predict1(tree_predictor, {kNan}), 2.0);  // filled with 0.75 > 0.5, never seen as missing
  EXPECT_EQ(predict1(tree_predictor, {0.25}), 1.0);
}

TEST(OnnxPreprocessing, ScalerInFrontOfALinearModelIsAnAffineStep) {
  OnnxBuilder builder(2);
  auto& scaler = builder.ml_node("Scaler", {"X"}, {"s"});
  set_floats(scaler, "offset", {1.0f, 2.0f});
  set_floats(scaler, "scale", {0.5f, 4.0f});
  set_floats(builder.ml_node("LinearRegressor", {"s"}, {"Y"}), "coefficients", {3.0f, -1.0f});
  builder.output("Y");
  const Predictor predictor = load(builder);
  ASSERT_EQ(predictor.model().input_steps.size(), 2u);
  EXPECT_EQ(predictor.model().input_steps[1].kind, InputStepKind::kAffine);
  EXPECT_DOUBLE_EQ(predict1(predictor, {9.0, 5.0}), 3.0 * (9.0 - 1.0) * 0.5 - (5.0 - 2.0) * 4.0);
}

// skl2onnx's OneHotEncoder: Gather the column, Cast to int64, OneHotEncoder [N,1,K], Concat on the
// last axis, Reshape to [-1, K]; then Concat with the numeric columns.
TEST(OnnxPreprocessing, OneHotEncoderAsSkl2onnxWritesIt) {
  OnnxBuilder builder(2);
  builder.int64_initializer("one", {1});
  builder.int64_initializer("zero", {0});
  builder.int64_initializer("shape", {-1, 3});
  set_int(builder.node("Gather", "", {"X", "one"}, {"code"}), "axis", 1);
  set_int(builder.node("Cast", "", {"code"}, {"code_int"}), "to", onnx::TensorProto::INT64);
  auto& ohe = builder.ml_node("OneHotEncoder", {"code_int"}, {"ohe"});
  set_ints(ohe, "cats_int64s", {3, 5, 9});
  set_int(ohe, "zeros", 1);
  set_int(builder.node("Concat", "", {"ohe"}, {"ohe_all"}), "axis", -1);
  builder.node("Reshape", "", {"ohe_all", "shape"}, {"ohe_2d"});
  set_int(builder.node("Gather", "", {"X", "zero"}, {"numeric"}), "axis", 1);
  set_int(builder.node("Concat", "", {"numeric", "ohe_2d"}, {"features"}), "axis", 1);
  set_floats(builder.ml_node("LinearRegressor", {"features"}, {"Y"}), "coefficients", {1.0f, 10.0f, 100.0f, 1000.0f});
  builder.output("Y");
  const Predictor predictor = load(builder);
  EXPECT_EQ(predict1(predictor, {0.5, 3.0}), 0.5 + 10.0);
  EXPECT_EQ(predict1(predictor, {0.5, 9.0}), 0.5 + 1000.0);
  EXPECT_EQ(predict1(predictor, {0.5, 4.0}), 0.5);   // unknown category: all zeros
  EXPECT_EQ(predict1(predictor, {0.5, kNan}), 0.5);  // missing: all zeros
}

TEST(OnnxPreprocessing, StringInputsGetCategoryNamesForOneHotAndLabelEncoders) {
  OnnxBuilder builder(1, "x");
  builder.add_input("plan", 1, onnx::TensorProto::STRING);
  builder.add_input("region", 1, onnx::TensorProto::STRING);
  builder.int64_initializer("shape", {-1, 2});
  auto& ohe = builder.ml_node("OneHotEncoder", {"plan"}, {"plan_ohe"});
  set_strings(ohe, "cats_strings", {"basic", "premium"});
  builder.node("Reshape", "", {"plan_ohe", "shape"}, {"plan_2d"});
  auto& label = builder.ml_node("LabelEncoder", {"region"}, {"region_code"});
  set_strings(label, "keys_strings", {"north", "south", "east"});
  set_ints(label, "values_int64s", {2, 0, 1});
  set_int(builder.node("Cast", "", {"region_code"}, {"region_float"}), "to", onnx::TensorProto::FLOAT);
  set_int(builder.node("Concat", "", {"x", "plan_2d", "region_float"}, {"features"}), "axis", 1);
  set_floats(builder.ml_node("LinearRegressor", {"features"}, {"Y"}), "coefficients", {1.0f, 10.0f, 100.0f, 1000.0f});
  builder.output("Y");
  const Predictor predictor = load(builder);
  const Model& model = predictor.model();
  ASSERT_EQ(model.features.size(), 3u);
  EXPECT_TRUE(model.has_feature_names);
  EXPECT_EQ(model.features[1].categories, (std::vector<std::string>{"basic", "premium"}));
  EXPECT_EQ(model.features[2].categories, (std::vector<std::string>{"north", "south", "east"}));
  const double premium = category_code(model.features[1], "premium");
  const double north = category_code(model.features[2], "north");
  EXPECT_EQ(predict1(predictor, {2.0, premium, north}), 2.0 + 100.0 + 1000.0 * 2);
  EXPECT_EQ(predict1(predictor, {2.0, kUnknownCategory, kUnknownCategory}), 2.0 + 1000.0 * -1);  // default_int64 = -1

  // Through the command line, with the strings in the CSV.
  const std::string model_path = testing::write_file("strings.onnx", builder.bytes());
  const std::string csv = testing::write_file("strings.csv", "region,plan,x\nsouth,basic,1\neast,gold,3\n");
  const auto result = testing::run_orchard("predict '" + model_path + "' '" + csv + "'");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "prediction\n11\n1003\n");
}

TEST(OnnxPreprocessing, RefusesWhatNoInputStepReproduces) {
  {  // BRANCH_EQ on a Scaler's output.
    const OnnxBuilder builder = split_after([](OnnxBuilder& b) { set_floats(b.ml_node("Scaler", {"X"}, {"p"}), "scale", {2.0f}); }, "BRANCH_EQ", 1.0f, false);
    EXPECT_NE(refusal(builder).find("BRANCH_EQ / BRANCH_NEQ on a Scaler"), std::string::npos);
  }
  {  // An Imputer that replaces a value other than NaN.
    const OnnxBuilder builder = split_after(
        [](OnnxBuilder& b) {
          auto& imputer = b.ml_node("Imputer", {"X"}, {"p"});
          set_floats(imputer, "imputed_value_floats", {1.0f});
          set_float(imputer, "replaced_value_float", 0.0f);
        },
        "BRANCH_LEQ", 1.0f, false);
    EXPECT_NE(refusal(builder).find("replaces the value"), std::string::npos);
  }
  {  // OneHotEncoder with zeros=0.
    OnnxBuilder builder(1);
    set_int(builder.node("Cast", "", {"X"}, {"i"}), "to", onnx::TensorProto::INT64);
    auto& ohe = builder.ml_node("OneHotEncoder", {"i"}, {"o"});
    set_ints(ohe, "cats_int64s", {1, 2});
    set_int(ohe, "zeros", 0);
    builder.output("o");
    EXPECT_NE(refusal(builder).find("zeros=0"), std::string::npos);
  }
  {  // A LabelEncoder whose values are not ordinal codes.
    OnnxBuilder builder(1);
    set_int(builder.node("Cast", "", {"X"}, {"i"}), "to", onnx::TensorProto::INT64);
    auto& label = builder.ml_node("LabelEncoder", {"i"}, {"o"});
    set_ints(label, "keys_int64s", {1, 2});
    set_ints(label, "values_int64s", {5, 7});
    builder.output("o");
    EXPECT_NE(refusal(builder).find("ordinal codes"), std::string::npos);
  }
  {  // A Scaler after an encoder.
    OnnxBuilder builder(1);
    set_int(builder.node("Cast", "", {"X"}, {"i"}), "to", onnx::TensorProto::INT64);
    auto& label = builder.ml_node("LabelEncoder", {"i"}, {"o"});
    set_ints(label, "keys_int64s", {1, 2});
    set_ints(label, "values_int64s", {1, 0});
    set_floats(builder.ml_node("Scaler", {"o"}, {"s"}), "scale", {2.0f});
    set_floats(builder.ml_node("LinearRegressor", {"s"}, {"Y"}), "coefficients", {1.0f});
    builder.output("Y");
    EXPECT_NE(refusal(builder).find("scales a column that an earlier operator transformed"), std::string::npos);
  }
  {  // Strings straight into an estimator.
    OnnxBuilder builder(1);
    builder.add_input("s", 1, onnx::TensorProto::STRING);
    set_floats(builder.ml_node("LinearRegressor", {"s"}, {"Y"}), "coefficients", {1.0f});
    builder.output("Y");
    EXPECT_NE(refusal(builder).find("not float"), std::string::npos);
  }
}

}  // namespace
}  // namespace orchard
