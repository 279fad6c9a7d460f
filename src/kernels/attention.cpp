// The attention arithmetic over the KV cache's layout (kv_cache.hpp): scores, softmax and weighted values of a
// group of query heads. Compiled once per kernel family (CMakeLists.txt, like quant_dot_simd.cpp) and once for
// the portable baseline ("scalar"): the 16-float vectors of vecmath.hpp become one AVX-512 register, two AVX2 ones
// or four SSE ones. GCC contracts a * b + c into one fused multiply-add where the family has FMA, so the families
// agree within float rounding (each is deterministic: the same bits for any thread count and chunking).
#include "kernels/attention.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <type_traits>

#include "kernels/vecmath.hpp"

namespace lmgen::simd::LMGEN_KERNEL_NS {

using vec::F16;
using vec::kW;
static_assert(kW == kKvBlock, "a 16-float vector holds the positions of one key block of the cache's layout");

namespace {

// The scores and weighted values run on the family's own register width (V: 16 floats with AVX-512, 8 with AVX2),
// not on the 16-float vectors of vecmath.hpp: under AVX2, GCC lowers those through the stack (a broadcast becomes 16
// scalar stores; BENCHMARKS.md, "Measurements behind code choices", has what that cost). A 16-position key block is
// kSub registers side by side.
#if defined(__AVX512F__)
constexpr int kV = 16, kRegs = 32;
#else
constexpr int kV = 8, kRegs = 16;
#endif
using V = float __attribute__((vector_size(kV * sizeof(float))));
constexpr int kSub = kW / kV;
inline V vload(const float* p) {
  V v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline void vstore(float* p, V v) { std::memcpy(p, &v, sizeof v); }
inline V vsplat(float x) { return V{} + x; }

// Key vectors in flight for G heads: G x NV accumulators + NV keys + a broadcast query element in registers.
template <int G>
constexpr int score_vectors() {
  if constexpr (kV == 16) return G <= 2 ? 4 : G <= 4 ? 2 : 1;
  return std::clamp((kRegs - 1) / (G + 1), 1, 8);
}
// G heads x C value vectors fit as accumulators beside G weights and a value vector.
constexpr bool values_fit(int G, int C) { return G * C + G + 1 <= kRegs && G * C <= 16; }
// Value vectors per pass of a single head (weighted_values).
constexpr int kValueChunk = 8;

// Scores of G query heads (q + g D, D elements each) against the 16-position key blocks [0, n_blk) of one kv head:
// s[g * ss + 16 b + j] = (q_g . k_p) * scale. Each key vector is loaded once for the G heads that share it
// (grouped-query attention); NV vectors are in flight. Every lane sums over d in order, so a score depends neither on
// its neighbours nor on G or NV.
template <int G>
void block_scores(const float* q, const float* kh, int64_t D, int64_t n_blk, float scale, float* s, int64_t ss) {
  // Vector i holds lanes (i % kSub) * kV.. of key block i / kSub, whose element d is at kW * (D * block + d).
  auto key = [&](int64_t i) { return kh + (i / kSub) * kW * D + (i % kSub) * kV; };
  auto run = [&](auto NVC, int64_t i) {
    constexpr int NV = decltype(NVC)::value;
    const float* k[NV];
    for (int j = 0; j < NV; ++j) k[j] = key(i + j);
    V acc[G][NV] = {};
    for (int64_t d = 0; d < D; ++d) {
      V kv[NV];
      for (int j = 0; j < NV; ++j) kv[j] = vload(k[j] + d * kW);
      for (int g = 0; g < G; ++g) {
        const V qd = vsplat(q[g * D + d]);
        for (int j = 0; j < NV; ++j) acc[g][j] += qd * kv[j];
      }
    }
    for (int g = 0; g < G; ++g)
      for (int j = 0; j < NV; ++j) vstore(s + g * ss + (i + j) * kV, acc[g][j] * scale);
  };
  constexpr int NV = score_vectors<G>();
  const int64_t n_vec = n_blk * kSub;
  int64_t i = 0;
  for (; i + NV <= n_vec; i += NV) run(std::integral_constant<int, NV>{}, i);
  for (; i < n_vec; ++i) run(std::integral_constant<int, 1>{}, i);
}

// weighted_values for C value vectors (kV dimensions each; value rows vs floats apart) and G heads sharing the
// values: G x C independent accumulators, each value vector loaded once. Per head and dimension the sum runs over
// p in order (as in every other path).
template <int G, int C>
void values_chunks(const float* e, int64_t es, const float* inv, const float* vh, int64_t vs, int64_t n_pos,
                   float* o, int64_t os) {
  V acc[G][C] = {};
  for (int64_t p = 0; p < n_pos; ++p) {
    V w[G];
    for (int g = 0; g < G; ++g) w[g] = vsplat(e[g * es + p] * inv[g]);
    for (int c = 0; c < C; ++c) {
      const V v = vload(vh + p * vs + c * kV);
      for (int g = 0; g < G; ++g) acc[g][c] += w[g] * v;
    }
  }
  for (int g = 0; g < G; ++g)
    for (int c = 0; c < C; ++c) vstore(o + g * os + c * kV, acc[g][c]);
}

// weighted_values for small heads (D = 2, 4, 8): one vector holds P = 16 / D consecutive positions; lane group g
// sums the positions p = g (mod P), and the groups are added in order at the end.
template <int D>
void values_packed(const float* e, float inv, const float* vh, int64_t n_pos, float* o) {
  constexpr int P = kW / D;
  vec::I16 group;  // lane -> its position within the vector
  for (int j = 0; j < kW; ++j) group[j] = j / D;
  F16 acc{};
  int64_t p = 0;
  for (; p + P <= n_pos; p += P) {
    F16 ep = vec::splat(e[p]);  // lane j <- e[p + j / D], by broadcasts and selects (no store/reload)
    for (int g = 1; g < P; ++g) ep = vec::select(group == g, vec::splat(e[p + g]), ep);
    acc += (ep * inv) * vec::load(vh + p * D);
  }
  if (p < n_pos) {  // the rows past n_pos were never written: keep them out by selection, not by a 0 weight
    const vec::I16 valid = group < static_cast<int32_t>(n_pos - p);
    F16 w;
    for (int j = 0; j < kW; ++j) w[j] = e[p + j / D] * inv;  // e is 0 past n_pos within its block
    acc += vec::select(valid, w * vec::load(vh + p * D), F16{});
  }
  for (int d = 0; d < D; ++d) {
    float sum = acc[d];
    for (int g = 1; g < P; ++g) sum += acc[g * D + d];
    o[d] = sum;
  }
}

// o[d] = sum over p < n_pos, in order, of (e[p] * inv) * v[p][d], accumulated in registers.
void weighted_values(const float* e, float inv, const float* vh, int64_t D, int64_t n_pos, float* o) {
  if (D % kV == 0) {
    for (int64_t c = 0; c < D / kV; c += kValueChunk) {  // kValueChunk vectors per pass
      const float* v = vh + c * kV;
      float* out = o + c * kV;
      switch (std::min<int64_t>(kValueChunk, D / kV - c)) {
        case 1: values_chunks<1, 1>(e, 0, &inv, v, D, n_pos, out, 0); break;
        case 2: values_chunks<1, 2>(e, 0, &inv, v, D, n_pos, out, 0); break;
        case 3: values_chunks<1, 3>(e, 0, &inv, v, D, n_pos, out, 0); break;
        case 4: values_chunks<1, 4>(e, 0, &inv, v, D, n_pos, out, 0); break;
        case 5: values_chunks<1, 5>(e, 0, &inv, v, D, n_pos, out, 0); break;
        case 6: values_chunks<1, 6>(e, 0, &inv, v, D, n_pos, out, 0); break;
        case 7: values_chunks<1, 7>(e, 0, &inv, v, D, n_pos, out, 0); break;
        default: values_chunks<1, kValueChunk>(e, 0, &inv, v, D, n_pos, out, 0); break;
      }
    }
  } else if (D == 8) {
    values_packed<8>(e, inv, vh, n_pos, o);
  } else if (D == 4) {
    values_packed<4>(e, inv, vh, n_pos, o);
  } else if (D == 2) {
    values_packed<2>(e, inv, vh, n_pos, o);
  } else {
    for (int64_t d = 0; d < D; ++d) {
      float acc = 0;
      for (int64_t p = 0; p < n_pos; ++p) acc += (e[p] * inv) * vh[p * D + d];
      o[d] = acc;
    }
  }
}

// Softmax in place over the n_pos scores of one head (s holds whole 16-lane blocks); returns 1 / sum. The lanes
// past n_pos (unwritten cache) and the first `skip` lanes (before a sliding window) are replaced before any use.
float softmax_blocks(float* s, int64_t n_pos, int skip) {
  const int64_t n_blk = (n_pos + kW - 1) / kW;
  const auto valid = vec::first_lanes(static_cast<int>(n_pos - (n_blk - 1) * kW));
  const auto before = vec::first_lanes(skip);  // all-zero when skip == 0
  float* last = s + (n_blk - 1) * kW;
  vec::store(last, vec::select(valid, vec::load(last), vec::splat(-INFINITY)));
  vec::store(s, vec::select(before, vec::splat(-INFINITY), vec::load(s)));
  F16 mx = vec::splat(-INFINITY);
  for (int64_t b = 0; b < n_blk; ++b) mx = vec::vmax(mx, vec::load(s + b * kW));
  const float m = vec::hmax(mx);
  F16 sum{};
  for (int64_t b = 0; b < n_blk; ++b) {
    F16 e = vec::exp16(vec::load(s + b * kW) - m);
    if (b == n_blk - 1) e = vec::select(valid, e, F16{});
    if (b == 0) e = vec::select(before, F16{}, e);
    vec::store(s + b * kW, e);
    sum += e;
  }
  return 1.0f / vec::hsum(sum);
}

// Attention of the G query heads of one kv head for one query: q, o = [G, D] (consecutive heads). Positions
// before `lo` (a sliding window's start) are skipped whole blocks at a time and masked within the first block.
template <int G>
void attend_group(const float* q, const float* kh, const float* vh, int64_t D, int64_t n_pos, int64_t lo,
                  int64_t ring, float softcap, float scale, float* s, float* o) {
  const int64_t p0 = lo / kW * kW;  // first block read; in a ring, positions p0.. are contiguous from p0 % ring
  kh += (ring > 0 ? p0 % ring : p0) * D;
  vh += (ring > 0 ? p0 % ring : p0) * D;
  n_pos -= p0;
  const int skip = static_cast<int>(lo - p0);
  const int64_t n_blk = (n_pos + kW - 1) / kW, ss = n_blk * kW;
  block_scores<G>(q, kh, D, n_blk, scale, s, ss);
  if (softcap > 0.0f)  // cap * tanh(score / cap), before the mask (lanes past n_pos are replaced afterwards)
    for (int64_t i = 0; i < G * ss; ++i) s[i] = softcap * std::tanh(s[i] / softcap);
  float inv[G];
  for (int g = 0; g < G; ++g) inv[g] = softmax_blocks(s + g * ss, n_pos, skip);
  if (D % kV == 0) {
    switch (D / kV) {
      case 1: if constexpr (values_fit(G, 1)) return values_chunks<G, 1>(s, ss, inv, vh, D, n_pos, o, D); break;
      case 2: if constexpr (values_fit(G, 2)) return values_chunks<G, 2>(s, ss, inv, vh, D, n_pos, o, D); break;
      case 4: if constexpr (values_fit(G, 4)) return values_chunks<G, 4>(s, ss, inv, vh, D, n_pos, o, D); break;
      case 8: if constexpr (values_fit(G, 8)) return values_chunks<G, 8>(s, ss, inv, vh, D, n_pos, o, D); break;
      case 16: if constexpr (values_fit(G, 16)) return values_chunks<G, 16>(s, ss, inv, vh, D, n_pos, o, D); break;
      default: break;
    }
  }
  for (int g = 0; g < G; ++g) weighted_values(s + g * ss, inv[g], vh, D, n_pos, o + g * D);
}

}  // namespace

AttendGroupFn attend_group_fn(int g) {
  static constexpr AttendGroupFn kFns[8] = {attend_group<1>, attend_group<2>, attend_group<3>, attend_group<4>,
                                            attend_group<5>, attend_group<6>, attend_group<7>, attend_group<8>};
  return kFns[std::clamp(g, 1, 8) - 1];
}

}  // namespace lmgen::simd::LMGEN_KERNEL_NS
