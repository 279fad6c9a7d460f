// The KV cache and causal attention (layout in kv_cache.hpp).
#include "model/kv_cache.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/dispatch.hpp"
#include "lmgen/error.hpp"

namespace lmgen {

constexpr int64_t kW = simd::kKvBlock;  // positions per key block (the layout of kv_cache.hpp)

KvCache::KvCache(int64_t n_layer, int64_t n_ctx, int64_t n_head_kv, int64_t head_dim,
                 const std::vector<int64_t>& layer_window, int64_t max_chunk)
    : n_head_kv_(n_head_kv), hd_(head_dim), max_chunk_(std::max<int64_t>(1, max_chunk)) {
  const int64_t full_blk = (n_ctx + kW - 1) / kW;
  int64_t total = 0;
  for (int64_t l = 0; l < n_layer; ++l) {
    const int64_t w = layer_window.empty() ? 0 : layer_window[static_cast<size_t>(l)];
    // A chunk's first query reaches back w - 1 positions, rounded down to a block, and the chunk's last position
    // is stored before it reads: R slots keep all of them.
    const int64_t ring = w > 0 ? (w + max_chunk_ + kW - 2 + kW - 1) / kW * kW : 0;
    const bool use_ring = ring > 0 && 2 * ring < full_blk * kW;
    ring_.push_back(use_ring ? ring : 0);
    window_.push_back(use_ring ? w : 0);
    blk_.push_back(use_ring ? 2 * ring / kW : full_blk);
    off_.push_back(total);
    total += n_head_kv_ * blk_.back() * kW * hd_;
  }
  k_.reset(new float[static_cast<size_t>(total)]);
  v_.reset(new float[static_cast<size_t>(total)]);
}

void KvCache::store(int64_t layer, int64_t pos0, int64_t n, const float* k, const float* v) {
  const int64_t kv_dim = n_head_kv_ * hd_, ring = ring_[static_cast<size_t>(layer)];
  if (ring > 0 && n > max_chunk_)
    throw Error("KV cache: " + std::to_string(n) + " positions at once exceed the sliding-window ring's chunk of " +
                std::to_string(max_chunk_));
  for (int64_t h = 0; h < n_head_kv_; ++h) {
    float* kh = k_head(layer, h);
    float* vh = v_head(layer, h);
    for (int64_t t = 0; t < n; ++t) {
      const float* src_k = k + t * kv_dim + h * hd_;
      const float* src_v = v + t * kv_dim + h * hd_;
      const int64_t p = pos0 + t;
      for (int copy = 0; copy < (ring > 0 ? 2 : 1); ++copy) {
        const int64_t slot = ring > 0 ? p % ring + copy * ring : p;
        float* blk = kh + (slot / kW) * kW * hd_ + slot % kW;
        for (int64_t d = 0; d < hd_; ++d) blk[d * kW] = src_k[d];
        std::copy_n(src_v, hd_, vh + slot * hd_);
      }
    }
  }
}

bool KvCache::can_rewind(int64_t n_past, int64_t n) const {
  for (size_t l = 0; l < ring_.size(); ++l)
    if (ring_[l] > 0 && n > 0 && n < n_past && std::max<int64_t>(0, n - window_[l] - (kW - 2)) < n_past - ring_[l])
      return false;
  return true;
}

void KvCache::attend(int64_t layer, int64_t pos0, int64_t n, int64_t n_head, float scale, const float* q, float* out,
                     ThreadPool& pool, const AttnOptions& opt) const {
  const int64_t D = hd_, group = n_head / n_head_kv_, q_dim = n_head * D, ring = ring_[static_cast<size_t>(layer)];
  if (ring > 0 && opt.window != window_[static_cast<size_t>(layer)])
    throw Error("KV cache: a sliding-window layer read without its window");
  // Query heads that share a kv head are computed together (each key and value vector is loaded once for them);
  // groups larger than 8 are split into runs of G heads.
  // (Small heads, D < 32, stay one head per task: their loads are few and stories260K measured faster so.)
  int64_t G = D < 32 ? 1 : group;
  while (G > 8) G = G % 2 == 0 ? G / 2 : 1;
  const simd::AttendGroupFn fn = simd::attend_group_kernel(simd::active_isa(), static_cast<int>(G));
  const int64_t runs = n_head / G;  // tasks per query token
  // Small problems (tiny models, short contexts) run on the calling thread: a wake-up costs more than the work.
  const int64_t work = n * n_head * (pos0 + n) * D;
  const int64_t grain = work < (1 << 16) ? n * runs : 1;
  // A query token's work grows with its position, so the tokens are dealt in the order 0, n-1, 1, n-2, ...: any
  // run of whole pairs then holds the same work, and the pool's equal ranges of tasks stay balanced (in token
  // order, the last of two threads had three quarters of a prompt's attention).
  const auto token = [n](int64_t i) { return i % 2 == 0 ? i / 2 : n - 1 - i / 2; };
  pool.parallel_for(n * runs, grain, [&](int64_t begin, int64_t end) {
    std::vector<float> s(static_cast<size_t>(G * ((pos0 + n + kW - 1) / kW * kW)));
    for (int64_t task = begin; task < end; ++task) {
      const int64_t t = token(task / runs), h0 = (task % runs) * G, kvh = h0 / group;
      const int64_t n_pos = pos0 + t + 1, lo = opt.window > 0 ? std::max<int64_t>(0, n_pos - opt.window) : 0;
      fn(q + t * q_dim + h0 * D, k_head(layer, kvh), v_head(layer, kvh), D, n_pos, lo, ring, opt.softcap, scale,
         s.data(), out + t * q_dim + h0 * D);
    }
  });
}

}  // namespace lmgen
