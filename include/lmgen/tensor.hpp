// Tensor element types and read-only views of tensor data.
//
// The numbering of DType follows ggml's type ids, so a GGUF file's type field maps onto it directly.
// Quantized types store blocks of `block_size` elements in `type_size` bytes; a row of n elements (n a multiple of
// block_size) takes n / block_size * type_size bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace lmgen {

enum class DType : uint32_t {
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q4_1 = 3,
  Q5_0 = 6,
  Q5_1 = 7,
  Q8_0 = 8,
  Q8_1 = 9,
  Q2_K = 10,
  Q3_K = 11,
  Q4_K = 12,
  Q5_K = 13,
  Q6_K = 14,
  Q8_K = 15,
  IQ4_NL = 20,
  IQ3_S = 21,
  IQ4_XS = 23,
  BF16 = 30,
};

struct TypeTraits {
  const char* name;   // "q4_0", "f32", ... (as llama.cpp names them)
  int64_t block_size; // elements per block (1 for plain floats)
  int64_t type_size;  // bytes per block
};

// True when lmgen knows the ggml type id (a DType value); dtype_traits throws Error for one it does not.
bool dtype_known(uint32_t ggml_type);
const TypeTraits& dtype_traits(DType t);
inline const char* dtype_name(DType t) { return dtype_traits(t).name; }
// For a ggml type id lmgen does not run: "type IQ2_XXS (ggml id 16), which lmgen does not support: use a Q2_K file
// of the model instead" (ggml's name where the id is one of ggml's, and the nearest file type lmgen runs).
std::string dtype_unsupported_message(uint32_t ggml_type);
// Parses "q8_0", "F16", ... Throws UsageError for an unknown name.
DType dtype_from_name(std::string_view name);

// Bytes of a row of `n` elements; throws Error if n is not a multiple of the block size.
size_t row_bytes(DType t, int64_t n);

// A view of one tensor's bytes inside a mapped file (or an owned buffer), with its shape.
// `shape` is in row-major (numpy / PyTorch) order: a Linear weight [out, in] has shape {out, in} and each of its
// `out` rows is `in` contiguous elements. (GGUF stores ne in the reverse order; the reader converts.)
struct TensorView {
  std::string name;
  DType type = DType::F32;
  std::vector<int64_t> shape;
  const uint8_t* data = nullptr;
  size_t nbytes = 0;

  int64_t n_elements() const {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
  }
  std::string shape_str() const;  // "[32000, 64]"
};

std::string shape_to_string(const std::vector<int64_t>& shape);

// IEEE half and bfloat16 conversions (exact; round-to-nearest-even for float -> half/bf16).
float fp16_to_fp32(uint16_t h);
uint16_t fp32_to_fp16(float f);
inline float bf16_to_fp32(uint16_t b) {
  uint32_t u = static_cast<uint32_t>(b) << 16;
  float f;
  __builtin_memcpy(&f, &u, 4);
  return f;
}
uint16_t fp32_to_bf16(float f);

}  // namespace lmgen
