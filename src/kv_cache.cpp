// The KV cache and causal attention (layout in kv_cache.hpp).
#include "kv_cache.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "vecmath.hpp"

namespace lmgen {

using vec::F16;
using vec::kW;

KvCache::KvCache(int64_t n_layer, int64_t n_ctx, int64_t n_head_kv, int64_t head_dim)
    : n_ctx_(n_ctx), n_blk_((n_ctx + kW - 1) / kW), n_head_kv_(n_head_kv), hd_(head_dim) {
  layer_floats_ = n_head_kv_ * n_blk_ * kW * hd_;
  const size_t total = static_cast<size_t>(n_layer * layer_floats_);
  k_.reset(new float[total]);
  v_.reset(new float[total]);
}

void KvCache::store(int64_t layer, int64_t pos0, int64_t n, const float* k, const float* v) {
  const int64_t kv_dim = n_head_kv_ * hd_;
  for (int64_t h = 0; h < n_head_kv_; ++h) {
    float* kh = const_cast<float*>(k_head(layer, h));
    float* vh = const_cast<float*>(v_head(layer, h));
    for (int64_t t = 0; t < n; ++t) {
      const int64_t p = pos0 + t;
      const float* src_k = k + t * kv_dim + h * hd_;
      float* blk = kh + (p / kW) * kW * hd_ + p % kW;
      for (int64_t d = 0; d < hd_; ++d) blk[d * kW] = src_k[d];
      std::copy_n(v + t * kv_dim + h * hd_, hd_, vh + p * hd_);
    }
  }
}

namespace {

// Scores of query q (D elements) against the 16-position key blocks [b0, b1): s[16 b + j] = (q . k_p) * scale.
// Four blocks are in flight at once; each lane sums over d in order, so a score does not depend on its neighbours.
void block_scores(const float* q, const float* kh, int64_t D, int64_t b0, int64_t b1, float scale, float* s) {
  int64_t b = b0;
  for (; b + 4 <= b1; b += 4) {
    const float* k0 = kh + b * kW * D;
    F16 a0{}, a1{}, a2{}, a3{};
    for (int64_t d = 0; d < D; ++d) {
      const F16 qd = vec::splat(q[d]);
      a0 += qd * vec::load(k0 + d * kW);
      a1 += qd * vec::load(k0 + (D + d) * kW);
      a2 += qd * vec::load(k0 + (2 * D + d) * kW);
      a3 += qd * vec::load(k0 + (3 * D + d) * kW);
    }
    vec::store(s + b * kW, a0 * scale);
    vec::store(s + (b + 1) * kW, a1 * scale);
    vec::store(s + (b + 2) * kW, a2 * scale);
    vec::store(s + (b + 3) * kW, a3 * scale);
  }
  for (; b < b1; ++b) {
    const float* k0 = kh + b * kW * D;
    F16 a0{};
    for (int64_t d = 0; d < D; ++d) a0 += vec::splat(q[d]) * vec::load(k0 + d * kW);
    vec::store(s + b * kW, a0 * scale);
  }
}

// weighted_values for D = 16 C: C independent accumulators per position (one chain each would be latency-bound).
template <int C>
void values_chunks(const float* e, float inv, const float* vh, int64_t n_pos, float* o) {
  F16 acc[C] = {};
  for (int64_t p = 0; p < n_pos; ++p) {
    const F16 w = vec::splat(e[p] * inv);
    for (int c = 0; c < C; ++c) acc[c] += w * vec::load(vh + (p * C + c) * kW);
  }
  for (int c = 0; c < C; ++c) vec::store(o + c * kW, acc[c]);
}

// o[d] = sum over p < n_pos, in order, of (e[p] * inv) * v[p][d], accumulated in registers.
void weighted_values(const float* e, float inv, const float* vh, int64_t D, int64_t n_pos, float* o) {
  if (D % kW == 0 && D <= 8 * kW) {
    switch (D / kW) {
      case 1: return values_chunks<1>(e, inv, vh, n_pos, o);
      case 2: return values_chunks<2>(e, inv, vh, n_pos, o);
      case 3: return values_chunks<3>(e, inv, vh, n_pos, o);
      case 4: return values_chunks<4>(e, inv, vh, n_pos, o);
      case 5: return values_chunks<5>(e, inv, vh, n_pos, o);
      case 6: return values_chunks<6>(e, inv, vh, n_pos, o);
      case 7: return values_chunks<7>(e, inv, vh, n_pos, o);
      default: return values_chunks<8>(e, inv, vh, n_pos, o);
    }
  } else if (kW % D == 0) {
    // Small heads (D = 1, 2, 4, 8): one vector holds P = 16 / D consecutive positions; lane group g sums the
    // positions p = g (mod P), and the groups are added in order at the end.
    const int64_t P = kW / D;
    vec::I16 group;  // lane -> its position within the vector
    for (int j = 0; j < kW; ++j) group[j] = static_cast<int32_t>(j / D);
    F16 acc{};
    int64_t p = 0;
    for (; p + P <= n_pos; p += P) {
      F16 w;
      for (int j = 0; j < kW; ++j) w[j] = e[p + j / D] * inv;
      acc += w * vec::load(vh + p * D);
    }
    if (p < n_pos) {  // the rows past n_pos were never written: keep them out by selection, not by a 0 weight
      const vec::I16 valid = group < static_cast<int32_t>(n_pos - p);
      F16 w;
      for (int j = 0; j < kW; ++j) w[j] = valid[j] ? e[p + j / D] * inv : 0.0f;
      acc += vec::select(valid, w * vec::load(vh + p * D), F16{});
    }
    for (int64_t d = 0; d < D; ++d) {
      float sum = acc[d];
      for (int64_t g = 1; g < P; ++g) sum += acc[g * D + d];
      o[d] = sum;
    }
  } else {
    for (int64_t d = 0; d < D; ++d) {
      float acc = 0;
      for (int64_t p = 0; p < n_pos; ++p) acc += (e[p] * inv) * vh[p * D + d];
      o[d] = acc;
    }
  }
}

}  // namespace

void KvCache::attend(int64_t layer, int64_t pos0, int64_t n, int64_t n_head, float scale, const float* q, float* out,
                     ThreadPool& pool) const {
  const int64_t D = hd_, group = n_head / n_head_kv_, q_dim = n_head * D;
  // Small problems (tiny models, short contexts) run on the calling thread: a wake-up costs more than the work.
  const int64_t work = n * n_head * (pos0 + n) * D;
  const int64_t grain = work < (1 << 16) ? n * n_head : 1;
  pool.parallel_for(n * n_head, grain, [&](int64_t begin, int64_t end) {
    std::vector<float> s(static_cast<size_t>((pos0 + n + kW - 1) / kW * kW));
    for (int64_t task = begin; task < end; ++task) {
      const int64_t t = task / n_head, h = task % n_head, kvh = h / group;
      const int64_t n_pos = pos0 + t + 1, n_blk = (n_pos + kW - 1) / kW, tail = n_pos - (n_blk - 1) * kW;
      block_scores(q + t * q_dim + h * D, k_head(layer, kvh), D, 0, n_blk, scale, s.data());

      // Softmax over the n_pos scores; the lanes past n_pos (unwritten cache) are replaced before any use.
      float* last = s.data() + (n_blk - 1) * kW;
      vec::store(last, vec::select(vec::first_lanes(static_cast<int>(tail)), vec::load(last), vec::splat(-INFINITY)));
      F16 mx = vec::splat(-INFINITY);
      for (int64_t b = 0; b < n_blk; ++b) mx = vec::vmax(mx, vec::load(s.data() + b * kW));
      const float m = vec::hmax(mx);
      F16 sum{};
      for (int64_t b = 0; b < n_blk; ++b) {
        F16 e = vec::exp16(vec::load(s.data() + b * kW) - m);
        if (b == n_blk - 1) e = vec::select(vec::first_lanes(static_cast<int>(tail)), e, F16{});
        vec::store(s.data() + b * kW, e);
        sum += e;
      }
      const float inv = 1.0f / vec::hsum(sum);

      weighted_values(s.data(), inv, v_head(layer, kvh), D, n_pos, out + t * q_dim + h * D);
    }
  });
}

}  // namespace lmgen
