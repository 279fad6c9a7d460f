// Internal: the entry points of one SIMD kernel family. quant_dot_simd.cpp, quant_dot_q0.cpp, quant_dot_lowbit.cpp and
// quant_dot_kquant.cpp are compiled once per family (avx2, avx512, avx512vnni: CMakeLists.txt), each time with that family's instruction-set flags and
// with LMGEN_KERNEL_NS naming its namespace, so the copies never share a symbol (dispatch.hpp picks one at run time).
#pragma once

#include <cstddef>
#include <cstdint>

#include "lmgen/tensor.hpp"

#ifndef LMGEN_KERNEL_NS
#error "a kernel family source: LMGEN_KERNEL_NS must name the family's namespace (set by CMakeLists.txt)"
#endif

namespace lmgen::simd::LMGEN_KERNEL_NS {

// y[k * y_stride + r] = dot(weight row r, activation row k) for r < n_rows, k < n_act; each result bit-identical
// whatever n_rows / n_act are. Returns false (and does nothing) if this family has no kernel for type t.
bool vec_dot_rows(DType t, int64_t n, const void* w, size_t w_stride, int64_t n_rows, const void* act,
                  size_t act_stride, int n_act, float* y, size_t y_stride);
// Q2_K, Q3_K, IQ4_NL, IQ4_XS, IQ3_S only (quant_dot_lowbit.cpp): same contract as vec_dot_rows.
bool lowbit_rows(DType t, int64_t n, const void* w, size_t w_stride, int64_t n_rows, const void* act,
                 size_t act_stride, int n_act, float* y, size_t y_stride);
// Q4_K, Q5_K, Q6_K only (quant_dot_kquant.cpp): same contract as vec_dot_rows.
bool kquant_rows(DType t, int64_t n, const void* w, size_t w_stride, int64_t n_rows, const void* act,
                 size_t act_stride, int n_act, float* y, size_t y_stride);
// Q4_0 / Q5_0 / Q8_0 only (quant_dot_q0.cpp): same contract as vec_dot_rows.
bool q0_rows(DType t, int64_t n, const void* w, size_t w_stride, int64_t n_rows, const void* act, size_t act_stride,
             int n_act, float* y, size_t y_stride);

}  // namespace lmgen::simd::LMGEN_KERNEL_NS
