// pattern_to_gbnf: the regex subset JSON schemas use, as GBNF over a JSON string's *encoded* contents: a `"` the
// pattern matches is written `\"` in the JSON text, a newline `\n`, so those characters become their escapes.
// An unanchored pattern may match anywhere in the string (JSON Schema semantics): any characters around it.
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "grammar/json_schema.hpp"
#include "lmgen/error.hpp"
#include "util/utf8.hpp"

namespace lmgen::grammar {

namespace {

// Any one JSON string character, raw or escaped (the converter's `char` rule spelled out).
constexpr const char* kAnyChar = R"(([^"\\\x7F\x00-\x1F] | "\\" (["\\/bfnrt] | "u" [0-9a-fA-F]{4})))";
// Raw characters a class may hold as they are; the rest only through escapes.
constexpr const char* kRawExcluded = R"("\\\x7F\x00-\x1F)";

std::string class_char(uint32_t cp) {
  std::string s;
  if (cp == '\\' || cp == ']' || cp == '[' || cp == '"' || cp == '-' || cp == '^') return "\\" + std::string(1, static_cast<char>(cp));
  if (cp < 0x20 || cp == 0x7F) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "\\x%02X", cp);
    return buf;
  }
  utf8::append(s, cp);
  return s;
}

// One decoded character as it appears in JSON text.
std::string json_char(uint32_t cp) {
  switch (cp) {
    case '"': return gbnf_literal("\\\"");
    case '\\': return gbnf_literal("\\\\");
    case '\n': return gbnf_literal("\\n");
    case '\r': return gbnf_literal("\\r");
    case '\t': return gbnf_literal("\\t");
    default: break;
  }
  std::string s;
  if (cp < 0x20 || cp == 0x7F) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "\\u%04x", cp);
    return gbnf_literal(buf);
  }
  utf8::append(s, cp);
  return gbnf_literal(s);
}

struct Range {
  uint32_t lo, hi;
};

class RegexParser {
 public:
  explicit RegexParser(std::string_view p) : p_(p) {}

  std::string run() {
    bool anchored_start = false, anchored_end = false;
    if (!p_.empty() && p_[0] == '^') { anchored_start = true; ++i_; }
    std::string body = alternation();
    if (i_ < p_.size() && p_[i_] == '$') { anchored_end = true; ++i_; }
    if (i_ != p_.size()) fail("unexpected '" + std::string(1, p_[i_]) + "'");
    const std::string any = std::string(kAnyChar) + "*";
    return (anchored_start ? "" : any + " ") + "(" + body + ")" + (anchored_end ? "" : " " + any);
  }

 private:
  std::string_view p_;
  size_t i_ = 0;
  int depth_ = 0;  // open groups (the parser recurses on them)

  [[noreturn]] void fail(const std::string& what) const {
    throw Error("json schema: pattern '" + std::string(p_) + "': " + what + " at offset " + std::to_string(i_));
  }
  bool more() const { return i_ < p_.size(); }

  std::string alternation() {
    std::string out = sequence();
    while (more() && p_[i_] == '|') {
      ++i_;
      out += " | " + sequence();
    }
    return out;
  }

  std::string sequence() {
    std::string out;
    while (more() && p_[i_] != '|' && p_[i_] != ')' && !(p_[i_] == '$' && i_ + 1 == p_.size())) {
      std::string atom_text = atom();
      atom_text = quantified(atom_text);
      out += (out.empty() ? "" : " ") + atom_text;
    }
    return out.empty() ? "\"\"" : out;
  }

  std::string quantified(const std::string& a) {
    if (!more()) return a;
    std::string q;
    const char c = p_[i_];
    if (c == '*' || c == '+' || c == '?') {
      q = c;
      ++i_;
    } else if (c == '{') {
      const size_t close = p_.find('}', i_);
      if (close == std::string_view::npos) fail("unterminated {");
      q = std::string(p_.substr(i_, close - i_ + 1));
      for (char d : q.substr(1, q.size() - 2))
        if (!(d >= '0' && d <= '9') && d != ',') fail("bad repetition " + q);
      if (q[1] == ',') q.insert(1, "0");
      i_ = close + 1;
    } else {
      return a;
    }
    if (more() && p_[i_] == '?') ++i_;  // lazy: the same language
    return "(" + a + ")" + q;
  }

  uint32_t literal_cp() {
    size_t j = i_;
    const int32_t cp = utf8::decode(p_, j);
    if (cp < 0) fail("invalid UTF-8");
    i_ = j;
    return static_cast<uint32_t>(cp);
  }

  // A backslash escape: appends ranges (and sets negate for \D \W \S); returns false for a single character.
  bool class_escape(char e, std::vector<Range>& ranges, bool& negate) {
    negate = e == 'D' || e == 'W' || e == 'S';
    switch (e) {
      case 'd': case 'D': ranges.push_back({'0', '9'}); return true;
      case 'w': case 'W':
        ranges.insert(ranges.end(), {{'0', '9'}, {'A', 'Z'}, {'_', '_'}, {'a', 'z'}});
        return true;
      case 's': case 'S': ranges.insert(ranges.end(), {{' ', ' '}, {'\t', '\r'}}); return true;
      default: return false;
    }
  }

  uint32_t escaped_char(char e) {
    switch (e) {
      case 'n': return '\n';
      case 't': return '\t';
      case 'r': return '\r';
      case 'f': return '\f';
      case 'v': return '\v';
      case '0': return 0;
      case 'x': case 'u': {
        const size_t n = e == 'x' ? 2 : 4;
        if (i_ + n > p_.size()) fail("short \\" + std::string(1, e) + " escape");
        const uint32_t v = static_cast<uint32_t>(std::stoul(std::string(p_.substr(i_, n)), nullptr, 16));
        i_ += n;
        return v;
      }
      default:
        if ((e >= 'a' && e <= 'z') || (e >= 'A' && e <= 'Z') || (e >= '1' && e <= '9'))
          fail(std::string("unsupported escape \\") + e);
        return static_cast<unsigned char>(e);
    }
  }

  std::string set_to_gbnf(const std::vector<Range>& ranges, bool negate) {
    if (negate) {
      std::string s = "[^";
      for (const Range& r : ranges) s += class_char(r.lo) + (r.hi != r.lo ? "-" + class_char(r.hi) : "");
      return "(" + s + kRawExcluded + "])";
    }
    std::string raw, alts;
    for (const Range& r : ranges) {
      for (uint32_t special : {uint32_t{'"'}, uint32_t{'\\'}, uint32_t{'\n'}, uint32_t{'\r'}, uint32_t{'\t'}})
        if (r.lo <= special && special <= r.hi) alts += " | " + json_char(special);
      // The raw part: the range without control characters, '"', '\\' and DEL, which JSON text must escape.
      uint32_t lo = std::max<uint32_t>(r.lo, 0x20);
      for (uint32_t cut : {uint32_t{'"'}, uint32_t{'\\'}, uint32_t{0x7F}, UINT32_MAX}) {
        const uint32_t hi = std::min(r.hi, cut == UINT32_MAX ? r.hi : cut - 1);
        if (lo <= hi && lo < cut) raw += class_char(lo) + (hi != lo ? "-" + class_char(hi) : "");
        if (cut != UINT32_MAX) lo = std::max(lo, cut + 1);
      }
    }
    if (raw.empty() && alts.empty()) fail("empty character class");
    if (raw.empty()) return "(" + alts.substr(3) + ")";
    return "([" + raw + "]" + alts + ")";
  }

  std::string char_class() {
    ++i_;  // [
    bool negate = false;
    if (more() && p_[i_] == '^') { negate = true; ++i_; }
    std::vector<Range> ranges;
    bool first = true;
    while (more() && (p_[i_] != ']' || first)) {
      first = false;
      uint32_t lo;
      if (p_[i_] == '\\' && i_ + 1 < p_.size()) {
        const char e = p_[i_ + 1];
        i_ += 2;
        bool neg = false;
        std::vector<Range> sub;
        if (class_escape(e, sub, neg)) {
          if (neg) fail("\\D, \\W or \\S inside a class is not supported");
          ranges.insert(ranges.end(), sub.begin(), sub.end());
          continue;
        }
        lo = escaped_char(e);
      } else {
        lo = literal_cp();
      }
      uint32_t hi = lo;
      if (i_ + 1 < p_.size() && p_[i_] == '-' && p_[i_ + 1] != ']') {
        ++i_;
        if (p_[i_] == '\\' && i_ + 1 < p_.size()) { const char e = p_[i_ + 1]; i_ += 2; hi = escaped_char(e); }
        else hi = literal_cp();
        if (hi < lo) fail("range out of order");
      }
      ranges.push_back({lo, hi});
    }
    if (!more()) fail("unterminated [");
    ++i_;
    return set_to_gbnf(ranges, negate);
  }

  std::string atom() {
    const char c = p_[i_];
    if (c == '(') {
      if (++depth_ > 256) fail("groups nested deeper than 256");
      ++i_;
      if (p_.substr(i_, 2) == "?:") i_ += 2;
      else if (more() && p_[i_] == '?') fail("lookarounds and named groups are not supported");
      std::string inner = alternation();
      if (!more() || p_[i_] != ')') fail("missing )");
      ++i_;
      --depth_;
      return "(" + inner + ")";
    }
    if (c == '[') return char_class();
    if (c == '.') { ++i_; return std::string("([^\"\\\\\\x7F\\x00-\\x1F] | \"\\\\\" [\"\\\\/bfrt])"); }
    if (c == '*' || c == '+' || c == '?' || c == '{') fail(std::string("nothing to repeat before '") + c + "'");
    if (c == '^' || c == '$') fail("anchors are supported only at the start and end");
    if (c == '\\') {
      if (i_ + 1 >= p_.size()) fail("trailing backslash");
      const char e = p_[i_ + 1];
      i_ += 2;
      std::vector<Range> ranges;
      bool negate = false;
      if (class_escape(e, ranges, negate)) return set_to_gbnf(ranges, negate);
      return json_char(escaped_char(e));
    }
    return json_char(literal_cp());
  }
};

}  // namespace

std::string pattern_to_gbnf(std::string_view pattern) { return RegexParser(pattern).run(); }

}  // namespace lmgen::grammar
