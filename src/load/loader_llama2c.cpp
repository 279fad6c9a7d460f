// llama2.c checkpoints (Karpathy's run.c "legacy" float32 format).
//
// Layout: 7 × i32 header {dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len}; a negative
// vocab_size means the classifier is stored separately (not shared with the embedding). Then F32 arrays:
//   token_embedding [vocab, dim]; rms_att [L, dim]; wq [L, dim, dim]; wk [L, kv_dim, dim]; wv [L, kv_dim, dim];
//   wo [L, dim, dim]; rms_ffn [L, dim]; w1 [L, hidden, dim]; w2 [L, dim, hidden]; w3 [L, hidden, dim];
//   rms_final [dim]; freq_cis_real [seq_len, head_size/2]; freq_cis_imag [seq_len, head_size/2];
//   wcls [vocab, dim] (only if not shared).
// Every matrix is PyTorch [out, in], row-major. RoPE rotates adjacent pairs (Interleaved), theta 10000;
// w1 = gate, w3 = up, w2 = down (SwiGLU); RMSNorm eps 1e-5.
#include <array>
#include <cstring>

#include "lmgen/loader.hpp"
#include "format/mapped_file.hpp"
#include "load/loader_common.hpp"
#include "load/loaders.hpp"

namespace lmgen {

namespace {
constexpr int64_t kMaxDim = 1 << 16;

struct Header {
  int32_t dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len;
};

Header read_header(const MappedFile& f) {
  Header h{};
  std::memcpy(&h, f.span(0, sizeof(Header)), sizeof(Header));
  return h;
}

// Number of floats the weights take after the header, or -1 if the header is absurd.
int64_t expected_floats(const Header& h, bool shared) {
  const int64_t dim = h.dim, hid = h.hidden_dim, L = h.n_layers, V = std::abs(static_cast<int64_t>(h.vocab_size));
  if (dim <= 0 || hid <= 0 || L <= 0 || h.n_heads <= 0 || h.n_kv_heads <= 0 || V <= 0 || h.seq_len <= 0) return -1;
  if (dim > kMaxDim || hid > 4 * kMaxDim || L > 1024 || V > (1 << 22) || h.seq_len > (1 << 22)) return -1;
  if (dim % h.n_heads != 0 || h.n_heads % h.n_kv_heads != 0) return -1;
  const int64_t hs = dim / h.n_heads, kv = hs * h.n_kv_heads;
  int64_t n = V * dim + L * dim + L * dim * dim + 2 * L * kv * dim + L * dim * dim + L * dim + 3 * L * hid * dim + dim +
              static_cast<int64_t>(h.seq_len) * hs;
  if (!shared) n += V * dim;
  return n;
}
}  // namespace

bool llama2c_sniff(const std::string& path) { return llama2c_sniff(*MappedFile::open(path)); }

bool llama2c_sniff(const MappedFile& f) {
  if (f.size() < sizeof(Header)) return false;
  Header h = read_header(f);
  int64_t n = expected_floats(h, h.vocab_size > 0);
  return n > 0 && static_cast<uint64_t>(n) * 4 + sizeof(Header) == f.size();
}

ModelData load_llama2c_model(const std::string& path, FileAccess access) {
  return load_llama2c_model(MappedFile::open(path, access));
}

ModelData load_llama2c_model(std::shared_ptr<MappedFile> f) {
  const std::string& path = f->path();
  if (f->size() < sizeof(Header)) throw Error(path, "too small to be a llama2.c checkpoint");
  Header h = read_header(*f);
  const bool shared = h.vocab_size > 0;
  const int64_t n = expected_floats(h, shared);
  if (n < 0) throw Error(path, "not a llama2.c checkpoint (implausible header)");
  const uint64_t want = static_cast<uint64_t>(n) * 4 + sizeof(Header);
  if (f->size() != want)
    throw Error(path, "llama2.c checkpoint should be " + std::to_string(want) + " bytes for its header, found " +
                          std::to_string(f->size()));

  ModelData md;
  md.source = path;
  ModelConfig& c = md.config;
  c.arch = "llama";
  c.name = "llama2.c";
  c.n_embd = h.dim;
  c.n_ff = h.hidden_dim;
  c.n_layer = h.n_layers;
  c.n_head = h.n_heads;
  c.n_head_kv = h.n_kv_heads;
  c.n_vocab = std::abs(h.vocab_size);
  c.n_ctx_train = h.seq_len;
  c.head_dim = h.dim / h.n_heads;
  c.rope_dim = c.head_dim;
  c.rope = RopeStyle::Interleaved;
  c.norm_eps = 1e-5f;
  c.tied_head = shared;
  c.validate(path);

  Weights& w = md.weights;
  w.keep_alive.push_back(f);
  const int64_t E = c.n_embd, L = c.n_layer, kv = c.n_head_kv * c.head_dim, F = c.n_ff;
  uint64_t off = sizeof(Header);
  auto take = [&](int64_t rows, int64_t cols) {
    Matrix m;
    m.type = DType::F32;
    m.rows = rows;
    m.cols = cols;
    m.row_stride = static_cast<size_t>(cols) * 4;
    m.data = f->span(off, static_cast<uint64_t>(rows * cols) * 4);
    off += static_cast<uint64_t>(rows * cols) * 4;
    return m;
  };
  auto vec_of = [](const Matrix& m, int64_t r) { return Vector{reinterpret_cast<const float*>(m.row(r)), m.cols}; };
  auto slice = [](const Matrix& all, int64_t i, int64_t rows) {
    Matrix m = all;
    m.rows = rows;
    m.data = all.row(i * rows);
    return m;
  };
  w.tok_embd = take(c.n_vocab, E);
  w.layers.resize(static_cast<size_t>(L));
  Matrix rms_att = take(L, E), wq = take(L * E, E), wk = take(L * kv, E), wv = take(L * kv, E), wo = take(L * E, E);
  Matrix rms_ffn = take(L, E), w1 = take(L * F, E), w2 = take(L * E, F), w3 = take(L * F, E);
  for (int64_t i = 0; i < L; ++i) {
    LayerWeights& l = w.layers[static_cast<size_t>(i)];
    l.attn_norm = vec_of(rms_att, i);
    l.wq = slice(wq, i, E);
    l.wk = slice(wk, i, kv);
    l.wv = slice(wv, i, kv);
    l.wo = slice(wo, i, E);
    l.ffn_norm = vec_of(rms_ffn, i);
    l.w_gate = slice(w1, i, F);
    l.w_down = slice(w2, i, E);
    l.w_up = slice(w3, i, F);
  }
  w.out_norm = vec_of(take(1, E), 0);
  off += static_cast<uint64_t>(c.n_ctx_train) * static_cast<uint64_t>(c.head_dim) * 4;  // freq_cis_real + imag (unused)
  w.output = shared ? w.tok_embd : take(c.n_vocab, E);
  return md;
}

}  // namespace lmgen
