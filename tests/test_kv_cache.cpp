// KvCache (src/kv_cache.cpp) against a naive double-precision causal attention, on every code path of the kernel
// (head sizes from 2 to 128, grouped and single heads, value sums in chunks, packed or scalar), and its
// determinism: the same bits whatever the chunking and the thread count.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "model/kv_cache.hpp"
#include "kernels/threads.hpp"

namespace {

using lmgen::KvCache;
using lmgen::ThreadPool;

struct Shape {
  int64_t n_head, n_head_kv, D;
};

std::string name(const Shape& s) {
  return std::to_string(s.n_head) + " heads / " + std::to_string(s.n_head_kv) + " kv heads x " + std::to_string(s.D);
}

std::vector<float> randn(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::vector<float> v(n);
  for (auto& x : v) x = nd(rng);
  return v;
}

// out[t][h] = softmax over p <= t of (q_t,h . k_p,kvh) * scale, applied to v_p,kvh; in double.
std::vector<double> reference(const Shape& s, int64_t T, const std::vector<float>& q, const std::vector<float>& k,
                              const std::vector<float>& v, float scale) {
  const int64_t D = s.D, group = s.n_head / s.n_head_kv, qd = s.n_head * D, kvd = s.n_head_kv * D;
  std::vector<double> out(static_cast<size_t>(T * qd));
  for (int64_t t = 0; t < T; ++t)
    for (int64_t h = 0; h < s.n_head; ++h) {
      const int64_t kvh = h / group;
      std::vector<double> w(static_cast<size_t>(t + 1));
      double mx = -INFINITY;
      for (int64_t p = 0; p <= t; ++p) {
        double dot = 0;
        for (int64_t d = 0; d < D; ++d) dot += double(q[t * qd + h * D + d]) * k[p * kvd + kvh * D + d];
        w[p] = dot * scale;
        mx = std::max(mx, w[p]);
      }
      double sum = 0;
      for (auto& x : w) sum += (x = std::exp(x - mx));
      for (int64_t d = 0; d < D; ++d) {
        double o = 0;
        for (int64_t p = 0; p <= t; ++p) o += w[p] / sum * v[p * kvd + kvh * D + d];
        out[t * qd + h * D + d] = o;
      }
    }
  return out;
}

// Stores T tokens into layer 1 of a 2-layer cache in chunks of `chunk` and attends each chunk's queries.
std::vector<float> run(const Shape& s, int64_t T, int64_t chunk, int threads, const std::vector<float>& q,
                       const std::vector<float>& k, const std::vector<float>& v, float scale) {
  const int64_t qd = s.n_head * s.D, kvd = s.n_head_kv * s.D;
  KvCache cache(2, 64, s.n_head_kv, s.D);
  ThreadPool pool(threads);
  std::vector<float> out(static_cast<size_t>(T * qd));
  for (int64_t t0 = 0; t0 < T; t0 += chunk) {
    const int64_t n = std::min(chunk, T - t0);
    cache.store(1, t0, n, k.data() + t0 * kvd, v.data() + t0 * kvd);
    cache.attend(1, t0, n, s.n_head, scale, q.data() + t0 * qd, out.data() + t0 * qd, pool);
  }
  return out;
}

// Random queries, keys and values of T tokens for shape s.
struct Inputs {
  std::vector<float> q, k, v;
  float scale;
  Inputs(const Shape& s, int64_t T, uint32_t seed)
      : q(randn(static_cast<size_t>(T * s.n_head * s.D), seed)),
        k(randn(static_cast<size_t>(T * s.n_head_kv * s.D), seed + 1)),
        v(randn(static_cast<size_t>(T * s.n_head_kv * s.D), seed + 2)),
        scale(1.0f / std::sqrt(static_cast<float>(s.D))) {}
};

const Shape kShapes[] = {
    {9, 3, 64},   // SmolLM2: grouped, scores and values of 3 heads together
    {32, 4, 64},  // TinyLlama: groups of 8, values per head
    {4, 2, 128},  // grouped, 8 value chunks
    {6, 2, 48},   // 3 value chunks (per head)
    {4, 4, 16},   // no grouping, one chunk
    {8, 4, 8},    // stories260K: small heads, 2 positions per vector
    {4, 2, 4},    // 4 positions per vector
    {2, 1, 2},    // 8 positions per vector
    {2, 1, 40},   // neither a multiple nor a divisor of 16: scalar value sums
};

TEST(KvCache, MatchesNaiveAttention) {
  const int64_t T = 37;  // two full 16-position blocks and a partial one
  for (const Shape& s : kShapes) {
    SCOPED_TRACE(name(s));
    const Inputs in(s, T, 1);
    const auto ref = reference(s, T, in.q, in.k, in.v, in.scale);
    const auto got = run(s, T, T, 2, in.q, in.k, in.v, in.scale);
    double worst = 0;
    for (size_t i = 0; i < ref.size(); ++i) worst = std::max(worst, std::fabs(got[i] - ref[i]));
    EXPECT_LT(worst, 2e-5);
  }
}

TEST(KvCache, SameBitsForAnyChunkingAndThreadCount) {
  const int64_t T = 37;
  for (const Shape& s : kShapes) {
    SCOPED_TRACE(name(s));
    const Inputs in(s, T, 4);
    const auto base = run(s, T, T, 1, in.q, in.k, in.v, in.scale);
    for (int threads : {1, 2, 3})
      for (int64_t chunk : {int64_t{1}, int64_t{5}, int64_t{16}, T}) {
        const auto got = run(s, T, chunk, threads, in.q, in.k, in.v, in.scale);
        EXPECT_EQ(std::memcmp(got.data(), base.data(), base.size() * sizeof(float)), 0)
            << "threads " << threads << " chunk " << chunk;
      }
  }
}

// Sliding window + soft-cap: naive attention over positions t - window + 1 .. t with capped scores, in double.
std::vector<double> reference_window(const Shape& s, int64_t T, const Inputs& in, int64_t window, float cap) {
  const int64_t D = s.D, group = s.n_head / s.n_head_kv, qd = s.n_head * D, kvd = s.n_head_kv * D;
  std::vector<double> out(static_cast<size_t>(T * qd));
  for (int64_t t = 0; t < T; ++t)
    for (int64_t h = 0; h < s.n_head; ++h) {
      const int64_t kvh = h / group, lo = std::max<int64_t>(0, t - window + 1);
      std::vector<double> w;
      double mx = -INFINITY;
      for (int64_t p = lo; p <= t; ++p) {
        double dot = 0;
        for (int64_t d = 0; d < D; ++d) dot += double(in.q[t * qd + h * D + d]) * in.k[p * kvd + kvh * D + d];
        dot *= in.scale;
        if (cap > 0) dot = cap * std::tanh(dot / cap);
        w.push_back(dot);
        mx = std::max(mx, dot);
      }
      double sum = 0;
      for (auto& x : w) sum += (x = std::exp(x - mx));
      for (int64_t d = 0; d < D; ++d) {
        double o = 0;
        for (int64_t p = lo; p <= t; ++p) o += w[p - lo] / sum * in.v[p * kvd + kvh * D + d];
        out[t * qd + h * D + d] = o;
      }
    }
  return out;
}

// Layer 0 of a cache of n_ctx positions whose layer 0 slides with `window` (a ring when that is smaller).
std::vector<float> run_window(const Shape& s, int64_t T, int64_t n_ctx, int64_t chunk, const Inputs& in,
                              int64_t window, float cap, int64_t* positions = nullptr) {
  const int64_t qd = s.n_head * s.D, kvd = s.n_head_kv * s.D;
  KvCache cache(2, n_ctx, s.n_head_kv, s.D, {window, 0}, chunk);
  if (positions) *positions = cache.layer_positions(0);
  ThreadPool pool(2);
  lmgen::AttnOptions opt;
  opt.window = window;
  opt.softcap = cap;
  std::vector<float> out(static_cast<size_t>(T * qd));
  for (int64_t t0 = 0; t0 < T; t0 += chunk) {
    const int64_t n = std::min(chunk, T - t0);
    cache.store(0, t0, n, in.k.data() + t0 * kvd, in.v.data() + t0 * kvd);
    cache.attend(0, t0, n, s.n_head, in.scale, in.q.data() + t0 * qd, out.data() + t0 * qd, pool, opt);
  }
  return out;
}

TEST(KvCache, SlidingWindowMatchesNaiveAndRingEqualsFullCache) {
  const int64_t T = 300, window = 8;
  for (const Shape& s : kShapes) {
    SCOPED_TRACE(name(s));
    const Inputs in(s, T, 7);
    for (float cap : {0.0f, 1.5f}) {
      const auto ref = reference_window(s, T, in, window, cap);
      int64_t full_pos = 0;
      const auto full = run_window(s, T, T, T, in, window, cap, &full_pos);  // one chunk: no ring
      EXPECT_GE(full_pos, T);
      double worst = 0;
      for (size_t i = 0; i < ref.size(); ++i) worst = std::max(worst, std::fabs(full[i] - ref[i]));
      EXPECT_LT(worst, 2e-5) << "cap " << cap;
      for (int64_t chunk : {int64_t{1}, int64_t{5}, int64_t{16}}) {
        int64_t ring_pos = 0;
        const auto ring = run_window(s, T, T, chunk, in, window, cap, &ring_pos);
        EXPECT_LT(ring_pos, T) << "chunk " << chunk;  // the ring is in use
        EXPECT_EQ(std::memcmp(ring.data(), full.data(), full.size() * sizeof(float)), 0) << "chunk " << chunk;
      }
    }
  }
}

// The memory of a sliding layer depends on the window and the chunk size, not on the context length.
TEST(KvCache, SlidingLayerHoldsTheWindowNotTheContext) {
  for (int64_t n_ctx : {int64_t{4096}, int64_t{1} << 20}) {
    KvCache cache(2, n_ctx, 2, 16, {8, 0}, 1);
    // window 8 + chunk 1 + block rounding (14) -> a ring of 32 positions, stored twice.
    EXPECT_EQ(cache.layer_positions(0), 64);
    EXPECT_EQ(cache.layer_positions(1), n_ctx);
    EXPECT_TRUE(cache.can_rewind(100, 95));
    EXPECT_FALSE(cache.can_rewind(100, 50));
    EXPECT_TRUE(cache.can_rewind(100, 0));  // back to the start: nothing is needed
  }
}

}  // namespace
