// detect_model: one look at a path decides its format (see detect.hpp).
#include "load/detect.hpp"

#include <filesystem>

#include "format/gguf.hpp"
#include "format/mapped_file.hpp"
#include "lmgen/error.hpp"
#include "load/loaders.hpp"

namespace lmgen {

std::optional<DetectedModel> try_detect_model(const std::string& path, FileAccess access) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(path, ec)) throw Error(path, "no such file or directory");
  DetectedModel d;
  if (fs::is_directory(path, ec)) {
    if (!fs::exists(fs::path(path) / "config.json", ec)) return std::nullopt;
    d.format = ModelFormat::HfDir;
    return d;
  }
  d.file = MappedFile::open(path, access);
  if (GgufFile::sniff(*d.file)) d.format = ModelFormat::Gguf;
  else if (llama2c_sniff(*d.file)) d.format = ModelFormat::Llama2c;
  else return std::nullopt;
  return d;
}

DetectedModel detect_model(const std::string& path, FileAccess access) {
  std::optional<DetectedModel> d = try_detect_model(path, access);
  if (d) return std::move(*d);
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    throw Error(path, "directory has no config.json (expected a Hugging Face model directory)");
  throw Error(path, "not a model file (expected GGUF, a llama2.c checkpoint, or a Hugging Face model directory)");
}

}  // namespace lmgen
