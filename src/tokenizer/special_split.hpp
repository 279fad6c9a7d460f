// The special-token splitter of the GGUF / llama2.c tokenizers (llama.cpp tokenizer_st_partition), shared by the
// SentencePiece (GGUF "llama") and byte-level BPE (GGUF "gpt2") vocabularies: the texts of control, user-defined
// and unknown tokens are cut out of the input as whole tokens, longest text first. (tokenizer.json added tokens
// are matched leftmost-longest instead, as the HF tokenizers library does: hf/added_tokens.)
// Internal to the library.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "tokenizer/vocab.hpp"

namespace lmgen {

// A piece of input: a token (token >= 0; [begin, end) is the matched text) or the text [begin, end).
struct Fragment {
  int32_t token;
  size_t begin, end;
};

struct SpecialText {
  int32_t id;
  std::string_view text;     // not empty
  bool needs_parse_special;  // control / unknown: matched only with parse_special (user-defined always)
  bool lstrip = false;       // ASCII whitespace before a match is swallowed
  bool rstrip = false;       // ASCII whitespace after a match is swallowed
};

// The specials of a GGUF / llama2.c vocabulary: its control, user-defined and unknown tokens with a text (views of
// `vocab`'s texts), longest text first (stable), lstrip / rstrip from their attributes.
std::vector<SpecialText> special_texts(const Vocab& vocab);

// Splits `text` into `frags`. Every special (in the order given: longest text first) is cut out of every text
// fragment that remains, leftmost match first. Empty text fragments are not emitted.
void split_specials(std::string_view text, const std::vector<SpecialText>& specials, bool parse_special,
                    std::vector<Fragment>& frags);

}  // namespace lmgen
