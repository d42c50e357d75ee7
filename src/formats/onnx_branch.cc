#include "formats/onnx_branch.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

#include "common/error.h"

namespace orchard::onnx_format {
namespace {

// Non-NaN floats in their numeric order, as unsigned keys (-0 just below +0).
std::uint32_t order_key(float f) {
  std::uint32_t bits;
  std::memcpy(&bits, &f, sizeof bits);
  return (bits & 0x80000000u) ? ~bits : (bits | 0x80000000u);
}
float from_order_key(std::uint32_t key) {
  const std::uint32_t bits = (key & 0x80000000u) ? (key & 0x7fffffffu) : ~key;
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

// What ONNX Runtime feeds the tree for a float input x, in its float arithmetic.
double transformed(const ColumnSource& source, float x) {
  switch (source.transform) {
    case ColumnSource::Transform::kScale: {
      const float shifted = x - source.offset;
      return static_cast<double>(shifted * source.scale);
    }
    case ColumnSource::Transform::kBinarize:
      return x > source.threshold ? 1.0 : 0.0;  // NaN > t is false: NaN becomes 0
    case ColumnSource::Transform::kNone:
      break;
  }
  return static_cast<double>(x);
}

// ONNX Runtime's node test: `y MODE t`, or the true branch for a NaN when missing values track true.
bool onnx_node_true(BranchMode mode, double y, double t, bool tracks) {
  if (tracks && std::isnan(y)) return true;
  switch (mode) {
    case BranchMode::kLeq: return y <= t;
    case BranchMode::kLt: return y < t;
    case BranchMode::kGte: return y >= t;
    case BranchMode::kGt: return y > t;
    case BranchMode::kEq: return y == t;
    case BranchMode::kNeq: return y != t;
    case BranchMode::kLeaf: break;
  }
  return false;
}

}  // namespace

BranchMode parse_branch_mode(const std::string& text, const NodeView& view, std::size_t i) {
  if (text == "LEAF") return BranchMode::kLeaf;
  if (text == "BRANCH_LEQ") return BranchMode::kLeq;
  if (text == "BRANCH_LT") return BranchMode::kLt;
  if (text == "BRANCH_GTE") return BranchMode::kGte;
  if (text == "BRANCH_GT") return BranchMode::kGt;
  if (text == "BRANCH_EQ") return BranchMode::kEq;
  if (text == "BRANCH_NEQ") return BranchMode::kNeq;
  view.fail("nodes_modes[" + std::to_string(i) + "] is \"" + text + "\"",
            "LEAF, BRANCH_LEQ, BRANCH_LT, BRANCH_GTE, BRANCH_GT, BRANCH_EQ or BRANCH_NEQ (BRANCH_MEMBER is not supported)");
}

bool float_bound(double t, bool strict, float& out) {
  if (std::isnan(t)) return false;
  float f = static_cast<float>(t);  // round to nearest: may land above t
  if (static_cast<double>(f) > t || (strict && static_cast<double>(f) == t)) {
    if (f == -std::numeric_limits<float>::infinity()) return false;
    f = std::nextafter(f, -std::numeric_limits<float>::infinity());
  }
  out = f;
  return true;
}

BranchDecision through_transform(const NodeView& view, const ColumnSource& source, BranchMode mode, double t, bool tracks, const std::string& place) {
  if (source.transform == ColumnSource::Transform::kScale && (mode == BranchMode::kEq || mode == BranchMode::kNeq)) {
    view.fail(place + ": BRANCH_EQ / BRANCH_NEQ on a Scaler's output", "an ordered comparison (LEQ, LT, GTE, GT) after a Scaler");
  }
  // Over the ordered non-NaN floats the test is monotone: a Scaler is monotone (its scale is non-zero)
  // and a Binarizer a step, so the inputs that take one branch are all those up to some bound.
  auto test = [&](std::uint32_t key) { return onnx_node_true(mode, transformed(source, from_order_key(key)), t, tracks); };
  BranchDecision d;
  d.nan_true = onnx_node_true(mode, transformed(source, std::numeric_limits<float>::quiet_NaN()), t, tracks);
  std::uint32_t low = order_key(-std::numeric_limits<float>::infinity());
  std::uint32_t high = order_key(std::numeric_limits<float>::infinity());
  d.low_true = test(low);
  if (test(high) == d.low_true) {
    d.constant = true;
    d.bound = std::numeric_limits<float>::infinity();
    return d;
  }
  while (high - low > 1) {  // invariant: test(low) == low_true, test(high) != low_true
    const std::uint32_t middle = low + (high - low) / 2;
    (test(middle) == d.low_true ? low : high) = middle;
  }
  d.bound = from_order_key(low);
  return d;
}

}  // namespace orchard::onnx_format
