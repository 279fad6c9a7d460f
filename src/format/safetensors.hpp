// safetensors reader (single files and sharded Hugging Face checkpoints), memory-mapped and read-only.
//
// Format (little-endian):
//   u64 header_len, then header_len bytes of UTF-8 JSON, then the data section (to the end of the file).
//   The JSON is an object: "__metadata__" -> {string: string} (ignored), and for every tensor
//     NAME -> {"dtype": "F32" | "F16" | "BF16" | ..., "shape": [d0, d1, ...], "data_offsets": [begin, end]}
//   with offsets relative to the start of the data section. Shapes are row-major (PyTorch order). Offsets need
//   not be aligned to anything: readers of the bytes use memcpy / unaligned loads.
//
// Validation (every problem is an Error naming the file, and the tensor where there is one):
//   header_len < 100 MB and inside the file; the JSON parses and is an object; every entry has a known dtype,
//   a shape of non-negative integers whose element count does not overflow, data_offsets [begin <= end] inside
//   the data section, end - begin == n_elements * dtype size, and no two tensors' byte ranges overlap.
// Element types lmgen computes with are F32, F16 and BF16. Other safetensors dtypes (F64, I64, I32, I16, I8, U8,
// BOOL, F8_*, ...) are validated like the rest but refused only when such a tensor is asked for (`tensor()`), so
// a checkpoint with e.g. an int64 buffer lmgen never uses still loads. An unknown dtype string is refused while
// parsing.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "format/mapped_file.hpp"
#include "lmgen/tensor.hpp"

namespace lmgen {

struct SafetensorsTensorInfo {
  std::string name;
  std::string dtype;          // as written in the header ("F32", "BF16", "I64", ...)
  bool supported = false;     // dtype is F32, F16 or BF16 (then `type` is meaningful)
  DType type = DType::F32;
  std::vector<int64_t> shape;
  uint64_t offset = 0;        // absolute offset of the data in the file
  uint64_t nbytes = 0;
};

class SafetensorsFile {
 public:
  // Maps and validates `path`. Throws Error naming the file on any inconsistency.
  explicit SafetensorsFile(const std::string& path, FileAccess access = FileAccess::Map);

  const std::string& path() const { return file_->path(); }
  const std::shared_ptr<MappedFile>& file() const { return file_; }
  uint64_t data_start() const { return data_start_; }  // 8 + header_len

  // All tensors, in header (name) order.
  const std::vector<SafetensorsTensorInfo>& tensors() const { return tensors_; }
  const SafetensorsTensorInfo* find_tensor(std::string_view name) const;
  // A view into the map. Throws Error if absent or of a dtype lmgen does not compute with.
  TensorView tensor(std::string_view name) const;

 private:
  std::shared_ptr<MappedFile> file_;
  uint64_t data_start_ = 0;
  std::vector<SafetensorsTensorInfo> tensors_;
  std::map<std::string, size_t, std::less<>> index_;
};

// Byte size of one element of a safetensors dtype name; 0 if the name is unknown.
size_t safetensors_dtype_size(std::string_view dtype);

// The weights of a Hugging Face model directory: either DIR/model.safetensors, or the shards listed by
// DIR/model.safetensors.index.json ({"weight_map": {tensor: shard file}}). For a sharded checkpoint every shard
// named in the index must exist and hold every tensor the index assigns to it.
class SafetensorsCheckpoint {
 public:
  // Opens the checkpoint in `dir` (model.safetensors preferred if both forms exist). Throws Error naming the
  // directory if neither exists, the index and the shard file for a missing shard or tensor.
  static SafetensorsCheckpoint open_dir(const std::string& dir, FileAccess access = FileAccess::Map);
  // A single-file checkpoint.
  static SafetensorsCheckpoint open_file(const std::string& path, FileAccess access = FileAccess::Map);

  // The file the checkpoint is described by: model.safetensors or model.safetensors.index.json (for messages
  // about tensors that are not there at all).
  const std::string& source() const { return source_; }
  bool sharded() const { return sharded_; }
  const std::vector<std::shared_ptr<const SafetensorsFile>>& files() const { return files_; }

  bool has(std::string_view name) const { return where_.find(name) != where_.end(); }
  // The file holding `name`, or nullptr.
  const SafetensorsFile* file_of(std::string_view name) const;
  // Throws Error("SOURCE: missing tensor NAME") if absent; see SafetensorsFile::tensor for dtypes.
  TensorView tensor(std::string_view name) const;
  // Names of all tensors, sorted.
  std::vector<std::string> names() const;

 private:
  std::string source_;
  bool sharded_ = false;
  std::vector<std::shared_ptr<const SafetensorsFile>> files_;
  std::map<std::string, size_t, std::less<>> where_;  // tensor -> index in files_
};

}  // namespace lmgen
