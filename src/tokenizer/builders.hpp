// Tokenizer builders, one per source, each defined in the build_*.cpp file of that source. lmgen::load_tokenizer
// (public, tokenizer.cpp) picks one by looking at a path; load_model calls load_gguf_tokenizer on the model's own
// GGUF file.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "lmgen/tokenizer.hpp"

namespace lmgen {

class GgufFile;

// build_gguf.cpp: the tokenizer a GGUF file's tokenizer.ggml.* metadata describes (a vocab-only GGUF is enough):
// "llama" -> SentencePiece-style (spm_tokenizer.hpp), "gpt2" -> byte-level BPE (gguf_bpe_tokenizer.hpp), llama.cpp's
// semantics.
std::unique_ptr<Tokenizer> load_gguf_tokenizer(const GgufFile& gguf);
// build_tokenizer_json.cpp: an HF tokenizer.json with a BPE model, byte-level or SentencePiece-style
// (hf_tokenizer.hpp), with tokenizer_config.json from the same directory if present.
std::unique_ptr<Tokenizer> load_hf_tokenizer(const std::string& tokenizer_json_path);
// build_llama2c.cpp: a llama2.c tokenizer.bin (SentencePiece-style); n_vocab is the model's vocabulary size (from
// its header).
std::unique_ptr<Tokenizer> load_llama2c_tokenizer(const std::string& path, int32_t n_vocab);

}  // namespace lmgen
