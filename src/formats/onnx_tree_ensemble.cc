// ai.onnx.ml TreeEnsembleClassifier / TreeEnsembleRegressor onto the IR's trees, so they run on the
// engine's compiled forest.
//
// Comparisons: inputs are float32 and every ONNX mode becomes one or two `x <= t'` nodes with a
// float32 t' chosen so that the IR decides exactly as the mode does for every float input:
//   BRANCH_LEQ  x <= t   ->  x <= largest float <= t                (true branch left)
//   BRANCH_LT   x <  t   ->  x <= largest float <  t                (true branch left)
//   BRANCH_GT   x >  t   ->  x <= largest float <= t                (true branch right)
//   BRANCH_GTE  x >= t   ->  x <= largest float <  t                (true branch right)
//   BRANCH_EQ   x == t   ->  x <= t, then x <= pred(t): equal iff the first holds and the second not
//   BRANCH_NEQ  the same two nodes with the branches exchanged.
// NaN follows ONNX Runtime: the true branch when missing_value_tracks_true, else the comparison's own
// result (false, except NEQ). Nodes reached along several paths are copied, within a budget.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <set>
#include <tuple>

#include "common/error.h"
#include "formats/onnx_branch.h"
#include "formats/onnx_estimator.h"

namespace orchard::onnx_format {
namespace {

// More nodes than this per model is refused before anything is allocated per node.
constexpr std::size_t kMaxNodes = std::size_t{1} << 25;
// Leaves times outputs: a few attributes could otherwise ask for vector leaves of millions of classes.
constexpr std::size_t kMaxLeafValues = std::size_t{1} << 25;

using Mode = BranchMode;

// The leaves' weights, grouped by node (compressed rows: node i owns entries [begin[i], begin[i+1])).
struct LeafWeights {
  std::vector<std::size_t> begin;
  std::vector<std::int64_t> ids;
  std::vector<double> values;
};

class EnsembleBuilder {
 public:
  EnsembleBuilder(const NodeView& view, const std::vector<ColumnSource>& columns, bool classifier, bool double_input)
      : view_(view), columns_(columns), classifier_(classifier), double_input_(double_input) {}

  Estimator build();

 private:
  void read_nodes();
  void read_leaves();
  std::size_t find(std::int64_t tree, std::int64_t node, const std::string& what) const;
  // The leaf values node i contributes, one per output (already mapped for the binary case).
  void leaf_values(std::size_t i, std::vector<double>& out) const;
  Tree build_tree(std::size_t root, std::int64_t tree_id);
  [[noreturn]] void fail(const std::string& what, const std::string& expected = {}) const { view_.fail(what, expected); }

  const NodeView& view_;
  const std::vector<ColumnSource>& columns_;
  bool classifier_;
  bool double_input_;  // ONNX Runtime compares double inputs with the thresholds as doubles

  std::vector<std::int64_t> tree_ids_, node_ids_, features_, true_ids_, false_ids_, tracks_true_;
  std::vector<Mode> modes_;
  std::vector<double> thresholds_;
  // (tree id, node id, index), sorted: a lookup table of 24 bytes per node, whatever the ensemble's size.
  std::vector<std::tuple<std::int64_t, std::int64_t, std::size_t>> position_;
  std::vector<std::int64_t> tree_order_;                                    // tree ids, in order of appearance
  LeafWeights leaves_;

  std::int32_t num_outputs_ = 1;
  bool binary_pair_ = false;  // one score s reported as two outputs [-s, s]
  std::size_t emitted_ = 0;
  std::size_t leaf_values_total_ = 0;
};

void EnsembleBuilder::read_nodes() {
  tree_ids_ = view_.integers("nodes_treeids");
  node_ids_ = view_.integers("nodes_nodeids");
  features_ = view_.integers("nodes_featureids");
  true_ids_ = view_.integers("nodes_truenodeids");
  false_ids_ = view_.integers("nodes_falsenodeids");
  tracks_true_ = view_.integers("nodes_missing_value_tracks_true");
  thresholds_ = view_.reals("nodes_values");
  const std::vector<std::string> modes = view_.texts("nodes_modes");
  const std::size_t n = node_ids_.size();
  if (n == 0) fail("the ensemble has no nodes (nodes_nodeids is empty)", "at least one tree");
  if (n > kMaxNodes) fail(std::to_string(n) + " nodes", "at most " + std::to_string(kMaxNodes));
  const std::pair<const char*, std::size_t> sizes[] = {
      {"nodes_treeids", tree_ids_.size()},     {"nodes_featureids", features_.size()}, {"nodes_truenodeids", true_ids_.size()},
      {"nodes_falsenodeids", false_ids_.size()}, {"nodes_values", thresholds_.size()},  {"nodes_modes", modes.size()}};
  for (const auto& [name, size] : sizes) {
    if (size != n) fail(std::string(name) + " has " + std::to_string(size) + " entries", std::to_string(n) + " (one per node, like nodes_nodeids)");
  }
  if (!tracks_true_.empty() && tracks_true_.size() != n) {
    fail("nodes_missing_value_tracks_true has " + std::to_string(tracks_true_.size()) + " entries", std::to_string(n) + " or none");
  }
  modes_.resize(n);
  position_.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    modes_[i] = parse_branch_mode(modes[i], view_, i);
    position_.emplace_back(tree_ids_[i], node_ids_[i], i);
    if (node_ids_[i] == 0) tree_order_.push_back(tree_ids_[i]);
    if (modes_[i] != Mode::kLeaf && (features_[i] < 0 || static_cast<std::size_t>(features_[i]) >= columns_.size())) {
      fail("node " + std::to_string(i) + " reads column " + std::to_string(features_[i]),
           "a column of the input, 0 to " + std::to_string(static_cast<std::int64_t>(columns_.size()) - 1));
    }
  }
  std::sort(position_.begin(), position_.end());
  for (std::size_t k = 1; k < n; ++k) {
    const auto& [tree, node, unused] = position_[k];
    (void)unused;
    if (tree == std::get<0>(position_[k - 1]) && node == std::get<1>(position_[k - 1])) {
      fail("tree " + std::to_string(tree) + " declares node " + std::to_string(node) + " twice", "unique node ids per tree");
    }
  }
  std::set<std::int64_t> with_root(tree_order_.begin(), tree_order_.end());
  for (std::int64_t tree : tree_ids_) {
    if (!with_root.count(tree)) fail("tree " + std::to_string(tree) + " has no node 0", "every tree's root to have node id 0");
  }
}

std::size_t EnsembleBuilder::find(std::int64_t tree, std::int64_t node, const std::string& what) const {
  const auto key = std::make_tuple(tree, node, std::size_t{0});
  auto it = std::lower_bound(position_.begin(), position_.end(), key);
  if (it == position_.end() || std::get<0>(*it) != tree || std::get<1>(*it) != node) {
    fail(what + " refers to node " + std::to_string(node) + " of tree " + std::to_string(tree) + ", which is not declared",
         "a node listed in nodes_treeids/nodes_nodeids");
  }
  return std::get<2>(*it);
}

void EnsembleBuilder::read_leaves() {
  const std::string prefix = classifier_ ? "class_" : "target_";
  const auto trees = view_.integers(prefix + "treeids");
  const auto nodes = view_.integers(prefix + "nodeids");
  const auto ids = view_.integers(prefix + "ids");
  const auto weights = view_.reals(prefix + "weights");
  const std::size_t n = weights.size();
  if (trees.size() != n || nodes.size() != n || ids.size() != n) {
    fail(prefix + "treeids, " + prefix + "nodeids, " + prefix + "ids and " + prefix + "weights have " + std::to_string(trees.size()) + ", " +
             std::to_string(nodes.size()) + ", " + std::to_string(ids.size()) + " and " + std::to_string(n) + " entries",
         "the same number");
  }
  std::vector<std::size_t> owner(n);
  leaves_.begin.assign(node_ids_.size() + 1, 0);
  for (std::size_t j = 0; j < n; ++j) {
    owner[j] = find(trees[j], nodes[j], prefix + "weights[" + std::to_string(j) + "]");
    if (ids[j] < 0 || ids[j] >= num_outputs_) {
      fail(prefix + "ids[" + std::to_string(j) + "] is " + std::to_string(ids[j]), "an output between 0 and " + std::to_string(num_outputs_ - 1));
    }
    if (!std::isfinite(weights[j])) fail(prefix + "weights[" + std::to_string(j) + "] is not finite", "finite leaf weights");
    ++leaves_.begin[owner[j] + 1];
  }
  for (std::size_t i = 0; i < node_ids_.size(); ++i) leaves_.begin[i + 1] += leaves_.begin[i];
  std::vector<std::size_t> next(leaves_.begin.begin(), leaves_.begin.end() - 1);
  leaves_.ids.resize(n);
  leaves_.values.resize(n);
  for (std::size_t j = 0; j < n; ++j) {
    const std::size_t slot = next[owner[j]]++;
    leaves_.ids[slot] = ids[j];
    leaves_.values[slot] = weights[j];
  }
}

void EnsembleBuilder::leaf_values(std::size_t i, std::vector<double>& out) const {
  out.assign(static_cast<std::size_t>(num_outputs_), 0.0);
  for (std::size_t j = leaves_.begin[i]; j < leaves_.begin[i + 1]; ++j) {
    if (binary_pair_) {
      out[0] -= leaves_.values[j];
      out[1] += leaves_.values[j];
    } else {
      out[static_cast<std::size_t>(leaves_.ids[j])] += leaves_.values[j];
    }
  }
}

Tree EnsembleBuilder::build_tree(std::size_t root, std::int64_t tree_id) {
  Tree tree;
  tree.leaf_size = num_outputs_;
  tree.group = num_outputs_ == 1 ? 0 : -1;
  // A node budget over the whole ensemble: EQ/NEQ nodes become two nodes each, and subtrees reached
  // from several nodes (onnxmltools writes a LightGBM category set as a chain of BRANCH_EQ nodes that
  // share their true branch) are copied; a million extra nodes covers real models, and a cycle or a
  // file built to explode is stopped there.
  const std::size_t budget = 4 * node_ids_.size() + (std::size_t{1} << 20);
  std::vector<double> values;
  // (ONNX node, IR slot to point at it: index of the IR parent and which child; parent -1 = root).
  struct Work {
    std::size_t onnx;
    std::int32_t parent;
    bool left;
  };
  std::vector<Work> stack{{root, -1, false}};
  auto link = [&](const Work& work, std::int32_t index) {
    if (work.parent < 0) return;
    TreeNode& parent = tree.nodes[static_cast<std::size_t>(work.parent)];
    (work.left ? parent.left : parent.right) = index;
  };
  auto emit = [&](TreeNode node) {
    if (++emitted_ > budget) {
      fail("tree " + std::to_string(tree_id) + " reaches more nodes than the ensemble declares (a cycle, or subtrees shared too often)",
           "trees whose nodes each have one parent");
    }
    tree.nodes.push_back(node);
    return static_cast<std::int32_t>(tree.nodes.size() - 1);
  };
  while (!stack.empty()) {
    const Work work = stack.back();
    stack.pop_back();
    const std::size_t i = work.onnx;
    const Mode mode = modes_[i];
    if (mode == Mode::kLeaf) {
      leaf_values_total_ += static_cast<std::size_t>(num_outputs_);
      if (leaf_values_total_ > kMaxLeafValues) {
        fail("the ensemble needs more than " + std::to_string(kMaxLeafValues) + " leaf values (leaves times " + std::to_string(num_outputs_) + " outputs)",
             "fewer leaves or outputs");
      }
      TreeNode leaf;
      leaf.kind = NodeKind::kLeaf;
      leaf.leaf_index = static_cast<std::uint32_t>(tree.leaf_values.size());
      leaf_values(i, values);
      tree.leaf_values.insert(tree.leaf_values.end(), values.begin(), values.end());
      link(work, emit(leaf));
      continue;
    }
    const std::string place = "node " + std::to_string(node_ids_[i]) + " of tree " + std::to_string(tree_id);
    const std::size_t on_true = find(tree_id, true_ids_[i], place + " (true branch)");
    const std::size_t on_false = find(tree_id, false_ids_[i], place + " (false branch)");
    const bool tracks = !tracks_true_.empty() && tracks_true_[i] != 0;
    const double t = thresholds_[i];
    TreeNode node;
    node.kind = NodeKind::kNumerical;
    node.missing = MissingRule::kNanGoesDefault;
    const ColumnSource& source = columns_[static_cast<std::size_t>(features_[i])];
    node.feature = source.column;
    if (source.transform != ColumnSource::Transform::kNone) {
      // The node tests a Scaler's or Binarizer's output: the test on the raw input is found through
      // ONNX Runtime's own float arithmetic (see through_transform).
      const BranchDecision d = through_transform(view_, source, mode, t, tracks, place);
      const std::size_t low = d.low_true ? on_true : on_false;     // where inputs <= bound go
      const std::size_t high = d.low_true ? on_false : on_true;    // where inputs > bound go
      const std::size_t nan = d.nan_true ? on_true : on_false;
      if (d.constant && nan == low) {
        stack.push_back({low, work.parent, work.left});  // the node decides nothing: skip it
        continue;
      }
      node.threshold = static_cast<double>(d.bound);
      node.default_left = nan == low;
      const std::int32_t index = emit(node);
      link(work, index);
      stack.push_back({high, index, false});
      stack.push_back({low, index, true});
      continue;
    }
    float bound = 0.0f;
    auto refuse_threshold = [&](const char* why) {
      fail(place + ": threshold " + std::to_string(t) + " " + why, "a finite threshold (or BRANCH_LEQ / BRANCH_GT)");
    };
    if (mode == Mode::kEq || mode == Mode::kNeq) {
      if (!std::isfinite(t) || (!double_input_ && static_cast<double>(static_cast<float>(t)) != t)) {
        refuse_threshold(double_input_ ? "is not finite" : "is not a finite float32 value");
      }
      // First node: x <= t. Its left child: x <= pred(t); x == t iff that one fails.
      node.threshold = t;
      const bool eq = mode == Mode::kEq;
      node.default_left = eq && tracks;  // NaN: EQ -> true branch iff tracked; NEQ -> always true (right)
      const std::int32_t first = emit(node);
      link(work, first);
      TreeNode second = node;
      second.threshold = double_input_ ? std::nextafter(t, -std::numeric_limits<double>::infinity())
                                       : static_cast<double>(std::nextafter(static_cast<float>(t), -std::numeric_limits<float>::infinity()));
      second.default_left = false;  // only tracked NaN reaches it under EQ, and it belongs on the true side
      const std::int32_t inner = emit(second);
      tree.nodes[static_cast<std::size_t>(first)].left = inner;
      // x > t: EQ false, NEQ true. x <= pred(t): EQ false, NEQ true. Otherwise x == t.
      stack.push_back({eq ? on_false : on_true, first, false});
      stack.push_back({eq ? on_false : on_true, inner, true});
      stack.push_back({eq ? on_true : on_false, inner, false});
      continue;
    }
    const bool strict = mode == Mode::kLt || mode == Mode::kGte;
    if (double_input_) {
      // Double inputs against double thresholds: x < t iff x <= the double just below t.
      if (std::isnan(t) || (strict && t == -std::numeric_limits<double>::infinity())) refuse_threshold("cannot be met by any input");
      node.threshold = strict ? std::nextafter(t, -std::numeric_limits<double>::infinity()) : t;
    } else {
      if (!float_bound(t, strict, bound)) refuse_threshold("cannot be met by any float32 input");
      node.threshold = static_cast<double>(bound);
    }
    const bool true_left = mode == Mode::kLeq || mode == Mode::kLt;
    node.default_left = true_left ? tracks : !tracks;
    const std::int32_t index = emit(node);
    link(work, index);
    stack.push_back({true_left ? on_false : on_true, index, false});
    stack.push_back({true_left ? on_true : on_false, index, true});
  }
  return tree;
}

Estimator EnsembleBuilder::build() {
  read_nodes();
  Estimator estimator;
  estimator.classifier = classifier_;
  Model& model = estimator.model;
  const std::string post = view_.text("post_transform", "NONE");
  std::vector<double> base = view_.reals("base_values");
  for (double b : base) {
    if (!std::isfinite(b)) fail("base_values are not finite", "finite numbers");
  }
  TransformKind transform = TransformKind::kIdentity;
  auto refuse_transform = [&](const std::string& why) {
    fail("post_transform " + post + " " + why, "a transform Orchard reproduces exactly");
  };
  if (post != "NONE" && post != "LOGISTIC" && post != "SOFTMAX" && post != "SOFTMAX_ZERO" && post != "PROBIT") {
    fail("post_transform is \"" + post + "\"", "NONE, LOGISTIC, SOFTMAX, SOFTMAX_ZERO or PROBIT");
  }
  if (post == "PROBIT") refuse_transform("(the inverse normal CDF) is not supported");
  if (post == "SOFTMAX_ZERO") refuse_transform("(a softmax that skips zero scores) is not supported");
  std::size_t num_trees = tree_order_.size();

  if (classifier_) {
    const std::size_t labels = std::max(view_.integers("classlabels_int64s").size(), view_.texts("classlabels_strings").size());
    if (labels < 2) fail("the classifier has " + std::to_string(labels) + " class labels", "at least 2 (classlabels_int64s or classlabels_strings)");
    if (labels > static_cast<std::size_t>(kMaxFeatures)) fail(std::to_string(labels) + " class labels", "fewer");
    num_outputs_ = static_cast<std::int32_t>(labels);
    read_leaves();
    std::set<std::int64_t> used(leaves_.ids.begin(), leaves_.ids.end());
    const bool all_positive = std::none_of(leaves_.values.begin(), leaves_.values.end(), [](double w) { return w < 0; });
    model.output_names = class_output_names(view_, labels);
    if (labels == 2 && used.size() == 1) {
      // ONNX Runtime's binary case: one score s (the weights of class 0) reported as two columns.
      if (used.count(1)) fail("a binary ensemble with weights only for class 1", "weights for class 0 (the converters' layout)");
      if (base.size() > 1) fail("a binary ensemble with weights for one class has " + std::to_string(base.size()) + " base_values", "none or one");
      const double b = base.empty() ? 0.0 : base[0];
      binary_pair_ = true;
      if (all_positive) {
        // [1 - s, s], whatever the transform: ONNX Runtime skips LOGISTIC/SOFTMAX here, which the
        // converters never intend, so such a model is refused instead.
        if (post != "NONE") refuse_transform("with only non-negative weights in a binary ensemble (ONNX Runtime then ignores the transform)");
        model.base_margin = {1.0 - b, b};
        // [1 - s, s] sums to 1, but an L1 Normalizer after it changes nothing only while 0 <= s <= 1:
        // bound s by the trees' smallest and largest leaves (a forest's votes stay within [0, 1]; the
        // 1e-6 slack covers float32 weights such as 0.02 x 50, whose effect is far smaller).
        std::map<std::int64_t, std::pair<double, double>> range;  // tree id -> (min, max) leaf sum
        for (std::size_t k = 0; k < node_ids_.size(); ++k) {
          if (modes_[k] != Mode::kLeaf) continue;
          double sum = 0.0;
          for (std::size_t j = leaves_.begin[k]; j < leaves_.begin[k + 1]; ++j) sum += leaves_.values[j];
          auto [it, fresh] = range.emplace(tree_ids_[k], std::make_pair(sum, sum));
          if (!fresh) it->second = {std::min(it->second.first, sum), std::max(it->second.second, sum)};
        }
        double low = b, high = b;
        for (const auto& [tree, bounds] : range) {
          low += bounds.first;
          high += bounds.second;
        }
        estimator.probabilities = low >= 0.0 && high <= 1.0 + 1e-6;
      } else {
        if (post == "SOFTMAX") refuse_transform("in a binary ensemble with weights for one class (ONNX Runtime then ignores it)");
        model.base_margin = {-b, b};
        if (post == "LOGISTIC") {
          transform = TransformKind::kSigmoid;  // [sigmoid(-s), sigmoid(s)]
          estimator.probabilities = true;
        }
      }
    } else {
      // Scores per class. ONNX Runtime drops the second column of a two-class ensemble on rows where
      // no reached leaf has a class-1 weight: accepted only when some tree has one in every leaf.
      if (labels == 2) {
        if (base.size() == 2) fail("a two-class ensemble with two base_values (ONNX Runtime then uses only the second)", "none or one");
        std::map<std::int64_t, bool> every_leaf;  // tree id -> all its leaves carry a class-1 weight
        for (std::size_t k = 0; k < node_ids_.size(); ++k) {
          if (modes_[k] != Mode::kLeaf) continue;
          bool has_one = false;
          for (std::size_t j = leaves_.begin[k]; j < leaves_.begin[k + 1]; ++j) has_one |= leaves_.ids[j] == 1;
          auto [it, fresh] = every_leaf.emplace(tree_ids_[k], has_one);
          if (!fresh) it->second = it->second && has_one;
        }
        const bool covered = std::any_of(every_leaf.begin(), every_leaf.end(), [](const auto& tree) { return tree.second; });
        if (!covered) fail("a two-class ensemble where some rows may reach no class-1 weight", "a class-1 weight in every leaf of some tree");
        base.resize(2, 0.0);
      } else if (!base.empty() && base.size() != labels) {
        fail(std::to_string(base.size()) + " base_values for " + std::to_string(labels) + " classes", "none or one per class");
      }
      base.resize(labels, 0.0);
      model.base_margin = base;
      if (post == "LOGISTIC") transform = TransformKind::kSigmoid;
      if (post == "SOFTMAX") {
        transform = TransformKind::kSoftmax;
        estimator.probabilities = true;
      }
    }
    model.num_outputs = num_outputs_;
    model.objective = "TreeEnsembleClassifier, post_transform " + post;
  } else {
    const std::int64_t targets = view_.integer("n_targets", 1);
    if (targets < 1 || targets > kMaxFeatures) fail("n_targets is " + std::to_string(targets), "at least 1");
    num_outputs_ = static_cast<std::int32_t>(targets);
    read_leaves();
    const std::string aggregate = view_.text("aggregate_function", "SUM");
    if (aggregate != "SUM" && aggregate != "AVERAGE") fail("aggregate_function is " + aggregate, "SUM or AVERAGE (MIN and MAX are not supported)");
    if (targets == 1) {
      if (post != "NONE") refuse_transform("on a single target (ONNX Runtime ignores it)");
      if (base.size() > 1) fail(std::to_string(base.size()) + " base_values for one target", "none or one");
    } else {
      if (!base.empty() && base.size() != static_cast<std::size_t>(targets)) {
        fail(std::to_string(base.size()) + " base_values for " + std::to_string(targets) + " targets", "none or one per target");
      }
      if (post == "LOGISTIC") transform = TransformKind::kSigmoid;
      if (post == "SOFTMAX") transform = TransformKind::kSoftmax;
    }
    base.resize(static_cast<std::size_t>(targets), 0.0);
    if (aggregate == "AVERAGE") {
      // The engine divides margins (base included) by the divisor; ONNX adds the base after averaging.
      model.average_divisor = static_cast<double>(num_trees);
      model.raw_is_averaged = true;
      for (double& b : base) b *= static_cast<double>(num_trees);
    }
    model.base_margin = base;
    model.num_outputs = num_outputs_;
    model.objective = "TreeEnsembleRegressor, aggregate " + aggregate;
    if (targets == 1) {
      model.output_names = {"prediction"};
    } else {
      for (std::int64_t k = 0; k < targets; ++k) model.output_names.push_back("target_" + std::to_string(k));
    }
  }
  model.transform.kind = transform;
  model.transform.precision = Precision::kFloat64;

  for (std::int64_t tree_id : tree_order_) model.trees.push_back(build_tree(find(tree_id, 0, "tree " + std::to_string(tree_id)), tree_id));
  // ONNX Runtime compares the float32 input with float32 thresholds; sums are kept in double
  // (ONNX Runtime sums in float: the two differ far below the converters' own tolerance).
  model.input_precision = double_input_ ? Precision::kFloat64 : Precision::kFloat32;
  model.comparison = Comparison::kLessOrEqual;
  model.accumulation = Precision::kFloat64;
  return estimator;
}

}  // namespace

std::vector<std::string> class_output_names(const NodeView& node, std::size_t expected) {
  const auto ints = node.integers(node.has("classlabels_int64s") ? "classlabels_int64s" : "classlabels_ints");
  const auto texts = node.texts("classlabels_strings");
  if (!ints.empty() && !texts.empty()) node.fail("both integer and string class labels are set", "one of them");
  std::vector<std::string> names;
  for (std::size_t k = 0; k < expected; ++k) {
    if (k < ints.size()) {
      names.push_back("class_" + std::to_string(ints[k]));
    } else if (k < texts.size()) {
      const std::string& label = texts[k];
      const bool plain = !label.empty() && label.size() <= 64 && std::all_of(label.begin(), label.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
      });
      names.push_back(plain ? label : "class_" + std::to_string(k));
    } else {
      names.push_back("class_" + std::to_string(k));
    }
  }
  return names;
}

Estimator build_tree_ensemble(const NodeView& node, const std::vector<ColumnSource>& columns, bool double_input) {
  if (double_input) {
    for (const ColumnSource& column : columns) {
      if (column.transform != ColumnSource::Transform::kNone) node.fail("reads a Scaler's or Binarizer's output of double inputs", "float inputs for those");
    }
  }
  const bool classifier = node.node().op_type() == "TreeEnsembleClassifier";
  return EnsembleBuilder(node, columns, classifier, double_input).build();
}

}  // namespace orchard::onnx_format
