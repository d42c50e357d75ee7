#include "engine/reference_evaluator.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace orchard {
namespace {

double to_precision(Precision precision, double x) {
  return precision == Precision::kFloat32 ? static_cast<double>(static_cast<float>(x)) : x;
}

bool numerical_goes_left(const TreeNode& node, Comparison comparison, double x) {
  switch (node.missing) {
    case MissingRule::kNanGoesDefault:
      if (std::isnan(x)) return node.default_left;
      break;
    case MissingRule::kZeroGoesDefault:
      if (std::isnan(x)) x = 0.0;
      if (std::fabs(x) <= kZeroThreshold) return node.default_left;
      break;
    case MissingRule::kNanAsZero:
      if (std::isnan(x)) x = 0.0;
      break;
  }
  return comparison == Comparison::kLessThan ? x < node.threshold : x <= node.threshold;
}

std::size_t find_leaf(const Model& model, const Tree& tree, const std::vector<double>& x) {
  std::size_t i = 0;
  while (tree.nodes[i].kind != NodeKind::kLeaf) {
    const TreeNode& node = tree.nodes[i];
    const double value = x[static_cast<std::size_t>(node.feature)];
    const bool left = node.kind == NodeKind::kCategorical ? categorical_goes_left(tree, node, value)
                                                          : numerical_goes_left(node, model.comparison, value);
    i = static_cast<std::size_t>(left ? node.left : node.right);
  }
  return i;
}

double leaf_output(const Tree& tree, const TreeNode& leaf, std::size_t k, const std::vector<double>& x) {
  const double plain = tree.leaf_values[leaf.leaf_index + k];
  if (leaf.linear_leaf < 0) return plain;
  const LinearLeaf& linear = tree.linear_leaves[static_cast<std::size_t>(leaf.linear_leaf)];
  double output = linear.constant;
  for (std::size_t j = 0; j < linear.features.size(); ++j) {
    const double value = x[static_cast<std::size_t>(linear.features[j])];
    if (std::isnan(value)) return plain;  // LightGBM: any missing input falls back to the plain leaf
    output += linear.coefficients[j] * value;
  }
  return output;
}

template <typename A>
void accumulate(const Model& model, const std::vector<double>& x, double* margins) {
  std::vector<A> sum(static_cast<std::size_t>(model.num_outputs));
  for (std::size_t g = 0; g < sum.size(); ++g) sum[g] = static_cast<A>(model.base_margin[g]);
  if (model.has_linear) {
    const LinearModel& linear = model.linear;
    for (std::size_t g = 0; g < sum.size(); ++g) {
      A psum = static_cast<A>(linear.bias[g]) + sum[g];
      for (std::int32_t f = 0; f < linear.num_features; ++f) {
        const double value = x[static_cast<std::size_t>(f)];
        if (std::isnan(value)) continue;
        psum += static_cast<A>(value) * static_cast<A>(linear.weights[static_cast<std::size_t>(f * linear.num_groups) + g]);
      }
      sum[g] = psum;
    }
  }
  for (const Tree& tree : model.trees) {
    const TreeNode& leaf = tree.nodes[find_leaf(model, tree, x)];
    for (std::int32_t k = 0; k < tree.leaf_size; ++k) {
      double value = leaf_output(tree, leaf, static_cast<std::size_t>(k), x);
      if (tree.weight != 1.0) value *= tree.weight;
      const std::size_t g = tree.leaf_size == 1 ? static_cast<std::size_t>(tree.group) : static_cast<std::size_t>(k);
      sum[g] += static_cast<A>(value);
    }
  }
  for (std::size_t g = 0; g < sum.size(); ++g) margins[g] = static_cast<double>(sum[g]);
}

}  // namespace

bool categorical_goes_left(const Tree& tree, const TreeNode& node, double x) {
  if (std::isnan(x)) {
    if (node.missing == MissingRule::kNanGoesDefault) return node.default_left;
    x = 0.0;
  }
  // Negative, non-integral beyond int range, or absent: not in the set.
  bool in_set = false;
  if (x >= 0.0 && x < 2147483648.0) {
    const auto category = static_cast<std::uint32_t>(x);  // truncation, as both libraries do
    auto begin = tree.categories.begin() + node.category_begin;
    in_set = std::binary_search(begin, begin + node.category_count, category);
  }
  return in_set == node.categories_go_left;
}

void reference_input_steps(const Model& model, const double* features, double* columns) {
  if (model.input_steps.empty()) {
    std::copy(features, features + model.num_features(), columns);
    return;
  }
  double* out = columns;
  for (const InputStep& step : model.input_steps) {
    double x = features[step.source];
    if (std::isnan(x) && !std::isnan(step.fill)) x = step.fill;
    // The position of x among the step's values (a NaN entry matches a missing x), or -1.
    auto position = [&]() -> std::ptrdiff_t {
      for (std::size_t k = 0; k < step.values.size(); ++k) {
        if (step.values[k] == x || (std::isnan(step.values[k]) && std::isnan(x))) return static_cast<std::ptrdiff_t>(k);
      }
      return -1;
    };
    switch (step.kind) {
      case InputStepKind::kCopy:
        *out++ = x;
        break;
      case InputStepKind::kAffine:
        *out++ = (x - step.offset) * step.scale + step.shift;
        break;
      case InputStepKind::kStandardize:
        *out++ = (x - step.offset) / step.scale;
        break;
      case InputStepKind::kOneHot: {
        const std::ptrdiff_t k = position();
        for (std::size_t j = 0; j < step.values.size(); ++j) out[j] = static_cast<std::ptrdiff_t>(j) == k ? 1.0 : 0.0;
        out += step.values.size();
        break;
      }
      case InputStepKind::kOrdinal: {
        const std::ptrdiff_t k = position();
        *out++ = k < 0 ? step.unknown : static_cast<double>(k);
        break;
      }
    }
  }
}

void reference_margins(const Model& model, const double* row, double* margins) {
  std::vector<double> columns(static_cast<std::size_t>(model.num_columns()));
  reference_input_steps(model, row, columns.data());
  reference_column_margins(model, columns.data(), margins);
}

void reference_column_margins(const Model& model, const double* row, double* margins) {
  std::vector<double> x(row, row + model.num_columns());
  for (double& value : x) value = to_precision(model.input_precision, value);
  if (model.accumulation == Precision::kFloat32) {
    accumulate<float>(model, x, margins);
  } else {
    accumulate<double>(model, x, margins);
  }
}

}  // namespace orchard
