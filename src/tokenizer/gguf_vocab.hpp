// The one reader of a GGUF vocabulary's token texts, token types and special-token ids (tokenizer.ggml.*),
// shared by the GGUF SentencePiece-style and byte-level builders. What an out-of-range value means is the
// builder's choice (llama.cpp throws for some, falls back to a default for others). Internal to the library.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace lmgen {

class GgufFile;

// tokenizer.ggml.tokens, an empty text replaced by "[EMPTY_<id>]" (as llama.cpp). Throws when the key is missing,
// the list is empty or has more than 2^24 entries.
std::vector<std::string> read_gguf_tokens(const GgufFile& gguf);

// tokenizer.ggml.token_type (raw GGUF values), or nothing when absent. Throws when its length is not n_tokens.
std::optional<std::vector<int32_t>> read_gguf_token_types(const GgufFile& gguf, size_t n_tokens);

// tokenizer.ggml.<name>_token_id as stored, with -1 for "no such token" (-1, or UINT32_MAX as llama.cpp writes
// LLAMA_TOKEN_NULL); nothing when absent.
std::optional<int64_t> read_gguf_special_id(const GgufFile& gguf, const std::string& name);

}  // namespace lmgen
