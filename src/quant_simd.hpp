// Internal: SIMD dot-product kernels (quant_dot_simd.cpp), chosen at compile time from __AVX512F__ / __AVX2__.
#pragma once

#include <cstddef>
#include <cstdint>

#include "lmgen/tensor.hpp"

namespace lmgen::simd {

// Computes the dot product into *out and returns true if this build has a SIMD kernel for type t.
bool vec_dot(DType t, int64_t n, const void* w, const void* act, float* out);
// Multi-activation version; returns how many leading activations it handled (0 if none), each bit-identical to
// vec_dot for the same activation.
int vec_dot_multi(DType t, int64_t n, const void* w, const void* act, size_t act_stride, int n_act, float* out);
const char* isa_name();

}  // namespace lmgen::simd
