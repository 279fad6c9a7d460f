// The 2- to 4-bit types of one kernel family (compiled once per family, see quant_simd.hpp): Q2_K, Q3_K, IQ4_XS and
// IQ3_S weights x Q8_K activations, as ggml pairs them. (IQ4_NL, Q4_0's layout with a table of levels, runs in the
// pair kernels of quant_dot_q0.cpp.)
//
// Each step decodes 32 weights into one 256-bit register of bytes, once per weight row and shared by every
// activation row, and multiplies it with 32 activation bytes:
//   unsigned weights (Q2_K 0..3; Q3_K q + 4 in 0..7; IQ3_S grid magnitudes 1..15, the signs moved onto the
//   activations) go straight into maddubs (u8 x s8 -> s16 pair sums, no saturation for |w| <= 128);
//   signed ones (IQ4_XS's table values, -127..113) as |w| x (y with w's sign).
// The s16 pair sums are multiplied by the sub-block scales and summed into i32 lanes (dot_s16: one instruction with
// VNNI), so a super-block's integer sum is exact; then one float multiply-add by d_w * d_y per super-block.
// Offsets come out through the activation's bsums: Q3_K's -4 as 4 * sum(scale * bsum), Q2_K's
// mins as dmin * sum(min * bsum). Integer sums are exact and the float operations per output element do not depend
// on how many rows and activations are computed together, so batched and single-token results are bit-identical.
#include "kernels/quant_simd.hpp"

#include <cstring>
#include <memory>

#include "kernels/iq_tables.hpp"
#include "kernels/quant_blocks.hpp"
#include "kernels/quant_simd_k.hpp"
#include "kernels/quant_simd_util.hpp"

namespace lmgen::simd::LMGEN_KERNEL_NS {

#if defined(LMGEN_SIMD_AVX2)

namespace {

using namespace qblk;

using namespace kact;
// The 16 IQ4 values in both 128-bit lanes (a byte shuffle looks nibbles up in it).
inline __m256i iq4_table() {
  return _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(kIq4nlValues)));
}

// Scales stay in vector registers: a super-block's 16 (Q2_K, Q3_K) or 8 (IQ4_XS, IQ3_S) sub-block scales are unpacked
// as 16-bit lanes with vector operations, and each step's multiplier is one byte shuffle of them (moving scales one
// by one through general registers and the stack cost more than the multiply-adds they scale).
// Words 8h..8h+7 of s16 (16 scales as 16-bit lanes) in both 128-bit lanes.
inline __m256i half_in_both_lanes(__m256i s16, int h) {
  return h == 0 ? _mm256_permute2x128_si256(s16, s16, 0x00) : _mm256_permute2x128_si256(s16, s16, 0x11);
}
// From 8 words in both lanes: word 2j in every word of the low lane, word 2j + 1 in the high lane (the scales of
// the two 16-element halves of a 32-byte step).
inline __m256i pair_mask(int j) {
  const char a = static_cast<char>(4 * j), b = static_cast<char>(4 * j + 2);
  return _mm256_setr_epi8(a, a + 1, a, a + 1, a, a + 1, a, a + 1, a, a + 1, a, a + 1, a, a + 1, a, a + 1,  //
                          b, b + 1, b, b + 1, b, b + 1, b, b + 1, b, b + 1, b, b + 1, b, b + 1, b, b + 1);
}
inline __m256i pair_of(__m256i both, int j) { return _mm256_shuffle_epi8(both, pair_mask(j)); }
// From 8 words in both lanes: word j in every word.
inline __m256i word_of(__m256i both, int j) {
  const char a = static_cast<char>(2 * j);
  return _mm256_shuffle_epi8(both, _mm256_setr_epi8(a, a + 1, a, a + 1, a, a + 1, a, a + 1, a, a + 1, a, a + 1, a,
                                                    a + 1, a, a + 1, a, a + 1, a, a + 1, a, a + 1, a, a + 1, a, a + 1,
                                                    a, a + 1, a, a + 1, a, a + 1));
}
#if defined(__AVX512F__) && defined(__AVX512BW__)
// 512-bit Q2_K / Q3_K steps: the two 128-element halves of a super-block side by side (half n in 256-bit half n of
// every vector), so one step does the work of two 256-bit steps. The two halves' i32 lanes are added at the end of
// the super-block (lanes8): integer sums are exact, so the float operations, and the results, are those of the
// 256-bit kernels (the AVX2 family's) bit for bit.
#define LMGEN_LOWBIT_WIDE 1
#if defined(__AVX512VNNI__)
// The activation of a wide step: rearranged once per call (RelaidAct, below) in the VNNI family.
#define WIDE_Y _mm512_load_si512(ry + a * rs + i * QK_K + 64 * j)
#else
#define WIDE_Y y_halves(q8k(act, stride, a, i), j)
#endif
using KSum = __m512i;  // a super-block's integer sums (both halves' lanes: lanes8 adds them)
// Activation bytes 32 j.. of half 0 and 128 + 32 j.. of half 1.
inline __m512i y_halves(const BlockQ8_K& y, int j) {
  return _mm512_inserti64x4(_mm512_castsi256_si512(load32(y.qs + 32 * j)), load32(y.qs + 128 + 32 * j), 1);
}
// 16 scales as words (0..7 in the low 128 bits, 8..15 in the high) -> 128-bit lanes [0..7, 0..7, 8..15, 8..15].
inline __m512i halves_in_lane_pairs(__m256i s16) {
  const __m512i v = _mm512_castsi256_si512(s16);
  return _mm512_shuffle_i64x2(v, v, _MM_SHUFFLE(1, 1, 0, 0));
}
// pair_mask(j) in both 256-bit halves, as 64-byte constants: broadcast from pair_mask's 256 bits, the mask was
// rebuilt (a lane shuffle) in every step of the Q3_K loop.
struct PairMasks512 {
  alignas(64) uint8_t m[4][64];
  constexpr PairMasks512() : m{} {
    for (int j = 0; j < 4; ++j)
      for (int k = 0; k < 64; ++k) m[j][k] = static_cast<uint8_t>(((k % 32) < 16 ? 4 * j : 4 * j + 2) + (k % 2));
  }
};
inline constexpr PairMasks512 kPairMasks512{};
// pair_of for both halves at once.
inline __m512i pair_of_512(__m512i lanes, int j) {
  return _mm512_shuffle_epi8(lanes, _mm512_load_si512(kPairMasks512.m[j]));
}
#else
using KSum = __m256i;
#endif
// Q3_K's 16 signed 6-bit scales - 32 (the layout of unpack_scales_q3_k) as 16-bit lanes. The bytes are put together
// with 64-bit integer operations, which run on ports the vector kernel leaves idle (in vector registers these took
// 12 instructions on the two ports the 512-bit steps are bound by); one move to a vector register and a widening.
// Bytes 8..11 (t) hold the high 2 bits: bits 2 (j / 4) of byte 8 + j % 4 for scale j.
inline __m256i q3k_scales(const uint8_t* s) {
  uint64_t l;
  uint32_t t32;
  std::memcpy(&l, s, 8);
  std::memcpy(&t32, s + 8, 4);
  const uint64_t m4 = 0x0F0F0F0F0F0F0F0FULL, t = t32;
  const uint64_t s0 = (l & m4) | ((t & 0x03030303u) << 4) | ((t & 0x0C0C0C0Cu) << 34);          // scales 0..7
  const uint64_t s8 = ((l >> 4) & m4) | (t & 0x30303030u) | ((t & 0xC0C0C0C0u) << 30);           // scales 8..15
  const __m128i sc = _mm_sub_epi8(_mm_set_epi64x(static_cast<long long>(s8), static_cast<long long>(s0)),
                                  _mm_set1_epi8(32));
  return _mm256_cvtepi8_epi16(sc);
}
// 8 nibbles (sub-block j: nibble j % 2 of byte j / 2) as 8 words in both lanes.
inline __m256i nibble_words(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  const __m128i x = _mm_cvtsi32_si128(static_cast<int>(v));
  const __m128i m4 = _mm_set1_epi8(0x0F);
  const __m128i n = _mm_unpacklo_epi8(_mm_and_si128(x, m4), _mm_and_si128(_mm_srli_epi16(x, 4), m4));
  return _mm256_broadcastsi128_si256(_mm_cvtepu8_epi16(n));
}
// IQ4_XS's 8 scales - 32 as words in both lanes: the nibble plus bits 2j of scales_h as bits 4-5.
inline __m256i iq4xs_scales(const BlockIQ4_XS& b) {
  // word j: scales_h << (14 - 2 j) keeps bits 2j, 2j + 1 at the top; >> 14 brings them down
  const __m256i hv = _mm256_srli_epi16(
      _mm256_mullo_epi16(_mm256_set1_epi16(static_cast<short>(b.scales_h)),
                         _mm256_setr_epi16(1 << 14, 1 << 12, 1 << 10, 1 << 8, 1 << 6, 1 << 4, 1 << 2, 1, 1 << 14,
                                           1 << 12, 1 << 10, 1 << 8, 1 << 6, 1 << 4, 1 << 2, 1)),
      14);
  return _mm256_sub_epi16(_mm256_or_si256(nibble_words(b.scales_l), _mm256_slli_epi16(hv, 4)), _mm256_set1_epi16(32));
}

// Q2_K: element 128 n + 32 j + l is bits 2j of qs[32 n + l]; sub-block (16 elements) k has scale and min nibbles
// scales[k]. sum = d * sum_k sc_k * (q . y)_k - dmin * sum_k m_k * bsum_k.
struct Q2K {
  static constexpr int kBlock = QK_K;
  static constexpr uint8_t kOrder[16] = {0, 1, 8, 9, 2, 3, 10, 11, 4, 5, 12, 13, 6, 7, 14, 15};
  template <int NA>
  static void dot(int64_t nb, const void* wp, const uint8_t* act, size_t stride, float* out,
                  [[maybe_unused]] const uint8_t* ry = nullptr, [[maybe_unused]] size_t rs = 0) {
    const auto* x = static_cast<const BlockQ2_K*>(wp);
    __m256 acc[NA];
    for (int a = 0; a < NA; ++a) acc[a] = _mm256_setzero_ps();
    [[maybe_unused]] const __m256i m3 = _mm256_set1_epi8(3);
    for (int64_t i = 0; i < nb; ++i) {
      const BlockQ2_K& b = x[i];
      // scale (low nibble) and min (high nibble) of each sub-block as words
      const __m256i w16 = _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b.scales)));
      const __m256i sc16 = _mm256_and_si256(w16, _mm256_set1_epi16(0x0F)), mins = _mm256_srli_epi16(w16, 4);
      KSum sumi[NA];
#if defined(LMGEN_LOWBIT_WIDE)
      {
        const __m512i lanes = halves_in_lane_pairs(sc16), m3w = _mm512_set1_epi8(3);
        for (int a = 0; a < NA; ++a) sumi[a] = _mm512_setzero_si512();
        __m512i q = _mm512_loadu_si512(b.qs);
#pragma GCC unroll 4
        for (int j = 0; j < 4; ++j, q = _mm512_srli_epi16(q, 2)) {
          const __m512i u = _mm512_and_si512(q, m3w);
          const __m512i s = pair_of_512(lanes, j);
#pragma GCC unroll 4
          for (int a = 0; a < NA; ++a)
            sumi[a] = dot_s16_512(sumi[a], _mm512_maddubs_epi16(u, WIDE_Y), s);
        }
      }
#else
      for (int a = 0; a < NA; ++a) sumi[a] = _mm256_setzero_si256();
#pragma GCC unroll 2
      for (int n = 0; n < 2; ++n) {
        __m256i q = load32(b.qs + 32 * n);
        const __m256i half = half_in_both_lanes(sc16, n);
#pragma GCC unroll 4
        for (int j = 0; j < 4; ++j, q = _mm256_srli_epi16(q, 2)) {
          const __m256i u = _mm256_and_si256(q, m3);
          const __m256i s = pair_of(half, j);
#pragma GCC unroll 4
          for (int a = 0; a < NA; ++a) {
            const __m256i y = load32(q8k(act, stride, a, i).qs + 128 * n + 32 * j);
            sumi[a] = dot_s16(sumi[a], _mm256_maddubs_epi16(u, y), s);
          }
        }
      }
#endif
      add_block_with_mins<NA>(acc, sumi, mins, half_pair(&b.d), act, stride, i);
    }
    for (int a = 0; a < NA; ++a) out[a] = hsum(acc[a]);
  }
};

// Q3_K: Q2_K's low bits plus hmask[l] bit 4 n + j as the third (clear: -4); signed 6-bit scales - 32 per 16.
// The kernel multiplies u = q + 4 (0..7) and subtracts 4 * sum_k sc_k * bsum_k.
struct Q3K {
  static constexpr int kBlock = QK_K;
  static constexpr uint8_t kOrder[16] = {0, 1, 8, 9, 2, 3, 10, 11, 4, 5, 12, 13, 6, 7, 14, 15};
  template <int NA>
  static void dot(int64_t nb, const void* wp, const uint8_t* act, size_t stride, float* out,
                  [[maybe_unused]] const uint8_t* ry = nullptr, [[maybe_unused]] size_t rs = 0) {
    const auto* x = static_cast<const BlockQ3_K*>(wp);
    __m256 acc[NA];
    for (int a = 0; a < NA; ++a) acc[a] = _mm256_setzero_ps();
    [[maybe_unused]] const __m256i m3 = _mm256_set1_epi8(3), four = _mm256_set1_epi8(4);
    for (int64_t i = 0; i < nb; ++i) {
      const BlockQ3_K& b = x[i];
      const __m256i sc16 = q3k_scales(b.scales);
      KSum sumi[NA];
      start_with_offset<NA, 2>(sumi, sc16, act, stride, i);
#if defined(LMGEN_LOWBIT_WIDE)
      {
        const __m512i lanes = halves_in_lane_pairs(sc16), m3w = _mm512_set1_epi8(3), four = _mm512_set1_epi8(4);
        __m512i q = _mm512_loadu_si512(b.qs);
        const __m512i hm = _mm512_broadcast_i64x4(load32(b.hmask));  // half n, step j: bit 4 n + j
#pragma GCC unroll 4
        for (int j = 0; j < 4; ++j, q = _mm512_srli_epi16(q, 2)) {
          // the third bit as a byte mask (one test), added as 4 under the mask
          const __m512i bit = _mm512_inserti64x4(_mm512_set1_epi8(static_cast<char>(1 << j)),
                                                 _mm256_set1_epi8(static_cast<char>(1 << (4 + j))), 1);
          const __m512i u = _mm512_mask_add_epi8(_mm512_and_si512(q, m3w), _mm512_test_epi8_mask(hm, bit),
                                                 _mm512_and_si512(q, m3w), four);
          const __m512i s = pair_of_512(lanes, j);
#pragma GCC unroll 4
          for (int a = 0; a < NA; ++a)
            sumi[a] = dot_s16_512(sumi[a], _mm512_maddubs_epi16(u, WIDE_Y), s);
        }
      }
#else
      const __m256i hm = load32(b.hmask);
#pragma GCC unroll 2
      for (int n = 0; n < 2; ++n) {
        __m256i q = load32(b.qs + 32 * n);
        const __m256i half = half_in_both_lanes(sc16, n);
#pragma GCC unroll 4
        for (int j = 0; j < 4; ++j, q = _mm256_srli_epi16(q, 2)) {
          // bit k = 4 n + j of hmask as 4: the masked bit moved to bit 2 (k < 2), or clipped to 4 (k > 2)
          const int k = 4 * n + j;
          const __m256i t = _mm256_and_si256(hm, _mm256_set1_epi8(static_cast<char>(1 << k)));
          const __m256i h4 = k < 2 ? _mm256_slli_epi16(t, 2 - k) : k == 2 ? t : _mm256_min_epu8(t, four);
          const __m256i u = _mm256_or_si256(_mm256_and_si256(q, m3), h4);
          const __m256i s = pair_of(half, j);
#pragma GCC unroll 4
          for (int a = 0; a < NA; ++a) {
            const __m256i y = load32(q8k(act, stride, a, i).qs + 128 * n + 32 * j);
            sumi[a] = dot_s16(sumi[a], _mm256_maddubs_epi16(u, y), s);
          }
        }
      }
#endif
      add_block<NA>(acc, sumi, h2f(b.d), act, stride, i);
    }
    for (int a = 0; a < NA; ++a) out[a] = hsum(acc[a]);
  }
};

// IQ4_XS: IQ4_NL's values in 8 sub-blocks of 32 with 6-bit scales - 32, one d per super-block. Step p takes the
// 32 qs bytes of sub-blocks 2 p and 2 p + 1 once: their low nibbles (elements 0..15 of each) and their high
// nibbles (16..31) are two 256-bit steps whose 128-bit lanes are one sub-block each, so both take the one scale
// vector pair_of(scales, p) and activations relaid to match (chunks 4 p, 4 p + 2, then 4 p + 1, 4 p + 3). Signed
// values as |w| x (y with w's sign).
struct IQ4XS {
  static constexpr uint8_t kOrder[16] = {0, 2, 1, 3, 4, 6, 5, 7, 8, 10, 9, 11, 12, 14, 13, 15};
  template <int NA>
  static void dot(int64_t nb, const void* wp, const uint8_t* act, size_t stride, const uint8_t* ry, size_t rs,
                  float* out) {
    const auto* x = static_cast<const BlockIQ4_XS*>(wp);
    const __m256i table = iq4_table(), m4 = _mm256_set1_epi8(0x0F);
    __m256 acc[NA];
    for (int a = 0; a < NA; ++a) acc[a] = _mm256_setzero_ps();
    for (int64_t i = 0; i < nb; ++i) {
      const BlockIQ4_XS& b = x[i];
      const __m256i scales = iq4xs_scales(b);
      __m256i sumi[NA];
      for (int a = 0; a < NA; ++a) sumi[a] = _mm256_setzero_si256();
#pragma GCC unroll 4
      for (int p = 0; p < 4; ++p) {
        const __m256i q = load32(b.qs + 32 * p);
        const __m256i wl = _mm256_shuffle_epi8(table, _mm256_and_si256(q, m4));
        const __m256i wh = _mm256_shuffle_epi8(table, _mm256_and_si256(_mm256_srli_epi16(q, 4), m4));
        const __m256i al = _mm256_abs_epi8(wl), ah = _mm256_abs_epi8(wh);
        const __m256i s = pair_of(scales, p);
#pragma GCC unroll 4
        for (int a = 0; a < NA; ++a) {
          sumi[a] = dot_s16(sumi[a], _mm256_maddubs_epi16(al, _mm256_sign_epi8(relaid32(ry, rs, a, i, 2 * p), wl)), s);
          sumi[a] = dot_s16(sumi[a], _mm256_maddubs_epi16(ah, _mm256_sign_epi8(relaid32(ry, rs, a, i, 2 * p + 1), wh)), s);
        }
      }
      add_block<NA>(acc, sumi, h2f(b.d), act, stride, i);
    }
    for (int a = 0; a < NA; ++a) out[a] = hsum(acc[a]);
  }
};

// IQ3_S: per sub-block of 32, eight grid entries (4 magnitudes each) picked by 9-bit indices, the 32 sign bits as a
// byte mask moved onto the activations, scale 1 + 2 * nibble.
struct IQ3S {
  static constexpr int kBlock = QK_K;
  static __m256i grid(const uint8_t* qs, int h) {
    auto g = [&](int k) { return static_cast<int>(kIq3sGrid[qs[k] | (((h >> k) & 1) << 8)]); };
    return _mm256_setr_epi32(g(0), g(1), g(2), g(3), g(4), g(5), g(6), g(7));
  }
  template <int NA>
  static void dot(int64_t nb, const void* wp, const uint8_t* act, size_t stride, float* out) {
    const auto* x = static_cast<const BlockIQ3_S*>(wp);
    __m256 acc[NA];
    for (int a = 0; a < NA; ++a) acc[a] = _mm256_setzero_ps();
    const __m256i ones = _mm256_set1_epi8(1);
    for (int64_t i = 0; i < nb; ++i) {
      const BlockIQ3_S& b = x[i];
      // 1 + 2 * nibble per sub-block
      const __m256i scales = _mm256_add_epi16(_mm256_slli_epi16(nibble_words(b.scales), 1), _mm256_set1_epi16(1));
      __m256i sumi[NA];
      for (int a = 0; a < NA; ++a) sumi[a] = _mm256_setzero_si256();
#pragma GCC unroll 2
      for (int j = 0; j < 8; ++j) {
        const __m256i w = grid(b.qs + 8 * j, b.qh[j]);
        uint32_t sg;
        std::memcpy(&sg, b.signs + 4 * j, 4);
        const __m256i sign = _mm256_or_si256(bits_to_bytes(sg), ones);  // -1 or +1 per element
        const __m256i s = word_of(scales, j);
#pragma GCC unroll 4
        for (int a = 0; a < NA; ++a) {
          const __m256i y = load32(q8k(act, stride, a, i).qs + 32 * j);
          sumi[a] = dot_s16(sumi[a], _mm256_maddubs_epi16(w, _mm256_sign_epi8(y, sign)), s);
        }
      }
      add_block<NA>(acc, sumi, h2f(b.d), act, stride, i);
    }
    for (int a = 0; a < NA; ++a) out[a] = hsum(acc[a]);
  }
};

#if defined(LMGEN_LOWBIT_WIDE) && defined(__AVX512VNNI__)
// With AVX-512 VNNI the activation bytes are rearranged once per call (RelaidAct) into the order the weight bytes
// come out of their loads, so each 512-bit step reads its activation with one aligned load instead of two loads and
// an insert per step and row (Q2_K, Q3_K above: WIDE_Y), and IQ4_XS multiplies its weights straight into i32
// lanes with dpbusd (u8 x s8, sums of 4, no s16 intermediate, so no saturation): the table's values + 128
// (1..241, u8), the i32 lanes times their sub-block's scale (vpmulld, once per super-block: IQ4XSV), the + 128
// taken out as 128 * sum(scale * bsum); about a third of the 256-bit kernel's instructions per weight byte (generation of these
// types is bound by instructions, not memory: issue 32). Measured on Zen 5 and dropped: the same dpbusd scheme for
// Q2_K (scale folded into a per-lane u * scale table) and Q3_K ((u - 4) * scale + 127 tables) was no faster than
// the maddubs + dpwssd steps (Q2_K) or slower (Q3_K, +12% CPU time). Integer sums stay exact; the float operations
// per output element are the same for any number of rows and activations (bit-identical batches).
#define LMGEN_LOWBIT_VNNI 1


// IQ4_XS, transposed: step m takes 4 qs bytes of every sub-block (bytes 16 j + 4 m.., one 32-bit permute of the
// block's 128 bytes), low nibbles in the lower half and high nibbles in the upper, so i32 lane j always belongs to
// sub-block j % 8: the four steps' dpbusd sums go into one accumulator and the scales multiply it once per
// super-block (one vpmulld instead of one per step, and no per-step scale permute). Lane j < 8 of step m is
// elements 32 j + 4 m.. (activation group 8 j + m), lane 8 + j elements 32 j + 16 + 4 m.. (group 8 j + 4 + m).
// Per lane at most 16 products of 241 x 128 before the scale: no overflow.
struct IQ4XSOrder {
  uint8_t v[64];
  constexpr IQ4XSOrder() : v{} {
    for (int m = 0; m < 4; ++m)
      for (int j = 0; j < 8; ++j) {
        v[16 * m + j] = static_cast<uint8_t>(8 * j + m);
        v[16 * m + 8 + j] = static_cast<uint8_t>(8 * j + 4 + m);
      }
  }
  constexpr uint8_t operator[](int c) const { return v[c]; }
};
struct IQ4XSV {
  static constexpr IQ4XSOrder kOrder4{};
  template <int NA>
  static void dot(int64_t nb, const void* wp, const uint8_t* act, size_t stride, const uint8_t* ry, size_t rs,
                  float* out) {
    const auto* x = static_cast<const BlockIQ4_XS*>(wp);
    const __m512i table = _mm512_broadcast_i32x4(
        _mm_xor_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(kIq4nlValues)), _mm_set1_epi8(-128)));
    const __m512i m4 = _mm512_set1_epi8(0x0F);
    __m256 acc[NA];
    for (int a = 0; a < NA; ++a) acc[a] = _mm256_setzero_ps();
    for (int64_t i = 0; i < nb; ++i) {
      const BlockIQ4_XS& b = x[i];
      const __m256i scales = iq4xs_scales(b);  // words 0..7 in both lanes
      const __m512i sc32 = _mm512_cvtepi16_epi32(scales);  // lane j: scale j % 8
      // 128 * scale per bsum (16 words: each sub-block's scale twice)
      const __m256i c128 = _mm256_slli_epi16(
          _mm256_blend_epi32(_mm256_unpacklo_epi16(scales, scales), _mm256_unpackhi_epi16(scales, scales), 0xF0), 7);
      const __m512i q0 = _mm512_loadu_si512(b.qs), q1 = _mm512_loadu_si512(b.qs + 64);
      __m512i dsum[NA];
      for (int a = 0; a < NA; ++a) dsum[a] = _mm512_setzero_si512();
#pragma GCC unroll 4
      for (int m = 0; m < 4; ++m) {
        const __m512i idx = _mm512_setr_epi32(m, 4 + m, 8 + m, 12 + m, 16 + m, 20 + m, 24 + m, 28 + m,  //
                                              m, 4 + m, 8 + m, 12 + m, 16 + m, 20 + m, 24 + m, 28 + m);
        const __m512i q = _mm512_permutex2var_epi32(q0, idx, q1);
        const __m512i u = _mm512_shuffle_epi8(table, _mm512_and_si512(_mm512_mask_srli_epi16(q, 0xFFFF0000u, q, 4), m4));
#pragma GCC unroll 4
        for (int a = 0; a < NA; ++a) dsum[a] = _mm512_dpbusd_epi32(dsum[a], u, relaid(ry, rs, a, i, m));
      }
      const float d = h2f(b.d);
      for (int a = 0; a < NA; ++a) {
        const BlockQ8_K& y = q8k(act, stride, a, i);
        const __m256i sumi =
            _mm256_sub_epi32(sum_halves(_mm512_mullo_epi32(dsum[a], sc32)), _mm256_madd_epi16(c128, load32(y.bsums)));
        acc[a] = _mm256_fmadd_ps(_mm256_set1_ps(d * y.d), _mm256_cvtepi32_ps(sumi), acc[a]);
      }
    }
    for (int a = 0; a < NA; ++a) out[a] = hsum(acc[a]);
  }
};

#endif

// The rows_impl adaptor of a kernel above.
template <typename D>
struct KLow {
  using State = NoState;
  static constexpr bool kF32Rows = false, kPacked = true;
  template <int NA>
  static void call(int64_t n, const void* w, const uint8_t* a, size_t s, float* o, const State&, int) {
    D::template dot<NA>(n / D::kBlock, w, a, s, o);
  }
};

// Packed rows (kPacked): software prefetch in generation only where the PrefetchPlan says. On the Zen 5 these rows
// stream faster on the hardware prefetchers alone (TinyLlama-shape Q3_K_M t=1 38.6 -> 40.5 tok/s, IQ4_XS 36.1 ->
// 37.5, t=2 +4-13%); on a Xeon the prefetch made them 40-60% faster (as the K-quants, BENCHMARKS.md).
// The rows_impl adaptor of a kernel with rearranged activations (RelaidAct, quant_simd_k.hpp).
template <typename D>
struct KLowR {
  using State = RelaidAct<D>;
  static constexpr bool kF32Rows = false, kPacked = true;
  template <int NA>
  static void call(int64_t n, const void* w, const uint8_t* a, size_t s, float* o, const State& st, int k) {
    if constexpr (requires { D::template dot<NA>(0, w, a, s, o); })
      D::template dot<NA>(n / QK_K, w, a, s, o, st.base + k * st.stride, st.stride);
    else
      D::template dot<NA>(n / QK_K, w, a, s, st.base + k * st.stride, st.stride, o);
  }
};

}  // namespace

bool lowbit_rows(DType t, int64_t n, const void* w, size_t ws, int64_t n_rows, const void* act, size_t as, int n_act,
                 float* y, size_t ys) {
  const auto* wp = static_cast<const uint8_t*>(w);
  const auto* ap = static_cast<const uint8_t*>(act);
  switch (t) {
#if defined(LMGEN_LOWBIT_VNNI)
    case DType::Q2_K: rows_impl<KLowR<Q2K>>(n, wp, ws, n_rows, ap, as, n_act, y, ys); return true;
    case DType::Q3_K: rows_impl<KLowR<Q3K>>(n, wp, ws, n_rows, ap, as, n_act, y, ys); return true;
    case DType::IQ4_XS: rows_impl<KLowR<IQ4XSV>>(n, wp, ws, n_rows, ap, as, n_act, y, ys); return true;
#else
    case DType::Q2_K: rows_impl<KLow<Q2K>>(n, wp, ws, n_rows, ap, as, n_act, y, ys); return true;
    case DType::Q3_K: rows_impl<KLow<Q3K>>(n, wp, ws, n_rows, ap, as, n_act, y, ys); return true;
    case DType::IQ4_XS: rows_impl<KLowR<IQ4XS>>(n, wp, ws, n_rows, ap, as, n_act, y, ys); return true;
#endif
    case DType::IQ3_S: rows_impl<KLow<IQ3S>>(n, wp, ws, n_rows, ap, as, n_act, y, ys); return true;
    default: return false;
  }
}

#else

bool lowbit_rows(DType, int64_t, const void*, size_t, int64_t, const void*, size_t, int, float*, size_t) {
  return false;
}

#endif

}  // namespace lmgen::simd::LMGEN_KERNEL_NS
