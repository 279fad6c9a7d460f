// The portable build's code outside the kernel families is compiled for x86-64-v3 (AVX2, FMA, F16C, BMI2; see
// CMakeLists.txt). On an older CPU its first such instruction would kill lmgen with SIGILL, possibly before main
// (static initialisers are compiled for the same baseline). This file alone is compiled for plain x86-64, and its
// constructor runs before the others (priority 101) to say what is missing and how to build for this CPU instead.
// The only place outside main that ends the process: nothing has run yet that could report an error.
// Two CPUID leaves and XGETBV (not __builtin_cpu_supports, whose initialisation asks CPUID ten times: each one
// traps to the hypervisor in a virtual machine).
#if defined(LMGEN_CHECK_X86_64_V3)
#include <cpuid.h>
#include <unistd.h>

namespace {

bool has_x86_64_v3() {
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return false;
  const bool fma = (c >> 12) & 1, osxsave = (c >> 27) & 1, avx = (c >> 28) & 1, f16c = (c >> 29) & 1;
  if (!(fma && osxsave && avx && f16c)) return false;
  unsigned lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  if ((lo & 0x6) != 0x6) return false;  // the OS saves the AVX registers
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return false;
  return ((b >> 5) & 1) && ((b >> 8) & 1) && ((b >> 3) & 1);  // AVX2, BMI2, BMI1
}

__attribute__((constructor(101))) void lmgen_require_x86_64_v3() {
  if (has_x86_64_v3()) return;
  static const char msg[] =
      "lmgen: this build needs an x86-64 CPU with AVX2, FMA and BMI2 (x86-64-v3: Intel Haswell, AMD Zen or later); "
      "on this machine, build with cmake -DLMGEN_NATIVE=ON\n";
  (void)!write(2, msg, sizeof msg - 1);
  _exit(1);
}

}  // namespace
#endif
