// Kilometres to miles: a model with one parameter, miles = c * km, learned from example pairs.
//
// Gradient descent moves c against the slope of the error. A moderate learning rate walks c to
// 0.621; a larger one overshoots and swings around the answer; too large a one overshoots
// further on every step and diverges.
//
// Run: ./km_to_miles [--epochs N] [--lr X] [--out DIR]
// Without --lr it compares three learning rates; writes km_to_miles.png.
#include <cmath>
#include <cstdio>
#include <iostream>

#include <autograd/autograd.hpp>
#include <nn/nn.hpp>
#include <optim/optim.hpp>

#include "common.hpp"

using ag::Tensor;

namespace {

const double kTrueC = 0.621371;  // miles per kilometre, used only to make the examples

// Learns c from (km, miles) pairs, starting at c = 0.5; returns c after every step.
std::vector<double> learn(const Tensor& km, const Tensor& miles, double lr, int steps) {
  Tensor c = ag::scalar(0.5).requires_grad_();
  ag::optim::SGD sgd({c}, {lr});
  std::vector<double> history = {c.item()};
  for (int s = 0; s < steps; ++s) {
    Tensor loss = ag::nn::functional::mse_loss(c * km, miles);  // mean((c km - miles)^2)
    sgd.zero_grad();
    loss.backward();
    sgd.step();  // c -= lr * dloss/dc
    history.push_back(c.item());
  }
  return history;
}

}  // namespace

int main(int argc, char** argv) {
  ex::Args args;
  args.epochs = 30;
  args.parse(argc, argv);
  args.apply();

  std::vector<double> km_values = {1, 2, 5, 10, 20}, mile_values;
  for (double k : km_values) mile_values.push_back(k * kTrueC);
  Tensor km = ag::tensor(km_values, {km_values.size()});
  Tensor miles = ag::tensor(mile_values, {mile_values.size()});
  std::cout << "examples (km -> miles):";
  for (std::size_t i = 0; i < km_values.size(); ++i)
    std::printf("  %g -> %.3f", km_values[i], mile_values[i]);
  std::cout << "\n";

  // The loss is a parabola in c with curvature 2 mean(km^2): a step larger than 2 / curvature
  // lands further from the minimum than it started.
  double mean_sq = 0;
  for (double k : km_values) mean_sq += k * k / km_values.size();
  double lr_limit = 1 / mean_sq;
  std::printf("loss = mean((c km - miles)^2); it diverges for learning rates above %.4f\n\n", lr_limit);

  struct Run {
    std::string label;
    double lr;
  };
  std::vector<Run> runs;
  if (args.given("--lr")) runs.push_back({"lr " + std::to_string(args.lr), args.lr});
  else
    runs = {{"moderate", 0.2 * lr_limit}, {"large: overshoots", 0.85 * lr_limit},
            {"too large: diverges", 1.1 * lr_limit}};

  std::vector<std::vector<double>> histories;
  for (const auto& run : runs) histories.push_back(learn(km, miles, run.lr, args.epochs));

  std::printf("step");
  for (const auto& run : runs) std::printf(" | c, lr %.4f", run.lr);
  std::printf("\n");
  for (int s = 0; s <= args.epochs; ++s) {
    if (s > 10 && s % 5 != 0 && s != args.epochs) continue;
    std::printf("%4d", s);
    for (const auto& h : histories) std::printf(" | %12.5f", h[s]);
    std::printf("\n");
  }

  // The answer first, so that the learning curves are drawn over it.
  std::vector<ex::Series> series = {
      {"0.621 (the answer)", {}, std::vector<double>(args.epochs + 1, kTrueC), ex::colors::grey}};
  for (std::size_t r = 0; r < runs.size(); ++r) {
    std::vector<double> shown = histories[r];
    for (double& c : shown)
      if (std::abs(c - kTrueC) > 0.6) c = NAN;  // a diverging run leaves the picture
    series.push_back({runs[r].label, {}, shown, ex::palette(r)});
  }
  for (auto& s : series)
    for (int i = 0; i <= args.epochs; ++i) s.x.push_back(i);
  std::string path = args.out_path("km_to_miles.png");
  ex::line_plot(series, "c = miles per km, learned by gradient descent", "step", "c").save_png(path);
  std::cout << "wrote " << path << "\n\n";

  const std::vector<double>& first = histories[0];
  ex::expect(std::abs(first.back() - kTrueC) < 0.01,
             "c ends within 0.01 of 0.621 (c = " + ex::fixed(first.back()) + ")");
  if (runs.size() == 3) {
    const std::vector<double>& swing = histories[1];
    bool overshot = false;
    for (double c : swing) overshot = overshot || c > kTrueC + 0.01;
    ex::expect(overshot && std::abs(swing.back() - kTrueC) < 0.01,
               "the larger rate overshoots 0.621, then settles");
    const std::vector<double>& wild = histories[2];
    ex::expect(std::abs(wild.back() - kTrueC) > std::abs(wild.front() - kTrueC),
               "the too-large rate ends further away than it started (c = " + ex::fixed(wild.back()) + ")");
  }
  return ex::exit_code();
}
