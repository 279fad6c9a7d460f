// The architecture table (see arch_table.hpp): one entry per architecture.
#include "load/arch_table.hpp"

#include <utility>

namespace lmgen {

namespace {

// llama.cpp's names (convert_hf_to_gguf.py / gguf-py constants), shared by every architecture that has the tensor.
TensorNames gguf_base() {
  TensorNames n;
  n.tok_embd = "token_embd.weight";
  n.out_norm = "output_norm.weight";
  n.output = "output.weight";
  n.attn_norm = "blk.{L}.attn_norm.weight";
  n.wq = "blk.{L}.attn_q.weight";
  n.wk = "blk.{L}.attn_k.weight";
  n.wv = "blk.{L}.attn_v.weight";
  n.bq = "blk.{L}.attn_q.bias";
  n.bk = "blk.{L}.attn_k.bias";
  n.bv = "blk.{L}.attn_v.bias";
  n.wo = "blk.{L}.attn_output.weight";
  n.q_norm = "blk.{L}.attn_q_norm.weight";
  n.k_norm = "blk.{L}.attn_k_norm.weight";
  n.attn_post_norm = "blk.{L}.post_attention_norm.weight";
  n.ffn_norm = "blk.{L}.ffn_norm.weight";
  n.w_gate = "blk.{L}.ffn_gate.weight";
  n.w_up = "blk.{L}.ffn_up.weight";
  n.w_down = "blk.{L}.ffn_down.weight";
  n.ffn_post_norm = "blk.{L}.post_ffw_norm.weight";
  return n;
}

// GGUF, fused qkv with biases everywhere and LayerNorm (gpt2, gptneox).
TensorNames gguf_biased_fused() {
  TensorNames n = gguf_base();
  n.wq = n.wk = n.wv = n.bq = n.bk = n.bv = nullptr;
  n.wqkv = "blk.{L}.attn_qkv.weight";
  n.bqkv = "blk.{L}.attn_qkv.bias";
  n.bo = "blk.{L}.attn_output.bias";
  n.attn_norm_b = "blk.{L}.attn_norm.bias";
  n.ffn_norm_b = "blk.{L}.ffn_norm.bias";
  n.b_up = "blk.{L}.ffn_up.bias";
  n.b_down = "blk.{L}.ffn_down.bias";
  n.out_norm_b = "output_norm.bias";
  return n;
}

// transformers' LlamaForCausalLM naming, shared by qwen2/3, gemma2/3, phi3.
TensorNames hf_llama() {
  TensorNames n;
  n.tok_embd = "model.embed_tokens.weight";
  n.out_norm = "model.norm.weight";
  n.output = "lm_head.weight";
  n.attn_norm = "model.layers.{L}.input_layernorm.weight";
  n.wq = "model.layers.{L}.self_attn.q_proj.weight";
  n.wk = "model.layers.{L}.self_attn.k_proj.weight";
  n.wv = "model.layers.{L}.self_attn.v_proj.weight";
  n.bq = "model.layers.{L}.self_attn.q_proj.bias";
  n.bk = "model.layers.{L}.self_attn.k_proj.bias";
  n.bv = "model.layers.{L}.self_attn.v_proj.bias";
  n.wo = "model.layers.{L}.self_attn.o_proj.weight";
  n.q_norm = "model.layers.{L}.self_attn.q_norm.weight";
  n.k_norm = "model.layers.{L}.self_attn.k_norm.weight";
  n.ffn_norm = "model.layers.{L}.post_attention_layernorm.weight";
  n.w_gate = "model.layers.{L}.mlp.gate_proj.weight";
  n.w_up = "model.layers.{L}.mlp.up_proj.weight";
  n.w_down = "model.layers.{L}.mlp.down_proj.weight";
  return n;
}

// Gemma: post_attention_layernorm is the post-attention norm; the FFN has its own pre and post norms.
TensorNames hf_gemma() {
  TensorNames n = hf_llama();
  n.attn_post_norm = "model.layers.{L}.post_attention_layernorm.weight";
  n.ffn_norm = "model.layers.{L}.pre_feedforward_layernorm.weight";
  n.ffn_post_norm = "model.layers.{L}.post_feedforward_layernorm.weight";
  return n;
}

ArchInfo entry(const char* name, std::vector<const char*> classes, std::vector<const char*> model_types) {
  ArchInfo a;
  a.name = name;
  a.hf_classes = std::move(classes);
  a.hf_model_types = std::move(model_types);
  return a;
}

// The table itself: one short block per architecture, so it grows by one block per architecture (its length is
// data, not logic).
std::vector<ArchInfo> make_table() {
  std::vector<ArchInfo> t;

  ArchInfo llama = entry("llama", {"LlamaForCausalLM", "MistralForCausalLM"}, {"llama", "mistral"});
  llama.gguf_rope = RopeStyle::Interleaved;  // the converter permuted attn_q / attn_k rows
  llama.gguf = gguf_base();
  llama.hf = hf_llama();
  t.push_back(llama);

  ArchInfo qwen2 = entry("qwen2", {"Qwen2ForCausalLM"}, {"qwen2"});
  qwen2.qkv_bias = qwen2.hf_window_opt_in = true;
  qwen2.gguf = gguf_base();
  qwen2.hf = hf_llama();
  t.push_back(qwen2);

  ArchInfo qwen3 = entry("qwen3", {"Qwen3ForCausalLM"}, {"qwen3"});
  qwen3.qk_norm = qwen3.hf_window_opt_in = true;
  qwen3.gguf = gguf_base();
  qwen3.hf = hf_llama();
  t.push_back(qwen3);

  ArchInfo gemma2 = entry("gemma2", {"Gemma2ForCausalLM"}, {"gemma2"});
  gemma2.act = Activation::GegluTanh;
  gemma2.post_norms = gemma2.embd_scale_sqrt = true;
  gemma2.sliding = SlidingLayers::Even;
  gemma2.hf_norm_plus_one = gemma2.hf_tied_default = true;
  gemma2.gguf = gguf_base();
  gemma2.hf = hf_gemma();
  t.push_back(gemma2);

  ArchInfo gemma3 = entry("gemma3", {"Gemma3ForCausalLM"}, {"gemma3_text", "gemma3"});
  gemma3.act = Activation::GegluTanh;
  gemma3.post_norms = gemma3.embd_scale_sqrt = gemma3.qk_norm = true;
  gemma3.sliding = SlidingLayers::FiveOfSix;
  gemma3.gguf_rope_theta_local = 10000.0f;
  gemma3.hf_norm_plus_one = gemma3.hf_tied_default = true;
  gemma3.gguf = gguf_base();
  gemma3.hf = hf_gemma();
  t.push_back(gemma3);

  ArchInfo phi3 = entry("phi3", {"Phi3ForCausalLM"}, {"phi3"});
  phi3.sliding = SlidingLayers::All;
  phi3.gguf = gguf_base();
  phi3.gguf.wq = phi3.gguf.wk = phi3.gguf.wv = nullptr;
  phi3.gguf.wqkv = "blk.{L}.attn_qkv.weight";
  phi3.gguf.w_gate = nullptr;
  phi3.gguf.w_up = nullptr;
  phi3.gguf.w_gate_up = "blk.{L}.ffn_up.weight";
  phi3.hf = hf_llama();
  phi3.hf.wq = phi3.hf.wk = phi3.hf.wv = nullptr;
  phi3.hf.wqkv = "model.layers.{L}.self_attn.qkv_proj.weight";
  phi3.hf.w_gate = phi3.hf.w_up = nullptr;
  phi3.hf.w_gate_up = "model.layers.{L}.mlp.gate_up_proj.weight";
  t.push_back(phi3);

  ArchInfo gpt2 = entry("gpt2", {"GPT2LMHeadModel"}, {"gpt2"});
  gpt2.norm = NormKind::LayerNorm;
  gpt2.act = Activation::GeluTanh;
  gpt2.qkv_bias = gpt2.out_bias = gpt2.learned_pos = true;
  gpt2.use_rope = false;
  gpt2.gguf_rope = RopeStyle::None;
  gpt2.hf_conv1d = gpt2.hf_tied_default = gpt2.gguf_output_always = true;
  gpt2.gguf = gguf_biased_fused();
  gpt2.gguf.pos_embd = "position_embd.weight";
  // "transformer." is dropped by the HF loader for checkpoints saved from GPT2Model.
  TensorNames& g = gpt2.hf;
  g.tok_embd = "transformer.wte.weight";
  g.pos_embd = "transformer.wpe.weight";
  g.out_norm = "transformer.ln_f.weight";
  g.out_norm_b = "transformer.ln_f.bias";
  g.output = "lm_head.weight";
  g.attn_norm = "transformer.h.{L}.ln_1.weight";
  g.attn_norm_b = "transformer.h.{L}.ln_1.bias";
  g.wqkv = "transformer.h.{L}.attn.c_attn.weight";
  g.bqkv = "transformer.h.{L}.attn.c_attn.bias";
  g.wo = "transformer.h.{L}.attn.c_proj.weight";
  g.bo = "transformer.h.{L}.attn.c_proj.bias";
  g.ffn_norm = "transformer.h.{L}.ln_2.weight";
  g.ffn_norm_b = "transformer.h.{L}.ln_2.bias";
  g.w_up = "transformer.h.{L}.mlp.c_fc.weight";
  g.b_up = "transformer.h.{L}.mlp.c_fc.bias";
  g.w_down = "transformer.h.{L}.mlp.c_proj.weight";
  g.b_down = "transformer.h.{L}.mlp.c_proj.bias";
  t.push_back(gpt2);

  ArchInfo neox = entry("gptneox", {"GPTNeoXForCausalLM"}, {"gpt_neox"});
  neox.norm = NormKind::LayerNorm;
  neox.act = Activation::GeluErf;
  neox.qkv_bias = neox.out_bias = true;
  neox.hf_qkv_per_head = neox.parallel_residual = true;
  neox.gguf = gguf_biased_fused();
  TensorNames& x = neox.hf;
  x.tok_embd = "gpt_neox.embed_in.weight";
  x.out_norm = "gpt_neox.final_layer_norm.weight";
  x.out_norm_b = "gpt_neox.final_layer_norm.bias";
  x.output = "embed_out.weight";
  x.attn_norm = "gpt_neox.layers.{L}.input_layernorm.weight";
  x.attn_norm_b = "gpt_neox.layers.{L}.input_layernorm.bias";
  x.wqkv = "gpt_neox.layers.{L}.attention.query_key_value.weight";
  x.bqkv = "gpt_neox.layers.{L}.attention.query_key_value.bias";
  x.wo = "gpt_neox.layers.{L}.attention.dense.weight";
  x.bo = "gpt_neox.layers.{L}.attention.dense.bias";
  x.ffn_norm = "gpt_neox.layers.{L}.post_attention_layernorm.weight";
  x.ffn_norm_b = "gpt_neox.layers.{L}.post_attention_layernorm.bias";
  x.w_up = "gpt_neox.layers.{L}.mlp.dense_h_to_4h.weight";
  x.b_up = "gpt_neox.layers.{L}.mlp.dense_h_to_4h.bias";
  x.w_down = "gpt_neox.layers.{L}.mlp.dense_4h_to_h.weight";
  x.b_down = "gpt_neox.layers.{L}.mlp.dense_4h_to_h.bias";
  t.push_back(neox);
  return t;
}

const std::vector<ArchInfo>& table() {
  static const std::vector<ArchInfo> t = make_table();
  return t;
}

}  // namespace

const ArchInfo* find_arch(const std::string& arch) {
  for (const ArchInfo& a : table())
    if (arch == a.name) return &a;
  return nullptr;
}

const ArchInfo* find_arch_hf_class(const std::string& cls) {
  for (const ArchInfo& a : table())
    for (const char* c : a.hf_classes)
      if (cls == c) return &a;
  return nullptr;
}

const ArchInfo* find_arch_hf_model_type(const std::string& model_type) {
  for (const ArchInfo& a : table())
    for (const char* m : a.hf_model_types)
      if (model_type == m) return &a;
  return nullptr;
}

std::string supported_archs() {
  std::string s;
  for (const ArchInfo& a : table()) s += (s.empty() ? "" : ", ") + std::string(a.name);
  return s;
}

std::string supported_hf_classes() {
  std::string s;
  for (const ArchInfo& a : table())
    for (const char* c : a.hf_classes) s += (s.empty() ? "" : ", ") + std::string(c);
  return s;
}

void apply_arch_flags(const ArchInfo& a, ModelConfig& c) {
  c.arch = a.name;
  c.norm = a.norm;
  c.act = a.act;
  c.qkv_bias = a.qkv_bias;
  c.out_bias = a.out_bias;
  c.learned_pos = a.learned_pos;
  c.qk_norm = a.qk_norm;
  c.post_norms = a.post_norms;
  c.parallel_residual = a.parallel_residual;
  if (!a.use_rope) c.rope = RopeStyle::None;
}

std::string layer_name(const char* pattern, int64_t layer) {
  std::string s = pattern;
  const size_t at = s.find("{L}");
  if (at != std::string::npos) s.replace(at, 3, std::to_string(layer));
  return s;
}

std::vector<bool> sliding_layers(SlidingLayers rule, int64_t n_layer) {
  if (rule == SlidingLayers::None) return {};
  std::vector<bool> v(static_cast<size_t>(n_layer));
  for (int64_t i = 0; i < n_layer; ++i)
    v[static_cast<size_t>(i)] = rule == SlidingLayers::All || (rule == SlidingLayers::Even && i % 2 == 0) ||
                                (rule == SlidingLayers::FiveOfSix && i % 6 < 5);
  return v;
}

int64_t llama_permuted_row(int64_t r, int64_t rows, int64_t n_head) {
  const int64_t hd = rows / n_head, h = r / hd, i = (r % hd) / 2, j = r % 2;
  return h * hd + j * (hd / 2) + i;
}

}  // namespace lmgen
