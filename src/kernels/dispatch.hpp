// Internal: the run-time choice of SIMD kernel family. One binary carries the dot-product kernels
// (quant_dot_simd.cpp, quant_dot_q0.cpp), the attention kernels (attention.cpp) and the activation encoders
// (act_quant.cpp) compiled once per instruction set
// below, each copy in its own namespace
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

namespace scalar {  // the portable copy of the activation encoders (act_quant.cpp), also used to write files
void quantize_activations(DType act_type, const float* x, void* dst, int64_t n);
}

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

// Positions per key block of the KV cache's layout (model/kv_cache.hpp: K[h][p / kKvBlock][d][p % kKvBlock]): the
// one definition, which the cache and the attention kernels both use.
constexpr int64_t kKvBlock = 16;

// Attention of a group of query heads sharing one kv head, for one query (KvCache::attend; kernels/attention.cpp):
// q, o = [G, D]; kh, vh = the kv head's keys and values in the cache's layout; s = scratch for G rows of scores.
using AttendGroupFn = void (*)(const float* q, const float* kh, const float* vh, int64_t D, int64_t n_pos, int64_t lo,
                               int64_t ring, float softcap, float scale, float* s, float* o);
// The family's kernel for G (1..8) heads; every family, scalar included, has one (they agree within float rounding:
// the FMA families fuse multiply-adds).
AttendGroupFn attend_group_kernel(Isa isa, int g);

// Encodes n floats (whole blocks) as Q8_0, Q8_1 or Q8_K activations (quant.hpp); every family gives the same bytes.
using ActQuantFn = void (*)(DType act_type, const float* x, void* dst, int64_t n);
ActQuantFn act_quantizer(Isa isa);
// act_quantizer(active_isa()), looked up once.
ActQuantFn active_act_quantizer();

// Software prefetch of weight rows during generation (kernels/quant_simd_util.hpp), chosen once from the CPU: how far
// ahead (into L2), and which rows are prefetched at all. F16, BF16 and Q8_0 rows always are. The measurements behind
// the choice are in BENCHMARKS.md ("Measurements behind code choices").
struct PrefetchPlan {
  uint32_t ahead = 8192;
  bool f32_rows = true;        // F32 rows one at a time (the AVX2 family)
  bool f32_row_groups = true;  // F32 rows eight at a time (the AVX-512 families, kGenRowsF32)
  bool packed_rows = false;    // rows of the 2- to 6-bit types (Q4_0, Q5_0, IQ4_NL, K-quants, Q2_K/Q3_K, I-quants)
  // Not a prefetch but the same kind of per-CPU stream choice: the AVX2 family's F32 generation takes four rows per
  // call (else one; the AVX-512 families always take eight).
  bool avx2_f32_groups = false;
};
const PrefetchPlan& prefetch_plan();

// The family this process uses: LMGEN_ISA if set (an Error if it names no family, or one this binary or CPU lacks),
// else the best supported one. Decided at the first call.
Isa active_isa();

// "avx512vnni (the best this CPU supports); the rest built for x86-64-v3", or "avx2 (LMGEN_ISA); ...": for
// --version and -v.
std::string active_isa_description();

}  // namespace lmgen::simd
