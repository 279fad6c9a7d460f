// Building blocks of the schema converter: GBNF literals and integer ranges as digit patterns.
#include <algorithm>
#include <cstdio>
#include <string>

#include "grammar/json_schema.hpp"

namespace lmgen::grammar {

std::string gbnf_literal(std::string_view text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    if (c == '"') out += "\\\"";
    else if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else if (c == '\r') out += "\\r";
    else if (c == '\t') out += "\\t";
    else if (c < 0x20 || c == 0x7F) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02X", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

namespace {

constexpr int kMaxDigits = 16;  // llama.cpp's integral-part: [0] | [1-9] [0-9]{0,15}

std::string digit_class(char lo, char hi) {
  if (lo == hi) return std::string("\"") + lo + "\"";
  return std::string("[") + lo + "-" + hi + "]";
}

std::string any_digits(size_t n) {
  if (n == 0) return "";
  return n == 1 ? "[0-9]" : "[0-9]{" + std::to_string(n) + "}";
}

// Numbers of exactly lo.size() == hi.size() digits between lo and hi (strings, lo <= hi), as alternatives.
void same_length(const std::string& lo, const std::string& hi, std::vector<std::string>& out, std::string prefix) {
  const size_t n = lo.size();
  if (n == 0) { out.push_back(prefix.empty() ? "\"\"" : prefix); return; }
  auto join = [](const std::string& a, const std::string& b) { return a.empty() ? b : b.empty() ? a : a + " " + b; };
  if (lo[0] == hi[0]) { same_length(lo.substr(1), hi.substr(1), out, join(prefix, digit_class(lo[0], lo[0]))); return; }
  const bool lo_rest_zero = lo.find_first_not_of('0', 1) == std::string::npos;
  const bool hi_rest_nine = hi.find_first_not_of('9', 1) == std::string::npos;
  char first_full = lo_rest_zero ? lo[0] : static_cast<char>(lo[0] + 1);
  char last_full = hi_rest_nine ? hi[0] : static_cast<char>(hi[0] - 1);
  if (!lo_rest_zero) same_length(lo.substr(1), std::string(n - 1, '9'), out, join(prefix, digit_class(lo[0], lo[0])));
  if (first_full <= last_full) out.push_back(join(join(prefix, digit_class(first_full, last_full)), any_digits(n - 1)));
  if (!hi_rest_nine) same_length(std::string(n - 1, '0'), hi.substr(1), out, join(prefix, digit_class(hi[0], hi[0])));
}

// Alternatives for the non-negative integers in [lo, hi] (hi < 0: unbounded, up to kMaxDigits digits).
void non_negative(int64_t lo, int64_t hi, std::vector<std::string>& out) {
  std::string lo_s = std::to_string(lo);
  if (hi < 0) {
    // lo's digit count from lo upward, then every longer number.
    same_length(lo_s, std::string(lo_s.size(), '9'), out, "");
    const int longer_min = static_cast<int>(lo_s.size());  // extra digits after [1-9]
    if (longer_min < kMaxDigits)
      out.push_back("[1-9] [0-9]{" + std::to_string(longer_min) + "," + std::to_string(kMaxDigits - 1) + "}");
    return;
  }
  const std::string hi_s = std::to_string(hi);
  for (size_t len = lo_s.size(); len <= hi_s.size(); ++len) {
    const std::string a = len == lo_s.size() ? lo_s : "1" + std::string(len - 1, '0');
    const std::string b = len == hi_s.size() ? hi_s : std::string(len, '9');
    same_length(a, b, out, "");
  }
}

std::string alternatives(const std::vector<std::string>& alts) {
  if (alts.size() == 1) return alts[0];
  std::string s = "(";
  for (size_t i = 0; i < alts.size(); ++i) s += (i ? " | " : "") + alts[i];
  return s + ")";
}

}  // namespace

std::string integer_range(bool has_lo, int64_t lo, bool has_hi, int64_t hi) {
  std::vector<std::string> alts;
  // Negative part: -[a, b] with a = max(1, -hi), b = -lo (or unbounded).
  if (!has_lo || lo < 0) {
    const int64_t a = has_hi && hi < 0 ? -hi : 1;
    std::vector<std::string> neg;
    non_negative(a, has_lo ? -lo : -1, neg);
    alts.push_back("\"-\" " + alternatives(neg));
  }
  if (!has_hi || hi >= 0) non_negative(has_lo ? std::max<int64_t>(lo, 0) : 0, has_hi ? hi : -1, alts);
  return alternatives(alts);
}

}  // namespace lmgen::grammar
