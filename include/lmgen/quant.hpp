// Block quantization formats: decoding (and encoding) of rows of every supported tensor type.
//
// Block layouts follow ggml (facts of the file format):
//   Q4_0 {f16 d; u8 qs[16]}          x = d * (q - 8),         q = 4 bits; low nibbles are elements 0..15
//   Q4_1 {f16 d, m; u8 qs[16]}       x = d * q + m
//   Q5_0 {f16 d; u8 qh[4]; u8 qs[16]} 5th bit from qh;        x = d * (q - 16)
//   Q5_1 {f16 d, m; u8 qh[4]; u8 qs[16]}                      x = d * q + m
//   Q8_0 {f16 d; i8 qs[32]}          x = d * q
//   Q4_K, Q5_K, Q6_K: 256-element super-blocks with 6-bit / 8-bit sub-block scales (see quant.cpp).
#pragma once

#include <cstdint>

#include "lmgen/tensor.hpp"

namespace lmgen {

// Decodes `n` elements (a multiple of the type's block size) of type `t` at `src` into F32.
void dequantize_row(DType t, const void* src, float* dst, int64_t n);
// Encodes `n` F32 values into type `t` (F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q8_K, Q4_K, Q5_K, Q6_K).
void quantize_row(DType t, const float* src, void* dst, int64_t n);

}  // namespace lmgen
