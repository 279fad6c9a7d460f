// Matcher: parse stacks over code points, partial UTF-8 between bytes (see matcher.hpp).
#include "grammar/matcher.hpp"

#include <algorithm>


namespace lmgen::grammar {

namespace {

constexpr size_t kMaxAdvanceCache = 1 << 20;  // memoised (stack, code point) pairs kept before starting over

void sort_unique(std::vector<uint32_t>& v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
}

// The code points an incomplete sequence can still become: [lo, hi] (lo > hi: none). Only well-formed sequences
// count, so the shortest form's minimum applies (a 3-byte sequence is at least U+0800).
void partial_range(const MatchState& st, uint32_t& lo, uint32_t& hi) {
  static constexpr uint32_t kMin[5] = {0, 0, 0x80, 0x800, 0x10000};
  const int shift = 6 * st.partial_left;
  lo = std::max(st.partial << shift, kMin[st.partial_len]);
  hi = std::min((st.partial << shift) | ((1u << shift) - 1), 0x10FFFFu);
}

}  // namespace

Matcher::Matcher(std::shared_ptr<const Grammar> g) : g_(std::move(g)) { nodes_.push_back({UINT32_MAX, 0}); }

uint32_t Matcher::intern(uint32_t pos, uint32_t parent) {
  const uint64_t key = (static_cast<uint64_t>(pos) << 32) | parent;
  auto [it, fresh] = ids_.try_emplace(key, static_cast<uint32_t>(nodes_.size()));
  if (fresh) nodes_.push_back({pos, parent});
  return it->second;
}

uint32_t Matcher::after(uint32_t pos, uint32_t parent) {
  const Op next = g_->elems[pos + 1].op;
  return next == Op::End || next == Op::Alt ? parent : intern(pos + 1, parent);
}

void Matcher::expand_into(std::vector<uint32_t>& todo, std::vector<uint32_t>& out) {
  // A worklist with a seen set: rules that can match nothing may lead back to a stack already expanded (x* with
  // a nullable x), which is then simply not expanded twice, as llama.cpp does.
  std::vector<uint32_t> seen;
  while (!todo.empty()) {
    const uint32_t s = todo.back();
    todo.pop_back();
    if (std::find(seen.begin(), seen.end(), s) != seen.end()) continue;
    seen.push_back(s);
    if (s == 0 || g_->is_char(nodes_[s].pos)) {
      out.push_back(s);
      continue;
    }
    const Node node = nodes_[s];  // a RuleRef (copied: intern may grow nodes_)
    push_alternatives(g_->elems[node.pos].arg, after(node.pos, node.parent), todo);
  }
  sort_unique(out);
}

void Matcher::push_alternatives(uint32_t rule, uint32_t rest, std::vector<uint32_t>& todo) {
  uint32_t p = g_->rule_start[rule];
  while (true) {
    const Op op = g_->elems[p].op;
    if (op == Op::End || op == Op::Alt) {
      todo.push_back(rest);  // an empty alternative
    } else {
      todo.push_back(intern(p, rest));
      while (g_->elems[p].op != Op::End && g_->elems[p].op != Op::Alt) ++p;
    }
    if (g_->elems[p].op == Op::End) break;
    ++p;
  }
}

const std::vector<uint32_t>& Matcher::expand(uint32_t stack) {
  auto it = expanded_.find(stack);
  if (it != expanded_.end()) return it->second;
  std::vector<uint32_t> todo{stack}, out;
  expand_into(todo, out);
  return expanded_.emplace(stack, std::move(out)).first->second;
}

const std::vector<uint32_t>& Matcher::advance(uint32_t stack, uint32_t cp) {
  const uint64_t key = (static_cast<uint64_t>(stack) << 32) | cp;
  auto it = advanced_.find(key);
  if (it != advanced_.end()) return it->second;
  if (advanced_.size() >= kMaxAdvanceCache) advanced_.clear();
  const Node node = nodes_[stack];
  std::vector<uint32_t> out = expand(after(node.pos, node.parent));
  return advanced_.emplace(key, std::move(out)).first->second;
}

MatchState Matcher::start() {
  MatchState st;
  std::vector<uint32_t> todo;
  push_alternatives(g_->root, 0, todo);
  expand_into(todo, st.stacks);
  return st;
}

bool Matcher::accept_code_point(const std::vector<uint32_t>& from, uint32_t cp, std::vector<uint32_t>& out) {
  out.clear();
  for (uint32_t s : from) {
    if (s == 0 || !g_->char_matches(nodes_[s].pos, cp)) continue;
    const auto& next = advance(s, cp);
    out.insert(out.end(), next.begin(), next.end());
  }
  sort_unique(out);
  return !out.empty();
}

bool Matcher::step(const MatchState& from, uint8_t b, MatchState& out) {
  uint32_t value;
  int left, len;
  if (from.partial_left == 0) {
    // Well-formed UTF-8 only: no overlong lead bytes (C0, C1) and nothing past U+10FFFF (F5 and up).
    len = b < 0x80 ? 1 : b >= 0xC2 && b < 0xE0 ? 2 : b >= 0xE0 && b < 0xF0 ? 3 : b >= 0xF0 && b < 0xF5 ? 4 : 0;
    if (len == 0) { out.stacks.clear(); return false; }  // a stray continuation byte or an invalid lead byte
    value = len == 1 ? b : b & (0x7Fu >> len);
    left = len - 1;
  } else {
    // The second byte of E0, ED, F0 and F4 sequences is narrower (overlongs, surrogates, past U+10FFFF).
    const bool second = from.partial_left == from.partial_len - 1;
    const uint32_t lead = from.partial;
    bool ok = (b & 0xC0) == 0x80;
    if (ok && second && from.partial_len == 3) ok = !(lead == 0 && b < 0xA0) && !(lead == 0xD && b > 0x9F);
    if (ok && second && from.partial_len == 4) ok = !(lead == 0 && b < 0x90) && !(lead == 4 && b > 0x8F);
    if (!ok) { out.stacks.clear(); return false; }
    value = (from.partial << 6) | (b & 0x3Fu);
    left = from.partial_left - 1;
    len = from.partial_len;
  }
  if (left == 0) {
    out.partial = 0;
    out.partial_left = out.partial_len = 0;
    return accept_code_point(from.stacks, value, out.stacks);
  }
  // Still incomplete: keep the stacks whose top can take some code point with this prefix.
  out.partial = value;
  out.partial_left = static_cast<uint8_t>(left);
  out.partial_len = static_cast<uint8_t>(len);
  uint32_t lo, hi;
  partial_range(out, lo, hi);
  out.stacks.clear();
  if (lo > hi) return false;
  for (uint32_t s : from.stacks)
    if (s != 0 && g_->char_matches_any(nodes_[s].pos, lo, hi)) out.stacks.push_back(s);
  return !out.stacks.empty();
}

bool Matcher::accept_byte(MatchState& st, uint8_t b) {
  MatchState next;
  const bool ok = step(st, b, next);
  st = std::move(next);
  return ok;
}

bool Matcher::accept(MatchState& st, std::string_view bytes) {
  for (char c : bytes)
    if (!accept_byte(st, static_cast<uint8_t>(c))) return false;
  return true;
}

bool Matcher::complete(const MatchState& st) const {
  return st.partial_left == 0 && !st.stacks.empty() && st.stacks.front() == 0;
}

bool Matcher::only_end(const MatchState& st) const {
  return st.partial_left == 0 && st.stacks.size() == 1 && st.stacks.front() == 0;
}

std::vector<std::string> Matcher::expected(const MatchState& st) const {
  std::vector<std::string> out;
  for (uint32_t s : st.stacks) {
    std::string d = s == 0 ? "end of text" : g_->describe_char(nodes_[s].pos);
    if (std::find(out.begin(), out.end(), d) == out.end()) out.push_back(std::move(d));
  }
  return out;
}

}  // namespace lmgen::grammar
