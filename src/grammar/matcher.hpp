// Matcher: where a text is inside a GBNF grammar, as the set of parse stacks that could continue it.
//
// A stack is the list of grammar positions still to match, innermost last; its top is always a character element
// (expanded through rule references and alternatives) or the stack is empty, which means the text so far is a
// complete sentence. Input is UTF-8 fed byte by byte: a code point is matched once whole, and while one is
// incomplete only the stacks whose top accepts some code point starting with those bytes are kept, so a token
// that ends in the middle of a character is accepted exactly when the character can still be completed.
//
// Stacks are hash-consed (one id per distinct (position, rest-of-stack) pair), so equal stacks are equal ids, and
// the expansion of a stack and its advance over a code point are memoised: walking a vocabulary trie revisits the
// same (stack, code point) pairs many times. A Matcher is therefore mutable and belongs to one sequence.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "grammar/gbnf.hpp"

namespace lmgen::grammar {

struct MatchState {
  std::vector<uint32_t> stacks;  // sorted stack ids; empty = the text is outside the language
  uint32_t partial = 0;          // bits of an incomplete code point
  uint8_t partial_left = 0;      // continuation bytes it still needs (0 = none pending)
  uint8_t partial_len = 0;       // its total length in bytes

  bool dead() const { return stacks.empty(); }
};

class Matcher {
 public:
  explicit Matcher(std::shared_ptr<const Grammar> g);

  MatchState start();
  // Advances `st` by one byte; false (and st is dead) when the byte cannot follow.
  bool accept_byte(MatchState& st, uint8_t b);
  // Advances by every byte of `bytes`; false at the first that cannot follow.
  bool accept(MatchState& st, std::string_view bytes);
  // Writes into `out` the state after byte b, leaving `from` as it was; false when b cannot follow.
  bool step(const MatchState& from, uint8_t b, MatchState& out);
  // The text so far is a whole sentence of the language (no incomplete code point).
  bool complete(const MatchState& st) const;
  // True when no further character can follow (only the end is left).
  bool only_end(const MatchState& st) const;
  // What could come next, e.g. {"\"{\"", "[0-9]", "end of text"}, for error messages.
  std::vector<std::string> expected(const MatchState& st) const;

  const Grammar& grammar() const { return *g_; }

 private:
  struct Node {
    uint32_t pos, parent;
  };
  uint32_t intern(uint32_t pos, uint32_t parent);
  // The stack after the element at `pos` of stack `parent`'s frame is done: pos + 1, or the parent when the
  // sequence ended there.
  uint32_t after(uint32_t pos, uint32_t parent);
  const std::vector<uint32_t>& expand(uint32_t stack);
  // Expands the stacks in `todo` (emptied) into `out` (sorted, unique).
  void expand_into(std::vector<uint32_t>& todo, std::vector<uint32_t>& out);
  // Pushes onto `todo` one stack per alternative of `rule`, each followed by the stack `rest`.
  void push_alternatives(uint32_t rule, uint32_t rest, std::vector<uint32_t>& todo);
  const std::vector<uint32_t>& advance(uint32_t stack, uint32_t cp);
  bool accept_code_point(const std::vector<uint32_t>& from, uint32_t cp, std::vector<uint32_t>& out);

  std::shared_ptr<const Grammar> g_;
  std::vector<Node> nodes_;  // nodes_[0] is the empty stack
  std::unordered_map<uint64_t, uint32_t> ids_;
  std::unordered_map<uint32_t, std::vector<uint32_t>> expanded_;
  std::unordered_map<uint64_t, std::vector<uint32_t>> advanced_;
};

}  // namespace lmgen::grammar
