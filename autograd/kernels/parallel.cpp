#include <autograd/kernels/parallel.hpp>

#include <algorithm>
#include <atomic>
#include <memory>
#include <mutex>
#include <thread>

#include <tbb/global_control.h>
#include <tbb/parallel_for.h>

#include <autograd/tensor.hpp>
#include <autograd/threads.hpp>

extern "C" void openblas_set_num_threads(int);  // OpenBLAS's own control (cblas.h clashes, trap 7)

namespace ag {
namespace {
std::atomic<int> g_threads{0};
std::mutex g_mutex;
std::unique_ptr<tbb::global_control> g_control;

// OpenBLAS runs single-threaded: large products are split over TBB's threads (blas.cpp), so
// that one scheduler owns the cores. Set once, when the library loads.
const bool g_blas_single = [] {
  openblas_set_num_threads(1);
  return true;
}();

int default_threads() {
  unsigned hw = std::thread::hardware_concurrency();
  return hw ? static_cast<int>(hw) : 1;
}
}  // namespace

void set_num_threads(int n) {
  if (n < 1) throw Error("set_num_threads: need at least 1 thread, got " + std::to_string(n));
  std::lock_guard<std::mutex> lock(g_mutex);
  g_control = std::make_unique<tbb::global_control>(tbb::global_control::max_allowed_parallelism,
                                                    static_cast<std::size_t>(n));
  g_threads = n;
}

int get_num_threads() {
  int n = g_threads.load(std::memory_order_relaxed);
  return n ? n : default_threads();
}

namespace parallel {
int num_threads() { return get_num_threads(); }

void run_chunks(std::size_t n, std::size_t grain, void (*fn)(void*, std::size_t, std::size_t),
                void* ctx) {
  // At most one chunk per thread and per `grain` elements: static partitioning keeps each
  // thread on one contiguous, cache-friendly block.
  std::size_t threads = static_cast<std::size_t>(num_threads());
  std::size_t chunks = std::min(threads, (n + grain - 1) / grain);
  if (chunks <= 1) return fn(ctx, 0, n);
  std::size_t per = (n + chunks - 1) / chunks;
  tbb::parallel_for(
      tbb::blocked_range<std::size_t>(0, chunks, 1),
      [&](const tbb::blocked_range<std::size_t>& r) {
        for (std::size_t c = r.begin(); c != r.end(); ++c) {
          std::size_t b = c * per, e = std::min(n, b + per);
          if (b < e) fn(ctx, b, e);
        }
      },
      tbb::static_partitioner());
}
}  // namespace parallel
}  // namespace ag
