// The general.* and "<arch>.*" metadata keys of a converted model, named and chosen as llama.cpp's
// convert_hf_to_gguf.py writes them (see convert.hpp). RoPE scaling that becomes tensors (rope_freqs,
// rope_factors_short/long) is written by gguf_from_hf.cpp; the keys that go with it are written here.
#include <cmath>
#include <cstring>

#include "convert/convert.hpp"
#include "quantize/file_types.hpp"
#include "lmgen/error.hpp"

namespace lmgen {

namespace {

bool is(const ArchInfo& a, const char* name) { return std::strcmp(a.name, name) == 0; }

bool all_equal(const std::vector<float>& v) {
  for (float x : v)
    if (x != v.front()) return false;
  return true;
}

// What the architecture's GGUF form fixes rather than stores must match the model, or the file would be another
// model.
void check_expressible(const ModelConfig& c, const ArchInfo& a) {
  const std::string arch = a.name;
  if (c.attn_scale != 0.0f) {
    const double fixed = 1.0 / std::sqrt(static_cast<double>(c.head_dim));
    if (std::fabs(c.attn_scale - fixed) > 1e-6 * fixed)
      throw Error("convert: " + arch + " GGUF files have the attention scale 1/sqrt(head_dim); this model uses " +
                  std::to_string(c.attn_scale));
  }
  if (!c.layer_sliding.empty()) {
    const auto rule = a.sliding == SlidingLayers::None ? SlidingLayers::All : a.sliding;
    if (c.layer_sliding != sliding_layers(rule, c.n_layer))
      throw Error("convert: this model's pattern of sliding-window layers cannot be expressed in a " + arch +
                  " GGUF file (llama.cpp fixes it per architecture)");
  }
  if (c.rope_theta_local != 0.0f && c.rope_theta_local != a.gguf_rope_theta_local)
    throw Error("convert: " + arch + " GGUF files fix the local RoPE base at " +
                std::to_string(a.gguf_rope_theta_local) + "; this model uses " + std::to_string(c.rope_theta_local));
}

void write_rope(GgufWriter& w, const ModelConfig& c, const ArchInfo& a) {
  auto k = [&](const char* s) { return std::string(a.name) + "." + s; };
  w.set_f32(k("rope.freq_base"), c.rope_theta);
  const bool partial = c.rope_dim != c.head_dim;
  if (partial || is(a, "llama") || is(a, "phi3") || is(a, "gptneox"))
    w.set_u32(k("rope.dimension_count"), static_cast<uint32_t>(c.rope_dim));
  if (!c.rope_freq_div_long.empty()) {  // longrope: the factors are tensors
    w.set_u32(k("rope.scaling.original_context_length"), static_cast<uint32_t>(c.rope_orig_ctx));
    w.set_f32(k("rope.scaling.attn_factor"), c.rope_attn_factor);
  } else if (c.rope_attn_factor != 1.0f) {
    throw Error("convert: a RoPE attention factor without longrope factors is not supported");
  } else if (!c.rope_freq_div.empty() && all_equal(c.rope_freq_div)) {
    w.set_string(k("rope.scaling.type"), "linear");
    w.set_f32(k("rope.scaling.factor"), c.rope_freq_div.front());
  }
}

}  // namespace

uint32_t llama_file_type(DType type) {
  for (const FileTypeInfo& f : file_types())
    if (f.converter_writes && f.base == type) return static_cast<uint32_t>(f.id);
  throw UsageError(std::string("convert: unsupported output type ") + dtype_name(type));
}

void write_gguf_hparams(GgufWriter& w, const ModelConfig& c, const ArchInfo& a, DType type) {
  check_expressible(c, a);
  auto k = [&](const char* s) { return std::string(a.name) + "." + s; };
  w.set_string("general.architecture", a.name);
  w.set_string("general.type", "model");
  w.set_string("general.name", c.name);
  w.set_u32(k("context_length"), static_cast<uint32_t>(c.n_ctx_train));
  w.set_u32(k("embedding_length"), static_cast<uint32_t>(c.n_embd));
  w.set_u32(k("block_count"), static_cast<uint32_t>(c.n_layer));
  w.set_u32(k("feed_forward_length"), static_cast<uint32_t>(c.n_ff));
  w.set_u32(k("attention.head_count"), static_cast<uint32_t>(c.n_head));
  if (!is(a, "gpt2") && !is(a, "gptneox")) w.set_u32(k("attention.head_count_kv"), static_cast<uint32_t>(c.n_head_kv));
  else if (c.n_head_kv != c.n_head) throw Error(std::string("convert: ") + a.name + " has no grouped-query attention");
  if (c.head_dim * c.n_head != c.n_embd) {
    w.set_u32(k("attention.key_length"), static_cast<uint32_t>(c.head_dim));
    w.set_u32(k("attention.value_length"), static_cast<uint32_t>(c.head_dim));
  }
  w.set_f32(k(c.norm == NormKind::LayerNorm ? "attention.layer_norm_epsilon" : "attention.layer_norm_rms_epsilon"),
            c.norm_eps);
  if (is(a, "llama")) w.set_u32(k("vocab_size"), static_cast<uint32_t>(c.n_vocab));
  if (c.rope != RopeStyle::None) write_rope(w, c, a);
  if (is(a, "gptneox")) w.set_bool(k("use_parallel_residual"), c.parallel_residual);
  else if (c.parallel_residual) throw Error(std::string("convert: ") + a.name + " has no parallel residual");
  if (c.attn_softcap != 0.0f) w.set_f32(k("attn_logit_softcapping"), c.attn_softcap);
  if (c.final_softcap != 0.0f) w.set_f32(k("final_logit_softcapping"), c.final_softcap);
  if (c.sliding_window > 0) w.set_u32(k("attention.sliding_window"), static_cast<uint32_t>(c.sliding_window));
  w.set_u32("general.file_type", llama_file_type(type));
  if (type == DType::Q8_0) w.set_u32("general.quantization_version", 2);
}

}  // namespace lmgen
