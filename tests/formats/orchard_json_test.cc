// OrchardJsonLoader (src/formats/orchard_json.h; the format: docs/model-format.md).
//
// A small complete document pins down the IR every field maps to and its predictions on
// hand-computed rows; then every field is broken in turn (wrong type, unknown name, out of range,
// mismatched lengths, wrong version) and must be refused with Error(kInvalidModel) naming the file and
// the JSON path; truncations of a valid document at every byte must be refused, never crash; deep
// nesting is refused quickly.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <limits>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "engine/predictor.h"
#include "formats/model_loader.h"
#include "formats/orchard_json.h"
#include "support/expectations.h"
#include "support/test_support.h"

namespace orchard {
namespace {

using json = nlohmann::json;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// The example of docs/model-format.md: a churn classifier over age (imputed, standardized) and plan
// (one-hot over names), with two trees averaged, a linear part and a sigmoid pair.
json example() {
  return json::parse(R"({
    "format": "orchard-model",
    "version": 1,
    "producer": "hand-written",
    "objective": "example",
    "features": [
      {"name": "age", "type": "numeric"},
      {"name": "plan", "type": "categorical", "categories": ["basic", "premium"]}
    ],
    "input_steps": [
      {"kind": "standardize", "source": 0, "fill": 40, "offset": 40, "scale": 10},
      {"kind": "one_hot", "source": 1, "values": [0, 1]}
    ],
    "input_precision": "float32",
    "comparison": "<=",
    "accumulation": "float64",
    "num_outputs": 1,
    "base_margin": [0.5],
    "average_divisor": 2,
    "raw_is_averaged": true,
    "transform": {"kind": "sigmoid_pair", "precision": "float64"},
    "output_names": ["stays", "churns"],
    "linear": {"coefficients": [[1.0, 0.0, 0.25]], "bias": [-0.5]},
    "trees": [
      {"left": [1, -1, -1], "right": [2, -1, -1], "feature": [0, -1, -1], "threshold": [0.0, 0, 0],
       "default_left": [true, false, false], "leaf_value": [null, -1.0, 1.0]},
      {"group": 0, "weight": 1.0, "left": [1, -1, -1], "right": [2, -1, -1], "feature": [2, -1, -1],
       "threshold": [0.5, 0, 0], "leaf_value": [null, 0.0, 2.0]}
    ]
  })");
}

Model load(const json& document) { return load_model_bytes(document.dump(), "model.json"); }

// Loading must fail with kInvalidModel; returns the message.
std::string refusal(const std::string& bytes) {
  const std::optional<Error> e = testing::invalid_model_error([&] { load_model_bytes(bytes, "model.json"); }, "loaded");
  if (!e) return {};
  EXPECT_NE(std::string(e->what()).find("model.json"), std::string::npos) << e->what();
  return e->what();
}

std::string refusal(const json& document) { return refusal(document.dump()); }

using testing::Contains;

TEST(OrchardJson, ExampleMapsOntoTheIr) {
  const Model model = load(example());
  EXPECT_EQ(model.source_format, "orchard-json");
  EXPECT_EQ(model.objective, "example");
  ASSERT_EQ(model.num_features(), 2);
  EXPECT_TRUE(model.has_feature_names);
  EXPECT_EQ(model.features[1].categories, (std::vector<std::string>{"basic", "premium"}));
  EXPECT_EQ(model.features[1].type, FeatureType::kCategorical);
  ASSERT_EQ(model.input_steps.size(), 2u);
  EXPECT_EQ(model.input_steps[0].kind, InputStepKind::kStandardize);
  EXPECT_EQ(model.input_steps[0].fill, 40.0);
  EXPECT_EQ(model.input_steps[0].scale, 10.0);
  EXPECT_EQ(model.input_steps[1].kind, InputStepKind::kOneHot);
  EXPECT_EQ(model.num_columns(), 3);
  EXPECT_EQ(model.input_precision, Precision::kFloat32);
  EXPECT_EQ(model.comparison, Comparison::kLessOrEqual);
  EXPECT_EQ(model.transform.kind, TransformKind::kSigmoidPair);
  EXPECT_EQ(model.num_predictions(), 2);
  EXPECT_EQ(model.average_divisor, 2.0);
  ASSERT_TRUE(model.has_linear);
  EXPECT_EQ(model.linear.weights, (std::vector<double>{1.0, 0.0, 0.25}));
  ASSERT_EQ(model.trees.size(), 2u);
  EXPECT_TRUE(model.trees[0].nodes[0].default_left);
  EXPECT_EQ(model.trees[0].nodes[1].kind, NodeKind::kLeaf);
  EXPECT_EQ(model.trees[1].nodes[0].feature, 2);
  EXPECT_EQ(model.output_names, (std::vector<std::string>{"stays", "churns"}));
}

TEST(OrchardJson, ExamplePredictsByHand) {
  const Predictor predictor(load(example()), "model.json");
  // age 50 -> 1.0 (> 0: tree 0 right, +1), plan premium -> column 2 = 1 (> 0.5: tree 1 right, +2).
  // margin = 0.5 + (-0.5 + 1.0 * 1.0 + 0.25 * 1) + (1 + 2); averaged: / 2.
  const double row[2] = {50.0, 1.0};
  double out[2];
  predictor.predict_row(row, out, true);
  const double margin = (0.5 + (-0.5 + 1.0 + 0.25) + 3.0) / 2.0;
  EXPECT_DOUBLE_EQ(out[0], margin);
  predictor.predict_row(row, out, false);
  EXPECT_DOUBLE_EQ(out[1], 1.0 / (1.0 + std::exp(-margin)));
  EXPECT_DOUBLE_EQ(out[0], 1.0 - out[1]);
  // age missing -> 40 -> 0.0 (<= 0: left, -1); plan basic: tree 1 left (0).
  const double missing[2] = {kNaN, 0.0};
  predictor.predict_row(missing, out, true);
  EXPECT_DOUBLE_EQ(out[0], (0.5 + (-0.5 + 0.0 + 0.0) - 1.0 + 0.0) / 2.0);
}

TEST(OrchardJson, DefaultsAndOptionalFields) {
  json document = example();
  for (const char* key : {"producer", "objective", "input_precision", "comparison", "accumulation", "base_margin",
                          "average_divisor", "raw_is_averaged", "transform", "output_names", "input_steps", "linear"}) {
    document.erase(key);
  }
  document["features"] = json::parse(R"([{"name": "a"}, {"name": "b"}, {"name": "c"}])");
  document["match_by"] = "position";
  const Model model = load(document);
  EXPECT_FALSE(model.has_feature_names);
  EXPECT_EQ(model.input_precision, Precision::kFloat64);
  EXPECT_EQ(model.base_margin, std::vector<double>{0.0});
  EXPECT_EQ(model.transform.kind, TransformKind::kIdentity);
  EXPECT_EQ(model.output_names, std::vector<std::string>{"prediction"});
  EXPECT_FALSE(model.has_linear);
}

TEST(OrchardJson, VectorLeavesCategoricalSplitsAndMissingRules) {
  json document = json::parse(R"({
    "format": "orchard-model", "version": 1,
    "features": [{"name": "x"}, {"name": "c", "type": "categorical"}],
    "num_outputs": 2, "transform": {"kind": "softmax"},
    "trees": [{"leaf_size": 2, "left": [1, -1, -1], "right": [2, -1, -1], "feature": [1, -1, -1],
               "categories": [[1, 3], null, null], "categories_go_left": [false, false, false],
               "missing": ["nan_as_zero", "nan_default", "nan_default"],
               "leaf_value": [null, [1.0, 0.0], [0.0, 1.0]]}]
  })");
  const Model model = load(document);
  const TreeNode& root = model.trees[0].nodes[0];
  EXPECT_EQ(root.kind, NodeKind::kCategorical);
  EXPECT_FALSE(root.categories_go_left);
  EXPECT_EQ(root.missing, MissingRule::kNanAsZero);
  EXPECT_EQ(model.trees[0].group, -1);
  EXPECT_EQ(model.output_names, (std::vector<std::string>{"prediction_0", "prediction_1"}));
  const Predictor predictor(model, "model.json");
  double out[2];
  const double in_set[2] = {0.0, 3.0};  // listed categories go right: [0, 1] margins
  predictor.predict_row(in_set, out, true);
  EXPECT_EQ(out[1], 1.0);
  const double other[2] = {0.0, 2.0};
  predictor.predict_row(other, out, true);
  EXPECT_EQ(out[0], 1.0);
}

TEST(OrchardJson, InfiniteThresholdsAreStrings) {
  json document = example();
  document["trees"][0]["threshold"][0] = "inf";
  document["trees"][1]["threshold"][0] = "-inf";
  const Model model = load(document);
  EXPECT_EQ(model.trees[0].nodes[0].threshold, std::numeric_limits<double>::infinity());
  EXPECT_EQ(model.trees[1].nodes[0].threshold, -std::numeric_limits<double>::infinity());
}

TEST(OrchardJson, IsDetectedBeforeXgboostJson) {
  EXPECT_EQ(load(example()).source_format, "orchard-json");
  const OrchardJsonLoader loader;
  EXPECT_TRUE(loader.recognizes("  \n{\"format\": \"orchard-model\"}"));
  EXPECT_FALSE(loader.recognizes("{\"learner\": {}}"));
  EXPECT_FALSE(loader.recognizes("[\"orchard-model\"]"));
}

// Each case breaks one field; the message must name the path and say what was expected.
struct Broken {
  const char* pointer;  // JSON pointer of the field to replace
  const char* value;    // the replacement (JSON)
  const char* message;  // a part of the error message
};

TEST(OrchardJson, RefusesEveryBrokenField) {
  const Broken cases[] = {
      {"/format", "\"orchard\"", "at /format: format is \"orchard\""},
      {"/version", "2", "version 2 is not one this Orchard reads"},
      {"/version", "\"1\"", "at /version: not an integer"},
      {"/features", "{}", "at /features: not an array"},
      {"/features/0/name", "3", "at /features/0/name: not a string"},
      {"/features/1/type", "\"text\"", "unknown value \"text\""},
      {"/features/1/categories", "[1, 2]", "at /features/1/categories/0: not a string"},
      {"/input_steps/0/kind", "\"log\"", "at /input_steps/0/kind: unknown value \"log\""},
      {"/input_steps/0/source", "2", "at /input_steps/0/source: value 2 is out of range"},
      {"/input_steps/0/scale", "0", "non-zero"},
      {"/input_steps/0/fill", "\"x\"", "at /input_steps/0/fill: not a number"},
      {"/input_steps/1/values", "[0, 0]", "repeat"},
      {"/input_steps/1/values/1", "\"b\"", "at /input_steps/1/values/1: not a number"},
      {"/input_precision", "\"float16\"", "at /input_precision: unknown value \"float16\""},
      {"/comparison", "\">\"", "at /comparison"},
      {"/num_outputs", "0", "at /num_outputs: value 0 is out of range"},
      {"/base_margin", "[0, 1]", "at /base_margin: has 2 entries"},
      {"/average_divisor", "-1", "at /average_divisor: is not positive"},
      {"/transform/kind", "\"tanh\"", "at /transform/kind: unknown value \"tanh\""},
      {"/output_names", "[\"a\"]", "at /output_names: has 1 entries"},
      {"/linear/coefficients", "[[1, 2, 3, 4]]", "at /linear/coefficients/0: has 4 coefficients"},
      {"/linear/bias", "[1, 2]", "at /linear/bias: has 2 entries"},
      {"/trees", "{}", "at /trees: not an array"},
      {"/trees/0/left", "[]", "at /trees/0/left: tree has no nodes"},
      {"/trees/0/right", "[2, -1]", "at /trees/0/right: has 2 entries"},
      {"/trees/0/left/0", "7", "at /trees/0/left/0: value 7 is out of range"},
      {"/trees/0/right/0", "-1", "at /trees/0/right/0: a node with one child"},
      {"/trees/0/left/2", "0", "at /trees/0/right/2: a node with one child"},
      {"/trees/0/feature/0", "3", "at /trees/0/feature/0: value 3 is out of range"},
      {"/trees/0/threshold/0", "null", "at /trees/0/threshold/0: not a number"},
      {"/trees/0/threshold/0", "\"Infinity\"", "at /trees/0/threshold/0: threshold \"Infinity\" is not a number"},
      {"/trees/0/leaf_value/1", "null", "at /trees/0/leaf_value/1: not a number"},
      {"/trees/0/leaf_value/1", "1e999", "not valid JSON"},
      {"/trees/0/default_left/0", "\"yes\"", "at /trees/0/default_left/0: not a boolean"},
      {"/trees/0/group", "1", "at /trees/0/group: value 1 is out of range"},
      {"/trees/1/leaf_size", "3", "at /trees/1/leaf_size: vector leaves of size 3"},
      {"/trees/1/categories", "[[2, 1], null, null]", "at /trees/1/categories/0: categories are not in increasing order"},
      {"/trees/1/right", "[1, -1, -1]", "reached twice"},
  };
  for (const Broken& broken : cases) {
    SCOPED_TRACE(std::string(broken.pointer) + " = " + broken.value);
    json document = example();
    document["objective"] = "orchard-model";  // still recognized when "format" itself is wrong
    const std::string text = broken.value;
    if (text == "1e999") {
      std::string bytes = document.dump();
      const std::string leaf = "\"leaf_value\":[null,-1.0,1.0]";
      const std::size_t at = bytes.find(leaf);
      ASSERT_NE(at, std::string::npos);
      bytes.replace(at, leaf.size(), "\"leaf_value\":[null,1e999,1.0]");
      EXPECT_TRUE(Contains(refusal(bytes), broken.message));
      continue;
    }
    document[json::json_pointer(broken.pointer)] = json::parse(text);
    EXPECT_TRUE(Contains(refusal(document), broken.message));
  }
}

TEST(OrchardJson, RefusesMissingRequiredFields) {
  for (const char* key : {"version", "features", "num_outputs"}) {
    json document = example();
    document.erase(key);
    EXPECT_TRUE(Contains(refusal(document), std::string("missing \"") + key + "\"")) << key;
  }
  json no_model = example();
  no_model.erase("trees");
  no_model.erase("linear");
  EXPECT_TRUE(Contains(refusal(no_model), "neither trees nor a linear part"));
  json tree = example();
  tree["trees"][0].erase("leaf_value");
  EXPECT_TRUE(Contains(refusal(tree), "at /trees/0: missing \"leaf_value\""));
}

TEST(OrchardJson, EveryTruncationIsRefused) {
  const std::string bytes = example().dump(1);
  for (std::size_t n = 1; n < bytes.size(); ++n) {
    const std::string prefix = bytes.substr(0, n);
    try {
      load_model_bytes(prefix, "model.json");
      ADD_FAILURE() << "a truncation to " << n << " bytes loaded";
    } catch (const Error& e) {
      ASSERT_EQ(e.kind(), ErrorKind::kInvalidModel) << e.what();
    }
  }
}

TEST(OrchardJson, DeepNestingIsRefusedQuickly) {
  const std::string bytes = "{\"format\":\"orchard-model\",\"version\":1,\"x\":" + std::string(200000, '[') + std::string(200000, ']') + "}";
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(Contains(refusal(bytes), "deeper than 64 levels"));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
}

TEST(OrchardJson, NotJsonIsRefusedNamingThePosition) {
  EXPECT_TRUE(Contains(refusal(std::string("{\"format\":\"orchard-model\",\"version\":1,}")), "not valid JSON"));
}

}  // namespace
}  // namespace orchard
