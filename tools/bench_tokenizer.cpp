// Tokenizer benchmark: load time, encode and decode throughput of lmgen's tokenizers on a text file.
//
//   bench_tokenizer TOKENIZER TEXT [REPS]
//     TOKENIZER  a GGUF file, a tokenizer.json, or a directory holding one
//     TEXT       a UTF-8 text file (e.g. tinyshakespeare input.txt)
//     REPS       encode repetitions (default 5)
//
// Prints one line per figure, as wall time and as process CPU time (the CPU figure is the one to compare on a busy
// machine), and the page faults of the cold encode. "encode cold" is the first encode on a freshly loaded tokenizer
// (empty word cache); "encode warm" is the best of the following repetitions. A fresh tokenizer is loaded for the cold figure of each
// run so that the cache does not carry over.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "lmgen/error.hpp"
#include "lmgen/tokenizer.hpp"

namespace {
double now_s() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}
double cpu_s() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}
struct Timer {
  double w0 = now_s(), c0 = cpu_s();
  double wall() const { return now_s() - w0; }
  double cpu() const { return cpu_s() - c0; }
};
}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s TOKENIZER TEXT [REPS]\n", argv[0]);
    return 2;
  }
  const std::string tok_path = argv[1], text_path = argv[2];
  const int reps = argc > 3 ? std::max(1, std::atoi(argv[3])) : 5;
  try {
    std::ifstream in(text_path, std::ios::binary);
    if (!in) throw lmgen::Error(text_path, "cannot open");
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string text = ss.str();
    const double mb = static_cast<double>(text.size()) / 1e6;

    Timer tl;
    auto tok = lmgen::load_tokenizer(tok_path);
    const double load_w = tl.wall(), load_c = tl.cpu();

    lmgen::EncodeOptions opt{.add_special = false, .parse_special = true};
    struct rusage ru0, ru1;
    getrusage(RUSAGE_SELF, &ru0);
    Timer te;
    std::vector<int32_t> ids = tok->encode(text, opt);
    const double cold_w = te.wall(), cold_c = te.cpu();
    getrusage(RUSAGE_SELF, &ru1);
    double warm_w = 1e30, warm_c = 1e30;
    for (int r = 1; r < reps; ++r) {
      Timer tw;
      auto again = tok->encode(text, opt);
      warm_w = std::min(warm_w, tw.wall());
      warm_c = std::min(warm_c, tw.cpu());
      if (again != ids) throw lmgen::Error("encode is not deterministic");
    }
    double dec_w = 1e30, dec_c = 1e30;
    std::string back;
    for (int r = 0; r < std::max(1, reps / 2); ++r) {
      Timer td;
      back = tok->decode(ids);
      dec_w = std::min(dec_w, td.wall());
      dec_c = std::min(dec_c, td.cpu());
    }
    auto line = [&](const char* what, double w, double c) {
      std::printf("%-12s wall %8.1f ms %8.2f MB/s | cpu %8.1f ms %8.2f MB/s\n", what, w * 1e3, mb / w, c * 1e3, mb / c);
    };
    std::printf("tokenizer    %s\n", tok_path.c_str());
    std::printf("text         %s (%.3f MB)\n", text_path.c_str(), mb);
    std::printf("load         wall %8.1f ms             | cpu %8.1f ms\n", load_w * 1e3, load_c * 1e3);
    std::printf("tokens       %zu\n", ids.size());
    line("encode cold", cold_w, cold_c);
    // Fresh pages the first encode touched (each a kernel page fault, not counted by instruction profilers).
    std::printf("cold faults  %ld\n", ru1.ru_minflt - ru0.ru_minflt);
    if (reps > 1) line("encode warm", warm_w, warm_c);
    line("decode", dec_w, dec_c);
    std::printf("round-trip   %s\n", back == text ? "exact" : "differs");
  } catch (const lmgen::Error& e) {
    std::fprintf(stderr, "bench_tokenizer: %s\n", e.what());
    return 1;
  }
  return 0;
}
