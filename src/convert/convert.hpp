// Hugging Face directory -> GGUF conversion: writes a GGUF file with the tensor names, metadata keys and tokenizer
// keys llama.cpp's convert_hf_to_gguf.py writes for the same model, so that llama.cpp and lmgen both load it.
//
// The weights go through lmgen's own HF loader (load_hf_model), so the checkpoint conventions are applied once, in
// one place: GPT-2 Conv1D weights are transposed, GPT-NeoX fused qkv rows are reordered to [Q; K; V], Gemma's norm
// gains become w + 1. On top of that the GGUF conventions: llama's attn_q / attn_k rows are permuted from
// rotate-half to interleaved pairs (the GGUF loader's RopeStyle::Interleaved), phi3's q|k|v and gate|up are fused,
// RoPE scaling becomes keys or factor tensors (rope_freqs / rope_factors_short/long).
// A model property GGUF cannot express for that architecture (a custom sliding-layer pattern, an attention scale or
// a local RoPE base other than the one llama.cpp fixes) is an error, never silently dropped.
#pragma once

#include <string>

#include "format/gguf_writer.hpp"
#include "load/arch_table.hpp"
#include "lmgen/config.hpp"
#include "lmgen/lora.hpp"
#include "lmgen/tensor.hpp"
#include "quantize/quantize.hpp"

namespace lmgen {

// Writes the GGUF form of the model in `hf_dir` to `out_path`. `type` is the type of the 2-D weights: F32, F16,
// BF16 or Q8_0 (llama.cpp's convert_hf_to_gguf.py --outtype set); norms, biases, position tables and RoPE factors
// are F32. Rows that do not hold whole Q8_0 blocks fall back to F16. `lora` adapters are merged into the weights
// first (as LoadOptions::lora; their notes are appended to *notes when given). Throws Error / UsageError.
void convert_hf_to_gguf(const std::string& hf_dir, const std::string& out_path, DType type,
                        const std::vector<LoraSpec>& lora = {}, std::vector<std::string>* notes = nullptr);

// Writes `hf_dir` as a GGUF file of any file type (opt.type): the types llama.cpp's converter writes
// (FileTypeInfo::converter_writes) directly, as above, unless `quantizer_rules`; the others (all of them with
// `quantizer_rules`: llama-quantize's per-tensor rules and keys, as `lmgen quantize HF_DIR`) through an F32 GGUF
// next to `out_path` ("OUT.f32-tmp.gguf", removed afterwards) and quantize_gguf with `opt`. Adapters (opt.lora)
// are merged once, by the conversion. Returns their notes.
std::vector<std::string> convert_hf_model(const std::string& hf_dir, const std::string& out_path,
                                          const QuantizeOptions& opt, bool quantizer_rules = false);
// llama.cpp's general.file_type number for a GGUF whose weights are `type`.
uint32_t llama_file_type(DType type);

// ---- parts (gguf_hparams.cpp, gguf_vocab.cpp) ----
// general.* and "<arch>.*" keys for config c. Throws Error for what the architecture's GGUF form cannot express.
void write_gguf_hparams(GgufWriter& w, const ModelConfig& c, const ArchInfo& a, DType type);
// tokenizer.* keys from hf_dir's tokenizer.json, tokenizer_config.json and config.json (n_vocab entries).
void write_gguf_vocab(GgufWriter& w, const std::string& hf_dir, const ModelConfig& c);

}  // namespace lmgen
