// convert_hf_to_gguf (see convert.hpp): the model's weights, loaded by lmgen's HF loader, written under the
// architecture's GGUF tensor names. Each GGUF tensor is a list of row blocks (matrices stacked in order: phi3's
// fused q|k|v and gate|up) encoded row by row to the target type when the file is written.
#include <cstring>
#include <filesystem>

#include "convert/convert.hpp"
#include "kernels/quant.hpp"
#include "lmgen/error.hpp"
#include "load/loaders.hpp"
#include "load/lora/lora.hpp"

namespace lmgen {

namespace {

struct Part {
  Matrix m;
  int64_t permute_heads = 0;  // > 0: llama's rotate-half -> interleaved row permutation over this many heads
};

class TensorList {
 public:
  TensorList(GgufWriter& w, DType type) : w_(w), type_(type) {}

  void matrix(const std::string& name, std::vector<Part> parts, bool keep_f32 = false) {
    int64_t rows = 0;
    for (const Part& p : parts) rows += p.m.rows;
    const int64_t cols = parts.front().m.cols;
    DType t = keep_f32 ? DType::F32 : type_;
    if (cols % dtype_traits(t).block_size != 0) t = DType::F16;
    auto shared = std::make_shared<std::vector<Part>>(std::move(parts));
    w_.add_tensor(name, t, {rows, cols}, [shared, t, cols](uint8_t* dst, size_t) {
      std::vector<float> buf(static_cast<size_t>(cols));
      const size_t out_row = row_bytes(t, cols);
      for (const Part& p : *shared)
        for (int64_t r = 0; r < p.m.rows; ++r, dst += out_row) {
          const int64_t src = p.permute_heads > 0 ? llama_permuted_row(r, p.m.rows, p.permute_heads) : r;
          dequantize_row(p.m.type, p.m.row(src), buf.data(), cols);
          quantize_row(t, buf.data(), dst, cols);
        }
    });
  }

  void vector(const std::string& name, const Vector& v) {
    if (v.data == nullptr) throw Error("convert: no data for " + name);
    const Vector copy = v;
    w_.add_tensor(name, DType::F32, {v.n}, [copy](uint8_t* dst, size_t n) { std::memcpy(dst, copy.data, n); });
  }

  void floats(const std::string& name, std::vector<float> v) {
    auto shared = std::make_shared<std::vector<float>>(std::move(v));
    w_.add_tensor(name, DType::F32, {static_cast<int64_t>(shared->size())},
                  [shared](uint8_t* dst, size_t n) { std::memcpy(dst, shared->data(), n); });
  }

 private:
  GgufWriter& w_;
  DType type_;
};

void add_attention(TensorList& t, const TensorNames& n, const ModelConfig& c, const LayerWeights& l, int64_t i,
                   bool permute) {
  auto nm = [&](const char* p) { return layer_name(p, i); };
  if (n.wqkv != nullptr) {
    t.matrix(nm(n.wqkv), {{l.wq}, {l.wk}, {l.wv}});
    if (c.qkv_bias) {
      std::vector<float> b(l.bq.data, l.bq.data + l.bq.n);
      b.insert(b.end(), l.bk.data, l.bk.data + l.bk.n);
      b.insert(b.end(), l.bv.data, l.bv.data + l.bv.n);
      t.floats(nm(n.bqkv), std::move(b));
    }
  } else {
    t.matrix(nm(n.wq), {{l.wq, permute ? c.n_head : 0}});
    t.matrix(nm(n.wk), {{l.wk, permute ? c.n_head_kv : 0}});
    t.matrix(nm(n.wv), {{l.wv}});
    if (c.qkv_bias) {
      t.vector(nm(n.bq), l.bq);
      t.vector(nm(n.bk), l.bk);
      t.vector(nm(n.bv), l.bv);
    }
  }
  if (c.qk_norm) {
    t.vector(nm(n.q_norm), l.q_norm);
    t.vector(nm(n.k_norm), l.k_norm);
  }
  t.matrix(nm(n.wo), {{l.wo}});
  if (c.out_bias) t.vector(nm(n.bo), l.bo);
  if (c.post_norms) t.vector(nm(n.attn_post_norm), l.attn_post_norm);
}

void add_ffn(TensorList& t, const TensorNames& n, const ModelConfig& c, const LayerWeights& l, int64_t i) {
  auto nm = [&](const char* p) { return layer_name(p, i); };
  const bool gated = c.act == Activation::SwiGLU || c.act == Activation::GegluTanh;
  if (gated && n.w_gate_up != nullptr) {
    t.matrix(nm(n.w_gate_up), {{l.w_gate}, {l.w_up}});
  } else {
    if (gated) t.matrix(nm(n.w_gate), {{l.w_gate}});
    t.matrix(nm(n.w_up), {{l.w_up}});
  }
  if (c.out_bias) t.vector(nm(n.b_up), l.b_up);
  t.matrix(nm(n.w_down), {{l.w_down}});
  if (c.out_bias) t.vector(nm(n.b_down), l.b_down);
  if (c.post_norms) t.vector(nm(n.ffn_post_norm), l.ffn_post_norm);
}

void add_rope_tensors(TensorList& t, const ModelConfig& c) {
  if (!c.rope_freq_div_long.empty()) {
    t.floats("rope_factors_long.weight", c.rope_freq_div_long);
    t.floats("rope_factors_short.weight", c.rope_freq_div);
    return;
  }
  bool uniform = true;
  for (float x : c.rope_freq_div) uniform = uniform && x == c.rope_freq_div.front();
  if (!c.rope_freq_div.empty() && !uniform) t.floats("rope_freqs.weight", c.rope_freq_div);  // llama3
}

void add_tensors(TensorList& t, const ArchInfo& a, const ModelConfig& c, const Weights& w) {
  const TensorNames& n = a.gguf;
  const bool ln = c.norm == NormKind::LayerNorm;
  const bool permute = a.gguf_rope == RopeStyle::Interleaved;
  if (c.rope != RopeStyle::None) add_rope_tensors(t, c);
  t.matrix(n.tok_embd, {{w.tok_embd}});
  if (c.learned_pos) t.matrix(n.pos_embd, {{w.pos_embd}}, /*keep_f32=*/true);
  for (int64_t i = 0; i < c.n_layer; ++i) {
    const LayerWeights& l = w.layers[static_cast<size_t>(i)];
    t.vector(layer_name(n.attn_norm, i), l.attn_norm);
    if (ln) t.vector(layer_name(n.attn_norm_b, i), l.attn_norm_b);
    add_attention(t, n, c, l, i, permute);
    t.vector(layer_name(n.ffn_norm, i), l.ffn_norm);
    if (ln) t.vector(layer_name(n.ffn_norm_b, i), l.ffn_norm_b);
    add_ffn(t, n, c, l, i);
  }
  t.vector(n.out_norm, w.out_norm);
  if (ln) t.vector(n.out_norm_b, w.out_norm_b);
  // w.output is tok_embd when tied, unless a LoRA adapter on the head made it a matrix of its own: then it is written
  // (a GGUF with output.weight is untied), or the merged head would be lost.
  const bool own_head = w.output.data != w.tok_embd.data;
  if (!c.tied_head || a.gguf_output_always || own_head) t.matrix(n.output, {{w.output}});
}

}  // namespace

void convert_hf_to_gguf(const std::string& hf_dir, const std::string& out_path, DType type,
                        const std::vector<LoraSpec>& lora, std::vector<std::string>* notes) {
  namespace fs = std::filesystem;
  llama_file_type(type);  // checks the type
  std::error_code ec;
  if (fs::exists(out_path, ec) && fs::is_directory(out_path, ec))
    throw UsageError("convert: the output " + out_path + " is a directory");
  ModelData md = load_hf_model(hf_dir);
  std::vector<std::string> merged = apply_lora_adapters(md, lora);
  if (notes != nullptr) notes->insert(notes->end(), merged.begin(), merged.end());
  const ModelConfig& c = md.config;
  const ArchInfo* a = find_arch(c.arch);
  if (a == nullptr) throw Error(hf_dir, "architecture " + c.arch + " has no GGUF form");
  if (a->gguf_rope == RopeStyle::Interleaved && c.rope_dim != c.head_dim)
    throw Error(hf_dir, "partial rotary dimensions with llama's permuted GGUF layout are not supported");
  GgufWriter w;
  write_gguf_hparams(w, c, *a, type);
  write_gguf_vocab(w, hf_dir, c);
  TensorList t(w, type);
  add_tensors(t, *a, c, md.weights);
  w.write(out_path);
}

std::vector<std::string> convert_hf_model(const std::string& hf_dir, const std::string& out_path,
                                          const QuantizeOptions& opt, bool quantizer_rules) {
  namespace fs = std::filesystem;
  const FileTypeInfo& ft = file_type_info(opt.type);
  std::vector<std::string> notes;
  if (ft.converter_writes && !quantizer_rules) {
    convert_hf_to_gguf(hf_dir, out_path, ft.base, opt.lora, &notes);
    return notes;
  }
  struct Remove {
    std::string path;
    ~Remove() { std::error_code ec; fs::remove(path, ec); }
  } tmp{out_path + ".f32-tmp.gguf"};
  convert_hf_to_gguf(hf_dir, tmp.path, DType::F32, opt.lora, &notes);
  QuantizeOptions q = opt;
  q.lora.clear();  // merged into the F32 file
  q.on_plan = [&](const QuantizePlan& p) {
    QuantizePlan with_notes = p;
    with_notes.lora_notes = notes;
    if (opt.on_plan) opt.on_plan(with_notes);
  };
  quantize_gguf(tmp.path, out_path, q);
  return notes;
}

}  // namespace lmgen
