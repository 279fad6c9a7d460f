// Loading a model from disk: format detection and mapping onto the canonical ModelConfig + Weights.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "lmgen/file_access.hpp"
#include "lmgen/lora.hpp"
#include "lmgen/tokenizer.hpp"
#include "lmgen/weights.hpp"

namespace lmgen {

struct LoadOptions {
  // The tokenizer file (llama2.c tokenizer.bin, tokenizer.json, GGUF). "" = the model's own: a GGUF file's
  // vocabulary, an HF directory's tokenizer.json, or for a llama2.c checkpoint (which has none inside) the
  // tokenizer.bin beside it, else the only tok*.bin there (MissingTokenizer when there is none or several).
  std::string tokenizer_path;
  bool load_tokenizer = true;
  // false: the tokenizer and chat templates only (LoadedModel::model stays null); the path may then also be a
  // tokenizer itself (tokenizer.json, a directory holding one).
  bool load_weights = true;
  FileAccess access = FileAccess::Map;  // how the weights' files are brought into memory (file_access.hpp)
  // LoRA adapters merged into the weights at load, in order (lora.hpp). Each is checked against the model first;
  // a problem throws AdapterError naming the adapter.
  std::vector<LoraSpec> lora;
};

struct LoadedModel {
  std::shared_ptr<const ModelData> model;
  std::shared_ptr<const Tokenizer> tokenizer;  // null if load_tokenizer was false
  // The file or directory the tokenizer was read from (the model itself for a GGUF file), and whether it was found
  // beside a llama2.c checkpoint rather than given or inside the model. Empty without a tokenizer.
  std::string tokenizer_path;
  bool tokenizer_found_beside = false;
  // The model's chat templates (name -> Jinja source; the model's own default is "default") and the special-token
  // strings a template may use ("bos_token" -> "<s>", ...), from the GGUF metadata or the HF directory's
  // tokenizer_config.json / chat_template.jinja. Empty for a model that has none (llama2.c).
  std::map<std::string, std::string> chat_templates;
  std::map<std::string, std::string> special_tokens;
  // End-of-generation ids the model declares beyond its tokenizer's own (an HF directory's generation_config.json
  // "eos_token_id", an int or a list). Pass them on in GenerateOptions::eog_ids.
  std::vector<int32_t> eog_ids;
  // What merging the LoRA adapters did, one line each (adapter, rank, scaling, matrices changed; how quantized or
  // 16-bit matrices were handled). Empty without adapters.
  std::vector<std::string> lora_notes;
};

// `path` is a GGUF file, a llama2.c checkpoint (.bin, detected by content) or an HF model directory.
// Throws Error naming the file and the problem.
LoadedModel load_model(const std::string& path, const LoadOptions& opt = {});

}  // namespace lmgen
