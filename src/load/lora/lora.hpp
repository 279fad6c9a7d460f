// LoRA adapters inside the library: an adapter read from either on-disk form (PEFT directory, llama.cpp GGUF file)
// becomes a list of (A, B) pairs addressed to canonical weight matrices; merge.cpp adds them into the weights.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "load/arch_table.hpp"
#include "lmgen/lora.hpp"
#include "lmgen/tensor.hpp"
#include "lmgen/weights.hpp"

namespace lmgen {

// The canonical matrices an adapter may change (weights.hpp).
enum class LoraSlot { Q, K, V, O, Gate, Up, Down, Output };

// One canonical matrix fed by a file weight: a fused weight (q|k|v, gate|up) feeds several, each a row range.
struct LoraTarget {
  int64_t layer = -1;  // -1 for the LM head
  LoraSlot slot = LoraSlot::Q;
  int64_t row0 = 0, rows = 0;  // rows of the file weight that are this matrix
  int64_t cols = 0;
  const char* refused = nullptr;  // why lmgen cannot adapt this weight (nullptr: it can)
};

// A file weight name ("model.layers.0.self_attn.q_proj.weight", "blk.0.attn_q.weight") -> what it feeds.
using LoraTargetMap = std::map<std::string, std::vector<LoraTarget>, std::less<>>;
// The adaptable weights of a model of config c under the names `names` (the architecture's HF or GGUF names).
LoraTargetMap lora_targets(const ArchInfo& a, const TensorNames& names, const ModelConfig& c, bool hf_names);
// The matrix a target names.
Matrix& lora_matrix(Weights& w, const LoraTarget& t);

// One adapted weight: delta = scaling * B A for the file weight `weight`.
struct LoraPair {
  std::string weight;          // the file weight name (a key of LoraTargetMap)
  int64_t rank = 0, in = 0, out = 0;
  std::vector<float> a;        // [rank, in]
  std::vector<float> b;        // [out, rank]
  double scaling = 1.0;        // lora_alpha / r (or / sqrt(r)), before the user's scale
};

struct LoraAdapterData {
  std::string path;
  std::string format;          // "PEFT" or "GGUF"
  bool qk_interleaved = false;  // B rows of q / k are in llama.cpp's permuted (interleaved RoPE) order
  bool hf_names = true;        // pairs are named with the architecture's HF names (else its GGUF names)
  std::string describe;        // "r 4, lora_alpha 8 (alpha/r = 2)"
  std::vector<LoraPair> pairs;
};

// peft.cpp: a PEFT directory (every refusal is an AdapterError naming the directory or file).
LoraAdapterData read_peft_adapter(const std::string& dir, const ModelConfig& c);
// gguf_adapter.cpp: a llama.cpp GGUF LoRA adapter.
LoraAdapterData read_gguf_adapter(const std::string& path, const ModelConfig& c);

// Checks a pair's shapes against its targets (AdapterError on a mismatch, or a refused target) and returns them.
const std::vector<LoraTarget>& check_pair(const LoraTargetMap& targets, const LoraPair& p, const std::string& path,
                                          const std::string& module);

// A tensor's values as floats (any type lmgen reads; unaligned data is fine).
std::vector<float> tensor_floats(const TensorView& t);

// merge.cpp: reads every adapter, checks it against the model, and merges all of them into md's weights (each
// matrix once). Returns the notes for LoadedModel::lora_notes.
std::vector<std::string> apply_lora_adapters(ModelData& md, const std::vector<LoraSpec>& specs);

}  // namespace lmgen
