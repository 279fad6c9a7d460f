// Hugging Face config.json -> ModelConfig: the architecture from the table (arch_table), then the keys every
// family spells its own way read as aliases, RoPE scaling, soft-caps and sliding windows (see hf_config.hpp).
#include "load/hf_config.hpp"

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <limits>
#include <optional>

#include <nlohmann/json.hpp>

#include "lmgen/error.hpp"
#include "util/json_file.hpp"
#include "format/mapped_file.hpp"
#include "load/arch_table.hpp"

namespace lmgen {

namespace {

using json = nlohmann::json;

// double -> float without undefined behaviour for values beyond float's range (they become +-inf, which
// ModelConfig::validate refuses).
float to_float(double d) {
  if (std::isfinite(d) && std::fabs(d) > static_cast<double>(std::numeric_limits<float>::max()))
    return d > 0 ? std::numeric_limits<float>::infinity() : -std::numeric_limits<float>::infinity();
  return static_cast<float>(d);
}

// A value for an error message: scalars as JSON (cut at 60 characters), objects / arrays by type only.
std::string show(const json& v) {
  std::string s = v.is_structured() ? std::string("a JSON ") + v.type_name() : v.dump();
  if (s.size() > 60) s = s.substr(0, 57) + "...";
  return s;
}

// Reads typed fields of the config; JSON null counts as absent (HF writes e.g. "n_inner": null).
struct Fields {
  const json& j;
  const std::string& src;

  const json* find(std::initializer_list<const char*> keys) const {
    for (const char* k : keys) {
      auto it = j.find(k);
      if (it != j.end() && !it->is_null()) return &*it;
    }
    return nullptr;
  }
  static std::string key_names(std::initializer_list<const char*> keys) {
    std::string s;
    for (const char* k : keys) s += (s.empty() ? "'" : " / '") + std::string(k) + "'";
    return s;
  }
  std::optional<int64_t> int_opt(std::initializer_list<const char*> keys) const {
    const json* v = find(keys);
    if (v == nullptr) return std::nullopt;
    if (v->is_number_integer()) {
      if (v->is_number_unsigned() && v->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX))
        throw Error(src, key_names(keys) + " is too large");
      return v->get<int64_t>();
    }
    if (v->is_number_float()) {  // tolerate 64.0
      const double d = v->get<double>();
      if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9e15) return static_cast<int64_t>(d);
    }
    throw Error(src, key_names(keys) + " must be an integer, found " + show(*v));
  }
  int64_t int_req(std::initializer_list<const char*> keys) const {
    auto v = int_opt(keys);
    if (!v) throw Error(src, "missing " + key_names(keys));
    return *v;
  }
  std::optional<double> float_opt(std::initializer_list<const char*> keys) const {
    const json* v = find(keys);
    if (v == nullptr) return std::nullopt;
    if (!v->is_number()) throw Error(src, key_names(keys) + " must be a number, found " + show(*v));
    return v->get<double>();
  }
  std::optional<bool> bool_opt(std::initializer_list<const char*> keys) const {
    const json* v = find(keys);
    if (v == nullptr) return std::nullopt;
    if (!v->is_boolean()) throw Error(src, key_names(keys) + " must be true or false, found " + show(*v));
    return v->get<bool>();
  }
  std::optional<std::string> str_opt(std::initializer_list<const char*> keys) const {
    const json* v = find(keys);
    if (v == nullptr) return std::nullopt;
    if (!v->is_string()) throw Error(src, key_names(keys) + " must be a string, found " + show(*v));
    return v->get<std::string>();
  }
};

const ArchInfo& detect_arch(const json& j, const std::string& src) {
  auto a = j.find("architectures");
  if (a != j.end() && !a->is_null()) {
    if (!a->is_array() || a->empty() || !(*a)[0].is_string())
      throw Error(src, "\"architectures\" must be a non-empty list of class names");
    for (const json& name : *a)
      if (name.is_string())
        if (const ArchInfo* k = find_arch_hf_class(name.get<std::string>())) return *k;
    throw Error(src, "unsupported architecture '" + (*a)[0].get<std::string>() + "' (supported: " +
                         supported_hf_classes() + ")");
  }
  auto m = j.find("model_type");
  if (m != j.end() && m->is_string()) {
    if (const ArchInfo* k = find_arch_hf_model_type(m->get<std::string>())) return *k;
    throw Error(src, "unsupported architecture '" + m->get<std::string>() + "' (supported: " +
                         supported_hf_classes() + ")");
  }
  throw Error(src, "neither \"architectures\" nor \"model_type\" says which architecture this is (supported: " +
                       supported_hf_classes() + ")");
}

// Sizes, norm epsilon, tied head (the key names of the different families are aliases of one another).
void read_shape(const Fields& f, const ArchInfo& a, ModelConfig& c) {
  c.n_vocab = f.int_req({"vocab_size"});
  c.n_embd = f.int_req({"hidden_size", "n_embd"});
  c.n_layer = f.int_req({"num_hidden_layers", "n_layer"});
  c.n_head = f.int_req({"num_attention_heads", "n_head"});
  c.n_head_kv = f.int_opt({"num_key_value_heads"}).value_or(c.n_head);
  c.head_dim = f.int_opt({"head_dim"}).value_or(c.n_head > 0 ? c.n_embd / c.n_head : 0);
  if (c.learned_pos && c.n_head > 0 && c.head_dim * c.n_head != c.n_embd) c.head_dim = c.n_embd / c.n_head;
  // 4 * n_embd only when it cannot overflow; an absurd n_embd is refused by validate() anyway.
  const int64_t ff_default = c.learned_pos && c.n_embd > 0 && c.n_embd <= 65536 ? 4 * c.n_embd : 0;
  c.n_ff = f.int_opt({"intermediate_size", "n_inner"}).value_or(ff_default);
  if (c.n_ff == 0 && !c.learned_pos) c.n_ff = f.int_req({"intermediate_size"});
  const int64_t ctx_default = c.learned_pos ? 1024 : c.arch == std::string("qwen2") ? 32768 : 2048;
  c.n_ctx_train = f.int_opt({"max_position_embeddings", "n_positions", "n_ctx"}).value_or(ctx_default);
  const double eps_default = c.norm == NormKind::LayerNorm ? 1e-5 : 1e-6;
  c.norm_eps = to_float(f.float_opt({"rms_norm_eps", "layer_norm_epsilon", "layer_norm_eps"}).value_or(eps_default));
  c.tied_head = f.bool_opt({"tie_word_embeddings"}).value_or(a.hf_tied_default);
  c.parallel_residual = f.bool_opt({"use_parallel_residual"}).value_or(a.parallel_residual);
  if (a.embd_scale_sqrt) c.embd_scale = std::sqrt(static_cast<float>(c.n_embd));
}

void read_activation(const Fields& f, const ArchInfo& a, ModelConfig& c) {
  const char* dflt = a.act == Activation::SwiGLU ? "silu" : a.act == Activation::GeluTanh ? "gelu_new"
                     : a.act == Activation::GeluErf ? "gelu" : "gelu_pytorch_tanh";
  const char* key = "hidden_act";
  for (const char* k : {"hidden_activation", "hidden_act", "activation_function"})
    if (f.find({k}) != nullptr) key = k;
  const std::string act = f.str_opt({key}).value_or(dflt);
  const bool tanh_gelu = act == "gelu_new" || act == "gelu_pytorch_tanh" || act == "gelu_fast";
  bool ok = false;
  if (a.act == Activation::SwiGLU) ok = act == "silu" || act == "swish";
  if (a.act == Activation::GegluTanh) ok = act == "gelu_pytorch_tanh";
  if (a.act == Activation::GeluTanh || a.act == Activation::GeluErf) {
    ok = tanh_gelu || act == "gelu";
    c.act = act == "gelu" ? Activation::GeluErf : Activation::GeluTanh;
  }
  if (!ok)
    throw Error(f.src, std::string(key) + " '" + act + "' is not supported for " + a.name + " (supported: " + dflt + ")");
}

// rope_scaling: "default", "linear", "llama3" and "longrope" / "su" are applied; anything else is refused.
void read_rope_scaling(const Fields& f, ModelConfig& c) {
  const json* rs = f.find({"rope_scaling"});
  if (rs == nullptr) return;
  if (!rs->is_object()) throw Error(f.src, "rope_scaling must be an object, found " + show(*rs));
  const Fields r{*rs, f.src};
  const std::string type = r.str_opt({"rope_type", "type"}).value_or("?");
  const size_t half = static_cast<size_t>(std::max<int64_t>(c.rope_dim / 2, 0));
  auto base_freq = [&](size_t i) { return std::pow(static_cast<double>(c.rope_theta), -2.0 * i / c.rope_dim); };
  if (type == "default") return;
  if (type == "linear") {
    c.rope_freq_div.assign(half, to_float(r.float_opt({"factor"}).value_or(1.0)));
  } else if (type == "llama3") {
    const double factor = r.float_opt({"factor"}).value_or(8.0), low = r.float_opt({"low_freq_factor"}).value_or(1.0);
    const double high = r.float_opt({"high_freq_factor"}).value_or(4.0);
    const double orig = static_cast<double>(r.int_req({"original_max_position_embeddings"}));
    if (!(high > low) || !(factor > 0) || !(orig > 0)) throw Error(f.src, "rope_scaling 'llama3': invalid factors");
    c.rope_freq_div.resize(half);
    for (size_t i = 0; i < half; ++i) {
      const double wavelen = 2 * 3.14159265358979323846 / base_freq(i);
      double div = 1.0;  // high frequencies (wavelength < orig / high) are kept
      if (wavelen > orig / low) {
        div = factor;
      } else if (wavelen >= orig / high) {
        const double smooth = (orig / wavelen - low) / (high - low);
        div = 1.0 / ((1 - smooth) / factor + smooth);
      }
      c.rope_freq_div[i] = static_cast<float>(div);
    }
  } else if (type == "longrope" || type == "su") {
    auto factors = [&](const char* key) {
      const json* v = r.find({key});
      if (v == nullptr || !v->is_array() || v->size() != half)
        throw Error(f.src, std::string("rope_scaling.") + key + " must be a list of " + std::to_string(half) + " numbers");
      std::vector<float> out;
      for (const json& x : *v) {
        if (!x.is_number()) throw Error(f.src, std::string("rope_scaling.") + key + " must hold numbers");
        out.push_back(to_float(x.get<double>()));
      }
      return out;
    };
    c.rope_freq_div = factors("short_factor");
    c.rope_freq_div_long = factors("long_factor");
    c.rope_orig_ctx = r.int_opt({"original_max_position_embeddings"})
                          .value_or(f.int_opt({"original_max_position_embeddings"}).value_or(c.n_ctx_train));
    const double scale = static_cast<double>(c.n_ctx_train) / static_cast<double>(c.rope_orig_ctx);
    const double attn = scale <= 1.0 ? 1.0 : std::sqrt(1 + std::log(scale) / std::log(double(c.rope_orig_ctx)));
    c.rope_attn_factor = to_float(r.float_opt({"attention_factor"}).value_or(attn));
  } else {
    throw Error(f.src, "rope_scaling '" + type + "' is not supported (supported: default, linear, llama3, longrope)");
  }
}

void read_rope(const Fields& f, const ArchInfo& a, ModelConfig& c) {
  if (!a.use_rope) {
    c.rope_dim = 0;
    return;
  }
  c.rope = RopeStyle::Neox;  // HF q_proj/k_proj (and GPT-NeoX's fused rows) are in rotate_half order
  c.rope_theta = to_float(f.float_opt({"rope_theta", "rotary_emb_base"}).value_or(10000.0));
  const double partial = f.float_opt({"partial_rotary_factor", "rotary_pct"}).value_or(1.0);
  if (!(partial > 0.0 && partial <= 1.0)) throw Error(f.src, "partial_rotary_factor / rotary_pct must be in (0, 1]");
  c.rope_dim = static_cast<int64_t>(static_cast<double>(c.head_dim) * partial);
  if (auto local = f.float_opt({"rope_local_base_freq"})) c.rope_theta_local = to_float(*local);
  read_rope_scaling(f, c);
}

// Biases, attention scale, soft-caps, sliding windows.
void read_attention(const Fields& f, const ArchInfo& a, ModelConfig& c) {
  if (!a.qkv_bias && !a.out_bias && (f.bool_opt({"attention_bias"}).value_or(false) || f.bool_opt({"mlp_bias"}).value_or(false)))
    throw Error(f.src, std::string("attention_bias / mlp_bias = true is not supported for ") + a.name);
  if (a.out_bias && !f.bool_opt({"attention_bias"}).value_or(true))
    throw Error(f.src, "attention_bias = false is not supported for " + std::string(a.name));
  if (f.bool_opt({"scale_attn_by_inverse_layer_idx"}).value_or(false) ||
      f.bool_opt({"reorder_and_upcast_attn"}).value_or(false))
    throw Error(f.src, "scale_attn_by_inverse_layer_idx / reorder_and_upcast_attn are not supported");
  if (!f.bool_opt({"scale_attn_weights"}).value_or(true)) throw Error(f.src, "scale_attn_weights = false is not supported");
  if (auto s = f.float_opt({"query_pre_attn_scalar"})) {
    if (!(*s > 0)) throw Error(f.src, "query_pre_attn_scalar must be positive");
    c.attn_scale = to_float(1.0 / std::sqrt(*s));
  }
  c.attn_softcap = to_float(f.float_opt({"attn_logit_softcapping"}).value_or(0.0));
  c.final_softcap = to_float(f.float_opt({"final_logit_softcapping"}).value_or(0.0));
  const auto sw = f.int_opt({"sliding_window"});
  if (a.sliding != SlidingLayers::None) {
    if (!sw || *sw <= 0) return;
    c.sliding_window = *sw;
    c.layer_sliding = sliding_layers(a.sliding, c.n_layer);
    if (auto pat = f.int_opt({"sliding_window_pattern"}); pat && *pat > 0)
      for (int64_t i = 0; i < c.n_layer; ++i) c.layer_sliding[static_cast<size_t>(i)] = (i + 1) % *pat != 0;
    if (const json* lt = f.find({"layer_types"})) {
      if (!lt->is_array() || static_cast<int64_t>(lt->size()) != c.n_layer)
        throw Error(f.src, "layer_types must list one type per layer");
      for (int64_t i = 0; i < c.n_layer; ++i) {
        const json& t = (*lt)[static_cast<size_t>(i)];
        if (t != "sliding_attention" && t != "full_attention") throw Error(f.src, "layer_types: unknown " + show(t));
        c.layer_sliding[static_cast<size_t>(i)] = t == "sliding_attention";
      }
    }
    return;
  }
  // Architectures without sliding layers in the table whose config still has a window (Mistral, Qwen with
  // use_sliding_window): every layer slides; up to the window that is full causal attention, so the usable context
  // is capped there.
  const bool sw_used = f.bool_opt({"use_sliding_window"}).value_or(!a.hf_window_opt_in);
  if (sw_used && sw && *sw > 0 && *sw < c.n_ctx_train) c.n_ctx_train = *sw;
}
}  // namespace

ModelConfig hf_config_from_json(const std::string& text, const std::string& source) {
  const json j = parse_json_text(text, source);
  if (!j.is_object()) throw Error(source, "not a JSON object");
  const ArchInfo& a = detect_arch(j, source);
  ModelConfig c;
  apply_arch_flags(a, c);
  Fields f{j, source};
  read_shape(f, a, c);
  read_activation(f, a, c);
  read_rope(f, a, c);
  read_attention(f, a, c);
  c.validate(source);
  return c;
}

ModelConfig load_hf_config(const std::string& path) {
  auto f = MappedFile::open(path);
  const std::string text(reinterpret_cast<const char*>(f->data()), f->size());
  return hf_config_from_json(text, path);
}

}  // namespace lmgen
