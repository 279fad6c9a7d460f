// SIMD dot-product kernels of one family (compiled once per family, see quant_simd.hpp): AVX2 (+ AVX-512 VNNI/VL
// integer multiply-adds when the family has them) for the block types, AVX-512F (else AVX2) for F32 / F16 / BF16
// rows. Where a family has no kernel, quant_dot.cpp's portable ones run.
//
// Code shared between families must not exist: the linker keeps one copy of every inline function or template
// instantiation with external linkage, so a std::vector<float> member compiled here with AVX-512 flags could end up
// serving an AVX2-only CPU. Everything here is in the family's namespace or has internal linkage, and heap
// buffers are unique_ptr arrays (no vectorisable code); tools/check_kernel_objects.sh checks the objects.
//
// Every kernel is a template over NA, the number of activation rows multiplied with one weight row at once. Each
// activation has its own accumulators that see exactly the same sequence of operations whatever NA is, so a
// batched result is bit-identical to the single-token one (the determinism rule of matmul.hpp).
#include "kernels/quant_simd.hpp"

#include <algorithm>
#include <cmath>
#include <memory>

#include "kernels/quant_blocks.hpp"
#include "kernels/quant_simd_util.hpp"
#include "kernels/quant_simd_float.hpp"
#include "kernels/quant_simd_float_split.hpp"

namespace lmgen::simd::LMGEN_KERNEL_NS {

#if defined(LMGEN_SIMD_AVX2)

namespace {

using namespace qblk;

// ---- Q4_1 / Q5_1 against Q8_1: per block one 8-lane i32 vector of partial sums, scaled in float ----
// (Q4_0 / Q5_0 / Q8_0 have their own kernels: quant_dot_q0.cpp.)
//
// The quants are multiplied unsigned (0..15 / 0..31) and m * s is added afterwards. The activation side of that
// term (block scale and s) is decoded once per vec_dot_rows call (Prep32), not once per weight row.

struct Prep32 {
  const float* d;  // activation block scales
  const float* e;  // s of each activation block
};

struct KQ4_1 {
  using W = BlockQ4_1;
  using Y = BlockQ8_1;
  static __m256i decode(const W& b) { return unpack_nibbles(b.qs); }
};
struct KQ5_1 {
  using W = BlockQ5_1;
  using Y = BlockQ8_1;
  static __m256i decode(const W& b) { return _mm256_or_si256(unpack_nibbles(b.qs), bits_to_0x10(b.qh)); }
};

template <typename K>
void prepare32(const uint8_t* act, size_t stride, int n_act, int64_t nb, float* store, Prep32* prep) {
  for (int k = 0; k < n_act; ++k) {
    const auto* y = reinterpret_cast<const typename K::Y*>(act + k * stride);
    float* d = store + 2 * k * nb;
    float* e = d + nb;
    for (int64_t i = 0; i < nb; ++i) {
      d[i] = h2f(y[i].d);
      e[i] = h2f(y[i].s);
    }
    prep[k] = Prep32{d, e};
  }
}

template <typename K, int NA>
inline void block32_step(const typename K::W& b, int64_t i, const uint8_t* act, size_t stride, const Prep32* prep,
                         __m256* acc, float* cacc) {
  const __m256i w = K::decode(b);
  const float dw = h2f(b.d), cw = h2f(b.m);
#pragma GCC unroll 4
  for (int a = 0; a < NA; ++a) {
    const auto& y = reinterpret_cast<const typename K::Y*>(act + a * stride)[i];
    const __m256i yv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y.qs));
    const __m256i p = dot_u8s8(_mm256_setzero_si256(), w, yv);
    acc[a] = _mm256_fmadd_ps(_mm256_set1_ps(dw * prep[a].d[i]), _mm256_cvtepi32_ps(p), acc[a]);
    cacc[a] = std::fma(cw, prep[a].e[i], cacc[a]);  // explicit: the same in every NA
  }
}

template <typename K, int NA>
void dot32(int64_t nb, const void* wp, const uint8_t* act, size_t stride, const Prep32* prep, float* out) {
  const auto* x = static_cast<const typename K::W*>(wp);
  __m256 acc0[NA], acc1[NA];
  float c0[NA], c1[NA];
  for (int a = 0; a < NA; ++a) {
    acc0[a] = _mm256_setzero_ps();
    acc1[a] = _mm256_setzero_ps();
    c0[a] = c1[a] = 0.0f;
  }
  int64_t i = 0;
  for (; i + 1 < nb; i += 2) {  // two sets of accumulators hide the FMA latency
    block32_step<K, NA>(x[i], i, act, stride, prep, acc0, c0);
    block32_step<K, NA>(x[i + 1], i + 1, act, stride, prep, acc1, c1);
  }
  if (i < nb) block32_step<K, NA>(x[i], i, act, stride, prep, acc0, c0);
  for (int a = 0; a < NA; ++a) out[a] = hsum(_mm256_add_ps(acc0[a], acc1[a])) + (c0[a] + c1[a]);
}

// ---- F32 / F16 / BF16 rows against F32 activations (vector loads: quant_simd_float.hpp) ----

// R weight rows (ws bytes apart) x NA activation rows; out[r * NA + a]. Per (row, activation) the operations are
// the same whatever R and NA are (two accumulators over 2 x kLanes chunks, then the tails), so batched and
// single-token results are bit-identical.
// Pin: see below (by default, tiles pin and a single F32 row does not).
template <DType T, int R, int NA, bool Pin = (R * NA > 1 || T != DType::F32)>
void dot_float(int64_t n, const void* w, size_t ws, const uint8_t* act, size_t stride, float* out) {
  // Every loop over R and NA is unrolled in full, so the accumulator arrays live in registers: with one loop left
  // rolled (the reductions at the end, say) GCC kept them in memory and stored all of them in every iteration.
  const float* x[NA];
  const void* wr[R];
  VF acc0[R][NA], acc1[R][NA];
#pragma GCC unroll 8
  for (int a = 0; a < NA; ++a) x[a] = reinterpret_cast<const float*>(act + a * stride);
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
    wr[r] = static_cast<const uint8_t*>(w) + r * ws;
#pragma GCC unroll 8
    for (int a = 0; a < NA; ++a) acc0[r][a] = acc1[r][a] = vzero();
  }
  // Each chunk of kLanes elements: R weight vectors, then each activation vector is loaded once and serves the R rows
  // (2 * R * NA accumulators + R + 1 registers in flight).
  // Tiles pin the weight and activation vectors in registers (in_register): GCC would otherwise fold their loads into
  // every FMA that uses them, loading each once per use. A single F32 row (generation) streams faster with its loads
  // folded (BENCHMARKS.md); F16 rows stay pinned.
  constexpr bool kPin = Pin;
  int64_t i = 0;
  for (; i + 2 * kLanes <= n; i += 2 * kLanes) {
    VF wv[R];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) wv[r] = kPin ? in_register(load_w<T>(wr[r], i)) : load_w<T>(wr[r], i);
#pragma GCC unroll 8
    for (int a = 0; a < NA; ++a) {
      const VF xv = kPin ? in_register(load_x(x[a] + i)) : load_x(x[a] + i);
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) acc0[r][a] = vfma(wv[r], xv, acc0[r][a]);
    }
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) wv[r] = kPin ? in_register(load_w<T>(wr[r], i + kLanes)) : load_w<T>(wr[r], i + kLanes);
#pragma GCC unroll 8
    for (int a = 0; a < NA; ++a) {
      const VF xv = kPin ? in_register(load_x(x[a] + i + kLanes)) : load_x(x[a] + i + kLanes);
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) acc1[r][a] = vfma(wv[r], xv, acc1[r][a]);
    }
  }
  if (i + kLanes <= n) {
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const VF w0 = load_w<T>(wr[r], i);
#pragma GCC unroll 8
      for (int a = 0; a < NA; ++a) acc0[r][a] = vfma(w0, load_x(x[a] + i), acc0[r][a]);
    }
    i += kLanes;
  }
  if (kMaskedTail && i < n) {
    const int m = static_cast<int>(n - i);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const VF w0 = load_w_tail<T>(wr[r], i, m);
#pragma GCC unroll 8
      for (int a = 0; a < NA; ++a) acc1[r][a] = vfma(w0, load_x_tail(x[a] + i, m), acc1[r][a]);
    }
    i = n;
  }
  vsum_tile<R, NA>(acc0, acc1, out);  // four outputs at a time where there are four
  for (int r = 0; r < R; ++r)  // the scalar tail (AVX2: fewer than kLanes elements left)
    for (int a = 0; a < NA; ++a)
      for (int64_t k = i; k < n; ++k) out[r * NA + a] = std::fma(scalar_w<T>(wr[r], k), x[a][k], out[r * NA + a]);
}

// Float rows against a batch of activations: tiles of kTileR rows x kTileA activations (the widest that keeps every
// accumulator in a register: 2 x 4 x 3 + 4 + 1 of the 32 AVX-512 registers; with AVX2's 16, one of dot_float's two
// accumulators per output at a time, 4 x 3 + 3 + 1, in two passes over the tile's rows), over
// blocks of rows that stay in L1 while the activations stream past. Per output element the operations are those of
// dot_float<T, 1, 1> (the generation path), so results are bit-identical whatever the tile.
constexpr int kTileR = 4, kTileA = 3;  // AVX2: in two passes (quant_simd_float_split.hpp), to fit 16 registers
// F32 generation (one activation) takes this many weight rows at a time, loads folded into the FMAs as for one row;
// per row the operations are dot_float<F32, 1, 1>'s, so the bits are the same. Eight with AVX-512; with AVX2's 16
// registers four where the CPU's PrefetchPlan says (avx2_f32_groups: an Intel Xeon +10%, the Zen 5 25-50% slower
// than one), else one: the measured best of each (BENCHMARKS.md).
#if defined(__AVX512F__)
constexpr int kGenRowsF32 = 8;
constexpr bool kGenRowsByPlan = false;
#else
constexpr int kGenRowsF32 = 4;
constexpr bool kGenRowsByPlan = true;
#endif
template <DType T>
void float_batch(int64_t n, const uint8_t* w, size_t ws, int64_t n_rows, const uint8_t* act, size_t as, int n_act,
                 float* y, size_t ys) {
  for_each_block_tile<kTileR, kTileA>(w, n_rows, ws, 24576, n_act, y, ys, [&](auto R, auto NA, int64_t r, int k, float* out) {
#if defined(__AVX512F__)
    dot_float<T, R, NA>(n, w + r * ws, ws, act + k * as, as, out);
#else
    // A 4 x 3 tile keeping both of dot_float's accumulators of every output needs 24 of AVX2's 16 registers: the
    // split tile runs them one after the other (A/B: F32 pp128 t=2 ~15% less CPU than the 2 x 3 tile before).
    if constexpr (R == 1) dot_float<T, R, NA>(n, w + r * ws, ws, act + k * as, as, out);
    else dot_float_split<T, R, NA>(n, w + r * ws, ws, act + k * as, as, out);
#endif
  });
}

// Kernel adaptors (the interface of rows_impl, quant_simd_util.hpp).

template <typename K>
struct K32 {
  static constexpr bool kF32Rows = false;
  struct State {
    static constexpr size_t kStack = 2048;  // floats kept on the stack (2 per block and activation)
    float stack[kStack];
    Prep32 prep_stack[64];
    std::unique_ptr<float[]> heap;  // not std::vector<float>: its code is shared with other families (see below)
    std::unique_ptr<Prep32[]> prep_heap;
    Prep32* prep;
    State(const uint8_t* act, size_t stride, int n_act, int64_t n) {
      const int64_t nb = n / QK;
      float* store = stack;
      if (static_cast<size_t>(2 * nb * n_act) > kStack) {
        heap.reset(new float[static_cast<size_t>(2 * nb * n_act)]);
        store = heap.get();
      }
      prep = prep_stack;
      if (n_act > 64) {
        prep_heap.reset(new Prep32[static_cast<size_t>(n_act)]);
        prep = prep_heap.get();
      }
      prepare32<K>(act, stride, n_act, nb, store, prep);
    }
  };
  template <int NA>
  static void call(int64_t n, const void* w, const uint8_t* a, size_t s, float* o, const State& st, int k) {
    dot32<K, NA>(n / QK, w, a, s, st.prep + k, o);
  }
};
template <DType T>
struct KF {
  using State = NoState;
  // F32 rows hold twice the bytes per element: they prefetch every other line (F16/BF16 every line); see
  // PrefetchPlan and BENCHMARKS.md.
  static constexpr bool kF32Rows = T == DType::F32;
  static constexpr int kGenRows = kF32Rows ? kGenRowsF32 : 1;
  static constexpr bool kGenRowsByPlan = ::lmgen::simd::LMGEN_KERNEL_NS::kGenRowsByPlan;
  template <int NA>
  static void call(int64_t n, const void* w, const uint8_t* a, size_t s, float* o, const State&, int) {
    dot_float<T, 1, NA>(n, w, 0, a, s, o);
  }
  static void gen_rows(int64_t n, const uint8_t* w, size_t ws, const uint8_t* a, float* o) {
    dot_float<DType::F32, kGenRows, 1, false>(n, w, ws, a, 0, o);
  }
};

template <DType T>
bool float_rows(int64_t n, const uint8_t* w, size_t ws, int64_t n_rows, const uint8_t* act, size_t as, int n_act,
                float* y, size_t ys) {
  if (n_act == 1) rows_impl<KF<T>>(n, w, ws, n_rows, act, as, n_act, y, ys);
  else float_batch<T>(n, w, ws, n_rows, act, as, n_act, y, ys);
  return true;
}

}  // namespace

bool vec_dot_rows(DType t, int64_t n, const void* w, size_t ws, int64_t n_rows, const void* act, size_t as,
                  int n_act, float* y, size_t ys) {
  const auto* wp = static_cast<const uint8_t*>(w);
  const auto* ap = static_cast<const uint8_t*>(act);
  if (q0_rows(t, n, w, ws, n_rows, act, as, n_act, y, ys)) return true;
  if (lowbit_rows(t, n, w, ws, n_rows, act, as, n_act, y, ys)) return true;
  if (kquant_rows(t, n, w, ws, n_rows, act, as, n_act, y, ys)) return true;
  switch (t) {
    case DType::F32: return float_rows<DType::F32>(n, wp, ws, n_rows, ap, as, n_act, y, ys);
    case DType::F16: return float_rows<DType::F16>(n, wp, ws, n_rows, ap, as, n_act, y, ys);
    case DType::BF16: return float_rows<DType::BF16>(n, wp, ws, n_rows, ap, as, n_act, y, ys);
    case DType::Q4_1: rows_impl<K32<KQ4_1>>(n, wp, ws, n_rows, ap, as, n_act, y, ys); return true;
    case DType::Q5_1: rows_impl<K32<KQ5_1>>(n, wp, ws, n_rows, ap, as, n_act, y, ys); return true;
    default: return false;
  }
}

#else
#error "a kernel family needs at least AVX2, FMA and F16C (CMakeLists.txt sets each family's flags)"
#endif

}  // namespace lmgen::simd::LMGEN_KERNEL_NS
