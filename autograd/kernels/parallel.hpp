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

// Elementwise kernels go parallel above this many elements (below it, thread start-up costs
// more than it saves on this class of machine).
inline constexpr std::size_t kGrain = 32768;

}  // namespace ag::parallel
