// TokenIndex: building the depth-first byte trie of the vocabulary and walking it under a grammar state.
#include "grammar/token_index.hpp"

#include <algorithm>

#include "lmgen/tokenizer.hpp"

namespace lmgen {

TokenIndex::TokenIndex(std::vector<std::string> pieces, std::vector<bool> eog)
    : pieces_(std::move(pieces)), eog_(std::move(eog)) {
  const size_t n = pieces_.size();
  usable_.assign(n, false);
  for (size_t i = 0; i < n; ++i) {
    usable_[i] = !eog_[i] && !pieces_[i].empty() && pieces_[i].find('\0') == std::string::npos;
    if (eog_[i]) eog_ids_.push_back(static_cast<int32_t>(i));
  }
  for (size_t i = 0; i < n; ++i)
    if (usable_[i]) ids_.push_back(static_cast<int32_t>(i));
  std::sort(ids_.begin(), ids_.end(), [&](int32_t a, int32_t b) {
    return pieces_[static_cast<size_t>(a)] < pieces_[static_cast<size_t>(b)] || (pieces_[static_cast<size_t>(a)] == pieces_[static_cast<size_t>(b)] && a < b);
  });
  // Sorted texts give the trie in depth-first order: each text pops back to its common prefix with the previous one.
  nodes_.push_back({});
  std::vector<uint32_t> depth{0};
  std::vector<uint32_t> path{0};  // the node of each prefix length of the previous text
  const std::string* prev = nullptr;
  for (uint32_t k = 0; k < ids_.size(); ++k) {
    const std::string& s = pieces_[static_cast<size_t>(ids_[k])];
    size_t common = 0;
    if (prev) while (common < prev->size() && common < s.size() && (*prev)[common] == s[common]) ++common;
    path.resize(common + 1);
    for (size_t d = common; d < s.size(); ++d) {
      Node node;
      node.byte = static_cast<uint8_t>(s[d]);
      path.push_back(static_cast<uint32_t>(nodes_.size()));
      nodes_.push_back(node);
      depth.push_back(static_cast<uint32_t>(d + 1));
    }
    Node& end = nodes_[path.back()];
    if (end.n_ids == 0) end.first_id = k;
    ++end.n_ids;
    prev = &s;
  }
  // A node's subtree runs until the next node at its depth or above.
  std::vector<uint32_t> open;
  const uint32_t count = static_cast<uint32_t>(nodes_.size());
  for (uint32_t i = 0; i <= count; ++i) {
    while (!open.empty() && (i == count || depth[open.back()] >= depth[i])) {
      nodes_[open.back()].size = i - open.back();
      open.pop_back();
    }
    if (i < count) open.push_back(i);
  }
}

void TokenIndex::walk(grammar::Matcher& m, uint32_t node, size_t depth, std::vector<grammar::MatchState>& states,
                      std::vector<uint8_t>& allowed) const {
  if (states.size() <= depth + 1) states.resize(depth + 2);
  const uint32_t end = node + nodes_[node].size;
  for (uint32_t c = node + 1; c < end; c += nodes_[c].size) {
    if (!m.step(states[depth], nodes_[c].byte, states[depth + 1])) continue;
    for (uint32_t k = 0; k < nodes_[c].n_ids; ++k) allowed[static_cast<size_t>(ids_[nodes_[c].first_id + k])] = 1;
    if (nodes_[c].size > 1) walk(m, c, depth + 1, states, allowed);
  }
}

void TokenIndex::mark_allowed(grammar::Matcher& m, const grammar::MatchState& st,
                              std::vector<uint8_t>& allowed) const {
  std::vector<grammar::MatchState> states(1, st);
  walk(m, 0, 0, states, allowed);
}

std::shared_ptr<const TokenIndex> index_vocabulary(const Tokenizer& tok, std::span<const int32_t> extra_eog) {
  const int32_t n = tok.n_vocab();
  std::vector<std::string> pieces(static_cast<size_t>(n));
  std::vector<bool> eog(static_cast<size_t>(n), false);
  for (int32_t i = 0; i < n; ++i) {
    pieces[static_cast<size_t>(i)] = tok.token_to_piece(i, false);
    eog[static_cast<size_t>(i)] = tok.is_eog(i);
  }
  for (int32_t id : extra_eog)
    if (id >= 0 && id < n) eog[static_cast<size_t>(id)] = true;
  return std::make_shared<const TokenIndex>(std::move(pieces), std::move(eog));
}

}  // namespace lmgen
