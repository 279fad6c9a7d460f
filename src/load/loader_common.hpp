// Shared helpers for the format loaders: turn a TensorView into a canonical Matrix/Vector with shape checks.
// (Internal to the library.)
#pragma once

#include <string>
#include <vector>

#include "lmgen/error.hpp"
#include "kernels/quant.hpp"
#include "lmgen/weights.hpp"

namespace lmgen {

// Checks `t` has shape `expected` (row-major) and returns it as a [rows, cols] Matrix view (1-D -> rows = 1).
inline Matrix as_matrix(const TensorView& t, const std::vector<int64_t>& expected, const std::string& file) {
  if (t.shape != expected)
    throw Error(file, "tensor '" + t.name + "': expected shape " + shape_to_string(expected) + ", found " +
                          t.shape_str());
  Matrix m;
  m.type = t.type;
  m.rows = expected.size() == 2 ? expected[0] : 1;
  m.cols = expected.back();
  m.row_stride = row_bytes(t.type, m.cols);
  if (m.row_stride * static_cast<size_t>(m.rows) != t.nbytes)
    throw Error(file, "tensor '" + t.name + "': " + std::to_string(t.nbytes) + " bytes do not match its shape");
  m.data = t.data;
  return m;
}

// Checks `t` is a vector of n elements and returns it as F32 (widened into an owned buffer if needed).
inline Vector as_vector(const TensorView& t, int64_t n, const std::string& file, Weights& w) {
  if (t.n_elements() != n || t.shape.size() != 1)
    throw Error(file, "tensor '" + t.name + "': expected shape [" + std::to_string(n) + "], found " + t.shape_str());
  if (t.type == DType::F32 && reinterpret_cast<uintptr_t>(t.data) % alignof(float) == 0)
    return Vector{reinterpret_cast<const float*>(t.data), n};
  std::vector<float> v(static_cast<size_t>(n));
  dequantize_row(t.type, t.data, v.data(), n);
  return w.own_vector(std::move(v));
}

}  // namespace lmgen
