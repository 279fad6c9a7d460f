// HF tokenizer.json pipeline stages for the SentencePiece-style BPE tokenizer (see spm_hf_parts.hpp); the
// decoder is in spm_hf_decoder.cpp.
#include "tokenizer/hf/spm_hf_parts.hpp"

#include <utf8proc.h>

#include <algorithm>
#include <cstdlib>

#include "lmgen/error.hpp"
#include "util/utf8.hpp"
#include "util/utf8.hpp"
#include "tokenizer/spm_vocab.hpp"

namespace lmgen::spm::hf {

namespace {

using nlohmann::json;

// Decodes the code point at s[i] (advancing i); an ill-formed byte decodes as itself.
uint32_t next_cp(std::string_view s, size_t& i) {
  const size_t at = i;
  int32_t cp = utf8::decode(s, i);
  return cp >= 0 ? static_cast<uint32_t>(cp) : static_cast<unsigned char>(s[at]);
}

// Rust char::is_whitespace (Unicode White_Space).
bool is_ws(uint32_t c) {
  return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

bool is_word_char(uint32_t c) {
  if (c == '_') return true;
  auto cat = utf8proc_category(static_cast<utf8proc_int32_t>(c));
  return (cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_LO) ||
         (cat >= UTF8PROC_CATEGORY_ND && cat <= UTF8PROC_CATEGORY_NO);
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

namespace detail {

std::string replace_all(std::string_view s, std::string_view pat, std::string_view with) {
  if (pat.empty()) return std::string(s);
  std::string r;
  r.reserve(s.size());
  size_t i = 0;
  for (size_t m; (m = s.find(pat, i)) != std::string_view::npos; i = m + pat.size()) {
    r.append(s.substr(i, m - i));
    r.append(with);
  }
  r.append(s.substr(i));
  return r;
}

std::string string_pattern(const json& j, const std::string& path, const char* what) {
  const json& p = j.at("pattern");
  if (p.is_object() && p.contains("String") && p["String"].is_string()) return p["String"];
  throw Error(path, std::string(what) + " with a non-string (regex) pattern is not supported");
}

// Sequences nest; a hostile file could nest them deeply enough to exhaust the stack.
constexpr int kMaxDepth = 32;
void check_depth(int depth, const std::string& path, const char* what) {
  if (depth > kMaxDepth)
    throw Error(path, std::string(what) + " Sequences nested more than " + std::to_string(kMaxDepth) + " deep");
}

std::string prepend_scheme_of(const json& j) {
  if (j.contains("prepend_scheme") && j["prepend_scheme"].is_string()) return j["prepend_scheme"];
  if (j.contains("add_prefix_space") && j["add_prefix_space"].is_boolean())
    return j["add_prefix_space"].get<bool>() ? "always" : "never";
  return "always";
}

}  // namespace detail

using namespace detail;

// ---- Normalizer ----

Normalizer::Normalizer(const json& j, const std::string& path) {
  if (!j.is_null()) add(j, path, 0);
}

void Normalizer::add(const json& j, const std::string& path, int depth) {
  check_depth(depth, path, "normalizer");
  std::string type = j.value("type", std::string());
  if (type == "Sequence") {
    for (const json& n : j.at("normalizers")) add(n, path, depth + 1);
  } else if (type == "Prepend") {
    std::string p = j.at("prepend");
    if (p == kSpace) prepends_space_ = true;
    steps_.push_back({Kind::Prepend, p, {}});
  } else if (type == "Replace") {
    steps_.push_back({Kind::Replace, string_pattern(j, path, "Replace normalizer"), j.at("content").get<std::string>()});
  } else if (type == "Strip") {
    bool l = j.value("strip_left", false), r = j.value("strip_right", false);
    if (l || r) steps_.push_back({l && r ? Kind::StripBoth : l ? Kind::StripLeft : Kind::StripRight, {}, {}});
  } else if (type == "NFC") {
    steps_.push_back({Kind::NFC, {}, {}});
  } else if (type == "NFD") {
    steps_.push_back({Kind::NFD, {}, {}});
  } else if (type == "NFKC") {
    steps_.push_back({Kind::NFKC, {}, {}});
  } else if (type == "NFKD") {
    steps_.push_back({Kind::NFKD, {}, {}});
  } else if (type == "Lowercase") {
    steps_.push_back({Kind::Lowercase, {}, {}});
  } else {
    throw Error(path, "normalizer '" + type + "' is not supported by the SentencePiece-style tokenizer");
  }
}

std::string Normalizer::apply(std::string_view in) const {
  std::string s(in);
  for (const Step& st : steps_) {
    switch (st.kind) {
      case Kind::Prepend:
        if (!s.empty()) s.insert(0, st.a);
        break;
      case Kind::Replace:
        s = replace_all(s, st.a, st.b);
        break;
      case Kind::StripLeft:
      case Kind::StripRight:
      case Kind::StripBoth: {
        size_t b = st.kind == Kind::StripRight ? 0 : ws_run_end(s, 0);
        size_t e = st.kind == Kind::StripLeft ? s.size() : ws_run_start(s, s.size());
        s = b < e ? s.substr(b, e - b) : std::string();
        break;
      }
      case Kind::NFC:
      case Kind::NFD:
      case Kind::NFKC:
      case Kind::NFKD: {
        int opt = UTF8PROC_STABLE;
        if (st.kind == Kind::NFC || st.kind == Kind::NFKC) opt |= UTF8PROC_COMPOSE;
        else opt |= UTF8PROC_DECOMPOSE;
        if (st.kind == Kind::NFKC || st.kind == Kind::NFKD) opt |= UTF8PROC_COMPAT;
        utf8proc_uint8_t* out = nullptr;
        auto n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(s.data()),
                              static_cast<utf8proc_ssize_t>(s.size()), &out, static_cast<utf8proc_option_t>(opt));
        if (n >= 0) s.assign(reinterpret_cast<const char*>(out), static_cast<size_t>(n));
        std::free(out);
        break;
      }
      case Kind::Lowercase: {
        std::string r;
        r.reserve(s.size());
        for (size_t i = 0; i < s.size();) {
          size_t at = i;
          uint32_t cp = next_cp(s, i);
          if (cp < 0x80 || i - at > 1) {
            utf8proc_uint8_t buf[4];
            auto n = utf8proc_encode_char(utf8proc_tolower(static_cast<utf8proc_int32_t>(cp)), buf);
            r.append(reinterpret_cast<const char*>(buf), static_cast<size_t>(n));
          } else {
            r += s[at];  // invalid byte kept as is
          }
        }
        s = std::move(r);
        break;
      }
    }
  }
  return s;
}

// ---- AddedTokens ----

AddedTokens::AddedTokens(const json& arr, const std::string& path) {
  if (!arr.is_array()) throw Error(path, "added_tokens is not an array");
  for (const json& e : arr) {
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
    std::string p = t.normalized ? n.apply(t.content) : t.content;
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

std::vector<Piece> AddedTokens::split(std::string_view s, bool normalized, bool parse_special) const {
  std::vector<Piece> out;
  if (s.empty()) return out;
  const auto& ps = patterns_[normalized ? 1 : 0];
  if (ps.empty()) {
    out.push_back({-1, s, true});
    return out;
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
    if (emitted < start) out.push_back({-1, s.substr(emitted, start - emitted), emitted == 0});
    out.push_back({t.id, {}, false});
    emitted = stop;
    i = std::max(i, stop);
  }
  if (emitted < s.size()) out.push_back({-1, s.substr(emitted), emitted == 0});
  return out;
}

// ---- PostProcessor ----

PostProcessor::PostProcessor(const json& j, const std::string& path,
                             const std::function<int32_t(const std::string&)>& lookup) {
  if (!j.is_null()) add(j, path, lookup, 0);
}

void PostProcessor::add(const json& j, const std::string& path,
                        const std::function<int32_t(const std::string&)>& lookup, int depth) {
  check_depth(depth, path, "post-processor");
  std::string type = j.value("type", std::string());
  if (type == "Sequence") {
    for (const json& p : j.at("processors")) add(p, path, lookup, depth + 1);
    return;
  }
  if (type == "ByteLevel") return;  // only adjusts offsets
  if (type != "TemplateProcessing")
    throw Error(path, "post-processor '" + type + "' is not supported by the SentencePiece-style tokenizer");
  static const json no_specials = json::object();
  const json& specials = j.contains("special_tokens") ? j["special_tokens"] : no_specials;
  std::vector<Item> items;
  for (const json& it : j.at("single")) {
    if (it.contains("Sequence")) {
      items.push_back({true, {}});
    } else if (it.contains("SpecialToken")) {
      std::string name = it["SpecialToken"].at("id");
      Item item;
      if (specials.contains(name) && specials[name].contains("ids")) {
        for (const json& id : specials[name]["ids"]) {
          int64_t v = id.get<int64_t>();
          if (v < 0 || v >= (int64_t{1} << 24))
            throw Error(path, "post-processor special token '" + name + "' has id " + std::to_string(v) +
                                  " out of range");
          item.ids.push_back(static_cast<int32_t>(v));
        }
      } else {
        int32_t id = lookup(name);
        if (id < 0) throw Error(path, "post-processor names unknown special token '" + name + "'");
        item.ids.push_back(id);
      }
      items.push_back(std::move(item));
    } else {
      throw Error(path, "post-processor template item is neither a SpecialToken nor a Sequence");
    }
  }
  templates_.push_back(std::move(items));
}

std::vector<int32_t> PostProcessor::apply(const std::vector<int32_t>& ids) const {
  std::vector<int32_t> cur = ids;
  for (const auto& tpl : templates_) {
    std::vector<int32_t> next;
    next.reserve(cur.size() + 4);
    for (const Item& it : tpl) {
      if (it.sequence)
        next.insert(next.end(), cur.begin(), cur.end());
      else
        next.insert(next.end(), it.ids.begin(), it.ids.end());
    }
    cur = std::move(next);
  }
  return cur;
}

int32_t PostProcessor::first_special() const {
  if (templates_.empty() || templates_.front().empty()) return -1;
  const Item& it = templates_.front().front();
  return !it.sequence && !it.ids.empty() ? it.ids.front() : -1;
}

int32_t PostProcessor::max_id() const {
  int32_t m = -1;
  for (const auto& tpl : templates_)
    for (const Item& it : tpl)
      for (int32_t id : it.ids) m = std::max(m, id);
  return m;
}

}  // namespace lmgen::spm::hf
