// plan_tensors: llama-quantize's per-tensor type rules over a GGUF file's tensors (plan.hpp lists them).
#include "quantize/plan.hpp"

#include <algorithm>

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
    case DType::Q2_K: case DType::Q3_K: case DType::IQ4_XS: f = DType::IQ4_NL; break;
    case DType::Q4_K: f = DType::Q5_0; break;
    case DType::Q5_K: f = DType::Q5_1; break;
    case DType::Q6_K: f = DType::Q8_0; break;
    case DType::Q4_0: case DType::Q4_1: case DType::Q5_0: case DType::Q5_1: case DType::Q8_0: case DType::IQ4_NL:
      f = DType::F16;
      break;
    default: throw Error("tensor '" + name + "' has rows of " + std::to_string(cols) +
                         " elements, which no fallback type fits");
  }
  if (cols % dtype_traits(f).block_size != 0) f = DType::F16;
  return f;
}

// llama-quantize's rules for the 2- to 4-bit file types on attn_v (the i-th of its kind; n_gqa = query heads per kv
// head), ffn_down (the i-th of n) and attn_output; `t` is the type the table's row gives, kept for other types.
DType low_bit_attn_v(FileType ft, DType t, int64_t i, int64_t n_gqa) {
  switch (ft) {
    case FileType::Q2_K: return n_gqa >= 4 ? DType::Q4_K : DType::Q3_K;
    case FileType::Q3_K_M: return i < 2 ? DType::Q5_K : DType::Q4_K;
    case FileType::Q3_K_L: return DType::Q5_K;
    case FileType::IQ4_NL: case FileType::IQ4_XS: return n_gqa >= 4 ? DType::Q5_K : t;
    default: return t;
  }
}
DType low_bit_ffn_down(FileType ft, DType t, int64_t i, int64_t n) {
  switch (ft) {
    case FileType::Q2_K: return DType::Q3_K;
    case FileType::Q3_K_M: return i < n / 16 ? DType::Q5_K : DType::Q4_K;
    case FileType::Q3_K_L: return DType::Q5_K;
    case FileType::IQ4_NL: case FileType::IQ4_XS: return i < n / 8 ? DType::Q5_K : t;  // without an importance matrix
    default: return t;
  }
}
DType low_bit_attn_output(FileType ft, DType t) {
  switch (ft) {
    case FileType::Q2_K: return DType::Q3_K;
    case FileType::Q3_K_M: return DType::Q4_K;
    case FileType::Q3_K_L: return DType::Q5_K;
    default: return t;
  }
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
  const std::string arch = g.get_string_opt("general.architecture").value_or("");
  const int64_t n_head = g.get_int_opt(arch + ".attention.head_count").value_or(1);
  const int64_t n_gqa =
      n_head / std::max<int64_t>(1, g.get_int_opt(arch + ".attention.head_count_kv").value_or(n_head));
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
          if (use_more_bits(i_attn_v, n_attn_v)) nt = ft.more_bits;
          nt = low_bit_attn_v(ft.id, nt, i_attn_v++, n_gqa);
        } else if (contains(t.name, "attn_qkv.weight")) {
          nt = ft.fused_qkv;
        } else if (contains(t.name, "ffn_down.weight")) {
          if (use_more_bits(i_ffn_down, n_ffn_down)) nt = ft.more_bits;
          nt = low_bit_ffn_down(ft.id, nt, i_ffn_down++, n_ffn_down);
        } else if (contains(t.name, "attn_output.weight")) {
          nt = low_bit_attn_output(ft.id, nt);
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
