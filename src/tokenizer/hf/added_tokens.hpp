// The added tokens of an HF tokenizer.json (`added_tokens`) and the splitter that finds them in the input, for
// every tokenizer.json (byte-level BPE and SentencePiece-style BPE alike), with the HF tokenizers library's
// semantics: leftmost-longest matches; normalized=false tokens are matched on the raw text, the others on the
// normalized text; single_word / lstrip / rstrip as HF's AddedVocabulary (Rust regex \w and \s).
// Internal to the library.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "tokenizer/hf/normalizer.hpp"
#include "tokenizer/special_split.hpp"
#include "util/string_hash.hpp"

namespace lmgen {

struct AddedToken {
  int32_t id = -1;
  std::string content;
  bool single_word = false, lstrip = false, rstrip = false, normalized = true, special = false;
};

class AddedTokens {
 public:
  AddedTokens() = default;
  // From the "added_tokens" array (null: none). Throws Error naming `path` on a malformed entry.
  AddedTokens(const nlohmann::json& arr, const std::string& path);
  // Builds the match patterns: raw content for normalized=false tokens, normalized content for the others.
  void build_patterns(const Normalizer& n);
  bool has_patterns(bool normalized) const { return !patterns_[normalized ? 1 : 0].empty(); }
  // Splits `text` on the tokens of one kind into `out` (token fragments and text fragments, in order); with
  // parse_special false, special tokens are matched but left as text (HF encode_special_tokens).
  void split(std::string_view text, bool normalized, bool parse_special, std::vector<Fragment>& out) const;
  const AddedToken* by_id(int32_t id) const {
    auto it = by_id_.find(id);
    return it == by_id_.end() ? nullptr : &tokens_[it->second];
  }
  // Id of the added token with this content, -1 if none.
  int32_t find(std::string_view content) const {
    auto it = by_content_.find(content);
    return it == by_content_.end() ? -1 : it->second;
  }
  const std::vector<AddedToken>& tokens() const { return tokens_; }

 private:
  struct Pattern {
    std::string text;
    size_t token;  // index into tokens_
  };
  std::vector<AddedToken> tokens_;
  std::unordered_map<int32_t, size_t> by_id_;
  std::unordered_map<std::string, int32_t, StringHash, std::equal_to<>> by_content_;
  std::vector<Pattern> patterns_[2];  // [normalized]; each sorted by first byte then length (longest first)
  std::vector<uint32_t> first_[2];    // first_[k][byte] = index of the first pattern starting with that byte
};

}  // namespace lmgen
