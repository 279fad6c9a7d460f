// Internal: what the CPU this process runs on can execute (CPUID, and XGETBV for the register state the OS saves),
// read once by the kernel dispatch (dispatch.hpp) and shown by `lmgen --version`.
#pragma once

#include <string>

namespace lmgen {

struct CpuFeatures {
  bool avx2 = false, fma = false, f16c = false, bmi2 = false;  // with OS support for 256-bit state
  bool avx512f = false, avx512bw = false, avx512vl = false, avx512dq = false, avx512cd = false;  // and 512-bit state
  bool avx512vnni = false, avx512bf16 = false;
  bool amx_tile = false, amx_int8 = false, amx_bf16 = false;  // reported only: no AMX kernel yet
  bool amd = false, intel = false;
  uint32_t family = 0, model = 0;  // display family and model (CPUID leaf 1 with the extended fields)
};

// The features of the running CPU, read once per process: CPUID traps to the hypervisor in a virtual machine
// (8 us each measured on the 2-core cloud machine), so lmgen asks it a handful of times, not per call.
const CpuFeatures& detect_cpu();

// The brand string, e.g. "AMD EPYC 9B14" (three more CPUID leaves; for --version and bench); empty off x86.
std::string cpu_model_name();

// Space-separated names of the features above that are present ("avx2 fma f16c avx512f ... amx-int8").
std::string cpu_feature_names(const CpuFeatures& f);

}  // namespace lmgen
