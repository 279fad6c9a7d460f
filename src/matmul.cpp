// Matrix products Y = X W^T for weights in any file type, parallel over output rows.
//
// Quantized weights: each activation row is encoded once per call to the weight type's 8-bit activation type
// (quant.hpp), then every output element is one vec_dot (integer block sums, float accumulation in a fixed order).
// Batches are tiled: a tile of tokens whose activations fit in L2 is multiplied with each weight row while that row
// is in L1, through vec_dot_multi, which gives results bit-identical to single-token vec_dot. So Y does not depend
// on n_tok or the thread count.
#include "lmgen/matmul.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include "lmgen/error.hpp"
#include "lmgen/quant.hpp"

namespace lmgen {

namespace {
constexpr size_t kActTileBytes = 256 * 1024;  // activation bytes of one token tile (kept in L2)
constexpr int kMaxTileTokens = 64;
constexpr int64_t kSerialWork = 64 * 1024;    // below this many weight elements x tokens, stay on one thread
}  // namespace

void matmul(const Matrix& W, const float* X, int64_t n_tok, float* Y, ThreadPool& pool) {
  if (n_tok <= 0 || W.rows <= 0) return;
  if (W.empty()) throw Error("matmul: weight matrix has no data");
  const size_t wbytes = row_bytes(W.type, W.cols);
  if (W.rows > 1 && W.row_stride < wbytes)
    throw Error("matmul: row stride " + std::to_string(W.row_stride) + " is smaller than a " + dtype_name(W.type) +
                " row of " + std::to_string(W.cols) + " elements");
  const DType at = vec_dot_type(W.type);
  const size_t abytes = row_bytes(at, W.cols);
  const int64_t cols = W.cols, rows = W.rows;

  const uint8_t* act = reinterpret_cast<const uint8_t*>(X);
  std::vector<uint8_t> buf;
  if (at != DType::F32) {
    buf.resize(abytes * static_cast<size_t>(n_tok));
    uint8_t* dst = buf.data();
    auto enc = [&](int64_t t0, int64_t t1) {
      for (int64_t t = t0; t < t1; ++t) quantize_activation_row(at, X + t * cols, dst + t * abytes, cols);
    };
    if (n_tok >= 8) pool.parallel_for(n_tok, 1, enc);
    else enc(0, n_tok);
    act = buf.data();
  }

  const int tile = static_cast<int>(
      std::clamp<int64_t>(static_cast<int64_t>(kActTileBytes / std::max<size_t>(abytes, 1)), 1, kMaxTileTokens));
  auto work = [&](int64_t r0, int64_t r1) {
    float tmp[kMaxTileTokens];
    for (int64_t t0 = 0; t0 < n_tok; t0 += tile) {
      const int nt = static_cast<int>(std::min<int64_t>(tile, n_tok - t0));
      const uint8_t* a = act + t0 * abytes;
      if (nt == 1) {
        float* y = Y + t0 * rows;
        for (int64_t r = r0; r < r1; ++r) y[r] = vec_dot(W.type, cols, W.row(r), a);
        continue;
      }
      for (int64_t r = r0; r < r1; ++r) {
        vec_dot_multi(W.type, cols, W.row(r), a, abytes, nt, tmp);
        for (int k = 0; k < nt; ++k) Y[(t0 + k) * rows + r] = tmp[k];
      }
    }
  };
  if (rows * cols * n_tok < kSerialWork || pool.size() == 1) {
    work(0, rows);
  } else {
    pool.parallel_for(rows, 16, work);
  }
}

void matrix_row_f32(const Matrix& W, int64_t r, float* out) {
  if (W.empty()) throw Error("matrix_row_f32: matrix has no data");
  if (r < 0 || r >= W.rows)
    throw Error("matrix_row_f32: row " + std::to_string(r) + " out of range [0, " + std::to_string(W.rows) + ")");
  dequantize_row(W.type, W.row(r), out, W.cols);
}

}  // namespace lmgen
