// Hugging Face config.json -> ModelConfig.
//
// The architecture is found by "architectures" (any entry), else by "model_type", in the architecture table
// (arch_table.hpp: llama / mistral, qwen2, qwen3, gemma2, gemma3_text, phi3, gpt2, gpt_neox), which supplies its
// fixed flags. HF checkpoints keep q_proj/k_proj in the "rotate_half" order, so rope is RopeStyle::Neox.
// Applied: rope_scaling default / linear / llama3 / longrope (su), partial rotary (partial_rotary_factor /
// rotary_pct), query_pre_attn_scalar, attention and final logit soft-capping, sliding windows (Gemma: sliding_window
// with layer_types / sliding_window_pattern / the table's default, rope_local_base_freq for those layers).
// Options that would change the math and that the forward pass does not implement (other rope_scaling types,
// llama attention_bias / mlp_bias, other activations) are refused with an Error naming them. A sliding window on an
// architecture whose table entry has no sliding layers (Mistral, Qwen2 with use_sliding_window) lowers n_ctx_train
// to the window: up to that many positions full causal attention is exactly what the model computes.
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
