// HF normalizers (Unicode normal forms via utf8proc) and lossy UTF-8 repair.
#include "tokenizer/hf/normalizer.hpp"

#include <utf8proc.h>

#include <cstdlib>

#include "lmgen/error.hpp"
#include "util/utf8.hpp"

namespace lmgen {

Normalizer Normalizer::from_json(const nlohmann::json& j, const std::string& path, int depth) {
  Normalizer n;
  if (j.is_null()) return n;
  if (depth > 32) throw Error(path, "normalizer Sequences nested too deeply");
  if (!j.is_object() || !j.contains("type") || !j["type"].is_string())
    throw Error(path, "normalizer: expected an object with a \"type\"");
  std::string type = j["type"].get<std::string>();
  if (type == "Sequence") {
    if (!j.contains("normalizers") || !j["normalizers"].is_array())
      throw Error(path, "normalizer Sequence without \"normalizers\" array");
    for (const auto& sub : j["normalizers"]) {
      Normalizer s = from_json(sub, path, depth + 1);
      n.steps_.insert(n.steps_.end(), s.steps_.begin(), s.steps_.end());
    }
  } else if (type == "NFC") {
    n.steps_.push_back(Kind::NFC);
  } else if (type == "NFD") {
    n.steps_.push_back(Kind::NFD);
  } else if (type == "NFKC") {
    n.steps_.push_back(Kind::NFKC);
  } else if (type == "NFKD") {
    n.steps_.push_back(Kind::NFKD);
  } else if (type == "Lowercase") {
    n.steps_.push_back(Kind::Lowercase);
  } else {
    throw Error(path, "unsupported normalizer type '" + type + "' for a byte-level BPE tokenizer");
  }
  return n;
}

void Normalizer::apply(std::string& s) const {
  if (steps_.empty()) return;
  bool ascii = true;
  for (unsigned char c : s)
    if (c >= 0x80) {
      ascii = false;
      break;
    }
  for (Kind k : steps_) {
    if (k == Kind::Lowercase) {
      if (ascii) {
        for (char& c : s)
          if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        continue;
      }
      if (!utf8::valid(s)) return;
      std::string out;
      out.reserve(s.size());
      const auto* p = reinterpret_cast<const utf8proc_uint8_t*>(s.data());
      utf8proc_ssize_t i = 0, n = static_cast<utf8proc_ssize_t>(s.size());
      while (i < n) {
        utf8proc_int32_t cp = 0;
        utf8proc_ssize_t len = utf8proc_iterate(p + i, n - i, &cp);
        if (len <= 0) return;
        i += len;
        utf8proc_uint8_t buf[4];
        utf8proc_ssize_t w = utf8proc_encode_char(utf8proc_tolower(cp), buf);
        out.append(reinterpret_cast<const char*>(buf), static_cast<size_t>(w));
      }
      s.swap(out);
      continue;
    }
    if (ascii) continue;  // ASCII is invariant under every normal form
    if (!utf8::valid(s)) return;
    int opts = UTF8PROC_STABLE;
    switch (k) {
      case Kind::NFC: opts |= UTF8PROC_COMPOSE; break;
      case Kind::NFD: opts |= UTF8PROC_DECOMPOSE; break;
      case Kind::NFKC: opts |= UTF8PROC_COMPOSE | UTF8PROC_COMPAT; break;
      case Kind::NFKD: opts |= UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT; break;
      default: break;
    }
    utf8proc_uint8_t* out = nullptr;
    utf8proc_ssize_t len = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(s.data()),
                                        static_cast<utf8proc_ssize_t>(s.size()), &out,
                                        static_cast<utf8proc_option_t>(opts));
    if (len < 0) {
      std::free(out);
      return;
    }
    s.assign(reinterpret_cast<const char*>(out), static_cast<size_t>(len));
    std::free(out);
  }
}

}  // namespace lmgen
