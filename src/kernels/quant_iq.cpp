// The i-quant formats IQ4_NL, IQ4_XS and IQ3_S: decoding to F32 (block layouts in quant_blocks.hpp, value tables in
// iq_tables.hpp). The arithmetic is ggml's to_float, operation by operation (the block or sub-block scale as one float,
// times the table value), so decoded values are bit-identical to llama.cpp's.
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

}  // namespace lmgen
