// UTF-8 text helpers with Python str semantics (see text.hpp).
#include "chat/text.hpp"

#include <utf8proc.h>

#include <algorithm>

#include "chat/value.hpp"
#include "util/utf8.hpp"

namespace lmgen::chat::text {

char32_t next_cp(std::string_view s, size_t& pos) {
  const auto byte = static_cast<unsigned char>(s[pos]);
  const int32_t cp = utf8::decode(s, pos);  // an ill-formed byte: -1, one byte consumed
  return cp < 0 ? byte : static_cast<char32_t>(cp);
}

std::vector<std::string_view> code_points(std::string_view s) {
  std::vector<std::string_view> out;
  out.reserve(s.size());
  for (size_t pos = 0; pos < s.size();) {
    const size_t start = pos;
    next_cp(s, pos);
    out.push_back(s.substr(start, pos - start));
  }
  return out;
}

size_t cp_count(std::string_view s) {
  size_t n = 0;
  for (size_t pos = 0; pos < s.size(); ++n) next_cp(s, pos);
  return n;
}

bool is_space(char32_t c) {
  return (c >= 9 && c <= 13) || (c >= 0x1c && c <= 0x20) || c == 0x85 || c == 0xa0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 || c == 0x202f || c == 0x205f || c == 0x3000;
}

bool is_alpha(char32_t c) {
  const auto cat = utf8proc_category(static_cast<utf8proc_int32_t>(c));
  return cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_LO;
}

bool is_digit(char32_t c) { return utf8proc_category(static_cast<utf8proc_int32_t>(c)) == UTF8PROC_CATEGORY_ND; }

namespace {

template <typename F>
std::string map_cps(std::string_view s, F f) {
  std::string out;
  out.reserve(s.size());
  for (size_t pos = 0; pos < s.size();) utf8::append(out, f(next_cp(s, pos)));
  return out;
}

char32_t cp_upper(char32_t c) {
  if (c < 0x80) return (c >= 'a' && c <= 'z') ? c - 32 : c;
  return static_cast<char32_t>(utf8proc_toupper(static_cast<utf8proc_int32_t>(c)));
}
char32_t cp_lower(char32_t c) {
  if (c < 0x80) return (c >= 'A' && c <= 'Z') ? c + 32 : c;
  return static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(c)));
}
bool cp_cased(char32_t c) { return cp_upper(c) != c || cp_lower(c) != c; }

}  // namespace

std::string upper(std::string_view s) { return map_cps(s, cp_upper); }
std::string lower(std::string_view s) { return map_cps(s, cp_lower); }

std::string capitalize(std::string_view s) {
  bool first = true;
  return map_cps(s, [&](char32_t c) {
    const char32_t r = first ? cp_upper(c) : cp_lower(c);
    first = false;
    return r;
  });
}

std::string py_title(std::string_view s) {
  bool prev_cased = false;
  return map_cps(s, [&](char32_t c) {
    const bool cased = cp_cased(c);
    const char32_t r = cased ? (prev_cased ? cp_lower(c) : cp_upper(c)) : c;
    prev_cased = cased;
    return r;
  });
}

bool is_lower(std::string_view s) {
  bool any = false;
  for (size_t pos = 0; pos < s.size();) {
    const char32_t c = next_cp(s, pos);
    if (cp_lower(c) != c) return false;
    any = any || cp_upper(c) != c;
  }
  return any;
}

bool is_upper(std::string_view s) {
  bool any = false;
  for (size_t pos = 0; pos < s.size();) {
    const char32_t c = next_cp(s, pos);
    if (cp_upper(c) != c) return false;
    any = any || cp_lower(c) != c;
  }
  return any;
}

std::string_view strip(std::string_view s, const std::string* chars, bool left, bool right) {
  std::vector<std::string_view> set;
  if (chars) {
    for (std::string_view c : code_points(*chars)) set.push_back(c);
  }
  auto strippable = [&](std::string_view cp) {
    if (!chars) {
      size_t p = 0;
      return is_space(next_cp(cp, p));
    }
    return std::find(set.begin(), set.end(), cp) != set.end();
  };
  std::vector<std::string_view> cps = code_points(s);
  size_t b = 0, e = cps.size();
  if (left)
    while (b < e && strippable(cps[b])) ++b;
  if (right)
    while (e > b && strippable(cps[e - 1])) --e;
  if (b == e) return {};
  const size_t start = static_cast<size_t>(cps[b].data() - s.data());
  const size_t end = static_cast<size_t>(cps[e - 1].data() - s.data()) + cps[e - 1].size();
  return s.substr(start, end - start);
}

namespace {

std::vector<std::string> split_ws(std::string_view s, long maxsplit, bool from_right) {
  std::vector<std::string_view> cps = code_points(s);
  auto sp = [&](size_t i) {
    size_t p = 0;
    return is_space(next_cp(cps[i], p));
  };
  std::vector<std::pair<size_t, size_t>> words;  // code point ranges
  const size_t n = cps.size();
  if (!from_right) {
    size_t i = 0;
    while (i < n) {
      while (i < n && sp(i)) ++i;
      if (i == n) break;
      if (maxsplit >= 0 && static_cast<long>(words.size()) == maxsplit) {
        words.emplace_back(i, n);  // the rest keeps its trailing whitespace, as in Python
        break;
      }
      size_t j = i;
      while (j < n && !sp(j)) ++j;
      words.emplace_back(i, j);
      i = j;
    }
  } else {
    size_t i = n;
    while (i > 0) {
      while (i > 0 && sp(i - 1)) --i;
      if (i == 0) break;
      if (maxsplit >= 0 && static_cast<long>(words.size()) == maxsplit) {
        words.emplace_back(0, i);  // the rest keeps its leading whitespace
        break;
      }
      size_t j = i;
      while (j > 0 && !sp(j - 1)) --j;
      words.emplace_back(j, i);
      i = j;
    }
    std::reverse(words.begin(), words.end());
  }
  std::vector<std::string> out;
  for (auto [b, e] : words) {
    const size_t start = static_cast<size_t>(cps[b].data() - s.data());
    const size_t end = static_cast<size_t>(cps[e - 1].data() - s.data()) + cps[e - 1].size();
    out.emplace_back(s.substr(start, end - start));
  }
  return out;
}

}  // namespace

std::vector<std::string> split(std::string_view s, const std::string* sep, long maxsplit, bool from_right) {
  if (!sep) return split_ws(s, maxsplit, from_right);
  if (sep->empty()) throw ValueError("empty separator");
  std::vector<std::string> out;
  if (!from_right) {
    size_t start = 0;
    while (maxsplit < 0 || static_cast<long>(out.size()) < maxsplit) {
      const size_t p = s.find(*sep, start);
      if (p == std::string_view::npos) break;
      out.emplace_back(s.substr(start, p - start));
      start = p + sep->size();
    }
    out.emplace_back(s.substr(start));
    return out;
  }
  size_t end = s.size();
  while (maxsplit < 0 || static_cast<long>(out.size()) < maxsplit) {
    if (end < sep->size()) break;
    const size_t p = s.rfind(*sep, end - sep->size());
    if (p == std::string_view::npos) break;
    out.emplace_back(s.substr(p + sep->size(), end - p - sep->size()));
    end = p;
  }
  out.emplace_back(s.substr(0, end));
  std::reverse(out.begin(), out.end());
  return out;
}

std::vector<std::string> splitlines(std::string_view s, bool keepends) {
  std::vector<std::string> out;
  size_t start = 0, pos = 0;
  while (pos < s.size()) {
    const size_t at = pos;
    const char32_t c = next_cp(s, pos);
    const bool brk = c == '\n' || c == '\r' || c == 0x0b || c == 0x0c || c == 0x1c || c == 0x1d || c == 0x1e ||
                     c == 0x85 || c == 0x2028 || c == 0x2029;
    if (!brk) continue;
    if (c == '\r' && pos < s.size() && s[pos] == '\n') ++pos;
    out.emplace_back(s.substr(start, (keepends ? pos : at) - start));
    start = pos;
  }
  if (start < s.size()) out.emplace_back(s.substr(start));
  return out;
}

std::string html_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&#34;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string replace(std::string_view s, std::string_view from, std::string_view to, long count, size_t max_bytes) {
  std::string out;
  auto add = [&](std::string_view piece) {
    if (out.size() + piece.size() > max_bytes) throw ValueError("string too long (limit " + std::to_string(max_bytes) + " bytes)");
    out += piece;
  };
  if (from.empty()) {  // Python inserts `to` between code points and at both ends
    long done = 0;
    for (std::string_view cp : code_points(s)) {
      if (count < 0 || done < count) {
        add(to);
        ++done;
      }
      add(cp);
    }
    if (count < 0 || done < count) add(to);
    return out;
  }
  size_t start = 0;
  long done = 0;
  while (count < 0 || done < count) {
    const size_t p = s.find(from, start);
    if (p == std::string_view::npos) break;
    add(s.substr(start, p - start));
    add(to);
    start = p + from.size();
    ++done;
  }
  add(s.substr(start));
  return out;
}

}  // namespace lmgen::chat::text
