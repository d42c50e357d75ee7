// Arithmetic on one tree's output, folded into its leaves.
//
// skl2onnx writes IsolationForest as one single-tree TreeEnsembleRegressor per tree followed by
// elementwise arithmetic on its output (Cast, LabelEncoder, Equal, Greater, Mul, Add, Max, Log, Div,
// ...). Every such value is a function of the leaf a row reaches, so Orchard computes it once per leaf
// at load time, with ONNX Runtime's float32 arithmetic, and the tree keeps its compiled form; a Sum of
// such values over trees is then an ordinary ensemble (summed in float, in order, as ONNX's Sum).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/model.h"
#include "formats/onnx_estimator.h"
#include "formats/onnx_graph.h"

namespace orchard::onnx_format {

struct LeafFunction {
  enum class Element { kFloat, kInteger, kBool };
  std::shared_ptr<const Tree> tree;  // the IR tree (identity: values of the same tree combine leaf by leaf)
  std::vector<double> values;        // per leaf, indexed like tree->leaf_values
  Element element = Element::kFloat;
};

// An elementwise operand: a leaf function, or a scalar constant (shape [] or [1]).
struct LeafOperand {
  const LeafFunction* leaves = nullptr;
  double constant = 0.0;
  LeafFunction::Element element = LeafFunction::Element::kFloat;
};

// The leaf function of a single-tree, single-output regressor with no transform (its leaves' values plus
// its base value, added in float as ONNX Runtime does), or nullptr for any other estimator.
std::shared_ptr<const LeafFunction> leaves_of(const Estimator& estimator);

// The ensemble of several leaf functions (ONNX Sum over trees): each tree with its folded values as
// leaves, summed in float32 in input order from 0, which is ONNX Runtime's Sum exactly.
Estimator sum_of(const std::vector<const LeafFunction*>& parts);

// The operators fold() knows.
bool folds_into_leaves(const std::string& op);

// The leaf function `node` computes from `operands` (its inputs in order; at least one is a leaf
// function, and all leaf functions are of the same tree). Throws Error(kInvalidModel) naming the node
// for anything else (operands of two trees, arithmetic on integers or booleans, non-finite results).
LeafFunction fold(const NodeView& node, const std::vector<LeafOperand>& operands);

}  // namespace orchard::onnx_format
