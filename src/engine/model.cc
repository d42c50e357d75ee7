#include "engine/model.h"

#include <algorithm>
#include <cmath>

#include "common/error.h"

namespace orchard {

int Tree::depth() const {
  // Iterative, so that a degenerate (chain-like) tree cannot overflow the stack.
  int deepest = 0;
  std::vector<std::pair<std::int32_t, int>> stack{{0, 0}};
  while (!stack.empty()) {
    auto [index, depth] = stack.back();
    stack.pop_back();
    const TreeNode& node = nodes[static_cast<std::size_t>(index)];
    if (node.kind == NodeKind::kLeaf) {
      deepest = std::max(deepest, depth);
    } else {
      stack.emplace_back(node.left, depth + 1);
      stack.emplace_back(node.right, depth + 1);
    }
  }
  return deepest;
}

std::int32_t Model::num_predictions() const {
  return transform.kind == TransformKind::kArgMax ? 1 : num_outputs;
}

namespace {

std::string tree_place(const std::string& where, std::size_t tree, std::size_t node) {
  return where + ": tree " + std::to_string(tree) + ", node " + std::to_string(node);
}

void validate_tree(const Model& model, const Tree& tree, std::size_t t, const std::string& where) {
  const std::string tree_where = where + ": tree " + std::to_string(t);
  if (tree.nodes.empty()) throw_invalid_model(tree_where, "tree has no nodes", "at least one node");
  if (tree.leaf_size < 1) throw_invalid_model(tree_where, "leaf size is " + std::to_string(tree.leaf_size), "at least 1");
  if (tree.leaf_size == 1) {
    if (tree.group < 0 || tree.group >= model.num_outputs) {
      throw_invalid_model(tree_where, "output group " + std::to_string(tree.group) + " is out of range",
                          "a group below " + std::to_string(model.num_outputs));
    }
  } else if (tree.leaf_size != model.num_outputs) {
    throw_invalid_model(tree_where, "vector leaves of size " + std::to_string(tree.leaf_size),
                        "size " + std::to_string(model.num_outputs) + " (one value per output)");
  }
  if (!std::isfinite(tree.weight)) throw_invalid_model(tree_where, "tree weight is not finite");

  const std::size_t n = tree.nodes.size();
  // What the engine reads of every node, reachable or not: the kind, the feature, the categories.
  for (std::size_t i = 0; i < n; ++i) {
    const TreeNode& node = tree.nodes[i];
    if (node.kind == NodeKind::kLeaf) continue;
    if (node.feature < 0 || node.feature >= model.num_features()) {
      throw_invalid_model(tree_place(where, t, i), "split on feature " + std::to_string(node.feature),
                          "a feature index below " + std::to_string(model.num_features()));
    }
    if (node.kind == NodeKind::kCategorical &&
        static_cast<std::size_t>(node.category_begin) + node.category_count > tree.categories.size()) {
      throw_invalid_model(tree_place(where, t, i), "category list is out of range",
                          "a range within the tree's " + std::to_string(tree.categories.size()) + " categories");
    }
  }
  std::vector<std::uint8_t> seen(n, 0);
  std::vector<std::int32_t> stack{0};
  seen[0] = 1;
  while (!stack.empty()) {
    const auto i = static_cast<std::size_t>(stack.back());
    stack.pop_back();
    const TreeNode& node = tree.nodes[i];
    if (node.kind == NodeKind::kLeaf) {
      if (static_cast<std::size_t>(node.leaf_index) + static_cast<std::size_t>(tree.leaf_size) > tree.leaf_values.size()) {
        throw_invalid_model(tree_place(where, t, i), "leaf value index " + std::to_string(node.leaf_index) + " is out of range",
                            "an index below " + std::to_string(tree.leaf_values.size()));
      }
      if (node.linear_leaf >= 0) {
        if (static_cast<std::size_t>(node.linear_leaf) >= tree.linear_leaves.size()) {
          throw_invalid_model(tree_place(where, t, i), "linear leaf index out of range");
        }
        const LinearLeaf& linear = tree.linear_leaves[static_cast<std::size_t>(node.linear_leaf)];
        if (linear.features.size() != linear.coefficients.size()) {
          throw_invalid_model(tree_place(where, t, i), "linear leaf has " + std::to_string(linear.features.size()) +
                                                          " features but " + std::to_string(linear.coefficients.size()) + " coefficients",
                              "as many coefficients as features");
        }
        for (std::int32_t f : linear.features) {
          if (f < 0 || f >= model.num_features()) {
            throw_invalid_model(tree_place(where, t, i), "linear leaf uses feature " + std::to_string(f),
                                "a feature index below " + std::to_string(model.num_features()));
          }
        }
      }
      continue;
    }
    if (node.kind == NodeKind::kNumerical && std::isnan(node.threshold)) {
      throw_invalid_model(tree_place(where, t, i), "threshold is NaN", "a number");
    }
    if (node.kind == NodeKind::kCategorical) {
      auto begin = tree.categories.begin() + node.category_begin;
      if (!std::is_sorted(begin, begin + node.category_count)) {
        throw_invalid_model(tree_place(where, t, i), "category list is not sorted");
      }
    }
    for (std::int32_t child : {node.left, node.right}) {
      if (child <= 0 || static_cast<std::size_t>(child) >= n) {
        throw_invalid_model(tree_place(where, t, i), "child index " + std::to_string(child) + " points outside the tree",
                            "an index between 1 and " + std::to_string(n - 1));
      }
      if (seen[static_cast<std::size_t>(child)]) {
        throw_invalid_model(tree_place(where, t, i), "node " + std::to_string(child) + " is reached twice (a cycle or a shared subtree)",
                            "a tree");
      }
      seen[static_cast<std::size_t>(child)] = 1;
      stack.push_back(child);
    }
  }
}

}  // namespace

void Model::validate(const std::string& where) const {
  if (num_outputs < 1) throw_invalid_model(where, "model has no outputs", "at least one output");
  if (num_features() > kMaxFeatures) {
    throw_invalid_model(where, "model has " + std::to_string(num_features()) + " features", "at most " + std::to_string(kMaxFeatures));
  }
  if (base_margin.size() != static_cast<std::size_t>(num_outputs)) {
    throw_invalid_model(where, "base margin has " + std::to_string(base_margin.size()) + " values",
                        std::to_string(num_outputs) + " (one per output)");
  }
  if (trees.empty() && !has_linear) throw_invalid_model(where, "model has neither trees nor a linear part");
  if (!(average_divisor > 0.0) || !std::isfinite(average_divisor)) {
    throw_invalid_model(where, "average divisor is not a positive number");
  }
  for (std::size_t t = 0; t < trees.size(); ++t) validate_tree(*this, trees[t], t, where);
  if (has_linear) {
    if (linear.num_groups != num_outputs) throw_invalid_model(where, "linear model groups do not match the outputs");
    if (linear.num_features > num_features()) throw_invalid_model(where, "linear model has more weights than features");
    if (linear.weights.size() != static_cast<std::size_t>(linear.num_features) * static_cast<std::size_t>(linear.num_groups) ||
        linear.bias.size() != static_cast<std::size_t>(linear.num_groups)) {
      throw_invalid_model(where, "linear model weights have the wrong size");
    }
  }
  if (output_names.size() != static_cast<std::size_t>(num_predictions())) {
    throw_invalid_model(where, "internal: output names do not match the outputs");
  }
}

}  // namespace orchard
