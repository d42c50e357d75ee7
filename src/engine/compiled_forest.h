// The compiled form of a model: the IR turned into flat arrays laid out for fast traversal.
//
// Compilation normalizes the IR's per-node rules into one branch-free test per node:
//   * every numerical comparison becomes `x <= t` in the model's input precision (a `<` threshold is
//     replaced by the largest representable value below it, so results are bit-for-bit unchanged);
//   * per-feature missing rules (LightGBM's None and Zero) are applied once per row to the input
//     (NaN -> 0, or |x| <= 1e-35 -> NaN), after which every node reads "NaN takes the default side".
// Trees that are shallow and numerical (scalar or vector leaves) are stored as complete ("perfect") binary trees:
// a fixed number of steps per row, no data-dependent branch, child index = 2i + 1 + went_right, and
// eight rows walk each tree together so their memory loads overlap. Other trees (deep, categorical
// or with linear leaves) use a pointer layout walked until a leaf. Leaves are summed in the
// library's precision and tree order, so results match the reference evaluator exactly.
//
// A CompiledForest is immutable after construction and safe to use from any number of threads.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "engine/model.h"

namespace orchard {

// The interface of a compiled kernel; one implementation per (input, accumulation) precision pair,
// chosen at compile time. One virtual call per row or per block, never per node.
// A kernel reads *columns* (model.h): the Predictor runs the model's input steps first, if any.
class ForestKernel {
 public:
  virtual ~ForestKernel() = default;
  // One row (Model::num_columns() values, NaN = missing) -> num_outputs sums (see reference_margins: before
  // averaging and the output transform). Allocates nothing for models
  // with at most kStackFeatures columns and kStackOutputs outputs.
  virtual void margins_row(const double* row, double* margins) const = 0;
  // n rows, row-major with num_columns columns -> n * num_outputs margins, row-major.
  virtual void margins_block(const double* rows, std::size_t n, double* margins) const = 0;
  virtual std::string describe() const = 0;
  // Bytes the kernel occupies: the object and every array it allocated (nodes, leaves, category
  // bitsets, linear terms, ...), counted by capacity. Not the per-thread scratch buffers of wide
  // models, which belong to the threads. Virtual because each layout owns different arrays; it is
  // read once per load, never per row.
  virtual std::size_t memory_bytes() const = 0;
};

inline constexpr int kStackFeatures = 512;
inline constexpr int kStackOutputs = 64;

struct CompileOptions {
  bool allow_simd = true;       // use the AVX-512 walk where the CPU has it
  bool allow_perfect = true;    // store shallow trees as complete trees
  bool allow_float_filter = true;  // decide plain float64 models in float32, exactly (float_filtered_forest.h)
  // Single rows through several complete trees at once: 0 for models over 512 KB compiled (where cache
  // misses dominate), 1 always, -1 never.
  int interleave_single_rows = 0;
};

// Compiles a validated model. Throws Error(kInvalidModel) if it cannot be compiled.
std::unique_ptr<const ForestKernel> compile_forest(const Model& model, const CompileOptions& options = {});

}  // namespace orchard
