// The forward pass. Shapes are noted as [rows, cols] row-major; n = tokens in the current chunk,
// E = n_embd, Q = n_head*head_dim, KV = n_head_kv*head_dim, F = n_ff, V = n_vocab. Every branch is on a
// ModelConfig flag.
//
// x = embedding(token) (* embd_scale) (+ learned position). Per layer:
//   xb = norm(x)                                  (RMSNorm, or LayerNorm with bias)
//   q = xb Wq^T (+bq), k = xb Wk^T (+bk), v = xb Wv^T (+bv); q, k: RMSNorm per head (qk_norm); RoPE(q, k) at each
//   token's position (sliding layers may use their own base)
//   k, v appended to the cache; att = softmax(softcap(q k^T * scale), causal [, window]) v   (grouped-query: head
//   h reads kv head h / (n_head / n_head_kv))
//   a = att Wo^T (+bo) (then RMSNorm: post_norms)
//   sequential: x += a; x += ffn(norm(x))      parallel_residual: x += a + ffn(norm2(x before the add))
//   ffn(h) = down(act(h)) (+ post norm)          act: SwiGLU silu(h Wg^T) * (h Wu^T), GeGLU gelu_tanh(h Wg^T) *
//   (h Wu^T), or GELU (tanh or erf) of h Wu^T + bu
// Then logits = norm(x) Wout^T (then softcap).
// Every reduction (dot products, norms, softmax sums) runs in a fixed order, so a token's numbers do not depend on
// the chunk it was computed in or on the number of threads.
#include "lmgen/model.hpp"

#include <Eigen/Core>
#include <algorithm>
#include <cmath>

#include "lmgen/error.hpp"
#include "kernels/matmul.hpp"
#include "model/kv_cache.hpp"
#include "kernels/vecmath.hpp"

namespace lmgen {

namespace {

using ArrayMap = Eigen::Map<Eigen::ArrayXf>;
using ConstArrayMap = Eigen::Map<const Eigen::ArrayXf>;

// Dot product with 16 independent partial sums (then 8 for a remaining chunk) combined in a fixed order:
// vectorisable, and deterministic (the order depends only on n).
inline float dot_f32(const float* a, const float* b, int64_t n) {
  float acc[16] = {0};
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    for (int j = 0; j < 16; ++j) acc[j] += a[i + j] * b[i + j];
  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; ++j) acc[j] += a[i + j] * b[i + j];
  float tail = 0;
  for (; i < n; ++i) tail += a[i] * b[i];
  for (int w = 8; w >= 1; w /= 2)
    for (int j = 0; j < w; ++j) acc[j] += acc[j + w];
  return acc[0] + tail;
}

inline float sum_f32(const float* a, int64_t n) {
  float acc[16] = {0};
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    for (int j = 0; j < 16; ++j) acc[j] += a[i + j];
  float tail = 0;
  for (; i < n; ++i) tail += a[i];
  for (int w = 8; w >= 1; w /= 2)
    for (int j = 0; j < w; ++j) acc[j] += acc[j + w];
  return acc[0] + tail;
}

void rms_norm(const float* x, const Vector& g, float eps, float* out, int64_t n) {
  const float ss = dot_f32(x, x, n) / static_cast<float>(n);
  const float scale = 1.0f / std::sqrt(ss + eps);
  ArrayMap(out, n) = ConstArrayMap(x, n) * scale * ConstArrayMap(g.data, n);
}

void layer_norm(const float* x, const Vector& g, const Vector& b, float eps, float* out, int64_t n) {
  const float mean = sum_f32(x, n) / static_cast<float>(n);
  ArrayMap o(out, n);
  o = ConstArrayMap(x, n) - mean;
  const float var = dot_f32(out, out, n) / static_cast<float>(n);
  const float scale = 1.0f / std::sqrt(var + eps);
  o = o * scale * ConstArrayMap(g.data, n) + ConstArrayMap(b.data, n);
}

inline float gelu_tanh(float x) {
  constexpr float kSqrt2OverPi = 0.7978845608028654f;
  return 0.5f * x * (1.0f + std::tanh(kSqrt2OverPi * x * (1.0f + 0.044715f * x * x)));
}

inline float gelu_erf(float x) { return 0.5f * x * (1.0f + std::erf(x * 0.70710678118654752f)); }

void softcap(float* x, int64_t n, float cap) {
  for (int64_t i = 0; i < n; ++i) x[i] = cap * std::tanh(x[i] / cap);
}

// cos / sin of each position of a chunk for each rotated pair: [n, rope_dim/2].
struct RopeTable {
  std::vector<float> cos, sin;
};

// Rotates each head of `buf` ([n, heads*head_dim]) in place; the pairing is a template parameter, so it is
// chosen once per call.
template <RopeStyle S>
void rope_heads(float* buf, int64_t n, int64_t heads, int64_t hd, int64_t half, const RopeTable& rt) {
  for (int64_t t = 0; t < n; ++t) {
    const float* cs = &rt.cos[t * half];
    const float* sn = &rt.sin[t * half];
    for (int64_t h = 0; h < heads; ++h) {
      float* x = buf + t * heads * hd + h * hd;
      for (int64_t i = 0; i < half; ++i) {
        const int64_t a = S == RopeStyle::Interleaved ? 2 * i : i;
        const int64_t b = S == RopeStyle::Interleaved ? 2 * i + 1 : i + half;
        const float x0 = x[a], x1 = x[b];
        x[a] = x0 * cs[i] - x1 * sn[i];
        x[b] = x0 * sn[i] + x1 * cs[i];
      }
    }
  }
}

}  // namespace

struct Model::Impl {
  std::shared_ptr<const ModelData> data;
  const ModelConfig& c;
  const Weights& w;
  ThreadPool pool;
  int64_t n_ctx = 0, n_batch = 0, n_past = 0;
  int64_t q_dim = 0, kv_dim = 0;

  std::unique_ptr<KvCache> cache;
  // Scratch for one chunk of up to n_batch tokens.
  std::vector<float> x, xb, q, k, v, att, tmp, ff_a, ff_b;  // [n, E] / [n, Q] / [n, KV] / [n, F]
  RopeTable rope_global, rope_local;  // [n, rope_dim/2] for the chunk's positions (local: sliding layers' base)

  Impl(std::shared_ptr<const ModelData> d, const ModelOptions& opt)
      : data(std::move(d)), c(data->config), w(data->weights), pool(opt.n_threads) {
    n_ctx = opt.n_ctx > 0 ? opt.n_ctx : std::min<int64_t>(c.n_ctx_train > 0 ? c.n_ctx_train : 4096, 4096);
    if (n_ctx > (int64_t{1} << 22)) throw UsageError("context length " + std::to_string(n_ctx) + " is too large");
    if (c.learned_pos && n_ctx > c.n_ctx_train) n_ctx = c.n_ctx_train;  // no positions beyond the table
    n_batch = std::max<int64_t>(1, opt.n_batch);
    q_dim = c.n_head * c.head_dim;
    kv_dim = c.n_head_kv * c.head_dim;
    std::vector<int64_t> windows;
    for (int64_t l = 0; l < c.n_layer && !c.layer_sliding.empty(); ++l)
      windows.push_back(c.is_sliding(l) ? c.sliding_window : 0);
    cache = std::make_unique<KvCache>(c.n_layer, n_ctx, c.n_head_kv, c.head_dim, windows, n_batch);
  }

  void ensure_scratch(int64_t n) {
    auto need = [&](std::vector<float>& b, int64_t cols) {
      if (b.size() < static_cast<size_t>(n * cols)) b.resize(static_cast<size_t>(n * cols));
    };
    need(x, c.n_embd); need(xb, c.n_embd); need(tmp, c.n_embd);
    need(q, q_dim); need(att, q_dim); need(k, kv_dim); need(v, kv_dim);
    need(ff_a, c.n_ff); need(ff_b, c.n_ff);
  }

  void norm(const float* in, const Vector& g, const Vector& b, float* out) const {
    if (c.norm == NormKind::RMSNorm)
      rms_norm(in, g, c.norm_eps, out, c.n_embd);
    else
      layer_norm(in, g, b, c.norm_eps, out, c.n_embd);
  }

  static void add_bias(float* y, const Vector& b, int64_t n_tok) {
    if (b.empty()) return;
    for (int64_t t = 0; t < n_tok; ++t) ArrayMap(y + t * b.n, b.n) += ConstArrayMap(b.data, b.n);
  }

  // Frequency i is theta^(-2i/rope_dim) / div[i]; cos and sin are multiplied by mscale.
  void prepare_rope(RopeTable& rt, double theta, const std::vector<float>* div, float mscale, int64_t pos0,
                    int64_t n) const {
    const int64_t half = c.rope_dim / 2;
    rt.cos.resize(static_cast<size_t>(n * half));
    rt.sin.resize(static_cast<size_t>(n * half));
    for (int64_t i = 0; i < half; ++i) {
      double freq = std::pow(theta, -2.0 * static_cast<double>(i) / static_cast<double>(c.rope_dim));
      if (div != nullptr) freq /= static_cast<double>((*div)[static_cast<size_t>(i)]);
      for (int64_t t = 0; t < n; ++t) {
        const double a = static_cast<double>(pos0 + t) * freq;
        rt.cos[t * half + i] = static_cast<float>(std::cos(a)) * mscale;
        rt.sin[t * half + i] = static_cast<float>(std::sin(a)) * mscale;
      }
    }
  }

  // The chunk's RoPE tables: long factors once the sequence passes the original context (longrope, as the
  // reference decides per forward call), and the unscaled local base for sliding layers that have one.
  void prepare_ropes(int64_t pos0, int64_t n) {
    const std::vector<float>* div = c.rope_freq_div.empty() ? nullptr : &c.rope_freq_div;
    if (!c.rope_freq_div_long.empty() && pos0 + n > c.rope_orig_ctx) div = &c.rope_freq_div_long;
    prepare_rope(rope_global, c.rope_theta, div, c.rope_attn_factor, pos0, n);
    if (c.rope_theta_local > 0.0f) prepare_rope(rope_local, c.rope_theta_local, nullptr, 1.0f, pos0, n);
  }

  const RopeTable& rope_of(int64_t layer) const {
    return c.rope_theta_local > 0.0f && c.is_sliding(layer) ? rope_local : rope_global;
  }

  void apply_rope(float* buf, int64_t n, int64_t heads, const RopeTable& rt) const {
    if (c.rope == RopeStyle::Interleaved)
      rope_heads<RopeStyle::Interleaved>(buf, n, heads, c.head_dim, c.rope_dim / 2, rt);
    else if (c.rope == RopeStyle::Neox)
      rope_heads<RopeStyle::Neox>(buf, n, heads, c.head_dim, c.rope_dim / 2, rt);
  }

  // RMSNorm over each head_dim slice of buf ([n * heads, head_dim]), in place.
  void head_norm(float* buf, int64_t rows, const Vector& g) const {
    for (int64_t r = 0; r < rows; ++r) rms_norm(buf + r * c.head_dim, g, c.norm_eps, buf + r * c.head_dim, c.head_dim);
  }

  // tmp = attention block output for the chunk (before the residual add)                 [n, E]
  void attention(int64_t l, const LayerWeights& L, int64_t pos0, int64_t n) {
    matmul(L.wq, xb.data(), n, q.data(), pool);  // [n, Q]
    matmul(L.wk, xb.data(), n, k.data(), pool);  // [n, KV]
    matmul(L.wv, xb.data(), n, v.data(), pool);  // [n, KV]
    add_bias(q.data(), L.bq, n);
    add_bias(k.data(), L.bk, n);
    add_bias(v.data(), L.bv, n);
    if (c.qk_norm) {
      head_norm(q.data(), n * c.n_head, L.q_norm);
      head_norm(k.data(), n * c.n_head_kv, L.k_norm);
    }
    apply_rope(q.data(), n, c.n_head, rope_of(l));
    apply_rope(k.data(), n, c.n_head_kv, rope_of(l));
    cache->store(l, pos0, n, k.data(), v.data());
    AttnOptions opt;
    opt.window = c.is_sliding(l) ? c.sliding_window : 0;
    opt.softcap = c.attn_softcap;
    const float scale = c.attn_scale > 0.0f ? c.attn_scale : 1.0f / std::sqrt(static_cast<float>(c.head_dim));
    cache->attend(l, pos0, n, c.n_head, scale, q.data(), att.data(), pool, opt);  // [n, Q]
    matmul(L.wo, att.data(), n, tmp.data(), pool);                                // [n, E]
    add_bias(tmp.data(), L.bo, n);
    if (c.post_norms)
      for (int64_t t = 0; t < n; ++t) norm(&tmp[t * c.n_embd], L.attn_post_norm, Vector{}, &tmp[t * c.n_embd]);
  }

  // tmp = feed-forward block output for the normed input xb                               [n, E]
  void feed_forward(const LayerWeights& L, int64_t n) {
    const int64_t F = c.n_ff;
    if (c.act == Activation::SwiGLU || c.act == Activation::GegluTanh) {
      matmul(L.w_gate, xb.data(), n, ff_a.data(), pool);  // [n, F]
      matmul(L.w_up, xb.data(), n, ff_b.data(), pool);    // [n, F]
      if (c.act == Activation::SwiGLU)
        vec::silu_mul(ff_a.data(), ff_b.data(), n * F);  // silu(gate) * up
      else
        for (int64_t i = 0; i < n * F; ++i) ff_a[i] = gelu_tanh(ff_a[i]) * ff_b[i];
    } else {
      matmul(L.w_up, xb.data(), n, ff_a.data(), pool);  // [n, F]
      add_bias(ff_a.data(), L.b_up, n);
      if (c.act == Activation::GeluErf)
        for (int64_t i = 0; i < n * F; ++i) ff_a[i] = gelu_erf(ff_a[i]);
      else
        for (int64_t i = 0; i < n * F; ++i) ff_a[i] = gelu_tanh(ff_a[i]);
    }
    matmul(L.w_down, ff_a.data(), n, tmp.data(), pool);  // [n, E]
    add_bias(tmp.data(), L.b_down, n);
    if (c.post_norms)
      for (int64_t t = 0; t < n; ++t) norm(&tmp[t * c.n_embd], L.ffn_post_norm, Vector{}, &tmp[t * c.n_embd]);
  }

  void forward_chunk(const int32_t* tokens, int64_t n, float* logits, bool all_logits) {
    const int64_t E = c.n_embd, pos0 = n_past;
    ensure_scratch(n);
    // x[t] = embedding of token t (* embd_scale) (+ learned position)       [n, E]
    for (int64_t t = 0; t < n; ++t) {
      matrix_row_f32(w.tok_embd, tokens[t], &x[t * E]);
      if (c.embd_scale > 0.0f) ArrayMap(&x[t * E], E) *= c.embd_scale;
      if (c.learned_pos) {
        matrix_row_f32(w.pos_embd, pos0 + t, &tmp[t * E]);
        ArrayMap(&x[t * E], E) += ConstArrayMap(&tmp[t * E], E);
      }
    }
    if (c.rope != RopeStyle::None) prepare_ropes(pos0, n);

    for (int64_t l = 0; l < c.n_layer; ++l) {
      const LayerWeights& L = w.layers[static_cast<size_t>(l)];
      for (int64_t t = 0; t < n; ++t) norm(&x[t * E], L.attn_norm, L.attn_norm_b, &xb[t * E]);
      attention(l, L, pos0, n);  // tmp
      if (c.parallel_residual) {  // the FFN reads the block's input, not the attention's result
        for (int64_t t = 0; t < n; ++t) norm(&x[t * E], L.ffn_norm, L.ffn_norm_b, &xb[t * E]);
        ArrayMap(x.data(), n * E) += ConstArrayMap(tmp.data(), n * E);
      } else {
        ArrayMap(x.data(), n * E) += ConstArrayMap(tmp.data(), n * E);
        for (int64_t t = 0; t < n; ++t) norm(&x[t * E], L.ffn_norm, L.ffn_norm_b, &xb[t * E]);
      }
      feed_forward(L, n);  // tmp
      ArrayMap(x.data(), n * E) += ConstArrayMap(tmp.data(), n * E);
    }

    const int64_t first = all_logits ? 0 : n - 1, n_out = n - first;
    for (int64_t t = first; t < n; ++t) norm(&x[t * E], w.out_norm, w.out_norm_b, &xb[(t - first) * E]);
    if (logits) {
      matmul(w.output, xb.data(), n_out, logits, pool);  // [n_out, V]
      if (c.final_softcap > 0.0f) softcap(logits, n_out * c.n_vocab, c.final_softcap);
    }
    n_past += n;
  }
};

Model::Model(std::shared_ptr<const ModelData> data, const ModelOptions& opt)
    : impl_(std::make_unique<Impl>(std::move(data), opt)) {}
Model::~Model() = default;

const ModelConfig& Model::config() const { return impl_->c; }
int64_t Model::n_ctx() const { return impl_->n_ctx; }
int64_t Model::n_past() const { return impl_->n_past; }
void Model::reset() { impl_->n_past = 0; }
bool Model::can_truncate(int64_t n) const {
  return n >= 0 && n <= impl_->n_past && impl_->cache->can_rewind(impl_->n_past, n);
}

void Model::truncate(int64_t n) {
  if (n < 0 || n > impl_->n_past) throw Error("cannot truncate the context to " + std::to_string(n) + " positions");
  if (!impl_->cache->can_rewind(impl_->n_past, n))
    throw Error("cannot truncate the context to " + std::to_string(n) + " positions: the sliding-window KV cache no "
                "longer holds the positions before it (rewinds are limited to about the window)");
  impl_->n_past = n;
}
ThreadPool& Model::pool() { return impl_->pool; }

void Model::eval(std::span<const int32_t> tokens, std::vector<float>& logits, bool all_logits) {
  Impl& m = *impl_;
  const int64_t n = static_cast<int64_t>(tokens.size());
  if (n == 0) throw Error("eval needs at least one token");
  if (m.n_past + n > m.n_ctx)
    throw Error("context full: " + std::to_string(m.n_past) + " + " + std::to_string(n) + " tokens exceed n_ctx " +
                std::to_string(m.n_ctx));
  for (int32_t id : tokens)
    if (id < 0 || id >= m.c.n_vocab)
      throw Error("token id " + std::to_string(id) + " is outside the vocabulary (" + std::to_string(m.c.n_vocab) + ")");
  const int64_t V = m.c.n_vocab;
  logits.resize(static_cast<size_t>((all_logits ? n : 1) * V));
  for (int64_t start = 0; start < n; start += m.n_batch) {
    const int64_t len = std::min(m.n_batch, n - start);
    const bool last_chunk = start + len == n;
    float* out = all_logits ? logits.data() + start * V : (last_chunk ? logits.data() : nullptr);
    m.forward_chunk(tokens.data() + start, len, out, all_logits);
  }
}

}  // namespace lmgen
