// ThreadPool: coverage and shape of the ranges, repeated use, exceptions.
#include <sched.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

#include "kernels/threads.hpp"

namespace {

TEST(ThreadPool, SizeAndPhysicalCores) {
  EXPECT_GE(lmgen::ThreadPool::physical_cores(), 1);
  EXPECT_LE(lmgen::ThreadPool::physical_cores(), static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
  lmgen::ThreadPool p3(3);
  EXPECT_EQ(p3.size(), 3);
  lmgen::ThreadPool pd(0);
  EXPECT_EQ(pd.size(), lmgen::ThreadPool::physical_cores());
}

TEST(ThreadPool, RangesCoverEachIndexOnceInGrainMultiples) {
  for (int nt : {1, 2, 3, 5}) {
    lmgen::ThreadPool pool(nt);
    for (int64_t n : {1, 2, 7, 16, 100, 1001}) {
      for (int64_t grain : {1, 4, 16, 2000}) {
        std::vector<int> hits(static_cast<size_t>(n), 0);
        std::mutex m;
        std::vector<std::pair<int64_t, int64_t>> ranges;
        pool.parallel_for(n, grain, [&](int64_t b, int64_t e) {
          for (int64_t i = b; i < e; ++i) hits[i]++;
          std::lock_guard<std::mutex> lock(m);
          ranges.push_back({b, e});
        });
        for (int64_t i = 0; i < n; ++i) ASSERT_EQ(hits[i], 1) << "n=" << n << " grain=" << grain << " i=" << i;
        EXPECT_LE(ranges.size(), static_cast<size_t>(nt));
        for (auto [b, e] : ranges) {
          EXPECT_LT(b, e);
          EXPECT_EQ(b % grain, 0);
          if (e != n) {
            EXPECT_EQ(e % grain, 0);
          }
        }
      }
    }
  }
}

TEST(ThreadPool, UsesSeveralThreadsAndManyCallsStayCorrect) {
  lmgen::ThreadPool pool(3);
  std::mutex m;
  std::vector<std::thread::id> ids;
  // Each task waits (bounded) until all three have started, so they must run on three different threads.
  std::atomic<int> started{0};
  pool.parallel_for(3, 1, [&](int64_t, int64_t) {
    started++;
    const auto t0 = std::chrono::steady_clock::now();
    while (started.load() < 3 && std::chrono::steady_clock::now() - t0 < std::chrono::seconds(10))
      std::this_thread::yield();
    std::lock_guard<std::mutex> lock(m);
    ids.push_back(std::this_thread::get_id());
  });
  ASSERT_EQ(ids.size(), 3u);
  EXPECT_NE(ids[0], ids[1]);
  EXPECT_NE(ids[1], ids[2]);
  EXPECT_NE(ids[0], ids[2]);

  std::atomic<int64_t> total{0};
  for (int it = 0; it < 3000; ++it)
    pool.parallel_for(64, 1, [&](int64_t b, int64_t e) {
      int64_t s = 0;
      for (int64_t i = b; i < e; ++i) s += i;
      total += s;
    });
  EXPECT_EQ(total.load(), 3000LL * (63 * 64 / 2));
}

TEST(ThreadPool, PropagatesExceptionsAndRecovers) {
  lmgen::ThreadPool pool(2);
  EXPECT_THROW(pool.parallel_for(10, 1,
                                 [](int64_t b, int64_t) {
                                   if (b > 0) throw std::runtime_error("worker failure");
                                 }),
               std::runtime_error);
  EXPECT_THROW(pool.parallel_for(10, 1, [](int64_t, int64_t) { throw std::runtime_error("all fail"); }),
               std::runtime_error);
  int64_t count = 0;
  std::mutex m;
  pool.parallel_for(10, 1, [&](int64_t b, int64_t e) {
    std::lock_guard<std::mutex> lock(m);
    count += e - b;
  });
  EXPECT_EQ(count, 10);
}

TEST(ThreadPool, EmptyRangeDoesNothing) {
  lmgen::ThreadPool pool(2);
  bool called = false;
  pool.parallel_for(0, 1, [&](int64_t, int64_t) { called = true; });
  EXPECT_FALSE(called);
}

}  // namespace

// The default thread count follows the affinity mask (taskset, a container's cpuset): pinned to one CPU, one core.
TEST(ThreadPool, PhysicalCoresRespectsTheAffinityMask) {
  cpu_set_t saved;
  ASSERT_EQ(sched_getaffinity(0, sizeof saved, &saved), 0);
  int first = -1;
  for (int c = 0; c < CPU_SETSIZE && first < 0; ++c)
    if (CPU_ISSET(c, &saved)) first = c;
  ASSERT_GE(first, 0);
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(first, &one);
  ASSERT_EQ(sched_setaffinity(0, sizeof one, &one), 0);
  const int pinned = lmgen::ThreadPool::physical_cores();
  ASSERT_EQ(sched_setaffinity(0, sizeof saved, &saved), 0);
  EXPECT_EQ(pinned, 1);
  EXPECT_LE(lmgen::ThreadPool::physical_cores(), CPU_COUNT(&saved));
}
