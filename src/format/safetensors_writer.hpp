// safetensors writer (the format is described in safetensors.hpp): tensors given as F32 values, stored as F32,
// F16 or BF16, in name order, header space-padded to a multiple of 8, as the Python library writes it. Used for
// LoRA adapters made by tools and tests.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "lmgen/tensor.hpp"

namespace lmgen {

struct SafetensorsEntry {
  std::string name;
  DType type = DType::F32;     // F32, F16 or BF16
  std::vector<int64_t> shape;  // row-major
  std::vector<float> values;   // n_elements values, converted to `type`
};

// Writes `path` (replacing it). Throws Error on I/O failure, a value count that does not match a shape, a type
// other than F32 / F16 / BF16, or a duplicate name.
void write_safetensors(const std::string& path, std::vector<SafetensorsEntry> tensors);

}  // namespace lmgen
