// The HF tokenizer.json `normalizer`, for every tokenizer.json (byte-level BPE and SentencePiece-style BPE alike):
// Prepend, Replace (String pattern), Strip, NFC, NFD, NFKC, NFKD (utf8proc), Lowercase, and Sequences of those,
// with the HF tokenizers library's semantics.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace lmgen {

class Normalizer {
 public:
  // Builds from the tokenizer.json "normalizer" value (null -> identity). Throws Error naming `path` for anything
  // else. (The JSON was depth-checked when parsed: util/json_limits.hpp.)
  static Normalizer from_json(const nlohmann::json& j, const std::string& path);

  bool identity() const { return steps_.empty(); }
  // True if a Prepend step puts "▁" in front of the text (the decoder strips it again).
  bool prepends_space() const { return prepends_space_; }
  // Normalizes `s` in place. A Unicode step (normal form, Lowercase) leaves invalid UTF-8 untouched.
  void apply(std::string& s) const;

 private:
  enum class Kind { Prepend, Replace, StripLeft, StripRight, StripBoth, NFC, NFD, NFKC, NFKD, Lowercase };
  struct Step {
    Kind kind;
    std::string a, b;  // Prepend: text; Replace: pattern, content
  };
  void add(const nlohmann::json& j, const std::string& path);
  std::vector<Step> steps_;
  bool prepends_space_ = false;
};

// s with every occurrence of `pat` replaced by `with` (s itself if pat is empty).
std::string replace_all(std::string_view s, std::string_view pat, std::string_view with);

}  // namespace lmgen
