// Constructors of the concrete tokenizers, used by the dispatching loaders in tokenizer.cpp.
// (Internal to the library: not installed.)
#pragma once

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "format/gguf.hpp"
#include "lmgen/tokenizer.hpp"

namespace lmgen {

// SentencePiece-style (score-merge BPE over "▁"-normalised text, byte fallback; class in spm_tokenizer.hpp),
// built in build_gguf.cpp and build_llama2c.cpp.
std::unique_ptr<Tokenizer> make_gguf_spm_tokenizer(const GgufFile& gguf);       // tokenizer.ggml.model == "llama"
std::unique_ptr<Tokenizer> make_llama2c_tokenizer(const std::string& path, int32_t n_vocab);
// Byte-level BPE (GPT-2 family) of a GGUF vocabulary, with llama.cpp's semantics (class in tokenizer_bpe.hpp).
std::unique_ptr<Tokenizer> make_gguf_bpe_tokenizer(const GgufFile& gguf);       // tokenizer.ggml.model == "gpt2"

// Any HF tokenizer.json with a BPE model, byte-level or SentencePiece-style (class in hf_tokenizer.hpp, built in
// build_tokenizer_json.cpp). `config` is tokenizer_config.json (or null).
std::unique_ptr<Tokenizer> make_hf_tokenizer(const nlohmann::json& tokenizer, const nlohmann::json& config,
                                             const std::string& path);

}  // namespace lmgen
