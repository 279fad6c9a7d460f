// The rank-ordered BPE merge loop (see bpe_merge.hpp).
#include "tokenizer/bpe_merge.hpp"

#include <queue>

namespace lmgen::bpe {

namespace {
// Long words: candidate pairs in a heap ordered by (rank, position); stale entries are skipped when popped.
void merge_heap(std::vector<int32_t>& s, const MergeTable& merges_) {
  const int n = static_cast<int>(s.size());
  std::vector<int> prev(n), next(n);
  for (int i = 0; i < n; ++i) prev[i] = i - 1, next[i] = i + 1 < n ? i + 1 : -1;
  struct Cand {
    int32_t rank;
    int pos;
    int32_t a, b, merged;
    bool operator>(const Cand& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
  };
  std::priority_queue<Cand, std::vector<Cand>, std::greater<Cand>> q;
  auto push = [&](int i) {
    if (i < 0 || next[i] < 0) return;
    int32_t m = 0;
    int32_t r = merges_.find(s[i], s[next[i]], &m);
    if (r != INT_MAX) q.push(Cand{r, i, s[i], s[next[i]], m});
  };
  for (int i = 0; i + 1 < n; ++i) push(i);
  std::vector<uint8_t> dead(n, 0);
  while (!q.empty()) {
    Cand c = q.top();
    q.pop();
    if (dead[c.pos] || s[c.pos] != c.a || next[c.pos] < 0 || s[next[c.pos]] != c.b) continue;
    int r = next[c.pos];
    s[c.pos] = c.merged;
    dead[r] = 1;
    next[c.pos] = next[r];
    if (next[r] >= 0) prev[next[r]] = c.pos;
    push(prev[c.pos]);
    push(c.pos);
  }
  size_t k = 0;
  for (int i = 0; i < n; ++i)
    if (!dead[i]) s[k++] = s[i];
  s.resize(k);
}
}  // namespace

// Short words: a linear scan for the lowest rank over a rank array kept up to date around each merge.
void merge(std::vector<int32_t>& s, const MergeTable& merges_) {
  size_t n = s.size();
  if (n < 2) return;
  if (n > 128) return merge_heap(s, merges_);
  int32_t rank[128], merged[128];
  for (size_t i = 0; i + 1 < n; ++i) rank[i] = merges_.find(s[i], s[i + 1], &merged[i]);
  while (n > 1) {
    size_t best = 0;
    for (size_t i = 1; i + 1 < n; ++i)
      if (rank[i] < rank[best]) best = i;
    if (rank[best] == INT_MAX) break;
    s[best] = merged[best];
    for (size_t i = best + 1; i + 1 < n; ++i) s[i] = s[i + 1], rank[i] = rank[i + 1], merged[i] = merged[i + 1];
    --n;
    if (best > 0) rank[best - 1] = merges_.find(s[best - 1], s[best], &merged[best - 1]);
    if (best + 1 < n) rank[best] = merges_.find(s[best], s[best + 1], &merged[best]);
  }
  s.resize(n);
}

}  // namespace lmgen::bpe
