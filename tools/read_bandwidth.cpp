// read_bandwidth — this machine's streaming read bandwidth, the ceiling of generation from F32 / F16 weights (each
// token reads every weight once, from DRAM: BENCHMARKS.md compares the engines' weight bytes x tok/s with it).
//
//   read_bandwidth [MiB] [passes]      (defaults: 512 MiB, 10 passes)
//
// Allocates MiB of memory (2 MiB aligned, advised MADV_HUGEPAGE as lmgen's weight map is), writes it once, then
// reads all of it `passes` times at 1 and then 2 threads (each thread its own contiguous half, as the matmul splits
// rows), summing 256-bit vectors into four accumulators, and prints the best and the median pass in GB/s (10^9
// bytes per second). Pick MiB well above the L3 cache (32 MiB on the Zen 5 machine of BENCHMARKS.md), or the figure
// is the cache's.
//
// Build: cmake --build build --target read_bandwidth
#include <sys/mman.h>

#include <algorithm>
#include <barrier>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

#if defined(__AVX2__)
#include <immintrin.h>
#endif

namespace {

double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

// Reads [p, p + bytes) (bytes a multiple of 128) and returns a value that depends on every byte, so the loads stay.
uint64_t read_range(const uint8_t* p, size_t bytes) {
#if defined(__AVX2__)
  __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
  for (size_t o = 0; o < bytes; o += 128) {
    a0 = _mm256_xor_si256(a0, _mm256_load_si256(reinterpret_cast<const __m256i*>(p + o)));
    a1 = _mm256_xor_si256(a1, _mm256_load_si256(reinterpret_cast<const __m256i*>(p + o + 32)));
    a2 = _mm256_xor_si256(a2, _mm256_load_si256(reinterpret_cast<const __m256i*>(p + o + 64)));
    a3 = _mm256_xor_si256(a3, _mm256_load_si256(reinterpret_cast<const __m256i*>(p + o + 96)));
  }
  const __m256i a = _mm256_xor_si256(_mm256_xor_si256(a0, a1), _mm256_xor_si256(a2, a3));
  alignas(32) uint64_t lanes[4];
  _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), a);
  return lanes[0] ^ lanes[1] ^ lanes[2] ^ lanes[3];
#else
  uint64_t acc[4] = {0, 0, 0, 0};
  for (size_t o = 0; o < bytes; o += 32)
    for (int k = 0; k < 4; ++k) {
      uint64_t v;
      std::memcpy(&v, p + o + 8 * k, 8);
      acc[k] ^= v;
    }
  return acc[0] ^ acc[1] ^ acc[2] ^ acc[3];
#endif
}

struct Result {
  double best, median;
};

// `passes` reads of the whole buffer by n threads, each its own contiguous share; GB/s per pass.
Result measure(const uint8_t* buf, size_t bytes, int n, int passes, uint64_t& sink) {
  std::vector<double> secs;
  std::vector<uint64_t> sums(static_cast<size_t>(n));
  double t0 = 0;
  auto lap = [&]() noexcept { secs.push_back(now() - t0); };
  std::barrier<> start(n);
  std::barrier<decltype(lap)> done(n, lap);
  const size_t share = bytes / static_cast<size_t>(n) / 128 * 128;
  auto worker = [&](int k) {
    for (int pass = 0; pass < passes; ++pass) {
      start.arrive_and_wait();
      if (k == 0) t0 = now();  // the others may start a moment earlier: a pass counts the slowest thread
      sums[static_cast<size_t>(k)] += read_range(buf + static_cast<size_t>(k) * share, share);
      done.arrive_and_wait();
    }
  };
  std::vector<std::thread> threads;
  for (int k = 1; k < n; ++k) threads.emplace_back(worker, k);
  worker(0);
  for (auto& t : threads) t.join();
  for (uint64_t s : sums) sink += s;
  std::vector<double> gbs;
  for (double s : secs) gbs.push_back(static_cast<double>(share * static_cast<size_t>(n)) / s / 1e9);
  std::sort(gbs.begin(), gbs.end());
  return {gbs.back(), gbs[gbs.size() / 2]};
}

}  // namespace

int main(int argc, char** argv) {
  const long mib = argc > 1 ? std::atol(argv[1]) : 512;
  const int passes = argc > 2 ? std::atoi(argv[2]) : 10;
  if (argc > 3 || mib <= 0 || passes <= 0) {
    std::fprintf(stderr, "usage: read_bandwidth [MiB > 0] [passes > 0]\n");
    return 2;
  }
  const size_t huge = size_t{2} << 20;
  const size_t bytes = static_cast<size_t>(mib) << 20;
  void* mem = std::aligned_alloc(huge, (bytes + huge - 1) / huge * huge);
  if (mem == nullptr) {
    std::fprintf(stderr, "read_bandwidth: cannot allocate %ld MiB\n", mib);
    return 1;
  }
  madvise(mem, bytes, MADV_HUGEPAGE);  // a hint: without transparent huge pages the probe runs on 4 KiB pages
  auto* buf = static_cast<uint8_t*>(mem);
  uint64_t x = 0x9E3779B97F4A7C15ull;  // xorshift64: data the reads cannot cancel out
  for (size_t i = 0; i + 8 <= bytes; i += 8) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    std::memcpy(buf + i, &x, 8);
  }
  uint64_t sink = 0;
  std::printf("streaming read of %ld MiB, %d passes per thread count\n", mib, passes);
  for (int n = 1; n <= 2; ++n) {
    const Result r = measure(buf, bytes, n, passes, sink);
    std::printf("threads %d: best %.2f GB/s, median %.2f GB/s\n", n, r.best, r.median);
  }
  std::fprintf(stderr, "(checksum %016llx)\n", static_cast<unsigned long long>(sink));
  std::free(mem);
  return 0;
}
