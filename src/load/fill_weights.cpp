// fill_weights: the one place that decides which tensors a model of a given config has (see fill_weights.hpp).
#include "load/fill_weights.hpp"

#include "lmgen/error.hpp"

namespace lmgen {

namespace {

Matrix rows_of(const Matrix& m, int64_t r0, int64_t n) {
  Matrix s = m;
  s.rows = n;
  s.data = m.row(r0);
  return s;
}

const char* need(const char* pattern, const char* what, const ModelConfig& c) {
  if (pattern == nullptr) throw Error("architecture " + c.arch + " has no tensor name for " + what);
  return pattern;
}

void fill_attention(TensorSource& s, const TensorNames& n, const ModelConfig& c, int64_t i, LayerWeights& l) {
  const int64_t E = c.n_embd, Q = c.n_head * c.head_dim, KV = c.n_head_kv * c.head_dim;
  auto nm = [&](const char* p, const char* what) { return layer_name(need(p, what, c), i); };
  if (n.wqkv != nullptr) {
    const Matrix qkv = s.fused_qkv(nm(n.wqkv, "wqkv"), Q + 2 * KV, E);  // [Q + 2 KV, E]
    l.wq = rows_of(qkv, 0, Q);
    l.wk = rows_of(qkv, Q, KV);
    l.wv = rows_of(qkv, Q + KV, KV);
    if (c.qkv_bias) {
      const Vector b = s.fused_qkv_bias(nm(n.bqkv, "bqkv"), Q + 2 * KV);
      l.bq = Vector{b.data, Q};
      l.bk = Vector{b.data + Q, KV};
      l.bv = Vector{b.data + Q + KV, KV};
    }
  } else {
    l.wq = s.linear(nm(n.wq, "wq"), Q, E);   // [Q, E]
    l.wk = s.linear(nm(n.wk, "wk"), KV, E);  // [KV, E]
    l.wv = s.linear(nm(n.wv, "wv"), KV, E);  // [KV, E]
    if (c.qkv_bias) {
      l.bq = s.vector(nm(n.bq, "bq"), Q);
      l.bk = s.vector(nm(n.bk, "bk"), KV);
      l.bv = s.vector(nm(n.bv, "bv"), KV);
    }
  }
  if (c.qk_norm) {
    l.q_norm = s.norm(nm(n.q_norm, "q_norm"), c.head_dim);  // [head_dim]
    l.k_norm = s.norm(nm(n.k_norm, "k_norm"), c.head_dim);  // [head_dim]
  }
  l.wo = s.linear(nm(n.wo, "wo"), E, Q);  // [E, Q]
  if (c.out_bias) l.bo = s.vector(nm(n.bo, "bo"), E);
  if (c.post_norms) l.attn_post_norm = s.norm(nm(n.attn_post_norm, "attn_post_norm"), E);
}

void fill_ffn(TensorSource& s, const TensorNames& n, const ModelConfig& c, int64_t i, LayerWeights& l) {
  const int64_t E = c.n_embd, F = c.n_ff;
  auto nm = [&](const char* p, const char* what) { return layer_name(need(p, what, c), i); };
  const bool gated = c.act == Activation::SwiGLU || c.act == Activation::GegluTanh;
  if (gated && n.w_gate_up != nullptr) {
    const Matrix gu = s.linear(nm(n.w_gate_up, "w_gate_up"), 2 * F, E);  // [2F, E]: gate | up
    l.w_gate = rows_of(gu, 0, F);
    l.w_up = rows_of(gu, F, F);
  } else {
    if (gated) l.w_gate = s.linear(nm(n.w_gate, "w_gate"), F, E);  // [F, E]
    l.w_up = s.linear(nm(n.w_up, "w_up"), F, E);                    // [F, E]
  }
  if (c.out_bias) l.b_up = s.vector(nm(n.b_up, "b_up"), F);
  l.w_down = s.linear(nm(n.w_down, "w_down"), E, F);  // [E, F]
  if (c.out_bias) l.b_down = s.vector(nm(n.b_down, "b_down"), E);
  if (c.post_norms) l.ffn_post_norm = s.norm(nm(n.ffn_post_norm, "ffn_post_norm"), E);
}

}  // namespace

void fill_weights(TensorSource& s, const TensorNames& n, const ModelConfig& c, Weights& w) {
  const int64_t E = c.n_embd;
  const bool ln = c.norm == NormKind::LayerNorm;
  w.tok_embd = s.matrix(need(n.tok_embd, "tok_embd", c), c.n_vocab, E);                       // [V, E]
  if (c.learned_pos) w.pos_embd = s.matrix(need(n.pos_embd, "pos_embd", c), c.n_ctx_train, E);  // [n_ctx_train, E]
  w.layers.resize(static_cast<size_t>(c.n_layer));
  for (int64_t i = 0; i < c.n_layer; ++i) {
    LayerWeights& l = w.layers[static_cast<size_t>(i)];
    l.attn_norm = s.norm(layer_name(need(n.attn_norm, "attn_norm", c), i), E);  // [E]
    if (ln) l.attn_norm_b = s.vector(layer_name(need(n.attn_norm_b, "attn_norm_b", c), i), E);
    fill_attention(s, n, c, i, l);
    l.ffn_norm = s.norm(layer_name(need(n.ffn_norm, "ffn_norm", c), i), E);  // [E]
    if (ln) l.ffn_norm_b = s.vector(layer_name(need(n.ffn_norm_b, "ffn_norm_b", c), i), E);
    fill_ffn(s, n, c, i, l);
  }
  w.out_norm = s.norm(need(n.out_norm, "out_norm", c), E);  // [E]
  if (ln) w.out_norm_b = s.vector(need(n.out_norm_b, "out_norm_b", c), E);
  w.output = c.tied_head ? w.tok_embd : s.matrix(need(n.output, "output", c), c.n_vocab, E);  // [V, E]
}

}  // namespace lmgen
