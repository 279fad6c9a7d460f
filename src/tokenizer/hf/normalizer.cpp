// HF normalizers (Unicode normal forms via utf8proc) and lossy UTF-8 repair.
#include "tokenizer/hf/normalizer.hpp"

#include <utf8proc.h>

#include <cstdlib>

#include "lmgen/error.hpp"

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
      if (!utf8_valid(s)) return;
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
    if (!utf8_valid(s)) return;
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

namespace {
// Length of the valid UTF-8 sequence at s[i], or -(length of the maximal invalid subpart) (at least 1).
long utf8_seq(std::string_view s, size_t i) {
  auto u = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = u(i);
  if (c < 0x80) return 1;
  int need;
  unsigned char lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) need = 1;
  else if (c == 0xE0) need = 2, lo = 0xA0;
  else if (c >= 0xE1 && c <= 0xEC) need = 2;
  else if (c == 0xED) need = 2, hi = 0x9F;
  else if (c >= 0xEE && c <= 0xEF) need = 2;
  else if (c == 0xF0) need = 3, lo = 0x90;
  else if (c >= 0xF1 && c <= 0xF3) need = 3;
  else if (c == 0xF4) need = 3, hi = 0x8F;
  else return -1;
  for (int k = 1; k <= need; ++k) {
    if (i + k >= s.size()) return -k;
    unsigned char cc = u(i + k);
    if (k == 1 ? (cc < lo || cc > hi) : (cc < 0x80 || cc > 0xBF)) return -k;
  }
  return need + 1;
}
}  // namespace

bool utf8_valid(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    long n = utf8_seq(s, i);
    if (n < 0) return false;
    i += static_cast<size_t>(n);
  }
  return true;
}

std::string utf8_lossy(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    long n = utf8_seq(s, i);
    if (n > 0) {
      out.append(s.data() + i, static_cast<size_t>(n));
      i += static_cast<size_t>(n);
    } else {
      out.append("\xEF\xBF\xBD");
      i += static_cast<size_t>(-n);
    }
  }
  return out;
}

}  // namespace lmgen
