// ModelConfig — everything the forward pass needs to know about a model's shape and flavour.
//
// Every loader (GGUF, HF config.json, llama2.c) fills one of these; the forward pass branches on its flags only,
// never on the file format or the architecture name.
#pragma once

#include <cstdint>
#include <string>

namespace lmgen {

enum class NormKind { RMSNorm, LayerNorm };
enum class Activation { SwiGLU, GeluTanh };
// How RoPE pairs the dimensions of a head:
//   Interleaved: (x[2i], x[2i+1]) — llama2.c and llama.cpp's "NORM" rope on GGUF llama files (whose Q/K rows the
//                converter permuted);
//   Neox:        (x[i], x[i + rot/2]) — HF "rotate_half" (HF llama/qwen2 weights, GGUF qwen2).
enum class RopeStyle { None, Interleaved, Neox };

struct ModelConfig {
  std::string arch = "llama";  // "llama", "qwen2", "gpt2" (informational; the flags below drive the math)
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

  bool qkv_bias = false;     // biases on q/k/v projections (qwen2, gpt2)
  bool out_bias = false;     // biases on attention output and FFN projections (gpt2)
  bool learned_pos = false;  // learned absolute position embeddings (gpt2)
  bool tied_head = false;    // LM head shares the token embedding

  // Throws Error if the numbers are inconsistent or absurd (non-positive dims, head_dim*n_head mismatch, ...).
  void validate(const std::string& source) const;
};

}  // namespace lmgen
