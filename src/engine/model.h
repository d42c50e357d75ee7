// The model IR: what every format loader produces and what the engine compiles.
//
// It describes a model in the training library's own terms, exactly enough to reproduce its numbers:
// the comparison operator and the precision of inputs and thresholds, how missing values are routed,
// how leaves are accumulated and which transform turns margins into predictions. It is a plain value
// type, validated once (validate()), then compiled (compiled_forest.h) for speed.
//
// Covered: input preprocessing (scalers, imputers, one-hot and ordinal encoders: InputStep), tree
// ensembles (numerical and categorical splits, scalar, vector and linear leaves, tree weights,
// averaging), linear models, base scores, output transforms, feature schemas. scikit-learn and
// ONNX-ML pipelines, tree ensembles and linear models map onto the same fields.
//
// Two index spaces: the caller's *features* (Model::features: what a CSV column or a request field
// fills, NaN = missing) and the *columns* the trees and the linear part read. Without input steps
// they are the same. With input steps, every step reads one feature and appends its column(s), in
// step order, so column c is the c-th column produced (see InputStep).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

namespace orchard {

// Heap bytes held by a vector and a string, for the memory_bytes() accessors of the engine (the
// per-version memory gauge at /metrics). A vector counts its capacity, which is what was allocated,
// not its size. A short string lives inside the object itself (the short-string optimization) and
// owns no heap block. Allocator bookkeeping is not counted.
template <typename T>
std::size_t vector_bytes(const std::vector<T>& v) {
  return v.capacity() * sizeof(T);
}
inline std::size_t string_bytes(const std::string& s) {
  const char* data = s.data();
  const char* self = reinterpret_cast<const char*>(&s);
  const std::less<const char*> before;  // a total order, even between unrelated pointers
  const bool inside = !before(data, self) && before(data, self + sizeof(std::string));
  return inside ? 0 : s.capacity() + 1;
}

// The floating-point domain in which the library compares inputs against thresholds.
enum class Precision : std::uint8_t {
  kFloat32,  // XGBoost, scikit-learn: inputs are cast to float before any comparison
  kFloat64,  // LightGBM: inputs and thresholds are doubles
};

// The numerical split test. "Goes left" iff the test holds.
enum class Comparison : std::uint8_t {
  kLessThan,       // x <  threshold (XGBoost)
  kLessOrEqual,    // x <= threshold (LightGBM, scikit-learn)
};

// How a node treats a missing (NaN) input, following LightGBM's MissingType, which subsumes the others.
enum class MissingRule : std::uint8_t {
  kNanGoesDefault,   // NaN takes the node's default direction (XGBoost, scikit-learn, LightGBM "NaN")
  kZeroGoesDefault,  // NaN is read as 0.0, and |x| <= 1e-35 takes the default direction (LightGBM "Zero")
  kNanAsZero,        // NaN is read as 0.0, then compared normally (LightGBM "None")
};

// LightGBM's kZeroThreshold (1e-35f, widened to double).
inline constexpr double kZeroThreshold = 1.0000000180025095e-35;

// Limits that keep a small malicious file from asking for a huge allocation. A model with more
// features than this is refused; real sparse models (hashed features) stay well below it.
inline constexpr std::int64_t kMaxFeatures = std::int64_t{1} << 21;

enum class NodeKind : std::uint8_t { kLeaf, kNumerical, kCategorical };

struct TreeNode {
  NodeKind kind = NodeKind::kLeaf;
  MissingRule missing = MissingRule::kNanGoesDefault;
  bool default_left = false;
  // Categorical nodes: inputs in the category set go left if true, right otherwise (LightGBM: left,
  // XGBoost: right). Values that are not valid categories (negative, too large) go the other way.
  bool categories_go_left = true;
  std::int32_t feature = -1;
  std::int32_t left = -1;   // index of the left child within the tree
  std::int32_t right = -1;  // index of the right child within the tree
  double threshold = 0.0;   // numerical nodes; exactly representable in the model's Precision
  // Categorical nodes: the categories as a sorted list of non-negative integers,
  // Tree::categories[category_begin, category_begin + category_count).
  std::uint32_t category_begin = 0;
  std::uint32_t category_count = 0;
  // Leaves: index of the first of Tree::leaf_size values in Tree::leaf_values.
  std::uint32_t leaf_index = 0;
  // Leaves of linear trees: index into Tree::linear_leaves (or -1 for a constant leaf).
  std::int32_t linear_leaf = -1;
};

// A LightGBM linear-tree leaf: constant + sum(coefficient * x[feature]). If any of its features is
// missing, the leaf's plain value (leaf_values[leaf_index]) is used instead.
struct LinearLeaf {
  double constant = 0.0;
  std::vector<std::int32_t> features;
  std::vector<double> coefficients;
};

struct Tree {
  std::vector<TreeNode> nodes;   // nodes[0] is the root
  std::vector<double> leaf_values;
  std::vector<std::uint32_t> categories;
  std::vector<LinearLeaf> linear_leaves;
  // Scalar leaves (leaf_size == 1) add to output group `group`; vector leaves (leaf_size ==
  // num_outputs) add leaf_values[i] to output i and have group -1.
  std::int32_t group = 0;
  std::int32_t leaf_size = 1;
  double weight = 1.0;  // DART tree weight; leaf values are multiplied by it

  int depth() const;  // longest root-to-leaf path, in edges
};

// A linear model (XGBoost gblinear, scikit-learn linear models): margin[g] = bias[g] + sum_f weight[f][g] * x[f].
// Missing inputs contribute nothing (XGBoost's sparse semantics).
struct LinearModel {
  std::int32_t num_features = 0;
  std::int32_t num_groups = 1;
  std::vector<double> weights;  // weights[f * num_groups + g]
  std::vector<double> bias;     // one per group
};

enum class TransformKind : std::uint8_t {
  kIdentity,
  kSigmoid,         // 1 / (1 + exp(-scale * x)), per output
  kSoftmax,         // across outputs
  kExp,             // exp(x)
  kLog1pExp,        // log(1 + exp(x)) (LightGBM cross_entropy_lambda)
  kSquareSigned,    // sign(x) * x^2 (LightGBM regression with sqrt)
  kHinge,           // 1 if x > 0 else 0 (XGBoost binary:hinge)
  kArgMax,          // index of the largest margin (XGBoost multi:softmax): one output
  // Binary classifiers that report both class probabilities (scikit-learn predict_proba, ONNX-ML):
  // one margin x in, two outputs [1 - s, s] with s = 1 / (1 + exp(-scale * x)).
  kSigmoidPair,
  // One-vs-rest probabilities (scikit-learn LogisticRegression ovr): s_i = sigmoid(x_i), then each
  // s_i / sum(s).
  kSigmoidNormalized,
  // scikit-learn IsolationForest.decision_function on the averaged path length x:
  // -(2^-x) - offset (the average divisor is n_trees * c(max_samples), so x is already normalized).
  kIsolationScore,
};

struct OutputTransform {
  TransformKind kind = TransformKind::kIdentity;
  double scale = 1.0;  // sigmoid's k
  // The precision the library computes the transform in (XGBoost float, LightGBM double).
  Precision precision = Precision::kFloat64;
  double offset = 0.0;  // kIsolationScore's offset_
};

enum class FeatureType : std::uint8_t { kNumeric, kInteger, kCategorical };

struct Feature {
  std::string name;
  FeatureType type = FeatureType::kNumeric;
  std::vector<std::string> categories;  // category names, code = position, where the format carries them
};

// Input preprocessing: one step reads one feature (Model::features[source]) and appends its output
// column(s) to the columns the trees and the linear part read. Steps run in double precision, in
// order, before anything else (before the cast to input_precision), once per row, without
// allocating. A model without steps reads its features directly (columns == features).
//
// Every step first applies `fill`: a missing input (NaN) becomes `fill` unless `fill` is itself NaN
// (SimpleImputer / ONNX Imputer). Then, by kind (x is the filled input):
enum class InputStepKind : std::uint8_t {
  kCopy,         // 1 column: x
  kAffine,       // 1 column: (x - offset) * scale + shift   (MinMaxScaler: offset 0; ONNX Scaler: shift 0)
  kStandardize,  // 1 column: (x - offset) / scale           (StandardScaler, computed exactly as it does)
  // values.size() columns: column k is 1 where x == values[k], else 0. A NaN entry in `values` matches a
  // missing x. Anything that matches no entry (an unknown category, a missing x without a NaN entry)
  // gives all zeros: OneHotEncoder(handle_unknown='ignore'), ONNX OneHotEncoder(zeros=1).
  kOneHot,
  // 1 column: k where x == values[k] (a NaN entry matches a missing x); no match gives `unknown`
  // (NaN: missing for the trees). OrdinalEncoder, and the known categories of a categorical feature.
  kOrdinal,
};

// Features with names (Feature::categories) carry category *codes*: the position of the name in the
// list. Callers that receive a string (CSV cell, JSON value) turn it into its code with
// category_code(); so a one-hot step on such a feature has values {0, 1, ..., K-1}.
struct InputStep {
  InputStepKind kind = InputStepKind::kCopy;
  std::int32_t source = 0;   // index into Model::features
  double fill = std::numeric_limits<double>::quiet_NaN();  // NaN: missing inputs stay missing
  double offset = 0.0;       // kAffine, kStandardize
  double scale = 1.0;        // kAffine, kStandardize (non-zero)
  double shift = 0.0;        // kAffine
  std::vector<double> values;  // kOneHot, kOrdinal: distinct (at most one NaN)
  double unknown = std::numeric_limits<double>::quiet_NaN();  // kOrdinal: the code of no match

  // Columns this step appends: values.size() for kOneHot, 1 otherwise.
  std::int32_t width() const { return kind == InputStepKind::kOneHot ? static_cast<std::int32_t>(values.size()) : 1; }
};

// The code of category `name` of `feature`: its position in feature.categories, or
// kUnknownCategory if the feature has no such category. An unknown category is not a missing value
// (scikit-learn's imputers do not fill it): one-hot steps give all zeros for it, ordinal steps their
// `unknown` code, and categorical splits send it where they send any category outside their set.
inline constexpr double kUnknownCategory = -1.0;
double category_code(const Feature& feature, std::string_view name);
// Whether a number given for `feature` (a CSV cell, a JSON value, a BYTES string that is no category
// name) may stand for a category code. Not when one of its category names is itself a number
// ("10", "20", "30"): an unseen "1" is then an unknown category, not the second one.
bool numbers_are_category_codes(const Feature& feature);

struct Model {
  std::string source_format;   // "xgboost-json", "lightgbm-text", ...
  std::string objective;       // the library's objective name, for display
  std::vector<Feature> features;      // the caller's inputs
  std::vector<InputStep> input_steps;  // empty: trees and linear part read the features directly
  // False when the file carries no feature names (features are then named f0, f1, ... and inputs are
  // matched by position).
  bool has_feature_names = false;
  Precision input_precision = Precision::kFloat64;
  Comparison comparison = Comparison::kLessOrEqual;
  // How leaf values are summed: XGBoost in float, tree by tree in order; others in double.
  Precision accumulation = Precision::kFloat64;

  std::int32_t num_outputs = 1;       // margins per row (classes for multiclass)
  std::vector<double> base_margin;    // one per output, added before the trees (already in margin space)
  std::vector<Tree> trees;
  LinearModel linear;                 // used when has_linear
  bool has_linear = false;
  double average_divisor = 1.0;       // the sum of trees is divided by this (LightGBM rf), in double
  // Whether raw margins are averaged too. LightGBM's predict_raw_score reports the plain sum, and only
  // its transformed prediction is averaged.
  bool raw_is_averaged = false;
  OutputTransform transform;
  std::vector<std::string> output_names;  // names of the transformed outputs (columns of `predict`)

  std::int32_t num_features() const { return static_cast<std::int32_t>(features.size()); }
  // Columns the trees and the linear part read: num_features() without input steps, else the sum of
  // the steps' widths. Node features and linear weights index columns.
  std::int32_t num_columns() const;
  // Outputs after the transform (1 for argmax, 2 for the sigmoid pair, num_outputs otherwise).
  std::int32_t num_predictions() const;

  // Bytes this model occupies: sizeof(Model) plus every block its vectors and strings allocated
  // (trees' nodes, leaf values, categories, linear leaves, the feature schema, input steps, names).
  // O(trees + features + steps), not O(nodes).
  std::size_t memory_bytes() const;

  // Checks every index and size (children inside the tree, no cycles, features inside the schema,
  // category ranges, leaf ranges, groups). Throws Error(kInvalidModel) naming `where` and the tree and
  // node at fault. load_model_bytes calls it on every loader's result, and Predictor calls it again,
  // so the engine can trust what it compiles. Nodes unreachable from the root (XGBoost keeps pruned
  // nodes) are checked too, as far as the engine reads them (kind and feature).
  void validate(const std::string& where) const;
};

}  // namespace orchard
