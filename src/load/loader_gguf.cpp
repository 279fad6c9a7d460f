// GGUF model loader: any architecture of the architecture table onto the canonical layout.
//
// The architecture's flags, tensor names and the facts llama.cpp hard-codes per architecture (rope style of the
// converter's Q/K permutation, which layers slide, a fixed local RoPE base) come from arch_table. Metadata keys
// read here are generic ("<arch>.attention.sliding_window", "<arch>.rope.scaling.*", soft-capping, ...).
// Rule: a key under "<arch>." that lmgen does not apply, and a tensor that no weight was read from, are errors
// naming them: a file that asks for a computation lmgen does not do is refused, never run differently.
// RoPE factor tensors: rope_freqs.weight (llama3: per-frequency divisors), rope_factors_short/long.weight (phi3
// longrope, with rope.scaling.original_context_length and attn_factor).
#include <cmath>
#include <set>

#include "format/gguf.hpp"
#include "lmgen/loader.hpp"
#include "load/arch_table.hpp"
#include "load/fill_weights.hpp"
#include "load/loader_common.hpp"
#include "load/loaders.hpp"

namespace lmgen {

namespace {

// Keys under "<arch>." that are read and applied below (or that do not change the computation).
const std::set<std::string>& known_keys() {
  static const std::set<std::string> k = {
      "context_length", "embedding_length", "block_count", "feed_forward_length", "vocab_size",
      "attention.head_count", "attention.head_count_kv", "attention.layer_norm_epsilon",
      "attention.layer_norm_rms_epsilon", "attention.key_length", "attention.value_length", "rope.dimension_count",
      "rope.freq_base", "rope.scaling.type", "rope.scaling.factor", "rope.scaling.original_context_length",
      "rope.scaling.attn_factor", "rope.scaling.finetuned", "attention.sliding_window", "attn_logit_softcapping",
      "final_logit_softcapping", "use_parallel_residual"};
  return k;
}

class GgufSource : public TensorSource {
 public:
  GgufSource(const GgufFile& g, Weights& w) : g_(g), w_(w) {}
  bool has(const std::string& name) const override { return g_.find_tensor(name) != nullptr; }
  Matrix matrix(const std::string& name, int64_t rows, int64_t cols) override {
    used_.insert(name);
    return as_matrix(g_.tensor(name), {rows, cols}, g_.path());
  }
  Vector vector(const std::string& name, int64_t n) override {
    used_.insert(name);
    return as_vector(g_.tensor(name), n, g_.path(), w_);
  }
  std::vector<float> floats(const std::string& name, int64_t n) {
    const Vector v = vector(name, n);
    return std::vector<float>(v.data, v.data + n);
  }

 private:
  const GgufFile& g_;
  Weights& w_;
};

void check_keys(const GgufFile& g, const std::string& arch) {
  const std::string prefix = arch + ".";
  for (const auto& [key, value] : g.metadata()) {
    if (key.compare(0, prefix.size(), prefix) != 0 || known_keys().count(key.substr(prefix.size())) != 0) continue;
    const std::string k = key.substr(prefix.size());
    // Some converters write a zero expert count on dense models: nothing to apply.
    if ((k == "expert_count" || k == "expert_used_count") && value.is_integer() && value.as_int() == 0) continue;
    throw Error(g.path(), "metadata key '" + key + "' is not applied by lmgen (it may change the computation)");
  }
}

void read_rope(const GgufFile& g, const ArchInfo& a, ModelConfig& c) {
  auto k = [&](const char* s) { return std::string(a.name) + "." + s; };
  c.rope = a.gguf_rope;
  c.rope_theta = static_cast<float>(g.get_float_opt(k("rope.freq_base")).value_or(10000.0));
  c.rope_dim = g.get_int_opt(k("rope.dimension_count")).value_or(c.head_dim);
  const std::string type = g.get_string_opt(k("rope.scaling.type")).value_or("none");
  if (type == "linear") {
    const double f = g.get_float(k("rope.scaling.factor"));
    if (!(f > 0) || !std::isfinite(f)) throw Error(g.path(), k("rope.scaling.factor") + " must be positive");
    if (f != 1.0) c.rope_freq_div.assign(static_cast<size_t>(std::max<int64_t>(c.rope_dim / 2, 0)), static_cast<float>(f));
  } else if (type != "none") {
    throw Error(g.path(), k("rope.scaling.type") + " = '" + type + "' is not supported (supported: none, linear)");
  } else if (auto f = g.get_float_opt(k("rope.scaling.factor")); f && *f != 1.0) {
    throw Error(g.path(), k("rope.scaling.factor") + " is set but " + k("rope.scaling.type") + " is not");
  }
  c.rope_attn_factor = static_cast<float>(g.get_float_opt(k("rope.scaling.attn_factor")).value_or(1.0));
  c.rope_orig_ctx = g.get_int_opt(k("rope.scaling.original_context_length")).value_or(0);
}

ModelConfig read_config(const GgufFile& g, const ArchInfo& a) {
  auto k = [&](const char* s) { return std::string(a.name) + "." + s; };
  check_keys(g, a.name);
  ModelConfig c;
  apply_arch_flags(a, c);
  c.name = g.get_string_opt("general.name").value_or("");
  c.n_embd = g.get_int(k("embedding_length"));
  c.n_layer = g.get_int(k("block_count"));
  c.n_head = g.get_int(k("attention.head_count"));
  c.n_head_kv = g.get_int_opt(k("attention.head_count_kv")).value_or(c.n_head);
  c.n_ff = g.get_int(k("feed_forward_length"));
  c.n_ctx_train = g.get_int(k("context_length"));
  if (c.n_head <= 0 || c.n_embd <= 0) throw Error(g.path(), "embedding_length and head_count must be positive");
  c.head_dim = g.get_int_opt(k("attention.key_length")).value_or(c.n_embd / c.n_head);
  if (g.get_int_opt(k("attention.value_length")).value_or(c.head_dim) != c.head_dim)
    throw Error(g.path(), k("attention.value_length") + " differs from key_length: not supported");
  c.norm_eps = static_cast<float>(g.get_float(
      k(c.norm == NormKind::LayerNorm ? "attention.layer_norm_epsilon" : "attention.layer_norm_rms_epsilon")));
  if (a.use_rope) read_rope(g, a, c);
  c.parallel_residual = g.get_bool_opt(k("use_parallel_residual")).value_or(a.parallel_residual);
  if (a.embd_scale_sqrt) c.embd_scale = std::sqrt(static_cast<float>(c.n_embd));
  c.attn_softcap = static_cast<float>(g.get_float_opt(k("attn_logit_softcapping")).value_or(0.0));
  c.final_softcap = static_cast<float>(g.get_float_opt(k("final_logit_softcapping")).value_or(0.0));
  if (auto sw = g.get_int_opt(k("attention.sliding_window")); sw && *sw > 0) {
    c.sliding_window = *sw;
    c.layer_sliding = sliding_layers(a.sliding == SlidingLayers::None ? SlidingLayers::All : a.sliding, c.n_layer);
    c.rope_theta_local = a.gguf_rope_theta_local;
  }
  return c;
}

// RoPE factor tensors (they change the computation, so they are read whenever present).
void read_rope_tensors(GgufSource& s, const GgufFile& g, ModelConfig& c) {
  const int64_t half = c.rope_dim / 2;
  if (s.has("rope_freqs.weight")) {
    if (!c.rope_freq_div.empty()) throw Error(g.path(), "rope_freqs.weight together with linear rope scaling");
    c.rope_freq_div = s.floats("rope_freqs.weight", half);
  }
  const bool has_short = s.has("rope_factors_short.weight"), has_long = s.has("rope_factors_long.weight");
  if (has_short || has_long) {
    if (!has_short || !has_long || !c.rope_freq_div.empty())
      throw Error(g.path(), "rope_factors_short/long.weight must come as a pair, without other rope scaling");
    if (c.rope_orig_ctx <= 0)
      throw Error(g.path(), "rope_factors_long.weight needs " + c.arch + ".rope.scaling.original_context_length");
    c.rope_freq_div = s.floats("rope_factors_short.weight", half);
    c.rope_freq_div_long = s.floats("rope_factors_long.weight", half);
  }
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
  const ArchInfo* a = find_arch(arch);
  if (a == nullptr) throw Error(path, "unsupported architecture '" + arch + "' (supported: " + supported_archs() + ")");
  ModelConfig& c = md.config;
  c = read_config(g, *a);
  Weights& w = md.weights;
  w.keep_alive.push_back(g.file());
  GgufSource src(g, w);

  TensorView emb = g.tensor(a->gguf.tok_embd);
  if (emb.shape.size() != 2) throw Error(path, "token_embd.weight must be 2-D, found " + emb.shape_str());
  c.n_vocab = emb.shape[0];
  c.tied_head = !src.has(a->gguf.output);
  if (c.rope != RopeStyle::None && c.rope_dim >= 2) read_rope_tensors(src, g, c);
  c.validate(path);
  fill_weights(src, a->gguf, c, w);
  for (const GgufTensorInfo& t : g.tensors())
    if (src.used().count(t.name) == 0)
      throw Error(path, "tensor '" + t.name + "' is not used by lmgen's " + arch +
                            " forward pass (it would change the computation)");
  return md;
}

}  // namespace lmgen
