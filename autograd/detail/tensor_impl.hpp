// Internal: what a Tensor handle points to (its storage, shape and dtype) and the pooled
// allocation behind both. The kernels need only this; the graph node an op records is in
// detail/node.hpp. Included by the library's own .cpp files, never by ag's public headers.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <autograd/tensor.hpp>

namespace ag {

struct Node;  // the op that produced a tensor (detail/node.hpp)

void* alloc_buffer(std::size_t nbytes);
void free_buffer(void* p, std::size_t nbytes);

// Graph objects (tensor handles, storages, nodes) are made and freed by the thousand in every
// training step; glibc's general path for blocks of their size was half of the per-op cost.
// A per-thread free list per block size serves them instead (std::allocate_shared with this).
template <std::size_t Size>
class BlockPool {
 public:
  static void* get() {
    Lists* l = lists();
    if (l && !l->free.empty()) {
      void* p = l->free.back();
      l->free.pop_back();
      return p;
    }
    return ::operator new(Size);
  }
  static void put(void* p) {
    Lists* l = lists();
    if (l && l->free.size() < kKeep)
      l->free.push_back(p);
    else
      ::operator delete(p);
  }

 private:
  static constexpr std::size_t kKeep = 1 << 16;
  // A thread's lists die at its exit (the main thread's before static objects); a static or
  // thread_local Tensor freed later goes straight to operator delete. The flag is trivially
  // destructible, so it can still be read then.
  static inline thread_local bool gone = false;
  struct Lists {
    std::vector<void*> free;
    ~Lists() {
      gone = true;
      for (void* p : free) ::operator delete(p);
    }
  };
  static Lists* lists() {
    if (gone) return nullptr;
    thread_local Lists l;
    return &l;
  }
};

template <class T>
struct PoolAllocator {
  using value_type = T;
  PoolAllocator() = default;
  template <class U> PoolAllocator(const PoolAllocator<U>&) {}
  T* allocate(std::size_t n) {
    return static_cast<T*>(n == 1 ? BlockPool<sizeof(T)>::get() : ::operator new(n * sizeof(T)));
  }
  void deallocate(T* p, std::size_t n) {
    if (n == 1)
      BlockPool<sizeof(T)>::put(p);
    else
      ::operator delete(p);
  }
  template <class U> bool operator==(const PoolAllocator<U>&) const { return true; }
  template <class U> bool operator!=(const PoolAllocator<U>&) const { return false; }
};

template <class T, class... Args>
std::shared_ptr<T> make_pooled(Args&&... args) {
  return std::allocate_shared<T>(PoolAllocator<T>(), std::forward<Args>(args)...);
}

// A contiguous buffer with a version counter shared by every tensor that views it. Tiny
// buffers (scalars, small vectors) live inside the Storage itself: one allocation fewer per op.
struct Storage {
  static constexpr std::size_t kInline = 64;
  void* data = nullptr;
  std::size_t nbytes = 0;
  std::uint64_t version = 0;
  alignas(16) unsigned char inline_buffer[kInline];
  explicit Storage(std::size_t n) : data(n <= kInline ? inline_buffer : alloc_buffer(n)), nbytes(n) {}
  ~Storage() {
    if (data != inline_buffer) free_buffer(data, nbytes);
  }
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
};

// Tensor::register_hook and retain_grad state: rare, so held out of line by a pointer that is
// null for almost every tensor and node (the engine tests it once per node).
struct HookList {
  std::vector<std::pair<std::size_t, TensorHook>> hooks;            // run in registration order
  std::vector<std::pair<std::size_t, PostAccumulateHook>> post;     // leaves: after .grad changed
  bool retain_grad = false;                                         // interior: keep .grad
  std::size_t slot = 0;     // engine scratch: this leaf's gradient buffer in the current pass
  std::uint64_t pass = 0;   // engine scratch: which backward pass `slot` belongs to
};

// A Shape is a std::vector (public API), so every tensor's shape is a heap buffer of its own.
// Those buffers are recycled like the blocks above: a dying tensor's goes to a per-thread list
// and make_tensor copies a shape into one from there (no malloc/free per op at steady state).
void recycle_shape(Shape&& s);
Shape copy_shape(const Shape& s);  // == s, in a recycled buffer when one is free

struct TensorImpl {
  TensorImpl() = default;
  TensorImpl(const TensorImpl&) = delete;
  TensorImpl& operator=(const TensorImpl&) = delete;
  ~TensorImpl() { recycle_shape(std::move(shape)); }

  std::shared_ptr<Storage> storage;
  Shape shape;
  std::size_t numel = 0;
  Dtype dtype = float32;
  bool requires_grad = false;
  std::shared_ptr<Node> grad_fn;  // null for leaves
  Tensor grad;                    // leaves (and retain_grad tensors): accumulated by backward
  std::string name;
  std::unique_ptr<HookList> hooks;  // a leaf's hooks; an interior tensor's live on its grad_fn

  void* data() const { return storage->data; }
};

// Helpers for op implementations.
// Uninitialised, contiguous. The size is checked (checked.hpp); a shape too big, or memory
// running out, throws ag::Error naming `op` and the shape.
Tensor make_tensor(Shape&& shape, Dtype dtype, const char* op = nullptr);
Tensor make_tensor(const Shape& shape, Dtype dtype, const char* op = nullptr);  // copies shape
Tensor alias(const Tensor& t, Shape&& shape);       // shares storage and version; no grad_fn
Tensor alias(const Tensor& t, const Shape& shape);  // the same, copying shape

std::string describe(const Tensor& t);  // "'x' {3, 4} float32" or "{3, 4} float32"
[[noreturn]] void fail(const std::string& message);

}  // namespace ag
