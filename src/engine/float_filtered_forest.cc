#include "engine/float_filtered_forest.h"

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace orchard {
namespace {

constexpr std::uint32_t kEmpty = 0xFFFFFFFFu;  // a NaN pattern: never a threshold

// +0 and -0 compare equal as floats, so they share one key.
std::uint32_t key_of(float value) {
  const std::uint32_t bits = std::bit_cast<std::uint32_t>(value);
  return (bits << 1) == 0 ? 0u : bits;
}

std::uint32_t slot_of(std::uint32_t key, std::uint32_t mask) { return (key * 0x9E3779B1u >> 7) & mask; }

// The double threshold t' with "x <= t'" equivalent to the model's comparison against t; NaN if no
// double passes (a strict test against -inf).
double inclusive_threshold(double t, Comparison comparison) {
  if (comparison == Comparison::kLessOrEqual) return t;
  if (t == -std::numeric_limits<double>::infinity()) return std::numeric_limits<double>::quiet_NaN();
  return std::nextafter(t, -std::numeric_limits<double>::infinity());
}

class FloatFilteredForest final : public ForestKernel {
 public:
  FloatFilteredForest(const Model& model, std::unique_ptr<const ForestKernel> exact, const CompileOptions& options)
      : exact_(std::move(exact)), num_features_(model.num_columns()), num_outputs_(model.num_outputs) {
    Model twin = model;
    twin.input_precision = Precision::kFloat32;
    twin.comparison = Comparison::kLessOrEqual;
    std::vector<std::vector<std::uint32_t>> keys(static_cast<std::size_t>(num_features_));
    for (Tree& tree : twin.trees) {
      for (TreeNode& node : tree.nodes) {
        if (node.kind != NodeKind::kNumerical) continue;
        const double t = inclusive_threshold(node.threshold, model.comparison);
        const float g = static_cast<float>(t);  // nearest; NaN stays NaN (never true, never tied)
        node.threshold = static_cast<double>(g);
        if (g == g) keys[static_cast<std::size_t>(node.feature)].push_back(key_of(g));
      }
    }
    fast_ = compile_forest(twin, options);
    for (std::size_t f = 0; f < keys.size(); ++f) {
      if (keys[f].empty()) continue;
      std::uint32_t size = 4;
      while (size < 2 * keys[f].size()) size *= 2;
      Table table{static_cast<std::uint32_t>(f), static_cast<std::uint32_t>(slots_.size()), size - 1};
      slots_.resize(slots_.size() + size, kEmpty);
      for (std::uint32_t key : keys[f]) {
        std::uint32_t s = slot_of(key, table.mask);
        while (slots_[table.offset + s] != kEmpty && slots_[table.offset + s] != key) s = (s + 1) & table.mask;
        slots_[table.offset + s] = key;
      }
      tables_.push_back(table);
    }
  }

  void margins_row(const double* row, double* margins) const override {
    (tied(row) ? exact_ : fast_)->margins_row(row, margins);
  }

  void margins_block(const double* rows, std::size_t n, double* margins) const override {
    fast_->margins_block(rows, n, margins);
    const std::size_t nf = static_cast<std::size_t>(num_features_);
    const std::size_t no = static_cast<std::size_t>(num_outputs_);
    for (std::size_t r = 0; r < n; ++r) {
      if (tied(rows + r * nf)) exact_->margins_row(rows + r * nf, margins + r * no);
    }
  }

  std::string describe() const override {
    return fast_->describe() + " (float64 inputs decided in float32; rows tied with a threshold recomputed in float64)";
  }

  // Both compiled kernels (the float32 twin and the exact one) are kept, plus the threshold tables.
  std::size_t memory_bytes() const override {
    return sizeof(*this) + exact_->memory_bytes() + fast_->memory_bytes() + vector_bytes(tables_) + vector_bytes(slots_);
  }

 private:
  struct Table {
    std::uint32_t feature;
    std::uint32_t offset;
    std::uint32_t mask;
  };

  // True if some feature's float value equals one of that feature's float thresholds.
  bool tied(const double* row) const {
    for (const Table& table : tables_) {
      const float x = static_cast<float>(row[table.feature]);
      if (x != x) continue;
      const std::uint32_t key = key_of(x);
      for (std::uint32_t s = slot_of(key, table.mask);; s = (s + 1) & table.mask) {
        const std::uint32_t entry = slots_[table.offset + s];
        if (entry == key) return true;
        if (entry == kEmpty) break;
      }
    }
    return false;
  }

  std::unique_ptr<const ForestKernel> exact_;
  std::unique_ptr<const ForestKernel> fast_;
  std::int32_t num_features_;
  std::int32_t num_outputs_;
  std::vector<Table> tables_;
  std::vector<std::uint32_t> slots_;
};

}  // namespace

bool float_filter_applies(const Model& model) {
  if (model.input_precision != Precision::kFloat64 || model.has_linear) return false;
  for (const Tree& tree : model.trees) {
    if (!tree.linear_leaves.empty()) return false;
    for (const TreeNode& node : tree.nodes) {
      if (node.kind == NodeKind::kLeaf) continue;
      if (node.kind != NodeKind::kNumerical || node.missing != MissingRule::kNanGoesDefault) return false;
    }
  }
  return true;
}

std::unique_ptr<const ForestKernel> compile_float_filtered(const Model& model, std::unique_ptr<const ForestKernel> exact,
                                                           const CompileOptions& options) {
  return std::make_unique<FloatFilteredForest>(model, std::move(exact), options);
}

}  // namespace orchard
