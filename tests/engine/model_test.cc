// Model::validate and Tree::depth (src/engine/model.h).
//
// validate() is the gate between loaders and the compiled engine: every index and size the engine
// trusts (children, features, leaves, categories, linear leaves, groups, base margin, linear part)
// must be checked, and each failure must be Error(kInvalidModel) naming the file and, for tree
// problems, the tree and node at fault. depth() must handle any valid tree, including very deep
// chains (no recursion).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <optional>
#include <string>

#include "common/error.h"
#include "engine/model.h"
#include "support/expectations.h"
#include "support/tree_builders.h"

namespace orchard {
namespace {

using testing::leaf;
using testing::split;

// Tree: node 0 splits on feature 0 -> node 1 (leaf 0), node 2 (split on feature 1 -> leaves 1, 2).
Tree small_tree() {
  Tree tree;
  tree.nodes = {split(0, 0.5, 1, 2), leaf(0), split(1, 1.5, 3, 4), leaf(1), leaf(2)};
  tree.leaf_values = {1.0, 2.0, 3.0};
  return tree;
}

// A valid single-output model with two features and two trees.
Model valid_model() {
  Model model;
  model.source_format = "test";
  model.features = {Feature{"a", FeatureType::kNumeric, {}}, Feature{"b", FeatureType::kNumeric, {}}};
  model.num_outputs = 1;
  model.base_margin = {0.0};
  model.trees = {small_tree(), small_tree()};
  model.output_names = {"prediction"};
  return model;
}

using testing::Contains;

// validate must throw Error(kInvalidModel) whose message names "model.json"; returns the message.
std::string refusal(const Model& model) {
  const std::optional<Error> e = testing::invalid_model_error([&] { model.validate("model.json"); }, "validated");
  if (!e) return {};
  EXPECT_TRUE(Contains(e->what(), "model.json"));
  return e->what();
}

// ---------------------------------------------------------------------------------------------
// Valid models pass.

TEST(ModelValidate, AcceptsValidModels) {
  EXPECT_NO_THROW(valid_model().validate("model.json"));

  Model single_leaf = valid_model();
  single_leaf.trees = {Tree{}};
  single_leaf.trees[0].nodes = {leaf(0)};
  single_leaf.trees[0].leaf_values = {0.5};
  EXPECT_NO_THROW(single_leaf.validate("model.json"));

  Model linear_only = valid_model();
  linear_only.trees.clear();
  linear_only.has_linear = true;
  linear_only.linear = {2, 1, {1.0, 2.0}, {0.5}};
  EXPECT_NO_THROW(linear_only.validate("model.json"));

  Model multiclass = valid_model();
  multiclass.num_outputs = 3;
  multiclass.base_margin = {0, 0, 0};
  multiclass.output_names = {"class_0", "class_1", "class_2"};
  multiclass.trees[0].group = 2;
  multiclass.trees[1].group = 1;
  EXPECT_NO_THROW(multiclass.validate("model.json"));

  Model argmax = multiclass;
  argmax.transform.kind = TransformKind::kArgMax;
  argmax.output_names = {"class"};
  EXPECT_NO_THROW(argmax.validate("model.json"));
}

TEST(ModelValidate, AcceptsCategoricalAndLinearLeaves) {
  Model model = valid_model();
  Tree& tree = model.trees[1];
  tree.nodes[2].kind = NodeKind::kCategorical;
  tree.categories = {9, 1, 4, 7};
  tree.nodes[2].category_begin = 1;
  tree.nodes[2].category_count = 3;  // {1, 4, 7}
  tree.linear_leaves = {LinearLeaf{0.5, {0, 1}, {1.0, -1.0}}};
  tree.nodes[4].linear_leaf = 0;
  EXPECT_NO_THROW(model.validate("model.json"));
}

TEST(ModelValidate, AcceptsVectorLeaves) {
  Model model = valid_model();
  model.num_outputs = 2;
  model.base_margin = {0, 0};
  model.output_names = {"class_0", "class_1"};
  for (Tree& tree : model.trees) {
    tree.leaf_size = 2;
    tree.group = -1;
    tree.leaf_values = {1, 2, 3, 4, 5, 6};
    tree.nodes[1].leaf_index = 0;
    tree.nodes[3].leaf_index = 2;
    tree.nodes[4].leaf_index = 4;
  }
  EXPECT_NO_THROW(model.validate("model.json"));
  model.trees[1].nodes[4].leaf_index = 5;  // 5 + 2 > 6
  EXPECT_TRUE(Contains(refusal(model), "tree 1, node 4"));
  model.trees[1].nodes[4].leaf_index = 4;
  model.trees[0].leaf_size = 3;
  EXPECT_TRUE(Contains(refusal(model), "vector leaves of size 3"));
}

// ---------------------------------------------------------------------------------------------
// Structure: children, cycles, features, leaves.

TEST(ModelValidate, ChildOutOfRange) {
  Model model = valid_model();
  model.trees[1].nodes[2].right = 5;  // the tree has 5 nodes
  const std::string message = refusal(model);
  EXPECT_TRUE(Contains(message, "model.json: tree 1, node 2"));
  EXPECT_TRUE(Contains(message, "child index 5 points outside the tree"));
  EXPECT_TRUE(Contains(message, "an index between 1 and 4"));

  model = valid_model();
  model.trees[0].nodes[0].left = -1;  // a split without a child
  EXPECT_TRUE(Contains(refusal(model), "tree 0, node 0: child index -1"));

  model = valid_model();
  model.trees[0].nodes[2].left = std::numeric_limits<std::int32_t>::max();
  EXPECT_TRUE(Contains(refusal(model), "tree 0, node 2"));
}

TEST(ModelValidate, NodeReachedTwice) {
  Model model = valid_model();
  model.trees[0].nodes[2].left = 1;  // node 1 is already the root's left child
  std::string message = refusal(model);
  EXPECT_TRUE(Contains(message, "tree 0, node 2"));
  EXPECT_TRUE(Contains(message, "node 1 is reached twice"));

  model = valid_model();
  model.trees[0].nodes[0].right = 1;  // both children the same
  EXPECT_TRUE(Contains(refusal(model), "tree 0, node 0: node 1 is reached twice"));

  model = valid_model();
  model.trees[1].nodes[2].right = 2;  // a self loop
  EXPECT_TRUE(Contains(refusal(model), "tree 1, node 2: node 2 is reached twice"));
}

TEST(ModelValidate, CycleBackToRoot) {
  Model model = valid_model();
  model.trees[0].nodes[2].left = 0;
  const std::string message = refusal(model);
  EXPECT_TRUE(Contains(message, "tree 0, node 2"));
  EXPECT_TRUE(Contains(message, "child index 0"));
}

TEST(ModelValidate, FeatureOutOfRange) {
  Model model = valid_model();
  model.trees[1].nodes[2].feature = 2;  // two features
  std::string message = refusal(model);
  EXPECT_TRUE(Contains(message, "model.json: tree 1, node 2"));
  EXPECT_TRUE(Contains(message, "split on feature 2"));
  EXPECT_TRUE(Contains(message, "a feature index below 2"));

  model = valid_model();
  model.trees[0].nodes[0].feature = -1;
  EXPECT_TRUE(Contains(refusal(model), "tree 0, node 0: split on feature -1"));

  model = valid_model();
  model.trees[0].nodes[2].kind = NodeKind::kCategorical;
  model.trees[0].nodes[2].feature = 7;
  EXPECT_TRUE(Contains(refusal(model), "tree 0, node 2: split on feature 7"));
}

TEST(ModelValidate, LeafIndexOutOfRange) {
  Model model = valid_model();
  model.trees[1].nodes[3].leaf_index = 3;  // three leaf values
  const std::string message = refusal(model);
  EXPECT_TRUE(Contains(message, "model.json: tree 1, node 3"));
  EXPECT_TRUE(Contains(message, "leaf value index 3 is out of range"));
  EXPECT_TRUE(Contains(message, "an index below 3"));

  model = valid_model();
  model.trees[0].nodes[1].leaf_index = std::numeric_limits<std::uint32_t>::max();  // no overflow
  EXPECT_TRUE(Contains(refusal(model), "tree 0, node 1"));
}

TEST(ModelValidate, EmptyTreeAndBadLeafSize) {
  Model model = valid_model();
  model.trees[1].nodes.clear();
  EXPECT_TRUE(Contains(refusal(model), "model.json: tree 1: tree has no nodes"));
  model = valid_model();
  model.trees[0].leaf_size = 0;
  EXPECT_TRUE(Contains(refusal(model), "tree 0: leaf size is 0"));
}

TEST(ModelValidate, NanThreshold) {
  Model model = valid_model();
  model.trees[0].nodes[2].threshold = std::numeric_limits<double>::quiet_NaN();
  EXPECT_TRUE(Contains(refusal(model), "tree 0, node 2: threshold is NaN"));
}

TEST(ModelValidate, NonFiniteTreeWeight) {
  Model model = valid_model();
  model.trees[1].weight = std::numeric_limits<double>::infinity();
  EXPECT_TRUE(Contains(refusal(model), "tree 1: tree weight is not finite"));
}

TEST(ModelValidate, CategoryListOutOfRangeOrUnsorted) {
  Model model = valid_model();
  TreeNode& node = model.trees[0].nodes[2];
  node.kind = NodeKind::kCategorical;
  model.trees[0].categories = {1, 4, 7};
  node.category_begin = 1;
  node.category_count = 3;  // 1 + 3 > 3
  EXPECT_TRUE(Contains(refusal(model), "tree 0, node 2: category list is out of range"));
  node.category_begin = 0;
  node.category_count = 3;
  EXPECT_NO_THROW(model.validate("model.json"));
  model.trees[0].categories = {4, 1, 7};
  EXPECT_TRUE(Contains(refusal(model), "tree 0, node 2: category list is not sorted"));
}

TEST(ModelValidate, LinearLeafErrors) {
  Model model = valid_model();
  Tree& tree = model.trees[0];
  tree.nodes[3].linear_leaf = 0;  // no linear leaves
  EXPECT_TRUE(Contains(refusal(model), "tree 0, node 3: linear leaf index out of range"));
  tree.linear_leaves = {LinearLeaf{0.0, {0, 1}, {1.0}}};
  EXPECT_TRUE(Contains(refusal(model), "tree 0, node 3: linear leaf has 2 features but 1 coefficients"));
  tree.linear_leaves = {LinearLeaf{0.0, {0, 2}, {1.0, 1.0}}};
  EXPECT_TRUE(Contains(refusal(model), "tree 0, node 3: linear leaf uses feature 2"));
  tree.linear_leaves = {LinearLeaf{0.0, {-1}, {1.0}}};
  EXPECT_TRUE(Contains(refusal(model), "linear leaf uses feature -1"));
}

// ---------------------------------------------------------------------------------------------
// Model-level sizes: outputs, base margin, groups, linear part, averaging, output names.

TEST(ModelValidate, BaseMarginSize) {
  Model model = valid_model();
  model.base_margin = {0.0, 0.0};
  std::string message = refusal(model);
  EXPECT_TRUE(Contains(message, "base margin has 2 values"));
  EXPECT_TRUE(Contains(message, "1 (one per output)"));
  model.base_margin.clear();
  EXPECT_TRUE(Contains(refusal(model), "base margin has 0 values"));
}

TEST(ModelValidate, GroupOutOfRange) {
  Model model = valid_model();
  model.trees[1].group = 1;  // one output
  std::string message = refusal(model);
  EXPECT_TRUE(Contains(message, "model.json: tree 1"));
  EXPECT_TRUE(Contains(message, "output group 1 is out of range"));
  EXPECT_TRUE(Contains(message, "a group below 1"));
  model.trees[1].group = -1;  // -1 is only for vector leaves
  EXPECT_TRUE(Contains(refusal(model), "tree 1: output group -1"));
}

TEST(ModelValidate, OutputsAndTreesRequired) {
  Model model = valid_model();
  model.num_outputs = 0;
  model.base_margin.clear();
  EXPECT_TRUE(Contains(refusal(model), "model has no outputs"));
  model = valid_model();
  model.trees.clear();
  EXPECT_TRUE(Contains(refusal(model), "neither trees nor a linear part"));
}

TEST(ModelValidate, AverageDivisorMustBePositive) {
  for (double divisor : {0.0, -2.0, std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity()}) {
    SCOPED_TRACE(divisor);
    Model model = valid_model();
    model.average_divisor = divisor;
    EXPECT_TRUE(Contains(refusal(model), "average divisor"));
  }
}

TEST(ModelValidate, LinearPartSizes) {
  Model model = valid_model();
  model.has_linear = true;
  model.linear = {2, 1, {1.0, 2.0}, {0.5}};
  EXPECT_NO_THROW(model.validate("model.json"));
  model.linear.weights = {1.0};
  EXPECT_TRUE(Contains(refusal(model), "linear model weights have the wrong size"));
  model.linear = {2, 1, {1.0, 2.0}, {0.5, 0.5}};
  EXPECT_TRUE(Contains(refusal(model), "wrong size"));
  model.linear = {3, 1, {1.0, 2.0, 3.0}, {0.5}};
  EXPECT_TRUE(Contains(refusal(model), "more weights than features"));
  model.linear = {2, 2, {1.0, 2.0, 3.0, 4.0}, {0.5, 0.5}};
  EXPECT_TRUE(Contains(refusal(model), "groups do not match the outputs"));
}

TEST(ModelValidate, OutputNamesMatchPredictions) {
  Model model = valid_model();
  model.output_names = {"a", "b"};
  EXPECT_TRUE(Contains(refusal(model), "output names"));
}

TEST(ModelNumPredictions, ArgMaxHasOnePrediction) {
  Model model = valid_model();
  model.num_outputs = 4;
  EXPECT_EQ(model.num_predictions(), 4);
  model.transform.kind = TransformKind::kArgMax;
  EXPECT_EQ(model.num_predictions(), 1);
}

// ---------------------------------------------------------------------------------------------
// Tree::depth.

TEST(ModelTreeDepth, SmallTrees) {
  Tree single;
  single.nodes = {leaf(0)};
  EXPECT_EQ(single.depth(), 0);

  Tree stump;
  stump.nodes = {split(0, 0.0, 1, 2), leaf(0), leaf(1)};
  EXPECT_EQ(stump.depth(), 1);

  EXPECT_EQ(small_tree().depth(), 2);

  // Deeper on the left than on the right; node order does not follow the shape.
  Tree lopsided;
  lopsided.nodes = {split(0, 0, 4, 1), leaf(0), leaf(1), leaf(2), split(0, 0, 5, 2), split(0, 0, 3, 6), leaf(3)};
  EXPECT_EQ(lopsided.depth(), 3);
}

TEST(ModelTreeDepth, DeepChainDoesNotOverflowTheStack) {
  // A chain of 200000 splits: node i -> (leaf, i + 1). Recursion this deep would overflow the stack.
  constexpr std::int32_t kSplits = 200000;
  Tree chain;
  chain.nodes.reserve(2 * kSplits + 1);
  for (std::int32_t i = 0; i < kSplits; ++i) chain.nodes.push_back(split(0, 0.0, kSplits + 1 + i, i + 1));
  chain.nodes.push_back(leaf(0));  // node kSplits, the end of the chain
  for (std::int32_t i = 0; i < kSplits; ++i) chain.nodes.push_back(leaf(0));
  chain.leaf_values = {0.0};
  EXPECT_EQ(chain.depth(), kSplits);

  Model model = valid_model();
  model.trees = {chain};
  EXPECT_NO_THROW(model.validate("model.json"));
}

}  // namespace
}  // namespace orchard
