// GGUF model loader: llama, qwen2 and gpt2 architectures onto the canonical layout.
//
// Conventions of llama.cpp's converter that matter here:
//   * llama: attn_q / attn_k rows were permuted so that RoPE rotates adjacent pairs -> RopeStyle::Interleaved.
//   * qwen2: no permutation (NEOX rope) -> RopeStyle::Neox; q/k/v biases; output tied to token_embd if absent.
//   * gpt2: fused attn_qkv [3*n_embd, n_embd] (q | k | v along rows), LayerNorm with biases, learned positions.
#include "format/gguf.hpp"
#include "lmgen/loader.hpp"
#include "load/loader_common.hpp"
#include "load/loaders.hpp"

namespace lmgen {

namespace {

struct GgufLoader {
  const GgufFile& g;
  std::string arch;
  Weights& w;

  std::string key(const std::string& k) const { return arch + "." + k; }
  TensorView t(const std::string& name) const { return g.tensor(name); }
  bool has(const std::string& name) const { return g.find_tensor(name) != nullptr; }
  Matrix mat(const std::string& name, int64_t rows, int64_t cols) const { return as_matrix(t(name), {rows, cols}, g.path()); }
  Vector vec(const std::string& name, int64_t n) const { return as_vector(t(name), n, g.path(), w); }
  // A [rows, cols] slice of rows [r0, r0+n) of a matrix.
  static Matrix rows_of(const Matrix& m, int64_t r0, int64_t n) {
    Matrix s = m;
    s.rows = n;
    s.data = m.row(r0);
    return s;
  }
};

ModelConfig read_config(const GgufFile& g, const std::string& arch) {
  auto k = [&](const char* s) { return arch + "." + s; };
  ModelConfig c;
  c.arch = arch;
  c.name = g.get_string_opt("general.name").value_or("");
  c.n_embd = g.get_int(k("embedding_length"));
  c.n_layer = g.get_int(k("block_count"));
  c.n_head = g.get_int(k("attention.head_count"));
  c.n_head_kv = g.get_int_opt(k("attention.head_count_kv")).value_or(c.n_head);
  c.n_ff = g.get_int(k("feed_forward_length"));
  c.n_ctx_train = g.get_int(k("context_length"));
  if (c.n_head <= 0 || c.n_embd <= 0) throw Error(g.path(), "embedding_length and head_count must be positive");
  c.head_dim = g.get_int_opt(k("attention.key_length")).value_or(c.n_embd / c.n_head);
  if (arch == "gpt2") {
    c.norm = NormKind::LayerNorm;
    c.norm_eps = static_cast<float>(g.get_float(k("attention.layer_norm_epsilon")));
    c.act = Activation::GeluTanh;
    c.rope = RopeStyle::None;
    c.qkv_bias = c.out_bias = c.learned_pos = true;
  } else {
    c.norm = NormKind::RMSNorm;
    c.norm_eps = static_cast<float>(g.get_float(k("attention.layer_norm_rms_epsilon")));
    c.act = Activation::SwiGLU;
    c.rope = arch == "llama" ? RopeStyle::Interleaved : RopeStyle::Neox;
    c.rope_theta = static_cast<float>(g.get_float_opt(k("rope.freq_base")).value_or(10000.0));
    c.rope_dim = g.get_int_opt(k("rope.dimension_count")).value_or(c.head_dim);
    c.qkv_bias = arch == "qwen2";
  }
  return c;
}

}  // namespace

ModelData load_gguf_model(const std::string& path, FileAccess access) {
  return load_gguf_model(GgufFile(path, access));
}

ModelData load_gguf_model(const GgufFile& g) {
  const std::string& path = g.path();
  ModelData md;
  md.source = path;
  const std::string arch = g.get_string("general.architecture");
  if (arch != "llama" && arch != "qwen2" && arch != "gpt2")
    throw Error(path, "unsupported architecture '" + arch + "' (supported: llama, qwen2, gpt2)");
  ModelConfig& c = md.config;
  c = read_config(g, arch);
  Weights& w = md.weights;
  w.keep_alive.push_back(g.file());
  GgufLoader L{g, arch, w};

  TensorView emb = g.tensor("token_embd.weight");
  if (emb.shape.size() != 2) throw Error(path, "token_embd.weight must be 2-D, found " + emb.shape_str());
  c.n_vocab = emb.shape[0];
  c.validate(path);
  const int64_t E = c.n_embd, q_dim = c.n_head * c.head_dim, kv_dim = c.n_head_kv * c.head_dim;
  w.tok_embd = as_matrix(emb, {c.n_vocab, E}, path);
  if (c.learned_pos) w.pos_embd = L.mat("position_embd.weight", c.n_ctx_train, E);
  w.out_norm = L.vec("output_norm.weight", E);
  if (c.norm == NormKind::LayerNorm) w.out_norm_b = L.vec("output_norm.bias", E);
  if (L.has("output.weight")) {
    w.output = L.mat("output.weight", c.n_vocab, E);
  } else {
    w.output = w.tok_embd;
    c.tied_head = true;
  }

  w.layers.resize(static_cast<size_t>(c.n_layer));
  for (int64_t i = 0; i < c.n_layer; ++i) {
    LayerWeights& l = w.layers[static_cast<size_t>(i)];
    const std::string p = "blk." + std::to_string(i) + ".";
    l.attn_norm = L.vec(p + "attn_norm.weight", E);
    l.ffn_norm = L.vec(p + "ffn_norm.weight", E);
    if (arch == "gpt2") {
      l.attn_norm_b = L.vec(p + "attn_norm.bias", E);
      l.ffn_norm_b = L.vec(p + "ffn_norm.bias", E);
      Matrix qkv = L.mat(p + "attn_qkv.weight", q_dim + 2 * kv_dim, E);
      l.wq = GgufLoader::rows_of(qkv, 0, q_dim);
      l.wk = GgufLoader::rows_of(qkv, q_dim, kv_dim);
      l.wv = GgufLoader::rows_of(qkv, q_dim + kv_dim, kv_dim);
      Vector b = L.vec(p + "attn_qkv.bias", q_dim + 2 * kv_dim);
      l.bq = Vector{b.data, q_dim};
      l.bk = Vector{b.data + q_dim, kv_dim};
      l.bv = Vector{b.data + q_dim + kv_dim, kv_dim};
      l.wo = L.mat(p + "attn_output.weight", E, q_dim);
      l.bo = L.vec(p + "attn_output.bias", E);
      l.w_up = L.mat(p + "ffn_up.weight", c.n_ff, E);
      l.b_up = L.vec(p + "ffn_up.bias", c.n_ff);
      l.w_down = L.mat(p + "ffn_down.weight", E, c.n_ff);
      l.b_down = L.vec(p + "ffn_down.bias", E);
    } else {
      l.wq = L.mat(p + "attn_q.weight", q_dim, E);
      l.wk = L.mat(p + "attn_k.weight", kv_dim, E);
      l.wv = L.mat(p + "attn_v.weight", kv_dim, E);
      if (c.qkv_bias) {
        l.bq = L.vec(p + "attn_q.bias", q_dim);
        l.bk = L.vec(p + "attn_k.bias", kv_dim);
        l.bv = L.vec(p + "attn_v.bias", kv_dim);
      }
      l.wo = L.mat(p + "attn_output.weight", E, q_dim);
      l.w_gate = L.mat(p + "ffn_gate.weight", c.n_ff, E);
      l.w_up = L.mat(p + "ffn_up.weight", c.n_ff, E);
      l.w_down = L.mat(p + "ffn_down.weight", E, c.n_ff);
    }
  }
  return md;
}

}  // namespace lmgen
