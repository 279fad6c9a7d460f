// Loading a model from disk: format detection and mapping onto the canonical ModelConfig + Weights.
#pragma once

#include <memory>
#include <string>

#include "lmgen/file_access.hpp"
#include "lmgen/tokenizer.hpp"
#include "lmgen/weights.hpp"

namespace lmgen {

struct LoadOptions {
  std::string tokenizer_path;  // explicit tokenizer (llama2.c tokenizer.bin, tokenizer.json, GGUF); "" = automatic
  bool load_tokenizer = true;
  FileAccess access = FileAccess::Map;  // how the weights' files are brought into memory (file_access.hpp)
};

struct LoadedModel {
  std::shared_ptr<const ModelData> model;
  std::shared_ptr<const Tokenizer> tokenizer;  // null if load_tokenizer was false
};

// `path` is a GGUF file, a llama2.c checkpoint (.bin, detected by content) or an HF model directory.
// Throws Error naming the file and the problem.
LoadedModel load_model(const std::string& path, const LoadOptions& opt = {});

}  // namespace lmgen
