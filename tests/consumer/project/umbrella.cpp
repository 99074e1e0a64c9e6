// The umbrella header <ag/ag.hpp> works the same from the source tree and the installed tree,
// and brings nn, optim and data along with autograd.
#include <ag/ag.hpp>

#include <utility>

// One Linear layer and one SGD step on a fixed batch: the loss before and after the step.
std::pair<double, double> one_sgd_step() {
  ag::manual_seed(0);
  auto layer = std::make_shared<ag::nn::Linear>(3, 1);
  ag::optim::SGD opt(layer->parameters(), ag::optim::SGDOptions{0.1});
  ag::Tensor x = ag::ones({4, 3});
  ag::Tensor target = ag::zeros({4, 1});
  ag::Tensor loss = ag::nn::functional::mse_loss(layer->forward(x), target);
  opt.zero_grad();
  loss.backward();
  opt.step();
  return {loss.item(), ag::nn::functional::mse_loss(layer->forward(x), target).item()};
}
