// HF added tokens and their splitter (see added_tokens.hpp).
#include "tokenizer/hf/added_tokens.hpp"

#include <algorithm>

#include "lmgen/error.hpp"
#include "tokenizer/pretokenizer.hpp"
#include "util/utf8.hpp"

namespace lmgen {

namespace {

// Decodes the code point at s[i] (advancing i); an ill-formed byte decodes as itself.
uint32_t next_cp(std::string_view s, size_t& i) {
  const size_t at = i;
  int32_t cp = utf8::decode(s, i);
  return cp >= 0 ? static_cast<uint32_t>(cp) : static_cast<unsigned char>(s[at]);
}

bool is_ws(uint32_t c) { return utf8::is_white_space(c); }

// Rust regex \w (Unicode): Alphabetic, marks, decimal digits, connector punctuation, ZWNJ/ZWJ.
bool is_word_char(uint32_t c) {
  if (c < 0x80) return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
  static const Regex re("^[\\p{Alphabetic}\\p{M}\\p{Nd}\\p{Pc}\\x{200C}\\x{200D}]", "single_word");
  std::string ch;
  utf8::append(ch, c);
  bool m = false;
  re.for_each_match(ch, [&](size_t, size_t) { m = true; });
  return m;
}

// Start of the whitespace run that ends at `end`.
size_t ws_run_start(std::string_view s, size_t end) {
  size_t i = 0, run = end;
  bool in_run = false;
  while (i < end) {
    size_t at = i;
    bool w = is_ws(next_cp(s, i));
    if (w && !in_run) run = at;
    in_run = w;
  }
  return in_run ? run : end;
}

size_t ws_run_end(std::string_view s, size_t begin) {
  size_t i = begin;
  while (i < s.size()) {
    size_t at = i;
    if (!is_ws(next_cp(s, i))) return at;
  }
  return s.size();
}

}  // namespace


AddedTokens::AddedTokens(const nlohmann::json& arr, const std::string& path) {
  if (arr.is_null()) return;
  if (!arr.is_array()) throw Error(path, "added_tokens is not an array");
  for (const nlohmann::json& e : arr) {
    AddedToken t;
    if (!e.is_object() || !e.contains("id") || !e["id"].is_number_integer() || !e.contains("content") ||
        !e["content"].is_string())
      throw Error(path, "added_tokens entry " + std::to_string(tokens_.size()) +
                            " lacks an integer \"id\" or a string \"content\"");
    int64_t id = e["id"].get<int64_t>();
    t.content = e["content"];
    if (id < 0 || id >= (int64_t{1} << 24))
      throw Error(path, "added token '" + t.content + "' has id " + std::to_string(id) + " out of range");
    if (t.content.empty()) throw Error(path, "added token " + std::to_string(id) + " has empty content");
    t.id = static_cast<int32_t>(id);
    t.single_word = e.value("single_word", false);
    t.lstrip = e.value("lstrip", false);
    t.rstrip = e.value("rstrip", false);
    t.normalized = e.value("normalized", !e.value("special", false));
    t.special = e.value("special", false);
    by_id_[t.id] = tokens_.size();
    by_content_[t.content] = t.id;
    tokens_.push_back(std::move(t));
  }
}

void AddedTokens::build_patterns(const Normalizer& n) {
  for (int k = 0; k < 2; ++k) {
    patterns_[k].clear();
    first_[k].assign(257, 0);
  }
  for (size_t i = 0; i < tokens_.size(); ++i) {
    const AddedToken& t = tokens_[i];
    std::string p = t.content;
    if (t.normalized) n.apply(p);
    if (!p.empty()) patterns_[t.normalized ? 1 : 0].push_back({std::move(p), i});
  }
  for (int k = 0; k < 2; ++k) {
    auto& ps = patterns_[k];
    std::stable_sort(ps.begin(), ps.end(), [](const Pattern& a, const Pattern& b) {
      auto fa = static_cast<unsigned char>(a.text[0]), fb = static_cast<unsigned char>(b.text[0]);
      return fa != fb ? fa < fb : a.text.size() > b.text.size();
    });
    // first_[k][c] .. first_[k][c+1]: the patterns starting with byte c.
    size_t j = 0;
    for (int c = 0; c <= 256; ++c) {
      while (j < ps.size() && static_cast<unsigned char>(ps[j].text[0]) < c) ++j;
      first_[k][c] = static_cast<uint32_t>(j);
    }
  }
}

void AddedTokens::split(std::string_view s, bool normalized, bool parse_special, std::vector<Fragment>& out) const {
  out.clear();
  if (s.empty()) return;
  const auto& ps = patterns_[normalized ? 1 : 0];
  if (ps.empty()) {
    out.push_back({-1, 0, s.size()});
    return;
  }
  const auto& first = first_[normalized ? 1 : 0];
  size_t emitted = 0;  // end of what has been emitted so far (HF start_offset)
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    const Pattern* hit = nullptr;
    for (uint32_t k = first[c]; k < first[c + 1]; ++k)
      if (s.compare(i, ps[k].text.size(), ps[k].text) == 0) {
        hit = &ps[k];
        break;
      }
    if (!hit) {
      ++i;
      continue;
    }
    size_t start = i, stop = i + hit->text.size();
    i = stop;  // matches never overlap
    const AddedToken& t = tokens_[hit->token];
    if (t.special && !parse_special) continue;
    if (t.single_word) {
      bool left_ok = true, right_ok = true;
      if (start > 0) {
        size_t b = start;
        while (b > 0 && (static_cast<unsigned char>(s[b - 1]) & 0xC0) == 0x80) --b;
        if (b > 0) --b;
        size_t k = b;
        left_ok = !is_word_char(next_cp(s, k));
      }
      if (stop < s.size()) {
        size_t k = stop;
        right_ok = !is_word_char(next_cp(s, k));
      }
      if (!left_ok || !right_ok) continue;
    }
    if (t.lstrip) start = std::max(ws_run_start(s, start), emitted);
    if (t.rstrip) stop = ws_run_end(s, stop);
    if (emitted < start) out.push_back({-1, emitted, start});
    out.push_back({t.id, start, stop});
    emitted = stop;
    i = std::max(i, stop);
  }
  if (emitted < s.size()) out.push_back({-1, emitted, s.size()});
}

}  // namespace lmgen
