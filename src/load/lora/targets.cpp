// The weights a LoRA adapter may change, by their names in the file the adapter was made for (HF module names for
// PEFT, GGUF tensor names for llama.cpp adapters), and the checks of an adapter pair against them.
#include <cstring>

#include "kernels/quant.hpp"
#include "lmgen/error.hpp"
#include "load/lora/lora.hpp"

namespace lmgen {

namespace {

void add(LoraTargetMap& m, const char* pattern, int64_t layer, std::vector<LoraTarget> parts) {
  if (pattern == nullptr) return;
  m[layer < 0 ? std::string(pattern) : layer_name(pattern, layer)] = std::move(parts);
}

}  // namespace

LoraTargetMap lora_targets(const ArchInfo& a, const TensorNames& n, const ModelConfig& c, bool hf_names) {
  const int64_t E = c.n_embd, Q = c.n_head * c.head_dim, KV = c.n_head_kv * c.head_dim, F = c.n_ff;
  const bool gated = c.act == Activation::SwiGLU || c.act == Activation::GegluTanh;
  const char* per_head = hf_names && a.hf_qkv_per_head
                             ? "its q|k|v rows are grouped per head (GPT-NeoX); lmgen does not adapt that layout"
                             : nullptr;
  LoraTargetMap m;
  for (int64_t l = 0; l < c.n_layer; ++l) {
    if (n.wqkv != nullptr) {
      add(m, n.wqkv, l,
          {{l, LoraSlot::Q, 0, Q, E, per_head}, {l, LoraSlot::K, Q, KV, E, per_head},
           {l, LoraSlot::V, Q + KV, KV, E, per_head}});
    } else {
      add(m, n.wq, l, {{l, LoraSlot::Q, 0, Q, E}});
      add(m, n.wk, l, {{l, LoraSlot::K, 0, KV, E}});
      add(m, n.wv, l, {{l, LoraSlot::V, 0, KV, E}});
    }
    add(m, n.wo, l, {{l, LoraSlot::O, 0, E, Q}});
    if (gated && n.w_gate_up != nullptr) {
      add(m, n.w_gate_up, l, {{l, LoraSlot::Gate, 0, F, E}, {l, LoraSlot::Up, F, F, E}});
    } else {
      if (gated) add(m, n.w_gate, l, {{l, LoraSlot::Gate, 0, F, E}});
      add(m, n.w_up, l, {{l, LoraSlot::Up, 0, F, E}});
    }
    add(m, n.w_down, l, {{l, LoraSlot::Down, 0, E, F}});
  }
  add(m, n.output, -1, {{-1, LoraSlot::Output, 0, c.n_vocab, E}});
  return m;
}

Matrix& lora_matrix(Weights& w, const LoraTarget& t) {
  if (t.slot == LoraSlot::Output) return w.output;
  LayerWeights& l = w.layers.at(static_cast<size_t>(t.layer));
  switch (t.slot) {
    case LoraSlot::Q: return l.wq;
    case LoraSlot::K: return l.wk;
    case LoraSlot::V: return l.wv;
    case LoraSlot::O: return l.wo;
    case LoraSlot::Gate: return l.w_gate;
    case LoraSlot::Up: return l.w_up;
    case LoraSlot::Down: return l.w_down;
    case LoraSlot::Output: break;
  }
  return w.output;
}

const std::vector<LoraTarget>& check_pair(const LoraTargetMap& targets, const LoraPair& p, const std::string& path,
                                          const std::string& module) {
  const auto it = targets.find(p.weight);
  if (it == targets.end())
    throw AdapterError(path, "target module '" + module + "': the base model has no such linear weight (" + p.weight +
                                 ")");
  int64_t rows = 0, cols = 0;
  for (const LoraTarget& t : it->second) {
    if (t.refused != nullptr) throw AdapterError(path, "target module '" + module + "': " + t.refused);
    rows += t.rows;
    cols = t.cols;
  }
  if (p.out != rows || p.in != cols)
    throw AdapterError(path, "target module '" + module + "': shape mismatch: the adapter's B A is [" +
                                 std::to_string(p.out) + ", " + std::to_string(p.in) + "] but the base weight is [" +
                                 std::to_string(rows) + ", " + std::to_string(cols) +
                                 "] (an adapter for another model?)");
  return it->second;
}

std::vector<float> tensor_floats(const TensorView& t) {
  std::vector<uint8_t> bytes(t.nbytes);  // aligned copy: safetensors offsets may be odd
  if (t.nbytes > 0) std::memcpy(bytes.data(), t.data, t.nbytes);
  std::vector<float> out(static_cast<size_t>(t.n_elements()));
  dequantize_row(t.type, bytes.data(), out.data(), t.n_elements());
  return out;
}

}  // namespace lmgen
