// Tensor buffers. Large buffers are kept in a small per-size cache when freed: a fresh 40 MB
// buffer costs ~10k page faults (more than the arithmetic on it), a reused one costs none.
#include <cstdlib>
#include <mutex>
#include <new>
#include <unordered_map>
#include <vector>

#include <autograd/detail/impl.hpp>

namespace ag {
namespace {
constexpr std::size_t kAlign = 64;
constexpr std::size_t kCacheMin = 1 << 16;          // cache buffers of 64 KiB and more
constexpr std::size_t kCacheMaxTotal = std::size_t(1) << 30;  // hold at most 1 GiB idle

struct BufferCache {
  std::mutex mutex;
  std::unordered_map<std::size_t, std::vector<void*>> free_lists;
  std::size_t idle_bytes = 0;
  ~BufferCache() {
    for (auto& kv : free_lists)
      for (void* p : kv.second) std::free(p);
  }
};
BufferCache& cache() {
  static BufferCache* c = new BufferCache;  // never destroyed: tensors may die after main
  return *c;
}
std::size_t round_up(std::size_t n) { return (n + kAlign - 1) / kAlign * kAlign; }
}  // namespace

void* alloc_buffer(std::size_t nbytes) {
  std::size_t n = round_up(nbytes ? nbytes : 1);
  if (n >= kCacheMin) {
    BufferCache& c = cache();
    std::lock_guard<std::mutex> lock(c.mutex);
    auto it = c.free_lists.find(n);
    if (it != c.free_lists.end() && !it->second.empty()) {
      void* p = it->second.back();
      it->second.pop_back();
      c.idle_bytes -= n;
      return p;
    }
  }
  void* p = std::aligned_alloc(kAlign, n);
  if (!p) throw Error("out of memory: could not allocate " + std::to_string(nbytes) + " bytes");
  return p;
}

void free_buffer(void* p, std::size_t nbytes) {
  if (!p) return;
  std::size_t n = round_up(nbytes ? nbytes : 1);
  if (n >= kCacheMin) {
    BufferCache& c = cache();
    std::lock_guard<std::mutex> lock(c.mutex);
    if (c.idle_bytes + n <= kCacheMaxTotal) {
      c.free_lists[n].push_back(p);
      c.idle_bytes += n;
      return;
    }
  }
  std::free(p);
}

}  // namespace ag
