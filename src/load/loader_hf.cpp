// Hugging Face model directories (config.json + model.safetensors or sharded safetensors) onto the canonical
// ModelConfig + Weights.
//
// Tensor names, and which tensors an architecture has, come from the architecture table (arch_table.cpp); the
// checkpoint conventions applied here: GPT-2's Conv1D weights are [in, out] (y = x W + b) and are transposed into
// owned [out, in] buffers of the same element type; GPT-NeoX's fused qkv rows are grouped per head and are
// reordered to [Q; K; V]; Gemma's norm gains w become 1 + w. A tensor no weight is read from is an error (except
// mask / RoPE buffers and a tied lm_head), as is a layer beyond the config's count.
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
#include "load/arch_table.hpp"
#include "load/fill_weights.hpp"
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

// Permutes the rows of a fused GPT-NeoX qkv tensor from per-head [q k v] groups to [Q; K; V]. `row_bytes` is
// the size of one row (of a weight) or one element (of a bias); heads of head_dim rows each.
std::vector<uint8_t> qkv_heads_to_blocks(const uint8_t* src, int64_t n_head, int64_t head_dim, size_t row_bytes) {
  std::vector<uint8_t> dst(static_cast<size_t>(3 * n_head * head_dim) * row_bytes);
  const size_t block = static_cast<size_t>(head_dim) * row_bytes;
  for (int64_t h = 0; h < n_head; ++h)
    for (int64_t part = 0; part < 3; ++part)  // q, k, v
      std::memcpy(dst.data() + static_cast<size_t>(part * n_head + h) * block,
                  src + static_cast<size_t>(3 * h + part) * block, block);
  return dst;
}

class HfSource : public TensorSource {
 public:
  HfSource(const SafetensorsCheckpoint& ck, Weights& w, const ArchInfo& a, const ModelConfig& c)
      : ck_(ck), w_(w), a_(a), c_(c) {
    // Checkpoints saved from GPT2Model (not the LM head wrapper) lack the "transformer." prefix.
    if (!ck.has("transformer.wte.weight") && ck.has("wte.weight")) strip_ = "transformer.";
  }

  bool has(const std::string& name) const override { return ck_.has(real(name)); }

  Matrix matrix(const std::string& name, int64_t rows, int64_t cols) override {
    TensorView t = get(name, {rows, cols});
    return Matrix{t.type, rows, cols, aligned_data(t), static_cast<size_t>(cols) * elem_size(t.type)};
  }

  Matrix linear(const std::string& name, int64_t out, int64_t in) override {
    if (!a_.hf_conv1d) return matrix(name, out, in);
    TensorView t = get(name, {in, out});  // Conv1D [in, out] -> [out, in]
    const size_t es = elem_size(t.type);
    const uint8_t* p = w_.own_bytes(transpose_bytes(t.data, in, out, es));
    return Matrix{t.type, out, in, p, static_cast<size_t>(in) * es};
  }

  Matrix fused_qkv(const std::string& name, int64_t rows, int64_t cols) override {
    Matrix m = linear(name, rows, cols);
    if (!a_.hf_qkv_per_head) return m;
    check_mha(name);
    m.data = w_.own_bytes(qkv_heads_to_blocks(m.data, c_.n_head, c_.head_dim, m.row_stride));
    return m;
  }

  Vector fused_qkv_bias(const std::string& name, int64_t n) override {
    Vector v = vector(name, n);
    if (!a_.hf_qkv_per_head) return v;
    check_mha(name);
    const auto bytes = qkv_heads_to_blocks(reinterpret_cast<const uint8_t*>(v.data), c_.n_head, c_.head_dim, 4);
    std::vector<float> f(static_cast<size_t>(n));
    std::memcpy(f.data(), bytes.data(), bytes.size());
    return w_.own_vector(std::move(f));
  }

  Vector vector(const std::string& name, int64_t n) override {
    TensorView t = get(name, {n});
    if (t.type == DType::F32 && reinterpret_cast<uintptr_t>(t.data) % alignof(float) == 0)
      return Vector{reinterpret_cast<const float*>(t.data), n};
    return w_.own_vector(widen(t, n, 0.0f));
  }

  // Gemma's RMSNorm multiplies by (1 + w): the sum is formed once here, in float32 as transformers does.
  Vector norm(const std::string& name, int64_t n) override {
    if (!a_.hf_norm_plus_one) return vector(name, n);
    return w_.own_vector(widen(get(name, {n}), n, 1.0f));
  }

  std::string real(const std::string& name) const {
    if (!strip_.empty() && name.compare(0, strip_.size(), strip_) == 0) return name.substr(strip_.size());
    return name;
  }

 private:
  const SafetensorsCheckpoint& ck_;
  Weights& w_;
  const ArchInfo& a_;
  const ModelConfig& c_;
  std::string strip_;

  // The tensor, checked to have exactly `shape`.
  TensorView get(const std::string& logical, const std::vector<int64_t>& shape) {
    const std::string name = real(logical);
    TensorView t = ck_.tensor(name);
    used_.insert(name);
    if (t.shape != shape)
      throw Error("expected " + shape_to_string(shape) + ", found " + t.shape_str() + " in " + name + " (" +
                  ck_.file_of(name)->path() + ")");
    return t;
  }

  // The tensor's bytes, copied into an owned buffer if they are not aligned to the element size.
  const uint8_t* aligned_data(const TensorView& t) {
    if (reinterpret_cast<uintptr_t>(t.data) % elem_size(t.type) == 0) return t.data;
    return w_.own_bytes(std::vector<uint8_t>(t.data, t.data + t.nbytes));
  }

  static std::vector<float> widen(const TensorView& t, int64_t n, float add) {
    std::vector<float> v(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i)
      v[static_cast<size_t>(i)] = element_f32(t.type, t.data, static_cast<size_t>(i)) + add;
    return v;
  }

  void check_mha(const std::string& name) const {
    if (c_.n_head_kv != c_.n_head)
      throw Error(ck_.source(), name + ": per-head fused qkv needs as many kv heads as query heads");
  }
};

// Buffers transformers saves with some checkpoints that hold no weights (causal masks, RoPE tables).
bool is_buffer(const std::string& name) {
  for (const char* suffix : {".attn.bias", ".attn.masked_bias", ".attention.bias", ".attention.masked_bias",
                             ".rotary_emb.inv_freq"}) {
    const std::string s = suffix;
    if (name.size() > s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0) return true;
  }
  return false;
}

// A checkpoint with more layers than config.json declares would otherwise load silently and compute garbage.
void check_no_extra_layers(const SafetensorsCheckpoint& ck, const ModelConfig& c, const std::string& cfg_path) {
  const std::string_view prefixes[] = {"model.layers.", "transformer.h.", "h.", "gpt_neox.layers."};
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
  const ArchInfo& a = *find_arch(md.config.arch);
  HfSource src(ck, md.weights, a, md.config);
  fill_weights(src, a.hf, md.config, md.weights);
  for (const std::string& name : ck.names()) {
    const bool tied_head = md.config.tied_head && name == src.real(a.hf.output);
    if (src.used().count(name) == 0 && !tied_head && !is_buffer(name))
      throw Error(ck.file_of(name)->path(), "tensor " + name + " is not used by lmgen's " + md.config.arch +
                                                " forward pass (it would change the computation)");
  }
  return md;
}

}  // namespace lmgen
