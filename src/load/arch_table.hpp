// The architecture table: for each supported architecture, everything that makes it that architecture — its
// ModelConfig flags, its Hugging Face class names, its GGUF and HF tensor names and the GGUF facts llama.cpp
// hard-codes rather than stores. The GGUF loader, the HF config reader and the HF loader all read it, so adding an
// architecture is one entry here (plus, if it needs one, a new operation in the forward pass).
//
// Tensor names are patterns: "{L}" stands for the layer number; nullptr means "this architecture has no such
// tensor". Which tensors are read follows the config flags (norm kind, biases, qk_norm, post_norms, fused
// projections when the fused name is set).
#pragma once

#include <string>
#include <vector>

#include "lmgen/config.hpp"

namespace lmgen {

struct TensorNames {
  const char* tok_embd = nullptr;    // [n_vocab, n_embd]
  const char* pos_embd = nullptr;    // [n_ctx_train, n_embd] (learned_pos)
  const char* out_norm = nullptr;    // [n_embd]
  const char* out_norm_b = nullptr;  // [n_embd] (LayerNorm)
  const char* output = nullptr;      // [n_vocab, n_embd] (absent or ignored when tied)
  // Per layer.
  const char* attn_norm = nullptr;       // [n_embd]
  const char* attn_norm_b = nullptr;     // [n_embd] (LayerNorm)
  const char* wq = nullptr;              // [Q, n_embd]
  const char* wk = nullptr;              // [KV, n_embd]
  const char* wv = nullptr;              // [KV, n_embd]
  const char* bq = nullptr;              // [Q]
  const char* bk = nullptr;              // [KV]
  const char* bv = nullptr;              // [KV]
  const char* wqkv = nullptr;            // [Q + 2 KV, n_embd] fused (q | k | v rows); replaces wq/wk/wv
  const char* bqkv = nullptr;            // [Q + 2 KV]
  const char* wo = nullptr;              // [n_embd, Q]
  const char* bo = nullptr;              // [n_embd]
  const char* q_norm = nullptr;          // [head_dim] (qk_norm)
  const char* k_norm = nullptr;          // [head_dim]
  const char* attn_post_norm = nullptr;  // [n_embd] (post_norms)
  const char* ffn_norm = nullptr;        // [n_embd]
  const char* ffn_norm_b = nullptr;      // [n_embd] (LayerNorm)
  const char* w_gate = nullptr;          // [n_ff, n_embd]
  const char* w_up = nullptr;            // [n_ff, n_embd]
  const char* w_gate_up = nullptr;       // [2 n_ff, n_embd] fused (gate | up rows); replaces w_gate/w_up
  const char* b_up = nullptr;            // [n_ff]
  const char* w_down = nullptr;          // [n_embd, n_ff]
  const char* b_down = nullptr;          // [n_embd]
  const char* ffn_post_norm = nullptr;   // [n_embd] (post_norms)
};

// Which layers slide, when the file does not say (GGUF; HF configs without layer_types).
enum class SlidingLayers { None, All, Even, FiveOfSix };

struct ArchInfo {
  const char* name = "";                     // GGUF general.architecture and ModelConfig::arch
  std::vector<const char*> hf_classes;       // config.json "architectures"
  std::vector<const char*> hf_model_types;   // config.json "model_type"

  // Flags every file of this architecture has (copied into ModelConfig).
  NormKind norm = NormKind::RMSNorm;
  Activation act = Activation::SwiGLU;
  bool qkv_bias = false, out_bias = false, learned_pos = false, qk_norm = false, post_norms = false;
  bool embd_scale_sqrt = false;   // embeddings x sqrt(n_embd)
  bool parallel_residual = false; // default when the file does not say (gptneox: use_parallel_residual)
  bool use_rope = true;
  RopeStyle gguf_rope = RopeStyle::Neox;  // HF checkpoints are always rotate_half (Neox)
  SlidingLayers sliding = SlidingLayers::None;
  float gguf_rope_theta_local = 0;       // local RoPE base llama.cpp fixes for this architecture (gemma3)
  bool gguf_output_always = false;       // llama.cpp needs output.weight even when tied (gpt2 at b4748)

  // Hugging Face checkpoint conventions.
  bool hf_conv1d = false;          // Linear weights stored [in, out] (GPT-2 Conv1D)
  bool hf_norm_plus_one = false;   // RMSNorm computes x * (1 + w); GGUF stores w + 1
  bool hf_qkv_per_head = false;    // fused qkv rows grouped per head [q k v] (GPT-NeoX); GGUF has [Q; K; V]
  bool hf_tied_default = false;    // tie_word_embeddings when config.json does not say
  bool hf_window_opt_in = false;   // sliding_window applies only with use_sliding_window = true (Qwen)

  TensorNames gguf, hf;
};

// The entry whose name is `arch`, or nullptr.
const ArchInfo* find_arch(const std::string& arch);
// The entry for an HF class name / model_type, or nullptr.
const ArchInfo* find_arch_hf_class(const std::string& cls);
const ArchInfo* find_arch_hf_model_type(const std::string& model_type);
// "llama, qwen2, ..." and "LlamaForCausalLM, ..." for error messages.
std::string supported_archs();
std::string supported_hf_classes();

// Copies the architecture's fixed flags into c (arch, norm, act, biases, rope use, ...).
void apply_arch_flags(const ArchInfo& a, ModelConfig& c);

// llama.cpp's permutation of llama's attn_q / attn_k rows (HF rotate-half -> interleaved pairs,
// w.reshape(n_head, 2, hd/2, cols).swapaxes(1, 2)): the source row of output row r of a [rows, cols] weight.
int64_t llama_permuted_row(int64_t r, int64_t rows, int64_t n_head);

// "{L}" in a pattern replaced by the layer number.
std::string layer_name(const char* pattern, int64_t layer);

// layer_sliding for n_layer layers under a rule (empty for None).
std::vector<bool> sliding_layers(SlidingLayers rule, int64_t n_layer);

}  // namespace lmgen
