// Profiling driver for bench/PROFILE.md (issue 15): runs 2 warm-up steps and then N training
// steps of one ag_bench MLP workload on one batch, nothing else, so that callgrind counts per
// step are (count with N - count with 0) / N:
//   valgrind --tool=callgrind --toggle-collect=main build/bench/mlp_profile 256 relu 10
//   mlp_profile BATCH [sigmoid|relu] [N]   (sigmoid: 784-100-10; relu: 784-256-256-10)
#include <cstdio>
#include <cstdlib>
#include <string>

#include <autograd/autograd.hpp>
#include <nn/nn.hpp>
#include <optim/optim.hpp>

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s BATCH [sigmoid|relu] [STEPS]\n", argv[0]);
    return 2;
  }
  const std::size_t batch = std::strtoul(argv[1], nullptr, 10);
  const bool relu = argc > 2 && std::string(argv[2]) == "relu";
  const int steps = argc > 3 ? std::atoi(argv[3]) : 10;
  ag::manual_seed(1);
  auto model = relu ? ag::nn::mlp({784, 256, 256, 10}, "relu")
                    : ag::nn::mlp({784, 100, 10}, "sigmoid");
  ag::optim::SGD opt(model->parameters(), ag::optim::SGDOptions{0.1});
  ag::Tensor x = ag::rand({batch, 784});
  ag::Tensor labels = ag::tensor(std::vector<double>(batch, 3.0), {batch}, ag::int64);
  auto step = [&] {
    opt.zero_grad();
    ag::nn::functional::cross_entropy((*model)(x), labels).backward();
    opt.step();
  };
  for (int i = 0; i < steps + 2; ++i) step();
  std::printf("%d steps at batch %zu\n", steps + 2, batch);
  return 0;
}
