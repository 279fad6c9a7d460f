// The per-format loaders behind lmgen::load_model (load/load_model.cpp detects the format and calls one).
// Each maps its format onto the canonical ModelConfig + Weights (weights and config only; tokenizers are built
// in tokenizer/).
#pragma once

#include <string>

#include "lmgen/file_access.hpp"
#include "lmgen/weights.hpp"

namespace lmgen {

class GgufFile;

// Per-format loaders (weights and config only).
// loader_gguf.cpp: every architecture of arch_table.hpp
ModelData load_gguf_model(const std::string& path, FileAccess access = FileAccess::Map);
ModelData load_gguf_model(const GgufFile& g);  // from an opened file (its tokenizer can then come from it too)
// llama2c.cpp: legacy float32 checkpoints
ModelData load_llama2c_model(const std::string& path, FileAccess access = FileAccess::Map);
bool llama2c_sniff(const std::string& path);  // header and size match a legacy checkpoint
// loader_hf.cpp: config.json + safetensors (sharded too)
ModelData load_hf_model(const std::string& dir, FileAccess access = FileAccess::Map);

}  // namespace lmgen
