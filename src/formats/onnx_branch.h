// One ONNX tree node's test as the IR's `x <= t` test on the raw float input.
//
// ONNX Runtime compares the float32 input (or a Scaler's / Binarizer's float output) with a threshold
// in one of six modes. The IR has one comparison, `x <= t` in float32, so every mode is mapped onto it
// with a bound chosen so that the decision is the same for every float input (see
// onnx_tree_ensemble.cc for how the builder uses it).
#pragma once

#include <cstddef>
#include <string>

#include "formats/onnx_estimator.h"
#include "formats/onnx_graph.h"

namespace orchard::onnx_format {

enum class BranchMode { kLeaf, kLeq, kLt, kGte, kGt, kEq, kNeq };

// nodes_modes[i]; anything else (BRANCH_MEMBER) is refused naming the node.
BranchMode parse_branch_mode(const std::string& text, const NodeView& view, std::size_t i);

// The largest float f with f <= t (or f < t when `strict`), so that for every float x, x <= f iff
// x <= t (x < t). Returns false when no such float exists (t = -inf, strict; or t NaN).
bool float_bound(double t, bool strict, float& out);

// A node on a transformed column as one `x <= bound` test on the raw input: inputs up to `bound` take
// the true branch iff low_true; NaN takes it iff nan_true. `constant`: every non-NaN input goes the
// same way (bound is +inf).
struct BranchDecision {
  float bound = 0.0f;
  bool low_true = true;
  bool nan_true = false;
  bool constant = false;
};

// The decision for a node testing `source`'s transform (a Scaler or Binarizer) of the input with
// `mode` against `t`, missing values tracking true or not: computed by binary search over the floats
// with ONNX Runtime's float arithmetic, which is monotone in the input. EQ/NEQ after a Scaler is
// refused (the equal inputs form an interval, not a bound). `place` names the node in errors.
BranchDecision through_transform(const NodeView& view, const ColumnSource& source, BranchMode mode, double t, bool tracks,
                                 const std::string& place);

}  // namespace orchard::onnx_format
