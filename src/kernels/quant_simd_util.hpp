// Internal: 256-bit SIMD helpers shared by the dot-product kernels of one family (AVX2, with AVX-512 VNNI/VL
// variants of the integer multiply-adds when the family has them); in the family's namespace like the kernels. Integer sums are exact either way, so the VNNI and plain AVX2
// variants give identical results.
#pragma once

// GCC 12 reports the deliberately undefined pass-through operands inside its own AVX-512 intrinsic headers
// (`__Y` in _mm512_extractf64x4_pd / _mm512_cvtph_ps) as uninitialised once these kernels are inlined: a known
// false positive of the headers, silenced for the two kernel files (the only ones that include this header).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#if defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
#define LMGEN_SIMD_AVX2 1
#include <immintrin.h>

#include "kernels/dispatch.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <utility>

namespace lmgen::simd::LMGEN_KERNEL_NS {

// acc + sum of 4 adjacent products u8 x s8 per i32 lane (no saturation as long as |u| <= 128).
inline __m256i dot_u8s8(__m256i acc, __m256i u, __m256i s) {
#if defined(__AVX512VNNI__) && defined(__AVX512VL__)
  return _mm256_dpbusd_epi32(acc, u, s);
#else
  return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1)));
#endif
}

// acc + sum of 2 adjacent products s16 x s16 per i32 lane.
inline __m256i dot_s16(__m256i acc, __m256i a, __m256i b) {
#if defined(__AVX512VNNI__) && defined(__AVX512VL__)
  return _mm256_dpwssd_epi32(acc, a, b);
#else
  return _mm256_add_epi32(acc, _mm256_madd_epi16(a, b));
#endif
}

// 16 bytes of nibbles -> 32 bytes: low nibbles then high nibbles (ggml's element order within a block).
inline __m256i unpack_nibbles(const uint8_t* qs) {
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
  const __m128i m = _mm_set1_epi8(0x0F);
  return _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(v, 4), m), _mm_and_si128(v, m));
}

// 32 bits -> 32 bytes, byte j = 0xFF if bit j is set, else 0.
inline __m256i bits_to_bytes(uint32_t bits) {
#if defined(__AVX512BW__) && defined(__AVX512VL__)
  return _mm256_movm_epi8(static_cast<__mmask32>(bits));
#else
  // Byte j takes byte j/8 of the bits, keeps bit j%8, and becomes 0xFF if it was set.
  const __m256i shuf = _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3,
                                        3, 3, 3, 3, 3, 3);
  const __m256i v = _mm256_shuffle_epi8(_mm256_set1_epi32(static_cast<int>(bits)), shuf);
  const __m256i bit = _mm256_set1_epi64x(0x8040201008040201LL);
  return _mm256_cmpeq_epi8(_mm256_and_si256(v, bit), bit);
#endif
}

// 32 bits -> 32 bytes, byte j = 0x10 if bit j is set, else 0.
inline __m256i bits_to_0x10(uint32_t qh) {
#if defined(__AVX512BW__) && defined(__AVX512VL__)
  return _mm256_maskz_mov_epi8(static_cast<__mmask32>(qh), _mm256_set1_epi8(0x10));
#else
  return _mm256_and_si256(bits_to_bytes(qh), _mm256_set1_epi8(0x10));
#endif
}
// The same for the 4 bytes of a block's qh (little-endian bit order).
inline __m256i bits_to_0x10(const uint8_t* qh_bytes) {
  uint32_t qh;
  std::memcpy(&qh, qh_bytes, 4);
  return bits_to_0x10(qh);
}

// Generation streams each weight matrix once from DRAM. Through 4 KiB page-cache pages the hardware prefetchers stop
// at every page boundary, so single-activation loops ask for the bytes `ahead` further on (into L2) as they start
// each row, one prefetch per Step bytes (prefetches never fault, past the end either). How far, and which rows
// prefetch at all (F32 rows, F32 row groups, the 2- to 6-bit types), is the CPU's PrefetchPlan (dispatch.hpp).
template <size_t Step = 64>
inline void prefetch_row(const uint8_t* row, size_t bytes, size_t ahead) {
  for (size_t o = 0; o < bytes; o += Step) _mm_prefetch(reinterpret_cast<const char*>(row + ahead + o), _MM_HINT_T1);
}

// f(std::integral_constant<int, n>{}) for the run-time count n in 1..Max: a count turned into a template argument.
template <int Max, typename F>
inline void with_count(int n, F&& f) {
  [&]<int... I>(std::integer_sequence<int, I...>) {
    ((n == I + 1 ? (f(std::integral_constant<int, I + 1>{}), 0) : 0), ...);
  }(std::make_integer_sequence<int, Max>{});
}

// The batch loop shared by the kernels: rows [0, n_rows) x activations [0, n_act) in tiles of TR rows x TA
// activations, over blocks of weight rows (about block_bytes) that stay in L1 while the activations stream past.
// tile(R, NA, r, k, out) computes R rows from r (TR, or 1 for the rows left over) against NA activations from k
// (TA, or fewer for the last ones), R and NA as std::integral_constant, into out[i * NA + j], which lands in
// y[(k + j) * ys + r + i].
// While a block runs, the next block's rows (w: the weight rows) are prefetched into L2, a share per activation
// group, so its first tiles do not wait on memory.
template <int TR, int TA, typename Tile>
inline void for_each_block_tile(const uint8_t* w, int64_t n_rows, size_t ws, size_t block_bytes, int n_act, float* y,
                                size_t ys, Tile&& tile) {
  const int64_t rb =
      std::clamp<int64_t>(static_cast<int64_t>(block_bytes / std::max<size_t>(ws, 1)) / TR * TR, TR, 64 / TR * TR);
  const int groups = (n_act + TA - 1) / TA;
  float out[TR * TA];
  auto run = [&](auto RC, auto NAC, int64_t r, int k) {
    constexpr int R = decltype(RC)::value, NA = decltype(NAC)::value;
    tile(RC, NAC, r, k, out);
    for (int i = 0; i < R; ++i)
      for (int j = 0; j < NA; ++j) y[(k + j) * ys + r + i] = out[i * NA + j];
  };
  for (int64_t r0 = 0; r0 < n_rows; r0 += rb) {
    const int64_t r1 = std::min(n_rows, r0 + rb);
    const uint8_t* next = w + r1 * ws;
    const size_t next_bytes = static_cast<size_t>(std::min(n_rows, r1 + rb) - r1) * ws;
    const size_t share = (next_bytes / 64 + groups - 1) / groups * 64;  // bytes of the next block per group
    size_t done = 0;
    for (int k = 0; k < n_act; k += TA) {
      for (const size_t end = std::min(next_bytes, done + share); done < end; done += 64)
        _mm_prefetch(reinterpret_cast<const char*>(next + done), _MM_HINT_T1);
      with_count<TA>(std::min(TA, n_act - k), [&](auto NAC) {
        int64_t r = r0;
        for (; r + TR <= r1; r += TR) run(std::integral_constant<int, TR>{}, NAC, r, k);
        for (; r < r1; ++r) run(std::integral_constant<int, 1>{}, NAC, r, k);
      });
    }
  }
}

// Kernel adaptors, the interface of rows_impl: State st(act, stride, n_act, n) prepares the activation side once per
// call, then call<NA>(n, weight row, activations k.., stride, out, st, k) computes NA dot products of one weight row.
// kF32Rows: rows of 4-byte floats (prefetched every other line, if at all: PrefetchPlan). Optionally kGenRows > 1 and
// gen_rows(n, w, ws, act, out): that many weight rows against one activation per call in generation.
struct NoState {
  NoState(const uint8_t*, size_t, int, int64_t) {}
};

// Kern::kPacked (default false): rows of a 2- to 6-bit type, which prefetch in generation only where the CPU's
// PrefetchPlan says (some CPUs stream them faster on the hardware prefetchers alone: BENCHMARKS.md).
template <typename Kern>
constexpr bool kern_packed() {
  if constexpr (requires { Kern::kPacked; }) return Kern::kPacked;
  else return false;
}

// Rows [0, n_rows) x activations [0, n_act), blocked so that a block of weight rows stays in L1 while groups of 4
// activation rows stream past it. Generation (one activation) streams row by row with a software prefetch ahead.
// One function per kernel (noinline): inlined into vec_dot_rows's switch, a kernel's tile loop was register-allocated
// together with every other case of that function, and adding one (lowbit_rows) moved the Q4_K loop's parameters to
// the stack in the avx512vnni build: Q4_K prompts ~15% slower (BENCHMARKS.md, issue 28's restructure section).
template <typename Kern>
[[gnu::noinline]] void rows_impl(int64_t n, const uint8_t* w, size_t ws, int64_t n_rows, const uint8_t* act, size_t as, int n_act,
               float* y, size_t ys) {
  const typename Kern::State st(act, as, n_act, n);
  if (n_act == 1) {
    const PrefetchPlan& plan = prefetch_plan();
    const size_t ahead = plan.ahead;
    // F32: every other line (128-byte steps), or none; rows taken kGenRows at a time have their own switch.
    constexpr bool kGroups = [] {
      if constexpr (requires { Kern::kGenRows; }) return Kern::kGenRows > 1;
      else return false;
    }();
    // Kern::kGenRowsByPlan: groups only where the plan says (the AVX2 family's F32 rows: avx2_f32_groups).
    const bool groups = [&] {
      if constexpr (!kGroups) return false;
      else if constexpr (requires { Kern::kGenRowsByPlan; }) return !Kern::kGenRowsByPlan || plan.avx2_f32_groups;
      else return true;
    }();
    const bool prefetch = Kern::kF32Rows ? (groups ? plan.f32_row_groups : plan.f32_rows)
                                         : (!kern_packed<Kern>() || plan.packed_rows);
    constexpr size_t kStep = Kern::kF32Rows ? 128 : 64;
    int64_t r = 0;
    if constexpr (kGroups) {
      for (; groups && r + Kern::kGenRows <= n_rows; r += Kern::kGenRows) {
        if (prefetch)
          for (int k = 0; k < Kern::kGenRows; ++k) prefetch_row<kStep>(w + (r + k) * ws, ws, ahead);
        Kern::gen_rows(n, w + r * ws, ws, act, y + r);
      }
    }
    for (; r < n_rows; ++r) {
      if (prefetch) prefetch_row<kStep>(w + r * ws, ws, ahead);
      Kern::template call<1>(n, w + r * ws, act, 0, y + r, st, 0);
    }
    return;
  }
  for_each_block_tile<1, 4>(w, n_rows, ws, 16384, n_act, y, ys, [&](auto, auto NA, int64_t r, int k, float* out) {
    Kern::template call<NA>(n, w + r * ws, act + k * as, as, out, st, k);
  });
}

// Horizontal sum in a fixed order.
inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

inline float h2f(uint16_t h) { return _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128(h))); }

}  // namespace lmgen::simd::LMGEN_KERNEL_NS

#endif
