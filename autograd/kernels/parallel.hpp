// Internal: the one threading interface. Kernels split [0, n) into chunks of at least `grain`
// elements; small ranges run inline on the calling thread, so small tensors never pay for TBB.
#pragma once

#include <cstddef>

namespace ag::parallel {

int num_threads();
void run_chunks(std::size_t n, std::size_t grain, void (*fn)(void*, std::size_t, std::size_t),
                void* ctx);

template <class F>
void for_range(std::size_t n, std::size_t grain, F&& f) {
  if (n <= grain || num_threads() == 1) {
    if (n) f(std::size_t{0}, n);
    return;
  }
  run_chunks(n, grain, [](void* c, std::size_t b, std::size_t e) { (*static_cast<F*>(c))(b, e); },
             &f);
}

// Kernels go parallel above this many elements; below it, waking a sleeping TBB worker (tens of
// microseconds on a VM) costs more than the second core saves. Memory-bound kernels (add, mul,
// copy, axpy) do ~1 ns of work per element; transcendental ones (exp, sigmoid, tanh) several.
// (A 78,400-element SGD update split in two made a batch-1 MLP step 1.7x slower on 2 threads.)
inline constexpr std::size_t kGrain = std::size_t(1) << 18;
inline constexpr std::size_t kGrainMath = std::size_t(1) << 15;

}  // namespace ag::parallel
