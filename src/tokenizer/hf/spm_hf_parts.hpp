// Pipeline stages of an HF tokenizer.json, for the SentencePiece-style (non byte-level) BPE tokenizer:
// added-token matching, normalizer, pre-tokenizer, post-processor and decoder, each built from its JSON
// description with the HF tokenizers library's semantics. Internal to the library.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "tokenizer/hf/normalizer.hpp"

namespace lmgen::spm::hf {

namespace detail {
// The String pattern of a Replace decoder (a Regex pattern is refused).
std::string string_pattern(const nlohmann::json& j, const std::string& path, const char* what);
// Metaspace "prepend_scheme" (or the legacy "add_prefix_space"): "always", "first" or "never".
std::string prepend_scheme_of(const nlohmann::json& j);
}  // namespace detail

class PostProcessor {
 public:
  PostProcessor() = default;
  PostProcessor(const nlohmann::json& j, const std::string& path,
                const std::function<int32_t(const std::string&)>& lookup);
  std::vector<int32_t> apply(const std::vector<int32_t>& ids) const;
  // Id of the special token a single sequence starts with (-1 if none): the BOS it adds.
  int32_t first_special() const;
  int32_t max_id() const;  // largest id it adds (-1 if none)

 private:
  struct Item {
    bool sequence = false;
    std::vector<int32_t> ids;
  };
  void add(const nlohmann::json& j, const std::string& path,
           const std::function<int32_t(const std::string&)>& lookup);
  std::vector<std::vector<Item>> templates_;  // applied in order
};

class Decoder {
 public:
  Decoder() = default;
  Decoder(const nlohmann::json& j, const std::string& path);
  std::string decode(std::vector<std::string> tokens) const;
  // One token's text with the per-token replacements only (no strip, no byte fusing).
  std::string piece(std::string_view token) const;

 private:
  enum class Kind { Replace, ByteFallback, Fuse, Strip, Metaspace };
  struct Step {
    Kind kind;
    std::string a, b;  // Replace: pattern, content; Strip: content char; Metaspace: replacement
    size_t start = 0, stop = 0;
    bool flag = false;  // Metaspace: strip the replacement from the first token
  };
  void add(const nlohmann::json& j, const std::string& path);
  bool none_ = true;
  std::vector<Step> steps_;
};

}  // namespace lmgen::spm::hf
