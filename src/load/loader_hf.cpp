// Hugging Face model directories (config.json + model.safetensors or sharded safetensors) onto the canonical
// ModelConfig + Weights.
//
// Tensor names (N = layer):
//   llama / mistral / qwen2: model.embed_tokens.weight [V, E], model.layers.N.input_layernorm.weight [E],
//     self_attn.{q,k,v,o}_proj.weight (Linear [out, in]; qwen2 also q/k/v biases), post_attention_layernorm,
//     mlp.{gate,up,down}_proj.weight, model.norm.weight, lm_head.weight (absent when tied).
//   gpt2: [transformer.]wte / wpe / h.N.{ln_1, ln_2}.{weight,bias} / attn.c_attn / attn.c_proj / mlp.c_fc /
//     mlp.c_proj {weight,bias} / ln_f. The four GPT-2 projections are Conv1D modules whose weight is [in, out]
//     (y = x W + b): they are transposed into owned [out, in] buffers of the same element type; c_attn's rows are
//     then q | k | v.
// 2-D weights stay in their file type (F32 / F16 / BF16) and normally point into the map; a tensor whose data is
// not aligned to its element size (legal in safetensors: offsets are arbitrary) is copied into an aligned owned
// buffer, so every Matrix / Vector handed out is naturally aligned. Norm gains and biases become F32 Vectors
// (widened from F16 / BF16 into owned buffers).
#include <algorithm>
#include <cstring>
#include <filesystem>
#include <string_view>

#include "lmgen/error.hpp"
#include "load/hf_config.hpp"
#include "lmgen/loader.hpp"
#include "format/safetensors.hpp"
#include "load/loaders.hpp"

namespace lmgen {

namespace {

namespace fs = std::filesystem;

size_t elem_size(DType t) { return t == DType::F32 ? 4 : 2; }

// Element i of a F32 / F16 / BF16 tensor's bytes as float (unaligned-safe).
float element_f32(DType t, const uint8_t* p, size_t i) {
  if (t == DType::F32) {
    float f;
    std::memcpy(&f, p + 4 * i, 4);
    return f;
  }
  uint16_t h;
  std::memcpy(&h, p + 2 * i, 2);
  return t == DType::F16 ? fp16_to_fp32(h) : bf16_to_fp32(h);
}

// src is [rows, cols] of U-sized elements (any alignment); dst is [cols, rows].
template <typename U>
void transpose_tiled(const uint8_t* src, uint8_t* dst, int64_t rows, int64_t cols) {
  // 16 x 16 tiles, each output row segment written whole (measured fastest of 8/16/32/64 and both loop orders on
  // GPT-2-sized matrices: about 2x the naive order; large matrices are bound by memory traffic).
  constexpr int64_t B = 16;
  for (int64_t r0 = 0; r0 < rows; r0 += B)
    for (int64_t c0 = 0; c0 < cols; c0 += B) {
      const int64_t r1 = std::min(rows, r0 + B), c1 = std::min(cols, c0 + B);
      for (int64_t c = c0; c < c1; ++c)
        for (int64_t r = r0; r < r1; ++r) {
          U v;
          std::memcpy(&v, src + static_cast<size_t>(r * cols + c) * sizeof(U), sizeof(U));
          std::memcpy(dst + static_cast<size_t>(c * rows + r) * sizeof(U), &v, sizeof(U));
        }
    }
}

std::vector<uint8_t> transpose_bytes(const uint8_t* src, int64_t rows, int64_t cols, size_t es) {
  std::vector<uint8_t> dst(static_cast<size_t>(rows * cols) * es);
  if (es == 4)
    transpose_tiled<uint32_t>(src, dst.data(), rows, cols);
  else
    transpose_tiled<uint16_t>(src, dst.data(), rows, cols);
  return dst;
}

Matrix rows_of(const Matrix& m, int64_t r0, int64_t n) {
  Matrix s = m;
  s.rows = n;
  s.data = m.row(r0);
  return s;
}

struct HfLoader {
  const SafetensorsCheckpoint& ck;
  Weights& w;

  bool has(const std::string& name) const { return ck.has(name); }

  // The tensor, checked to have exactly `shape`.
  TensorView get(const std::string& name, const std::vector<int64_t>& shape) const {
    TensorView t = ck.tensor(name);
    if (t.shape != shape)
      throw Error("expected " + shape_to_string(shape) + ", found " + t.shape_str() + " in " + name + " (" +
                  ck.file_of(name)->path() + ")");
    return t;
  }

  // The tensor's bytes, copied into an owned buffer if they are not aligned to the element size.
  const uint8_t* aligned_data(const TensorView& t) {
    if (reinterpret_cast<uintptr_t>(t.data) % elem_size(t.type) == 0) return t.data;
    return w.own_bytes(std::vector<uint8_t>(t.data, t.data + t.nbytes));
  }

  Matrix matrix(const std::string& name, int64_t rows, int64_t cols) {
    TensorView t = get(name, {rows, cols});
    return Matrix{t.type, rows, cols, aligned_data(t), static_cast<size_t>(cols) * elem_size(t.type)};
  }

  // A GPT-2 Conv1D weight stored [in, out], returned as the canonical [out, in].
  Matrix conv1d(const std::string& name, int64_t in, int64_t out) {
    TensorView t = get(name, {in, out});
    const size_t es = elem_size(t.type);
    const uint8_t* p = w.own_bytes(transpose_bytes(t.data, in, out, es));
    return Matrix{t.type, out, in, p, static_cast<size_t>(in) * es};
  }

  Vector vector(const std::string& name, int64_t n) {
    TensorView t = get(name, {n});
    if (t.type == DType::F32 && reinterpret_cast<uintptr_t>(t.data) % alignof(float) == 0)
      return Vector{reinterpret_cast<const float*>(t.data), n};
    std::vector<float> v(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) v[static_cast<size_t>(i)] = element_f32(t.type, t.data, static_cast<size_t>(i));
    return w.own_vector(std::move(v));
  }
};

void load_llama_like(HfLoader& L, const ModelConfig& c) {
  Weights& w = L.w;
  const int64_t E = c.n_embd, q_dim = c.n_head * c.head_dim, kv_dim = c.n_head_kv * c.head_dim, F = c.n_ff;
  w.tok_embd = L.matrix("model.embed_tokens.weight", c.n_vocab, E);
  w.layers.resize(static_cast<size_t>(c.n_layer));
  for (int64_t i = 0; i < c.n_layer; ++i) {
    LayerWeights& l = w.layers[static_cast<size_t>(i)];
    const std::string p = "model.layers." + std::to_string(i) + ".";
    l.attn_norm = L.vector(p + "input_layernorm.weight", E);
    l.wq = L.matrix(p + "self_attn.q_proj.weight", q_dim, E);
    l.wk = L.matrix(p + "self_attn.k_proj.weight", kv_dim, E);
    l.wv = L.matrix(p + "self_attn.v_proj.weight", kv_dim, E);
    if (c.qkv_bias) {
      l.bq = L.vector(p + "self_attn.q_proj.bias", q_dim);
      l.bk = L.vector(p + "self_attn.k_proj.bias", kv_dim);
      l.bv = L.vector(p + "self_attn.v_proj.bias", kv_dim);
    }
    l.wo = L.matrix(p + "self_attn.o_proj.weight", E, q_dim);
    l.ffn_norm = L.vector(p + "post_attention_layernorm.weight", E);
    l.w_gate = L.matrix(p + "mlp.gate_proj.weight", F, E);
    l.w_up = L.matrix(p + "mlp.up_proj.weight", F, E);
    l.w_down = L.matrix(p + "mlp.down_proj.weight", E, F);
  }
  w.out_norm = L.vector("model.norm.weight", E);
  w.output = c.tied_head ? w.tok_embd : L.matrix("lm_head.weight", c.n_vocab, E);
}

void load_gpt2(HfLoader& L, const ModelConfig& c) {
  Weights& w = L.w;
  const int64_t E = c.n_embd, F = c.n_ff;
  // Checkpoints saved from GPT2Model (not the LM head wrapper) lack the "transformer." prefix.
  const std::string root = L.has("transformer.wte.weight") || !L.has("wte.weight") ? "transformer." : "";
  w.tok_embd = L.matrix(root + "wte.weight", c.n_vocab, E);
  w.pos_embd = L.matrix(root + "wpe.weight", c.n_ctx_train, E);
  w.layers.resize(static_cast<size_t>(c.n_layer));
  for (int64_t i = 0; i < c.n_layer; ++i) {
    LayerWeights& l = w.layers[static_cast<size_t>(i)];
    const std::string p = root + "h." + std::to_string(i) + ".";
    l.attn_norm = L.vector(p + "ln_1.weight", E);
    l.attn_norm_b = L.vector(p + "ln_1.bias", E);
    const Matrix qkv = L.conv1d(p + "attn.c_attn.weight", E, 3 * E);
    l.wq = rows_of(qkv, 0, E);
    l.wk = rows_of(qkv, E, E);
    l.wv = rows_of(qkv, 2 * E, E);
    const Vector b = L.vector(p + "attn.c_attn.bias", 3 * E);
    l.bq = Vector{b.data, E};
    l.bk = Vector{b.data + E, E};
    l.bv = Vector{b.data + 2 * E, E};
    l.wo = L.conv1d(p + "attn.c_proj.weight", E, E);
    l.bo = L.vector(p + "attn.c_proj.bias", E);
    l.ffn_norm = L.vector(p + "ln_2.weight", E);
    l.ffn_norm_b = L.vector(p + "ln_2.bias", E);
    l.w_up = L.conv1d(p + "mlp.c_fc.weight", E, F);
    l.b_up = L.vector(p + "mlp.c_fc.bias", F);
    l.w_down = L.conv1d(p + "mlp.c_proj.weight", F, E);
    l.b_down = L.vector(p + "mlp.c_proj.bias", E);
  }
  w.out_norm = L.vector(root + "ln_f.weight", E);
  w.out_norm_b = L.vector(root + "ln_f.bias", E);
  w.output = c.tied_head ? w.tok_embd : L.matrix("lm_head.weight", c.n_vocab, E);
}

// A checkpoint with more layers than config.json declares would otherwise load silently and compute garbage.
void check_no_extra_layers(const SafetensorsCheckpoint& ck, const ModelConfig& c, const std::string& cfg_path) {
  const std::string_view prefixes[] = {"model.layers.", "transformer.h.", "h."};
  for (const std::string& name : ck.names())
    for (std::string_view pre : prefixes) {
      if (name.compare(0, pre.size(), pre) != 0) continue;
      int64_t layer = 0;
      size_t i = pre.size();
      for (; i < name.size() && name[i] >= '0' && name[i] <= '9' && layer < (int64_t{1} << 40); ++i)
        layer = layer * 10 + (name[i] - '0');
      if (i > pre.size() && i < name.size() && name[i] == '.' && layer >= c.n_layer) {
        const SafetensorsFile* f = ck.file_of(name);
        throw Error(f ? f->path() : ck.source(), "tensor " + name + " belongs to layer " + std::to_string(layer) +
                                                     " but " + cfg_path + " declares " + std::to_string(c.n_layer) +
                                                     " layers");
      }
      break;
    }
}

std::string dir_name(const std::string& dir) {
  fs::path p = fs::path(dir).lexically_normal();
  if (p.filename().empty()) p = p.parent_path();
  std::string n = p.filename().string();
  return n.empty() || n == "." ? fs::absolute(dir).lexically_normal().filename().string() : n;
}

}  // namespace

ModelData load_hf_model(const std::string& dir, FileAccess access) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw Error(dir, "not a directory (expected a Hugging Face model directory)");
  const fs::path cfg_path = fs::path(dir) / "config.json";
  if (!fs::exists(cfg_path, ec))
    throw Error(dir, "no config.json in this directory (expected a Hugging Face model directory)");

  ModelData md;
  md.source = dir;
  md.config = load_hf_config(cfg_path.string());
  md.config.name = dir_name(dir);
  const SafetensorsCheckpoint ck = SafetensorsCheckpoint::open_dir(dir, access);
  for (const auto& f : ck.files()) {
    md.weights.keep_alive.push_back(f->file());
  }
  check_no_extra_layers(ck, md.config, cfg_path.string());
  HfLoader L{ck, md.weights};
  if (md.config.arch == "gpt2")
    load_gpt2(L, md.config);
  else
    load_llama_like(L, md.config);
  return md;
}

}  // namespace lmgen
