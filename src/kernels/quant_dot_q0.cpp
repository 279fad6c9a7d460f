// Q4_0, Q5_0, Q8_0 and IQ4_NL weights x Q8_0 activations, two blocks per 256-bit step (every kernel family).
//
// The generic 32-element kernel of quant_dot_simd.cpp spends most of its instructions on per-block scalar work
// (converting scales, broadcasting their product, the offset term). Here a pair of blocks shares every vector:
//
//   weights (decoded once per pair, shared by all activations):
//     lo = [block i elements 0..15 | block i+1 elements 0..15]    as unsigned bytes (Q4_0: 0..15, Q5_0: 0..31,
//                                                                  Q8_0: q + 128 with VNNI, else signed q)
//     hi = [block i elements 16..31 | block i+1 elements 16..31]
//     dw = [d_i x4 | d_{i+1} x4]                                   (floats)
//   activations (rearranged once per call, QuadAct below):
//     A, B    = the matching halves of the activation blocks (signed bytes)
//     negcorr = -offset * (sum of the 4 activation bytes under each i32 lane of lo and hi), offset 8, 16 or 128
//     dy      = [dy_i x4 | dy_{i+1} x4]
//   per weight row r and activation a:  s = negcorr + lo.A + hi.B per i32 lane           (exact integer sums)
//                                       acc += float(s) * (dw * dy)
//
// The integer sums (isum below) are one instruction each with AVX-512 VNNI (dpbusd). Without it they are
// maddubs (u8 x s8 -> s16 pairs) + madd: exact for 4- and 5-bit weights (|s16| <= 2 * 31 * 127 per product pair),
// while Q8_0 takes |w| times y with w's sign and no offset (|s16| <= 2 * 128 * 127). Integer sums are exact either
// way, so every family gets the same bits.
//
// Even and odd pairs go to two accumulators (two FMA chains in flight). With AVX-512 both live in one 512-bit
// register: the low half takes pair 2q, the high half pair 2q+1, so one 512-bit step does lane for lane the float
// operations of two 256-bit steps. The AVX2 family runs the same steps on 256-bit registers, pair by pair.
// Every output element sees the same sequence of operations whatever the number of rows and activations computed
// together, so results are bit-identical between single-token and batched calls (matmul.hpp's rule).
#include <algorithm>
#include <cstddef>
#include <type_traits>
#include <cstring>
#include <memory>

#include "kernels/iq_tables.hpp"
#include "kernels/quant_blocks.hpp"
#include "kernels/quant_simd.hpp"
#include "kernels/quant_simd_util.hpp"

namespace lmgen::simd::LMGEN_KERNEL_NS {

#if defined(LMGEN_SIMD_AVX2)

#if defined(__AVX512VNNI__) && defined(__AVX512VL__)
#define LMGEN_Q0_VNNI 1
#endif
#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__) && defined(__AVX512DQ__)
#define LMGEN_Q0_WIDE 1  // 512-bit quad steps
#endif

namespace {

using namespace qblk;

#if defined(LMGEN_Q0_VNNI)
constexpr bool kVnni = true;
#else
constexpr bool kVnni = false;
#endif

// Two consecutive pairs of activation blocks (pairs 2q and 2q+1, blocks 4q..4q+3) as the kernel reads them: each
// field holds pair 2q in its low half and pair 2q+1 in its high half. 256 bytes.
struct alignas(64) QuadAct {
  int8_t a[64];
  int8_t b[64];
  int32_t negcorr[16];
  float dy[16];
};
static_assert(sizeof(QuadAct) == 256);

inline __m256 expand_scales(uint16_t d0, uint16_t d1) {
  const __m128 f = _mm_cvtph_ps(_mm_cvtsi32_si128(static_cast<int>(d0 | (static_cast<uint32_t>(d1) << 16))));
  return _mm256_permutevar8x32_ps(_mm256_castps128_ps256(f), _mm256_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1));
}
inline __m128i load16(const void* p) { return _mm_loadu_si128(static_cast<const __m128i*>(p)); }
inline __m256i join2(const void* a, const void* b, bool two) {
  const __m128i v0 = load16(a);
  return two ? _mm256_inserti128_si256(_mm256_castsi128_si256(v0), load16(b), 1) : _mm256_zextsi128_si256(v0);
}

// The integer sums of one 256-bit step: nc + lo.a + hi.b per i32 lane. Signed: lo / hi are signed bytes (Q8_0
// without VNNI) and nc is zero.
template <bool Signed>
inline __m256i isum(__m256i nc, __m256i lo, __m256i a, __m256i hi, __m256i b) {
#if defined(LMGEN_Q0_VNNI)
  return _mm256_dpbusd_epi32(_mm256_dpbusd_epi32(nc, lo, a), hi, b);
#else
  const __m256i ones = _mm256_set1_epi16(1);
  if constexpr (Signed) {
    const __m256i pl = _mm256_maddubs_epi16(_mm256_abs_epi8(lo), _mm256_sign_epi8(a, lo));
    const __m256i ph = _mm256_maddubs_epi16(_mm256_abs_epi8(hi), _mm256_sign_epi8(b, hi));
    return _mm256_add_epi32(_mm256_madd_epi16(pl, ones), _mm256_madd_epi16(ph, ones));
  } else {
    const __m256i p = _mm256_add_epi16(_mm256_maddubs_epi16(lo, a), _mm256_maddubs_epi16(hi, b));
    return _mm256_add_epi32(nc, _mm256_madd_epi16(p, ones));
  }
#endif
}

#if defined(LMGEN_Q0_WIDE)
// [d0 x4 | d1 x4 | d2 x4 | d3 x4] from four scalar fp16 scales (Q8_0).
inline __m512 expand_scales4(uint16_t d0, uint16_t d1, uint16_t d2, uint16_t d3) {
  const uint64_t packed = d0 | (static_cast<uint64_t>(d1) << 16) | (static_cast<uint64_t>(d2) << 32) |
                          (static_cast<uint64_t>(d3) << 48);
  const __m128 f = _mm_cvtph_ps(_mm_cvtsi64_si128(static_cast<long long>(packed)));
  return _mm512_permutexvar_ps(_mm512_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3),
                               _mm512_castps128_ps512(f));
}
// Four 16-byte pieces as the four 128-bit lanes of a vector.
inline __m512i join4(const void* a, const void* b, const void* c, const void* d) {
  return _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_set_m128i(load16(b), load16(a))),
                            _mm256_set_m128i(load16(d), load16(c)), 1);
}

template <bool Signed>
inline __m512i isum(__m512i nc, __m512i lo, __m512i a, __m512i hi, __m512i b) {
#if defined(LMGEN_Q0_VNNI)
  return _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(nc, lo, a), hi, b);
#else
  const __m512i ones = _mm512_set1_epi16(1);
  if constexpr (Signed) {  // no sign instruction in AVX-512: negate y where w < 0
    const __m512i z = _mm512_setzero_si512();
    const __m512i sa = _mm512_mask_sub_epi8(a, _mm512_movepi8_mask(lo), z, a);
    const __m512i sb = _mm512_mask_sub_epi8(b, _mm512_movepi8_mask(hi), z, b);
    const __m512i pl = _mm512_maddubs_epi16(_mm512_abs_epi8(lo), sa);
    const __m512i ph = _mm512_maddubs_epi16(_mm512_abs_epi8(hi), sb);
    return _mm512_add_epi32(_mm512_madd_epi16(pl, ones), _mm512_madd_epi16(ph, ones));
  } else {
    const __m512i p = _mm512_add_epi16(_mm512_maddubs_epi16(lo, a), _mm512_maddubs_epi16(hi, b));
    return _mm512_add_epi32(nc, _mm512_madd_epi16(p, ones));
  }
#endif
}
#endif

struct Q4 {
  using W = BlockQ4_0;
  static constexpr int kOffset = 8;
  static constexpr bool kSigned = false, kPacked = true;
  static void decode(const W* x, bool two, __m256i& lo, __m256i& hi, __m256& dw) {
    const __m256i v = join2(x[0].qs, x[1].qs, two);
    dw = expand_scales(x[0].d, two ? x[1].d : 0);
    const __m256i m = _mm256_set1_epi8(0x0F);
    lo = _mm256_and_si256(v, m);
    hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), m);
  }
#if defined(LMGEN_Q0_WIDE)
  // Four consecutive blocks are 72 bytes (36 words: block k's scale is word 9k, its nibbles words 9k+1 .. 9k+8).
  // Two loads and two word permutes (AVX-512 BW) put the nibbles in lanes [qs0 | qs1 | qs2 | qs3] and the scales in
  // [d0 x4 | d1 x4 | d2 x4 | d3 x4], in about half the instructions of four 16-byte loads and scalar scale loads.
  static void decode4(const W* x, __m512i& lo, __m512i& hi, __m512& dw) {
    const auto* bytes = reinterpret_cast<const uint8_t*>(x);
    const __m512i r0 = _mm512_loadu_si512(bytes);                                                  // words 0..31
    const __m512i r1 = _mm512_castsi128_si512(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(bytes + 64)));  // 32..35
    const __m512i qs_words = _mm512_set_epi16(35, 34, 33, 32, 31, 30, 29, 28, 26, 25, 24, 23, 22, 21, 20, 19,  //
                                              17, 16, 15, 14, 13, 12, 11, 10, 8, 7, 6, 5, 4, 3, 2, 1);
    const __m512i d_words = _mm512_set_epi16(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,  //
                                             27, 27, 27, 27, 18, 18, 18, 18, 9, 9, 9, 9, 0, 0, 0, 0);
    const __m512i v = _mm512_permutex2var_epi16(r0, qs_words, r1);
    dw = _mm512_cvtph_ps(_mm512_castsi512_si256(_mm512_permutexvar_epi16(d_words, r0)));
    const __m512i m = _mm512_set1_epi8(0x0F);
    lo = _mm512_and_si512(v, m);
    hi = _mm512_and_si512(_mm512_srli_epi16(v, 4), m);
  }
#endif
};

// IQ4_NL: Q4_0's block layout (an f16 scale, then 16 bytes of nibbles: elements j and j + 16 in byte j), each
// nibble an index into the 16 signed levels of kIq4nlValues (-127..113). Decoded as Q4_0's nibbles, then looked up
// with one byte shuffle; like Q8_0, with VNNI the levels + 128 as unsigned bytes (offset 128), without the signed
// levels as they are.
struct IQ4 {
  using W = BlockIQ4_NL;
  static constexpr int kOffset = kVnni ? 128 : 0;
  static constexpr bool kSigned = !kVnni, kPacked = true;
  static_assert(sizeof(BlockIQ4_NL) == sizeof(BlockQ4_0) && offsetof(BlockIQ4_NL, qs) == offsetof(BlockQ4_0, qs));
  static __m128i levels() {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(kIq4nlValues));
    return kVnni ? _mm_xor_si128(v, _mm_set1_epi8(static_cast<char>(0x80))) : v;  // v ^ 0x80 = v + 128 as u8
  }
  static void decode(const W* x, bool two, __m256i& lo, __m256i& hi, __m256& dw) {
    Q4::decode(reinterpret_cast<const BlockQ4_0*>(x), two, lo, hi, dw);
    const __m256i t = _mm256_broadcastsi128_si256(levels());
    lo = _mm256_shuffle_epi8(t, lo);
    hi = _mm256_shuffle_epi8(t, hi);
  }
#if defined(LMGEN_Q0_WIDE)
  static void decode4(const W* x, __m512i& lo, __m512i& hi, __m512& dw) {
    Q4::decode4(reinterpret_cast<const BlockQ4_0*>(x), lo, hi, dw);
    const __m512i t = _mm512_broadcast_i32x4(levels());
    lo = _mm512_shuffle_epi8(t, lo);
    hi = _mm512_shuffle_epi8(t, hi);
  }
#endif
};

// Q8_0: with VNNI q + 128 as an unsigned byte (offset 128); without, the signed bytes as they are (no offset).
struct Q8 {
  using W = BlockQ8_0;
  static constexpr int kOffset = kVnni ? 128 : 0;
  static constexpr bool kSigned = !kVnni, kPacked = false;
  static constexpr char kFlip = kVnni ? static_cast<char>(0x80) : 0;
  static void decode(const W* x, bool two, __m256i& lo, __m256i& hi, __m256& dw) {
    dw = expand_scales(x[0].d, two ? x[1].d : 0);
    const __m256i flip = _mm256_set1_epi8(kFlip);
    lo = _mm256_xor_si256(join2(x[0].qs, x[1].qs, two), flip);
    hi = _mm256_xor_si256(join2(x[0].qs + 16, x[1].qs + 16, two), flip);
  }
#if defined(LMGEN_Q0_WIDE)
  // Eight 16-byte loads, not word permutes as for Q4_0 and Q5_0: a Q8_0 quad is 136 bytes, and gathering it
  // with 64-byte loads (overlapping, across cache lines) was slower (BENCHMARKS.md).
  static void decode4(const W* x, __m512i& lo, __m512i& hi, __m512& dw) {
    dw = expand_scales4(x[0].d, x[1].d, x[2].d, x[3].d);
    const __m512i flip = _mm512_set1_epi8(kFlip);
    lo = _mm512_xor_si512(join4(x[0].qs, x[1].qs, x[2].qs, x[3].qs), flip);
    hi = _mm512_xor_si512(join4(x[0].qs + 16, x[1].qs + 16, x[2].qs + 16, x[3].qs + 16), flip);
  }
#endif
};

// Q5_0: the Q4_0 nibbles plus a fifth bit (qh bit j for element j) as 0x10: unsigned 0..31, offset 16.
struct Q5 {
  using W = BlockQ5_0;
  static constexpr int kOffset = 16;
  static constexpr bool kSigned = false, kPacked = true;
  static uint32_t high_bits(const W& b) {
    uint32_t qh;
    std::memcpy(&qh, b.qh, 4);
    return qh;
  }
  static void decode(const W* x, bool two, __m256i& lo, __m256i& hi, __m256& dw) {
    const __m256i v = join2(x[0].qs, x[1].qs, two);
    dw = expand_scales(x[0].d, two ? x[1].d : 0);
    const uint32_t h0 = high_bits(x[0]), h1 = two ? high_bits(x[1]) : 0;
    const __m256i m = _mm256_set1_epi8(0x0F);
    lo = _mm256_or_si256(_mm256_and_si256(v, m), bits_to_0x10((h0 & 0xFFFF) | (h1 << 16)));
    hi = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(v, 4), m), bits_to_0x10((h0 >> 16) | (h1 & 0xFFFF0000u)));
  }
#if defined(LMGEN_Q0_WIDE)
  // Four blocks are 88 bytes (44 words: block k's scale is word 11k, its fifth bits words 11k+1 .. 11k+2, its
  // nibbles words 11k+3 .. 11k+10). Word permutes gather the nibbles, the scales and the fifth-bit masks.
  static void decode4(const W* x, __m512i& lo, __m512i& hi, __m512& dw) {
    const auto* bytes = reinterpret_cast<const uint8_t*>(x);
    const __m512i r0 = _mm512_loadu_si512(bytes);                        // words 0..31
    const __m512i r1 = _mm512_maskz_loadu_epi16(0x0FFF, bytes + 64);     // words 32..43
    const __m512i qs_words = _mm512_set_epi16(43, 42, 41, 40, 39, 38, 37, 36, 32, 31, 30, 29, 28, 27, 26, 25,  //
                                              21, 20, 19, 18, 17, 16, 15, 14, 10, 9, 8, 7, 6, 5, 4, 3);
    // low 16 words: the scales [d0 x4 | d1 x4 | d2 x4 | d3 x4]; then the fifth bits' low words, then their high words
    const __m512i dh_words = _mm512_set_epi16(0, 0, 0, 0, 0, 0, 0, 0, 35, 24, 13, 2, 34, 23, 12, 1,  //
                                              33, 33, 33, 33, 22, 22, 22, 22, 11, 11, 11, 11, 0, 0, 0, 0);
    const __m512i v = _mm512_permutex2var_epi16(r0, qs_words, r1);
    const __m512i dh = _mm512_permutex2var_epi16(r0, dh_words, r1);
    dw = _mm512_cvtph_ps(_mm512_castsi512_si256(dh));
    const __m128i bits = _mm512_extracti32x4_epi32(dh, 2);
    const __mmask64 mlo = static_cast<uint64_t>(_mm_cvtsi128_si64(bits));
    const __mmask64 mhi = static_cast<uint64_t>(_mm_extract_epi64(bits, 1));
    const __m512i m = _mm512_set1_epi8(0x0F), b5 = _mm512_set1_epi8(0x10);
    lo = _mm512_or_si512(_mm512_and_si512(v, m), _mm512_maskz_mov_epi8(mlo, b5));
    hi = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(v, 4), m), _mm512_maskz_mov_epi8(mhi, b5));
  }
#endif
};

// Rearranges n_act Q8_0 activation rows (nb blocks each) into quads: out[a * nq + q].
template <int Offset>
void prepare_quads(const uint8_t* act, size_t stride, int n_act, int64_t nb, QuadAct* out) {
  const int64_t np = (nb + 1) / 2, nq = (np + 1) / 2;
  const __m256i off = _mm256_set1_epi8(static_cast<char>(Offset));
  for (int k = 0; k < n_act; ++k) {
    const auto* y = reinterpret_cast<const BlockQ8_0*>(act + k * stride);
    if (np % 2) std::memset(&out[k * nq + nq - 1], 0, sizeof(QuadAct));  // the unused high half of the last quad
    for (int64_t p = 0; p < np; ++p) {
      const int64_t i = 2 * p;
      const bool two = i + 1 < nb;
      const __m256i y0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[i].qs));
      const __m256i y1 = two ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[i + 1].qs))
                             : _mm256_setzero_si256();
      const __m256i a = _mm256_permute2x128_si256(y0, y1, 0x20);
      const __m256i b = _mm256_permute2x128_si256(y0, y1, 0x31);
      const __m256i corr = dot_u8s8(dot_u8s8(_mm256_setzero_si256(), off, a), off, b);
      QuadAct& o = out[k * nq + p / 2];
      const int h = static_cast<int>(p % 2);
      _mm256_store_si256(reinterpret_cast<__m256i*>(o.a + 32 * h), a);
      _mm256_store_si256(reinterpret_cast<__m256i*>(o.b + 32 * h), b);
      _mm256_store_si256(reinterpret_cast<__m256i*>(o.negcorr + 8 * h), _mm256_sub_epi32(_mm256_setzero_si256(), corr));
      _mm256_store_ps(o.dy + 8 * h, expand_scales(y[i].d, two ? y[i + 1].d : 0));
    }
  }
}

#if defined(LMGEN_Q0_WIDE)
// Pairs 2q and 2q+1 (blocks 4q..4q+3, all present) of R weight rows against NA activations, into acc.
template <typename K, int R, int NA>
[[gnu::always_inline]] inline void quad_step(int64_t q, const uint8_t* w, size_t ws, const QuadAct* act, int64_t nq,
                                             __m512 (&acc)[R][NA]) {
  __m512i lo[R], hi[R];
  __m512 dw[R];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) K::decode4(reinterpret_cast<const typename K::W*>(w + r * ws) + 4 * q, lo[r], hi[r], dw[r]);
#pragma GCC unroll 8
  for (int a = 0; a < NA; ++a) {
    const QuadAct& y = act[a * nq + q];
    const __m512i ya = _mm512_load_si512(y.a), yb = _mm512_load_si512(y.b);
    const __m512i nc = _mm512_load_si512(y.negcorr);
    const __m512 dy = _mm512_load_ps(y.dy);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const __m512i s = isum<K::kSigned>(nc, lo[r], ya, hi[r], yb);
      acc[r][a] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), _mm512_mul_ps(dw[r], dy), acc[r][a]);
    }
  }
}

#endif

// One pair p (blocks 2p, and 2p+1 when `two`) of R weight rows against NA activations, into acc (256-bit).
template <typename K, int R, int NA>
[[gnu::always_inline]] inline void pair_step(int64_t p, bool two, const uint8_t* w, size_t ws, const QuadAct* act,
                                             int64_t nq, __m256 (&acc)[R][NA]) {
  __m256i lo[R], hi[R];
  __m256 dw[R];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) K::decode(reinterpret_cast<const typename K::W*>(w + r * ws) + 2 * p, two, lo[r], hi[r], dw[r]);
  const int h = static_cast<int>(p % 2);
#pragma GCC unroll 8
  for (int a = 0; a < NA; ++a) {
    const QuadAct& y = act[a * nq + p / 2];
    const __m256i ya = _mm256_load_si256(reinterpret_cast<const __m256i*>(y.a + 32 * h));
    const __m256i yb = _mm256_load_si256(reinterpret_cast<const __m256i*>(y.b + 32 * h));
    const __m256i nc = _mm256_load_si256(reinterpret_cast<const __m256i*>(y.negcorr + 8 * h));
    const __m256 dy = _mm256_load_ps(y.dy + 8 * h);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const __m256i s = isum<K::kSigned>(nc, lo[r], ya, hi[r], yb);
      acc[r][a] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), _mm256_mul_ps(dw[r], dy), acc[r][a]);
    }
  }
}

// R weight rows x NA activations over all blocks; out[r * NA + a]. The order of operations depends on nb only.
template <typename K, int R, int NA>
[[gnu::always_inline]] inline void quad_kernel(int64_t nb, const uint8_t* w, size_t ws, const QuadAct* act,
                                               int64_t nq, float* out) {
  const int64_t full = nb / 2, np = (nb + 1) / 2;  // pairs with two blocks; all pairs
  __m256 acc0[R][NA], acc1[R][NA];                 // even pairs, odd pairs
  int64_t p = 0;
#if defined(LMGEN_Q0_WIDE)
  __m512 acc[R][NA];  // pairs 2q in the low halves, 2q+1 in the high halves
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
    for (int a = 0; a < NA; ++a) acc[r][a] = _mm512_setzero_ps();
  for (; p + 1 < full; p += 2) quad_step<K, R, NA>(p / 2, w, ws, act, nq, acc);
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
    for (int a = 0; a < NA; ++a) {
      acc0[r][a] = _mm512_castps512_ps256(acc[r][a]);
      acc1[r][a] = _mm512_extractf32x8_ps(acc[r][a], 1);
    }
#else
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
    for (int a = 0; a < NA; ++a) acc0[r][a] = acc1[r][a] = _mm256_setzero_ps();
  for (; p + 1 < full; p += 2) {
    pair_step<K, R, NA>(p, true, w, ws, act, nq, acc0);
    pair_step<K, R, NA>(p + 1, true, w, ws, act, nq, acc1);
  }
#endif
  if (p < full) pair_step<K, R, NA>(p++, true, w, ws, act, nq, acc0);
  if (p < np) pair_step<K, R, NA>(p, false, w, ws, act, nq, acc1);  // the odd last block
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
    for (int a = 0; a < NA; ++a) out[r * NA + a] = hsum(_mm256_add_ps(acc0[r][a], acc1[r][a]));
}

// Generation (one activation): one weight row at a time, streamed. Q8_0 rows prefetch ahead (the CPU's
// PrefetchPlan); the 4- and 5-bit rows (K::kPacked) only where the plan says packed rows do (BENCHMARKS.md).
template <typename K>
void rows_single(int64_t nb, const uint8_t* w, size_t ws, int64_t n_rows, const QuadAct* act, int64_t nq, float* y) {
  const PrefetchPlan& plan = prefetch_plan();
  const bool prefetch = !K::kPacked || plan.packed_rows;
  for (int64_t r = 0; r < n_rows; ++r) {
    if (prefetch) prefetch_row(w + r * ws, ws, plan.ahead);
    quad_kernel<K, 1, 1>(nb, w + r * ws, ws, act, nq, y + r);
  }
}

#if defined(LMGEN_Q0_WIDE)
// Batch tiles: 4 x 3 x 1 accumulators + 4 x 3 decoded weight registers + 4 for an activation: 28 of 32.
constexpr int kTileR = 4, kTileA = 3;
// Up to kSmallBatch activations: each weight row is read once, against all of them.
constexpr int kSmallBatch = 8;
#else
// AVX2 has 16 registers: one row x 4 activations, 1 x 4 x 2 accumulators (even and odd pairs) + 3 decoded weight
// registers, each decoded pair serving 4 activations. A 2 x 2 tile (8 accumulators + 6 decoded registers) spilled its
// accumulators to the stack: SmolLM2-shape pp128 t=1 (LMGEN_ISA=avx2) took 7-10% more CPU time (BENCHMARKS.md).
constexpr int kTileR = 1, kTileA = 4;
constexpr int kSmallBatch = 4;
#endif
template <typename K>
void rows_small_batch(int64_t nb, const uint8_t* w, size_t ws, int64_t n_rows, const QuadAct* act, int64_t nq,
                      int n_act, float* y, size_t ys) {
  auto run = [&](auto NA) {
    float out[NA];
    for (int64_t r = 0; r < n_rows; ++r) {
      quad_kernel<K, 1, NA>(nb, w + r * ws, ws, act, nq, out);
      for (int a = 0; a < NA; ++a) y[a * ys + r] = out[a];
    }
  };
  with_count<kSmallBatch>(n_act, run);
}

template <typename K>
void rows_quads(int64_t n, const uint8_t* w, size_t ws, int64_t n_rows, const uint8_t* act, size_t as, int n_act,
                float* y, size_t ys) {
  const int64_t nb = n / QK, np = (nb + 1) / 2, nq = (np + 1) / 2;
  constexpr size_t kStackQuads = 64;  // 16 KB
  alignas(64) QuadAct stack[kStackQuads];
  std::unique_ptr<QuadAct[]> heap;  // not std::vector: see quant_dot_simd.cpp on code shared between families
  QuadAct* qa = stack;
  if (static_cast<size_t>(nq * n_act) > kStackQuads) {
    heap.reset(new QuadAct[static_cast<size_t>(nq * n_act)]);
    qa = heap.get();
  }
  prepare_quads<K::kOffset>(act, as, n_act, nb, qa);
  if (n_act == 1) return rows_single<K>(nb, w, ws, n_rows, qa, nq, y);

  // Batches: tiles of kTileR rows x kTileA activations share each decoded weight block and each activation load.
  // (A single activation streams one row at a time, see rows_single: with two interleaved rows of more than ~500
  // bytes the hardware prefetchers fell behind - Q8_0 matvec from DRAM dropped from 17 to 6-8 GB/s in
  // tools/bench_matmul.cpp.)
  // Small batches (several sequences decoding together): one weight row at a time against all the activations.
  // Their weights stream from DRAM, and the prefetchers keep up with one stream but not two, nor with a block of
  // rows read twice. The operations per output element are those of every other path.
  if (n_act <= kSmallBatch) return rows_small_batch<K>(nb, w, ws, n_rows, qa, nq, n_act, y, ys);
  for_each_block_tile<kTileR, kTileA>(w, n_rows, ws, 16384, n_act, y, ys, [&](auto R, auto NA, int64_t r, int k, float* out) {
    quad_kernel<K, R, NA>(nb, w + r * ws, ws, qa + k * nq, nq, out);
  });
}

}  // namespace

bool q0_rows(DType t, int64_t n, const void* w, size_t ws, int64_t n_rows, const void* act, size_t as, int n_act,
             float* y, size_t ys) {
  const auto* wp = static_cast<const uint8_t*>(w);
  const auto* ap = static_cast<const uint8_t*>(act);
  switch (t) {
    case DType::Q4_0: rows_quads<Q4>(n, wp, ws, n_rows, ap, as, n_act, y, ys); return true;
    case DType::Q8_0: rows_quads<Q8>(n, wp, ws, n_rows, ap, as, n_act, y, ys); return true;
    case DType::Q5_0: rows_quads<Q5>(n, wp, ws, n_rows, ap, as, n_act, y, ys); return true;
    case DType::IQ4_NL: rows_quads<IQ4>(n, wp, ws, n_rows, ap, as, n_act, y, ys); return true;
    default: return false;
  }
}

#else

bool q0_rows(DType, int64_t, const void*, size_t, int64_t, const void*, size_t, int, float*, size_t) { return false; }

#endif

}  // namespace lmgen::simd::LMGEN_KERNEL_NS
