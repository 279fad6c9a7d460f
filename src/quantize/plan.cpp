// plan_tensors: llama-quantize's per-tensor type rules over a GGUF file's tensors (plan.hpp lists them).
#include "quantize/plan.hpp"

#include "lmgen/error.hpp"

namespace lmgen {

namespace {

bool contains(const std::string& s, std::string_view part) { return s.find(part) != std::string::npos; }

bool is_float_type(DType t) { return t == DType::F32 || t == DType::F16 || t == DType::BF16; }

// The layers llama.cpp gives more bits: the first and last eighth, and every third one between.
bool use_more_bits(int64_t i, int64_t n) { return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2; }

// The type to use when a row of `cols` elements does not hold whole blocks of `t` (llama.cpp's fallback chain).
DType fallback(DType t, int64_t cols, const std::string& name) {
  if (cols % dtype_traits(t).block_size == 0) return t;
  DType f;
  switch (t) {
    case DType::Q4_K: f = DType::Q5_0; break;
    case DType::Q5_K: f = DType::Q5_1; break;
    case DType::Q6_K: f = DType::Q8_0; break;
    case DType::Q4_0: case DType::Q4_1: case DType::Q5_0: case DType::Q5_1: case DType::Q8_0: f = DType::F16; break;
    default: throw Error("tensor '" + name + "' has rows of " + std::to_string(cols) +
                         " elements, which no fallback type fits");
  }
  if (cols % dtype_traits(f).block_size != 0) f = DType::F16;
  return f;
}

bool is_requantized(const GgufTensorInfo& t) {
  return t.name.ends_with("weight") && t.ne.size() >= 2 && !contains(t.name, "_norm.weight") &&
         t.name != "position_embd.weight" && t.name != "token_types.weight";
}

}  // namespace

std::vector<TensorPlan> plan_tensors(const GgufFile& g, const FileTypeInfo& ft, bool pure) {
  const bool has_output = g.find_tensor("output.weight") != nullptr;
  int64_t n_attn_v = 0, n_ffn_down = 0;
  for (const auto& t : g.tensors()) {
    if (contains(t.name, "attn_v.weight") || contains(t.name, "attn_qkv.weight")) ++n_attn_v;
    if (contains(t.name, "ffn_down.weight")) ++n_ffn_down;
  }
  int64_t i_attn_v = 0, i_ffn_down = 0;
  std::vector<TensorPlan> plans;
  for (const auto& t : g.tensors()) {
    TensorPlan p;
    p.src = &t;
    p.shape.assign(t.ne.rbegin(), t.ne.rend());
    const int64_t cols = t.ne.empty() ? 0 : t.ne[0];
    if (t.ne.size() < 2) {
      p.type = DType::F32;
    } else if (!is_requantized(t)) {
      p.type = t.type;
    } else {
      DType nt = ft.base;
      if (!pure && !is_float_type(ft.base)) {
        if (t.name == "output.weight" || (!has_output && t.name == "token_embd.weight")) {
          nt = cols % dtype_traits(ft.base).block_size != 0 ? DType::Q8_0 : ft.head;
        } else if (contains(t.name, "attn_v.weight")) {
          if (use_more_bits(i_attn_v++, n_attn_v)) nt = ft.more_bits;
        } else if (contains(t.name, "attn_qkv.weight")) {
          nt = ft.fused_qkv;
        } else if (contains(t.name, "ffn_down.weight")) {
          if (use_more_bits(i_ffn_down++, n_ffn_down)) nt = ft.more_bits;
        }
      }
      p.type = fallback(nt, cols, t.name);
      p.fell_back = p.type != nt;
    }
    plans.push_back(std::move(p));
  }
  return plans;
}

}  // namespace lmgen
