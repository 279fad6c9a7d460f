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
// Several sequences can share one pass (eval_batch): their rows are stacked for every matrix product, and only the
// positions (RoPE, learned positions) and the attention (each against its own KV cache slot) are per run of rows.
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

// The rows of one sequence within a forward pass: rows row0 .. row0+n-1 are positions pos0 .. pos0+n-1 of `cache`.
struct SeqRun {
  KvCache* cache;
  int64_t pos0, row0, n;
};

struct Model::Impl {
  std::shared_ptr<const ModelData> data;
  const ModelConfig& c;
  const Weights& w;
  ThreadPool pool;
  int64_t n_ctx = 0, n_batch = 0;
  int64_t q_dim = 0, kv_dim = 0;

  std::vector<std::unique_ptr<KvCache>> caches;  // one per sequence slot
  std::vector<int64_t> n_past;                   // positions held, per slot
  // Scratch for one chunk of up to n_batch tokens.
  std::vector<float> x, xb, q, k, v, att, tmp, ff_a, ff_b;  // [n, E] / [n, Q] / [n, KV] / [n, F]
  RopeTable rope_global, rope_local;  // [n, rope_dim/2] for the chunk's positions (local: sliding layers' base)

  Impl(std::shared_ptr<const ModelData> d, const ModelOptions& opt)
      : data(std::move(d)), c(data->config), w(data->weights), pool(opt.n_threads) {
    n_ctx = opt.n_ctx > 0 ? opt.n_ctx : std::min<int64_t>(c.n_ctx_train > 0 ? c.n_ctx_train : 4096, 4096);
    if (n_ctx > kMaxContext)
      throw UsageError("context length " + std::to_string(n_ctx) + " is too large (at most " +
                       std::to_string(kMaxContext) + " tokens)");
    if (c.learned_pos && n_ctx > c.n_ctx_train) n_ctx = c.n_ctx_train;  // no positions beyond the table
    n_batch = std::max<int64_t>(1, opt.n_batch);
    q_dim = c.n_head * c.head_dim;
    kv_dim = c.n_head_kv * c.head_dim;
    std::vector<int64_t> windows;
    for (int64_t l = 0; l < c.n_layer && !c.layer_sliding.empty(); ++l)
      windows.push_back(c.is_sliding(l) ? c.sliding_window : 0);
    if (opt.n_seq < 1 || opt.n_seq > 1024) throw UsageError("n_seq must be 1 .. 1024, got " + std::to_string(opt.n_seq));
    for (int32_t s = 0; s < opt.n_seq; ++s)
      caches.push_back(std::make_unique<KvCache>(c.n_layer, n_ctx, c.n_head_kv, c.head_dim, windows, n_batch));
    n_past.assign(static_cast<size_t>(opt.n_seq), 0);
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

  // Frequency i is theta^(-2i/rope_dim) / div[i]; cos and sin are multiplied by mscale. Fills the table rows of
  // one run (its positions pos0 .. pos0+n-1 at rows row0 ..); the table has been sized for the whole pass.
  void prepare_rope(RopeTable& rt, double theta, const std::vector<float>* div, float mscale, const SeqRun& r) const {
    const int64_t half = c.rope_dim / 2;
    for (int64_t i = 0; i < half; ++i) {
      double freq = std::pow(theta, -2.0 * static_cast<double>(i) / static_cast<double>(c.rope_dim));
      if (div != nullptr) freq /= static_cast<double>((*div)[static_cast<size_t>(i)]);
      for (int64_t t = 0; t < r.n; ++t) {
        const double a = static_cast<double>(r.pos0 + t) * freq;
        rt.cos[(r.row0 + t) * half + i] = static_cast<float>(std::cos(a)) * mscale;
        rt.sin[(r.row0 + t) * half + i] = static_cast<float>(std::sin(a)) * mscale;
      }
    }
  }

  // The pass's RoPE tables, run by run: long factors once the sequence passes the original context (longrope, as
  // the reference decides per forward call), and the unscaled local base for sliding layers that have one.
  void prepare_ropes(std::span<const SeqRun> runs, int64_t n) {
    const size_t size = static_cast<size_t>(n * (c.rope_dim / 2));
    for (RopeTable* rt : {&rope_global, &rope_local}) {
      rt->cos.resize(size);
      rt->sin.resize(size);
    }
    for (const SeqRun& r : runs) {
      const std::vector<float>* div = c.rope_freq_div.empty() ? nullptr : &c.rope_freq_div;
      if (!c.rope_freq_div_long.empty() && r.pos0 + r.n > c.rope_orig_ctx) div = &c.rope_freq_div_long;
      prepare_rope(rope_global, c.rope_theta, div, c.rope_attn_factor, r);
      if (c.rope_theta_local > 0.0f) prepare_rope(rope_local, c.rope_theta_local, nullptr, 1.0f, r);
    }
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

  // tmp = attention block output for the pass (before the residual add)                  [n, E]
  void attention(int64_t l, const LayerWeights& L, std::span<const SeqRun> runs, int64_t n) {
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
    AttnOptions opt;
    opt.window = c.is_sliding(l) ? c.sliding_window : 0;
    opt.softcap = c.attn_softcap;
    const float scale = c.attn_scale > 0.0f ? c.attn_scale : 1.0f / std::sqrt(static_cast<float>(c.head_dim));
    for (const SeqRun& r : runs) {  // each run against its own cache slot, at its own positions
      r.cache->store(l, r.pos0, r.n, &k[r.row0 * kv_dim], &v[r.row0 * kv_dim]);
      r.cache->attend(l, r.pos0, r.n, c.n_head, scale, &q[r.row0 * q_dim], &att[r.row0 * q_dim], pool, opt);  // [n, Q]
    }
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

  // One forward pass over the n rows of `tokens`, made of `runs` (each a sequence's consecutive positions).
  // logits (when not null) receives [out_rows.size(), V]: the predictions after the rows listed.
  void forward(const int32_t* tokens, int64_t n, std::span<const SeqRun> runs, std::span<const int64_t> out_rows,
               float* logits) {
    const int64_t E = c.n_embd;
    ensure_scratch(n);
    // x[t] = embedding of token t (* embd_scale) (+ learned position)       [n, E]
    for (const SeqRun& r : runs)
      for (int64_t t = r.row0; t < r.row0 + r.n; ++t) {
        matrix_row_f32(w.tok_embd, tokens[t], &x[t * E]);
        if (c.embd_scale > 0.0f) ArrayMap(&x[t * E], E) *= c.embd_scale;
        if (c.learned_pos) {
          matrix_row_f32(w.pos_embd, r.pos0 + t - r.row0, &tmp[t * E]);
          ArrayMap(&x[t * E], E) += ConstArrayMap(&tmp[t * E], E);
        }
      }
    if (c.rope != RopeStyle::None) prepare_ropes(runs, n);

    for (int64_t l = 0; l < c.n_layer; ++l) {
      const LayerWeights& L = w.layers[static_cast<size_t>(l)];
      for (int64_t t = 0; t < n; ++t) norm(&x[t * E], L.attn_norm, L.attn_norm_b, &xb[t * E]);
      attention(l, L, runs, n);  // tmp
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

    const int64_t n_out = static_cast<int64_t>(out_rows.size());
    for (int64_t i = 0; i < n_out; ++i) norm(&x[out_rows[i] * E], w.out_norm, w.out_norm_b, &xb[i * E]);
    if (logits && n_out > 0) {
      matmul(w.output, xb.data(), n_out, logits, pool);  // [n_out, V]
      if (c.final_softcap > 0.0f) softcap(logits, n_out * c.n_vocab, c.final_softcap);
    }
  }

  void check_tokens(std::span<const int32_t> tokens) const {
    for (int32_t id : tokens)
      if (id < 0 || id >= c.n_vocab)
        throw Error("token id " + std::to_string(id) + " is outside the vocabulary (" + std::to_string(c.n_vocab) + ")");
  }
  void check_room(int32_t slot, int64_t n) const {
    const int64_t past = n_past[static_cast<size_t>(slot)];
    if (past + n > n_ctx)
      throw Error("context full: " + std::to_string(past) + " + " + std::to_string(n) + " tokens exceed n_ctx " +
                  std::to_string(n_ctx));
  }
  void check_slot(int32_t slot) const {
    if (slot < 0 || slot >= static_cast<int32_t>(caches.size()))
      throw Error("KV cache slot " + std::to_string(slot) + " out of range (" + std::to_string(caches.size()) + " slots)");
  }
};

Model::Model(std::shared_ptr<const ModelData> data, const ModelOptions& opt)
    : impl_(std::make_unique<Impl>(std::move(data), opt)) {}
Model::~Model() = default;

const ModelConfig& Model::config() const { return impl_->c; }
int64_t Model::n_ctx() const { return impl_->n_ctx; }
int64_t Model::n_past() const { return impl_->n_past[0]; }
void Model::reset() { impl_->n_past[0] = 0; }
bool Model::can_truncate(int64_t n) const { return can_truncate(0, n); }
void Model::truncate(int64_t n) { truncate(0, n); }

bool Model::can_truncate(int32_t slot, int64_t n) const {
  impl_->check_slot(slot);
  const int64_t past = impl_->n_past[static_cast<size_t>(slot)];
  return n >= 0 && n <= past && impl_->caches[static_cast<size_t>(slot)]->can_rewind(past, n);
}

void Model::truncate(int32_t slot, int64_t n) {
  impl_->check_slot(slot);
  const int64_t past = impl_->n_past[static_cast<size_t>(slot)];
  if (n < 0 || n > past) throw Error("cannot truncate the context to " + std::to_string(n) + " positions");
  if (!impl_->caches[static_cast<size_t>(slot)]->can_rewind(past, n))
    throw Error("cannot truncate the context to " + std::to_string(n) + " positions: the sliding-window KV cache no "
                "longer holds the positions before it (rewinds are limited to about the window)");
  impl_->n_past[static_cast<size_t>(slot)] = n;
}
int32_t Model::n_seq() const { return static_cast<int32_t>(impl_->caches.size()); }
int64_t Model::n_batch() const { return impl_->n_batch; }
int64_t Model::n_past(int32_t slot) const {
  impl_->check_slot(slot);
  return impl_->n_past[static_cast<size_t>(slot)];
}
void Model::reset(int32_t slot) {
  impl_->check_slot(slot);
  impl_->n_past[static_cast<size_t>(slot)] = 0;
}
int Model::n_threads() const { return impl_->pool.size(); }

void Model::eval(std::span<const int32_t> tokens, std::vector<float>& logits, bool all_logits) {
  Impl& m = *impl_;
  const int64_t n = static_cast<int64_t>(tokens.size());
  if (n == 0) throw Error("eval needs at least one token");
  m.check_room(0, n);
  m.check_tokens(tokens);
  const int64_t V = m.c.n_vocab;
  logits.resize(static_cast<size_t>((all_logits ? n : 1) * V));
  std::vector<int64_t> rows;
  for (int64_t start = 0; start < n; start += m.n_batch) {
    const int64_t len = std::min(m.n_batch, n - start);
    const bool last_chunk = start + len == n;
    rows.clear();
    for (int64_t t = all_logits ? 0 : len - 1; t < len && (all_logits || last_chunk); ++t) rows.push_back(t);
    float* out = all_logits ? logits.data() + start * V : (last_chunk ? logits.data() : nullptr);
    const SeqRun run{m.caches[0].get(), m.n_past[0], 0, len};
    m.forward(tokens.data() + start, len, std::span<const SeqRun>(&run, 1), rows, out);
    m.n_past[0] += len;
  }
}

void Model::eval_batch(std::span<const SeqChunk> chunks, std::vector<float>& logits) {
  Impl& m = *impl_;
  if (chunks.empty()) throw Error("eval_batch needs at least one sequence");
  std::vector<int32_t> tokens;
  std::vector<SeqRun> runs;
  std::vector<int64_t> rows;
  std::vector<bool> seen(m.caches.size(), false);
  for (const SeqChunk& ch : chunks) {
    m.check_slot(ch.slot);
    if (seen[static_cast<size_t>(ch.slot)]) throw Error("eval_batch: slot " + std::to_string(ch.slot) + " given twice");
    seen[static_cast<size_t>(ch.slot)] = true;
    const int64_t n = static_cast<int64_t>(ch.tokens.size());
    if (n == 0) throw Error("eval_batch: an empty chunk for slot " + std::to_string(ch.slot));
    m.check_room(ch.slot, n);
    m.check_tokens(ch.tokens);
    const int64_t row0 = static_cast<int64_t>(tokens.size());
    runs.push_back(SeqRun{m.caches[static_cast<size_t>(ch.slot)].get(), m.n_past[static_cast<size_t>(ch.slot)], row0, n});
    for (int64_t t = ch.all_logits ? 0 : n - 1; t < n; ++t) rows.push_back(row0 + t);
    tokens.insert(tokens.end(), ch.tokens.begin(), ch.tokens.end());
  }
  const int64_t n = static_cast<int64_t>(tokens.size());
  if (n > m.n_batch)
    throw Error("eval_batch: " + std::to_string(n) + " tokens in one pass exceed n_batch " + std::to_string(m.n_batch));
  logits.resize(rows.size() * static_cast<size_t>(m.c.n_vocab));
  m.forward(tokens.data(), n, runs, rows, logits.data());
  for (const SeqChunk& ch : chunks) m.n_past[static_cast<size_t>(ch.slot)] += static_cast<int64_t>(ch.tokens.size());
}

}  // namespace lmgen
