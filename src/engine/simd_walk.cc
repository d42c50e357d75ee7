#include "engine/simd_walk.h"

// GCC 12 flags the deliberately undefined pass-through operand inside the gather intrinsics
// (GCC bug 105593); the gathers here are unmasked, so every lane is written.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

namespace orchard {

bool simd_walk_available() {
  static const bool available = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq");
  return available;
}

namespace {

struct Lanes {
  __m512i index;
  __m512i row_offset;
};

struct Top {
  __m512i feature_lo, feature_hi;
  __m512 threshold_lo, threshold_hi;
};

// One level for sixteen rows. kTop: the node is among the first 31, fetched by permute from `top`;
// otherwise node fields are gathered with scale 8 (the node size) from the feature and threshold members.
template <bool kTop>
__attribute__((target("avx512f,avx512dq"), always_inline)) inline void step(Lanes& lanes, const PerfectNodeF32* nodes,
                                                                            const Top& top, const float* x,
                                                                            __m512i feature_mask) {
  __m512i feature;
  __m512 threshold;
  if constexpr (kTop) {
    feature = _mm512_permutex2var_epi32(top.feature_lo, lanes.index, top.feature_hi);
    threshold = _mm512_permutex2var_ps(top.threshold_lo, lanes.index, top.threshold_hi);
  } else {
    feature = _mm512_i32gather_epi32(lanes.index, &nodes->feature, 8);
    threshold = _mm512_i32gather_ps(lanes.index, &nodes->threshold, 8);
  }
  const __m512i offset = _mm512_add_epi32(lanes.row_offset, _mm512_and_si512(feature, feature_mask));
  const __m512 value = _mm512_i32gather_ps(offset, x, 4);
  const __mmask16 le = _mm512_cmp_ps_mask(value, threshold, _CMP_LE_OQ);
  const __mmask16 missing = _mm512_cmp_ps_mask(value, value, _CMP_UNORD_Q);
  const __mmask16 default_left = _mm512_movepi32_mask(feature);
  const __mmask16 left = static_cast<__mmask16>(le | (missing & default_left));
  // index = 2 * index + 2 - left
  const __m512i doubled = _mm512_add_epi32(_mm512_add_epi32(lanes.index, lanes.index), _mm512_set1_epi32(2));
  lanes.index = _mm512_mask_sub_epi32(doubled, left, doubled, _mm512_set1_epi32(1));
}

template <bool kTop>
__attribute__((target("avx512f,avx512dq"), always_inline)) inline void level(Lanes* lanes, std::size_t groups,
                                                                             const PerfectNodeF32* nodes, const Top& top,
                                                                             const float* x, __m512i feature_mask) {
  switch (groups) {
    case 4: step<kTop>(lanes[3], nodes, top, x, feature_mask); [[fallthrough]];
    case 3: step<kTop>(lanes[2], nodes, top, x, feature_mask); [[fallthrough]];
    case 2: step<kTop>(lanes[1], nodes, top, x, feature_mask); [[fallthrough]];
    case 1: step<kTop>(lanes[0], nodes, top, x, feature_mask); break;
    default: break;
  }
}

struct Lanes64 {
  __m256i index;
  __m256i row_offset;
};

struct Top64 {
  __m512i feature_lo, feature_hi;
  __m512d threshold[4];
};

#define ORCHARD_F64_TARGET __attribute__((target("avx512f,avx512dq,avx512vl,avx2")))

// One level for eight rows of doubles; as step() otherwise. Nodes are 16 bytes: the feature at byte 0,
// the threshold at byte 8.
template <bool kTop>
ORCHARD_F64_TARGET __attribute__((always_inline)) inline void step64(Lanes64& lanes, const PerfectNodeF64* nodes,
                                                                     const Top64& top, const double* x,
                                                                     __m256i feature_mask) {
  __m256i feature;
  __m512d threshold;
  if constexpr (kTop) {
    const __m512i wide = _mm512_zextsi256_si512(lanes.index);
    feature = _mm512_castsi512_si256(_mm512_permutex2var_epi32(top.feature_lo, wide, top.feature_hi));
    const __m512i index64 = _mm512_cvtepu32_epi64(lanes.index);
    const __m512d low = _mm512_permutex2var_pd(top.threshold[0], index64, top.threshold[1]);
    const __m512d high = _mm512_permutex2var_pd(top.threshold[2], index64, top.threshold[3]);
    threshold = _mm512_mask_blend_pd(_mm512_test_epi64_mask(index64, _mm512_set1_epi64(16)), low, high);
  } else {
    feature = _mm256_i32gather_epi32(reinterpret_cast<const int*>(&nodes->feature), _mm256_slli_epi32(lanes.index, 2), 4);
    threshold = _mm512_i32gather_pd(_mm256_slli_epi32(lanes.index, 1), &nodes->threshold, 8);
  }
  const __m256i offset = _mm256_add_epi32(lanes.row_offset, _mm256_and_si256(feature, feature_mask));
  const __m512d value = _mm512_i32gather_pd(offset, x, 8);
  const __mmask8 le = _mm512_cmp_pd_mask(value, threshold, _CMP_LE_OQ);
  const __mmask8 missing = _mm512_cmp_pd_mask(value, value, _CMP_UNORD_Q);
  const __mmask8 default_left = _mm256_movepi32_mask(feature);
  const __mmask8 left = static_cast<__mmask8>(le | (missing & default_left));
  const __m256i doubled = _mm256_add_epi32(_mm256_add_epi32(lanes.index, lanes.index), _mm256_set1_epi32(2));
  lanes.index = _mm256_mask_sub_epi32(doubled, left, doubled, _mm256_set1_epi32(1));
}

template <bool kTop>
ORCHARD_F64_TARGET __attribute__((always_inline)) inline void level64(Lanes64* lanes, std::size_t groups,
                                                                      const PerfectNodeF64* nodes, const Top64& top,
                                                                      const double* x, __m256i feature_mask) {
  switch (groups) {
    case 8: step64<kTop>(lanes[7], nodes, top, x, feature_mask); [[fallthrough]];
    case 7: step64<kTop>(lanes[6], nodes, top, x, feature_mask); [[fallthrough]];
    case 6: step64<kTop>(lanes[5], nodes, top, x, feature_mask); [[fallthrough]];
    case 5: step64<kTop>(lanes[4], nodes, top, x, feature_mask); [[fallthrough]];
    case 4: step64<kTop>(lanes[3], nodes, top, x, feature_mask); [[fallthrough]];
    case 3: step64<kTop>(lanes[2], nodes, top, x, feature_mask); [[fallthrough]];
    case 2: step64<kTop>(lanes[1], nodes, top, x, feature_mask); [[fallthrough]];
    case 1: step64<kTop>(lanes[0], nodes, top, x, feature_mask); break;
    default: break;
  }
}

}  // namespace

bool simd_walk_f64_available() {
  static const bool available = simd_walk_available() && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx2");
  return available;
}

ORCHARD_F64_TARGET void simd_walk_perfect_f64(const PerfectNodeF64* nodes, const PerfectTreeTopF64& tree_top, int depth,
                                              const double* x, std::size_t stride, std::size_t m, std::uint32_t* leaf) {
  const Top64 top{_mm512_load_si512(tree_top.feature),
                  _mm512_load_si512(tree_top.feature + 16),
                  {_mm512_load_pd(tree_top.threshold), _mm512_load_pd(tree_top.threshold + 8),
                   _mm512_load_pd(tree_top.threshold + 16), _mm512_load_pd(tree_top.threshold + 24)}};
  const __m256i feature_mask = _mm256_set1_epi32(static_cast<int>(kPerfectFeatureMask));
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  const __m256i stride8 = _mm256_set1_epi32(static_cast<int>(stride));
  const __m256i first_leaf = _mm256_set1_epi32((1 << depth) - 1);
  const std::size_t groups = m / 8;
  Lanes64 lanes[8];
  for (std::size_t g = 0; g < groups; ++g) {
    lanes[g].index = _mm256_setzero_si256();
    lanes[g].row_offset = _mm256_mullo_epi32(_mm256_add_epi32(lane, _mm256_set1_epi32(static_cast<int>(g * 8))), stride8);
  }
  int d = 0;
  for (; d < depth && d < 5; ++d) level64<true>(lanes, groups, nodes, top, x, feature_mask);
  for (; d < depth; ++d) level64<false>(lanes, groups, nodes, top, x, feature_mask);
  for (std::size_t g = 0; g < groups; ++g) {
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(leaf + g * 8), _mm256_sub_epi32(lanes[g].index, first_leaf));
  }
}

__attribute__((target("avx512f,avx512dq"))) void simd_walk_perfect_f32(const PerfectNodeF32* nodes,
                                                                        const PerfectTreeTop& tree_top, int depth,
                                                                        const float* x, std::size_t stride,
                                                                        std::size_t m, std::uint32_t* leaf) {
  const Top top{_mm512_load_si512(tree_top.feature), _mm512_load_si512(tree_top.feature + 16),
                _mm512_load_ps(tree_top.threshold), _mm512_load_ps(tree_top.threshold + 16)};
  const __m512i feature_mask = _mm512_set1_epi32(static_cast<int>(kPerfectFeatureMask));
  const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  const __m512i stride16 = _mm512_set1_epi32(static_cast<int>(stride));
  const __m512i first_leaf = _mm512_set1_epi32((1 << depth) - 1);
  const std::size_t groups = m / 16;
  Lanes lanes[4];
  for (std::size_t g = 0; g < groups; ++g) {
    lanes[g].index = _mm512_setzero_si512();
    lanes[g].row_offset = _mm512_mullo_epi32(_mm512_add_epi32(lane, _mm512_set1_epi32(static_cast<int>(g * 16))), stride16);
  }
  int d = 0;
  for (; d < depth && d < 5; ++d) level<true>(lanes, groups, nodes, top, x, feature_mask);
  for (; d < depth; ++d) level<false>(lanes, groups, nodes, top, x, feature_mask);
  for (std::size_t g = 0; g < groups; ++g) {
    _mm512_storeu_si512(leaf + g * 16, _mm512_sub_epi32(lanes[g].index, first_leaf));
  }
}

}  // namespace orchard
