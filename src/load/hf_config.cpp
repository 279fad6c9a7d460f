#include "load/hf_config.hpp"

#include <cmath>
#include <initializer_list>
#include <limits>
#include <optional>

#include <nlohmann/json.hpp>

#include "lmgen/error.hpp"
#include "util/json_limits.hpp"
#include "format/mapped_file.hpp"

namespace lmgen {

namespace {

using json = nlohmann::json;

struct Arch {
  const char* hf_class;
  const char* model_type;
  const char* arch;  // ModelConfig::arch
};
constexpr Arch kArchs[] = {
    {"LlamaForCausalLM", "llama", "llama"},
    {"MistralForCausalLM", "mistral", "llama"},
    {"Qwen2ForCausalLM", "qwen2", "qwen2"},
    {"GPT2LMHeadModel", "gpt2", "gpt2"},
};

std::string supported_list() {
  std::string s;
  for (const auto& a : kArchs) {
    if (!s.empty()) s += ", ";
    s += a.hf_class;
  }
  return s;
}

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

const Arch& detect_arch(const json& j, const std::string& src) {
  auto a = j.find("architectures");
  if (a != j.end() && !a->is_null()) {
    if (!a->is_array() || a->empty() || !(*a)[0].is_string())
      throw Error(src, "\"architectures\" must be a non-empty list of class names");
    for (const json& name : *a)
      if (name.is_string())
        for (const auto& k : kArchs)
          if (name.get<std::string>() == k.hf_class) return k;
    throw Error(src, "unsupported architecture '" + (*a)[0].get<std::string>() + "' (supported: " +
                         supported_list() + ")");
  }
  auto m = j.find("model_type");
  if (m != j.end() && m->is_string()) {
    for (const auto& k : kArchs)
      if (m->get<std::string>() == k.model_type) return k;
    throw Error(src, "unsupported architecture '" + m->get<std::string>() + "' (supported: " + supported_list() +
                         ")");
  }
  throw Error(src, "neither \"architectures\" nor \"model_type\" says which architecture this is (supported: " +
                       supported_list() + ")");
}

void read_gpt2(const Fields& f, ModelConfig& c) {
  c.n_vocab = f.int_req({"vocab_size"});
  c.n_embd = f.int_req({"n_embd", "hidden_size"});
  c.n_layer = f.int_req({"n_layer", "num_hidden_layers"});
  c.n_head = f.int_req({"n_head", "num_attention_heads"});
  c.n_head_kv = c.n_head;
  c.head_dim = c.n_head > 0 ? c.n_embd / c.n_head : 0;
  // 4 * n_embd only when it cannot overflow; an absurd n_embd is refused by validate() anyway.
  c.n_ff = f.int_opt({"n_inner", "intermediate_size"}).value_or(c.n_embd > 0 && c.n_embd <= 65536 ? 4 * c.n_embd : 0);
  c.n_ctx_train = f.int_opt({"n_positions", "max_position_embeddings", "n_ctx"}).value_or(1024);
  c.norm = NormKind::LayerNorm;
  c.norm_eps = to_float(f.float_opt({"layer_norm_epsilon"}).value_or(1e-5));
  const std::string act = f.str_opt({"activation_function"}).value_or("gelu_new");
  if (act != "gelu_new" && act != "gelu_pytorch_tanh" && act != "gelu_fast")
    throw Error(f.src, "activation_function '" + act + "' is not supported (supported: gelu_new)");
  c.act = Activation::GeluTanh;
  c.rope = RopeStyle::None;
  c.rope_dim = 0;
  c.qkv_bias = c.out_bias = c.learned_pos = true;
  c.tied_head = f.bool_opt({"tie_word_embeddings"}).value_or(true);
  if (f.bool_opt({"scale_attn_by_inverse_layer_idx"}).value_or(false) ||
      f.bool_opt({"reorder_and_upcast_attn"}).value_or(false))
    throw Error(f.src, "scale_attn_by_inverse_layer_idx / reorder_and_upcast_attn are not supported");
  if (!f.bool_opt({"scale_attn_weights"}).value_or(true))
    throw Error(f.src, "scale_attn_weights = false is not supported");
}

void read_llama_like(const Fields& f, ModelConfig& c, bool qwen2) {
  c.n_vocab = f.int_req({"vocab_size"});
  c.n_embd = f.int_req({"hidden_size"});
  c.n_layer = f.int_req({"num_hidden_layers"});
  c.n_head = f.int_req({"num_attention_heads"});
  c.n_head_kv = f.int_opt({"num_key_value_heads"}).value_or(c.n_head);
  c.head_dim = f.int_opt({"head_dim"}).value_or(c.n_head > 0 ? c.n_embd / c.n_head : 0);
  c.n_ff = f.int_req({"intermediate_size"});
  c.n_ctx_train = f.int_opt({"max_position_embeddings"}).value_or(qwen2 ? 32768 : 2048);
  c.norm = NormKind::RMSNorm;
  c.norm_eps = to_float(f.float_opt({"rms_norm_eps"}).value_or(1e-6));
  const std::string act = f.str_opt({"hidden_act"}).value_or("silu");
  if (act != "silu" && act != "swish")
    throw Error(f.src, "hidden_act '" + act + "' is not supported (supported: silu)");
  c.act = Activation::SwiGLU;
  c.rope = RopeStyle::Neox;  // HF q_proj/k_proj are in rotate_half order
  c.rope_theta = to_float(f.float_opt({"rope_theta"}).value_or(10000.0));
  c.rope_dim = c.head_dim;
  if (const json* rs = f.find({"rope_scaling"})) {
    std::string type = "?";
    if (rs->is_object()) {
      auto t = rs->find("rope_type");
      if (t == rs->end()) t = rs->find("type");
      if (t != rs->end() && t->is_string()) type = t->get<std::string>();
    }
    if (type != "default") throw Error(f.src, "rope_scaling '" + type + "' is not supported");
  }
  if (f.float_opt({"partial_rotary_factor"}).value_or(1.0) != 1.0)
    throw Error(f.src, "partial_rotary_factor is not supported");
  c.qkv_bias = qwen2;
  if (!qwen2 && (f.bool_opt({"attention_bias"}).value_or(false) || f.bool_opt({"mlp_bias"}).value_or(false)))
    throw Error(f.src, "attention_bias / mlp_bias = true is not supported for llama-family models");
  c.tied_head = f.bool_opt({"tie_word_embeddings"}).value_or(false);
  // Sliding-window attention equals full attention up to the window length: cap the usable context there.
  const bool sw_used = qwen2 ? f.bool_opt({"use_sliding_window"}).value_or(false) : true;
  if (sw_used)
    if (auto sw = f.int_opt({"sliding_window"}); sw && *sw > 0 && *sw < c.n_ctx_train) c.n_ctx_train = *sw;
}

}  // namespace

ModelConfig hf_config_from_json(const std::string& text, const std::string& source) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {
    throw Error(source, std::string("not valid JSON: ") + e.what());
  }
  check_json_depth(j, source);
  if (!j.is_object()) throw Error(source, "not a JSON object");
  const Arch& a = detect_arch(j, source);
  ModelConfig c;
  c.arch = a.arch;
  Fields f{j, source};
  if (c.arch == "gpt2")
    read_gpt2(f, c);
  else
    read_llama_like(f, c, c.arch == "qwen2");
  c.validate(source);
  return c;
}

ModelConfig load_hf_config(const std::string& path) {
  auto f = MappedFile::open(path);
  const std::string text(reinterpret_cast<const char*>(f->data()), f->size());
  return hf_config_from_json(text, path);
}

}  // namespace lmgen
