// Matrix products of a weight Matrix (any file type) with F32 activations.
#pragma once

#include <cstdint>

#include "kernels/threads.hpp"
#include "lmgen/weights.hpp"

namespace lmgen {

// Y[t, r] = sum_c W[r, c] * X[t, c] for t < n_tok, r < W.rows.
//   X: [n_tok, W.cols] F32 row-major; Y: [n_tok, W.rows] F32 row-major.
// Each Y element is reduced in one fixed order that depends neither on n_tok nor on the number of threads, so a
// token's result is bit-identical whether it is computed alone (generation) or in a batch (prompt), on any -t.
void matmul(const Matrix& W, const float* X, int64_t n_tok, float* Y, ThreadPool& pool);

// Row `r` of W decoded to F32 (embedding lookup).
void matrix_row_f32(const Matrix& W, int64_t r, float* out);

}  // namespace lmgen
