// Internal: the HF tokenizer.json pipeline, with the HF tokenizers library's semantics, for both kinds of BPE
// model that real files use: byte-level (GPT-2, Llama 3, Qwen: a ByteLevel pre-tokenizer or decoder) and
// SentencePiece-style (Llama 2, Gemma 3: characters, with byte fallback). Built by build_tokenizer_json.cpp.
//
// Encoding:
//   1. added tokens matched on the raw text (the non-normalized ones, honouring lstrip / rstrip / single_word);
//   2. the normalizer (hf/normalizer), then the added tokens matched on the normalized text;
//   3. the pre-tokenizer (pretokenizer.hpp) cuts the rest into words;
//   4. each word is merged by rank (the shared engine, bpe_merge.hpp), starting from its bytes (byte-level: the ids of
//      the GPT-2 byte characters; no byte is remapped, the table works on raw bytes) or from its characters
//      (vocabulary tokens, else <0xNN> byte tokens with byte_fallback, else unk). Words up to 256 bytes are cached;
//   5. the post-processor (hf/post_processor) adds the special tokens.
// Decoding: the decoder chain (hf/decoder: ByteLevel, Replace, ByteFallback, Fuse, Strip, Metaspace).
#pragma once

#include <array>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lmgen/tokenizer.hpp"
#include "tokenizer/bpe_merge.hpp"
#include "tokenizer/hf/added_tokens.hpp"
#include "tokenizer/hf/decoder.hpp"
#include "tokenizer/hf/normalizer.hpp"
#include "tokenizer/hf/post_processor.hpp"
#include "tokenizer/pretokenizer.hpp"
#include "tokenizer/vocab.hpp"

namespace lmgen {

class HfTokenizer final : public Tokenizer {
 public:
  // `tokenizer` is tokenizer.json, `config` tokenizer_config.json (or null); `path` names the file in errors.
  HfTokenizer(const nlohmann::json& tokenizer, const nlohmann::json& config, const std::string& path);
  HfTokenizer(const HfTokenizer&) = delete;  // raw_to_id_ points into raw_texts_
  HfTokenizer& operator=(const HfTokenizer&) = delete;

  std::vector<int32_t> encode(std::string_view text, const EncodeOptions& opt) const override;
  // An id the tokenizer does not have (a model with a larger vocabulary) is empty text, as HF's decode drops it.
  std::string token_to_piece(int32_t id, bool render_special) const override {
    if (!vocab_.valid(id) || (vocab_.is_special(id) && !render_special)) return std::string();
    return pieces_[id];
  }
  std::string stream_piece(int32_t id, int32_t prev, bool render_special) const override;
  std::string decode(std::span<const int32_t> ids, bool skip_special) const override;
  int32_t n_vocab() const override { return vocab_.size(); }
  int32_t bos_id() const override { return bos_; }
  int32_t eos_id() const override { return eos_; }
  bool add_bos() const override { return add_bos_; }
  bool is_eog(int32_t id) const override;
  bool is_special(int32_t id) const override { return vocab_.is_special(id); }
  std::string token_text(int32_t id) const override {
    check(id);
    return vocab_.text(id);
  }

 private:
  void check(int32_t id) const;
  void load_model(const nlohmann::json& model, size_t n_added);
  void set_specials(const nlohmann::json& config);
  int32_t lookup(std::string_view text) const;  // an added token's or a model token's id, or -1
  void encode_words(std::string_view text, bool at_start, std::vector<int32_t>& out) const;
  void bpe(std::string_view word, std::vector<int32_t>& out) const;
  void bpe_chunk(std::string_view word, std::vector<int32_t>& out) const;
  void char_symbols(std::string_view word, std::vector<int32_t>& syms) const;

  std::string path_;
  bool byte_level_ = false;
  // id -> model token text, else added token content ("" for unnamed ids); only model tokens are indexed (find()).
  // An added token marked special is kControl, every other token kNormal; no scores.
  Vocab vocab_;
  // Derived from the vocabulary for this tokenizer (different data from its texts):
  std::vector<std::string> pieces_;  // id -> the text it stands for (token_to_piece)
  std::vector<uint8_t> in_model_;    // the id is in model.vocab
  std::vector<std::string> raw_texts_;  // byte-level with ignore_merges: id -> the bytes of a model token
  bpe::StrIdMap raw_to_id_;             // ... and back (keys are raw_texts_ entries)
  bpe::MergeTable merges_;
  bpe::WordCache cache_;
  // The token of each byte: byte-level, the single-character token of its GPT-2 byte character; otherwise the
  // <0xNN> byte-fallback token. -1 where there is none.
  std::array<int32_t, 256> byte_id_{};
  int32_t unk_ = -1;
  int32_t space_id_ = -1;    // id of "▁"
  bool word_split_ = false;  // SentencePiece-style vocabulary where "▁" only leads tokens: merge per "▁" chunk
  bool byte_fallback_ = false, fuse_unk_ = false, ignore_merges_ = false;
  AddedTokens added_;
  Normalizer normalizer_;
  PreTokenizer pre_;
  PostProcessor post_;
  Decoder decoder_;
  bool space_prefix_ = false;  // SentencePiece-style text starts with a "▁" the normalizer or pre-tokenizer added
  int32_t bos_ = -1, eos_ = -1;
  bool add_bos_ = false;
  std::vector<int32_t> eog_;  // sorted
};

// True if an HF tokenizer.json describes a byte-level BPE (ByteLevel pre-tokenizer or decoder) rather than a
// SentencePiece-style one.
bool hf_tokenizer_is_byte_level(const nlohmann::json& tokenizer);

}  // namespace lmgen
