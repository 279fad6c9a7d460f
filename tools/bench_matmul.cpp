// bench_matmul — throughput of lmgen::matmul per weight type.
//
//   matvec (n_tok = 1, generation): weight GB/s, cycling through enough copies of the matrix (> L3) that every
//   call streams its weights from DRAM, as a real model's layers do;
//   batch (n_tok = 128, prompt processing): GFLOP/s (2 * rows * cols * n_tok per call).
//
// Build (not part of CMake):
//   g++ -O3 -march=native -std=c++20 -Iinclude tools/bench_matmul.cpp build/liblmgen.a -lpthread \
//       -o /tmp/bench_matmul
// Usage: bench_matmul [threads] [type,type,...]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <random>
#include <string>
#include <vector>

#include "kernels/matmul.hpp"
#include "kernels/quant.hpp"
#include "kernels/threads.hpp"

using lmgen::DType;

namespace {

// Offsets of fp16 scale fields within a block (so random bytes decode to sane values).
std::vector<int> half_fields(DType t) {
  switch (t) {
    case DType::Q4_0: case DType::Q5_0: case DType::Q8_0: return {0};
    case DType::Q4_1: case DType::Q5_1: case DType::Q4_K: case DType::Q5_K: return {0, 2};
    case DType::Q6_K: return {208};
    default: return {};
  }
}

std::vector<uint8_t> make_weights(DType t, int64_t rows, int64_t cols, std::mt19937& rng) {
  const size_t rb = lmgen::row_bytes(t, cols);
  std::vector<uint8_t> w(rb * static_cast<size_t>(rows));
  if (t == DType::F32 || t == DType::F16 || t == DType::BF16) {
    std::normal_distribution<float> nd(0.0f, 0.05f);
    std::vector<float> row(static_cast<size_t>(cols));
    for (int64_t r = 0; r < rows; ++r) {
      for (auto& v : row) v = nd(rng);
      lmgen::quantize_row(t, row.data(), w.data() + r * rb, cols);
    }
    return w;
  }
  for (auto& b : w) b = static_cast<uint8_t>(rng());
  const int64_t ts = lmgen::dtype_traits(t).type_size;
  for (size_t off = 0; off < w.size(); off += static_cast<size_t>(ts))
    for (int f : half_fields(t)) {
      const uint16_t h = lmgen::fp32_to_fp16(0.001f);
      std::memcpy(w.data() + off + f, &h, 2);
    }
  return w;
}

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
// CPU time of the whole process: on a loaded machine, bytes / (cpu / threads) estimates the unloaded speed.
double cpu_now() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

}  // namespace

int main(int argc, char** argv) {
  const int threads = argc > 1 ? std::atoi(argv[1]) : 0;
  std::vector<DType> types = {DType::F32,  DType::F16,  DType::BF16, DType::Q8_0, DType::Q4_0, DType::Q4_1,
                              DType::Q5_0, DType::Q5_1, DType::Q4_K, DType::Q5_K, DType::Q6_K};
  if (argc > 2) {
    types.clear();
    std::string s = argv[2];
    size_t p = 0;
    while (p <= s.size()) {
      size_t q = s.find(',', p);
      if (q == std::string::npos) q = s.size();
      types.push_back(lmgen::dtype_from_name(s.substr(p, q - p)));
      p = q + 1;
    }
  }
  lmgen::ThreadPool pool(threads);
  std::printf("kernels: %s, threads: %d\n", lmgen::vec_dot_isa(), pool.size());
  {  // cost of one parallel_for with trivial work, and of a tiny serial matmul (per-call overhead)
    const int iters = 20000;
    double t0 = now(), c0 = cpu_now();
    for (int i = 0; i < iters; ++i) pool.parallel_for(pool.size(), 1, [](int64_t, int64_t) {});
    std::printf("parallel_for overhead: %.2f us wall, %.2f us cpu/thread\n", (now() - t0) / iters * 1e6,
                (cpu_now() - c0) / pool.size() / iters * 1e6);
    std::mt19937 r0(1);
    auto w = make_weights(DType::Q8_0, 64, 64, r0);
    lmgen::Matrix m{DType::Q8_0, 64, 64, w.data(), lmgen::row_bytes(DType::Q8_0, 64)};
    std::vector<float> x(64, 0.5f), y(64);
    t0 = now();
    c0 = cpu_now();
    for (int i = 0; i < iters; ++i) lmgen::matmul(m, x.data(), 1, y.data(), pool);
    std::printf("matmul q8_0 64x64 n_tok=1: %.2f us wall, %.2f us cpu\n", (now() - t0) / iters * 1e6,
                (cpu_now() - c0) / iters * 1e6);
  }
  struct Shape {
    int64_t rows, cols;
  };
  // Layers and lm_head of a ~100M model, then the lm_heads of the tiny fixture models (short rows).
  std::vector<Shape> shapes = {{1536, 576}, {576, 1536}, {32000, 576}, {32000, 256}, {32000, 64}};
  if (const char* e = std::getenv("BENCH_SHAPES"); e && *e) {  // e.g. BENCH_SHAPES=32000x64,512x512
    shapes.clear();
    for (const char* p = e; *p;) {
      char* end;
      const long long r = std::strtoll(p, &end, 10);
      const long long c = std::strtoll(end + 1, &end, 10);
      shapes.push_back({r, c});
      p = *end ? end + 1 : end;
    }
  }
  std::mt19937 rng(42);
  std::printf("(cpu: the same figures from process CPU time / threads, i.e. what an unloaded machine would show)\n");
  std::printf("%-5s %-11s %7s %10s %7s %7s | %11s %8s %8s\n", "type", "shape", "MB", "matvec us", "GB/s",
              "cpu", "batch128 ms", "GFLOP/s", "cpu");
  for (DType t : types) {
    for (Shape sh : shapes) {
      // K-quant rows must be whole 256-element super-blocks: 576 -> 512.
      const int64_t bs = lmgen::dtype_traits(t).block_size;
      sh.rows = sh.rows / bs * bs == sh.rows || sh.rows > 4096 ? sh.rows : sh.rows / bs * bs;
      sh.cols = sh.cols / bs * bs;
      if (sh.cols == 0) continue;
      const size_t mbytes = lmgen::row_bytes(t, sh.cols) * static_cast<size_t>(sh.rows);
      // Enough distinct copies that the set is far larger than the L3 cache (32 MB here).
      // (BENCH_HOT=1: a single copy, i.e. weights from the caches, to see the kernels' compute cost.)
      const bool hot = std::getenv("BENCH_HOT") != nullptr;
      const int copies = hot ? 1 : static_cast<int>(std::max<size_t>(2, (256u << 20) / mbytes));
      std::vector<std::vector<uint8_t>> ws;
      ws.push_back(make_weights(t, sh.rows, sh.cols, rng));
      for (int c = 1; c < copies; ++c) ws.push_back(ws[0]);
      std::vector<lmgen::Matrix> ms(ws.size());
      for (size_t c = 0; c < ws.size(); ++c)
        ms[c] = lmgen::Matrix{t, sh.rows, sh.cols, ws[c].data(), lmgen::row_bytes(t, sh.cols)};
      std::normal_distribution<float> nd(0.0f, 1.0f);
      const int64_t nb = 128;
      std::vector<float> x(static_cast<size_t>(nb * sh.cols)), y(static_cast<size_t>(nb * sh.rows));
      for (auto& v : x) v = nd(rng);

      // matvec: stream through the copies, several passes, best pass.
      double best = 1e30, cbest = 1e30;
      for (int pass = 0; pass < (hot ? 50 : 3); ++pass) {
        const double t0 = now(), c0 = cpu_now();
        for (auto& m : ms) lmgen::matmul(m, x.data(), 1, y.data(), pool);
        best = std::min(best, (now() - t0) / static_cast<double>(ms.size()));
        cbest = std::min(cbest, (cpu_now() - c0) / pool.size() / static_cast<double>(ms.size()));
      }
      // batch of 128 tokens on one copy (its weights are re-read once per token tile).
      double bbest = 1e30, cbbest = 1e30;
      for (int pass = 0; pass < 12; ++pass) {
        const double t0 = now(), c0 = cpu_now();
        lmgen::matmul(ms[pass % ms.size()], x.data(), nb, y.data(), pool);
        bbest = std::min(bbest, now() - t0);
        cbbest = std::min(cbbest, (cpu_now() - c0) / pool.size());
      }
      char shape[32];
      std::snprintf(shape, sizeof shape, "%lldx%lld", static_cast<long long>(sh.rows),
                    static_cast<long long>(sh.cols));
      const double flop = 2.0 * static_cast<double>(sh.rows * sh.cols * nb);
      std::printf("%-5s %-11s %7.2f %10.1f %7.2f %7.2f | %11.2f %8.1f %8.1f\n", lmgen::dtype_name(t), shape,
                  mbytes / 1e6, best * 1e6, mbytes / best / 1e9, mbytes / cbest / 1e9, bbest * 1e3, flop / bbest / 1e9,
                  flop / cbbest / 1e9);
      std::fflush(stdout);
    }
  }
  return 0;
}
