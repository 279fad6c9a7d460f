// `lmgen --version`: the version, the git commit and build type it was built from, and the SIMD instruction sets
// compiled into the kernels, so that two users comparing logits can tell whether they run the same code.
#include "cli/cli.hpp"

namespace lmgen::cli {

namespace {
std::string simd_level() {
  std::string s;
  auto add = [&s](const char* name) { s += s.empty() ? name : std::string(" ") + name; };
#if defined(__AVX512F__)
  add("avx512");
#if defined(__AVX512BW__)
  add("avx512bw");
#endif
#if defined(__AVX512VNNI__)
  add("vnni");
#endif
#elif defined(__AVX2__)
  add("avx2");
#if defined(__FMA__)
  add("fma");
#endif
#elif defined(__SSE4_2__)
  add("sse4.2");
#elif defined(__ARM_NEON)
  add("neon");
#endif
#if defined(__F16C__)
  add("f16c");
#endif
  return s.empty() ? "scalar" : s;
}
}  // namespace

std::string version_text() {
#ifndef LMGEN_GIT_COMMIT
#define LMGEN_GIT_COMMIT "unknown"
#endif
#ifndef LMGEN_BUILD_TYPE
#define LMGEN_BUILD_TYPE ""
#endif
  const std::string build = *LMGEN_BUILD_TYPE ? LMGEN_BUILD_TYPE : "unspecified";
  return std::string("lmgen ") + LMGEN_VERSION + "\ncommit: " + LMGEN_GIT_COMMIT + "\nbuild: " + build +
         "\nsimd: " + simd_level() + "\n";
}

}  // namespace lmgen::cli
