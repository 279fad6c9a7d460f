// Hugging Face config.json -> ModelConfig.
//
// Supported architectures (by "architectures"[0], else by "model_type"):
//   LlamaForCausalLM / "llama", MistralForCausalLM / "mistral" (run as llama: RMSNorm, SwiGLU, NEOX rope),
//   Qwen2ForCausalLM / "qwen2" (llama + q/k/v biases), GPT2LMHeadModel / "gpt2" (LayerNorm, gelu_new, learned
//   positions, Conv1D weights, biases everywhere, tied head).
// HF checkpoints keep q_proj/k_proj in the "rotate_half" order, so rope is RopeStyle::Neox for llama too.
// Options that would change the math and that the forward pass does not implement (rope_scaling, llama
// attention_bias / mlp_bias, other activations, partial rotary) are refused with an Error rather than silently
// ignored. A sliding attention window (Mistral, Qwen2 with use_sliding_window) lowers n_ctx_train to the window:
// up to that many positions full causal attention is exactly what the model computes.
#pragma once

#include <string>

#include "lmgen/config.hpp"

namespace lmgen {

// Parses the text of a config.json; `source` (its path) prefixes every error. The result is validated
// (ModelConfig::validate). `name` is left empty.
ModelConfig hf_config_from_json(const std::string& text, const std::string& source);

// Reads and parses the file at `path`.
ModelConfig load_hf_config(const std::string& path);

}  // namespace lmgen
