// Fills the canonical Weights from any tensor source (a GGUF file, a safetensors checkpoint) by the names of an
// architecture-table entry, reading the tensors the config's flags call for. Sources remember which tensors were
// read, so a loader can refuse a file with tensors it would otherwise silently ignore.
#pragma once

#include <set>
#include <string>

#include "load/arch_table.hpp"
#include "lmgen/weights.hpp"

namespace lmgen {

class TensorSource {
 public:
  virtual ~TensorSource() = default;
  virtual bool has(const std::string& name) const = 0;
  // A [rows, cols] matrix as stored (embeddings, position tables, LM head).
  virtual Matrix matrix(const std::string& name, int64_t rows, int64_t cols) = 0;
  // An F32 vector of n elements.
  virtual Vector vector(const std::string& name, int64_t n) = 0;
  // A Linear weight as [out, in] (an HF GPT-2 Conv1D [in, out] is transposed).
  virtual Matrix linear(const std::string& name, int64_t out, int64_t in) { return matrix(name, out, in); }
  // A fused q|k|v weight / bias in [Q; K; V] row order (HF GPT-NeoX groups rows per head and is reordered).
  virtual Matrix fused_qkv(const std::string& name, int64_t rows, int64_t cols) { return linear(name, rows, cols); }
  virtual Vector fused_qkv_bias(const std::string& name, int64_t n) { return vector(name, n); }
  // An RMSNorm / LayerNorm gain as the forward pass multiplies by it (HF Gemma stores w for 1 + w).
  virtual Vector norm(const std::string& name, int64_t n) { return vector(name, n); }

  // Names read so far.
  const std::set<std::string>& used() const { return used_; }

 protected:
  std::set<std::string> used_;
};

// Reads every weight of c's architecture named in `names` into w (w.output = w.tok_embd when c.tied_head).
void fill_weights(TensorSource& src, const TensorNames& names, const ModelConfig& c, Weights& w);

}  // namespace lmgen
