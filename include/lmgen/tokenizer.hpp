// Tokenizer — text <-> token ids. Implementations: SentencePiece-style (spm) and byte-level BPE (bpe).
//
// A tokenizer is built from one of three sources, and keeps the semantics of its source:
//   * GGUF metadata (tokenizer.ggml.*): behaves as llama.cpp does;
//   * HF tokenizer.json (+ tokenizer_config.json beside it): behaves as the HF tokenizers library does;
//   * llama2.c tokenizer.bin: behaves as llama2.c / llama.cpp SPM does.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace lmgen {

struct EncodeOptions {
  bool add_special = true;    // insert BOS/EOS as the tokenizer's own configuration says (HF add_special_tokens)
  bool parse_special = true;  // match special/added token text written literally in the input as single tokens
};

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;

  virtual std::vector<int32_t> encode(std::string_view text, const EncodeOptions& opt = {}) const = 0;

  // The bytes a token stands for: SPM "▁" -> " ", "<0x0A>" -> "\n", byte-level BPE unmapped to raw bytes.
  // A special/control token gives its text when render_special is true, and "" otherwise.
  virtual std::string token_to_piece(int32_t id, bool render_special = true) const = 0;

  // Bytes to print for `id` when it follows `prev` in generated output (prev = -1 at the very start).
  // SentencePiece strips the leading space of the first piece after BOS; other tokenizers return the piece.
  virtual std::string stream_piece(int32_t id, int32_t prev, bool render_special = false) const {
    (void)prev;
    return token_to_piece(id, render_special);
  }

  // Whole-sequence decoding with the source's own rules (HF decoders; llama.cpp detokenize).
  virtual std::string decode(std::span<const int32_t> ids, bool skip_special = false) const = 0;

  virtual int32_t n_vocab() const = 0;
  virtual int32_t bos_id() const = 0;   // -1 if none
  virtual int32_t eos_id() const = 0;   // -1 if none
  virtual bool add_bos() const = 0;     // encode(add_special=true) starts with BOS
  virtual bool is_eog(int32_t id) const = 0;      // end of generation (EOS, <|im_end|>, <|endoftext|>, ...)
  virtual bool is_special(int32_t id) const = 0;  // control/added special token
  virtual std::string token_text(int32_t id) const = 0;  // raw vocabulary string (e.g. "▁Hello", "Ġthe")
};

// Any of the above, by looking at `path`: a GGUF file, a tokenizer.json, a directory holding tokenizer.json,
// or a llama2.c tokenizer.bin (n_vocab required for the last).
std::unique_ptr<Tokenizer> load_tokenizer(const std::string& path, int32_t n_vocab = 0);

}  // namespace lmgen
