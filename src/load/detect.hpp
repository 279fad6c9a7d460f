// Format detection: what kind of model a path holds, decided once, from its content (not its extension).
//
// A model file is mapped once here and the same map is handed to its loader (GGUF or llama2.c), so detection costs
// no second open or read; a directory is a Hugging Face model directory when it holds config.json.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "lmgen/file_access.hpp"

namespace lmgen {

class MappedFile;

enum class ModelFormat { Gguf, Llama2c, HfDir };

struct DetectedModel {
  ModelFormat format = ModelFormat::Gguf;
  std::shared_ptr<MappedFile> file;  // the model file's one map (null for a directory)
};

// Throws Error naming the path when it does not exist or is none of the formats.
DetectedModel detect_model(const std::string& path, FileAccess access = FileAccess::Map);
// The same, with nothing instead of an Error for a path that exists but holds none of the formats.
std::optional<DetectedModel> try_detect_model(const std::string& path, FileAccess access = FileAccess::Map);

}  // namespace lmgen
