// The i-quant formats IQ4_NL, IQ4_XS and IQ3_S: decoding to F32 (block layouts in quant_blocks.hpp, value tables in
// iq_tables.hpp), and encoders for IQ4_NL and IQ4_XS.
// Decoding is ggml's to_float, operation by operation (the block or sub-block scale as one float, times the table
// value), so decoded values are bit-identical to llama.cpp's.
// Encoding follows ggml's reference algorithm without an importance matrix (weights x^2): per block of 32, the scale
// that maps the element of largest magnitude onto the table's end, then 15 nearby scales, each with every element on
// its nearest table value and the least-squares scale for those indices; the best fit wins. IQ4_XS then quantizes the
// 8 sub-block scales to 6 bits against one fp16 scale and re-picks the indices. (IQ3_S's grid search is not encoded.)
#include <algorithm>
#include <cmath>
#include <cstring>

#include "kernels/iq_tables.hpp"
#include "kernels/quant_blocks.hpp"

namespace lmgen {

using namespace qblk;

void dequantize_row_iq4_nl(const void* src, float* y, int64_t n) {
  const auto* x = static_cast<const BlockIQ4_NL*>(src);
  for (int64_t i = 0; i < n / QK; ++i, y += QK) {
    const float d = h2f(x[i].d);
    for (int j = 0; j < QK / 2; ++j) {
      y[j] = d * static_cast<float>(kIq4nlValues[x[i].qs[j] & 0xF]);
      y[j + QK / 2] = d * static_cast<float>(kIq4nlValues[x[i].qs[j] >> 4]);
    }
  }
}

void dequantize_row_iq4_xs(const void* src, float* y, int64_t n) {
  const auto* x = static_cast<const BlockIQ4_XS*>(src);
  for (int64_t i = 0; i < n / QK_K; ++i) {
    const float d = h2f(x[i].d);
    for (int j = 0; j < QK_K / 32; ++j, y += 32) {
      const float dl = d * static_cast<float>(iq4xs_scale(x[i], j) - 32);
      const uint8_t* qs = x[i].qs + 16 * j;
      for (int k = 0; k < 16; ++k) {
        y[k] = dl * static_cast<float>(kIq4nlValues[qs[k] & 0xF]);
        y[k + 16] = dl * static_cast<float>(kIq4nlValues[qs[k] >> 4]);
      }
    }
  }
}

void dequantize_row_iq3_s(const void* src, float* y, int64_t n) {
  const auto* x = static_cast<const BlockIQ3_S*>(src);
  for (int64_t i = 0; i < n / QK_K; ++i) {
    const float d = h2f(x[i].d);
    for (int j = 0; j < QK_K / 32; ++j) {
      const float db = d * static_cast<float>(1 + 2 * ((x[i].scales[j / 2] >> (4 * (j % 2))) & 0xF));
      const uint8_t* qs = x[i].qs + 8 * j;
      const uint8_t* signs = x[i].signs + 4 * j;
      for (int k = 0; k < 8; ++k, y += 4) {  // 8 groups of 4 elements
        const uint32_t g = kIq3sGrid[qs[k] | (((x[i].qh[j] >> k) & 1) << 8)];
        for (int e = 0; e < 4; ++e) {
          const int bit = 4 * (k % 2) + e;  // element 4k + e: bit (4k + e) % 8 of signs[k / 2]
          const float v = db * static_cast<float>((g >> (8 * e)) & 0xFF);
          y[e] = (signs[k / 2] >> bit) & 1 ? -v : v;
        }
      }
    }
  }
}

namespace {

// The index of the table value nearest to x (the lower one on a tie), kIq4nlValues being sorted.
int nearest_iq4(float x) {
  const int8_t* v = kIq4nlValues;
  if (x <= v[0]) return 0;
  if (x >= v[15]) return 15;
  int lo = 0, hi = 15;
  while (hi - lo > 1) {
    const int mid = (lo + hi) / 2;
    (x < v[mid] ? hi : lo) = mid;
  }
  return x - v[hi - 1] < v[hi] - x ? hi - 1 : hi;
}

// Best scale for one block of 32 (0 for an all-zero block); the indices for it in L.
float fit_iq4_block(const float* x, uint8_t* L) {
  constexpr int kTries = 7;
  float amax = 0, max = 0;
  for (int j = 0; j < 32; ++j)
    if (std::fabs(x[j]) > amax) {
      amax = std::fabs(x[j]);
      max = x[j];
    }
  if (amax < 1e-15f) {
    std::fill(L, L + 32, static_cast<uint8_t>(nearest_iq4(0)));
    return 0;
  }
  float best = 0, d = 0;
  for (int t = -kTries - 1; t <= kTries; ++t) {  // t = -kTries - 1: the first guess, d = -max / v[0]
    const float id = t < -kTries ? static_cast<float>(kIq4nlValues[0]) / -max
                                 : (static_cast<float>(t) + static_cast<float>(kIq4nlValues[0])) / max;
    float sumqx = 0, sumq2 = 0;
    uint8_t cand[32];
    for (int j = 0; j < 32; ++j) {
      cand[j] = static_cast<uint8_t>(nearest_iq4(id * x[j]));
      const float q = kIq4nlValues[cand[j]], w = x[j] * x[j];
      sumqx += w * q * x[j];
      sumq2 += w * q * q;
    }
    if (sumq2 > 0 && (t < -kTries || sumqx * sumqx > best * sumq2)) {
      d = sumqx / sumq2;
      best = d * sumqx;
      std::copy(cand, cand + 32, L);
    }
  }
  return d;
}

// 32 indices as IQ4 nibbles: element j low nibble of byte j, element j + 16 high nibble.
void pack_iq4(const uint8_t* L, uint8_t* qs) {
  for (int j = 0; j < 16; ++j) qs[j] = static_cast<uint8_t>(L[j] | (L[j + 16] << 4));
}

}  // namespace

void quantize_row_iq4_nl(const float* x, void* dst, int64_t n) {
  auto* y = static_cast<BlockIQ4_NL*>(dst);
  uint8_t L[32];
  for (int64_t i = 0; i < n / QK; ++i, x += QK) {
    const float d = fit_iq4_block(x, L);
    y[i].d = f2h(d);
    const float id = d != 0 ? 1 / d : 0;
    for (int j = 0; j < 32; ++j) L[j] = static_cast<uint8_t>(nearest_iq4(id * x[j]));
    pack_iq4(L, y[i].qs);
  }
}

void quantize_row_iq4_xs(const float* x, void* dst, int64_t n) {
  auto* y = static_cast<BlockIQ4_XS*>(dst);
  uint8_t L[32];
  for (int64_t i = 0; i < n / QK_K; ++i, x += QK_K) {
    float scales[8], max_scale = 0, amax_scale = 0;
    for (int j = 0; j < 8; ++j) {
      scales[j] = fit_iq4_block(x + 32 * j, L);
      if (std::fabs(scales[j]) > amax_scale) {
        amax_scale = std::fabs(scales[j]);
        max_scale = scales[j];
      }
    }
    const float d = -max_scale / 32;
    y[i].d = f2h(d);
    y[i].scales_h = 0;
    std::memset(y[i].scales_l, 0, sizeof y[i].scales_l);
    const float id = d != 0 ? 1 / d : 0;
    for (int j = 0; j < 8; ++j) {
      const int l = std::clamp(nearest_int(id * scales[j]), -32, 31);
      const float dl = d * static_cast<float>(l), idl = dl != 0 ? 1 / dl : 0;
      for (int k = 0; k < 32; ++k) L[k] = static_cast<uint8_t>(nearest_iq4(idl * x[32 * j + k]));
      pack_iq4(L, y[i].qs + 16 * j);
      y[i].scales_l[j / 2] |= static_cast<uint8_t>(((l + 32) & 0xF) << (4 * (j % 2)));
      y[i].scales_h |= static_cast<uint16_t>(((l + 32) >> 4) << (2 * j));
    }
  }
}

}  // namespace lmgen
