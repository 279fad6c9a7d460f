// Q4_K, Q5_K and Q6_K weights x Q8_K activations in one kernel family (compiled once per family, see
// quant_simd.hpp): the types of a Q4_K_M / Q5_K_M file's big matrices.
//
// Each step decodes 32 (AVX2) or 64 (AVX-512) weights into bytes, once per weight row and shared by every activation
// row, multiplies them with the activation bytes (maddubs: u8 x s8 -> s16 pair sums) and scales the pair sums by
// their sub-block scale into i32 lanes (dot_s16: one instruction with VNNI), so a super-block's integer sum is exact;
// then per super-block the float multiply-adds by d_w * d_y (and Q4_K / Q5_K's mins through the activation's bsums).
//
// The sub-block scales stay in vector registers: unpacked with a few 64-bit or vector operations per super-block,
// each step's multiplier is one byte (or word) shuffle of them. Moving the scales one by one through general
// registers and set1 broadcasts cost more than the multiply-adds they scale (perf annotate, BENCHMARKS.md).
//
// With AVX-512BW one 512-bit step covers what two 256-bit steps did (Q4_K / Q5_K: the low and high nibbles of 32
// bytes, i.e. two consecutive sub-blocks; Q6_K: the two 128-element halves of a super-block side by side). The
// 512-bit lanes of the two 256-bit halves are added at the end of the super-block; integer sums are exact, so the
// i32 vector, the float operations after it, and the results are those of the 256-bit code bit for bit. Per output
// element the operations do not depend on how many rows and activations are computed together, so batched and
// single-token results are bit-identical.
#include "kernels/quant_simd.hpp"

#include <cstring>

#include "kernels/quant_blocks.hpp"
#include "kernels/quant_simd_k.hpp"
#include "kernels/quant_simd_util.hpp"

namespace lmgen::simd::LMGEN_KERNEL_NS {

#if defined(LMGEN_SIMD_AVX2)

namespace {

using namespace qblk;

using namespace kact;

#if defined(__AVX512F__) && defined(__AVX512BW__)
#define LMGEN_KQUANT_WIDE 1
using KSum = __m512i;  // a super-block's integer sums (both halves' lanes: lanes8 adds them)
#else
using KSum = __m256i;
#endif

// ---- Q4_K / Q5_K ----
// The 12 scale bytes s hold 8 scales and 8 mins of 6 bits (scale_min_k4): j < 4: s[j] & 63, s[j + 4] & 63;
// j >= 4: low / high nibble of s[j + 4] plus bits 6-7 of s[j - 4] / s[j] as bits 4-5. k4_scales puts them into the
// bytes of one 128-bit vector: scale j at byte k4_sc(j), min j at byte k4_mn(j).
constexpr int k4_sc(int j) { return j < 4 ? j : j + 4; }
constexpr int k4_mn(int j) { return j < 4 ? j + 4 : j + 8; }
inline __m128i k4_scales(const uint8_t* s) {
  uint64_t a;
  uint32_t b;
  std::memcpy(&a, s, 8);
  std::memcpy(&b, s + 8, 4);
  const uint64_t lo = a & 0x3F3F3F3F3F3F3F3FULL;  // scales 0..3, mins 0..3
  // scales 4..7 (low nibbles of b), mins 4..7 (high nibbles), each with bits 6-7 of byte j - 4 of a as bits 4-5
  const uint64_t hi = (b & 0x0F0F0F0Fu) | (static_cast<uint64_t>((b >> 4) & 0x0F0F0F0Fu) << 32) |
                      ((a >> 2) & 0x3030303030303030ULL);
  return _mm_set_epi64x(static_cast<long long>(hi), static_cast<long long>(lo));
}
// Shuffle masks over k4_scales's bytes (in every 128-bit lane): byte b zero-extended into every word.
inline __m256i word_of_byte(int b) {
  const char c = static_cast<char>(b), z = static_cast<char>(0x80);
  return _mm256_setr_epi8(c, z, c, z, c, z, c, z, c, z, c, z, c, z, c, z, c, z, c, z, c, z, c, z, c, z, c, z, c, z, c,
                          z);
}
// Min j (zero-extended) in words 2j and 2j + 1, j = 0..3 in the low lane and 4..7 in the high lane: the multipliers of
// the 16 bsums (two per 32-element sub-block).
inline __m256i mins_for_bsums(__m256i both) {
  const char z = static_cast<char>(0x80);
  auto m = [](int j) { return static_cast<char>(k4_mn(j)); };
  return _mm256_shuffle_epi8(both, _mm256_setr_epi8(m(0), z, m(0), z, m(1), z, m(1), z, m(2), z, m(2), z, m(3), z, m(3),
                                                    z, m(4), z, m(4), z, m(5), z, m(5), z, m(6), z, m(6), z, m(7), z,
                                                    m(7), z));
}

template <bool Five>
struct Q45K {
  // Prefetched in generation where the PrefetchPlan says (packed rows): with rows_impl's software prefetch 8 KiB
  // ahead, TinyLlama-shape Q4_K_M generation on the Zen 5 ran ~20% slower, on a Xeon 30-40% faster (BENCHMARKS.md).
  static constexpr bool kPacked = true;
  using Block = std::conditional_t<Five, BlockQ5_K, BlockQ4_K>;

  // The integer sum of one super-block against NA activations, as i32 lanes (sumi; the mins come in dot).
  template <int NA>
  static void block(const Block& b, int64_t i, const uint8_t* act, size_t stride, __m256i both, KSum* sumi) {
#if defined(LMGEN_KQUANT_WIDE)
    // Step k: bytes 32 k.. of qs; the low nibbles (sub-block 2 k) in the low 256 bits, the high nibbles (sub-block
    // 2 k + 1) in the high 256 bits: 64 consecutive weights against 64 consecutive activation bytes.
    const __m512i m4 = _mm512_set1_epi8(0x0F);
    const __m512i lanes = _mm512_inserti64x4(_mm512_castsi256_si512(both), both, 1);
    [[maybe_unused]] __m512i hb;
    if constexpr (Five) {
      // qh bit j of byte l is bit 4 of element l of sub-block j: the high half shifted by one, so step k tests
      // bit 2 k in both halves.
      const __m512i h = _mm512_broadcast_i64x4(load32(b.qh));
      hb = _mm512_mask_srli_epi16(h, 0xFFFF0000u, h, 1);
    }
    for (int a = 0; a < NA; ++a) sumi[a] = _mm512_setzero_si512();
#pragma GCC unroll 4
    for (int k = 0; k < 4; ++k) {
      const __m512i q = _mm512_broadcast_i64x4(load32(b.qs + 32 * k));
      __m512i w = _mm512_and_si512(_mm512_mask_srli_epi16(q, 0xFFFF0000u, q, 4), m4);
      if constexpr (Five)
        w = _mm512_mask_add_epi8(w, _mm512_test_epi8_mask(hb, _mm512_set1_epi8(static_cast<char>(1 << (2 * k)))), w,
                                 _mm512_set1_epi8(0x10));
      const __m512i pick = _mm512_inserti64x4(_mm512_castsi256_si512(word_of_byte(k4_sc(2 * k))),
                                              word_of_byte(k4_sc(2 * k + 1)), 1);
      const __m512i s = _mm512_shuffle_epi8(lanes, pick);  // scale 2 k in the low half, 2 k + 1 in the high half
#pragma GCC unroll 4
      for (int a = 0; a < NA; ++a) {
        const __m512i y = _mm512_loadu_si512(q8k(act, stride, a, i).qs + 64 * k);
        sumi[a] = dot_s16_512(sumi[a], _mm512_maddubs_epi16(w, y), s);
      }
    }
#else
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    for (int a = 0; a < NA; ++a) sumi[a] = _mm256_setzero_si256();
    [[maybe_unused]] __m256i hbits;
    if constexpr (Five) hbits = load32(b.qh);
#pragma GCC unroll 4
    for (int k = 0; k < 4; ++k) {
      const __m256i q = load32(b.qs + 32 * k);
      __m256i lo = _mm256_and_si256(q, m4);
      __m256i hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), m4);
      if constexpr (Five) {
        lo = _mm256_or_si256(lo, _mm256_slli_epi16(_mm256_and_si256(hbits, _mm256_set1_epi8(1)), 4));
        hi = _mm256_or_si256(hi, _mm256_slli_epi16(_mm256_and_si256(hbits, _mm256_set1_epi8(2)), 3));
        hbits = _mm256_srli_epi16(hbits, 2);
      }
      const __m256i s_lo = _mm256_shuffle_epi8(both, word_of_byte(k4_sc(2 * k)));
      const __m256i s_hi = _mm256_shuffle_epi8(both, word_of_byte(k4_sc(2 * k + 1)));
#pragma GCC unroll 4
      for (int a = 0; a < NA; ++a) {
        const int8_t* y = q8k(act, stride, a, i).qs + 64 * k;
        sumi[a] = dot_s16(sumi[a], _mm256_maddubs_epi16(lo, load32(y)), s_lo);
        sumi[a] = dot_s16(sumi[a], _mm256_maddubs_epi16(hi, load32(y + 32)), s_hi);
      }
    }
#endif
  }

  template <int NA>
  static void dot(int64_t nb, const void* wp, const uint8_t* act, size_t stride, float* out) {
    __m256 acc[NA];
    for (int a = 0; a < NA; ++a) acc[a] = _mm256_setzero_ps();
    for (int64_t i = 0; i < nb; ++i) {
      const Block& b = static_cast<const Block*>(wp)[i];
      const __m256i both = _mm256_broadcastsi128_si256(k4_scales(b.scales));
      KSum sumi[NA];
      block<NA>(b, i, act, stride, both, sumi);
      const __m256i mins = mins_for_bsums(both);
      add_block_with_mins<NA>(acc, sumi, mins, half_pair(&b.d), act, stride, i);
    }
    for (int a = 0; a < NA; ++a) out[a] = hsum(acc[a]);
  }
};

// ---- Q6_K ----
// Element 128 n + 32 j + l: low 4 bits from ql[64 n + l] (j = 0, 1: low nibble of ql[64 n + 32 j + l]; j = 2, 3:
// high nibble of ql[64 n + 32 (j - 2) + l]), high 2 bits from bits 2 j of qh[32 n + l]; minus 32. 16 signed 8-bit
// scales, one per 16 elements. The kernel multiplies q (0..63) and subtracts 32 * sum_k sc_k * bsum_k.
struct Q6K {
  static constexpr bool kPacked = true;  // see Q45K
  // The multipliers of step j of half n as words: scale 8 n + 2 j in the low 128-bit lane, 8 n + 2 j + 1 in the
  // high one; sc is the 16 scales as words. AVX-512: both halves at once (half n in 256-bit half n), one vpermw.
#if defined(LMGEN_KQUANT_WIDE)
  static __m512i step_scales(__m512i sc, int j) {
    const short a = static_cast<short>(2 * j), b = static_cast<short>(2 * j + 1), c = static_cast<short>(8 + 2 * j),
                d = static_cast<short>(9 + 2 * j);
    return _mm512_permutexvar_epi16(_mm512_set_epi16(d, d, d, d, d, d, d, d, c, c, c, c, c, c, c, c,  // (high first)
                                                     b, b, b, b, b, b, b, b, a, a, a, a, a, a, a, a),
                                    sc);
  }
#else
  // sc_half: the 8 scales of half n (as words) in both 128-bit lanes.
  static __m256i step_scales(__m256i sc_half, int j) {
    const char a = static_cast<char>(4 * j), b = static_cast<char>(4 * j + 2);
    const char a1 = static_cast<char>(a + 1), b1 = static_cast<char>(b + 1);
    return _mm256_shuffle_epi8(sc_half, _mm256_setr_epi8(a, a1, a, a1, a, a1, a, a1, a, a1, a, a1, a, a1, a, a1,  //
                                                         b, b1, b, b1, b, b1, b, b1, b, b1, b, b1, b, b1, b, b1));
  }
#endif

  template <int NA>
  static void block(const BlockQ6_K& b, int64_t i, const uint8_t* act, size_t stride, KSum* sumi) {
    const __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b.scales)));
    start_with_offset<NA, 5>(sumi, sc16, act, stride, i);
#if defined(LMGEN_KQUANT_WIDE)
    {
      const __m512i m4 = _mm512_set1_epi8(0x0F), m2 = _mm512_set1_epi8(0x03);
      const __m512i sc = _mm512_castsi256_si512(sc16);
      auto halves = [](const uint8_t* p) {  // bytes p[0..31] and p[64..95]
        return _mm512_inserti64x4(_mm512_castsi256_si512(load32(p)), load32(p + 64), 1);
      };
      const __m512i ql0 = halves(b.ql), ql1 = halves(b.ql + 32), h = _mm512_loadu_si512(b.qh);
      __m512i q[4];
      q[0] = _mm512_or_si512(_mm512_and_si512(ql0, m4), _mm512_slli_epi16(_mm512_and_si512(h, m2), 4));
      q[1] = _mm512_or_si512(_mm512_and_si512(ql1, m4),
                             _mm512_slli_epi16(_mm512_and_si512(_mm512_srli_epi16(h, 2), m2), 4));
      q[2] = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(ql0, 4), m4),
                             _mm512_slli_epi16(_mm512_and_si512(_mm512_srli_epi16(h, 4), m2), 4));
      q[3] = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(ql1, 4), m4),
                             _mm512_slli_epi16(_mm512_and_si512(_mm512_srli_epi16(h, 6), m2), 4));
#pragma GCC unroll 4
      for (int j = 0; j < 4; ++j) {
        const __m512i s = step_scales(sc, j);
#pragma GCC unroll 4
        for (int a = 0; a < NA; ++a) {
          const int8_t* y = q8k(act, stride, a, i).qs + 32 * j;
          const __m512i yv = _mm512_inserti64x4(_mm512_castsi256_si512(load32(y)), load32(y + 128), 1);
          sumi[a] = dot_s16_512(sumi[a], _mm512_maddubs_epi16(q[j], yv), s);
        }
      }
    }
#else
    const __m256i m4 = _mm256_set1_epi8(0x0F), m2 = _mm256_set1_epi8(0x03);
#pragma GCC unroll 2
    for (int n = 0; n < 2; ++n) {
      const __m256i ql0 = load32(b.ql + 64 * n), ql1 = load32(b.ql + 64 * n + 32), h = load32(b.qh + 32 * n);
      __m256i q[4];
      q[0] = _mm256_or_si256(_mm256_and_si256(ql0, m4), _mm256_slli_epi16(_mm256_and_si256(h, m2), 4));
      q[1] = _mm256_or_si256(_mm256_and_si256(ql1, m4),
                             _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 2), m2), 4));
      q[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), m4),
                             _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 4), m2), 4));
      q[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), m4),
                             _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 6), m2), 4));
      const __m256i half = n == 0 ? _mm256_permute2x128_si256(sc16, sc16, 0x00)
                                  : _mm256_permute2x128_si256(sc16, sc16, 0x11);
#pragma GCC unroll 4
      for (int j = 0; j < 4; ++j) {
        const __m256i s = step_scales(half, j);
#pragma GCC unroll 4
        for (int a = 0; a < NA; ++a) {
          const __m256i yv = load32(q8k(act, stride, a, i).qs + 128 * n + 32 * j);
          sumi[a] = dot_s16(sumi[a], _mm256_maddubs_epi16(q[j], yv), s);
        }
      }
    }
#endif
  }

  template <int NA>
  static void dot(int64_t nb, const void* wp, const uint8_t* act, size_t stride, float* out) {
    __m256 acc[NA];
    for (int a = 0; a < NA; ++a) acc[a] = _mm256_setzero_ps();
    for (int64_t i = 0; i < nb; ++i) {
      const BlockQ6_K& b = static_cast<const BlockQ6_K*>(wp)[i];
      KSum sumi[NA];
      block<NA>(b, i, act, stride, sumi);
      add_block<NA>(acc, sumi, h2f(b.d), act, stride, i);
    }
    for (int a = 0; a < NA; ++a) out[a] = hsum(acc[a]);
  }
};

// The rows_impl adaptor of a kernel above.
template <typename D>
struct KK {
  using State = NoState;
  static constexpr bool kF32Rows = false;
  static constexpr bool kPacked = D::kPacked;
  template <int NA>
  static void call(int64_t n, const void* w, const uint8_t* a, size_t s, float* o, const State&, int) {
    D::template dot<NA>(n / QK_K, w, a, s, o);
  }
};

}  // namespace

bool kquant_rows(DType t, int64_t n, const void* w, size_t ws, int64_t n_rows, const void* act, size_t as, int n_act,
                 float* y, size_t ys) {
  const auto* wp = static_cast<const uint8_t*>(w);
  const auto* ap = static_cast<const uint8_t*>(act);
  switch (t) {
    case DType::Q4_K: rows_impl<KK<Q45K<false>>>(n, wp, ws, n_rows, ap, as, n_act, y, ys); return true;
    case DType::Q5_K: rows_impl<KK<Q45K<true>>>(n, wp, ws, n_rows, ap, as, n_act, y, ys); return true;
    case DType::Q6_K: rows_impl<KK<Q6K>>(n, wp, ws, n_rows, ap, as, n_act, y, ys); return true;
    default: return false;
  }
}

#else

bool kquant_rows(DType, int64_t, const void*, size_t, int64_t, const void*, size_t, int, float*, size_t) {
  return false;
}

#endif

}  // namespace lmgen::simd::LMGEN_KERNEL_NS
