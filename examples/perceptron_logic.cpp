// OR and AND with one artificial neuron.
//
//   1. Hand-chosen weights and a step activation: out = step(x1 + x2 + b), with b = -1 for OR
//      and b = -2 for AND, already compute both truth tables.
//   2. The same units learned by gradient descent, with a sigmoid in place of the step.
//   3. Why the sigmoid: the step's gradient is zero everywhere, so gradient descent never moves.
//
// Run: ./perceptron_logic [--epochs N] [--lr X] [--seed S]
#include <cstdio>
#include <iostream>

#include <autograd/autograd.hpp>
#include <nn/nn.hpp>

#include "common.hpp"

using ag::Tensor;

namespace {

// The four input pairs of a two-input truth table, one per row. (A function rather than a
// global, so that no tensor is built before main starts.)
Tensor inputs() { return ag::tensor({{0, 0}, {0, 1}, {1, 0}, {1, 1}}); }

void print_table(const char* name, const Tensor& out) {
  std::vector<double> x = inputs().to_vector(), y = out.to_vector();
  std::printf("  x1 x2 | %s\n", name);
  for (std::size_t i = 0; i < 4; ++i)
    std::printf("   %g  %g | %.3f\n", x[2 * i], x[2 * i + 1], y[i]);
}

// A leaf's gradient as numbers; a leaf no gradient reached counts as zero.
std::vector<double> grad_values(const Tensor& leaf) {
  return leaf.grad().defined() ? leaf.grad().to_vector() : std::vector<double>(leaf.numel(), 0.0);
}

bool matches(const Tensor& out, const Tensor& target) {
  return ex::binary_accuracy(out, target) == 1.0;
}

}  // namespace

int main(int argc, char** argv) {
  ex::Args args;
  args.epochs = 1000;  // full-batch steps: all four rows at once
  args.lr = 2.0;
  args.parse(argc, argv);
  args.apply();

  const Tensor or_target = ag::tensor({0, 1, 1, 1});
  const Tensor and_target = ag::tensor({0, 0, 0, 1});

  std::cout << "1. Hand-chosen weights w = (1, 1) and a step activation\n";
  const Tensor w = ag::tensor({1, 1});
  Tensor or_out = ag::step(ag::matmul(inputs(), w) - 1.0);   // fires when x1 + x2 >= 1
  Tensor and_out = ag::step(ag::matmul(inputs(), w) - 2.0);  // fires only when x1 + x2 >= 2
  print_table("OR  (b = -1)", or_out);
  print_table("AND (b = -2)", and_out);
  ex::expect(matches(or_out, or_target), "step unit with b = -1 computes OR");
  ex::expect(matches(and_out, and_target), "step unit with b = -2 computes AND");

  std::cout << "\n2. The same units learned by gradient descent, sigmoid activation\n";
  for (const auto& [name, target] : {std::pair{"OR", or_target}, std::pair{"AND", and_target}}) {
    Tensor wl = (ag::randn({2}) * 0.1).requires_grad_();  // small random start
    Tensor bl = ag::scalar(0).requires_grad_();
    Tensor loss;
    for (int epoch = 0; epoch < args.epochs; ++epoch) {
      Tensor out = ag::sigmoid(ag::matmul(inputs(), wl) + bl);
      loss = ag::nn::functional::mse_loss(out, target);
      wl.zero_grad();
      bl.zero_grad();
      loss.backward();
      ag::NoGradGuard no_grad;  // the update itself is not part of the model
      wl.sub_(wl.grad() * args.lr);
      bl.sub_(bl.grad() * args.lr);
    }
    Tensor out = ag::sigmoid(ag::matmul(inputs(), wl) + bl);
    std::vector<double> wv = wl.to_vector();
    std::printf("  %s: after %d steps w = (%.2f, %.2f), b = %.2f, loss %.4f\n", name, args.epochs,
                wv[0], wv[1], bl.item(), loss.item());
    print_table(name, out);
    ex::expect(matches(out, target), std::string("sigmoid unit learns ") + name);
  }

  std::cout << "\n3. A step unit cannot learn: its gradient is zero everywhere\n";
  Tensor ws = ag::tensor({0.3, -0.2}).requires_grad_();  // wrong weights for OR
  Tensor bs = ag::scalar(0.1).requires_grad_();
  Tensor step_loss = ag::nn::functional::mse_loss(ag::step(ag::matmul(inputs(), ws) + bs), or_target);
  step_loss.backward();
  std::vector<double> gw = grad_values(ws), gb = grad_values(bs);
  std::printf("  loss %.3f (it is wrong), yet dloss/dw = (%g, %g), dloss/db = %g\n",
              step_loss.item(), gw[0], gw[1], gb[0]);
  std::cout << "  so w -= lr * grad leaves w where it is, for any learning rate.\n";
  ex::expect(step_loss.item() > 0 && gw[0] == 0 && gw[1] == 0 && gb[0] == 0,
             "a wrong step unit gets zero gradient");

  // Same weights with a sigmoid: the gradient points somewhere, so learning can start.
  Tensor wg = ag::tensor({0.3, -0.2}).requires_grad_();
  Tensor bg = ag::scalar(0.1).requires_grad_();
  ag::nn::functional::mse_loss(ag::sigmoid(ag::matmul(inputs(), wg) + bg), or_target).backward();
  gw = grad_values(wg);
  std::printf("  with a sigmoid instead: dloss/dw = (%.4f, %.4f), dloss/db = %.4f\n", gw[0], gw[1],
              grad_values(bg)[0]);
  ex::expect(gw[0] != 0 && gw[1] != 0, "the sigmoid unit gets a non-zero gradient");
  return ex::exit_code();
}
