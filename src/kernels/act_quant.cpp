// The activation encoders of quantized matrix products (quant.hpp): Q8_0 / Q8_1 as ggml-cpu encodes them at run
// time, Q8_K as ggml's quantize_row_q8_K. Compiled once per kernel family and once for the portable baseline
// (CMakeLists.txt), so the loops vectorise for the CPU in use; every copy computes the same bytes (each operation
// is exact or one correctly rounded product or quotient: nothing for a fused multiply-add to change).
#include <algorithm>
#include <cmath>
#include <cstring>

#include "kernels/dispatch.hpp"
#include "kernels/quant_blocks.hpp"

#ifndef LMGEN_KERNEL_NS
#error "a kernel family source: LMGEN_KERNEL_NS must name the family's namespace (set by CMakeLists.txt)"
#endif

namespace lmgen::simd::LMGEN_KERNEL_NS {

namespace {

using namespace qblk;

// id = 127/amax, the product rounded to nearest even (as ggml's AVX code: product first, then round).
template <bool WithSum>
void act_q8(const float* x, uint8_t* dst, int64_t nb) {
  const size_t bsz = WithSum ? sizeof(BlockQ8_1) : sizeof(BlockQ8_0);
  for (int64_t i = 0; i < nb; ++i, x += QK, dst += bsz) {
    float amax = 0;
    for (int j = 0; j < QK; ++j) amax = std::max(amax, std::fabs(x[j]));
    const float d = amax / 127.f;
    const float id = amax != 0 ? 127.f / amax : 0.f;
    int8_t qs[QK];
    int sum = 0;
    for (int j = 0; j < QK; ++j) {
      // nearbyint, not nearest_int: x * id + 1.5 * 2^23 would be fused into one multiply-add (no rounded product).
      qs[j] = static_cast<int8_t>(std::nearbyint(x[j] * id));
      sum += qs[j];
    }
    if constexpr (WithSum) {
      auto* b = reinterpret_cast<BlockQ8_1*>(dst);
      b->d = f2h(d);
      b->s = f2h(d * static_cast<float>(sum));
      std::memcpy(b->qs, qs, QK);
    } else {
      auto* b = reinterpret_cast<BlockQ8_0*>(dst);
      b->d = f2h(d);
      std::memcpy(b->qs, qs, QK);
    }
  }
}

// d = max / -127 of the signed extreme, q = min(127, round(-127 / max * x)), bsums of 16.
void act_q8_k(const float* x, BlockQ8_K* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += QK_K) {
    const float max = signed_absmax(x, QK_K);
    if (max == 0) {
      y[i].d = 0;
      std::memset(y[i].qs, 0, sizeof y[i].qs);
      std::memset(y[i].bsums, 0, sizeof y[i].bsums);
      continue;
    }
    const float iscale = -127.f / max;
    for (int j = 0; j < QK_K; ++j) y[i].qs[j] = static_cast<int8_t>(std::min(127, nearest_int(iscale * x[j])));
    for (int j = 0; j < QK_K / 16; ++j) {
      int s = 0;
      for (int k = 0; k < 16; ++k) s += y[i].qs[16 * j + k];
      y[i].bsums[j] = static_cast<int16_t>(s);
    }
    y[i].d = 1 / iscale;
  }
}

}  // namespace

void quantize_activations(DType act_type, const float* x, void* dst, int64_t n) {
  switch (act_type) {
    case DType::Q8_0: return act_q8<false>(x, static_cast<uint8_t*>(dst), n / QK);
    case DType::Q8_1: return act_q8<true>(x, static_cast<uint8_t*>(dst), n / QK);
    case DType::Q8_K: return act_q8_k(x, static_cast<BlockQ8_K*>(dst), n / QK_K);
    default: return;
  }
}

}  // namespace lmgen::simd::LMGEN_KERNEL_NS
