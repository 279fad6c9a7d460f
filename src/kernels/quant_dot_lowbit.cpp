// The 2- to 4-bit types of one kernel family (compiled once per family, see quant_simd.hpp): Q2_K, Q3_K, IQ4_XS and
// IQ3_S weights x Q8_K activations, IQ4_NL weights x Q8_0 activations, as ggml pairs them.
//
// Each step decodes 32 weights into one 256-bit register of bytes, once per weight row and shared by every
// activation row, and multiplies it with 32 activation bytes:
//   unsigned weights (Q2_K 0..3; Q3_K q + 4 in 0..7; IQ3_S grid magnitudes 1..15, the signs moved onto the
//   activations) go straight into maddubs (u8 x s8 -> s16 pair sums, no saturation for |w| <= 128);
//   signed ones (the IQ4 table values, -127..113) as |w| x (y with w's sign).
// The s16 pair sums are multiplied by the sub-block scales and summed into i32 lanes (dot_s16: one instruction with
// VNNI), so a super-block's integer sum is exact; then one float multiply-add by d_w * d_y per super-block (IQ4_NL:
// per block of 32). Offsets come out through the activation's bsums: Q3_K's -4 as 4 * sum(scale * bsum), Q2_K's
// mins as dmin * sum(min * bsum). Integer sums are exact and the float operations per output element do not depend
// on how many rows and activations are computed together, so batched and single-token results are bit-identical.
#include "kernels/quant_simd.hpp"

#include <cstring>

#include "kernels/iq_tables.hpp"
#include "kernels/quant_blocks.hpp"
#include "kernels/quant_simd_util.hpp"

namespace lmgen::simd::LMGEN_KERNEL_NS {

#if defined(LMGEN_SIMD_AVX2)

namespace {

using namespace qblk;

inline __m256i load32(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }
inline const BlockQ8_K& q8k(const uint8_t* act, size_t stride, int a, int64_t i) {
  return reinterpret_cast<const BlockQ8_K*>(act + a * stride)[i];
}
// [lo x8 | hi x8] in 16-bit lanes: the scales of the two 16-element halves of a 32-byte step.
inline __m256i scale_pair(int lo, int hi) { return _mm256_set_m128i(_mm_set1_epi16(static_cast<short>(hi)), _mm_set1_epi16(static_cast<short>(lo))); }
// The 16 IQ4 values in both 128-bit lanes (a byte shuffle looks nibbles up in it).
inline __m256i iq4_table() {
  return _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(kIq4nlValues)));
}
inline __m256i iq4_decode(__m256i table, const uint8_t* qs) { return _mm256_shuffle_epi8(table, unpack_nibbles(qs)); }

// Q2_K: element 128 n + 32 j + l is bits 2j of qs[32 n + l]; sub-block (16 elements) k has scale and min nibbles
// scales[k]. sum = d * sum_k sc_k * (q . y)_k - dmin * sum_k m_k * bsum_k.
struct Q2K {
  static constexpr int kBlock = QK_K;
  template <int NA>
  static void dot(int64_t nb, const void* wp, const uint8_t* act, size_t stride, float* out) {
    const auto* x = static_cast<const BlockQ2_K*>(wp);
    __m256 acc[NA];
    for (int a = 0; a < NA; ++a) acc[a] = _mm256_setzero_ps();
    const __m256i m3 = _mm256_set1_epi8(3);
    for (int64_t i = 0; i < nb; ++i) {
      const BlockQ2_K& b = x[i];
      __m256i sumi[NA];
      for (int a = 0; a < NA; ++a) sumi[a] = _mm256_setzero_si256();
#pragma GCC unroll 2
      for (int n = 0; n < 2; ++n) {
        __m256i q = load32(b.qs + 32 * n);
#pragma GCC unroll 4
        for (int j = 0; j < 4; ++j, q = _mm256_srli_epi16(q, 2)) {
          const __m256i u = _mm256_and_si256(q, m3);
          const __m256i s = scale_pair(b.scales[8 * n + 2 * j] & 0xF, b.scales[8 * n + 2 * j + 1] & 0xF);
#pragma GCC unroll 4
          for (int a = 0; a < NA; ++a) {
            const __m256i y = load32(q8k(act, stride, a, i).qs + 128 * n + 32 * j);
            sumi[a] = dot_s16(sumi[a], _mm256_maddubs_epi16(u, y), s);
          }
        }
      }
      const __m128i sc = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b.scales));
      const __m256i mins = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(sc, 4), _mm_set1_epi8(0x0F)));
      const float d = h2f(b.d), dmin = h2f(b.dmin);
      for (int a = 0; a < NA; ++a) {
        const BlockQ8_K& y = q8k(act, stride, a, i);
        const __m256i mt = _mm256_madd_epi16(mins, load32(y.bsums));
        acc[a] = _mm256_fmadd_ps(_mm256_set1_ps(d * y.d), _mm256_cvtepi32_ps(sumi[a]), acc[a]);
        acc[a] = _mm256_fnmadd_ps(_mm256_set1_ps(dmin * y.d), _mm256_cvtepi32_ps(mt), acc[a]);
      }
    }
    for (int a = 0; a < NA; ++a) out[a] = hsum(acc[a]);
  }
};

// Q3_K: Q2_K's low bits plus hmask[l] bit 4 n + j as the third (clear: -4); signed 6-bit scales - 32 per 16.
// The kernel multiplies u = q + 4 (0..7) and subtracts 4 * sum_k sc_k * bsum_k.
struct Q3K {
  static constexpr int kBlock = QK_K;
  template <int NA>
  static void dot(int64_t nb, const void* wp, const uint8_t* act, size_t stride, float* out) {
    const auto* x = static_cast<const BlockQ3_K*>(wp);
    __m256 acc[NA];
    for (int a = 0; a < NA; ++a) acc[a] = _mm256_setzero_ps();
    const __m256i m3 = _mm256_set1_epi8(3), one = _mm256_set1_epi8(1);
    for (int64_t i = 0; i < nb; ++i) {
      const BlockQ3_K& b = x[i];
      int8_t sc[16];
      unpack_scales_q3_k(b.scales, sc);
      for (int k = 0; k < 16; ++k) sc[k] = static_cast<int8_t>(sc[k] - 32);
      const __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(sc)));
      __m256i sumi[NA];
      for (int a = 0; a < NA; ++a) {
        const __m256i corr = _mm256_madd_epi16(sc16, load32(q8k(act, stride, a, i).bsums));
        sumi[a] = _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_slli_epi32(corr, 2));
      }
      __m256i hm = load32(b.hmask);
#pragma GCC unroll 2
      for (int n = 0; n < 2; ++n) {
        __m256i q = load32(b.qs + 32 * n);
#pragma GCC unroll 4
        for (int j = 0; j < 4; ++j, q = _mm256_srli_epi16(q, 2), hm = _mm256_srli_epi16(hm, 1)) {
          const __m256i u = _mm256_or_si256(_mm256_and_si256(q, m3), _mm256_slli_epi16(_mm256_and_si256(hm, one), 2));
          const __m256i s = scale_pair(sc[8 * n + 2 * j], sc[8 * n + 2 * j + 1]);
#pragma GCC unroll 4
          for (int a = 0; a < NA; ++a) {
            const __m256i y = load32(q8k(act, stride, a, i).qs + 128 * n + 32 * j);
            sumi[a] = dot_s16(sumi[a], _mm256_maddubs_epi16(u, y), s);
          }
        }
      }
      const float d = h2f(b.d);
      for (int a = 0; a < NA; ++a)
        acc[a] = _mm256_fmadd_ps(_mm256_set1_ps(d * q8k(act, stride, a, i).d), _mm256_cvtepi32_ps(sumi[a]), acc[a]);
    }
    for (int a = 0; a < NA; ++a) out[a] = hsum(acc[a]);
  }
};

// IQ4_NL x Q8_0: per block of 32, exact i32 lanes of w . y, then acc += (d_w * d_y) * lanes; even and odd blocks in
// two accumulators (two multiply-add chains in flight).
struct IQ4NL {
  static constexpr int kBlock = QK;
  template <int NA>
  static void step(const BlockIQ4_NL& b, int64_t i, __m256i table, const uint8_t* act, size_t stride, __m256* acc) {
    const __m256i w = iq4_decode(table, b.qs);
    const __m256i aw = _mm256_abs_epi8(w);
    const float dw = h2f(b.d);
#pragma GCC unroll 4
    for (int a = 0; a < NA; ++a) {
      const BlockQ8_0& y = reinterpret_cast<const BlockQ8_0*>(act + a * stride)[i];
      const __m256i p = dot_u8s8(_mm256_setzero_si256(), aw, _mm256_sign_epi8(load32(y.qs), w));
      acc[a] = _mm256_fmadd_ps(_mm256_set1_ps(dw * h2f(y.d)), _mm256_cvtepi32_ps(p), acc[a]);
    }
  }
  template <int NA>
  static void dot(int64_t nb, const void* wp, const uint8_t* act, size_t stride, float* out) {
    const auto* x = static_cast<const BlockIQ4_NL*>(wp);
    const __m256i table = iq4_table();
    __m256 acc0[NA], acc1[NA];
    for (int a = 0; a < NA; ++a) acc0[a] = acc1[a] = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 1 < nb; i += 2) {
      step<NA>(x[i], i, table, act, stride, acc0);
      step<NA>(x[i + 1], i + 1, table, act, stride, acc1);
    }
    if (i < nb) step<NA>(x[i], i, table, act, stride, acc0);
    for (int a = 0; a < NA; ++a) out[a] = hsum(_mm256_add_ps(acc0[a], acc1[a]));
  }
};

// IQ4_XS: IQ4_NL's values in 8 sub-blocks of 32 with 6-bit scales - 32, one d per super-block.
struct IQ4XS {
  static constexpr int kBlock = QK_K;
  template <int NA>
  static void dot(int64_t nb, const void* wp, const uint8_t* act, size_t stride, float* out) {
    const auto* x = static_cast<const BlockIQ4_XS*>(wp);
    const __m256i table = iq4_table();
    __m256 acc[NA];
    for (int a = 0; a < NA; ++a) acc[a] = _mm256_setzero_ps();
    for (int64_t i = 0; i < nb; ++i) {
      const BlockIQ4_XS& b = x[i];
      __m256i sumi[NA];
      for (int a = 0; a < NA; ++a) sumi[a] = _mm256_setzero_si256();
#pragma GCC unroll 8
      for (int j = 0; j < 8; ++j) {
        const __m256i w = iq4_decode(table, b.qs + 16 * j);
        const __m256i aw = _mm256_abs_epi8(w);
        const __m256i s = _mm256_set1_epi16(static_cast<short>(iq4xs_scale(b, j) - 32));
#pragma GCC unroll 4
        for (int a = 0; a < NA; ++a) {
          const __m256i y = load32(q8k(act, stride, a, i).qs + 32 * j);
          sumi[a] = dot_s16(sumi[a], _mm256_maddubs_epi16(aw, _mm256_sign_epi8(y, w)), s);
        }
      }
      const float d = h2f(b.d);
      for (int a = 0; a < NA; ++a)
        acc[a] = _mm256_fmadd_ps(_mm256_set1_ps(d * q8k(act, stride, a, i).d), _mm256_cvtepi32_ps(sumi[a]), acc[a]);
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
      __m256i sumi[NA];
      for (int a = 0; a < NA; ++a) sumi[a] = _mm256_setzero_si256();
#pragma GCC unroll 2
      for (int j = 0; j < 8; ++j) {
        const __m256i w = grid(b.qs + 8 * j, b.qh[j]);
        uint32_t sg;
        std::memcpy(&sg, b.signs + 4 * j, 4);
        const __m256i sign = _mm256_or_si256(bits_to_bytes(sg), ones);  // -1 or +1 per element
        const __m256i s = _mm256_set1_epi16(static_cast<short>(1 + 2 * ((b.scales[j / 2] >> (4 * (j % 2))) & 0xF)));
#pragma GCC unroll 4
        for (int a = 0; a < NA; ++a) {
          const __m256i y = load32(q8k(act, stride, a, i).qs + 32 * j);
          sumi[a] = dot_s16(sumi[a], _mm256_maddubs_epi16(w, _mm256_sign_epi8(y, sign)), s);
        }
      }
      const float d = h2f(b.d);
      for (int a = 0; a < NA; ++a)
        acc[a] = _mm256_fmadd_ps(_mm256_set1_ps(d * q8k(act, stride, a, i).d), _mm256_cvtepi32_ps(sumi[a]), acc[a]);
    }
    for (int a = 0; a < NA; ++a) out[a] = hsum(acc[a]);
  }
};

// The rows_impl adaptor of a kernel above.
template <typename D>
struct KLow {
  using State = NoState;
  static constexpr bool kF32Rows = false;
  template <int NA>
  static void call(int64_t n, const void* w, const uint8_t* a, size_t s, float* o, const State&, int) {
    D::template dot<NA>(n / D::kBlock, w, a, s, o);
  }
};

}  // namespace

bool lowbit_rows(DType t, int64_t n, const void* w, size_t ws, int64_t n_rows, const void* act, size_t as, int n_act,
                 float* y, size_t ys) {
  const auto* wp = static_cast<const uint8_t*>(w);
  const auto* ap = static_cast<const uint8_t*>(act);
  switch (t) {
    case DType::Q2_K: rows_impl<KLow<Q2K>>(n, wp, ws, n_rows, ap, as, n_act, y, ys); return true;
    case DType::Q3_K: rows_impl<KLow<Q3K>>(n, wp, ws, n_rows, ap, as, n_act, y, ys); return true;
    case DType::IQ4_NL: rows_impl<KLow<IQ4NL>>(n, wp, ws, n_rows, ap, as, n_act, y, ys); return true;
    case DType::IQ4_XS: rows_impl<KLow<IQ4XS>>(n, wp, ws, n_rows, ap, as, n_act, y, ys); return true;
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
