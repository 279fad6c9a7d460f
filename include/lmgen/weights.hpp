// Weights — the one canonical layout every format and architecture is mapped onto.
//
// A Matrix is a row-major [rows, cols] view: row r holds the `cols` input weights of output r (PyTorch Linear
// [out, in]), stored in its file type (F32, F16, BF16 or a quantized block type). Nothing is expanded to F32 at
// load; the data usually points into the memory-mapped model file. Vectors (norm gains, biases) are F32.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "lmgen/config.hpp"
#include "lmgen/tensor.hpp"

namespace lmgen {

struct Matrix {
  DType type = DType::F32;
  int64_t rows = 0;
  int64_t cols = 0;
  const uint8_t* data = nullptr;
  size_t row_stride = 0;  // bytes from one row to the next
  bool empty() const { return data == nullptr; }
  const uint8_t* row(int64_t r) const { return data + static_cast<size_t>(r) * row_stride; }
};

struct Vector {
  const float* data = nullptr;
  int64_t n = 0;
  bool empty() const { return data == nullptr; }
};

struct LayerWeights {
  Vector attn_norm, attn_norm_b;  // [n_embd] (bias only for LayerNorm)
  Matrix wq;                      // [n_head*head_dim, n_embd]
  Matrix wk, wv;                  // [n_head_kv*head_dim, n_embd]
  Vector bq, bk, bv;              // [n_head*head_dim], [n_head_kv*head_dim] ×2 (qkv_bias)
  Vector q_norm, k_norm;          // [head_dim] (qk_norm)
  Matrix wo;                      // [n_embd, n_head*head_dim]
  Vector bo;                      // [n_embd] (out_bias)
  Vector attn_post_norm;          // [n_embd] (post_norms)
  Vector ffn_norm, ffn_norm_b;    // [n_embd]
  Matrix w_gate;                  // [n_ff, n_embd] (SwiGLU / GegluTanh only)
  Matrix w_up;                    // [n_ff, n_embd]
  Vector b_up;                    // [n_ff] (out_bias)
  Matrix w_down;                  // [n_embd, n_ff]
  Vector b_down;                  // [n_embd] (out_bias)
  Vector ffn_post_norm;           // [n_embd] (post_norms)
};

struct Weights {
  Matrix tok_embd;                // [n_vocab, n_embd]
  Matrix pos_embd;                // [n_ctx_train, n_embd] (learned_pos only)
  std::vector<LayerWeights> layers;
  Vector out_norm, out_norm_b;    // [n_embd]
  Matrix output;                  // [n_vocab, n_embd]; same as tok_embd when tied

  // Keeps the memory behind the views alive: mapped files and any buffers the loader had to make
  // (e.g. a transposed GPT-2 Conv1D weight, F16 norms widened to F32).
  std::vector<std::shared_ptr<const void>> keep_alive;

  // How many matrices of each type (a tied output counted once), in DType order: what -v lists at load.
  std::vector<std::pair<DType, int>> matrix_types() const;

  // Helpers for loaders: own a float buffer / byte buffer and return a view of it.
  Vector own_vector(std::vector<float> v);
  const uint8_t* own_bytes(std::vector<uint8_t> bytes);
};

// A loaded model: its config, weights, and where it came from.
struct ModelData {
  ModelConfig config;
  Weights weights;
  std::string source;  // path given by the user
};

}  // namespace lmgen
