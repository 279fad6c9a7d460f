// Q4_0 and Q8_0 weights x Q8_0 activations, two blocks per 256-bit vector (the AVX-512 VNNI family).
//
// The generic 32-element kernel of quant_dot_simd.cpp spends most of its instructions on per-block scalar work
// (converting scales, broadcasting their product, the offset term). Here a pair of blocks shares every vector:
//
//   weights (decoded once per pair, shared by all activations):
//     lo = [block i elements 0..15 | block i+1 elements 0..15]    as unsigned bytes (Q4_0: 0..15, Q8_0: q + 128)
//     hi = [block i elements 16..31 | block i+1 elements 16..31]
//     dw = [d_i x4 | d_{i+1} x4]                                   (floats)
//   activations (rearranged once per call, PairAct below):
//     A, B    = the matching halves of the activation blocks (signed bytes)
//     negcorr = -offset * (sum of the 4 activation bytes under each i32 lane of lo and hi), offset 8 or 128
//     dy      = [dy_i x4 | dy_{i+1} x4]
//   per weight row r and activation a:  s = dpbusd(dpbusd(negcorr, lo, A), hi, B)    (exact integer sums)
//                                       acc += float(s) * (dw * dy)
//
// Every output element sees the same sequence of operations whatever the number of rows and activations computed
// together, so results are bit-identical between single-token and batched calls (matmul.hpp's rule).
// An odd trailing block is a pair whose second half is zero on both sides.
// GCC 12 reports the deliberately undefined pass-through operands inside its own AVX-512 intrinsic headers
// (`__Y` in _mm512_extractf64x4_pd / _mm512_cvtph_ps) as uninitialised once these kernels are inlined: a known
// false positive of the headers, silenced for this file only.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <algorithm>
#include <type_traits>
#include <cstring>
#include <memory>

#include "kernels/quant_blocks.hpp"
#include "kernels/quant_simd.hpp"
#include "kernels/quant_simd_util.hpp"

namespace lmgen::simd::LMGEN_KERNEL_NS {

#if defined(LMGEN_SIMD_AVX2) && defined(__AVX512VNNI__) && defined(__AVX512VL__)

namespace {

using namespace qblk;

// One pair of activation blocks as the kernel reads it: 128 bytes.
struct alignas(32) PairAct {
  int8_t a[32];
  int8_t b[32];
  int32_t negcorr[8];
  float dy[8];
};
static_assert(sizeof(PairAct) == 128);

inline __m256 expand_scales(uint16_t d0, uint16_t d1) {
  const __m128 f = _mm_cvtph_ps(_mm_cvtsi32_si128(static_cast<int>(d0 | (static_cast<uint32_t>(d1) << 16))));
  return _mm256_permutevar8x32_ps(_mm256_castps128_ps256(f), _mm256_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1));
}

struct Q4 {
  using W = BlockQ4_0;
  static constexpr int kOffset = 8;
  static void decode(const W* x, bool two, __m256i& lo, __m256i& hi, __m256& dw) {
    const __m128i v0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(x[0].qs));
    const __m256i v = two ? _mm256_inserti128_si256(_mm256_castsi128_si256(v0),
                                                    _mm_loadu_si128(reinterpret_cast<const __m128i*>(x[1].qs)), 1)
                          : _mm256_zextsi128_si256(v0);
    dw = expand_scales(x[0].d, two ? x[1].d : 0);
    const __m256i m = _mm256_set1_epi8(0x0F);
    lo = _mm256_and_si256(v, m);
    hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), m);
  }
};

struct Q8 {
  using W = BlockQ8_0;
  static constexpr int kOffset = 128;
  static void decode(const W* x, bool two, __m256i& lo, __m256i& hi, __m256& dw) {
    dw = expand_scales(x[0].d, two ? x[1].d : 0);
    const auto ld = [](const int8_t* p) { return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p)); };
    __m256i l = _mm256_zextsi128_si256(ld(x[0].qs)), h = _mm256_zextsi128_si256(ld(x[0].qs + 16));
    if (two) {
      l = _mm256_inserti128_si256(l, ld(x[1].qs), 1);
      h = _mm256_inserti128_si256(h, ld(x[1].qs + 16), 1);
    }
    const __m256i flip = _mm256_set1_epi8(static_cast<char>(0x80));  // q + 128 as an unsigned byte
    lo = _mm256_xor_si256(l, flip);
    hi = _mm256_xor_si256(h, flip);
  }
};

// Rearranges n_act Q8_0 activation rows (nb blocks each) into pairs: out[a * npairs + p].
template <int Offset>
void prepare_pairs(const uint8_t* act, size_t stride, int n_act, int64_t nb, PairAct* out) {
  const int64_t np = (nb + 1) / 2;
  const __m256i off = _mm256_set1_epi8(static_cast<char>(Offset));
  for (int k = 0; k < n_act; ++k) {
    const auto* y = reinterpret_cast<const BlockQ8_0*>(act + k * stride);
    for (int64_t p = 0; p < np; ++p) {
      const int64_t i = 2 * p;
      const bool two = i + 1 < nb;
      const __m256i y0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[i].qs));
      const __m256i y1 = two ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[i + 1].qs))
                             : _mm256_setzero_si256();
      const __m256i a = _mm256_permute2x128_si256(y0, y1, 0x20);
      const __m256i b = _mm256_permute2x128_si256(y0, y1, 0x31);
      const __m256i corr = _mm256_dpbusd_epi32(_mm256_dpbusd_epi32(_mm256_setzero_si256(), off, a), off, b);
      PairAct& o = out[k * np + p];
      _mm256_store_si256(reinterpret_cast<__m256i*>(o.a), a);
      _mm256_store_si256(reinterpret_cast<__m256i*>(o.b), b);
      _mm256_store_si256(reinterpret_cast<__m256i*>(o.negcorr), _mm256_sub_epi32(_mm256_setzero_si256(), corr));
      _mm256_store_ps(o.dy, expand_scales(y[i].d, two ? y[i + 1].d : 0));
    }
  }
}

// One pair of blocks (p) of R weight rows against NA activations, into acc.
template <typename K, int R, int NA>
[[gnu::always_inline]] inline void pair_step(int64_t p, bool two, const uint8_t* w, size_t ws, const PairAct* act,
                                             int64_t np, __m256 (&acc)[R][NA]) {
  __m256i lo[R], hi[R];
  __m256 dw[R];
  for (int r = 0; r < R; ++r) {
    const auto* x = reinterpret_cast<const typename K::W*>(w + r * ws) + 2 * p;
    K::decode(x, two, lo[r], hi[r], dw[r]);
  }
#pragma GCC unroll 4
  for (int a = 0; a < NA; ++a) {
    const PairAct& y = act[a * np + p];
    const __m256i ya = _mm256_load_si256(reinterpret_cast<const __m256i*>(y.a));
    const __m256i yb = _mm256_load_si256(reinterpret_cast<const __m256i*>(y.b));
    const __m256i nc = _mm256_load_si256(reinterpret_cast<const __m256i*>(y.negcorr));
    const __m256 dy = _mm256_load_ps(y.dy);
#pragma GCC unroll 2
    for (int r = 0; r < R; ++r) {
      const __m256i s = _mm256_dpbusd_epi32(_mm256_dpbusd_epi32(nc, lo[r], ya), hi[r], yb);
      acc[r][a] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), _mm256_mul_ps(dw[r], dy), acc[r][a]);
    }
  }
}

// R weight rows x NA activations over all pairs; out[r * NA + a]. Even and odd pairs go to separate accumulators
// (two FMA chains in flight), added at the end: the order depends on nb only.
template <typename K, int R, int NA>
void pair_kernel(int64_t nb, const uint8_t* w, size_t ws, const PairAct* act, int64_t np, float* out) {
  __m256 acc0[R][NA], acc1[R][NA];
  for (int r = 0; r < R; ++r)
    for (int a = 0; a < NA; ++a) acc0[r][a] = acc1[r][a] = _mm256_setzero_ps();
  const int64_t full = nb / 2;  // pairs with two blocks
  int64_t p = 0;
  for (; p + 1 < full; p += 2) {
    pair_step<K, R, NA>(p, true, w, ws, act, np, acc0);
    pair_step<K, R, NA>(p + 1, true, w, ws, act, np, acc1);
  }
  if (p < full) pair_step<K, R, NA>(p++, true, w, ws, act, np, acc0);
  if (p < np) pair_step<K, R, NA>(p, false, w, ws, act, np, acc1);  // the odd last block
  for (int r = 0; r < R; ++r)
    for (int a = 0; a < NA; ++a) out[r * NA + a] = hsum(_mm256_add_ps(acc0[r][a], acc1[r][a]));
}

// Generation (one activation): all rows in one loop with the pair loop inlined, so a row's final sum overlaps the
// next row's loads instead of paying a call and a dependent reduction per row. Same operations per row as
// pair_kernel<K, 1, 1> (written out: calling an always-inline pair_kernel here measured 10% slower).
template <typename K>
void rows_single(int64_t nb, const uint8_t* w, size_t ws, int64_t n_rows, const PairAct* act, int64_t np,
                 float* y) {
  const int64_t full = nb / 2;
  for (int64_t r = 0; r < n_rows; ++r) {
    const uint8_t* wr = w + r * ws;
    __m256 acc0[1][1] = {{_mm256_setzero_ps()}}, acc1[1][1] = {{_mm256_setzero_ps()}};
    int64_t p = 0;
    for (; p + 1 < full; p += 2) {
      pair_step<K, 1, 1>(p, true, wr, ws, act, np, acc0);
      pair_step<K, 1, 1>(p + 1, true, wr, ws, act, np, acc1);
    }
    if (p < full) pair_step<K, 1, 1>(p++, true, wr, ws, act, np, acc0);
    if (p < np) pair_step<K, 1, 1>(p, false, wr, ws, act, np, acc1);
    y[r] = hsum(_mm256_add_ps(acc0[0][0], acc1[0][0]));
  }
}

// Up to kSmallBatch activations: each weight row is read once, against all of them (NA accumulator pairs).
constexpr int kSmallBatch = 8;
template <typename K>
void rows_small_batch(int64_t nb, const uint8_t* w, size_t ws, int64_t n_rows, const PairAct* act, int64_t np,
                      int n_act, float* y, size_t ys) {
  auto run = [&](auto NA) {
    float out[NA];
    for (int64_t r = 0; r < n_rows; ++r) {
      pair_kernel<K, 1, NA>(nb, w + r * ws, ws, act, np, out);
      for (int a = 0; a < NA; ++a) y[a * ys + r] = out[a];
    }
  };
  switch (n_act) {
    case 2: return run(std::integral_constant<int, 2>{});
    case 3: return run(std::integral_constant<int, 3>{});
    case 4: return run(std::integral_constant<int, 4>{});
    case 5: return run(std::integral_constant<int, 5>{});
    case 6: return run(std::integral_constant<int, 6>{});
    case 7: return run(std::integral_constant<int, 7>{});
    default: return run(std::integral_constant<int, 8>{});
  }
}

template <typename K>
void rows_pairs(int64_t n, const uint8_t* w, size_t ws, int64_t n_rows, const uint8_t* act, size_t as, int n_act,
                float* y, size_t ys) {
  const int64_t nb = n / QK, np = (nb + 1) / 2;
  constexpr size_t kStackPairs = 128;  // 16 KB
  alignas(32) PairAct stack[kStackPairs];
  std::unique_ptr<PairAct[]> heap;  // not std::vector: see quant_dot_simd.cpp on code shared between families
  PairAct* pa = stack;
  if (static_cast<size_t>(np * n_act) > kStackPairs) {
    heap.reset(new PairAct[static_cast<size_t>(np * n_act)]);
    pa = heap.get();
  }
  prepare_pairs<K::kOffset>(act, as, n_act, nb, pa);
  if (n_act == 1) return rows_single<K>(nb, w, ws, n_rows, pa, np, y);

  // Batches: two rows at a time share each activation load. (A single activation streams one row at a time, see
  // rows_single: with two interleaved rows of more than ~500 bytes the hardware prefetchers fall behind - Q8_0
  // matvec from DRAM dropped from 17 to 6-8 GB/s in tools/bench_matmul.cpp. No software prefetch either: unlike the
  // float kernels (prefetch_row_ahead), these are compute-bound enough that it measured 5-10% slower for Q4_0.)
  // Small batches (several sequences decoding together): one weight row at a time against all the activations.
  // Their weights stream from DRAM, and the prefetchers keep up with one stream but not two, nor with a block of
  // rows read twice. The operations per output element are those of every other path.
  if (n_act <= kSmallBatch) return rows_small_batch<K>(nb, w, ws, n_rows, pa, np, n_act, y, ys);
  for_each_tile(n_rows, ws, n_act, true, y, ys, [&](int64_t r, int rows, int k, int na, float* out) {
    with_na(na, [&](auto NA) {
      if (rows == 2)
        pair_kernel<K, 2, NA>(nb, w + r * ws, ws, pa + k * np, np, out);
      else
        pair_kernel<K, 1, NA>(nb, w + r * ws, ws, pa + k * np, np, out);
    });
  });
}

}  // namespace

bool q0_rows(DType t, int64_t n, const void* w, size_t ws, int64_t n_rows, const void* act, size_t as, int n_act,
             float* y, size_t ys) {
  const auto* wp = static_cast<const uint8_t*>(w);
  const auto* ap = static_cast<const uint8_t*>(act);
  switch (t) {
    case DType::Q4_0: rows_pairs<Q4>(n, wp, ws, n_rows, ap, as, n_act, y, ys); return true;
    case DType::Q8_0: rows_pairs<Q8>(n, wp, ws, n_rows, ap, as, n_act, y, ys); return true;
    default: return false;
  }
}

#else

bool q0_rows(DType, int64_t, const void*, size_t, int64_t, const void*, size_t, int, float*, size_t) { return false; }

#endif

}  // namespace lmgen::simd::LMGEN_KERNEL_NS
