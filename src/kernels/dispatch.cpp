// Run-time kernel selection (see dispatch.hpp).
#include "kernels/dispatch.hpp"

#include <cstdlib>

#include "kernels/cpu_features.hpp"
#include "lmgen/error.hpp"

// The per-family entry points, defined in the copies of quant_dot_simd.cpp, attention.cpp and act_quant.cpp built
// with each family's flags (the scalar family: attention.cpp and act_quant.cpp for the baseline).
#define LMGEN_DECLARE_FAMILY(ns)                                                                                   \
  namespace lmgen::simd::ns {                                                                                      \
  bool vec_dot_rows(DType t, int64_t n, const void* w, size_t ws, int64_t n_rows, const void* act, size_t as,      \
                    int n_act, float* y, size_t ys);                                                               \
  AttendGroupFn attend_group_fn(int g);                                                                            \
  void quantize_activations(DType act_type, const float* x, void* dst, int64_t n);                                 \
  }
LMGEN_DECLARE_FAMILY(scalar)  // its vec_dot_rows is not defined: the scalar family's products are quant_dot.cpp's
#if defined(LMGEN_KERNELS_X86)
LMGEN_DECLARE_FAMILY(avx2)
LMGEN_DECLARE_FAMILY(avx512)
LMGEN_DECLARE_FAMILY(avx512vnni)
#endif

namespace lmgen::simd {

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::scalar: return "scalar";
    case Isa::avx2: return "avx2";
    case Isa::avx512: return "avx512";
    case Isa::avx512vnni: return "avx512vnni";
  }
  return "?";
}

std::optional<Isa> parse_isa(std::string_view name) {
  for (Isa i : kAllIsas)
    if (name == isa_name(i)) return i;
  return std::nullopt;
}

bool isa_compiled(Isa isa) { return isa == Isa::scalar || rows_kernel(isa) != nullptr; }

bool isa_supported(Isa isa) {
  const CpuFeatures& f = detect_cpu();
  const bool avx2 = f.avx2 && f.fma && f.f16c;
  const bool avx512 = avx2 && f.avx512f && f.avx512bw && f.avx512vl && f.avx512dq;
  switch (isa) {
    case Isa::scalar: return true;
    case Isa::avx2: return avx2;
    case Isa::avx512: return avx512;
    case Isa::avx512vnni: return avx512 && f.avx512vnni;
  }
  return false;
}

namespace {
struct Family {
  RowsFn rows;  // nullptr: the portable kernels of quant_dot.cpp
  AttendGroupFn (*attend)(int g);
  ActQuantFn act;
};
#define LMGEN_FAMILY(ns) Family{&ns::vec_dot_rows, &ns::attend_group_fn, &ns::quantize_activations}

const Family& family(Isa isa) {
  static constexpr Family kScalar{nullptr, &scalar::attend_group_fn, &scalar::quantize_activations};
#if defined(LMGEN_KERNELS_X86)
  static constexpr Family kAvx2 = LMGEN_FAMILY(avx2), kAvx512 = LMGEN_FAMILY(avx512),
                          kAvx512Vnni = LMGEN_FAMILY(avx512vnni);
  switch (isa) {
    case Isa::avx2: return kAvx2;
    case Isa::avx512: return kAvx512;
    case Isa::avx512vnni: return kAvx512Vnni;
    case Isa::scalar: break;
  }
#else
  (void)isa;
#endif
  return kScalar;
}
}  // namespace

RowsFn rows_kernel(Isa isa) { return family(isa).rows; }
AttendGroupFn attend_group_kernel(Isa isa, int g) { return family(isa).attend(g); }
ActQuantFn act_quantizer(Isa isa) { return family(isa).act; }

const PrefetchPlan& prefetch_plan() {
  static const PrefetchPlan plan = [] {
    PrefetchPlan p;
    const CpuFeatures& f = detect_cpu();
    if (f.amd && f.family >= 0x1A) p.f32_rows = p.f32_row_groups = false;  // Zen 5
    if (f.intel) {  // measured on a Xeon (Emerald Rapids): the 4-bit and smaller rows need it, F32 groups lose by it
      p.f32_row_groups = false;
      p.packed_rows = true;
      p.avx2_f32_groups = true;  // AVX2 F32 tg 27.8 -> 30.6 tok/s there; on the Zen 5 groups were 25-50% slower
    }
    return p;
  }();
  return plan;
}

ActQuantFn active_act_quantizer() {
  static const ActQuantFn fn = act_quantizer(active_isa());
  return fn;
}

namespace {
struct Choice {
  Isa isa;
  bool forced;
};

Choice choose() {
  if (const char* env = std::getenv("LMGEN_ISA"); env && *env) {
    const auto isa = parse_isa(env);
    if (!isa) throw Error(std::string("LMGEN_ISA=") + env + " names no kernel family (scalar, avx2, avx512, avx512vnni)");
    if (!isa_compiled(*isa)) throw Error(std::string("LMGEN_ISA=") + env + ": this build has no " + env + " kernels");
    if (!isa_supported(*isa))
      throw Error(std::string("LMGEN_ISA=") + env + ": this CPU cannot run them (it has: " +
                  cpu_feature_names(detect_cpu()) + ")");
    return {*isa, true};
  }
  Isa best = Isa::scalar;
  for (Isa i : kAllIsas)
    if (isa_compiled(i) && isa_supported(i)) best = i;
  return {best, false};
}

const Choice& choice() {
  static const Choice c = choose();  // decided once per process; a bad LMGEN_ISA throws at every call
  return c;
}
}  // namespace

Isa active_isa() { return choice().isa; }

std::string active_isa_description() {
  const Choice& c = choice();
#ifndef LMGEN_BASELINE
#define LMGEN_BASELINE ""
#endif
  const std::string baseline = *LMGEN_BASELINE ? std::string("; the rest built for ") + LMGEN_BASELINE : "";
  return std::string(isa_name(c.isa)) + (c.forced ? " (LMGEN_ISA)" : " (the best this CPU supports)") + baseline;
}

}  // namespace lmgen::simd
