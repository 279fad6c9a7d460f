// GGUF v3 writer: metadata and tensors in the layout GgufFile (gguf.hpp) and llama.cpp read.
//
// Layout written (all little-endian): "GGUF", u32 3, u64 n_tensors, u64 n_kv, the key/value pairs in insertion
// order, the tensor infos in insertion order, zero padding to the alignment, then the tensor data section. Each
// tensor's data starts at an offset (relative to the data section) that is a multiple of the alignment, and is
// followed by zero padding up to the next multiple (also after the last tensor, as ggml's writer does).
// The alignment is 32 unless the metadata holds general.alignment (a u32 power of two), which is then used.
//
// Tensor data is produced on demand, one tensor at a time, while the file is written, so writing a multi-GB model
// holds only one tensor in memory. The file is written to "PATH.tmp" and renamed over PATH when complete.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "format/gguf.hpp"
#include "lmgen/tensor.hpp"

namespace lmgen {

class GgufWriter {
 public:
  // Fills `dst` (exactly the tensor's byte size, zero-initialised) with the tensor's data.
  using Producer = std::function<void(uint8_t* dst, size_t nbytes)>;

  GgufWriter() = default;

  // ---- metadata (setting an existing key replaces its value and keeps its position) ----
  void set_u8(std::string_view key, uint8_t v);
  void set_i32(std::string_view key, int32_t v);
  void set_u32(std::string_view key, uint32_t v);
  void set_u64(std::string_view key, uint64_t v);
  void set_f32(std::string_view key, float v);
  void set_bool(std::string_view key, bool v);
  void set_string(std::string_view key, std::string_view v);
  void set_string_array(std::string_view key, const std::vector<std::string_view>& v);
  void set_string_array(std::string_view key, const std::vector<std::string>& v);
  void set_f32_array(std::string_view key, const std::vector<float>& v);
  void set_i32_array(std::string_view key, const std::vector<int32_t>& v);
  // Copies a value read by GgufFile (any scalar, string or one-level array), keeping its type.
  void set_value(std::string_view key, const GgufValue& v);
  void remove(std::string_view key);
  bool has(std::string_view key) const;

  // ---- tensors ----
  // `shape` is row-major (TensorView order: {rows, cols}); it is written reversed as ggml's ne.
  // Throws Error if the name is taken, the shape is empty or not positive, or the row length is not a multiple
  // of the type's block size.
  void add_tensor(std::string_view name, DType type, const std::vector<int64_t>& shape, Producer produce);
  size_t n_tensors() const { return tensors_.size(); }

  // Writes the file (PATH.tmp, then renamed to PATH). Throws Error naming the file on I/O failure or when a
  // producer throws (the partial file is removed).
  void write(const std::string& path) const;

  // Bytes of the data of a tensor of this type and row-major shape (throws as add_tensor).
  static size_t tensor_bytes(DType type, const std::vector<int64_t>& shape);

 private:
  struct Kv {
    std::string key;
    uint32_t type = 0;       // GgufType
    std::string encoded;     // the value as written after the type field
  };
  struct Tensor {
    std::string name;
    DType type = DType::F32;
    std::vector<int64_t> shape;
    size_t nbytes = 0;
    Producer produce;
  };
  void put(std::string_view key, GgufType type, std::string encoded);
  uint64_t alignment() const;
  // The header, metadata and tensor infos, padded to `align`: the bytes before the first tensor.
  std::string encode_header(uint64_t align) const;

  std::vector<Kv> kv_;
  std::vector<Tensor> tensors_;
};

}  // namespace lmgen
