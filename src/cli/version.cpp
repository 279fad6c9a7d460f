// `lmgen --version`: the version, the git commit and build type it was built from, the CPU, and the kernel family
// in use (picked at run time, kernels/dispatch.hpp), so that two users comparing logits can tell whether they run
// the same code.
#include "cli/cli.hpp"
#include "kernels/cpu_features.hpp"
#include "kernels/dispatch.hpp"

namespace lmgen::cli {

std::string kernels_text() {
  const CpuFeatures& cpu = detect_cpu();
  const std::string model = cpu_model_name();
  std::string compiled;
  for (simd::Isa i : simd::kAllIsas)
    if (simd::isa_compiled(i)) compiled += std::string(compiled.empty() ? "" : " ") + simd::isa_name(i);
  return "cpu: " + (model.empty() ? std::string("unknown") : model) + " (" + cpu_feature_names(cpu) +
         ")\nkernels: " + simd::active_isa_description() + "; built: " + compiled + "\n";
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
