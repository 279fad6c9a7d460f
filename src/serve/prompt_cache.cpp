// The choice of a KV cache slot for a prompt (prompt_cache.hpp).
#include "serve/prompt_cache.hpp"

namespace lmgen::serve {

size_t shared_prefix(std::span<const int32_t> a, std::span<const int32_t> b) {
  size_t n = 0;
  while (n < a.size() && n < b.size() && a[n] == b[n]) ++n;
  return n;
}

PromptCache::Choice PromptCache::choose(std::span<const int32_t> prompt, const std::vector<bool>& idle,
                                        bool reuse) const {
  Choice best, oldest;
  for (size_t i = 0; i < tokens_.size(); ++i) {
    if (!idle[i]) continue;
    const auto slot = static_cast<int32_t>(i);
    if (oldest.slot < 0 || used_[i] < used_[static_cast<size_t>(oldest.slot)]) oldest.slot = slot;
    const auto n = static_cast<int64_t>(shared_prefix(tokens_[i], prompt));
    const bool mostly_kept = n > 0 && 2 * n >= static_cast<int64_t>(tokens_[i].size());
    if (reuse && mostly_kept && n > best.n_shared) best = Choice{slot, n};
  }
  if (best.slot >= 0) return best;
  if (reuse && oldest.slot >= 0)
    oldest.n_shared = static_cast<int64_t>(shared_prefix(tokens_[static_cast<size_t>(oldest.slot)], prompt));
  return oldest;
}

void PromptCache::append(int32_t slot, std::span<const int32_t> tokens) {
  auto& t = tokens_[static_cast<size_t>(slot)];
  t.insert(t.end(), tokens.begin(), tokens.end());
}

}  // namespace lmgen::serve
