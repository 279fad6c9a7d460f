// Model — the transformer forward pass over the canonical weights, with its KV cache.
//
// One forward pass serves every supported architecture; it branches only on ModelConfig flags (norm kind,
// activation, RoPE style and scaling, biases, learned positions, q/k norms, post norms, soft-caps, sliding windows,
// parallel residual). Tokens are fed in order; each call appends to the KV cache,
// so a new token costs one position. Prompts are processed in chunks of n_batch tokens as matrices.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "lmgen/weights.hpp"

namespace lmgen {


// The longest context a Model allocates (n_ctx beyond it is a UsageError).
constexpr int64_t kMaxContext = int64_t{1} << 22;

struct ModelOptions {
  int64_t n_ctx = 0;     // context length (KV cache positions); 0 = the model's training context, capped at 4096
  int n_threads = 0;     // 0 = physical cores
  int64_t n_batch = 64;  // prompt tokens per forward chunk
  int32_t n_seq = 1;     // KV cache slots (independent sequences for eval_batch); each holds n_ctx positions
};

// One sequence's share of a batched forward pass (Model::eval_batch): `tokens` are appended to the KV cache slot
// `slot` at its next positions.
struct SeqChunk {
  int32_t slot = 0;
  std::span<const int32_t> tokens;
  bool all_logits = false;  // logits for every token of the chunk, not only the last
};

class Model {
 public:
  Model(std::shared_ptr<const ModelData> data, const ModelOptions& opt = {});
  ~Model();
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  const ModelConfig& config() const;
  int64_t n_ctx() const;
  int64_t n_past() const;  // positions already in the KV cache
  int64_t n_vocab() const { return config().n_vocab; }

  // Forgets the KV cache (the next token is at position 0).
  void reset();
  // Drops positions >= n from the cache (n <= n_past). Throws Error when !can_truncate(n).
  void truncate(int64_t n);
  // Whether truncate(n) is possible: always for n = 0 and for full caches; a sliding-window layer keeps only the
  // last positions of its window, so it can rewind only about a window back.
  bool can_truncate(int64_t n) const;

  // Runs `tokens` at positions n_past .. n_past+len-1 and appends them to the KV cache.
  // logits: all_logits ? [len, n_vocab] (row i = prediction after token i) : [n_vocab] after the last token.
  // Throws Error if the context would overflow or a token id is out of range.
  void eval(std::span<const int32_t> tokens, std::vector<float>& logits, bool all_logits = false);

  // Several sequences in one forward pass: the rows of all chunks go through each matrix product together (each
  // weight is read once per step for all of them), and each chunk's attention reads only its own slot's cache at
  // its own positions. A row's numbers do not depend on the other rows (every reduction has a fixed order), so a
  // sequence's logits are bit-identical to eval() on the same tokens alone.
  // logits: for each chunk in order, [len, n_vocab] when all_logits, else [n_vocab] after its last token.
  // Throws Error if a slot is out of range or repeated, a chunk is empty, a slot's context would overflow, the
  // chunks hold more than n_batch tokens together, or a token id is out of range.
  void eval_batch(std::span<const SeqChunk> chunks, std::vector<float>& logits);
  int32_t n_seq() const;
  int64_t n_past(int32_t slot) const;   // positions in slot `slot` (n_past() is slot 0's)
  void reset(int32_t slot);             // forgets slot `slot`
  void truncate(int32_t slot, int64_t n);             // truncate(n) and can_truncate(n) of slot `slot`
  bool can_truncate(int32_t slot, int64_t n) const;
  int64_t n_batch() const;              // the most tokens one eval_batch call takes

  int n_threads() const;                // the threads eval runs on (ModelOptions::n_threads, or the physical cores)

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace lmgen
