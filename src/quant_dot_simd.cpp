// SIMD dot-product kernels (AVX-512 / AVX2), chosen at compile time. Types without a kernel here fall back to the
// portable code in quant_dot.cpp.
#include "quant_blocks.hpp"
#include "quant_simd.hpp"

namespace lmgen::simd {

bool vec_dot(DType, int64_t, const void*, const void*, float*) { return false; }
int vec_dot_multi(DType, int64_t, const void*, const void*, size_t, int, float*) { return 0; }
const char* isa_name() { return "scalar"; }

}  // namespace lmgen::simd
