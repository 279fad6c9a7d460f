// ModelConfig — everything the forward pass needs to know about a model's shape and flavour.
//
// Every loader (GGUF, HF config.json, llama2.c) fills one of these; the forward pass branches on its flags only,
// never on the file format or the architecture name.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace lmgen {

enum class NormKind { RMSNorm, LayerNorm };
// SwiGLU: silu(gate) * up. GeluTanh / GeluErf: gelu(up + b) with the tanh approximation / the exact erf form.
// GegluTanh: gelu_tanh(gate) * up (Gemma).
enum class Activation { SwiGLU, GeluTanh, GeluErf, GegluTanh };
// How RoPE pairs the dimensions of a head:
//   Interleaved: (x[2i], x[2i+1]) — llama2.c and llama.cpp's "NORM" rope on GGUF llama files (whose Q/K rows the
//                converter permuted);
//   Neox:        (x[i], x[i + rot/2]) — HF "rotate_half" (HF llama/qwen2 weights, GGUF qwen2).
enum class RopeStyle { None, Interleaved, Neox };

struct ModelConfig {
  std::string arch = "llama";  // an arch_table entry name (informational; the flags below drive the math)
  std::string name;            // general.name or directory name, for messages

  int64_t n_vocab = 0;    // rows of the embedding and of the LM head
  int64_t n_embd = 0;     // residual stream width
  int64_t n_layer = 0;
  int64_t n_head = 0;     // query heads
  int64_t n_head_kv = 0;  // key/value heads (GQA when < n_head)
  int64_t head_dim = 0;   // usually n_embd / n_head
  int64_t n_ff = 0;       // feed-forward hidden width
  int64_t n_ctx_train = 0;  // positions the model was trained for (learned position table size for GPT-2)

  NormKind norm = NormKind::RMSNorm;
  float norm_eps = 1e-5f;
  Activation act = Activation::SwiGLU;
  RopeStyle rope = RopeStyle::Interleaved;
  float rope_theta = 10000.0f;
  int64_t rope_dim = 0;   // dimensions of each head that are rotated (= head_dim unless partial rotary)
  // RoPE frequency i (of rope_dim/2) is rope_theta^(-2i/rope_dim) / rope_freq_div[i] (empty = all 1): llama3 and
  // linear scaling, longrope's short factors. rope_freq_div_long replaces it once a sequence exceeds rope_orig_ctx
  // positions (longrope). cos and sin are multiplied by rope_attn_factor (longrope).
  std::vector<float> rope_freq_div, rope_freq_div_long;  // [rope_dim/2]
  int64_t rope_orig_ctx = 0;
  float rope_attn_factor = 1.0f;
  float rope_theta_local = 0.0f;  // RoPE base of sliding-window layers, unscaled (0 = as the other layers)

  float embd_scale = 0.0f;         // token embeddings are multiplied by this (0 = not scaled; Gemma sqrt(n_embd))
  float attn_scale = 0.0f;         // attention score scale (0 = 1/sqrt(head_dim))
  float attn_softcap = 0.0f;       // scores become cap*tanh(scores/cap) before the mask (0 = off)
  float final_softcap = 0.0f;      // same on the logits
  int64_t sliding_window = 0;      // keys a sliding layer sees, its own position included
  std::vector<bool> layer_sliding; // [n_layer]: which layers use the window (empty = none)

  bool qkv_bias = false;     // biases on q/k/v projections (qwen2, gpt2)
  bool out_bias = false;     // biases on attention output and FFN projections (gpt2)
  bool learned_pos = false;  // learned absolute position embeddings (gpt2)
  bool tied_head = false;    // LM head shares the token embedding
  bool qk_norm = false;      // RMSNorm over each head of q and of k before RoPE (qwen3, gemma3)
  bool post_norms = false;   // RMSNorm on the attention and FFN outputs before each residual add (gemma2/3)
  bool parallel_residual = false;  // x + attn(norm1(x)) + ffn(norm2(x)) (gptneox)

  bool is_sliding(int64_t layer) const {
    return !layer_sliding.empty() && layer_sliding[static_cast<size_t>(layer)];
  }

  // Throws Error if the numbers are inconsistent or absurd (non-positive dims, head_dim*n_head mismatch, ...).
  void validate(const std::string& source) const;
};

}  // namespace lmgen
