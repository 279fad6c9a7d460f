// Text normalizers of HF tokenizer.json (`normalizer`), for the byte-level BPE tokenizers, and UTF-8 repair.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace lmgen {

class Normalizer {
 public:
  // Builds from the tokenizer.json "normalizer" value (null -> identity). Supported: NFC, NFD, NFKC, NFKD,
  // Lowercase, Sequence of those. Throws Error naming `path` for anything else (and for Sequences nested more than
  // 32 deep).
  static Normalizer from_json(const nlohmann::json& j, const std::string& path, int depth = 0);

  bool identity() const { return steps_.empty(); }
  // Normalizes `s` in place. Invalid UTF-8 is left untouched.
  void apply(std::string& s) const;

 private:
  enum class Kind { NFC, NFD, NFKC, NFKD, Lowercase };
  std::vector<Kind> steps_;
};

}  // namespace lmgen
