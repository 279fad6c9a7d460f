// Internal: ggml block structs (byte layouts of the GGUF file format) and small helpers shared by quant*.cpp and
// matmul*.cpp. Half-precision fields are stored as raw uint16_t bits.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

#include "lmgen/tensor.hpp"

#if defined(__F16C__)
#include <immintrin.h>
#endif

namespace lmgen::qblk {

constexpr int QK = 32;    // elements per block of the 32-element types
constexpr int QK_K = 256;  // elements per K-quant super-block

struct BlockQ4_0 { uint16_t d; uint8_t qs[QK / 2]; };
struct BlockQ4_1 { uint16_t d, m; uint8_t qs[QK / 2]; };
struct BlockQ5_0 { uint16_t d; uint8_t qh[4]; uint8_t qs[QK / 2]; };
struct BlockQ5_1 { uint16_t d, m; uint8_t qh[4]; uint8_t qs[QK / 2]; };
struct BlockQ8_0 { uint16_t d; int8_t qs[QK]; };
struct BlockQ8_1 { uint16_t d, s; int8_t qs[QK]; };  // s = d * sum(qs) (fp16)
struct BlockQ2_K { uint8_t scales[QK_K / 16]; uint8_t qs[QK_K / 4]; uint16_t d, dmin; };
struct BlockQ3_K { uint8_t hmask[QK_K / 8]; uint8_t qs[QK_K / 4]; uint8_t scales[12]; uint16_t d; };
struct BlockQ4_K { uint16_t d, dmin; uint8_t scales[12]; uint8_t qs[QK_K / 2]; };
struct BlockQ5_K { uint16_t d, dmin; uint8_t scales[12]; uint8_t qh[QK_K / 8]; uint8_t qs[QK_K / 2]; };
struct BlockQ6_K { uint8_t ql[QK_K / 2]; uint8_t qh[QK_K / 4]; int8_t scales[QK_K / 16]; uint16_t d; };
struct BlockQ8_K { float d; int8_t qs[QK_K]; int16_t bsums[QK_K / 16]; };
// The i-quants (values from the tables of kernels/iq_tables.hpp):
//   IQ4_NL: element j = d * kIq4nlValues[nibble j] (low nibbles elements 0..15, high 16..31, as Q4_0).
//   IQ4_XS: 8 sub-blocks of 32 as IQ4_NL, each scaled by d * (ls - 32), ls 6 bits: low 4 in scales_l (nibble j%2
//           of byte j/2), high 2 in scales_h (bits 2j, 2j+1).
//   IQ3_S:  8 sub-blocks of 32, scale d * (1 + 2 * nibble j%2 of scales[j/2]); each sub-block is 8 groups of 4
//           magnitudes kIq3sGrid[qs[k] | (bit k of qh[j]) << 8] (k = 0..7 within the sub-block's 8 qs bytes), and
//           signs[4 j + l] holds the signs of elements 8 l .. 8 l + 7 (bit set: negative).
struct BlockIQ4_NL { uint16_t d; uint8_t qs[QK / 2]; };
struct BlockIQ4_XS { uint16_t d; uint16_t scales_h; uint8_t scales_l[QK_K / 64]; uint8_t qs[QK_K / 2]; };
struct BlockIQ3_S { uint16_t d; uint8_t qs[QK_K / 4]; uint8_t qh[QK_K / 32]; uint8_t signs[QK_K / 8]; uint8_t scales[QK_K / 64]; };

static_assert(sizeof(BlockQ4_0) == 18 && sizeof(BlockQ4_1) == 20 && sizeof(BlockQ5_0) == 22);
static_assert(sizeof(BlockQ5_1) == 24 && sizeof(BlockQ8_0) == 34 && sizeof(BlockQ8_1) == 36);
static_assert(sizeof(BlockQ2_K) == 84 && sizeof(BlockQ3_K) == 110 && sizeof(BlockQ4_K) == 144);
static_assert(sizeof(BlockQ5_K) == 176 && sizeof(BlockQ6_K) == 210 && sizeof(BlockQ8_K) == 292);
static_assert(sizeof(BlockIQ4_NL) == 18 && sizeof(BlockIQ4_XS) == 136 && sizeof(BlockIQ3_S) == 110);

// The 6-bit scale (before the -32) of sub-block j (0..7) of an IQ4_XS super-block.
static inline int iq4xs_scale(const BlockIQ4_XS& b, int j) {
  return ((b.scales_l[j / 2] >> (4 * (j % 2))) & 0xF) | (((b.scales_h >> (2 * j)) & 3) << 4);
}

// The 16 signed 6-bit scales (before the -32) of a Q3_K super-block, unpacked from its 12 bytes: low 4 bits from
// bytes 0..7 (nibble j/8 of byte j%8), high 2 bits from bytes 8..11 (bits 2 (j/4) of byte 8 + j%4).
static inline void unpack_scales_q3_k(const uint8_t* s, int8_t* out) {
  for (int j = 0; j < 16; ++j) {
    const int lo = (s[j % 8] >> (4 * (j / 8))) & 0xF;
    const int hi = (s[8 + j % 4] >> (2 * (j / 4))) & 3;
    out[j] = static_cast<int8_t>(lo | (hi << 4));
  }
}

// The helpers below are `static`: each file gets its own copy, compiled with its own flags (the kernel families of
// quant_simd.hpp use the F16C instructions, the portable code may not), never one shared copy.
static inline float h2f(uint16_t h) {
#if defined(__F16C__)
  return _cvtsh_ss(h);
#else
  return fp16_to_fp32(h);
#endif
}
static inline uint16_t f2h(float f) {
#if defined(__F16C__)
  return _cvtss_sh(f, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
#else
  return fp32_to_fp16(f);
#endif
}

// The 6-bit scale and min of sub-block j (0..7) of a Q4_K / Q5_K super-block.
static inline void scale_min_k4(int j, const uint8_t* q, uint8_t& sc, uint8_t& m) {
  if (j < 4) {
    sc = q[j] & 63;
    m = q[j + 4] & 63;
  } else {
    sc = static_cast<uint8_t>((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
    m = static_cast<uint8_t>((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
  }
}

// The element of largest magnitude, with its sign (the first one on a tie).
static inline float signed_absmax(const float* x, int n) {
  float amax = 0, max = 0;
  for (int j = 0; j < n; ++j)
    if (std::fabs(x[j]) > amax) {
      amax = std::fabs(x[j]);
      max = x[j];
    }
  return max;
}

// Round to nearest, ties to even, for |x| < 2^22 (ggml's nearest_int).
static inline int nearest_int(float x) {
  float v = x + 12582912.f;
  int32_t i;
  std::memcpy(&i, &v, 4);
  return (i & 0x007fffff) - 0x00400000;
}

}  // namespace lmgen::qblk

namespace lmgen {
// Encoders defined in quant*.cpp (reachable through quantize_row).
void quantize_row_q8_k(const float* x, void* dst, int64_t n);
void quantize_row_q2_k(const float* x, void* dst, int64_t n);
void quantize_row_q3_k(const float* x, void* dst, int64_t n);
void quantize_row_q4_k(const float* x, void* dst, int64_t n);
void quantize_row_q5_k(const float* x, void* dst, int64_t n);
void quantize_row_q6_k(const float* x, void* dst, int64_t n);
// Encoders (no importance matrix) and decoders of the i-quants (quant_iq.cpp), n a whole number of blocks.
void quantize_row_iq4_nl(const float* x, void* dst, int64_t n);
void quantize_row_iq4_xs(const float* x, void* dst, int64_t n);
void dequantize_row_iq4_nl(const void* src, float* dst, int64_t n);
void dequantize_row_iq4_xs(const void* src, float* dst, int64_t n);
void dequantize_row_iq3_s(const void* src, float* dst, int64_t n);
}  // namespace lmgen
