// Internal: SIMD dot-product kernels (quant_dot_simd.cpp), chosen at compile time from __AVX512F__ / __AVX2__.
#pragma once

#include <cstddef>
#include <cstdint>

#include "lmgen/tensor.hpp"

namespace lmgen::simd {

// y[k * y_stride + r] = dot(weight row r, activation row k) for r < n_rows, k < n_act; each result bit-identical
// whatever n_rows / n_act are. Returns false (and does nothing) if this build has no SIMD kernel for type t.
bool vec_dot_rows(DType t, int64_t n, const void* w, size_t w_stride, int64_t n_rows, const void* act,
                  size_t act_stride, int n_act, float* y, size_t y_stride);
// Q4_0 / Q8_0 only (quant_dot_q0.cpp, AVX-512 VNNI builds): same contract as vec_dot_rows.
bool q0_rows(DType t, int64_t n, const void* w, size_t w_stride, int64_t n_rows, const void* act, size_t act_stride,
             int n_act, float* y, size_t y_stride);
const char* isa_name();

}  // namespace lmgen::simd
