// Profiling driver for the per-op path (bench/PROFILE.md, issue 15): the `ops` workload of
// ag_bench (a chain of y + b, y * c, tanh(y) on 1-element float32 tensors that require grad),
// each phase in its own noinline function so that callgrind can isolate it:
//   valgrind --tool=callgrind --toggle-collect='phase_*' build/bench/ops_profile 3000
//   callgrind_annotate --inclusive=yes callgrind.out.<pid> | grep phase_   (divide by 3000)
// A warm-up round (not collected) runs first, as in ag_bench, whose first round is dropped.
// It also counts global operator new calls per op and phase (it replaces operator new), and
// prints them: no valgrind needed for the allocation counts. With ROUNDS it then also times
// ROUNDS more rounds and prints the fastest per phase (µs per op): on a machine that other jobs
// share, the minimum is the figure least disturbed by them.
//   ops_profile [CHAIN_LENGTH [ROUNDS]]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <new>

#include <autograd/autograd.hpp>

namespace {
std::atomic<long> g_news{0};
}

void* operator new(std::size_t n) {
  g_news.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace {

struct Leaves {
  ag::Tensor x, b, c;
};

ag::Tensor chain(const Leaves& l, std::size_t n) {
  ag::Tensor y = l.x;
  for (std::size_t i = 0; i < n; ++i) {
    switch (i % 3) {
      case 0: y = y + l.b; break;
      case 1: y = y * l.c; break;
      default: y = ag::tanh(y); break;
    }
  }
  return y;
}

}  // namespace

// The phases callgrind's --toggle-collect selects (extern "C": unmangled names).
extern "C" {
__attribute__((noinline)) ag::Tensor phase_forward(const Leaves& l, std::size_t n) {
  return chain(l, n);
}
__attribute__((noinline)) void phase_backward(const ag::Tensor& y, const ag::Tensor& seed) {
  y.backward(seed);
}
__attribute__((noinline)) void phase_release(ag::Tensor& y) { y = ag::Tensor(); }
__attribute__((noinline)) void phase_nograd(const Leaves& l, std::size_t n) {
  ag::NoGradGuard guard;
  ag::Tensor z = chain(l, n);
}
}

int main(int argc, char** argv) {
  const std::size_t n = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 10000;
  Leaves l{ag::full({1}, 0.5), ag::full({1}, 0.001), ag::full({1}, 0.999)};
  l.x.requires_grad_();
  l.b.requires_grad_();
  l.c.requires_grad_();
  ag::Tensor seed = ag::ones({1});
  {  // warm-up, not collected: fills the pools the measured round then reuses
    ag::Tensor y = chain(l, n);
    y.backward(seed);
    y = ag::Tensor();
    ag::NoGradGuard guard;
    ag::Tensor z = chain(l, n);
  }
  l.x.zero_grad();
  l.b.zero_grad();
  l.c.zero_grad();
  long news[4] = {0, 0, 0, 0};
  long before = g_news.load();
  ag::Tensor y = phase_forward(l, n);
  news[0] = g_news.load() - before;
  before = g_news.load();
  phase_backward(y, seed);
  news[1] = g_news.load() - before;
  before = g_news.load();
  phase_release(y);
  news[2] = g_news.load() - before;
  before = g_news.load();
  phase_nograd(l, n);
  news[3] = g_news.load() - before;
  const char* names[4] = {"forward", "backward", "release", "nograd"};
  for (int k = 0; k < 4; ++k)
    std::printf("%-8s operator new per op: %.3f\n", names[k], double(news[k]) / double(n));
  std::printf("x.grad = %.6g\n", l.x.grad().item());
  const int rounds = argc > 2 ? std::atoi(argv[2]) : 0;
  double best[4] = {1e30, 1e30, 1e30, 1e30};
  auto now = [] { return std::chrono::steady_clock::now(); };
  auto us_per_op = [n](auto t0, auto t1) {
    return std::chrono::duration<double, std::micro>(t1 - t0).count() / double(n);
  };
  for (int r = 0; r < rounds; ++r) {
    auto t0 = now();
    ag::Tensor z = phase_forward(l, n);
    auto t1 = now();
    phase_backward(z, seed);
    auto t2 = now();
    phase_release(z);
    auto t3 = now();
    phase_nograd(l, n);
    auto t4 = now();
    best[0] = std::min(best[0], us_per_op(t0, t1));
    best[1] = std::min(best[1], us_per_op(t1, t2));
    best[2] = std::min(best[2], us_per_op(t2, t3));
    best[3] = std::min(best[3], us_per_op(t3, t4));
  }
  for (int k = 0; rounds > 0 && k < 4; ++k)
    std::printf("%-8s fastest of %d rounds: %.3f us per op\n", names[k], rounds, best[k]);
  return 0;
}
