// Nodes of hand-built trees for engine tests.
#pragma once

#include <cstdint>

#include "engine/model.h"

namespace orchard::testing {

inline TreeNode split(std::int32_t feature, double threshold, std::int32_t left, std::int32_t right) {
  TreeNode node;
  node.kind = NodeKind::kNumerical;
  node.feature = feature;
  node.threshold = threshold;
  node.left = left;
  node.right = right;
  return node;
}

inline TreeNode leaf(std::uint32_t index) {
  TreeNode node;
  node.kind = NodeKind::kLeaf;
  node.leaf_index = index;
  return node;
}

}  // namespace orchard::testing
