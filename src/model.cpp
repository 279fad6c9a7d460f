// The forward pass. Shapes are noted as [rows, cols] row-major; n = tokens in the current chunk,
// E = n_embd, Q = n_head*head_dim, KV = n_head_kv*head_dim, F = n_ff, V = n_vocab.
//
// Per layer (pre-norm transformer):
//   xb = norm(x)                                  (RMSNorm, or LayerNorm with bias)
//   q = xb Wq^T (+bq), k = xb Wk^T (+bk), v = xb Wv^T (+bv); RoPE(q, k) at each token's position
//   k, v appended to the cache; att = softmax(q k^T / sqrt(head_dim), causal) v   (grouped-query: head h reads
//   kv head h / (n_head / n_head_kv))
//   x += att Wo^T (+bo)
//   xb = norm(x); x += down(act(xb))   act: SwiGLU silu(xb Wg^T) * (xb Wu^T), or GELU-tanh(xb Wu^T + bu)
// Then logits = norm(x) Wout^T.
// Every reduction (dot products, norms, softmax sums) runs in a fixed order, so a token's numbers do not depend on
// the chunk it was computed in or on the number of threads.
#include "lmgen/model.hpp"

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <cstring>

#include "lmgen/error.hpp"
#include "lmgen/matmul.hpp"

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

// e^x from a fixed sequence of IEEE operations (Cody-Waite range reduction + degree-6 polynomial, the classic
// Cephes expf coefficients; ~1 ulp). Unlike a library or Eigen SIMD exp, every element gets the same operations
// whether the compiler vectorises the loop or not, so results do not depend on buffer alignment or length.
inline float exp_fixed(float x) {
  x = std::min(std::max(x, -87.0f), 88.0f);
  const float n = std::nearbyint(x * 1.44269504088896341f);
  float r = x - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  const uint32_t bits = static_cast<uint32_t>(static_cast<int32_t>(n) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, 4);
  return p * scale;
}

inline float gelu_tanh(float x) {
  constexpr float kSqrt2OverPi = 0.7978845608028654f;
  return 0.5f * x * (1.0f + std::tanh(kSqrt2OverPi * x * (1.0f + 0.044715f * x * x)));
}

}  // namespace

struct Model::Impl {
  std::shared_ptr<const ModelData> data;
  const ModelConfig& c;
  const Weights& w;
  ThreadPool pool;
  int64_t n_ctx = 0, n_batch = 0, n_past = 0;
  int64_t q_dim = 0, kv_dim = 0;

  // KV cache: [n_layer, n_ctx, KV] each. Left uninitialised so untouched positions cost no memory.
  std::unique_ptr<float[]> k_cache, v_cache;
  // Scratch for one chunk of up to n_batch tokens.
  std::vector<float> x, xb, q, k, v, att, tmp, ff_a, ff_b;  // [n, E] / [n, Q] / [n, KV] / [n, F]
  std::vector<float> rope_cos, rope_sin;                   // [n, rope_dim/2] for the chunk's positions

  Impl(std::shared_ptr<const ModelData> d, const ModelOptions& opt)
      : data(std::move(d)), c(data->config), w(data->weights), pool(opt.n_threads) {
    n_ctx = opt.n_ctx > 0 ? opt.n_ctx : std::min<int64_t>(c.n_ctx_train > 0 ? c.n_ctx_train : 4096, 4096);
    if (n_ctx > (int64_t{1} << 22)) throw UsageError("context length " + std::to_string(n_ctx) + " is too large");
    if (c.learned_pos && n_ctx > c.n_ctx_train) n_ctx = c.n_ctx_train;  // no positions beyond the table
    n_batch = std::max<int64_t>(1, opt.n_batch);
    q_dim = c.n_head * c.head_dim;
    kv_dim = c.n_head_kv * c.head_dim;
    const size_t cache = static_cast<size_t>(c.n_layer * n_ctx * kv_dim);
    k_cache.reset(new float[cache]);
    v_cache.reset(new float[cache]);
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

  void prepare_rope(int64_t pos0, int64_t n) {
    const int64_t half = c.rope_dim / 2;
    rope_cos.resize(static_cast<size_t>(n * half));
    rope_sin.resize(static_cast<size_t>(n * half));
    for (int64_t i = 0; i < half; ++i) {
      const double freq = std::pow(static_cast<double>(c.rope_theta), -2.0 * static_cast<double>(i) / c.rope_dim);
      for (int64_t t = 0; t < n; ++t) {
        const double a = static_cast<double>(pos0 + t) * freq;
        rope_cos[t * half + i] = static_cast<float>(std::cos(a));
        rope_sin[t * half + i] = static_cast<float>(std::sin(a));
      }
    }
  }

  // Rotates each head of `buf` ([n, heads*head_dim]) in place.
  void apply_rope(float* buf, int64_t n, int64_t heads) const {
    if (c.rope == RopeStyle::None) return;
    const int64_t hd = c.head_dim, half = c.rope_dim / 2;
    for (int64_t t = 0; t < n; ++t) {
      const float* cs = &rope_cos[t * half];
      const float* sn = &rope_sin[t * half];
      for (int64_t h = 0; h < heads; ++h) {
        float* x = buf + t * heads * hd + h * hd;
        for (int64_t i = 0; i < half; ++i) {
          const int64_t a = c.rope == RopeStyle::Interleaved ? 2 * i : i;
          const int64_t b = c.rope == RopeStyle::Interleaved ? 2 * i + 1 : i + half;
          const float x0 = x[a], x1 = x[b];
          x[a] = x0 * cs[i] - x1 * sn[i];
          x[b] = x0 * sn[i] + x1 * cs[i];
        }
      }
    }
  }

  // Causal attention of the chunk's queries over the cache (positions 0 .. pos0+t for token t).
  void attention(int64_t layer, int64_t pos0, int64_t n) {
    const int64_t hd = c.head_dim, group = c.n_head / c.n_head_kv;
    const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
    const float* kc = k_cache.get() + layer * n_ctx * kv_dim;
    const float* vc = v_cache.get() + layer * n_ctx * kv_dim;
    // Small problems (tiny models, short contexts) run on the calling thread: a wake-up costs more than the work.
    const int64_t work = n * c.n_head * (pos0 + n) * hd;
    const int64_t grain = work < (1 << 16) ? n * c.n_head : 1;
    pool.parallel_for(n * c.n_head, grain, [&](int64_t begin, int64_t end) {
      std::vector<float> scores(static_cast<size_t>(pos0 + n));
      for (int64_t task = begin; task < end; ++task) {
        const int64_t t = task / c.n_head, h = task % c.n_head, kvh = h / group;
        const int64_t n_pos = pos0 + t + 1;
        const float* qh = q.data() + t * q_dim + h * hd;
        float mx = -INFINITY;
        for (int64_t p = 0; p < n_pos; ++p) {
          scores[p] = dot_f32(qh, kc + p * kv_dim + kvh * hd, hd) * scale;
          mx = std::max(mx, scores[p]);
        }
        float sum = 0;
        for (int64_t p = 0; p < n_pos; ++p) scores[p] = exp_fixed(scores[p] - mx);
        for (int64_t p = 0; p < n_pos; ++p) sum += scores[p];
        const float inv = 1.0f / sum;
        ArrayMap out(att.data() + t * q_dim + h * hd, hd);
        out.setZero();
        for (int64_t p = 0; p < n_pos; ++p) out += (scores[p] * inv) * ConstArrayMap(vc + p * kv_dim + kvh * hd, hd);
      }
    });
  }

  void forward_chunk(const int32_t* tokens, int64_t n, float* logits, bool all_logits) {
    const int64_t E = c.n_embd, pos0 = n_past;
    ensure_scratch(n);
    // x[t] = embedding of token t (+ learned position)       [n, E]
    for (int64_t t = 0; t < n; ++t) {
      matrix_row_f32(w.tok_embd, tokens[t], &x[t * E]);
      if (c.learned_pos) {
        std::vector<float> pe(static_cast<size_t>(E));
        matrix_row_f32(w.pos_embd, pos0 + t, pe.data());
        ArrayMap(&x[t * E], E) += ConstArrayMap(pe.data(), E);
      }
    }
    if (c.rope != RopeStyle::None) prepare_rope(pos0, n);

    for (int64_t l = 0; l < c.n_layer; ++l) {
      const LayerWeights& L = w.layers[static_cast<size_t>(l)];
      for (int64_t t = 0; t < n; ++t) norm(&x[t * E], L.attn_norm, L.attn_norm_b, &xb[t * E]);
      matmul(L.wq, xb.data(), n, q.data(), pool);  // [n, Q]
      matmul(L.wk, xb.data(), n, k.data(), pool);  // [n, KV]
      matmul(L.wv, xb.data(), n, v.data(), pool);  // [n, KV]
      add_bias(q.data(), L.bq, n);
      add_bias(k.data(), L.bk, n);
      add_bias(v.data(), L.bv, n);
      apply_rope(q.data(), n, c.n_head);
      apply_rope(k.data(), n, c.n_head_kv);
      float* kc = k_cache.get() + (l * n_ctx + pos0) * kv_dim;
      float* vc = v_cache.get() + (l * n_ctx + pos0) * kv_dim;
      std::memcpy(kc, k.data(), static_cast<size_t>(n * kv_dim) * sizeof(float));
      std::memcpy(vc, v.data(), static_cast<size_t>(n * kv_dim) * sizeof(float));
      attention(l, pos0, n);                          // [n, Q]
      matmul(L.wo, att.data(), n, tmp.data(), pool);  // [n, E]
      add_bias(tmp.data(), L.bo, n);
      ArrayMap(x.data(), n * E) += ConstArrayMap(tmp.data(), n * E);

      for (int64_t t = 0; t < n; ++t) norm(&x[t * E], L.ffn_norm, L.ffn_norm_b, &xb[t * E]);
      const int64_t F = c.n_ff;
      if (c.act == Activation::SwiGLU) {
        matmul(L.w_gate, xb.data(), n, ff_a.data(), pool);  // [n, F]
        matmul(L.w_up, xb.data(), n, ff_b.data(), pool);    // [n, F]
        float* a = ff_a.data();
        const float* b = ff_b.data();
        for (int64_t i = 0; i < n * F; ++i) a[i] = a[i] / (1.0f + exp_fixed(-a[i])) * b[i];  // silu(gate) * up
      } else {
        matmul(L.w_up, xb.data(), n, ff_a.data(), pool);  // [n, F]
        add_bias(ff_a.data(), L.b_up, n);
        for (int64_t i = 0; i < n * F; ++i) ff_a[i] = gelu_tanh(ff_a[i]);
      }
      matmul(L.w_down, ff_a.data(), n, tmp.data(), pool);  // [n, E]
      add_bias(tmp.data(), L.b_down, n);
      ArrayMap(x.data(), n * E) += ConstArrayMap(tmp.data(), n * E);
    }

    const int64_t first = all_logits ? 0 : n - 1, n_out = n - first;
    for (int64_t t = first; t < n; ++t) norm(&x[t * E], w.out_norm, w.out_norm_b, &xb[(t - first) * E]);
    if (logits) matmul(w.output, xb.data(), n_out, logits, pool);  // [n_out, V]
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
void Model::truncate(int64_t n) {
  if (n < 0 || n > impl_->n_past) throw Error("cannot truncate the context to " + std::to_string(n) + " positions");
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
