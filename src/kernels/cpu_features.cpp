// CPUID leaves used: 1 (ECX: FMA bit 12, OSXSAVE 27, AVX 28, F16C 29), 7.0 (EBX: AVX2 5, BMI2 8, AVX512F 16,
// AVX512DQ 17, AVX512CD 28, AVX512BW 30, AVX512VL 31; ECX: AVX512_VNNI 11; EDX: AMX-BF16 22, AMX-TILE 24,
// AMX-INT8 25), 7.1 (EAX: AVX512_BF16 5), 0x80000002..4 (brand string). XCR0 (XGETBV 0) says which register state
// the OS saves: bits 1-2 (SSE, AVX) for 256-bit code, 5-7 (opmask, ZMM) for AVX-512, 17-18 (tile config and data)
// for AMX. A feature counts only when both the CPU and the OS support it.
#include "kernels/cpu_features.hpp"

#include <cstdint>
#include <cstring>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#define LMGEN_X86 1
#endif

namespace lmgen {

#if defined(LMGEN_X86)
namespace {
uint64_t xgetbv0() {
  uint32_t lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (static_cast<uint64_t>(hi) << 32) | lo;
}
bool bit(uint32_t v, int b) { return (v >> b) & 1u; }

CpuFeatures read_cpu() {
  CpuFeatures f;
  uint32_t a, b, c, d;
  if (!__get_cpuid(0, &a, &b, &c, &d)) return f;
  const uint32_t max_leaf = a;
  f.amd = b == 0x68747541 && d == 0x69746e65 && c == 0x444d4163;    // "AuthenticAMD"
  f.intel = b == 0x756e6547 && d == 0x49656e69 && c == 0x6c65746e;  // "GenuineIntel"
  __get_cpuid(1, &a, &b, &c, &d);
  const uint32_t base_family = (a >> 8) & 0xF, base_model = (a >> 4) & 0xF;
  f.family = base_family == 0xF ? base_family + ((a >> 20) & 0xFF) : base_family;
  f.model = base_family == 0xF || base_family == 0x6 ? base_model | (((a >> 16) & 0xF) << 4) : base_model;
  const bool osxsave = bit(c, 27), avx = bit(c, 28);
  const uint64_t xcr0 = osxsave ? xgetbv0() : 0;
  const bool ymm_state = osxsave && (xcr0 & 0x6) == 0x6;
  const bool zmm_state = ymm_state && (xcr0 & 0xE0) == 0xE0;
  const bool tile_state = osxsave && (xcr0 & 0x60000) == 0x60000;
  const bool fma = bit(c, 12), f16c = bit(c, 29);
  if (max_leaf >= 7) {
    __get_cpuid_count(7, 0, &a, &b, &c, &d);
    const uint32_t b7 = b, c7 = c, d7 = d, sub_leaves = a;
    f.avx2 = ymm_state && avx && bit(b7, 5);
    f.fma = ymm_state && fma;
    f.f16c = ymm_state && f16c;
    f.bmi2 = bit(b7, 8);
    f.avx512f = zmm_state && bit(b7, 16);
    f.avx512dq = f.avx512f && bit(b7, 17);
    f.avx512cd = f.avx512f && bit(b7, 28);
    f.avx512bw = f.avx512f && bit(b7, 30);
    f.avx512vl = f.avx512f && bit(b7, 31);
    f.avx512vnni = f.avx512f && bit(c7, 11);
    f.amx_bf16 = tile_state && bit(d7, 22);
    f.amx_tile = tile_state && bit(d7, 24);
    f.amx_int8 = tile_state && bit(d7, 25);
    if (sub_leaves >= 1) {
      __get_cpuid_count(7, 1, &a, &b, &c, &d);
      f.avx512bf16 = f.avx512f && bit(a, 5);
    }
  }
  return f;
}
}  // namespace

std::string cpu_model_name() {
  uint32_t a, b, c, d;
  if (!__get_cpuid(0x80000000, &a, &b, &c, &d) || a < 0x80000004) return "";
  uint32_t brand[12] = {};
  for (uint32_t i = 0; i < 3; ++i) __get_cpuid(0x80000002 + i, &brand[4 * i], &brand[4 * i + 1], &brand[4 * i + 2], &brand[4 * i + 3]);
  char s[49] = {};
  std::memcpy(s, brand, 48);
  const std::string m = s;
  const size_t first = m.find_first_not_of(' '), last = m.find_last_not_of(' ');
  return first == std::string::npos ? "" : m.substr(first, last - first + 1);
}
#else
namespace {
CpuFeatures read_cpu() { return {}; }
}  // namespace
std::string cpu_model_name() { return ""; }
#endif

const CpuFeatures& detect_cpu() {
  static const CpuFeatures f = read_cpu();  // immutable once read
  return f;
}

std::string cpu_feature_names(const CpuFeatures& f) {
  std::string s;
  auto add = [&s](bool on, const char* name) {
    if (!on) return;
    if (!s.empty()) s += ' ';
    s += name;
  };
  add(f.avx2, "avx2");
  add(f.fma, "fma");
  add(f.f16c, "f16c");
  add(f.avx512f, "avx512f");
  add(f.avx512bw, "avx512bw");
  add(f.avx512vl, "avx512vl");
  add(f.avx512dq, "avx512dq");
  add(f.avx512vnni, "avx512vnni");
  add(f.avx512bf16, "avx512bf16");
  add(f.amx_tile, "amx-tile");
  add(f.amx_int8, "amx-int8");
  add(f.amx_bf16, "amx-bf16");
  return s.empty() ? "none of the above" : s;
}

}  // namespace lmgen
