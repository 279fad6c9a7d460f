// TokenIndex: every token's text (as the output shows it) in a byte trie laid out in depth-first order, so the
// grammar step can find the tokens a grammar state allows by walking shared prefixes once instead of matching
// 150k tokens one by one: a subtree whose prefix leaves the language is skipped whole.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "grammar/matcher.hpp"
#include "lmgen/grammar.hpp"

namespace lmgen {

class CompiledGrammar {
 public:
  explicit CompiledGrammar(grammar::Grammar g) : g_(std::make_shared<const grammar::Grammar>(std::move(g))) {}
  const std::shared_ptr<const grammar::Grammar>& get() const { return g_; }
 private:
  std::shared_ptr<const grammar::Grammar> g_;
};

class TokenIndex {
 public:
  TokenIndex(std::vector<std::string> pieces, std::vector<bool> eog);

  size_t size() const { return pieces_.size(); }
  const std::string& piece(int32_t id) const { return pieces_[static_cast<size_t>(id)]; }
  bool is_eog(int32_t id) const { return eog_[static_cast<size_t>(id)]; }
  // A token the grammar can ever take: not end-of-generation, with a non-empty text without NUL bytes (control
  // tokens print nothing, so they could never be checked against the grammar).
  bool has_text(int32_t id) const { return usable_[static_cast<size_t>(id)]; }
  const std::vector<int32_t>& eog_ids() const { return eog_ids_; }

  // Sets allowed[id] = 1 for every token with text that `m` accepts from `st` (allowed must be size() long and
  // zero). End-of-generation tokens are left to the caller.
  void mark_allowed(grammar::Matcher& m, const grammar::MatchState& st, std::vector<uint8_t>& allowed) const;

 private:
  struct Node {
    uint8_t byte = 0;        // the edge from the parent
    uint32_t size = 1;       // nodes in this subtree, itself included (children follow in order)
    uint32_t first_id = 0;   // ids_[first_id .. first_id + n_ids) end here
    uint32_t n_ids = 0;
  };
  void walk(grammar::Matcher& m, uint32_t node, size_t depth, std::vector<grammar::MatchState>& states,
            std::vector<uint8_t>& allowed) const;

  std::vector<std::string> pieces_;
  std::vector<bool> eog_, usable_;
  std::vector<int32_t> eog_ids_;
  std::vector<Node> nodes_;  // nodes_[0] is the root (the empty prefix)
  std::vector<int32_t> ids_; // token ids in trie order
};

}  // namespace lmgen
