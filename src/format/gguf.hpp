// GGUF reader (versions 2 and 3), memory-mapped and read-only.
//
// Format (all little-endian):
//   "GGUF" u32 version, u64 n_tensors, u64 n_kv,
//   n_kv × { string key, u32 value_type, value }
//       value types: 0 u8, 1 i8, 2 u16, 3 i16, 4 u32, 5 i32, 6 f32, 7 bool(u8), 8 string, 9 array, 10 u64, 11 i64,
//       12 f64; string = u64 length + bytes (no NUL); array = u32 element type, u64 count, elements.
//   n_tensors × { string name, u32 n_dims, u64 ne[n_dims], u32 ggml_type, u64 offset }
//   padding to `general.alignment` (default 32), then the tensor data section; each tensor's offset is relative
//   to the start of the data section and must itself be aligned.
// ne[0] is the fastest-varying dimension: a weight of ggml shape ne = {in, out} is `out` rows of `in` elements.
// TensorView::shape is in row-major order, i.e. ne reversed.
//
// Every count, length and offset is checked against the file's size before it is used; string arrays are kept
// as views into the map (no copy of a 150k-token vocabulary).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "format/mapped_file.hpp"
#include "lmgen/tensor.hpp"

namespace lmgen {

enum class GgufType : uint32_t {
  U8 = 0, I8 = 1, U16 = 2, I16 = 3, U32 = 4, I32 = 5, F32 = 6, BOOL = 7, STRING = 8, ARRAY = 9, U64 = 10,
  I64 = 11, F64 = 12,
};
const char* gguf_type_name(GgufType t);
// Bytes of one scalar of type t on the wire (0 for STRING and ARRAY, whose size depends on their content).
size_t gguf_scalar_size(GgufType t);

// One metadata value. Scalars are held decoded; arrays keep a pointer into the map.
struct GgufValue {
  GgufType type = GgufType::U8;
  // scalars
  uint64_t u = 0;   // unsigned integers and bool
  int64_t i = 0;    // signed integers
  double f = 0;     // floats
  std::string_view str;
  // arrays
  GgufType elem_type = GgufType::U8;
  uint64_t count = 0;
  const uint8_t* elems = nullptr;            // numeric array elements (unaligned, little-endian)
  std::vector<std::string_view> strings;     // string array elements

  bool is_integer() const;
  bool is_float() const { return type == GgufType::F32 || type == GgufType::F64; }
  // Integer value of an integer or bool scalar (throws otherwise).
  int64_t as_int() const;
  double as_float() const;  // any numeric scalar
};

struct GgufTensorInfo {
  std::string name;
  std::vector<int64_t> ne;  // ggml order (ne[0] fastest)
  DType type = DType::F32;
  uint64_t offset = 0;      // absolute offset in the file
  uint64_t nbytes = 0;
};

class GgufFile {
 public:
  // Parses the header, metadata and tensor table of `path`. Throws Error naming the file on any inconsistency.
  explicit GgufFile(const std::string& path, FileAccess access = FileAccess::Map);
  // Parses an already mapped file (load/detect.cpp maps each model file once).
  explicit GgufFile(std::shared_ptr<MappedFile> file);
  // True if the file starts with the GGUF magic (cheap check for format detection).
  static bool sniff(const std::string& path);
  static bool sniff(const MappedFile& file);

  const std::string& path() const { return file_->path(); }
  uint32_t version() const { return version_; }
  uint64_t alignment() const { return alignment_; }
  const std::shared_ptr<MappedFile>& file() const { return file_; }

  const std::map<std::string, GgufValue, std::less<>>& metadata() const { return kv_; }
  const GgufValue* find(std::string_view key) const;
  bool has(std::string_view key) const { return find(key) != nullptr; }

  // Typed getters. The `required` forms throw Error("path: missing metadata key ...") when absent and
  // Error on a type mismatch; the optional forms return nullopt when absent.
  std::string get_string(std::string_view key) const;
  std::optional<std::string> get_string_opt(std::string_view key) const;
  int64_t get_int(std::string_view key) const;
  std::optional<int64_t> get_int_opt(std::string_view key) const;
  double get_float(std::string_view key) const;
  std::optional<double> get_float_opt(std::string_view key) const;
  std::optional<bool> get_bool_opt(std::string_view key) const;
  // Arrays (throw if absent or of another element type).
  const std::vector<std::string_view>& get_string_array(std::string_view key) const;
  std::vector<float> get_f32_array(std::string_view key) const;
  std::vector<int32_t> get_i32_array(std::string_view key) const;  // accepts any integer element type that fits

  const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }
  const GgufTensorInfo* find_tensor(std::string_view name) const;
  // A view of a tensor (throws Error if absent).
  TensorView tensor(std::string_view name) const;

 private:
  const GgufValue& require(std::string_view key) const;
  std::shared_ptr<MappedFile> file_;
  uint32_t version_ = 0;
  uint64_t alignment_ = 32;
  std::map<std::string, GgufValue, std::less<>> kv_;
  std::vector<GgufTensorInfo> tensors_;
  std::map<std::string, size_t, std::less<>> tensor_index_;
};

}  // namespace lmgen
