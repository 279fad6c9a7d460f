// Chat-template lexer (see lexer.hpp). Follows jinja2.lexer: the text before a tag loses its trailing whitespace
// with `{%-` / `{{-` / `{#-`, or (lstrip_blocks) the spaces between the line start and a `{%` / `{#` tag unless
// `{%+`; `-%}` / `-}}` / `-#}` eat the whitespace after the tag; trim_blocks drops one newline after `%}` / `#}`
// unless `+%}`. Inside tags, `}}` / `%}` only end the tag when the brackets are balanced.
#include "chat/lexer.hpp"

#include <algorithm>
#include <cstring>
#include <string_view>

#include "chat/error.hpp"
#include "chat/text.hpp"
#include "util/utf8.hpp"

namespace lmgen::chat {

namespace {

bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (c & 0x80); }
bool is_name_char(char c) { return is_name_start(c) || is_digit(c); }

// Jinja drops \r\n / \r -> \n and one trailing newline before lexing.
std::string normalize_newlines(const std::string& src) {
  std::string out;
  out.reserve(src.size());
  for (size_t i = 0; i < src.size(); ++i) {
    if (src[i] == '\r') {
      out += '\n';
      if (i + 1 < src.size() && src[i + 1] == '\n') ++i;
    } else {
      out += src[i];
    }
  }
  if (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

int hex_value(char c) {
  if (is_digit(c)) return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Python string-literal escapes (Jinja decodes literals with "unicode-escape"); unknown escapes stay as written.
std::string unescape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\' || i + 1 == s.size()) {
      out += s[i];
      continue;
    }
    const char c = s[++i];
    switch (c) {
      case '\n': break;
      case '\\': out += '\\'; break;
      case '\'': out += '\''; break;
      case '"': out += '"'; break;
      case 'a': out += '\a'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'v': out += '\v'; break;
      case 'x':
      case 'u':
      case 'U': {
        const size_t n = c == 'x' ? 2 : c == 'u' ? 4 : 8;
        char32_t cp = 0;
        bool ok = i + n < s.size();
        for (size_t k = 1; ok && k <= n; ++k) {
          const int h = i + k < s.size() ? hex_value(s[i + k]) : -1;
          ok = h >= 0;
          cp = cp * 16 + static_cast<char32_t>(std::max(h, 0));
        }
        if (!ok || cp > 0x10ffff) {
          out += '\\';
          out += c;
          break;
        }
        utf8::append(out, cp);
        i += n;
        break;
      }
      default:
        if (c >= '0' && c <= '7') {
          char32_t cp = 0;
          size_t k = 0;
          for (; k < 3 && i + k < s.size() && s[i + k] >= '0' && s[i + k] <= '7'; ++k) cp = cp * 8 + (s[i + k] - '0');
          i += k - 1;
          utf8::append(out, cp);
        } else {
          out += '\\';
          out += c;
        }
    }
  }
  return out;
}

class Lexer {
 public:
  Lexer(const std::string& source, const LexOptions& opt) : src_(normalize_newlines(source)), opt_(opt) {
    line_starts_.push_back(0);
    for (size_t i = 0; i < src_.size(); ++i)
      if (src_[i] == '\n') line_starts_.push_back(i + 1);
  }

  std::vector<Token> run() {
    while (pos_ < src_.size()) {
      const size_t tag = find_tag(pos_);
      if (tag == std::string::npos) {
        emit(Tok::Text, src_.substr(pos_), pos_);
        break;
      }
      const char kind = src_[tag + 1];
      const char sign = tag + 2 < src_.size() ? src_[tag + 2] : '\0';
      size_t raw_body = 0;
      const bool raw = kind == '%' && raw_begin(tag, raw_body);
      emit(Tok::Text, left_strip(std::string_view(src_).substr(pos_, tag - pos_), kind, sign), pos_);
      if (raw)
        lex_raw(tag, raw_body);
      else if (kind == '#')
        lex_comment(tag, sign);
      else
        lex_tag(tag, kind == '%');
    }
    emit(Tok::End, "", src_.size());
    return std::move(out_);
  }

 private:
  std::pair<int, int> at(size_t off) const {
    auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), off);
    const size_t line = static_cast<size_t>(it - line_starts_.begin());
    return {static_cast<int>(line), static_cast<int>(off - line_starts_[line - 1] + 1)};
  }
  [[noreturn]] void fail(size_t off, const std::string& what) const {
    auto [l, c] = at(off);
    throw TemplateError(l, c, what);
  }
  void emit(Tok type, std::string_view text, size_t off) {
    if (type == Tok::Text && text.empty()) return;
    auto [l, c] = at(off);
    out_.push_back(Token{type, std::string(text), l, c});
  }

  size_t find_tag(size_t from) const {
    for (size_t p = src_.find('{', from); p != std::string::npos; p = src_.find('{', p + 1))
      if (p + 1 < src_.size() && (src_[p + 1] == '{' || src_[p + 1] == '%' || src_[p + 1] == '#')) return p;
    return std::string::npos;
  }

  // Whitespace control on the text before a tag of `kind` ('{', '%', '#') with modifier `sign`.
  std::string_view left_strip(std::string_view text, char kind, char sign) const {
    if (sign == '-') {
      size_t e = text.size();
      while (e > 0 && is_ws(text[e - 1])) --e;
      return text.substr(0, e);
    }
    if (sign == '+' || !opt_.lstrip_blocks || kind == '{') return text;
    const size_t nl = text.rfind('\n');
    const size_t l_pos = nl == std::string_view::npos ? 0 : nl + 1;
    if (l_pos == 0 && !line_starting_) return text;
    for (size_t i = l_pos; i < text.size(); ++i)
      if (!is_ws(text[i])) return text;
    return text.substr(0, l_pos);
  }

  // After a tag end at `end`: `-` eats all whitespace, trim_blocks one newline (block and comment tags).
  void after_tag(size_t end, char modifier, bool trimmable) {
    if (modifier == '-') {
      while (end < src_.size() && is_ws(src_[end])) ++end;
    } else if (modifier != '+' && trimmable && opt_.trim_blocks && end < src_.size() && src_[end] == '\n') {
      ++end;
    }
    line_starting_ = end > 0 && src_[end - 1] == '\n';
    pos_ = end;
  }

  size_t skip_ws(size_t p) const {
    while (p < src_.size() && is_ws(src_[p])) ++p;
    return p;
  }
  bool word_at(size_t p, const char* w) const {
    const size_t n = std::strlen(w);
    return src_.compare(p, n, w) == 0 && (p + n >= src_.size() || !is_name_char(src_[p + n]));
  }

  // `{%[-+]? raw [-]%}`: sets body to the offset after the tag.
  bool raw_begin(size_t tag, size_t& body) {
    size_t p = tag + 2;
    if (p < src_.size() && (src_[p] == '-' || src_[p] == '+')) ++p;
    p = skip_ws(p);
    if (!word_at(p, "raw")) return false;
    p = skip_ws(p + 3);
    if (src_.compare(p, 3, "-%}") == 0) {
      body = skip_ws(p + 3);
    } else if (src_.compare(p, 2, "%}") == 0) {
      body = p + 2;
    } else {
      return false;
    }
    return true;
  }

  void lex_raw(size_t tag, size_t body) {
    line_starting_ = body > 0 && src_[body - 1] == '\n';
    for (size_t p = src_.find("{%", body); p != std::string::npos; p = src_.find("{%", p + 1)) {
      size_t q = p + 2;
      const char sign = q < src_.size() ? src_[q] : '\0';
      if (sign == '-' || sign == '+') ++q;
      q = skip_ws(q);
      if (!word_at(q, "endraw")) continue;
      q = skip_ws(q + 6);
      char mod = '\0';
      if (q < src_.size() && (src_[q] == '-' || src_[q] == '+')) mod = src_[q++];
      if (src_.compare(q, 2, "%}") != 0) continue;
      emit(Tok::Text, left_strip(std::string_view(src_).substr(body, p - body), '%', sign), body);
      after_tag(q + 2, mod, true);
      return;
    }
    fail(tag, "missing end of raw directive");
  }

  void lex_comment(size_t tag, char sign) {
    const size_t body = tag + 2 + ((sign == '-' || sign == '+') ? 1 : 0);
    const size_t p = src_.find("#}", body);
    if (p == std::string::npos) fail(tag, "missing end of comment tag");
    const char mod = p > body && (src_[p - 1] == '-' || src_[p - 1] == '+') ? src_[p - 1] : '\0';
    after_tag(p + 2, mod, true);
  }

  void lex_tag(size_t tag, bool block) {
    emit(block ? Tok::BlockBegin : Tok::VarBegin, block ? "{%" : "{{", tag);
    size_t p = tag + 2;
    if (p < src_.size() && (src_[p] == '-' || src_[p] == '+')) ++p;
    std::vector<char> brackets;
    const char close = block ? '%' : '}';
    for (;;) {
      p = skip_ws(p);
      if (p >= src_.size()) fail(tag, block ? "unexpected end of template inside a block tag (missing %})"
                                            : "unexpected end of template inside {{ ... }} (missing }})");
      if (brackets.empty()) {
        char mod = '\0';
        size_t q = p;
        if (src_[q] == '-' || (block && src_[q] == '+')) mod = src_[q++];
        if (q + 1 < src_.size() && src_[q] == close && src_[q + 1] == '}') {
          emit(block ? Tok::BlockEnd : Tok::VarEnd, "", p);
          after_tag(q + 2, mod, block);
          return;
        }
      }
      p = lex_token(p, brackets);
    }
  }

  size_t lex_number(size_t p) {
    const size_t start = p;
    auto digits = [&](size_t q) {  // (\d+_)*\d+ ; returns end or q if none
      if (q >= src_.size() || !is_digit(src_[q])) return q;
      while (q < src_.size() && (is_digit(src_[q]) || (src_[q] == '_' && q + 1 < src_.size() && is_digit(src_[q + 1]))))
        ++q;
      return q;
    };
    p = digits(p);
    bool is_float = false;
    if (p + 1 < src_.size() && src_[p] == '.' && is_digit(src_[p + 1])) {
      p = digits(p + 1);
      is_float = true;
    }
    if (p < src_.size() && (src_[p] == 'e' || src_[p] == 'E')) {
      size_t q = p + 1;
      if (q < src_.size() && (src_[q] == '+' || src_[q] == '-')) ++q;
      const size_t e = digits(q);
      if (e > q) {
        p = e;
        is_float = true;
      }
    }
    std::string t = src_.substr(start, p - start);
    t.erase(std::remove(t.begin(), t.end(), '_'), t.end());
    emit(is_float ? Tok::Float : Tok::Int, t, start);
    return p;
  }

  size_t lex_string(size_t p) {
    const char q = src_[p];
    size_t e = p + 1;
    while (e < src_.size() && src_[e] != q) e += src_[e] == '\\' ? 2 : 1;
    if (e >= src_.size()) fail(p, "unterminated string literal");
    emit(Tok::String, unescape(std::string_view(src_).substr(p + 1, e - p - 1)), p);
    return e + 1;
  }

  size_t lex_token(size_t p, std::vector<char>& brackets) {
    const char c = src_[p];
    if (is_digit(c)) return lex_number(p);
    if (c == '\'' || c == '"') return lex_string(p);
    if (is_name_start(c)) {
      size_t e = p;
      while (e < src_.size() && is_name_char(src_[e])) ++e;
      emit(Tok::Name, std::string_view(src_).substr(p, e - p), p);
      return e;
    }
    static constexpr const char* kTwo[] = {"//", "**", "==", "!=", "<=", ">="};
    for (const char* op : kTwo)
      if (src_.compare(p, 2, op) == 0) {
        emit(Tok::Op, op, p);
        return p + 2;
      }
    if (!std::strchr("+-/*%~[](){}<>=.:|,;", c) || c == '\0') fail(p, std::string("unexpected character '") + c + "'");
    if (c == '(' || c == '[' || c == '{') {
      brackets.push_back(c == '(' ? ')' : c == '[' ? ']' : '}');
    } else if (c == ')' || c == ']' || c == '}') {
      if (brackets.empty()) fail(p, std::string("unexpected '") + c + "'");
      if (brackets.back() != c) fail(p, std::string("unexpected '") + c + "', expected '" + brackets.back() + "'");
      brackets.pop_back();
    }
    emit(Tok::Op, std::string(1, c), p);
    return p + 1;
  }

  std::string src_;
  LexOptions opt_;
  std::vector<size_t> line_starts_;
  std::vector<Token> out_;
  size_t pos_ = 0;
  bool line_starting_ = true;
};

}  // namespace

std::vector<Token> tokenize(const std::string& source, const LexOptions& opt) { return Lexer(source, opt).run(); }

}  // namespace lmgen::chat
