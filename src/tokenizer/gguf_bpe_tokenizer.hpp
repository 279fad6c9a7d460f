// Internal: the byte-level BPE tokenizer of a GGUF vocabulary (tokenizer.ggml.model "gpt2"), with llama.cpp's
// semantics: its class and tables (gguf_bpe_tokenizer.cpp: encoding and decoding; build_gguf.cpp: building it). An HF
// tokenizer.json, byte-level or not, is HfTokenizer (hf_tokenizer.hpp).
//
// Encoding works on raw bytes throughout: a pre-token's bytes b0..bn start as the ids of the single-character
// tokens byte_to_char(bi), then go through the shared rank-ordered merge engine (bpe_merge.hpp). Results of words up to
// 256 bytes are cached per tokenizer.
#pragma once

#include <algorithm>
#include <array>
#include <climits>
#include <cstring>
#include <mutex>
#include <queue>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "lmgen/error.hpp"
#include "util/string_hash.hpp"
#include "tokenizer/pretokenizer.hpp"
#include "tokenizer/bpe_merge.hpp"
#include "tokenizer/eog_texts.hpp"
#include "tokenizer/special_split.hpp"
#include "lmgen/tokenizer.hpp"
#include "tokenizer/vocab.hpp"

namespace lmgen {

class GgufBpeTokenizer final : public Tokenizer {
 public:
  // ---- Tokenizer interface
  std::vector<int32_t> encode(std::string_view text, const EncodeOptions& opt) const override;
  std::string token_to_piece(int32_t id, bool render_special) const override {
    if (id < 0 || id >= n_vocab()) return "";
    if (vocab_.is_special(id) && !render_special) return "";
    return pieces_[id];
  }
  std::string decode(std::span<const int32_t> ids, bool skip_special) const override;
  int32_t n_vocab() const override { return vocab_.size(); }
  int32_t bos_id() const override { return bos_; }
  int32_t eos_id() const override { return eos_; }
  bool add_bos() const override { return add_bos_; }
  bool is_eog(int32_t id) const override { return eog_.count(id) != 0; }
  bool is_special(int32_t id) const override { return vocab_.is_special(id); }
  std::string token_text(int32_t id) const override {
    return vocab_.valid(id) ? vocab_.text(id) : std::string();
  }

  // ---- construction (filled by the factories)
  std::string path_;
  Vocab vocab_;  // token texts (byte-level characters), attributes from the GGUF token types, text -> id
  // Derived from the vocabulary for this tokenizer (different data from its texts): the bytes each token stands
  // for, and whether that is the byte-level decoding of its text.
  std::vector<std::string> pieces_;
  std::vector<uint8_t> decoded_;
  std::array<int32_t, 256> byte_id_{};
  bpe::MergeTable merges_;
  bpe::StrIdMap raw_to_id_;  // raw bytes (views of pieces_) -> id, for ignore_merges
  bool ignore_merges_ = false;
  PreTokenizer pretok_;
  int32_t bos_ = -1, eos_ = -1;
  bool add_bos_ = false, add_eos_ = false;
  std::unordered_set<int32_t> eog_;
  // GGUF
  std::vector<SpecialText> gguf_specials_;  // longest text first (texts are views of vocab_)
  bool clean_spaces_ = false;
  void finish_pieces();
  void build_byte_ids();

 private:
  void encode_text(std::string_view text, std::vector<int32_t>& out) const;
  void bpe_word(std::string_view w, std::vector<int32_t>& out) const;

  bpe::WordCache cache_;
};

}  // namespace lmgen
