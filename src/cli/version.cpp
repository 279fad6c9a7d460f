// `lmgen --version`: the version, the git commit and build type it was built from, the CPU, and the kernel family
// in use (picked at run time, kernels/dispatch.hpp), so that two users comparing logits can tell whether they run
// the same code.
#include "cli/cli.hpp"
#include "kernels/cpu_features.hpp"
#include "kernels/dispatch.hpp"
#include "kernels/quant.hpp"

namespace lmgen::cli {

std::string weight_kernels_text(const std::vector<DType>& types) {
  std::string s;
  for (DType t : types) s += std::string(s.empty() ? "" : ", ") + dtype_name(t) + " " + vec_dot_kernel(t);
  return s;
}

std::string kernels_text() {
  const CpuFeatures& cpu = detect_cpu();
  const std::string model = cpu_model_name();
  std::string compiled;
  for (simd::Isa i : simd::kAllIsas)
    if (simd::isa_compiled(i)) compiled += std::string(compiled.empty() ? "" : " ") + simd::isa_name(i);
  const std::vector<DType> all = {DType::F32,  DType::F16,  DType::BF16,   DType::Q4_0,   DType::Q4_1, DType::Q5_0,
                                  DType::Q5_1, DType::Q8_0, DType::Q2_K,   DType::Q3_K,   DType::Q4_K, DType::Q5_K,
                                  DType::Q6_K, DType::IQ4_NL, DType::IQ4_XS, DType::IQ3_S};
  return "cpu: " + (model.empty() ? std::string("unknown") : model) + " (" + cpu_feature_names(cpu) +
         ")\nkernels: " + simd::active_isa_description() + "; built: " + compiled +
         "\nweights x activations: " + weight_kernels_text(all) + "\n";
}

std::string version_text() {
#ifndef LMGEN_GIT_COMMIT
#define LMGEN_GIT_COMMIT "unknown"
#endif
#ifndef LMGEN_BUILD_TYPE
#define LMGEN_BUILD_TYPE ""
#endif
  const std::string build = *LMGEN_BUILD_TYPE ? LMGEN_BUILD_TYPE : "unspecified";
  return std::string("lmgen ") + LMGEN_VERSION + "\ncommit: " + LMGEN_GIT_COMMIT + "\nbuild: " + build +
         "\n" + kernels_text();
}

}  // namespace lmgen::cli
