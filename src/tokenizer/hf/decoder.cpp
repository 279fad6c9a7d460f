// HF decoders (see decoder.hpp).
#include "tokenizer/hf/decoder.hpp"

#include "lmgen/error.hpp"
#include "tokenizer/hf/normalizer.hpp"
#include "tokenizer/pretokenizer.hpp"
#include "tokenizer/spm_merge.hpp"
#include "tokenizer/vocab.hpp"
#include "util/utf8.hpp"

namespace lmgen {

using nlohmann::json;

namespace {

// The String pattern of a Replace decoder (a Regex pattern is refused).
std::string string_pattern(const json& j, const std::string& path, const char* what) {
  const json& p = j.at("pattern");
  if (p.is_object() && p.contains("String") && p["String"].is_string()) return p["String"];
  throw Error(path, std::string(what) + " with a non-string (regex) pattern is not supported");
}

// Metaspace "prepend_scheme" (or the legacy "add_prefix_space"): "always", "first" or "never".
std::string prepend_scheme_of(const json& j) {
  if (j.contains("prepend_scheme") && j["prepend_scheme"].is_string()) return j["prepend_scheme"];
  if (j.contains("add_prefix_space") && j["add_prefix_space"].is_boolean())
    return j["add_prefix_space"].get<bool>() ? "always" : "never";
  return "always";
}

}  // namespace

Decoder::Decoder(const json& j, const std::string& path) {
  if (j.is_null()) return;
  none_ = false;
  add(j, path);
}

void Decoder::add(const json& j, const std::string& path) {
  std::string type = j.value("type", std::string());
  if (type == "Sequence") {
    for (const json& d : j.at("decoders")) add(d, path);
  } else if (type == "Replace") {
    steps_.push_back({Kind::Replace, string_pattern(j, path, "Replace decoder"), j.at("content").get<std::string>()});
  } else if (type == "ByteFallback") {
    steps_.push_back({Kind::ByteFallback, {}, {}});
  } else if (type == "Fuse") {
    steps_.push_back({Kind::Fuse, {}, {}});
  } else if (type == "Strip") {
    Step s{Kind::Strip, j.at("content").get<std::string>(), {}};
    s.start = j.value("start", size_t{0});
    s.stop = j.value("stop", size_t{0});
    steps_.push_back(std::move(s));
  } else if (type == "ByteLevel") {
    steps_.push_back({Kind::ByteLevel, {}, {}});
  } else if (type == "Metaspace") {
    Step s{Kind::Metaspace, j.value("replacement", std::string(spm::kSpace)), {}};
    s.flag = prepend_scheme_of(j) != "never";
    steps_.push_back(std::move(s));
  } else {
    throw Error(path, "decoder '" + type + "' is not supported");
  }
}

std::string Decoder::decode(std::vector<std::string> toks) const {
  if (none_) {
    std::string r;
    for (size_t i = 0; i < toks.size(); ++i) r += (i ? " " : "") + toks[i];
    return r;
  }
  for (const Step& st : steps_) {
    switch (st.kind) {
      case Kind::Replace:
        for (auto& t : toks) t = lmgen::replace_all(t, st.a, st.b);
        break;
      case Kind::ByteFallback: {
        std::vector<std::string> out;
        std::string bytes;
        size_t nbytes = 0;
        auto flush = [&] {
          if (nbytes == 0) return;
          if (utf8::valid(bytes)) {
            out.push_back(bytes);
          } else {
            for (size_t k = 0; k < nbytes; ++k) out.emplace_back("\xEF\xBF\xBD");  // U+FFFD per byte token
          }
          bytes.clear();
          nbytes = 0;
        };
        for (auto& t : toks) {
          uint8_t b = 0;
          if (Vocab::parse_byte_piece(t, b)) {
            bytes += static_cast<char>(b);
            ++nbytes;
          } else {
            flush();
            out.push_back(std::move(t));
          }
        }
        flush();
        toks = std::move(out);
        break;
      }
      case Kind::Fuse: {
        std::string all;
        for (auto& t : toks) all += t;
        toks.assign(1, std::move(all));
        break;
      }
      case Kind::Strip:
        for (auto& t : toks) {
          size_t b = 0;
          for (size_t k = 0; k < st.start && t.compare(b, st.a.size(), st.a) == 0; ++k) b += st.a.size();
          size_t e = t.size();
          for (size_t k = 0; k < st.stop && e >= b + st.a.size() && t.compare(e - st.a.size(), st.a.size(), st.a) == 0;
               ++k)
            e -= st.a.size();
          t = t.substr(b, e - b);
        }
        break;
      case Kind::ByteLevel: {  // each token's GPT-2 byte characters back to bytes (as written if any is not one)
        std::string all, bytes;
        for (const auto& t : toks) all += byte_level_decode(t, bytes) ? bytes : t;
        toks.assign(1, utf8::lossy(all));
        break;
      }
      case Kind::Metaspace:
        for (size_t i = 0; i < toks.size(); ++i) toks[i] = lmgen::replace_all(toks[i], st.a, i == 0 && st.flag ? "" : " ");
        break;
    }
  }
  std::string r;
  for (auto& t : toks) r += t;
  return r;
}

std::string Decoder::piece(std::string_view token) const {
  std::string t(token);
  for (const Step& st : steps_) {
    if (st.kind == Kind::Replace) t = lmgen::replace_all(t, st.a, st.b);
    if (st.kind == Kind::Metaspace) t = lmgen::replace_all(t, st.a, " ");
    if (std::string bytes; st.kind == Kind::ByteLevel && byte_level_decode(t, bytes)) t = std::move(bytes);
  }
  return t;
}

}  // namespace lmgen
