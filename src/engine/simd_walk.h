// SIMD traversal of complete ("perfect") trees with float32 inputs: sixteen rows per AVX-512 vector
// (float64 inputs: eight),
// four vectors in flight so that gather latencies overlap. Chosen at run time when the CPU has
// AVX-512 (F, DQ); the scalar walk in compiled_forest.cc is the fallback and the two are tested
// against each other. The walk only finds leaves; summing stays scalar, in tree order, so results
// are bit-for-bit those of the scalar path.
#pragma once

#include <cstddef>
#include <cstdint>

namespace orchard {

// One node of a complete tree: the feature index (bit 31: missing goes left) and the threshold;
// the test is `x <= threshold`, NaN taking the default side.
struct PerfectNodeF32 {
  std::uint32_t feature;
  float threshold;
};
static_assert(sizeof(PerfectNodeF32) == 8);

inline constexpr std::uint32_t kPerfectFeatureMask = (1u << 29) - 1;

// The first five levels of a complete tree (31 nodes, padded to 32) as two columns, so that they
// are fetched with register permutes rather than memory gathers.
struct PerfectTreeTop {
  alignas(64) std::uint32_t feature[32];
  alignas(64) float threshold[32];
};

bool simd_walk_available();

// The same walk for float64 inputs (HistGradientBoosting, LightGBM): eight rows per vector, the top
// five levels' thresholds permuted out of four registers. Needs AVX-512 F, DQ and VL.
struct PerfectNodeF64 {
  std::uint32_t feature;
  double threshold;
};
static_assert(sizeof(PerfectNodeF64) == 16);

struct PerfectTreeTopF64 {
  alignas(64) std::uint32_t feature[32];
  alignas(64) double threshold[32];
};

bool simd_walk_f64_available();

// As simd_walk_perfect_f32, for m a multiple of 8 (at most 64 rows).
// REQUIRES: simd_walk_f64_available().
void simd_walk_perfect_f64(const PerfectNodeF64* nodes, const PerfectTreeTopF64& top, int depth, const double* x,
                           std::size_t stride, std::size_t m, std::uint32_t* leaf);

// For rows x[r * stride ...], r < m (m a multiple of 16, at most 64 rows), writes the index of the
// leaf each row reaches (0 .. 2^depth - 1) to leaf[r]. REQUIRES: simd_walk_available().
void simd_walk_perfect_f32(const PerfectNodeF32* nodes, const PerfectTreeTop& top, int depth, const float* x,
                           std::size_t stride, std::size_t m, std::uint32_t* leaf);

}  // namespace orchard
