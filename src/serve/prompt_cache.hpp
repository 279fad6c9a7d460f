// PromptCache — what each KV cache slot of the server holds, kept after its request ends, and where a new request
// goes. A slot's tokens are those whose keys and values are in its cache, in order (a finished request leaves its
// prompt and reply there, but for the last token, sampled and never evaluated). A new prompt goes to the idle slot
// whose tokens share the longest prefix with it, among the slots it would mostly keep (the shared prefix is at
// least half of what the slot holds: the conversation so far, sent again with one more turn; one that only shares
// the chat template's first tokens does not evict another). Failing that, it goes to the least recently used idle
// slot. Either way the slot keeps the shared prefix and only the rest of the prompt is evaluated.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace lmgen::serve {

class PromptCache {
 public:
  explicit PromptCache(size_t n_slots) : tokens_(n_slots), used_(n_slots, 0) {}

  struct Choice {
    int32_t slot = -1;     // -1: no idle slot
    int64_t n_shared = 0;  // leading prompt tokens the slot holds
  };
  // The slot for `prompt` among the idle ones (idle[i]). Without `reuse` the least recently used idle slot, and
  // n_shared 0.
  Choice choose(std::span<const int32_t> prompt, const std::vector<bool>& idle, bool reuse) const;

  // The slot now holds only its first n tokens (a rewind, or 0 to forget it).
  void keep(int32_t slot, size_t n) { tokens_[static_cast<size_t>(slot)].resize(n); }
  // The slot is the most recently used (a request starts or ends in it).
  void touch(int32_t slot) { used_[static_cast<size_t>(slot)] = ++clock_; }
  // Tokens appended to the slot's cache by a forward pass.
  void append(int32_t slot, std::span<const int32_t> tokens);
  const std::vector<int32_t>& tokens(int32_t slot) const { return tokens_[static_cast<size_t>(slot)]; }
  size_t n_slots() const { return tokens_.size(); }

 private:
  std::vector<std::vector<int32_t>> tokens_;
  std::vector<uint64_t> used_;  // when each slot was last used (a logical clock; 0: never)
  uint64_t clock_ = 0;
};

// Length of the common prefix of a and b.
size_t shared_prefix(std::span<const int32_t> a, std::span<const int32_t> b);

}  // namespace lmgen::serve
