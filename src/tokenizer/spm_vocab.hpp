// SentencePiece-style vocabulary of the score-ordered SPM tokenizers (GGUF "llama", llama2.c tokenizer.bin):
// token texts, scores, llama.cpp-style token attributes, a piece -> id hash map built once, the byte-fallback
// table, and the one score-ordered merge engine (llama.cpp/llama2.c bigram merging). The rank-ordered BPE of
// tokenizer.json is in bpe.hpp. Internal to the library.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "util/string_hash.hpp"

namespace lmgen::spm {

// The "▁" (U+2581) that SentencePiece uses for a space.
inline constexpr std::string_view kSpace = "\xE2\x96\x81";

// Token attributes, as llama.cpp derives them from GGUF token_type (1 normal, 2 unknown, 3 control,
// 4 user-defined, 5 unused, 6 byte); the attributes of both GGUF vocabularies (this one and tokenizer_bpe's). LSTRIP/RSTRIP: whitespace next to a matched special token is swallowed.
enum Attr : uint32_t {
  kUndefined = 0,
  kUnknown = 1u << 0,
  kUnused = 1u << 1,
  kNormal = 1u << 2,
  kControl = 1u << 3,
  kUserDefined = 1u << 4,
  kByte = 1u << 5,
  kLStrip = 1u << 7,
  kRStrip = 1u << 8,
};

// GGUF token_type value -> attributes. Returns false for a value outside 0..6.
bool attr_from_token_type(int32_t type, uint32_t& attr);

class Vocab {
 public:
  // Replaces the whole vocabulary. texts[i] is token i. Later duplicates of a text win the text -> id lookup
  // (as llama.cpp's token_to_id map does).
  void assign(std::vector<std::string> texts, std::vector<float> scores, std::vector<uint32_t> attrs);

  int32_t size() const { return static_cast<int32_t>(text_.size()); }
  bool valid(int32_t id) const { return id >= 0 && id < size(); }
  const std::string& text(int32_t id) const { return text_[id]; }
  float score(int32_t id) const { return score_[id]; }
  uint32_t attr(int32_t id) const { return attr_[id]; }
  // -1 when absent.
  int32_t find(std::string_view piece) const {
    auto it = map_.find(piece);
    return it == map_.end() ? -1 : it->second;
  }
  // The byte a "<0xNN>" token stands for (0 if the text is not of that form).
  static bool parse_byte_piece(std::string_view text, uint8_t& out);

  // llama.cpp llm_tokenizer_spm: `text` is already "▁"-escaped. Splits into UTF-8 characters, merges the
  // adjacent pair whose joined text is the highest-scoring token (ties: leftmost) until none is left, and emits
  // characters that are not tokens as byte tokens (unk_fallback if a byte has no token; throws if that is -1).
  void encode_score_merge(std::string_view text, std::vector<int32_t>& out, int32_t unk_fallback) const;

 private:
  std::vector<std::string> text_;
  std::vector<float> score_;
  std::vector<uint32_t> attr_;
  std::unordered_map<std::string_view, int32_t, StringHash, std::equal_to<>> map_;
  int32_t byte_to_id_[256] = {};  // "<0xNN>" (upper-case hex), else the one-byte piece, else -1
  bool word_split_ = false;  // every token satisfies space_only_leading()
};

// True if "▁" occurs in `token` only as a leading run ("▁▁ab" yes, "a▁b" no). When every token of a vocabulary
// has this form, no merge can join a character to a following "▁", so text can be merged word by word.
bool space_only_leading(std::string_view token);

// Replaces every ' ' by "▁".
std::string escape_spaces(std::string_view s);
// Replaces every "▁" by ' '.
std::string unescape_spaces(std::string_view s);

}  // namespace lmgen::spm
