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

}  // namespace

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
