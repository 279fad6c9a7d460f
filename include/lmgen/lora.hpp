// LoRA adapters: low-rank weight deltas a fine-tune produces (Hugging Face PEFT directories, llama.cpp GGUF LoRA
// files), applied to a model when it is loaded (LoadOptions::lora; lmgen merges them into the weights, see
// README "Fine-tuned models").
//
// Semantics are PEFT's: for every adapted weight W [out, in], W' = W + scale * scaling * B A, with A [r, in],
// B [out, r], scaling = lora_alpha / r (use_rslora: lora_alpha / sqrt(r); a GGUF adapter: adapter.lora.alpha / r,
// or 1 without alpha, as llama.cpp) and `scale` the user's multiplier (default 1).
#pragma once

#include <string>

namespace lmgen {

struct LoraSpec {
  std::string path;    // a PEFT adapter directory (adapter_config.json + adapter_model.safetensors) or a GGUF file
  double scale = 1.0;  // multiplies the adapter's own scaling
};

// Parses "PATH" or "PATH:SCALE" (the text after the last ':' is the scale when it is a finite number; otherwise the
// whole argument is the path). Throws UsageError for an empty path.
LoraSpec parse_lora_spec(const std::string& arg);

}  // namespace lmgen
