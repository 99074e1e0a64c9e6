// Full-batch, stochastic and mini-batch gradient descent on one task: fitting y = sin(3x) from
// noisy samples with a small 1-32-1 tanh network, with the same learning rate for all three.
//
//   full batch: one update per epoch, from the exact gradient over all samples;
//   stochastic: one update per sample, each from a single sample's noisy gradient;
//   mini-batch: one update per 32 samples, the usual compromise.
//
// Per epoch, stochastic descent makes the most progress (1024 updates) and full-batch the least
// (one), but an epoch of one-sample updates takes many times longer than an epoch of mini-batches:
// an update costs about as much for 32 samples as for one, and mini-batch noise is smaller.
//
// Run: ./gradient_descent_variants [--epochs N] [--lr X] [--batch B] [--seed S] [--out DIR]
// Writes gradient_descent_variants.png: the three loss curves, each named with its time per epoch.
#include <cmath>
#include <cstdio>
#include <iostream>

#include <autograd/autograd.hpp>
#include <data/data.hpp>
#include <nn/nn.hpp>
#include <optim/optim.hpp>

#include "common.hpp"

using ag::Tensor;
namespace F = ag::nn::functional;

namespace {

struct Run {
  std::string name;
  std::size_t batch;
  std::vector<double> loss, seconds;  // after each epoch, over all samples; seconds so far
};

void train(Run& run, const ag::data::TensorDataset& data, int epochs, double lr, std::uint64_t seed) {
  ag::manual_seed(seed);  // the same starting weights for every variant
  auto model = ag::nn::mlp({1, 32, 1}, "tanh");
  ag::optim::SGD sgd(model->parameters(), {lr});
  ag::data::DataLoader loader(data, run.batch);
  auto full_loss = [&] {
    ag::NoGradGuard no_grad;
    return F::mse_loss((*model)(data.inputs()), data.targets()).item();
  };
  run.loss.push_back(full_loss());
  run.seconds.push_back(0);
  double elapsed = 0;
  for (int epoch = 1; epoch <= epochs; ++epoch) {
    ex::Timer timer;
    for (const ag::data::Batch& b : loader) {
      Tensor loss = F::mse_loss((*model)(b.inputs), b.targets);
      sgd.zero_grad();
      loss.backward();
      sgd.step();
    }
    elapsed += timer.seconds();  // training only: the loss below is for the plot
    run.loss.push_back(full_loss());
    run.seconds.push_back(elapsed);
  }
}

}  // namespace

int main(int argc, char** argv) {
  ex::Args args;
  args.epochs = 40;
  args.lr = 0.05;
  args.batch = 32;
  args.parse(argc, argv);
  args.apply();

  const std::size_t n = 1024;
  Tensor x = ag::rand({n, 1}) * 4.0 - 2.0;  // x in [-2, 2)
  Tensor y = ag::sin(x * 3.0) + ag::randn({n, 1}) * 0.1;
  ag::data::TensorDataset data(x, y);
  std::printf("task: fit y = sin(3x) + noise from %zu samples, network 1-32-1 tanh, SGD lr %g\n\n", n, args.lr);

  std::vector<Run> runs = {{"full batch (1024)", n, {}, {}},
                           {"stochastic (1)", 1, {}, {}},
                           {"mini-batch (" + std::to_string(args.batch) + ")", args.batch, {}, {}}};
  std::printf("%-20s %8s %12s %14s %11s\n", "variant", "updates", "final loss", "time/epoch", "total");
  for (Run& run : runs) {
    train(run, data, args.epochs, args.lr, args.seed + 1);
    double updates = std::ceil(static_cast<double>(n) / run.batch);
    std::printf("%-20s %8.0f %12.5f %11.3f ms %9.3f s\n", run.name.c_str(), updates, run.loss.back(),
                1000 * run.seconds.back() / args.epochs, run.seconds.back());
  }

  std::vector<ex::Series> curves;
  for (std::size_t i = 0; i < runs.size(); ++i) {
    std::vector<double> epochs;
    for (std::size_t e = 0; e < runs[i].loss.size(); ++e) epochs.push_back(static_cast<double>(e));
    std::string label = runs[i].name + ": " + ex::fixed(1000 * runs[i].seconds.back() / args.epochs, 1) + " ms/epoch";
    curves.push_back({label, epochs, runs[i].loss, ex::palette(i)});
  }
  std::string path = args.out_path("gradient_descent_variants.png");
  ex::line_plot(curves, "full-batch, stochastic and mini-batch gradient descent", "epoch",
                "mean squared error", true)
      .save_png(path);
  std::cout << "wrote " << path << "\n\n";

  const Run &full = runs[0], &stochastic = runs[1], &mini = runs[2];
  for (const Run& run : runs)
    ex::expect(run.loss.back() < run.loss.front(), run.name + " lowers the loss");
  ex::expect(mini.loss.back() < full.loss.back() && stochastic.loss.back() < full.loss.back(),
             "after the same epochs, the variants with more updates are further along");
  ex::expect(mini.loss.back() < 0.1, "mini-batch descent fits the curve (loss " + ex::fixed(mini.loss.back()) + " < 0.1)");
  ex::expect(stochastic.seconds.back() > mini.seconds.back(),
             "an epoch of one-sample updates takes longer than one of mini-batches");
  return ex::exit_code();
}
