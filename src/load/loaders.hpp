// The per-format loaders behind lmgen::load_model (load/load_model.cpp detects the format and calls one).
// Each maps its format onto the canonical ModelConfig + Weights (weights and config only; tokenizers are built
// in tokenizer/).
#pragma once

#include <memory>
#include <string>

#include "lmgen/file_access.hpp"
#include "lmgen/weights.hpp"

namespace lmgen {

class GgufFile;
class MappedFile;

// Per-format loaders (weights and config only).
// loader_gguf.cpp: every architecture of arch_table.hpp
ModelData load_gguf_model(const std::string& path, FileAccess access = FileAccess::Map);
ModelData load_gguf_model(const GgufFile& g);  // from an opened file (its tokenizer can then come from it too)
// loader_llama2c.cpp: legacy float32 checkpoints
ModelData load_llama2c_model(const std::string& path, FileAccess access = FileAccess::Map);
ModelData load_llama2c_model(std::shared_ptr<MappedFile> file);
bool llama2c_sniff(const std::string& path);  // header and size match a legacy checkpoint
bool llama2c_sniff(const MappedFile& file);
// loader_hf.cpp: config.json + safetensors (sharded too)
ModelData load_hf_model(const std::string& dir, FileAccess access = FileAccess::Map);

}  // namespace lmgen
