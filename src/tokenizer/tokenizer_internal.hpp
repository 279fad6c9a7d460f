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
// built in build_gguf.cpp and build_llama2c.cpp; the tokenizer.json one in spm_hf.cpp.
std::unique_ptr<Tokenizer> make_gguf_spm_tokenizer(const GgufFile& gguf);       // tokenizer.ggml.model == "llama"
std::unique_ptr<Tokenizer> make_llama2c_tokenizer(const std::string& path, int32_t n_vocab);
// HF tokenizer.json whose model is BPE without a ByteLevel pre-tokenizer (Llama-2 style: Metaspace/Prepend+Replace
// normaliser, byte_fallback). `config` is tokenizer_config.json (or null).
std::unique_ptr<Tokenizer> make_hf_spm_tokenizer(const nlohmann::json& tokenizer, const nlohmann::json& config,
                                                 const std::string& path);

// Byte-level BPE (GPT-2 family) with regex pre-tokenizers (class in tokenizer_bpe.hpp), built in build_gguf.cpp
// and build_tokenizer_json.cpp.
std::unique_ptr<Tokenizer> make_gguf_bpe_tokenizer(const GgufFile& gguf);       // tokenizer.ggml.model == "gpt2"
std::unique_ptr<Tokenizer> make_hf_bpe_tokenizer(const nlohmann::json& tokenizer, const nlohmann::json& config,
                                                 const std::string& path);

// True if an HF tokenizer.json describes a byte-level BPE (ByteLevel pre-tokenizer or decoder) rather than a
// SentencePiece-style one.
bool hf_tokenizer_is_byte_level(const nlohmann::json& tokenizer);

}  // namespace lmgen
