// The compiled engine against the reference evaluator (its oracle), on random models that exercise
// every IR feature and on inputs chosen to sit on the edges: NaN, +-0, +-inf, thresholds and their
// neighbouring floats and doubles, LightGBM's zero threshold, negative / huge / fractional categories.
// Every layout (complete trees with and without SIMD, pointer trees) must agree bit for bit.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include "common/error.h"
#include "engine/compiled_forest.h"
#include "engine/reference_evaluator.h"

namespace orchard {
namespace {

struct Flavor {
  const char* name;
  Precision input;
  Comparison comparison;
  Precision accumulation;
  bool lightgbm_missing;  // per-feature None / Zero / NaN rules as LightGBM writes them
  bool categorical;
  bool vector_leaves;
  bool linear_leaves;
};

const Flavor kFlavors[] = {
    {"xgboost", Precision::kFloat32, Comparison::kLessThan, Precision::kFloat32, false, false, false, false},
    {"xgboost_categorical", Precision::kFloat32, Comparison::kLessThan, Precision::kFloat32, false, true, false, false},
    {"lightgbm", Precision::kFloat64, Comparison::kLessOrEqual, Precision::kFloat64, true, false, false, false},
    {"lightgbm_categorical", Precision::kFloat64, Comparison::kLessOrEqual, Precision::kFloat64, true, true, false, false},
    {"lightgbm_linear", Precision::kFloat64, Comparison::kLessOrEqual, Precision::kFloat64, true, false, false, true},
    {"sklearn_vector", Precision::kFloat32, Comparison::kLessOrEqual, Precision::kFloat64, false, false, true, false},
    // Plain float64 models take the float32 filter (float_filtered_forest.h); the edge inputs (thresholds
    // and their neighbouring doubles) are exactly the rows it must hand to the exact kernel.
    {"hist_gradient_boosting", Precision::kFloat64, Comparison::kLessOrEqual, Precision::kFloat64, false, false, false, false},
    {"float64_strict_vector", Precision::kFloat64, Comparison::kLessThan, Precision::kFloat32, false, false, true, false},
};

void PrintTo(const Flavor& flavor, std::ostream* os) { *os << flavor.name; }

class RandomModels {
 public:
  explicit RandomModels(std::uint32_t seed) : rng_(seed) {}

  Model make(const Flavor& flavor, int num_features, int num_outputs, int num_trees, int max_depth) {
    Model model;
    model.source_format = "test";
    model.input_precision = flavor.input;
    model.comparison = flavor.comparison;
    model.accumulation = flavor.accumulation;
    model.num_outputs = num_outputs;
    for (int f = 0; f < num_features; ++f) model.features.push_back({"f" + std::to_string(f), FeatureType::kNumeric, {}});
    for (int k = 0; k < num_outputs; ++k) model.base_margin.push_back(uniform(-1, 1));
    for (int k = 0; k < num_outputs; ++k) model.output_names.push_back("o" + std::to_string(k));
    // One missing rule per feature, as LightGBM's bin mappers produce; categorical features apart.
    rules_.assign(static_cast<std::size_t>(num_features), MissingRule::kNanGoesDefault);
    categorical_.assign(static_cast<std::size_t>(num_features), false);
    for (int f = 0; f < num_features; ++f) {
      if (flavor.categorical && f % 3 == 2) {
        categorical_[static_cast<std::size_t>(f)] = true;
        model.features[static_cast<std::size_t>(f)].type = FeatureType::kCategorical;
      } else if (flavor.lightgbm_missing) {
        rules_[static_cast<std::size_t>(f)] = static_cast<MissingRule>(f % 3);
      }
    }
    thresholds_.assign(static_cast<std::size_t>(num_features), {});
    for (auto& list : thresholds_) {
      for (int i = 0; i < 6; ++i) list.push_back(round_to(flavor.input, uniform(-3, 3)));
      list.push_back(0.0);
    }
    for (int t = 0; t < num_trees; ++t) {
      Tree tree;
      const bool vector = flavor.vector_leaves && num_outputs > 1;
      tree.group = vector ? -1 : t % num_outputs;
      tree.leaf_size = vector ? num_outputs : 1;
      if (t % 7 == 3) tree.weight = 0.5 + uniform(0, 1);
      const int depth = t % 5 == 0 ? 0 : 1 + static_cast<int>(rng_() % static_cast<std::uint32_t>(max_depth));
      grow(flavor, tree, depth, num_features, 0.25);
      model.trees.push_back(std::move(tree));
    }
    model.validate("random model");
    return model;
  }

  // Inputs that sit on thresholds, beside them, and on every special value.
  std::vector<double> make_rows(const Flavor& flavor, int num_features, int rows) {
    std::vector<double> out;
    for (int r = 0; r < rows; ++r) {
      for (int f = 0; f < num_features; ++f) out.push_back(edge_value(flavor, f));
    }
    return out;
  }

 private:
  double uniform(double lo, double hi) { return std::uniform_real_distribution<double>(lo, hi)(rng_); }

  static double round_to(Precision p, double v) { return p == Precision::kFloat32 ? static_cast<double>(static_cast<float>(v)) : v; }

  double edge_value(const Flavor& flavor, int f) {
    const auto& list = thresholds_[static_cast<std::size_t>(f)];
    const double t = list[rng_() % list.size()];
    switch (rng_() % 14) {
      case 0: return std::numeric_limits<double>::quiet_NaN();
      case 1: return 0.0;
      case 2: return -0.0;
      case 3: return kZeroThreshold;
      case 4: return -kZeroThreshold * 0.5;
      case 5: return (rng_() % 2 ? 1 : -1) * std::numeric_limits<double>::infinity();
      case 6: return t;
      case 7: return std::nextafter(t, 10.0);   // the next double: between float(t) and the next float
      case 8: return std::nextafter(t, -10.0);
      case 9: return static_cast<double>(std::nextafter(static_cast<float>(t), 10.0f));
      case 10: return static_cast<double>(std::nextafter(static_cast<float>(t), -10.0f));
      case 11:
        if (categorical_[static_cast<std::size_t>(f)]) {
          const double picks[] = {-1.0, -0.5, 0.5, 3.7, 31.0, 32.0, 64.0, 1e10, 2147483648.0};
          return picks[rng_() % 9];
        }
        return uniform(-4, 4);
      default:
        if (categorical_[static_cast<std::size_t>(f)]) return static_cast<double>(rng_() % 40);
        (void)flavor;
        return uniform(-4, 4);
    }
  }

  std::int32_t grow(const Flavor& flavor, Tree& tree, int depth, int num_features, double early_leaf) {
    const auto index = static_cast<std::int32_t>(tree.nodes.size());
    tree.nodes.emplace_back();
    if (depth == 0 || (tree.nodes.size() > 1 && uniform(0, 1) < early_leaf)) {
      TreeNode& leaf = tree.nodes[static_cast<std::size_t>(index)];
      leaf.kind = NodeKind::kLeaf;
      leaf.leaf_index = static_cast<std::uint32_t>(tree.leaf_values.size());
      for (int k = 0; k < tree.leaf_size; ++k) tree.leaf_values.push_back(uniform(-1, 1));
      if (flavor.linear_leaves && uniform(0, 1) < 0.7) {
        LinearLeaf linear;
        linear.constant = uniform(-1, 1);
        for (int j = 0; j < 2; ++j) {
          linear.features.push_back(static_cast<std::int32_t>(rng_() % static_cast<std::uint32_t>(num_features)));
          linear.coefficients.push_back(uniform(-1, 1));
        }
        tree.nodes[static_cast<std::size_t>(index)].linear_leaf = static_cast<std::int32_t>(tree.linear_leaves.size());
        tree.linear_leaves.push_back(std::move(linear));
      }
      return index;
    }
    const auto feature = static_cast<std::int32_t>(rng_() % static_cast<std::uint32_t>(num_features));
    TreeNode node;
    node.feature = feature;
    node.default_left = rng_() % 2 == 0;
    if (categorical_[static_cast<std::size_t>(feature)]) {
      node.kind = NodeKind::kCategorical;
      node.categories_go_left = flavor.lightgbm_missing;  // LightGBM lists the left side, XGBoost the right
      if (flavor.lightgbm_missing) node.default_left = false;
      node.category_begin = static_cast<std::uint32_t>(tree.categories.size());
      for (std::uint32_t c = 0; c < 40; ++c) {
        if (rng_() % 3 == 0) tree.categories.push_back(c);
      }
      node.category_count = static_cast<std::uint32_t>(tree.categories.size()) - node.category_begin;
    } else {
      node.kind = NodeKind::kNumerical;
      node.missing = rules_[static_cast<std::size_t>(feature)];
      const auto& list = thresholds_[static_cast<std::size_t>(feature)];
      node.threshold = list[rng_() % list.size()];
      if (rng_() % 50 == 0) node.threshold = (rng_() % 2 ? 1 : -1) * std::numeric_limits<double>::infinity();
    }
    node.left = grow(flavor, tree, depth - 1, num_features, early_leaf);
    node.right = grow(flavor, tree, depth - 1, num_features, early_leaf);
    tree.nodes[static_cast<std::size_t>(index)] = node;
    return index;
  }

  std::mt19937 rng_;
  std::vector<MissingRule> rules_;
  std::vector<bool> categorical_;
  std::vector<std::vector<double>> thresholds_;
};

// Bitwise equality, so that -0.0 vs 0.0 or NaN payloads would show.
void expect_same_bits(const std::vector<double>& a, const std::vector<double>& b, const std::string& what) {
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::memcmp(&a[i], &b[i], sizeof(double)) != 0) {
      FAIL() << what << ": value " << i << " differs: " << a[i] << " vs " << b[i];
    }
  }
}

class CompiledForestVsReference : public ::testing::TestWithParam<Flavor> {};

TEST_P(CompiledForestVsReference, AllLayoutsAgreeBitForBit) {
  const Flavor& flavor = GetParam();
  for (std::uint32_t seed = 1; seed <= 6; ++seed) {
    RandomModels random(seed * 7919);
    const int features = 3 + static_cast<int>(seed % 5) * 3;
    const int outputs = flavor.vector_leaves || seed % 3 == 0 ? 3 : 1;
    const int max_depth = seed % 2 ? 6 : 13;  // deep trees take the pointer layout
    const Model model = random.make(flavor, features, outputs, 40, max_depth);
    const int rows = 203;  // not a multiple of 16 or 64: exercises the scalar tails
    const std::vector<double> x = random.make_rows(flavor, features, rows);
    const std::size_t no = static_cast<std::size_t>(outputs);

    std::vector<double> expected(static_cast<std::size_t>(rows) * no);
    for (int r = 0; r < rows; ++r) {
      reference_margins(model, x.data() + r * features, expected.data() + static_cast<std::size_t>(r) * no);
    }
    const CompileOptions variants[] = {{true, true, true, 0}, {false, true, true, 1}, {false, false, true, 0}, {true, true, false, 1},
                                       {true, true, true, -1}};
    for (const CompileOptions& options : variants) {
      const auto kernel = compile_forest(model, options);
      const std::string what = std::string(flavor.name) + " seed " + std::to_string(seed) + " simd=" +
                               std::to_string(options.allow_simd) + " perfect=" + std::to_string(options.allow_perfect) +
                               " float_filter=" + std::to_string(options.allow_float_filter) +
                               " interleave_single_rows=" + std::to_string(options.interleave_single_rows) +
                               " [" + kernel->describe() + "]";
      std::vector<double> block(expected.size());
      kernel->margins_block(x.data(), static_cast<std::size_t>(rows), block.data());
      expect_same_bits(block, expected, what + " block");
      std::vector<double> single(expected.size());
      for (int r = 0; r < rows; ++r) kernel->margins_row(x.data() + r * features, single.data() + static_cast<std::size_t>(r) * no);
      expect_same_bits(single, expected, what + " row");
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Flavors, CompiledForestVsReference, ::testing::ValuesIn(kFlavors),
                         [](const auto& flavor_info) { return std::string(flavor_info.param.name); });

Model stump(Comparison comparison, Precision precision, double threshold, MissingRule rule, bool default_left) {
  Model model;
  model.input_precision = precision;
  model.comparison = comparison;
  model.accumulation = precision;
  model.features = {{"x", FeatureType::kNumeric, {}}};
  model.base_margin = {0.0};
  model.output_names = {"prediction"};
  Tree tree;
  tree.nodes.resize(3);
  tree.nodes[0].kind = NodeKind::kNumerical;
  tree.nodes[0].feature = 0;
  tree.nodes[0].threshold = threshold;
  tree.nodes[0].missing = rule;
  tree.nodes[0].default_left = default_left;
  tree.nodes[0].left = 1;
  tree.nodes[0].right = 2;
  tree.nodes[1].leaf_index = 0;
  tree.nodes[2].leaf_index = 1;
  tree.leaf_values = {-1.0, 1.0};  // left -1, right +1
  model.trees.push_back(tree);
  model.validate("stump");
  return model;
}

double predict_one(const Model& model, double x) {
  double margin = 0;
  compile_forest(model)->margins_row(&x, &margin);
  return margin;
}

// The semantics themselves, spelled out (the random test only proves the two paths agree).
TEST(CompiledForestSemantics, XgboostComparesStrictlyInFloat) {
  const Model model = stump(Comparison::kLessThan, Precision::kFloat32, 0.5, MissingRule::kNanGoesDefault, true);
  EXPECT_EQ(predict_one(model, 0.49), -1.0);
  EXPECT_EQ(predict_one(model, 0.5), 1.0);                          // x < t fails at equality
  EXPECT_EQ(predict_one(model, 0.5 - 1e-12), 1.0);                  // rounds to 0.5f first
  EXPECT_EQ(predict_one(model, std::nan("")), -1.0);                // default left
  EXPECT_EQ(predict_one(model, -std::numeric_limits<double>::infinity()), -1.0);
}

TEST(CompiledForestSemantics, LightgbmComparesInclusivelyInDouble) {
  const Model model = stump(Comparison::kLessOrEqual, Precision::kFloat64, 0.1, MissingRule::kNanGoesDefault, false);
  EXPECT_EQ(predict_one(model, 0.1), -1.0);
  EXPECT_EQ(predict_one(model, std::nextafter(0.1, 1.0)), 1.0);     // a float compare would call this equal
  EXPECT_EQ(predict_one(model, std::nan("")), 1.0);                 // default right
}

TEST(CompiledForestSemantics, LightgbmMissingTypes) {
  // None: NaN is 0.0, compared normally.
  const Model none = stump(Comparison::kLessOrEqual, Precision::kFloat64, -0.5, MissingRule::kNanAsZero, true);
  EXPECT_EQ(predict_one(none, std::nan("")), 1.0);
  // Zero: NaN and |x| <= 1e-35 take the default side, larger values compare.
  const Model zero = stump(Comparison::kLessOrEqual, Precision::kFloat64, -0.5, MissingRule::kZeroGoesDefault, true);
  EXPECT_EQ(predict_one(zero, std::nan("")), -1.0);
  EXPECT_EQ(predict_one(zero, 0.0), -1.0);
  EXPECT_EQ(predict_one(zero, 1e-36), -1.0);
  EXPECT_EQ(predict_one(zero, 1e-30), 1.0);
}

TEST(CompiledForestSemantics, StrictComparisonAgainstMinusInfinityNeverGoesLeft) {
  const Model model = stump(Comparison::kLessThan, Precision::kFloat32, -std::numeric_limits<double>::infinity(),
                            MissingRule::kNanGoesDefault, true);
  EXPECT_EQ(predict_one(model, -std::numeric_limits<double>::infinity()), 1.0);
  EXPECT_EQ(predict_one(model, std::nan("")), -1.0);
}

TEST(CompiledForestSemantics, MixedMissingRulesOnOneFeatureFallBackToTheReference) {
  Model model = stump(Comparison::kLessOrEqual, Precision::kFloat64, 0.5, MissingRule::kNanAsZero, true);
  Tree second = model.trees[0];
  second.nodes[0].missing = MissingRule::kNanGoesDefault;
  model.trees.push_back(second);
  model.validate("mixed");
  const auto kernel = compile_forest(model);
  EXPECT_NE(kernel->describe().find("reference"), std::string::npos);
  double x = std::nan(""), margin = 0;
  kernel->margins_row(&x, &margin);
  EXPECT_EQ(margin, -1.0 + -1.0);  // None: 0 <= 0.5 goes left; NaN rule: default left
}

}  // namespace
}  // namespace orchard

namespace orchard {
namespace {

// Vector leaves (scikit-learn forest classifiers) and unbalanced trees up to depth 8 (HistGradientBoosting)
// take the complete layout: the fast path, not the pointer walk.
TEST(CompiledForestLayout, VectorLeavesAndSparseShallowTreesAreComplete) {
  for (const bool vector : {true, false}) {
    Model model;
    model.source_format = "test";
    model.input_precision = Precision::kFloat32;
    model.num_outputs = vector ? 2 : 1;
    model.base_margin.assign(static_cast<std::size_t>(model.num_outputs), 0.0);
    model.output_names = vector ? std::vector<std::string>{"a", "b"} : std::vector<std::string>{"a"};
    model.features = {Feature{"x", FeatureType::kNumeric, {}}};
    // A chain of depth 8: 9 leaves only, far fewer than the 256 slots of its complete form.
    Tree tree;
    tree.leaf_size = vector ? 2 : 1;
    tree.group = vector ? -1 : 0;
    for (int level = 0; level < 8; ++level) {
      TreeNode split;
      split.kind = NodeKind::kNumerical;
      split.feature = 0;
      split.threshold = level;
      split.left = static_cast<std::int32_t>(tree.nodes.size()) + 1;
      split.right = static_cast<std::int32_t>(tree.nodes.size()) + 2;
      TreeNode leaf;
      leaf.leaf_index = static_cast<std::uint32_t>(tree.leaf_values.size());
      for (int k = 0; k < tree.leaf_size; ++k) tree.leaf_values.push_back(level + 0.5 * k);
      tree.nodes.push_back(split);
      tree.nodes.push_back(leaf);
    }
    // Fix the chain: node 2i is the split, node 2i+1 its leaf (left), node 2i+2 the next split (right).
    for (std::size_t i = 0; i + 1 < tree.nodes.size(); i += 2) {
      tree.nodes[i].left = static_cast<std::int32_t>(i + 1);
      tree.nodes[i].right = static_cast<std::int32_t>(i + 2);
    }
    TreeNode last;
    last.leaf_index = static_cast<std::uint32_t>(tree.leaf_values.size());
    for (int k = 0; k < tree.leaf_size; ++k) tree.leaf_values.push_back(100.0 + k);
    tree.nodes.push_back(last);
    model.trees = {tree};
    model.validate("test");
    ASSERT_EQ(model.trees[0].depth(), 8);
    const auto kernel = compile_forest(model);
    EXPECT_NE(kernel->describe().find("1 complete"), std::string::npos) << kernel->describe();
    for (double x : {-1.0, 0.0, 3.5, 7.0, 7.5, 100.0, std::nan("")}) {
      std::vector<double> expected(static_cast<std::size_t>(model.num_outputs)), actual(expected.size());
      reference_margins(model, &x, expected.data());
      kernel->margins_row(&x, actual.data());
      EXPECT_EQ(actual, expected) << "x = " << x;
    }
  }
}

}  // namespace
}  // namespace orchard
