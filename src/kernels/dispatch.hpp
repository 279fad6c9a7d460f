// Internal: the run-time choice of SIMD kernel family. One binary carries the dot-product kernels
// (quant_dot_simd.cpp, quant_dot_q0.cpp) compiled once per instruction set below, each copy in its own namespace
// (lmgen::simd::<isa>, see CMakeLists.txt); at the first matrix product the process picks the best family the CPU
// supports, or the one named by the environment variable LMGEN_ISA (scalar | avx2 | avx512 | avx512vnni), and keeps
// it for its lifetime. Every family gives results within float rounding of the scalar reference; within one family,
// results do not depend on thread count or batch size.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "lmgen/tensor.hpp"

namespace lmgen::simd {

enum class Isa { scalar, avx2, avx512, avx512vnni };
inline constexpr Isa kAllIsas[] = {Isa::scalar, Isa::avx2, Isa::avx512, Isa::avx512vnni};

const char* isa_name(Isa isa);
std::optional<Isa> parse_isa(std::string_view name);
// Compiled into this binary (always true for scalar).
bool isa_compiled(Isa isa);
// The running CPU and OS can execute it (always true for scalar).
bool isa_supported(Isa isa);

// y[k * ys + r] = dot(weight row r, activation row k), as vec_dot_rows in quant.hpp. Returns false (and does
// nothing) where the family has no kernel for type t (the caller then uses the scalar reference).
using RowsFn = bool (*)(DType t, int64_t n, const void* w, size_t ws, int64_t n_rows, const void* act, size_t as,
                        int n_act, float* y, size_t ys);
// The kernel entry point of a family; nullptr for scalar or a family not compiled in.
RowsFn rows_kernel(Isa isa);

// The family this process uses: LMGEN_ISA if set (an Error if it names no family, or one this binary or CPU lacks),
// else the best supported one. Decided at the first call.
Isa active_isa();

// "avx512vnni (chosen: best for this CPU)" or "avx2 (LMGEN_ISA)": for --version, bench and -v.
std::string active_isa_description();

}  // namespace lmgen::simd
