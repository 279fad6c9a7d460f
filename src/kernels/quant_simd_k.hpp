// Internal: helpers of the kernels whose activations are Q8_K super-blocks (quant_dot_kquant.cpp: Q4_K/Q5_K/Q6_K;
// quant_dot_lowbit.cpp: Q2_K/Q3_K/IQ4_XS/IQ3_S), in the family's namespace like the kernels.
#pragma once

#include "kernels/quant_blocks.hpp"
#include "kernels/quant_simd_util.hpp"

#include <cstring>
#include <memory>

#if defined(LMGEN_SIMD_AVX2)
namespace lmgen::simd::LMGEN_KERNEL_NS::kact {

inline __m256i load32(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }
// Super-block i of activation row a (rows stride bytes apart).
inline const qblk::BlockQ8_K& q8k(const uint8_t* act, size_t stride, int a, int64_t i) {
  return reinterpret_cast<const qblk::BlockQ8_K*>(act + a * stride)[i];
}

// The integer sums of a super-block: 8 i32 lanes (256-bit kernels) or 16 (512-bit ones, one per half of the
// super-block or per sub-block pair). The float end takes them as 8 lanes, a wide sum's two halves added first:
// ggml's order, which the fixtures' references (llama.cpp's logits on tiny random models, where rounding
// differences grow through the layers) follow closely. Converting all 16 lanes instead saved two instructions per
// super-block and moved a Q5_K_M greedy continuation off its reference at a margin of 0.84.
inline __m256i lanes8(__m256i v) { return v; }
inline __m256i widen(__m256i v, __m256i) { return v; }
// Lane L of f in all 8 lanes.
template <int L>
inline __m256 lane_of(__m128 f) {
  return _mm256_permutevar8x32_ps(_mm256_castps128_ps256(f), _mm256_set1_epi32(L));
}
#if defined(__AVX512F__) && defined(__AVX512BW__)
// The two 256-bit halves of v added lane by lane.
inline __m256i sum_halves(__m512i v) {
  return _mm256_add_epi32(_mm512_castsi512_si256(v), _mm512_extracti64x4_epi64(v, 1));
}
inline __m256i lanes8(__m512i v) { return sum_halves(v); }
inline __m512i widen(__m256i v, __m512i) { return _mm512_zextsi256_si512(v); }
#endif

// Two halves side by side (d and dmin) as floats in lanes 0 and 1: one load, one conversion.
inline __m128 half_pair(const uint16_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return _mm_cvtph_ps(_mm_cvtsi32_si128(v));
}

// sumi[a] = -2^Shift * sum_k sc_k * bsum_k: the constant offset -2^Shift of every weight (Q3_K 4, Q6_K 32) taken
// out through the activation's bsums, sc16 being the 16 sub-block scales as words (in the low 8 lanes of a wide sum).
template <int NA, int Shift, typename I>
inline void start_with_offset(I* sumi, __m256i sc16, const uint8_t* act, size_t stride, int64_t i) {
  for (int a = 0; a < NA; ++a) {
    const __m256i corr = _mm256_madd_epi16(sc16, load32(q8k(act, stride, a, i).bsums));
    sumi[a] = widen(_mm256_sub_epi32(_mm256_setzero_si256(), _mm256_slli_epi32(corr, Shift)), I{});
  }
}

// The float end of one super-block: acc[a] += d * d_y * sumi[a] per activation row a.
template <int NA, typename I>
inline void add_block(__m256* acc, const I* sumi, float d, const uint8_t* act, size_t stride, int64_t i) {
#pragma GCC unroll 4
  for (int a = 0; a < NA; ++a)
    acc[a] = _mm256_fmadd_ps(_mm256_set1_ps(d * q8k(act, stride, a, i).d), _mm256_cvtepi32_ps(lanes8(sumi[a])), acc[a]);
}

// The float end of one super-block for the types with mins (Q2_K, Q4_K, Q5_K): per activation row a,
// acc += d * d_y * sumi - dmin * d_y * sum_k(min_k * bsum_k), dd holding d and dmin (half_pair), mins being the 16
// words that multiply the 16 bsums. d * d_y and dmin * d_y come out of one vector multiply.
template <int NA, typename I>
inline void add_block_with_mins(__m256* acc, const I* sumi, __m256i mins, __m128 dd, const uint8_t* act,
                                size_t stride, int64_t i) {
#pragma GCC unroll 4
  for (int a = 0; a < NA; ++a) {
    const qblk::BlockQ8_K& y = q8k(act, stride, a, i);
    const __m256i mt = _mm256_madd_epi16(mins, load32(y.bsums));
    const __m128 f = _mm_mul_ps(dd, _mm_set1_ps(y.d));
    acc[a] = _mm256_fmadd_ps(lane_of<0>(f), _mm256_cvtepi32_ps(lanes8(sumi[a])), acc[a]);
    acc[a] = _mm256_fnmadd_ps(lane_of<1>(f), _mm256_cvtepi32_ps(mt), acc[a]);
  }
}

// The activations' Q8_K bytes rearranged once per call into the order a kernel's weight bytes come out of their
// loads (one aligned load per step and activation row instead of loads and inserts): each super-block's 16 chunks
// of 16 bytes in the order D::kOrder (a kernel step reads consecutive chunks), or its 64 groups of 4 bytes in the
// order D::kOrder4. n bytes per activation, 64-byte aligned.
template <typename D>
struct RelaidAct {
  static constexpr size_t kStack = 8192;  // generation rows up to 8192 elements stay on the stack
  alignas(64) uint8_t stack[kStack];
  std::unique_ptr<uint8_t[]> heap;
  const uint8_t* base;
  size_t stride;
  RelaidAct(const uint8_t* act, size_t as, int n_act, int64_t n) : stride(static_cast<size_t>(n)) {
    const size_t need = stride * static_cast<size_t>(n_act);
    uint8_t* p = stack;
    if (need > kStack) {
      heap.reset(new uint8_t[need + 64]);
      p = heap.get() + (64 - reinterpret_cast<uintptr_t>(heap.get()) % 64) % 64;
    }
    const int64_t nb = n / qblk::QK_K;
    for (int a = 0; a < n_act; ++a)
      for (int64_t i = 0; i < nb; ++i) {
        const int8_t* src = q8k(act, as, a, i).qs;
        uint8_t* dst = p + a * stride + i * qblk::QK_K;
        if constexpr (requires { D::kOrder4; })
          for (int c = 0; c < 64; ++c) std::memcpy(dst + 4 * c, src + 4 * D::kOrder4[c], 4);
        else
          for (int c = 0; c < 16; ++c)
            _mm_store_si128(reinterpret_cast<__m128i*>(dst + 16 * c),
                            _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + 16 * D::kOrder[c])));
      }
    base = p;
  }
};
// Bytes 32 c.. of super-block i of relaid activation row a (rows rs bytes apart).
inline __m256i relaid32(const uint8_t* ry, size_t rs, int a, int64_t i, int c) {
  return _mm256_load_si256(reinterpret_cast<const __m256i*>(ry + a * rs + i * qblk::QK_K + 32 * c));
}

#if defined(__AVX512F__) && defined(__AVX512BW__)
// Bytes 64 s.. of super-block i of relaid activation row a.
inline __m512i relaid(const uint8_t* ry, size_t rs, int a, int64_t i, int s) {
  return _mm512_load_si512(ry + a * rs + i * qblk::QK_K + 64 * s);
}
// acc + the sums of adjacent s16 products into i32 lanes (one instruction with VNNI).
inline __m512i dot_s16_512(__m512i acc, __m512i a, __m512i b) {
#if defined(__AVX512VNNI__)
  return _mm512_dpwssd_epi32(acc, a, b);
#else
  return _mm512_add_epi32(acc, _mm512_madd_epi16(a, b));
#endif
}
#endif

}  // namespace lmgen::simd::LMGEN_KERNEL_NS::kact
#endif
