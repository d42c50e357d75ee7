#include "engine/model.h"

#include <algorithm>
#include <cmath>

#include "common/error.h"
#include "common/number_text.h"

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
  if (transform.kind == TransformKind::kArgMax) return 1;
  if (transform.kind == TransformKind::kSigmoidPair) return 2;
  return num_outputs;
}

std::int32_t Model::num_columns() const {
  if (input_steps.empty()) return num_features();
  std::int64_t columns = 0;
  for (const InputStep& step : input_steps) columns += step.width();
  // validate() refuses more than kMaxFeatures; clamp so that an unvalidated model cannot overflow.
  return static_cast<std::int32_t>(std::min<std::int64_t>(columns, kMaxFeatures + 1));
}

std::size_t Model::memory_bytes() const {
  std::size_t bytes = sizeof(Model) + string_bytes(source_format) + string_bytes(objective);
  bytes += vector_bytes(features);
  for (const Feature& feature : features) {
    bytes += string_bytes(feature.name) + vector_bytes(feature.categories);
    for (const std::string& category : feature.categories) bytes += string_bytes(category);
  }
  bytes += vector_bytes(input_steps);
  for (const InputStep& step : input_steps) bytes += vector_bytes(step.values);
  bytes += vector_bytes(base_margin) + vector_bytes(trees);
  for (const Tree& tree : trees) {
    bytes += vector_bytes(tree.nodes) + vector_bytes(tree.leaf_values) + vector_bytes(tree.categories) +
             vector_bytes(tree.linear_leaves);
    for (const LinearLeaf& leaf : tree.linear_leaves) bytes += vector_bytes(leaf.features) + vector_bytes(leaf.coefficients);
  }
  bytes += vector_bytes(linear.weights) + vector_bytes(linear.bias);
  bytes += vector_bytes(output_names);
  for (const std::string& name : output_names) bytes += string_bytes(name);
  return bytes;
}

double category_code(const Feature& feature, std::string_view name) {
  for (std::size_t k = 0; k < feature.categories.size(); ++k) {
    if (feature.categories[k] == name) return static_cast<double>(k);
  }
  return kUnknownCategory;
}

bool numbers_are_category_codes(const Feature& feature) {
  for (const std::string& name : feature.categories) {
    if (number_in(name)) return false;
  }
  return true;
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
  const std::int32_t columns = model.num_columns();
  // Without input steps, columns are the features; name them so.
  const std::string unit = model.input_steps.empty() ? "feature" : "column";
  // What the engine reads of every node, reachable or not: the kind, the feature, the categories.
  for (std::size_t i = 0; i < n; ++i) {
    const TreeNode& node = tree.nodes[i];
    if (node.kind == NodeKind::kLeaf) continue;
    if (node.feature < 0 || node.feature >= columns) {
      throw_invalid_model(tree_place(where, t, i), "split on " + unit + " " + std::to_string(node.feature),
                          "a " + unit + " index below " + std::to_string(columns));
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
          if (f < 0 || f >= columns) {
            throw_invalid_model(tree_place(where, t, i), "linear leaf uses " + unit + " " + std::to_string(f),
                                "a " + unit + " index below " + std::to_string(columns));
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

void validate_input_step(const Model& model, const InputStep& step, std::size_t s, const std::string& where) {
  const std::string step_where = where + ": input step " + std::to_string(s);
  if (step.source < 0 || step.source >= model.num_features()) {
    throw_invalid_model(step_where, "reads feature " + std::to_string(step.source),
                        "a feature index below " + std::to_string(model.num_features()));
  }
  if (std::isinf(step.fill)) throw_invalid_model(step_where, "fill value is infinite", "a finite number, or NaN for none");
  switch (step.kind) {
    case InputStepKind::kCopy:
      return;
    case InputStepKind::kAffine:
    case InputStepKind::kStandardize:
      if (!std::isfinite(step.offset) || !std::isfinite(step.scale) || !std::isfinite(step.shift)) {
        throw_invalid_model(step_where, "offset, scale or shift is not finite", "finite numbers");
      }
      if (step.kind == InputStepKind::kStandardize && step.scale == 0.0) {
        throw_invalid_model(step_where, "standardizing scale is 0", "a non-zero divisor");
      }
      return;
    case InputStepKind::kOneHot:
    case InputStepKind::kOrdinal: {
      if (step.values.empty()) throw_invalid_model(step_where, "has no category values", "at least one value");
      if (step.values.size() > static_cast<std::size_t>(kMaxFeatures)) {
        throw_invalid_model(step_where, std::to_string(step.values.size()) + " category values", "at most " + std::to_string(kMaxFeatures));
      }
      std::vector<double> sorted;
      std::size_t nans = 0;
      for (double v : step.values) {
        if (std::isnan(v)) ++nans;
        else if (std::isinf(v)) throw_invalid_model(step_where, "category value is infinite", "finite values (and at most one NaN)");
        else sorted.push_back(v);
      }
      std::sort(sorted.begin(), sorted.end());
      if (nans > 1 || std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end()) {
        throw_invalid_model(step_where, "category values repeat", "distinct values (and at most one NaN)");
      }
      return;
    }
  }
  throw_invalid_model(step_where, "unknown step kind " + std::to_string(static_cast<int>(step.kind)));
}

}  // namespace

void Model::validate(const std::string& where) const {
  if (num_outputs < 1) throw_invalid_model(where, "model has no outputs", "at least one output");
  if (num_features() > kMaxFeatures) {
    throw_invalid_model(where, "model has " + std::to_string(num_features()) + " features", "at most " + std::to_string(kMaxFeatures));
  }
  std::int64_t columns = input_steps.empty() ? num_features() : 0;
  for (std::size_t s = 0; s < input_steps.size(); ++s) {
    validate_input_step(*this, input_steps[s], s, where);
    columns += input_steps[s].width();
  }
  if (columns > kMaxFeatures) {
    throw_invalid_model(where, "input steps produce " + std::to_string(columns) + " columns", "at most " + std::to_string(kMaxFeatures));
  }
  if (transform.kind == TransformKind::kSigmoidPair && num_outputs != 1) {
    throw_invalid_model(where, "the sigmoid pair transform needs one margin, not " + std::to_string(num_outputs), "num_outputs 1");
  }
  if (transform.kind == TransformKind::kIsolationScore && num_outputs != 1) {
    throw_invalid_model(where, "the isolation score transform needs one margin, not " + std::to_string(num_outputs), "num_outputs 1");
  }
  if (!std::isfinite(transform.scale) || !std::isfinite(transform.offset)) {
    throw_invalid_model(where, "transform scale or offset is not finite", "finite numbers");
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
    if (linear.num_features < 0 || linear.num_features > num_columns()) {
      throw_invalid_model(where, "linear model has more weights than " + std::string(input_steps.empty() ? "features" : "columns") +
                                     " (" + std::to_string(linear.num_features) + ")",
                          "at most " + std::to_string(num_columns()));
    }
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
