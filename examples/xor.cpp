// XOR: one neuron cannot learn it, a small network can.
//
// A single unit's decision boundary is a straight line, and no line puts (0,1) and (1,0) on one
// side with (0,0) and (1,1) on the other: its best is 3 of 4. A hidden layer bends the boundary.
//
// Run: ./xor [--hidden 4] [--epochs N] [--lr X] [--seed S] [--out DIR]
// Writes xor_boundary.png: the single unit's boundary (left) and the network's (right), and
// xor_backward.html: the trained network's backward pass on the four rows, step by step.
#include <cstdio>
#include <iostream>

#include <autograd/autograd.hpp>
#include <nn/nn.hpp>
#include <optim/optim.hpp>

#include "common.hpp"

using ag::Tensor;
namespace F = ag::nn::functional;

namespace {

// Functions rather than globals, so that no tensor is built before main starts.
Tensor inputs() { return ag::tensor({{0, 0}, {0, 1}, {1, 0}, {1, 1}}); }
Tensor targets() { return ag::tensor({0, 1, 1, 0}, {4, 1}); }  // x1 XOR x2, one column

// Full-batch training of `model` on the four rows; returns the best accuracy seen along the way.
double train(ag::nn::Module& model, int epochs, double lr) {
  ag::optim::SGD sgd(model.parameters(), {lr});
  const Tensor x = inputs(), t = targets();
  double best = 0;
  for (int epoch = 0; epoch < epochs; ++epoch) {
    Tensor logits = model(x);
    best = std::max(best, ex::binary_accuracy(ag::sigmoid(logits), t));
    Tensor loss = F::binary_cross_entropy_with_logits(logits, t);
    sgd.zero_grad();
    loss.backward();
    sgd.step();
  }
  return std::max(best, ex::binary_accuracy(ag::sigmoid(model(x)), t));
}

void print_table(ag::nn::Module& model) {
  ag::NoGradGuard no_grad;
  std::vector<double> p = ag::sigmoid(model(inputs())).to_vector();
  std::vector<double> x = inputs().to_vector(), t = targets().to_vector();
  std::printf("  x1 x2 | XOR | network\n");
  for (std::size_t i = 0; i < 4; ++i)
    std::printf("   %g  %g |  %g  | %.3f -> %d\n", x[2 * i], x[2 * i + 1], t[i], p[i], p[i] >= 0.5);
}

}  // namespace

int main(int argc, char** argv) {
  ex::Args args;
  args.epochs = 2000;
  args.lr = 1.0;
  args.hidden = "4";
  args.parse(argc, argv);
  args.apply();

  std::cout << "1. A single unit, sigmoid(w . x + b)\n";
  auto unit = std::make_shared<ag::nn::Linear>(2, 1);
  double unit_best = train(*unit, args.epochs, args.lr);
  std::printf("  best accuracy over %d steps: %.2f (a line gets at most 3 of 4 right)\n",
              args.epochs, unit_best);
  ex::expect(unit_best < 1.0, "a single unit cannot learn XOR");

  std::vector<std::size_t> sizes = {2};
  for (std::size_t h : args.hidden_sizes()) sizes.push_back(h);
  sizes.push_back(1);
  std::cout << "\n2. A network with hidden layer(s) " << args.hidden << ", " << args.activation
            << " activation\n";
  auto net = ag::nn::mlp(sizes, args.activation);
  double net_best = train(*net, args.epochs, args.lr);
  print_table(*net);
  Tensor p = ag::sigmoid((*net)(inputs()));
  ex::expect(ex::binary_accuracy(p, targets()) == 1.0 && net_best == 1.0,
             "the network's truth table is XOR");

  // The trained network's backward pass, one node at a time, for the class to step through.
  Tensor loss = F::binary_cross_entropy_with_logits((*net)(inputs()), targets()).set_name("loss");
  {
    ag::KeepGradsForDumpsGuard keep;  // the page shows every gradient of this backward
    loss.backward();
  }
  const std::string page = args.out_path("xor_backward.html");
  try {
    ag::save_backward_html(loss, page);
    std::cout << "wrote " << page << "\n";
  } catch (const ag::Error& err) {  // no Graphviz
    std::cout << err.what() << "\n(no backward page)\n";
  }

  auto prob = [](ag::nn::Module& m) {
    return [&m](const Tensor& xy) { return ag::sigmoid(m(xy)); };
  };
  Tensor labels = targets().reshape({4});
  ex::Image picture = ex::hstack({
      ex::decision_boundary(prob(*unit), inputs(), labels, -0.5, 1.5, -0.5, 1.5, "single unit"),
      ex::decision_boundary(prob(*net), inputs(), labels, -0.5, 1.5, -0.5, 1.5,
                            "2-" + args.hidden + "-1 network"),
  });
  std::string path = args.out_path("xor_boundary.png");
  picture.save_png(path);
  std::cout << "wrote " << path << "\n";
  return ex::exit_code();
}
