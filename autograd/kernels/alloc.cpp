// Tensor buffers. Freed buffers are kept for reuse instead of going back to malloc:
//  - small ones (up to 64 KiB) in per-thread free lists by power-of-two size class: a training
//    step frees and allocates the same sizes over and over, and glibc's heap trimming turned
//    that pattern into 20 us per op;
//  - large ones in one shared cache by exact size: a fresh 40 MB buffer costs ~10k page faults
//    (more than the arithmetic on it), a reused one costs none.
#include <malloc.h>

#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <new>
#include <unordered_map>
#include <vector>

#include <autograd/detail/tensor_impl.hpp>

namespace ag {
namespace {
constexpr std::size_t kAlign = 64;
constexpr std::size_t kSmallMax = std::size_t(1) << 16;        // size classes up to 64 KiB
constexpr std::size_t kSmallPerClass = 64;                     // buffers kept per class and thread
constexpr std::size_t kLargeIdleMax = std::size_t(1) << 30;    // large buffers kept: 1 GiB

std::size_t size_class(std::size_t n) {  // index c: buffers of 128 << c bytes
  std::size_t c = 0;
  while ((std::size_t(128) << c) < n) ++c;
  return c;
}
constexpr std::size_t kClasses = 10;  // 128 B .. 64 KiB

// A thread's cache is destroyed at its exit (the main thread's before static objects), but a
// static or thread_local Tensor may free its buffer later: from then on buffers go straight to
// malloc. The flag is trivially destructible, so reading it after that point is well defined.
thread_local bool t_small_cache_gone = false;

struct SmallCache {
  std::vector<void*> lists[kClasses];
  ~SmallCache() {
    t_small_cache_gone = true;
    for (auto& l : lists)
      for (void* p : l) std::free(p);
  }
};
SmallCache* small_cache() {
  if (t_small_cache_gone) return nullptr;
  thread_local SmallCache c;
  return &c;
}

struct LargeCache {
  std::mutex mutex;
  std::unordered_map<std::size_t, std::vector<void*>> free_lists;
  std::size_t idle_bytes = 0;
};
LargeCache& large_cache() {
  static LargeCache* c = new LargeCache;  // never destroyed: tensors may die after main
  return *c;
}
// glibc hands freed heap memory back to the OS once 128 KiB sit free at the top of the heap,
// and page-faults it in again on the next allocation: with a graph freed and rebuilt every
// training step, that made backward 20x slower on 1,000-element tensors. Keep up to 256 MiB.
// Setting any threshold turns off glibc's self-adjusting mmap threshold, so the mmap threshold is
// set too, to the largest value that rule reaches (32 MiB): otherwise every block of 128 KiB or
// more that a library mallocs per call is mapped and faulted in anew each time. Open MPI's
// all-reduce does that with a scratch block as large as the message: 39 page faults per 318 kB
// all-reduce in a DDP step, 0.17 ms instead of 0.08.
const bool g_malloc_tuned = [] {
  return mallopt(M_TRIM_THRESHOLD, 256 << 20) == 1 && mallopt(M_MMAP_THRESHOLD, 32 << 20) == 1;
}();

// make_tensor checks sizes, so n is below 2^63 here; the check keeps this file safe on its own.
std::size_t round_up(std::size_t n) {
  if (n > SIZE_MAX - kAlign) throw std::bad_alloc();
  return (n + kAlign - 1) / kAlign * kAlign;
}

// std::bad_alloc: make_tensor turns it into an ag::Error that names the op and the shape.
void* checked(void* p) {
  if (!p) throw std::bad_alloc();
  return p;
}
}  // namespace

void* alloc_buffer(std::size_t nbytes) {
  if (nbytes <= kSmallMax) {
    std::size_t c = size_class(nbytes);
    SmallCache* cache = small_cache();
    if (!cache) return checked(std::aligned_alloc(kAlign, std::size_t(128) << c));
    std::vector<void*>& list = cache->lists[c];
    if (!list.empty()) {
      void* p = list.back();
      list.pop_back();
      return p;
    }
    return checked(std::aligned_alloc(kAlign, std::size_t(128) << c));
  }
  std::size_t n = round_up(nbytes);
  LargeCache& lc = large_cache();
  {
    std::lock_guard<std::mutex> lock(lc.mutex);
    auto it = lc.free_lists.find(n);
    if (it != lc.free_lists.end() && !it->second.empty()) {
      void* p = it->second.back();
      it->second.pop_back();
      lc.idle_bytes -= n;
      return p;
    }
  }
  return checked(std::aligned_alloc(kAlign, n));
}

void free_buffer(void* p, std::size_t nbytes) {
  if (!p) return;
  if (nbytes <= kSmallMax) {
    SmallCache* cache = small_cache();
    std::vector<void*>* list = cache ? &cache->lists[size_class(nbytes)] : nullptr;
    if (list && list->size() < kSmallPerClass) {
      list->push_back(p);
      return;
    }
    std::free(p);
    return;
  }
  std::size_t n = round_up(nbytes);
  LargeCache& lc = large_cache();
  std::lock_guard<std::mutex> lock(lc.mutex);
  if (lc.idle_bytes + n <= kLargeIdleMax) {
    lc.free_lists[n].push_back(p);
    lc.idle_bytes += n;
    return;
  }
  std::free(p);
}

}  // namespace ag
