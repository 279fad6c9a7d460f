// Loading a model from disk: format detection and mapping onto the canonical ModelConfig + Weights.
#pragma once

#include <memory>
#include <string>

#include "lmgen/tokenizer.hpp"
#include "lmgen/weights.hpp"

namespace lmgen {

struct LoadOptions {
  std::string tokenizer_path;  // explicit tokenizer (llama2.c tokenizer.bin, tokenizer.json, GGUF); "" = automatic
  bool load_tokenizer = true;
};

struct LoadedModel {
  std::shared_ptr<const ModelData> model;
  std::shared_ptr<const Tokenizer> tokenizer;  // null if load_tokenizer was false
};

// `path` is a GGUF file, a llama2.c checkpoint (.bin, detected by content) or an HF model directory.
// Throws Error naming the file and the problem.
LoadedModel load_model(const std::string& path, const LoadOptions& opt = {});

// Per-format loaders (weights and config only).
ModelData load_gguf_model(const std::string& path);     // loader_gguf.cpp: archs llama, qwen2, gpt2
ModelData load_llama2c_model(const std::string& path);  // llama2c.cpp: legacy float32 checkpoints
bool llama2c_sniff(const std::string& path);            // header and size match a legacy checkpoint
ModelData load_hf_model(const std::string& dir);        // loader_hf.cpp: config.json + safetensors (sharded too)

}  // namespace lmgen
