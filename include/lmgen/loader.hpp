// Loading a model from disk: format detection and mapping onto the canonical ModelConfig + Weights.
#pragma once

#include <memory>
#include <string>

#include "lmgen/mapped_file.hpp"
#include "lmgen/tokenizer.hpp"
#include "lmgen/weights.hpp"

namespace lmgen {

class GgufFile;

struct LoadOptions {
  std::string tokenizer_path;  // explicit tokenizer (llama2.c tokenizer.bin, tokenizer.json, GGUF); "" = automatic
  bool load_tokenizer = true;
  FileAccess access = FileAccess::Map;  // how the weights' files are brought into memory (mapped_file.hpp)
};

struct LoadedModel {
  std::shared_ptr<const ModelData> model;
  std::shared_ptr<const Tokenizer> tokenizer;  // null if load_tokenizer was false
};

// `path` is a GGUF file, a llama2.c checkpoint (.bin, detected by content) or an HF model directory.
// Throws Error naming the file and the problem.
LoadedModel load_model(const std::string& path, const LoadOptions& opt = {});

// Per-format loaders (weights and config only).
// loader_gguf.cpp: archs llama, qwen2, gpt2
ModelData load_gguf_model(const std::string& path, FileAccess access = FileAccess::Map);
ModelData load_gguf_model(const GgufFile& g);  // from an opened file (its tokenizer can then come from it too)
// llama2c.cpp: legacy float32 checkpoints
ModelData load_llama2c_model(const std::string& path, FileAccess access = FileAccess::Map);
bool llama2c_sniff(const std::string& path);  // header and size match a legacy checkpoint
// loader_hf.cpp: config.json + safetensors (sharded too)
ModelData load_hf_model(const std::string& dir, FileAccess access = FileAccess::Map);

}  // namespace lmgen
