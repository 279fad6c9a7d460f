// Matrix products Y = X W^T for weights in any file type, parallel over output rows.
//
// Quantized weights: each activation row is encoded once per call to the weight type's 8-bit activation type
// (quant.hpp), then every output element is one vec_dot (integer block sums, float accumulation in a fixed order).
// Batches are tiled: a tile of tokens whose activations fit in L2 goes through vec_dot_rows, which keeps a block of
// weight rows in L1 while groups of 4 tokens stream past it; its results are bit-identical to single-token
// vec_dot. So Y depends neither on n_tok nor on the thread count.
#include "kernels/matmul.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include "lmgen/error.hpp"
#include "kernels/quant.hpp"

namespace lmgen {

namespace {
constexpr size_t kActTileBytes = 512 * 1024;  // activation bytes of one token tile (kept in L2)
constexpr size_t kSerialBytes = 48 * 1024;    // below this many weight bytes x tokens, stay on one thread
constexpr size_t kStackAct = 16 * 1024;       // encoded activations up to this size live on the stack

struct Job {
  const Matrix* W;
  const uint8_t* act;
  size_t abytes;
  int64_t n_tok;
  int64_t tile;
  float* Y;
};

void run_rows(const Job& j, int64_t r0, int64_t r1) {
  const Matrix& W = *j.W;
  for (int64_t t0 = 0; t0 < j.n_tok; t0 += j.tile) {
    const int nt = static_cast<int>(std::min(j.tile, j.n_tok - t0));
    vec_dot_rows(W.type, W.cols, W.row(r0), W.row_stride, r1 - r0, j.act + t0 * j.abytes, j.abytes, nt,
                 j.Y + t0 * W.rows + r0, static_cast<size_t>(W.rows));
  }
}
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
  const bool serial = wbytes * static_cast<size_t>(rows * n_tok) < kSerialBytes || pool.size() == 1;

  Job job{&W, reinterpret_cast<const uint8_t*>(X), abytes, n_tok, 1, Y};
  alignas(64) uint8_t stack_buf[kStackAct];
  std::vector<uint8_t> heap_buf;
  if (at != DType::F32) {
    const size_t need = abytes * static_cast<size_t>(n_tok);
    uint8_t* dst = stack_buf;
    if (need > kStackAct) {
      heap_buf.resize(need);
      dst = heap_buf.data();
    }
    auto enc = [&](int64_t t0, int64_t t1) {
      for (int64_t t = t0; t < t1; ++t) quantize_activation_row(at, X + t * cols, dst + t * abytes, cols);
    };
    if (n_tok >= 8 && !serial) pool.parallel_for(n_tok, 1, enc);
    else enc(0, n_tok);
    job.act = dst;
  }
  job.tile = std::clamp<int64_t>(static_cast<int64_t>(kActTileBytes / std::max<size_t>(abytes, 1)), 1, n_tok);

  if (serial) {
    run_rows(job, 0, rows);
  } else {
    const Job* jp = &job;  // one pointer: the std::function needs no allocation
    pool.parallel_for(rows, 16, [jp](int64_t r0, int64_t r1) { run_rows(*jp, r0, r1); });
  }
}

void matrix_row_f32(const Matrix& W, int64_t r, float* out) {
  if (W.empty()) throw Error("matrix_row_f32: matrix has no data");
  if (r < 0 || r >= W.rows)
    throw Error("matrix_row_f32: row " + std::to_string(r) + " out of range [0, " + std::to_string(W.rows) + ")");
  dequantize_row(W.type, W.row(r), out, W.cols);
}

}  // namespace lmgen
