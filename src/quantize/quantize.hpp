// Quantizing a GGUF model: re-encodes its weights by a file type's plan (plan.hpp) and writes a GGUF file that
// lmgen and llama.cpp both load. `lmgen quantize` and `lmgen convert --type q4_k_m` call it.
//
// Metadata is copied; general.file_type is set to the file type's number and general.quantization_version to 2 (as
// llama-quantize does, also for f32/f16/bf16 targets). The alignment is 32 (or the source's general.alignment).
// Re-encoding decodes each source row to F32 (any type lmgen reads) and encodes it with quantize_row (ggml's
// reference rounding); rows are split over a ThreadPool, each row written by one worker, so the bytes do not depend
// on the thread count.
//
// LoRA: the model is loaded as load_model loads it (load_gguf_model) and the adapters are merged by the library's
// own merge (apply_lora_adapters, load/lora/merge.cpp), exactly as LoadOptions::lora does; every file tensor whose
// matrices the merge replaced is then encoded from those merged matrices instead of the file's bytes (a fused q|k|v
// or gate|up tensor from all of its matrices, in order). The merge keeps a quantized matrix's type, so with the
// base's own type as target (Q8_0 base, q8_0) the written bytes are the load-time merged bytes; another target
// re-encodes the merged matrices like any other tensor. A merged head of a model whose head is tied to token_embd
// (no output.weight in the file) cannot be written as that model's tensors and is refused.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "lmgen/lora.hpp"
#include "quantize/file_types.hpp"
#include "quantize/plan.hpp"

namespace lmgen {

// What a quantization will do, known before any tensor is written.
struct QuantizePlan {
  std::vector<TensorPlan> tensors;      // in file order
  std::vector<std::string> lora_notes;  // what merging the adapters did, one line each
  int64_t input_bytes = 0;              // the input file's size
  int64_t tensor_bytes = 0;             // the input tensors' data, summed (what on_tensor counts against)
};

struct QuantizeOptions {
  FileType type = FileType::Q8_0;
  bool pure = false;                // no per-tensor rules (plan.hpp)
  int n_threads = 0;                // encoding threads; <= 0: the physical cores (ThreadPool)
  std::vector<LoraSpec> lora;       // adapters merged before encoding
  // Called once with the plan, before the first tensor is written.
  std::function<void(const QuantizePlan&)> on_plan;
  // Called after each tensor: tensors done, input bytes done.
  std::function<void(int64_t tensors, int64_t bytes)> on_tensor;
  // Called between tensors and every 64 rows (from the workers too) and once after the file is written; it stops
  // the quantization by throwing, and no output file is left behind.
  std::function<void()> poll;
};

// Quantizes the GGUF file `in` into `out` (written as out.tmp, then renamed). Throws Error for an input that is
// not GGUF, UsageError when `out` is `in`, AdapterError for an adapter that does not fit; returns the plan.
QuantizePlan quantize_gguf(const std::string& in, const std::string& out, const QuantizeOptions& opt);

}  // namespace lmgen
