// Internal: the AVX2 float batch tile (F32 / F16 / BF16 weight rows x F32 activations) in two passes, one per
// accumulator of dot_float. In the family's namespace like the kernels; include after quant_simd_float.hpp.
//
// dot_float's per-element order (the one generation uses, which batches must reproduce bit for bit) keeps two
// accumulators: acc0 takes the even kLanes chunks (and a lone chunk after the last pair), acc1 the odd ones, and
// the result is vsum(acc0, acc1) plus a scalar tail. A tile that keeps both accumulators of every output in a
// register fits only 2 rows x 3 activations in AVX2's 16 registers (12 accumulators + 2 weights + 1 activation):
// 5 loads per 6 FMAs. Here a 4 x 3 tile runs the even chunks first, parks its 12 acc0 vectors, then runs the odd
// chunks into 12 fresh acc1 vectors (12 accumulators + 3 activations + 1 weight): 7 loads per 12 FMAs. The weight
// and activation rows of a tile (4 + 3 rows of a few KiB) are still in L1 for the second pass. Each accumulator sees
// the same FMAs in the same order as in dot_float, so the results are bit-identical.
#pragma once

#include "kernels/quant_simd_float.hpp"

#if defined(LMGEN_SIMD_AVX2)

namespace lmgen::simd::LMGEN_KERNEL_NS {

template <DType T, int R, int NA>
void dot_float_split(int64_t n, const void* w, size_t ws, const uint8_t* act, size_t stride, float* out) {
  const float* x[NA];
  const void* wr[R];
#pragma GCC unroll 8
  for (int a = 0; a < NA; ++a) x[a] = reinterpret_cast<const float*>(act + a * stride);
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) wr[r] = static_cast<const uint8_t*>(w) + r * ws;
  const int64_t n_pair = n / (2 * kLanes) * (2 * kLanes);  // end of the chunk pairs
  const bool lone = n_pair + kLanes <= n;                   // one more chunk, into acc0

  // One pass: chunks off, off + 2 kLanes, ... below n_pair into acc.
  auto pass = [&](int64_t off, VF (&acc)[R][NA]) {
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
      for (int a = 0; a < NA; ++a) acc[r][a] = vzero();
    for (int64_t i = off; i < n_pair; i += 2 * kLanes) {
      VF xv[NA];
#pragma GCC unroll 8
      for (int a = 0; a < NA; ++a) xv[a] = in_register(load_x(x[a] + i));
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) {
        const VF wv = in_register(load_w<T>(wr[r], i));
#pragma GCC unroll 8
        for (int a = 0; a < NA; ++a) acc[r][a] = vfma(wv, xv[a], acc[r][a]);
      }
    }
  };
  VF acc0[R][NA], acc1[R][NA];
  pass(0, acc0);
  if (lone) {
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const VF w0 = load_w<T>(wr[r], n_pair);
#pragma GCC unroll 8
      for (int a = 0; a < NA; ++a) acc0[r][a] = vfma(w0, load_x(x[a] + n_pair), acc0[r][a]);
    }
  }
  pass(kLanes, acc1);
  vsum_tile<R, NA>(acc0, acc1, out);
  const int64_t tail = n_pair + (lone ? kLanes : 0);
  for (int r = 0; r < R; ++r)  // the scalar tail (fewer than kLanes elements left), as dot_float's
    for (int a = 0; a < NA; ++a)
      for (int64_t k = tail; k < n; ++k) out[r * NA + a] = std::fma(scalar_w<T>(wr[r], k), x[a][k], out[r * NA + a]);
}

}  // namespace lmgen::simd::LMGEN_KERNEL_NS

#endif  // LMGEN_SIMD_AVX2
