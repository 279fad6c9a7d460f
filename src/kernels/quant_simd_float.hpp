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
inline float vsum(VF a, VF b) { return _mm512_reduce_add_ps(_mm512_add_ps(a, b)); }
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
constexpr bool kMaskedTail = false;
#endif

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
