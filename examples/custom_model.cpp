// The README's custom model: a two-layer network with a skip connection, written as a Module,
// trained with Adam on y = sin(3x) from 256 noisy samples. Checks that it fits.
#include <cstdio>

#include <autograd/autograd.hpp>
#include <nn/nn.hpp>
#include <optim/optim.hpp>

using namespace ag;

struct SineNet : nn::Module {
  std::shared_ptr<nn::Linear> fc1, fc2, skip;
  SineNet(std::size_t hidden) {
    fc1 = register_module("fc1", std::make_shared<nn::Linear>(1, hidden));
    fc2 = register_module("fc2", std::make_shared<nn::Linear>(hidden, 1));
    skip = register_module("skip", std::make_shared<nn::Linear>(1, 1));
  }
  Tensor forward(const Tensor& x) override { return (*fc2)(tanh((*fc1)(x))) + (*skip)(x); }
};

int main() {
  manual_seed(0);
  Tensor x = rand({256, 1}) * 2.0 - 1.0;                 // inputs in [-1, 1)
  Tensor y = sin(3.0 * x) + 0.05 * randn({256, 1});     // noisy targets
  auto model = std::make_shared<SineNet>(32);
  optim::Adam opt(model->parameters(), {/*lr=*/0.01});
  Tensor loss;
  for (int step = 0; step < 1000; ++step) {
    loss = nn::functional::mse_loss((*model)(x), y);
    opt.zero_grad();
    loss.backward();
    opt.step();
    if (step % 200 == 0) std::printf("step %4d  loss %.5f\n", step, loss.item());
  }
  std::printf("final loss %.5f (noise floor 0.0025)\n", loss.item());
  return loss.item() < 0.01 ? 0 : 1;
}
