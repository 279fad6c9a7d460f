// ThreadPool — a fixed set of worker threads, created once, that split loops by index range.
//
// Determinism rule: work is split into index ranges, and every output element is computed entirely by one task in
// a fixed order, so results are bit-identical for any number of threads.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

namespace lmgen {

class ThreadPool {
 public:
  // n_threads <= 0 means "physical cores".
  explicit ThreadPool(int n_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const;
  // Calls fn(begin, end) on disjoint ranges covering [0, n), on up to size() threads (the caller is one of them),
  // and returns when all are done. Ranges are multiples of `grain` (except the last); there are at most size() of
  // them, fixed by n, grain and size() only. An idle thread (the caller too) claims the next unstarted range, so
  // a worker that is slow to wake does not stall the call. An exception thrown by fn is rethrown here (the first
  // one). One caller at a time: fn must not call parallel_for on the same pool.
  void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn);

  static int physical_cores();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace lmgen
