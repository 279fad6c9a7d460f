// Internal: 16-float vectors for the forward pass's element-wise work (GCC/Clang vector extension: one AVX-512
// register where the build has it, otherwise pairs of AVX2 or quadruples of SSE registers), and e^x computed by
// one fixed sequence of IEEE operations, identical in its scalar and vector forms.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

// The functions are `static`: each file gets its own copy, compiled with its own flags (attention.cpp is compiled
// once per kernel family), never one shared copy.
namespace lmgen::vec {

constexpr int kW = 16;
using F16 = float __attribute__((vector_size(64)));
using I16 = int32_t __attribute__((vector_size(64)));

static inline F16 splat(float x) { return F16{} + x; }
static inline F16 load(const float* p) {
  F16 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
static inline void store(float* p, F16 v) { std::memcpy(p, &v, sizeof v); }
static inline F16 select(I16 mask, F16 a, F16 b) {  // mask lane -1: a, 0: b
  I16 ia, ib;
  std::memcpy(&ia, &a, sizeof a);
  std::memcpy(&ib, &b, sizeof b);
  const I16 r = (ia & mask) | (ib & ~mask);
  F16 out;
  std::memcpy(&out, &r, sizeof r);
  return out;
}
static inline F16 vmax(F16 a, F16 b) { return select(a < b, b, a); }  // as std::max(a, b)
static inline F16 vmin(F16 a, F16 b) { return select(b < a, b, a); }  // as std::min(a, b)
static inline float hmax(F16 v) {
  float m = v[0];
  for (int j = 1; j < kW; ++j) m = std::max(m, v[j]);
  return m;
}
// Sum of the 16 lanes in a fixed pairwise order.
static inline float hsum(F16 v) {
  float a[kW];
  store(a, v);
  for (int w = kW / 2; w >= 1; w /= 2)
    for (int j = 0; j < w; ++j) a[j] += a[j + w];
  return a[0];
}
// Lanes j < n: -1, others 0.
static inline I16 first_lanes(int n) {
  const I16 idx = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
  return idx < n;
}

// e^x: Cody-Waite range reduction + degree-6 polynomial (the classic Cephes expf coefficients; ~1 ulp).
// Rounding to the nearest integer is done by adding and subtracting 1.5 * 2^23 (exact for |x| < 2^22, and x is
// clamped to [-87, 88]), which is what nearbyint does in the default rounding mode.
static inline F16 exp16(F16 x) {
  x = vmin(vmax(x, splat(-87.0f)), splat(88.0f));
  const F16 magic = splat(12582912.0f);
  const F16 n = (x * 1.44269504088896341f + magic) - magic;
  F16 r = x - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  F16 p = splat(1.9875691500e-4f);
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  const I16 bits = (__builtin_convertvector(n, I16) + 127) << 23;
  F16 scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return p * scale;
}

// The scalar form is the vector form on one lane, so the two agree bit for bit by construction.
static inline float exp1(float x) { return exp16(splat(x))[0]; }

// a[i] = silu(a[i]) * b[i] = a[i] / (1 + e^-a[i]) * b[i].
static inline void silu_mul(float* a, const float* b, int64_t n) {
  int64_t i = 0;
  for (; i + kW <= n; i += kW) {
    const F16 x = load(a + i);
    store(a + i, x / (1.0f + exp16(-x)) * load(b + i));
  }
  for (; i < n; ++i) a[i] = a[i] / (1.0f + exp1(-a[i])) * b[i];
}

}  // namespace lmgen::vec
