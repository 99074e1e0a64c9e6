// Tensors that outlive main: a static Tensor holding a long graph, a static model with
// gradients, and a thread_local Tensor of a worker thread. They are destroyed after the
// library's per-thread caches and free lists, which must not be touched then (ASan and LSan in
// CI's sanitizer run see any use after free or lost block). Exit status 0 is the pass.
#include <cstdio>
#include <memory>
#include <thread>

#include <autograd/autograd.hpp>
#include <nn/nn.hpp>

namespace {
ag::Tensor g_loss;                          // a 30,000-op graph, freed after main
std::shared_ptr<ag::nn::Linear> g_model;   // parameters with .grad set
}  // namespace

int main() {
  ag::manual_seed(0);
  ag::Tensor w = ag::randn({64, 64}).requires_grad_(true);  // 16 KiB: a cached size class
  ag::Tensor v = ag::randn({4}).requires_grad_(true);
  ag::Tensor y = v;
  for (int i = 0; i < 10000; ++i) y = ag::sin(y) * 0.5 + v;
  g_loss = ag::sum(y) + ag::sum(ag::tanh(w));

  g_model = std::make_shared<ag::nn::Linear>(64, 32);
  ag::sum((*g_model)(w)).backward();

  std::thread worker([&] {
    thread_local ag::Tensor kept;  // destroyed at the worker's exit, after its caches
    kept = ag::sum(ag::exp(ag::randn({128, 128}).requires_grad_(true)));
  });
  worker.join();
  std::printf("exit_with_graph: graphs left for static destruction\n");
  return 0;
}
