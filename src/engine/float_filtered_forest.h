// Float64 models decided in float32, exactly: a filter in front of the compiled forest.
//
// A double input x and a double threshold t (test x <= t) give the same answer as float(x) <= g, with
// g = float(t) rounded to nearest, unless float(x) == g: rounding to nearest is monotonic, so
// float(x) < g implies x < t and float(x) > g implies x > t. So a model whose splits are all plain
// numerical tests (HistGradientBoosting; LightGBM without its Zero/None missing types) is compiled
// twice: once with float32 inputs and thresholds g (the fast walk: sixteen rows per AVX-512 vector,
// half the memory), once exactly in double. A row is *tied* when, for some feature, float(x) equals one
// of that feature's g values (a hash lookup per feature, once per row, not per node); tied rows are
// recomputed by the exact kernel. Every row's margins are therefore bit-for-bit the double kernel's.
#pragma once

#include <memory>

#include "engine/compiled_forest.h"
#include "engine/model.h"

namespace orchard {

// Whether the model qualifies: float64 inputs, no linear part or linear leaves, only numerical splits
// with the "NaN takes the default side" rule.
bool float_filter_applies(const Model& model);

// `exact`: the model compiled in double. Compiles the float32 twin and returns the filtered kernel.
std::unique_ptr<const ForestKernel> compile_float_filtered(const Model& model, std::unique_ptr<const ForestKernel> exact,
                                                           const CompileOptions& options);

}  // namespace orchard
