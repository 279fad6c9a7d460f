// Internal: the F32 / F16 / BF16 weight and activation vectors of one kernel family's float dot products
// (quant_dot_simd.cpp): 16-float AVX-512 registers with masked tails, or 8-float AVX2 ones with a scalar tail. In
// the family's namespace like the kernels; include after quant_simd_util.hpp.
#pragma once

#include "kernels/quant_simd_util.hpp"

#if defined(LMGEN_SIMD_AVX2)

namespace lmgen::simd::LMGEN_KERNEL_NS {

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__)
constexpr int kLanes = 16;
using VF = __m512;
template <DType T>
inline VF load_w(const void* w, int64_t i) {
  if constexpr (T == DType::F32) return _mm512_loadu_ps(static_cast<const float*>(w) + i);
  const auto* p = reinterpret_cast<const __m256i*>(static_cast<const uint16_t*>(w) + i);
  if constexpr (T == DType::F16) return _mm512_cvtph_ps(_mm256_loadu_si256(p));
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256(p)), 16));
}
template <DType T>
inline VF load_w_tail(const void* w, int64_t i, int m) {
  const __mmask16 k = static_cast<__mmask16>((1u << m) - 1);
  if constexpr (T == DType::F32) return _mm512_maskz_loadu_ps(k, static_cast<const float*>(w) + i);
  const uint16_t* p = static_cast<const uint16_t*>(w) + i;
  if constexpr (T == DType::F16) return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(k, p));
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(k, p)), 16));
}
inline VF load_x(const float* x) { return _mm512_loadu_ps(x); }
inline VF load_x_tail(const float* x, int m) {
  return _mm512_maskz_loadu_ps(static_cast<__mmask16>((1u << m) - 1), x);
}
inline VF vzero() { return _mm512_setzero_ps(); }
inline VF vfma(VF a, VF b, VF c) { return _mm512_fmadd_ps(a, b, c); }
// The sum of the 16 lanes of a + b in a fixed order: lane i + lane i + 8, then i + i + 4, then i + (i ^ 2), then
// lane 0 + lane 1 (the order of GCC's _mm512_reduce_add_ps, written out so vsum4 can follow it).
inline float vsum(VF a, VF b) {
  const __m512 v = _mm512_add_ps(a, b);
  const __m256 h = _mm256_add_ps(_mm512_castps512_ps256(v), _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)));
  const __m128 q = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
  const __m128 p = _mm_add_ps(q, _mm_permute_ps(q, _MM_SHUFFLE(1, 0, 3, 2)));
  return _mm_cvtss_f32(_mm_add_ss(p, _mm_movehdup_ps(p)));
}
// vsum of four pairs at once, the same additions on the same lanes (so bit-identical to four vsum calls) in 13
// instructions instead of about 32: the 128-bit quarters of the four sums are transposed so that each step adds
// four outputs' lanes in one instruction. Results in lanes 0, 4, 8 and 12, gathered into the low 128 bits.
inline __m128 vsum4(VF a0, VF b0, VF a1, VF b1, VF a2, VF b2, VF a3, VF b3) {
  const __m512 v0 = _mm512_add_ps(a0, b0), v1 = _mm512_add_ps(a1, b1), v2 = _mm512_add_ps(a2, b2),
               v3 = _mm512_add_ps(a3, b3);
  // lanes i + i + 8: quarters [v0 q0+q2, v0 q1+q3, v1 q0+q2, v1 q1+q3]
  const __m512 p01 = _mm512_add_ps(_mm512_shuffle_f32x4(v0, v1, _MM_SHUFFLE(1, 0, 1, 0)),
                                   _mm512_shuffle_f32x4(v0, v1, _MM_SHUFFLE(3, 2, 3, 2)));
  const __m512 p23 = _mm512_add_ps(_mm512_shuffle_f32x4(v2, v3, _MM_SHUFFLE(1, 0, 1, 0)),
                                   _mm512_shuffle_f32x4(v2, v3, _MM_SHUFFLE(3, 2, 3, 2)));
  // lanes i + i + 4: one quarter per output
  const __m512 q = _mm512_add_ps(_mm512_shuffle_f32x4(p01, p23, _MM_SHUFFLE(2, 0, 2, 0)),
                                 _mm512_shuffle_f32x4(p01, p23, _MM_SHUFFLE(3, 1, 3, 1)));
  const __m512 p = _mm512_add_ps(q, _mm512_permute_ps(q, _MM_SHUFFLE(1, 0, 3, 2)));  // i + (i ^ 2)
  const __m512 r = _mm512_add_ps(p, _mm512_movehdup_ps(p));                         // lane 0 + lane 1
  return _mm512_castps512_ps128(_mm512_permutexvar_ps(_mm512_setr_epi32(0, 4, 8, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), r));
}
constexpr bool kMaskedTail = true;
#else
constexpr int kLanes = 8;
using VF = __m256;
template <DType T>
inline VF load_w(const void* w, int64_t i) {
  if constexpr (T == DType::F32) return _mm256_loadu_ps(static_cast<const float*>(w) + i);
  const auto* p = reinterpret_cast<const __m128i*>(static_cast<const uint16_t*>(w) + i);
  if constexpr (T == DType::F16) return _mm256_cvtph_ps(_mm_loadu_si128(p));
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128(p)), 16));
}
template <DType T>
inline VF load_w_tail(const void*, int64_t, int) { return _mm256_setzero_ps(); }
inline VF load_x(const float* x) { return _mm256_loadu_ps(x); }
inline VF load_x_tail(const float*, int) { return _mm256_setzero_ps(); }
inline VF vzero() { return _mm256_setzero_ps(); }
inline VF vfma(VF a, VF b, VF c) { return _mm256_fmadd_ps(a, b, c); }
inline float vsum(VF a, VF b) { return hsum(_mm256_add_ps(a, b)); }
// vsum of four pairs at once with hsum's additions on the same lanes (i + i + 4, i + i + 2, lane 0 + lane 1), so
// bit-identical to four vsum calls, in 16 instructions instead of about 28.
inline __m128 vsum4(VF a0, VF b0, VF a1, VF b1, VF a2, VF b2, VF a3, VF b3) {
  const __m256 v0 = _mm256_add_ps(a0, b0), v1 = _mm256_add_ps(a1, b1), v2 = _mm256_add_ps(a2, b2),
               v3 = _mm256_add_ps(a3, b3);
  // i + i + 4: [v0 | v1] and [v2 | v3] by 128-bit lane
  const __m256 p01 = _mm256_add_ps(_mm256_permute2f128_ps(v0, v1, 0x20), _mm256_permute2f128_ps(v0, v1, 0x31));
  const __m256 p23 = _mm256_add_ps(_mm256_permute2f128_ps(v2, v3, 0x20), _mm256_permute2f128_ps(v2, v3, 0x31));
  // i + i + 2: lanes [v0 0, v0 1, v2 0, v2 1 | v1 0, v1 1, v3 0, v3 1]
  const __m256 q = _mm256_add_ps(_mm256_shuffle_ps(p01, p23, _MM_SHUFFLE(1, 0, 1, 0)),
                                 _mm256_shuffle_ps(p01, p23, _MM_SHUFFLE(3, 2, 3, 2)));
  const __m256 r = _mm256_add_ps(q, _mm256_movehdup_ps(q));  // lane 0 + lane 1
  return _mm256_castps256_ps128(_mm256_permutevar8x32_ps(r, _mm256_setr_epi32(0, 4, 2, 6, 0, 0, 0, 0)));
}
constexpr bool kMaskedTail = false;
#endif

// out[r * NA + a] = vsum(acc0[r][a], acc1[r][a]) for a tile of outputs, four at a time where there are four.
template <int R, int NA>
inline void vsum_tile(const VF (&acc0)[R][NA], const VF (&acc1)[R][NA], float* out) {
  constexpr int kOut = R * NA, kFour = kOut / 4 * 4;
#pragma GCC unroll 8
  for (int o = 0; o < kFour; o += 4) {
    auto a0 = [&](int k) -> const VF& { return acc0[(o + k) / NA][(o + k) % NA]; };
    auto a1 = [&](int k) -> const VF& { return acc1[(o + k) / NA][(o + k) % NA]; };
    _mm_storeu_ps(out + o, vsum4(a0(0), a1(0), a0(1), a1(1), a0(2), a1(2), a0(3), a1(3)));
  }
#pragma GCC unroll 8
  for (int o = kFour; o < kOut; ++o) out[o] = vsum(acc0[o / NA][o % NA], acc1[o / NA][o % NA]);
}

// The value, forced into a register: otherwise GCC folds an F32 weight load into every FMA that uses it, loading
// each weight vector once per activation instead of once per chunk (30 loads per 24 FMAs in the 4 x 3 tile).
inline VF in_register(VF v) {
  __asm__("" : "+v"(v));
  return v;
}

template <DType T>
inline float scalar_w(const void* w, int64_t i) {
  if constexpr (T == DType::F32) return static_cast<const float*>(w)[i];
  const uint16_t h = static_cast<const uint16_t*>(w)[i];
  if constexpr (T == DType::F16) return h2f(h);
  return bf16_to_fp32(h);
}

}  // namespace lmgen::simd::LMGEN_KERNEL_NS

#endif  // LMGEN_SIMD_AVX2
