// The portable build's code outside the kernel families is compiled for x86-64-v3 (AVX2, FMA, F16C, BMI2; see
// CMakeLists.txt). On an older CPU its first such instruction would kill lmgen with SIGILL, possibly before main
// (static initialisers are compiled for the same baseline). This file alone is compiled for plain x86-64, and its
// constructor runs before the others (priority 101) to say what is missing and how to build for this CPU instead.
// The only place outside main that ends the process: nothing has run yet that could report an error.
#if defined(LMGEN_CHECK_X86_64_V3)
#include <unistd.h>

namespace {

__attribute__((constructor(101))) void lmgen_require_x86_64_v3() {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("bmi2")) return;
  static const char msg[] =
      "lmgen: this build needs an x86-64 CPU with AVX2, FMA and BMI2 (x86-64-v3: Intel Haswell, AMD Zen or later); "
      "on this machine, build with cmake -DLMGEN_NATIVE=ON\n";
  (void)!write(2, msg, sizeof msg - 1);
  _exit(1);
}

}  // namespace
#endif
