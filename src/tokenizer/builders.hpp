// Tokenizer builders, one per source. lmgen::load_tokenizer (public) picks one by looking at the path.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "lmgen/tokenizer.hpp"

namespace lmgen {

class GgufFile;

// Builds the tokenizer described by a GGUF file's tokenizer.ggml.* metadata (a vocab-only GGUF is enough).
std::unique_ptr<Tokenizer> load_gguf_tokenizer(const GgufFile& gguf);
// Builds a tokenizer from an HF tokenizer.json (reads tokenizer_config.json from the same directory if present).
std::unique_ptr<Tokenizer> load_hf_tokenizer(const std::string& tokenizer_json_path);
// Builds a tokenizer from a llama2.c tokenizer.bin; n_vocab is the model's vocabulary size (from its header).
std::unique_ptr<Tokenizer> load_llama2c_tokenizer(const std::string& path, int32_t n_vocab);
}  // namespace lmgen
