// The one vocabulary table of every tokenizer (GGUF "llama" and "gpt2", llama2.c tokenizer.bin, tokenizer.json):
// id -> token text, a score per token (SentencePiece-style vocabularies; 0 elsewhere), llama.cpp-style token
// attributes, and the text -> id index (bpe::StrIdMap over the texts). What a tokenizer derives from its tokens
// for its own algorithm (decoded pieces, raw-byte indexes, byte tables) stays with that tokenizer.
// Internal to the library.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/bpe_merge.hpp"

namespace lmgen {

class Vocab {
 public:
  // Token attributes, as llama.cpp derives them from GGUF token_type (1 normal, 2 unknown, 3 control,
  // 4 user-defined, 5 unused, 6 byte). LSTRIP/RSTRIP: whitespace next to a matched special token is swallowed.
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
  static bool attr_from_token_type(int32_t type, uint32_t& attr);
  // The byte a "<0xNN>" token stands for (false if the text is not of that form).
  static bool parse_byte_piece(std::string_view text, uint8_t& out);

  Vocab() = default;
  // The index refers to this object's own text table: a move re-points it (and leaves `o` empty); no copies.
  Vocab(Vocab&& o) noexcept { *this = std::move(o); }
  Vocab& operator=(Vocab&& o) noexcept;
  Vocab(const Vocab&) = delete;
  Vocab& operator=(const Vocab&) = delete;

  // Replaces the whole vocabulary: texts[i] is token i, every token is indexed in id order, so a later duplicate
  // of a text wins the text -> id lookup (as llama.cpp's token_to_id map). Missing scores are 0, missing
  // attributes kNormal.
  void assign(std::vector<std::string> texts, std::vector<float> scores = {}, std::vector<uint32_t> attrs = {});
  // Token by token (tokenizer.json names its ids in any order, and not every id is indexed): `n` empty tokens
  // (score 0, kNormal), then set_text(); `n_indexed` sizes the index.
  void assign_empty(size_t n, size_t n_indexed);
  // Sets token `id`'s text; with `index`, find(text) gives `id` from now on (a later indexed duplicate wins).
  void set_text(int32_t id, std::string_view text, bool index);
  void set_attr(int32_t id, uint32_t attr) { attr_[id] = attr; }

  int32_t size() const { return static_cast<int32_t>(text_.size()); }
  bool valid(int32_t id) const { return id >= 0 && id < size(); }
  const std::string& text(int32_t id) const { return text_[id]; }
  const std::vector<std::string>& texts() const { return text_; }
  float score(int32_t id) const { return score_[id]; }
  uint32_t attr(int32_t id) const { return attr_[id]; }
  // A control or unknown token: its text is shown only when special tokens are rendered (llama.cpp).
  bool is_special(int32_t id) const { return valid(id) && (attr_[id] & (kControl | kUnknown)) != 0; }
  // The id of an indexed text, -1 when absent.
  int32_t find(std::string_view text) const { return index_.get(text); }
  // The id of the "<0xNN>" token (upper-case hex) of byte b, -1 when absent.
  int32_t byte_piece_id(uint8_t b) const;

 private:
  std::vector<std::string> text_;
  std::vector<float> score_;
  std::vector<uint32_t> attr_;
  bpe::StrIdMap index_;  // keys are text_ entries
};

}  // namespace lmgen
