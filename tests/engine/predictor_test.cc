// Predictor::memory_bytes and the memory_bytes of what it holds (src/engine/predictor.h): the bytes
// behind the orchard_model_memory_bytes gauge at /metrics.
//
// The count must grow with the model, and it can never be below what the predictor provably keeps:
// the IR's nodes (Predictor keeps model()) on top of the compiled kernel. Every kernel layout reports
// what it owns: the flat forest, the float32 filter (which keeps two compiled forests) and the
// reference kernel (which keeps a copy of the IR).
#include <gtest/gtest.h>

#include <string>

#include "engine/compiled_forest.h"
#include "engine/predictor.h"
#include "formats/model_loader.h"
#include "support/test_support.h"
#include "support/tree_builders.h"

namespace orchard {
namespace {

using testing::leaf;
using testing::split;

// `trees` copies of a three-leaf tree over two features, in the given precision.
Model model_with(int trees, Precision precision) {
  Model model;
  model.source_format = "test";
  model.input_precision = precision;
  model.accumulation = precision;
  model.features = {Feature{"a", FeatureType::kNumeric, {}}, Feature{"b", FeatureType::kNumeric, {}}};
  model.base_margin = {0.0};
  model.output_names = {"prediction"};
  Tree tree;
  tree.nodes = {split(0, 0.5, 1, 2), leaf(0), split(1, 1.5, 3, 4), leaf(1), leaf(2)};
  tree.leaf_values = {1.0, 2.0, 3.0};
  model.trees.assign(static_cast<std::size_t>(trees), tree);
  return model;
}

std::size_t node_count(const Model& model) {
  std::size_t nodes = 0;
  for (const Tree& tree : model.trees) nodes += tree.nodes.size();
  return nodes;
}

TEST(PredictorMemory, GrowsWithTheTreesInEveryLayout) {
  for (Precision precision : {Precision::kFloat32, Precision::kFloat64}) {
    const Predictor small(model_with(1, precision));
    const Predictor large(model_with(200, precision));
    EXPECT_GT(large.memory_bytes(), small.memory_bytes()) << large.describe();
    // The IR it keeps, and a compiled kernel on top of it.
    EXPECT_GT(large.memory_bytes(), large.model().memory_bytes());
    EXPECT_GE(large.memory_bytes(), node_count(large.model()) * sizeof(TreeNode));
  }
}

TEST(PredictorMemory, KernelsCountWhatTheyKeep) {
  // Plain float64 splits take the float32 filter, which keeps the exact forest and its float32 twin.
  const Model plain = model_with(50, Precision::kFloat64);
  CompileOptions unfiltered;
  unfiltered.allow_float_filter = false;
  const auto exact = compile_forest(plain, unfiltered);
  const auto filtered = compile_forest(plain);
  EXPECT_GT(filtered->memory_bytes(), exact->memory_bytes()) << filtered->describe();
  // Each compiled node is at least a feature and a float threshold.
  EXPECT_GE(exact->memory_bytes(), node_count(plain) / 2 * (sizeof(std::uint32_t) + sizeof(float)));

  // Missing rules that disagree on one feature fall back to the reference kernel, which keeps the IR.
  Model mixed = model_with(50, Precision::kFloat64);
  mixed.trees[1].nodes[0].missing = MissingRule::kZeroGoesDefault;
  const auto reference = compile_forest(mixed);
  ASSERT_NE(reference->describe().find("reference"), std::string::npos) << reference->describe();
  EXPECT_GE(reference->memory_bytes(), mixed.memory_bytes());
}

// The shared fixtures: a large and a small model of each library. Larger models hold more, and every
// model holds at least its IR nodes.
TEST(PredictorMemory, LargerFixtureModelsHoldMore) {
  const auto fixtures = testing::fixtures_dir();
  if (!fixtures) GTEST_SKIP() << "fixtures not found (set ORCHARD_FIXTURES or place them at ../shared/fixtures)";
  const std::string models = *fixtures + "/models/";
  const std::pair<const char*, const char*> pairs[] = {
      {"xgboost/higgs_large.json", "xgboost/binary_breast_cancer.json"},
      {"xgboost/churn_missing.ubj", "xgboost/regression_diabetes.ubj"},
      {"lightgbm/higgs_large.txt", "lightgbm/regression_diabetes.txt"},     // float64: the float32 filter
      {"lightgbm/churn_categorical.txt", "lightgbm/rf_breast_cancer.txt"},  // categorical splits: pointer trees
  };
  for (const auto& [large_file, small_file] : pairs) {
    SCOPED_TRACE(std::string(large_file) + " vs " + small_file);
    const Predictor large(load_model_file(models + large_file), large_file);
    const Predictor small(load_model_file(models + small_file), small_file);
    ASSERT_GT(node_count(large.model()), node_count(small.model()));
    EXPECT_GT(large.memory_bytes(), small.memory_bytes());
    for (const Predictor* predictor : {&large, &small}) {
      EXPECT_GE(predictor->memory_bytes(), node_count(predictor->model()) * sizeof(TreeNode));
      EXPECT_GT(predictor->memory_bytes(), predictor->model().memory_bytes());
    }
  }
}

TEST(PredictorMemory, LinearLeavesAndLinearModelsAreCounted) {
  const auto fixtures = testing::fixtures_dir();
  if (!fixtures) GTEST_SKIP() << "fixtures not found (set ORCHARD_FIXTURES or place them at ../shared/fixtures)";
  for (const char* file : {"lightgbm/linear_tree_diabetes.txt", "xgboost/gblinear_diabetes.json"}) {
    SCOPED_TRACE(file);
    const Predictor predictor(load_model_file(*fixtures + "/models/" + file), file);
    std::size_t linear = vector_bytes(predictor.model().linear.weights);
    for (const Tree& tree : predictor.model().trees) {
      for (const LinearLeaf& leaf : tree.linear_leaves) linear += vector_bytes(leaf.coefficients);
    }
    EXPECT_GT(linear, 0u);
    EXPECT_GE(predictor.memory_bytes(), node_count(predictor.model()) * sizeof(TreeNode) + linear);
  }
}

}  // namespace
}  // namespace orchard
