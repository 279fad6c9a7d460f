// The per-tensor plan of a quantization: which type each tensor of a GGUF file is written in, by llama.cpp's
// llama-quantize rules (facts of its documented behaviour, code written here):
//   * Only 2-D+ tensors whose name ends in "weight" are re-encoded, except norms ("*_norm.weight"), learned
//     position embeddings (position_embd.weight) and token_types.weight, which keep their type. 1-D tensors
//     (norms, biases) are written as F32.
//   * Every re-encoded tensor starts from the file type's base (file_types.hpp); unless the plan is pure:
//       - output.weight (or token_embd.weight when the head is tied to it): the row's head type, or Q8_0 when its
//         rows are not a multiple of the base type's block;
//       - attn_v.weight and ffn_down.weight on the "more bits" layers (i < n/8, i >= 7n/8, or (i - n/8) % 3 == 2,
//         counted over the tensors of that kind): the row's more_bits type;
//       - fused attn_qkv.weight (gpt2): the row's fused_qkv type.
//       - the 2- to 4-bit types: q2_k: attn_v Q3_K (Q4_K with 4+ query heads per kv head), ffn_down and
//         attn_output Q3_K; q3_k_m: attn_v Q5_K on the first two, then Q4_K; ffn_down Q5_K on the first n/16, then
//         Q4_K; attn_output Q4_K; q3_k_l: attn_v, ffn_down, attn_output Q5_K; iq4_nl / iq4_xs: attn_v Q5_K with 4+
//         query heads per kv head, ffn_down Q5_K on the first n/8 (llama-quantize without an importance matrix).
//   * A row length that is not a multiple of the chosen type's block falls back: Q2_K, Q3_K, IQ4_XS -> IQ4_NL,
//     IQ4_NL -> F16, Q4_K -> Q5_0, Q5_K -> Q5_1,
//     Q6_K -> Q8_0, and to F16 if even that does not fit (e.g. SmolLM2's 576-wide rows cannot hold 256-element
//     K-quant blocks). The fallback applies to pure plans too.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "format/gguf.hpp"
#include "lmgen/weights.hpp"
#include "quantize/file_types.hpp"

namespace lmgen {

struct TensorPlan {
  const GgufTensorInfo* src = nullptr;  // the tensor in the input file
  std::vector<int64_t> shape;           // row-major
  DType type = DType::F32;              // the type it is written in
  bool fell_back = false;               // `type` is a row-length fallback of the rule's type
  std::vector<Matrix> merged;  // with LoRA: the tensor's rows as the merge left them, in file order (empty: the file's)

  // The type the rows are read from: the file's, or the merged matrices'.
  DType source_type() const { return merged.empty() ? src->type : merged.front().type; }
};

// One plan per tensor of g, in file order. `pure`: no per-tensor rules (the base type everywhere, fallbacks kept).
std::vector<TensorPlan> plan_tensors(const GgufFile& g, const FileTypeInfo& ft, bool pure);

}  // namespace lmgen
