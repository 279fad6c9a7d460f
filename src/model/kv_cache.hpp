// Internal: the KV cache and causal attention over it (kv_cache.cpp).
//
// Layout, per layer and kv head h (head_dim D, positions p):
//   K: blocks of 16 positions (simd::kKvBlock, kernels/dispatch.hpp), transposed: K[h][p / 16][d][p % 16]. The
//      scores of 16 positions are then D multiply-adds of 16-wide vectors (no horizontal sums), which is what makes
//      tiny heads (D = 8) fast.
//   V: by position: V[h][p][d] (each head's rows padded to a whole number of 16-position blocks).
// Sliding-window layers (a window w given at construction) keep a ring of R = w + max_chunk + 14 positions (rounded
// up to 16), stored twice — position p at slots p % R and p % R + R — so the positions a query reads are always
// one contiguous run: memory grows with the window, not with the context, and the arithmetic is exactly that of a
// full cache with the window mask.
// The storage is left uninitialised (untouched positions cost no memory); lanes past the last written position are
// never let into a result.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "kernels/dispatch.hpp"
#include "kernels/threads.hpp"

namespace lmgen {

struct AttnOptions {
  int64_t window = 0;    // > 0: a query at position p sees positions p - window + 1 .. p only (sliding window)
  float softcap = 0.0f;  // > 0: scores become softcap * tanh(score / softcap) before the mask
};

class KvCache {
 public:
  // layer_window (empty, or one entry per layer): > 0 makes that layer a sliding-window ring (see above) when that
  // is smaller than n_ctx; store() then takes at most max_chunk positions at a time.
  KvCache(int64_t n_layer, int64_t n_ctx, int64_t n_head_kv, int64_t head_dim,
          const std::vector<int64_t>& layer_window = {}, int64_t max_chunk = 1);

  // True if, with positions 0 .. n_past-1 stored, the cache can continue at position n <= n_past: a ring has
  // overwritten positions that long ago.
  bool can_rewind(int64_t n_past, int64_t n) const;

  // Positions a layer's storage holds (per kv head).
  int64_t layer_positions(int64_t layer) const { return blk_[static_cast<size_t>(layer)] * simd::kKvBlock; }

  // Writes the keys and values of positions pos0 .. pos0+n-1; k and v are [n, n_head_kv * head_dim].
  void store(int64_t layer, int64_t pos0, int64_t n, const float* k, const float* v);

  // out[t] = softmax(q[t] K^T * scale over positions 0 .. pos0+t) V for each query head (grouped-query: head h
  // reads kv head h / (n_head / n_head_kv)); q and out are [n, n_head * head_dim]. Every output depends only on its
  // own query and positions, in a fixed order: not on n, on the chunking or on the thread count.
  // With opt.window, positions before the window are neither read nor weighted. A ring layer needs opt.window
  // equal to its window.
  void attend(int64_t layer, int64_t pos0, int64_t n, int64_t n_head, float scale, const float* q, float* out,
              ThreadPool& pool, const AttnOptions& opt = {}) const;

 private:
  int64_t n_head_kv_, hd_, max_chunk_;
  std::vector<int64_t> blk_;     // per layer: 16-position blocks per kv head (n_ctx rounded up, or 2 R / 16)
  std::vector<int64_t> ring_;    // per layer: R for a sliding-window ring, else 0
  std::vector<int64_t> window_;  // per layer: the ring's window
  std::vector<int64_t> off_;     // per layer: first float of its K (and of its V)
  std::unique_ptr<float[]> k_, v_;

  // One kv head's rows within a layer. V rows are padded to whole 16-position blocks too, so a vector load that
  // starts at a valid position stays inside the allocation.
  int64_t head_offset(int64_t layer, int64_t h) const {
    return off_[static_cast<size_t>(layer)] + h * blk_[static_cast<size_t>(layer)] * simd::kKvBlock * hd_;
  }
  float* k_head(int64_t layer, int64_t h) { return k_.get() + head_offset(layer, h); }
  float* v_head(int64_t layer, int64_t h) { return v_.get() + head_offset(layer, h); }
  const float* k_head(int64_t layer, int64_t h) const { return k_.get() + head_offset(layer, h); }
  const float* v_head(int64_t layer, int64_t h) const { return v_.get() + head_offset(layer, h); }
};

}  // namespace lmgen
