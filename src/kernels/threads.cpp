// ThreadPool: persistent workers woken by a generation counter (spin briefly, then futex-wait via
// std::atomic::wait), so one parallel_for costs a few microseconds and never creates threads. Tasks (one contiguous
// range per thread) are claimed by whoever is ready first, the caller included.
#include "kernels/threads.hpp"

#include <sched.h>

#include <cstdlib>
#include <atomic>
#include <chrono>
#include <exception>
#include <fstream>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define LMGEN_CPU_RELAX() _mm_pause()
#else
#define LMGEN_CPU_RELAX() std::this_thread::yield()
#endif

namespace lmgen {

namespace {
// How long an idle worker (or the waiting caller) spins before sleeping in the kernel: long enough to catch the
// next parallel_for of the same token, short enough not to burn a core between tokens (or when the machine is
// oversubscribed, where spinning only delays the thread we wait for).
constexpr auto kSpinTime = std::chrono::microseconds(50);

// Spins until pred() holds or the spin budget is used up; returns pred().
template <typename Pred>
bool spin_until(Pred pred) {
  if (pred()) return true;
  const auto t0 = std::chrono::steady_clock::now();
  for (;;) {
    for (int i = 0; i < 32; ++i) {
      LMGEN_CPU_RELAX();
      if (pred()) return true;
    }
    if (std::chrono::steady_clock::now() - t0 > kSpinTime) return pred();
  }
}
}  // namespace

struct ThreadPool::Impl {
  int n_threads = 1;
  std::vector<std::thread> workers;

  // Job description, written by the caller before publishing a generation, read by whoever claims a task of it.
  const std::function<void(int64_t, int64_t)>* fn = nullptr;
  int64_t n = 0;
  int64_t grain = 1;

  // Wake-up signal for idle workers.
  alignas(64) std::atomic<uint32_t> generation{0};
  // Task claiming: generation (bits 63..32), number of tasks (31..16), next unclaimed task (15..0). Any thread,
  // the caller included, claims the next task with a CAS, so a worker that is slow to wake (a busy machine) does
  // not hold the caller up: the caller runs the task itself. Results do not depend on who runs a task.
  alignas(64) std::atomic<uint64_t> state{0};
  alignas(64) std::atomic<uint32_t> done{0};  // tasks finished in the current generation
  std::atomic<bool> stop{false};

  std::mutex error_mutex;
  std::exception_ptr error;

  // Task t of n_tasks: a contiguous range of whole grains.
  void run_task(int t, int n_tasks) {
    const int64_t n_grains = (n + grain - 1) / grain;
    const int64_t g0 = n_grains * t / n_tasks;
    const int64_t g1 = n_grains * (t + 1) / n_tasks;
    const int64_t b = g0 * grain;
    const int64_t e = std::min(n, g1 * grain);
    if (b >= e) return;
    try {
      (*fn)(b, e);
    } catch (...) {
      std::lock_guard<std::mutex> lock(error_mutex);
      if (!error) error = std::current_exception();
    }
  }

  // Claims and runs tasks of generation g until none is left.
  void claim_tasks(uint32_t g) {
    uint64_t st = state.load(std::memory_order_acquire);
    for (;;) {
      if (static_cast<uint32_t>(st >> 32) != g) return;
      const int n_tasks = static_cast<int>((st >> 16) & 0xFFFF), next = static_cast<int>(st & 0xFFFF);
      if (next >= n_tasks) return;
      if (!state.compare_exchange_weak(st, st + 1, std::memory_order_acq_rel, std::memory_order_acquire)) continue;
      run_task(next, n_tasks);
      if (done.fetch_add(1, std::memory_order_acq_rel) + 1 == static_cast<uint32_t>(n_tasks)) done.notify_one();
      st = state.load(std::memory_order_acquire);
    }
  }

  void worker_loop() {
    uint32_t seen = 0;  // the value at construction (a job may be posted before this thread first runs)
    for (;;) {
      while (!spin_until([&] { return generation.load(std::memory_order_acquire) != seen; }))
        generation.wait(seen, std::memory_order_acquire);
      seen = generation.load(std::memory_order_acquire);
      if (stop.load(std::memory_order_acquire)) return;
      claim_tasks(seen);
    }
  }
};

ThreadPool::ThreadPool(int n_threads) : impl_(std::make_unique<Impl>()) {
  if (n_threads <= 0) n_threads = physical_cores();
  if (n_threads < 1) n_threads = 1;
  if (n_threads > 512) n_threads = 512;
  impl_->n_threads = n_threads;
  impl_->workers.reserve(static_cast<size_t>(n_threads - 1));
  for (int i = 1; i < n_threads; ++i) impl_->workers.emplace_back([this] { impl_->worker_loop(); });
}

ThreadPool::~ThreadPool() {
  impl_->stop.store(true, std::memory_order_release);
  impl_->generation.fetch_add(1, std::memory_order_acq_rel);
  impl_->generation.notify_all();
  for (auto& t : impl_->workers) t.join();
}

int ThreadPool::size() const { return impl_->n_threads; }

void ThreadPool::parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  if (grain < 1) grain = 1;
  const int64_t n_grains = (n + grain - 1) / grain;
  Impl& im = *impl_;
  if (im.n_threads == 1 || n_grains == 1) {
    fn(0, n);
    return;
  }
  im.fn = &fn;
  im.n = n;
  im.grain = grain;
  im.error = nullptr;
  const int n_tasks = static_cast<int>(std::min<int64_t>(im.n_threads, n_grains));
  const uint32_t g = im.generation.load(std::memory_order_relaxed) + 1;
  im.done.store(0, std::memory_order_relaxed);
  im.state.store((static_cast<uint64_t>(g) << 32) | (static_cast<uint64_t>(n_tasks) << 16),
                 std::memory_order_release);
  im.generation.store(g, std::memory_order_release);
  im.generation.notify_all();

  im.claim_tasks(g);

  const auto all_done = [&] { return im.done.load(std::memory_order_acquire) == static_cast<uint32_t>(n_tasks); };
  while (!spin_until(all_done)) {
    const uint32_t d = im.done.load(std::memory_order_acquire);
    if (d == static_cast<uint32_t>(n_tasks)) break;
    im.done.wait(d, std::memory_order_acquire);
  }
  im.fn = nullptr;
  if (im.error) {
    std::exception_ptr e = std::exchange(im.error, nullptr);
    std::rethrow_exception(e);
  }
}

namespace {
// The CPU quota of this process's cgroup in whole CPUs (rounded up), or 0 when there is none: cgroup v2 cpu.max
// ("QUOTA PERIOD" or "max PERIOD"), else cgroup v1 cpu.cfs_quota_us / cpu.cfs_period_us.
int cgroup_cpu_quota() {
  long long quota = -1, period = 0;
  std::ifstream v2("/sys/fs/cgroup/cpu.max");
  std::string q;
  if (v2 >> q >> period) {
    if (q == "max") return 0;
    quota = std::atoll(q.c_str());
  } else {
    std::ifstream fq("/sys/fs/cgroup/cpu/cpu.cfs_quota_us"), fp("/sys/fs/cgroup/cpu/cpu.cfs_period_us");
    if (!(fq >> quota) || !(fp >> period)) return 0;
  }
  if (quota <= 0 || period <= 0) return 0;
  return static_cast<int>((quota + period - 1) / period);
}
}  // namespace

int ThreadPool::physical_cores() {
  // Count distinct (package, core) pairs among the online CPUs listed in sysfs that this process may run on (its
  // affinity mask: taskset, a container's cpuset), then cap by the cgroup's CPU quota.
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  const bool have_mask = sched_getaffinity(0, sizeof allowed, &allowed) == 0;
  std::set<std::pair<int, int>> cores;
  for (int cpu = 0; cpu < 4096; ++cpu) {
    if (have_mask && cpu < CPU_SETSIZE && !CPU_ISSET(cpu, &allowed)) {
      // Not ours; keep scanning while sysfs lists the CPU.
      std::ifstream exists("/sys/devices/system/cpu/cpu" + std::to_string(cpu) + "/topology/core_id");
      if (exists) continue;
    }
    const std::string base = "/sys/devices/system/cpu/cpu" + std::to_string(cpu) + "/topology/";
    std::ifstream fc(base + "core_id");
    if (!fc) {
      if (cpu > 0 && cores.empty()) break;
      if (!cores.empty()) {
        // CPU numbers can have holes (offline CPUs); stop after a long gap.
        std::ifstream next("/sys/devices/system/cpu/cpu" + std::to_string(cpu + 1) + "/topology/core_id");
        if (!next) break;
      }
      continue;
    }
    int core = -1, pkg = 0;
    fc >> core;
    std::ifstream fp(base + "physical_package_id");
    if (fp) fp >> pkg;
    if (core >= 0) cores.insert({pkg, core});
  }
  int n = static_cast<int>(cores.size());
  if (n <= 0) n = have_mask ? CPU_COUNT(&allowed) : static_cast<int>(std::thread::hardware_concurrency());
  if (const int quota = cgroup_cpu_quota(); quota > 0 && quota < n) n = quota;
  return n > 0 ? n : 1;
}

}  // namespace lmgen
