// HF normalizers (Unicode normal forms and case via utf8proc; see normalizer.hpp).
#include "tokenizer/hf/normalizer.hpp"

#include <utf8proc.h>

#include <cstdlib>

#include "lmgen/error.hpp"
#include "util/utf8.hpp"

namespace lmgen {

namespace {

bool is_ascii(std::string_view s) {
  for (unsigned char c : s)
    if (c >= 0x80) return false;
  return true;
}

// Removes leading (left) / trailing (right) Unicode White_Space.
void strip(std::string& s, bool left, bool right) {
  size_t first = s.size(), end = 0;  // first non-space byte, end of the last non-space character
  for (size_t i = 0; i < s.size();) {
    size_t at = i;
    int32_t cp = utf8::decode(s, i);
    if (cp >= 0 && utf8::is_white_space(static_cast<uint32_t>(cp))) continue;
    if (first == s.size()) first = at;
    end = i;
  }
  size_t b = left ? first : 0, e = right ? end : s.size();
  s = b < e ? s.substr(b, e - b) : std::string();
}

void lowercase(std::string& s) {
  if (is_ascii(s)) {
    for (char& c : s)
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return;
  }
  if (!utf8::valid(s)) return;
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    int32_t cp = utf8::decode(s, i);
    utf8::append(out, static_cast<uint32_t>(utf8proc_tolower(cp)));
  }
  s.swap(out);
}

void normal_form(std::string& s, int opts) {
  if (is_ascii(s) || !utf8::valid(s)) return;  // ASCII is invariant under every normal form
  utf8proc_uint8_t* out = nullptr;
  utf8proc_ssize_t len =
      utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(s.data()), static_cast<utf8proc_ssize_t>(s.size()), &out,
                   static_cast<utf8proc_option_t>(UTF8PROC_STABLE | opts));
  if (len >= 0) s.assign(reinterpret_cast<const char*>(out), static_cast<size_t>(len));
  std::free(out);
}

}  // namespace

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

Normalizer Normalizer::from_json(const nlohmann::json& j, const std::string& path) {
  Normalizer n;
  if (!j.is_null()) n.add(j, path);
  return n;
}

void Normalizer::add(const nlohmann::json& j, const std::string& path) {
  if (!j.is_object() || !j.contains("type") || !j["type"].is_string())
    throw Error(path, "normalizer: expected an object with a \"type\"");
  const std::string type = j["type"].get<std::string>();
  auto text = [&](const char* key) {
    if (!j.contains(key) || !j[key].is_string()) throw Error(path, type + " normalizer without string \"" + key + "\"");
    return j[key].get<std::string>();
  };
  if (type == "Sequence") {
    if (!j.contains("normalizers") || !j["normalizers"].is_array())
      throw Error(path, "normalizer Sequence without \"normalizers\" array");
    for (const auto& sub : j["normalizers"]) add(sub, path);
  } else if (type == "Prepend") {
    std::string p = text("prepend");
    if (p == "\xE2\x96\x81") prepends_space_ = true;
    steps_.push_back({Kind::Prepend, std::move(p), {}});
  } else if (type == "Replace") {
    const nlohmann::json& p = j.contains("pattern") ? j["pattern"] : nlohmann::json();
    if (!p.is_object() || !p.contains("String") || !p["String"].is_string())
      throw Error(path, "Replace normalizer with a non-string (regex) pattern is not supported");
    steps_.push_back({Kind::Replace, p["String"].get<std::string>(), text("content")});
  } else if (type == "Strip") {
    bool l = j.value("strip_left", false), r = j.value("strip_right", false);
    if (l || r) steps_.push_back({l && r ? Kind::StripBoth : l ? Kind::StripLeft : Kind::StripRight, {}, {}});
  } else if (type == "NFC" || type == "NFD" || type == "NFKC" || type == "NFKD") {
    steps_.push_back({type == "NFC" ? Kind::NFC : type == "NFD" ? Kind::NFD : type == "NFKC" ? Kind::NFKC : Kind::NFKD, {}, {}});
  } else if (type == "Lowercase") {
    steps_.push_back({Kind::Lowercase, {}, {}});
  } else {
    throw Error(path, "unsupported normalizer type '" + type + "'");
  }
}

void Normalizer::apply(std::string& s) const {
  for (const Step& st : steps_) {
    switch (st.kind) {
      case Kind::Prepend:
        if (!s.empty()) s.insert(0, st.a);
        break;
      case Kind::Replace:
        if (s.find(st.a) != std::string::npos) s = replace_all(s, st.a, st.b);
        break;
      case Kind::StripLeft: strip(s, true, false); break;
      case Kind::StripRight: strip(s, false, true); break;
      case Kind::StripBoth: strip(s, true, true); break;
      case Kind::NFC: normal_form(s, UTF8PROC_COMPOSE); break;
      case Kind::NFD: normal_form(s, UTF8PROC_DECOMPOSE); break;
      case Kind::NFKC: normal_form(s, UTF8PROC_COMPOSE | UTF8PROC_COMPAT); break;
      case Kind::NFKD: normal_form(s, UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT); break;
      case Kind::Lowercase: lowercase(s); break;
    }
  }
}

}  // namespace lmgen
