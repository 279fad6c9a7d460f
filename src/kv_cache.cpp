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

      float* o = out + t * q_dim + h * D;
      std::fill_n(o, D, 0.0f);
      const float* vh = v_head(layer, kvh);
      for (int64_t p = 0; p < n_pos; ++p) {
        const float w = s[static_cast<size_t>(p)] * inv;
        const float* vp = vh + p * D;
        for (int64_t d = 0; d < D; ++d) o[d] += w * vp[d];
      }
    }
  });
}

}  // namespace lmgen
