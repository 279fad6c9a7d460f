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

bool is_ws(uint32_t c) { return utf8::is_white_space(c); }

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

std::string string_pattern(const json& j, const std::string& path, const char* what) {
  const json& p = j.at("pattern");
  if (p.is_object() && p.contains("String") && p["String"].is_string()) return p["String"];
  throw Error(path, std::string(what) + " with a non-string (regex) pattern is not supported");
}

std::string prepend_scheme_of(const json& j) {
  if (j.contains("prepend_scheme") && j["prepend_scheme"].is_string()) return j["prepend_scheme"];
  if (j.contains("add_prefix_space") && j["add_prefix_space"].is_boolean())
    return j["add_prefix_space"].get<bool>() ? "always" : "never";
  return "always";
}

}  // namespace detail

using namespace detail;

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

void AddedTokens::build_patterns(const lmgen::Normalizer& n) {
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
  if (!j.is_null()) add(j, path, lookup);
}

void PostProcessor::add(const json& j, const std::string& path,
                        const std::function<int32_t(const std::string&)>& lookup) {
  std::string type = j.value("type", std::string());
  if (type == "Sequence") {
    for (const json& p : j.at("processors")) add(p, path, lookup);
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
