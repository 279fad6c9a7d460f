// Internal: the KV cache and causal attention over it (kv_cache.cpp).
//
// Layout, per layer and kv head h (head_dim D, positions p):
//   K: blocks of 16 positions, transposed: K[h][p / 16][d][p % 16]. The scores of 16 positions are then D
//      multiply-adds of 16-wide vectors (no horizontal sums), which is what makes tiny heads (D = 8) fast.
//   V: by position: V[h][p][d] (each head's rows padded to a whole number of 16-position blocks).
// The storage is left uninitialised (untouched positions cost no memory); lanes past the last written position are
// never let into a result.
#pragma once

#include <cstdint>
#include <memory>

#include "kernels/threads.hpp"

namespace lmgen {

class KvCache {
 public:
  KvCache(int64_t n_layer, int64_t n_ctx, int64_t n_head_kv, int64_t head_dim);

  // Writes the keys and values of positions pos0 .. pos0+n-1; k and v are [n, n_head_kv * head_dim].
  void store(int64_t layer, int64_t pos0, int64_t n, const float* k, const float* v);

  // out[t] = softmax(q[t] K^T * scale over positions 0 .. pos0+t) V for each query head (grouped-query: head h
  // reads kv head h / (n_head / n_head_kv)); q and out are [n, n_head * head_dim]. Every output depends only on its
  // own query and positions, in a fixed order: not on n, on the chunking or on the thread count.
  void attend(int64_t layer, int64_t pos0, int64_t n, int64_t n_head, float scale, const float* q, float* out,
              ThreadPool& pool) const;

 private:
  int64_t n_blk_, n_head_kv_, hd_;  // 16-position blocks per head (n_ctx rounded up), kv heads, head_dim
  int64_t layer_floats_;  // per layer, for K and for V alike
  std::unique_ptr<float[]> k_, v_;

  // One kv head's rows within a layer. V rows are padded to whole 16-position blocks too, so a vector load that
  // starts at a valid position stays inside the allocation.
  int64_t head_offset(int64_t layer, int64_t h) const { return layer * layer_floats_ + h * n_blk_ * 16 * hd_; }
  float* k_head(int64_t layer, int64_t h) { return k_.get() + head_offset(layer, h); }
  float* v_head(int64_t layer, int64_t h) { return v_.get() + head_offset(layer, h); }
  const float* k_head(int64_t layer, int64_t h) const { return k_.get() + head_offset(layer, h); }
  const float* v_head(int64_t layer, int64_t h) const { return v_.get() + head_offset(layer, h); }
};

}  // namespace lmgen
