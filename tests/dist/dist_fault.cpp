// A small data-parallel training job that fails on purpose, for the fault tests (ctest runs it
// under mpirun through expect_failure.sh, with a deadline):
//   --throw-on-rank R   rank R feeds a batch of the wrong width at step 3: matmul throws
//                       ag::Error, nobody catches it, and ag::dist's terminate handler must end
//                       the whole job, naming the rank and the message
//   --kill-rank R       rank R kills itself with SIGKILL at step 3: mpirun must end the job
// Without either flag it trains 10 steps and exits 0.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <autograd/autograd.hpp>
#include <dist/dist.hpp>
#include <nn/nn.hpp>
#include <optim/optim.hpp>

namespace dist = ag::dist;

int main(int argc, char** argv) {
  dist::init(&argc, &argv);
  int throw_rank = -1, kill_rank = -1;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--throw-on-rank") throw_rank = std::atoi(argv[i + 1]);
    else if (flag == "--kill-rank") kill_rank = std::atoi(argv[i + 1]);
  }
  ag::manual_seed(1);
  auto model = ag::nn::mlp({4, 8, 2}, "tanh");
  dist::DistributedDataParallel ddp(model);
  ag::optim::SGD sgd(model->parameters(), {0.1});
  for (int step = 1; step <= 10; ++step) {
    const bool bad = step == 3 && dist::rank() == throw_rank;
    if (step == 3 && dist::rank() == kill_rank) std::raise(SIGKILL);
    ag::Tensor x = ag::randn({8, bad ? 5u : 4u});
    ag::Tensor loss = ag::nn::functional::mse_loss(ddp(x), ag::zeros({8, 2}));
    sgd.zero_grad();
    loss.backward();
    sgd.step();
  }
  if (dist::rank() == 0) std::printf("dist_fault: 10 steps done\n");
  dist::finalize();
  return 0;
}
