// Block quantization formats: decoding (and encoding) of rows of every supported tensor type, and the per-type dot
// products that the matrix products are built from.
//
// Block layouts follow ggml (facts of the file format):
//   Q4_0 {f16 d; u8 qs[16]}          x = d * (q - 8),         q = 4 bits; low nibbles are elements 0..15
//   Q4_1 {f16 d, m; u8 qs[16]}       x = d * q + m
//   Q5_0 {f16 d; u8 qh[4]; u8 qs[16]} 5th bit from qh;        x = d * (q - 16)
//   Q5_1 {f16 d, m; u8 qh[4]; u8 qs[16]}                      x = d * q + m
//   Q8_0 {f16 d; i8 qs[32]}          x = d * q
//   Q8_1 {f16 d, s; i8 qs[32]}       x = d * q, s = d * sum(q) (activations only)
//   Q2_K, Q3_K, Q4_K, Q5_K, Q6_K: 256-element super-blocks with 4/6/8-bit sub-block scales (see quant.cpp);
//   Q8_K {f32 d; i8 qs[256]; i16 bsums[16]} (activations only).
//   IQ4_NL (blocks of 32), IQ4_XS, IQ3_S (super-blocks of 256): values from fixed tables (quant_blocks.hpp).
//
// Activation quantization (the choice made for matmul): like ggml-cpu / llama.cpp, a product of a *quantized*
// weight row with an F32 activation row first encodes the activation row to 8 bits, once per matmul call, and then
// multiplies with integer dot products:
//   weights Q4_0, Q5_0, Q8_0  -> activations Q8_0   (blocks of 32, d = amax/127, q = round-half-even(x*127/amax))
//   weights Q4_1, Q5_1        -> activations Q8_1   (as Q8_0 plus s = fp16(d * sum q), which carries the min term)
//   weights IQ4_NL            -> activations Q8_0
//   weights Q2_K .. Q6_K, IQ4_XS, IQ3_S -> activations Q8_K   (blocks of 256, f32 d = max/-127, bsums of 16)
//   weights F32, F16, BF16    -> F32 activations.
// This is both faster (half/quarter the activation bytes, integer SIMD) and makes logits agree closely with
// llama.cpp's, which does the same. The cost is a relative error of about 0.5% per activation element.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "lmgen/tensor.hpp"

namespace lmgen {

// Decodes `n` elements (a multiple of the type's block size) of type `t` at `src` into F32.
void dequantize_row(DType t, const void* src, float* dst, int64_t n);
// Encodes `n` F32 values into type `t` (F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q8_1, Q8_K, Q2_K .. Q6_K,
// IQ4_NL, IQ4_XS) with ggml's reference (quantize_row_*_ref) algorithms, as llama-quantize writes files without an
// importance matrix. IQ3_S is not encoded (an Error).
void quantize_row(DType t, const float* src, void* dst, int64_t n);

// The activation encoding used with weights of type `t` (see above): Q8_0, Q8_1, Q8_K, or F32.
DType vec_dot_type(DType t);
// Encodes an activation row of `n` floats as `act_type` (= vec_dot_type(...)), the way ggml-cpu does at run
// time; for F32 it copies. Destination size: row_bytes(act_type, n).
void quantize_activation_row(DType act_type, const float* x, void* dst, int64_t n);

// sum_i W[i] * X[i] for one weight row `w` of type `t` (n elements) and an activation row `act` encoded as
// vec_dot_type(t). vec_dot uses the SIMD kernel family chosen at run time (kernels/dispatch.hpp);
// vec_dot_scalar is the portable reference (same integer sums; float accumulation order may differ).
float vec_dot(DType t, int64_t n, const void* w, const void* act);
float vec_dot_scalar(DType t, int64_t n, const void* w, const void* act);


// The same for a block of weight rows: y[k * y_stride + r] = vec_dot(t, n, w + r * w_stride, act + k * act_stride)
// for r < n_rows, k < n_act (bit-identical to vec_dot), with the loops blocked for cache reuse.
void vec_dot_rows(DType t, int64_t n, const void* w, size_t w_stride, int64_t n_rows, const void* act,
                  size_t act_stride, int n_act, float* y, size_t y_stride);

// Name of the kernel family in use: "scalar", "avx2", "avx512" or "avx512vnni" (kernels/dispatch.hpp).
const char* vec_dot_isa();
// The kernel that multiplies weights of type t in this process, with the activation type it pairs them with:
// "avx512vnni x q8_k" (the family in use has a kernel for t) or "scalar x q8_k" (the portable reference runs).
std::string vec_dot_kernel(DType t);

}  // namespace lmgen
