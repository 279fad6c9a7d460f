// Decoding speed of Model::eval_batch by the number of sequences per step: what batching across clients buys
// before any server overhead. Each of N sequences gets a 32-token prompt, then STEPS steps of one token each.
//   cmake --build build --target bench_eval_batch
//   build/bench_eval_batch MODEL.gguf [THREADS=2] [STEPS=64] [ROWS=1,2,4,8]
// Prints one line per N: steps/s and tokens/s (N x steps/s).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include "lmgen/error.hpp"
#include "lmgen/loader.hpp"
#include "lmgen/model.hpp"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: bench_eval_batch MODEL.gguf [THREADS] [STEPS] [ROWS,...]\n");
    return 2;
  }
  try {
    const int threads = argc > 2 ? std::atoi(argv[2]) : 2;
    const int steps = argc > 3 ? std::atoi(argv[3]) : 64;
    std::vector<int> rows_list;
    std::stringstream ss(argc > 4 ? argv[4] : "1,2,4,8");
    for (std::string item; std::getline(ss, item, ',');) rows_list.push_back(std::atoi(item.c_str()));
    const lmgen::LoadedModel lm = lmgen::load_model(argv[1]);
    for (int n : rows_list) {
      lmgen::Model m(lm.model, lmgen::ModelOptions{.n_ctx = 512, .n_threads = threads, .n_batch = 64, .n_seq = n});
      std::vector<float> logits;
      const std::vector<int32_t> prompt(32, 200), next(static_cast<size_t>(n), 100);
      for (int s = 0; s < n; ++s) m.eval_batch(std::vector<lmgen::SeqChunk>{{s, prompt, false}}, logits);
      const auto t0 = std::chrono::steady_clock::now();
      for (int i = 0; i < steps; ++i) {
        std::vector<lmgen::SeqChunk> chunks;
        for (int s = 0; s < n; ++s) chunks.push_back({s, std::span<const int32_t>(&next[static_cast<size_t>(s)], 1), false});
        m.eval_batch(chunks, logits);
      }
      const double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      std::printf("sequences %d: %.1f steps/s, %.1f tok/s\n", n, steps / sec, steps * n / sec);
    }
  } catch (const lmgen::Error& e) {
    std::fprintf(stderr, "bench_eval_batch: %s\n", e.what());
    return 1;
  }
  return 0;
}
