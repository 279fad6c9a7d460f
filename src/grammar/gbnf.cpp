// The GBNF parser (see gbnf.hpp for the dialect) and the checks run on its result: every rule defined, a root,
// no left recursion.
#include "grammar/gbnf.hpp"

#include <algorithm>
#include <cstdio>
#include <map>

#include "lmgen/error.hpp"
#include "util/utf8.hpp"

namespace lmgen::grammar {

namespace {

constexpr int kMaxRepetitions = 2000;  // llama.cpp's limit on {m,n}: bigger counts blow up the rule table
constexpr int kMaxNesting = 256;       // parenthesised groups inside one another (the parser recurses on them)

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
}

class Parser {
 public:
  explicit Parser(std::string_view text) : s_(text) {}

  Grammar run() {
    skip_space(true);
    while (pos_ < s_.size()) parse_rule();
    return finish();
  }

 private:
  std::string_view s_;
  size_t pos_ = 0;
  std::vector<std::vector<Elem>> rules_;
  std::vector<std::string> names_;
  std::vector<size_t> defined_at_, used_at_;  // offsets (npos when not yet)
  std::map<std::string, uint32_t, std::less<>> ids_;
  std::vector<CharRange> ranges_;
  int nesting_ = 0;

  [[noreturn]] void fail(const std::string& what, size_t at) const {
    size_t line = 1, col = 1;
    for (size_t i = 0; i < at && i < s_.size(); ++i) {
      if (s_[i] == '\n') { ++line; col = 1; } else if ((static_cast<unsigned char>(s_[i]) & 0xC0) != 0x80) ++col;
    }
    throw Error("grammar: " + std::to_string(line) + ":" + std::to_string(col) + ": " + what);
  }
  [[noreturn]] void fail(const std::string& what) const { fail(what, pos_); }

  char peek(size_t k = 0) const { return pos_ + k < s_.size() ? s_[pos_ + k] : '\0'; }
  bool at_end() const { return pos_ >= s_.size(); }

  // Spaces, tabs and comments; newlines too when newline_ok.
  void skip_space(bool newline_ok) {
    while (!at_end()) {
      const char c = peek();
      if (c == ' ' || c == '\t') {
        ++pos_;
      } else if (c == '#') {
        while (!at_end() && peek() != '\n' && peek() != '\r') ++pos_;
      } else if (newline_ok && (c == '\n' || c == '\r')) {
        ++pos_;
      } else {
        return;
      }
    }
  }

  uint32_t symbol(std::string_view name) {
    auto it = ids_.find(name);
    if (it != ids_.end()) return it->second;
    const uint32_t id = static_cast<uint32_t>(rules_.size());
    ids_.emplace(std::string(name), id);
    names_.emplace_back(name);
    rules_.emplace_back();
    defined_at_.push_back(std::string::npos);
    used_at_.push_back(std::string::npos);
    return id;
  }

  uint32_t generated_rule(const std::string& base) {
    std::string name = base + "_" + std::to_string(rules_.size());
    const uint32_t id = symbol(name);
    defined_at_[id] = pos_;
    return id;
  }

  std::string_view parse_name() {
    const size_t start = pos_;
    while (!at_end() && is_name_char(peek())) ++pos_;
    if (pos_ == start) fail("expected a rule name");
    return s_.substr(start, pos_ - start);
  }

  void parse_rule() {
    const size_t start = pos_;
    const std::string name(parse_name());
    skip_space(false);
    if (s_.substr(pos_, 3) != "::=") fail("expected ::= after the rule name '" + name + "'");
    pos_ += 3;
    skip_space(true);
    const uint32_t id = symbol(name);
    defined_at_[id] = start;
    rules_[id] = parse_alternates(name, false);
    if (peek() == '\r') pos_ += peek(1) == '\n' ? 2 : 1;
    else if (peek() == '\n') ++pos_;
    else if (!at_end()) fail(std::string("unexpected '") + peek() + "' (expected a newline or the end of the rule)");
    skip_space(true);
  }

  std::vector<Elem> parse_alternates(const std::string& rule_name, bool nested) {
    std::vector<Elem> out;
    parse_sequence(rule_name, out, nested);
    while (peek() == '|') {
      out.push_back({Op::Alt, 0, 0});
      ++pos_;
      skip_space(true);
      parse_sequence(rule_name, out, nested);
    }
    out.push_back({Op::End, 0, 0});
    return out;
  }

  // One code point of a literal or class, with escapes.
  uint32_t parse_char() {
    if (at_end()) fail("unexpected end of input");
    if (peek() != '\\') {
      size_t i = pos_;
      const int32_t cp = utf8::decode(s_, i);
      if (cp < 0) fail("invalid UTF-8");
      pos_ = i;
      return static_cast<uint32_t>(cp);
    }
    const size_t at = pos_;
    pos_ += 2;
    switch (s_.size() >= pos_ ? s_[pos_ - 1] : '\0') {
      case 'n': return '\n';
      case 't': return '\t';
      case 'r': return '\r';
      case '\\': return '\\';
      case '"': return '"';
      case '[': return '[';
      case ']': return ']';
      case 'x': return parse_hex(2, at);
      case 'u': return parse_hex(4, at);
      case 'U': return parse_hex(8, at);
      default: fail("unknown escape", at);
    }
  }

  uint32_t parse_hex(int digits, size_t at) {
    uint32_t v = 0;
    for (int k = 0; k < digits; ++k, ++pos_) {
      const char c = peek();
      int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
      if (d < 0) fail("expected " + std::to_string(digits) + " hex digits in the escape", at);
      v = v * 16 + static_cast<uint32_t>(d);
    }
    return v;
  }

  void parse_class(std::vector<Elem>& out) {
    ++pos_;  // '['
    Op op = Op::Char;
    if (peek() == '^') { op = Op::CharNot; ++pos_; }
    const uint32_t first = static_cast<uint32_t>(ranges_.size());
    while (peek() != ']') {
      if (at_end()) fail("unexpected end of input in a character class");
      const uint32_t lo = parse_char();
      uint32_t hi = lo;
      if (peek() == '-' && peek(1) != ']' && pos_ + 1 < s_.size()) {
        ++pos_;
        hi = parse_char();
      }
      ranges_.push_back({lo, hi});
    }
    ++pos_;
    out.push_back({op, first, static_cast<uint32_t>(ranges_.size()) - first});
  }

  int parse_int() {
    const size_t start = pos_;
    long v = 0;
    while (peek() >= '0' && peek() <= '9') {
      v = v * 10 + (peek() - '0');
      if (v > kMaxRepetitions) fail("repetition count above " + std::to_string(kMaxRepetitions), start);
      ++pos_;
    }
    if (pos_ == start) fail("expected an integer");
    return static_cast<int>(v);
  }

  void parse_sequence(const std::string& rule_name, std::vector<Elem>& out, bool nested) {
    size_t last_start = out.size();
    bool have_item = false;
    while (!at_end()) {
      const char c = peek();
      const size_t item_start = out.size();
      if (c == '"') {
        ++pos_;
        while (peek() != '"') {
          if (at_end()) fail("unexpected end of input in a literal");
          const uint32_t cp = parse_char();
          out.push_back({Op::Char, static_cast<uint32_t>(ranges_.size()), 1});
          ranges_.push_back({cp, cp});
        }
        ++pos_;
      } else if (c == '[') {
        parse_class(out);
      } else if (c == '.') {
        ++pos_;
        out.push_back({Op::CharAny, 0, 0});
      } else if (is_name_char(c)) {
        const size_t at = pos_;
        const uint32_t id = symbol(parse_name());
        if (used_at_[id] == std::string::npos) used_at_[id] = at;
        out.push_back({Op::RuleRef, id, 0});
      } else if (c == '(') {
        if (++nesting_ > kMaxNesting) fail("groups nested deeper than " + std::to_string(kMaxNesting));
        ++pos_;
        skip_space(true);
        const uint32_t id = generated_rule(rule_name);
        rules_[id] = parse_alternates(rule_name, true);
        if (peek() != ')') fail("expected ')'");
        ++pos_;
        --nesting_;
        out.push_back({Op::RuleRef, id, 0});
      } else if (c == '*' || c == '+' || c == '?' || c == '{') {
        if (!have_item) fail(std::string("'") + c + "' has no item before it to repeat");
        const size_t at = pos_;
        int lo = 0, hi = -1;
        ++pos_;
        if (c == '+') lo = 1;
        if (c == '?') hi = 1;
        if (c == '{') {
          skip_space(nested);
          lo = parse_int();
          skip_space(nested);
          if (peek() == '}') {
            hi = lo;
          } else if (peek() == ',') {
            ++pos_;
            skip_space(nested);
            if (peek() >= '0' && peek() <= '9') hi = parse_int();
            skip_space(nested);
            if (hi >= 0 && hi < lo) fail("repetition {m,n} with n < m", at);
            if (peek() != '}') fail("expected '}'");
          } else {
            fail("expected ',' or '}'");
          }
          ++pos_;
        }
        repeat(rule_name, out, last_start, lo, hi);
        skip_space(nested);
        continue;  // the repetition is now the item a further postfix applies to ("x{3}{2}"), as in llama.cpp
      } else {
        break;
      }
      last_start = item_start;
      have_item = true;
      skip_space(nested);
    }
  }

  // Replaces out[last_start..] (one item) by its repetition lo..hi times (hi < 0: unbounded).
  void repeat(const std::string& rule_name, std::vector<Elem>& out, size_t last_start, int lo, int hi) {
    const std::vector<Elem> item(out.begin() + static_cast<std::ptrdiff_t>(last_start), out.end());
    out.resize(last_start);
    for (int k = 0; k < lo; ++k) out.insert(out.end(), item.begin(), item.end());
    if (hi < 0) {  // r ::= item r |
      const uint32_t r = generated_rule(rule_name);
      std::vector<Elem> body = item;
      body.push_back({Op::RuleRef, r, 0});
      body.push_back({Op::Alt, 0, 0});
      body.push_back({Op::End, 0, 0});
      rules_[r] = std::move(body);
      out.push_back({Op::RuleRef, r, 0});
      return;
    }
    // (item (item (...)?)?)? with hi - lo levels, built innermost first.
    uint32_t inner = UINT32_MAX;
    for (int k = lo; k < hi; ++k) {
      const uint32_t r = generated_rule(rule_name);
      std::vector<Elem> body = item;
      if (inner != UINT32_MAX) body.push_back({Op::RuleRef, inner, 0});
      body.push_back({Op::Alt, 0, 0});
      body.push_back({Op::End, 0, 0});
      rules_[r] = std::move(body);
      inner = r;
    }
    if (inner != UINT32_MAX) out.push_back({Op::RuleRef, inner, 0});
  }

  Grammar finish();
};

// Rules with an empty alternative. llama.cpp's left-recursion check looks past a leading reference only when the
// rule referred to has one (not when it is nullable through other rules), and so does this one, so that a grammar
// is refused by both tools or by neither; the matcher copes with the cycles this leaves (matcher.cpp).
std::vector<bool> nullable_rules(const std::vector<std::vector<Elem>>& rules) {
  std::vector<bool> nullable(rules.size(), false);
  for (size_t r = 0; r < rules.size(); ++r) {
    bool at_start = true;
    for (const Elem& e : rules[r]) {
      const bool end = e.op == Op::Alt || e.op == Op::End;
      if (end && at_start) { nullable[r] = true; break; }
      at_start = end;
    }
  }
  return nullable;
}

// The rules each rule can start with (references in leading position, past nullable ones).
std::vector<std::vector<uint32_t>> leading_refs(const std::vector<std::vector<Elem>>& rules,
                                                const std::vector<bool>& nullable) {
  std::vector<std::vector<uint32_t>> lead(rules.size());
  for (size_t r = 0; r < rules.size(); ++r) {
    bool at_start = true;
    for (const Elem& e : rules[r]) {
      if (e.op == Op::Alt || e.op == Op::End) { at_start = true; continue; }
      if (!at_start) continue;
      if (e.op == Op::RuleRef) {
        lead[r].push_back(e.arg);
        at_start = nullable[e.arg];
      } else {
        at_start = false;
      }
    }
  }
  return lead;
}

Grammar Parser::finish() {
  for (size_t r = 0; r < rules_.size(); ++r)
    if (defined_at_[r] == std::string::npos) fail("undefined rule '" + names_[r] + "'", used_at_[r]);
  auto root = ids_.find("root");
  if (root == ids_.end()) fail("the grammar has no rule named 'root'", 0);

  const std::vector<bool> nullable = nullable_rules(rules_);
  const auto lead = leading_refs(rules_, nullable);
  // Depth-first search for a cycle in the leading-reference graph: 0 unvisited, 1 on the path, 2 done.
  std::vector<int> state(rules_.size(), 0);
  std::vector<std::pair<uint32_t, size_t>> stack;
  for (uint32_t start = 0; start < rules_.size(); ++start) {
    if (state[start]) continue;
    stack.push_back({start, 0});
    state[start] = 1;
    while (!stack.empty()) {
      auto& [r, next] = stack.back();
      if (next == lead[r].size()) { state[r] = 2; stack.pop_back(); continue; }
      const uint32_t to = lead[r][next++];
      if (state[to] == 1) {
        // Report a named rule on the cycle (generated rules, "name_N", are parts of one).
        uint32_t at = to;
        bool on_cycle = false;
        for (const auto& frame : stack) {
          on_cycle = on_cycle || frame.first == to;
          if (on_cycle && names_[frame.first].find('_') == std::string::npos) { at = frame.first; break; }
        }
        fail("left recursion in rule '" + names_[at] + "'", defined_at_[at]);
      }
      if (state[to] == 0) { state[to] = 1; stack.push_back({to, 0}); }
    }
  }

  Grammar g;
  g.ranges = std::move(ranges_);
  g.rule_names = std::move(names_);
  g.root = root->second;
  for (auto& body : rules_) {
    g.rule_start.push_back(static_cast<uint32_t>(g.elems.size()));
    g.elems.insert(g.elems.end(), body.begin(), body.end());
  }
  return g;
}

}  // namespace

bool Grammar::char_matches(uint32_t pos, uint32_t cp) const {
  const Elem& e = elems[pos];
  if (e.op == Op::CharAny) return true;
  bool in = false;
  for (uint32_t k = 0; k < e.count && !in; ++k) in = ranges[e.arg + k].lo <= cp && cp <= ranges[e.arg + k].hi;
  return in == (e.op == Op::Char);
}

bool Grammar::char_matches_any(uint32_t pos, uint32_t lo, uint32_t hi) const {
  const Elem& e = elems[pos];
  if (e.op == Op::CharAny) return true;
  if (e.op == Op::Char) {
    for (uint32_t k = 0; k < e.count; ++k)
      if (ranges[e.arg + k].lo <= hi && lo <= ranges[e.arg + k].hi) return true;
    return false;
  }
  // CharNot: some code point in [lo, hi] outside every range. Walk lo upward past covering ranges.
  for (uint32_t cp = lo;;) {
    bool moved = false;
    for (uint32_t k = 0; k < e.count; ++k)
      if (ranges[e.arg + k].lo <= cp && cp <= ranges[e.arg + k].hi) { cp = ranges[e.arg + k].hi + 1; moved = true; }
    if (cp > hi) return false;
    if (!moved) return true;
  }
}

std::string Grammar::describe_char(uint32_t pos) const {
  const Elem& e = elems[pos];
  if (e.op == Op::CharAny) return ".";
  auto one = [](uint32_t cp) {
    if (cp == '"' || cp == '\\' || cp == ']' || cp == '[' || cp == '-' || cp == '^') return "\\" + std::string(1, static_cast<char>(cp));
    if (cp == '\n') return std::string("\\n");
    if (cp == '\t') return std::string("\\t");
    if (cp == '\r') return std::string("\\r");
    if (cp < 0x20 || cp == 0x7F) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02X", cp);
      return std::string(buf);
    }
    std::string s;
    utf8::append(s, cp);
    return s;
  };
  if (e.op == Op::Char && e.count == 1 && ranges[e.arg].lo == ranges[e.arg].hi) {
    const uint32_t cp = ranges[e.arg].lo;
    return "\"" + (cp == '[' || cp == ']' || cp == '-' || cp == '^' ? std::string(1, static_cast<char>(cp)) : one(cp)) + "\"";
  }
  std::string s = e.op == Op::CharNot ? "[^" : "[";
  for (uint32_t k = 0; k < e.count; ++k) {
    s += one(ranges[e.arg + k].lo);
    if (ranges[e.arg + k].hi != ranges[e.arg + k].lo) s += "-" + one(ranges[e.arg + k].hi);
  }
  return s + "]";
}

Grammar parse_gbnf(std::string_view text) { return Parser(text).run(); }

}  // namespace lmgen::grammar
