// After the TensorFlow playground (playground.tensorflow.org): small networks learning to split
// the plane into two classes, on its four datasets: circle, xor, gaussian and spiral.
//
// The data generators follow the playground's (500 points in [-6, 6]^2, half for training, half
// for testing, label 1 drawn blue and 0 orange), and so does the training: mini-batches of 10,
// tanh units, here with momentum. Pictures of the decision boundary at several points in
// training show the network bending its boundary around the data.
//
// Run: ./playground [--dataset all|circle|xor|gaussian|spiral] [--hidden 8,8] [--activation tanh]
//                   [--epochs N] [--lr X] [--batch B] [--seed S] [--out DIR]
// Writes playground_<dataset>.png for each dataset.
#include <algorithm>
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

const double kPi = 3.14159265358979323846;

double uniform(double lo, double hi) { return lo + (hi - lo) * ag::random_uniform(); }

// n points of one dataset, as (x, y) rows and 0/1 labels.
struct Points {
  std::vector<double> xy, label;
  void add(double x, double y, bool positive) {
    xy.push_back(x);
    xy.push_back(y);
    label.push_back(positive ? 1 : 0);
  }
};

Points make(const std::string& name, std::size_t n) {
  Points p;
  if (name == "circle") {  // a disc of one class inside a ring of the other
    for (std::size_t i = 0; i < n; ++i) {
      bool inside = i % 2 == 0;
      double r = inside ? uniform(0, 2.5) : uniform(3.5, 5), angle = uniform(0, 2 * kPi);
      p.add(r * std::sin(angle), r * std::cos(angle), inside);
    }
  } else if (name == "xor") {  // the sign of x * y, kept 0.3 away from the axes
    for (std::size_t i = 0; i < n; ++i) {
      double x = uniform(-5, 5), y = uniform(-5, 5);
      x += x > 0 ? 0.3 : -0.3;
      y += y > 0 ? 0.3 : -0.3;
      p.add(x, y, x * y >= 0);
    }
  } else if (name == "gaussian") {  // two blobs, variance 0.5, around (2, 2) and (-2, -2)
    for (std::size_t i = 0; i < n; ++i) {
      bool positive = i % 2 == 0;
      double c = positive ? 2 : -2, sd = std::sqrt(0.5);
      p.add(c + sd * ag::random_normal(), c + sd * ag::random_normal(), positive);
    }
  } else if (name == "spiral") {  // two arms, each 1.75 turns out to radius 5
    for (std::size_t i = 0; i < n; ++i) {
      bool positive = i % 2 == 0;
      double s = static_cast<double>(i / 2) / static_cast<double>(n / 2);
      double r = 5 * s, t = 1.75 * 2 * kPi * s + (positive ? 0 : kPi);
      p.add(r * std::sin(t), r * std::cos(t), positive);
    }
  } else {
    std::cerr << "unknown dataset '" << name << "': use circle, xor, gaussian, spiral or all\n";
    std::exit(2);
  }
  return p;
}

ag::data::TensorDataset to_dataset(const Points& p) {
  std::size_t n = p.label.size();
  return {ag::tensor(p.xy, {n, 2}), ag::tensor(p.label, {n, 1})};
}

// Shuffles the points and splits them in half: training and test sets.
std::pair<ag::data::TensorDataset, ag::data::TensorDataset> split(const Points& all) {
  std::vector<std::size_t> order(all.label.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  for (std::size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[ag::random_u64() % i]);
  Points train, test;
  for (std::size_t k = 0; k < order.size(); ++k) {
    std::size_t i = order[k];
    (k % 2 == 0 ? train : test).add(all.xy[2 * i], all.xy[2 * i + 1], all.label[i] > 0.5);
  }
  return {to_dataset(train), to_dataset(test)};
}

struct Setting {
  std::string dataset;
  int epochs;
  double min_accuracy;  // what the check asks of the final test accuracy
};

// Trains one network on one dataset; returns its final test accuracy.
double run(const Setting& s, const ex::Args& args) {
  // Named, not a structured binding: lambdas may capture bindings only from C++20 (clang 14
  // rejects it in C++17).
  auto halves = split(make(s.dataset, 500));
  auto& train = halves.first;
  auto& test = halves.second;
  std::vector<std::size_t> sizes = {2};
  for (std::size_t h : args.hidden_sizes()) sizes.push_back(h);
  sizes.push_back(1);
  auto model = ag::nn::mlp(sizes, args.activation);  // one logit: P(blue) = sigmoid(logit)
  ag::optim::SGD sgd(model->parameters(), {args.lr, 0.9});
  ag::data::DataLoader loader(train, args.batch);

  auto prob = [&](const Tensor& xy) { return ag::sigmoid((*model)(xy)); };
  auto test_accuracy = [&] {
    ag::NoGradGuard no_grad;
    return ex::binary_accuracy(prob(test.inputs()), test.targets());
  };
  auto snapshot = [&](int epoch) {
    std::string title = "epoch " + std::to_string(epoch) + ": " + ex::fixed(test_accuracy(), 2);
    return ex::decision_boundary(prob, test.inputs(), test.targets(), -6, 6, -6, 6, title, 220);
  };
  // Snapshots before training and at 1/10, 1/4, 1/2 and all of the epochs.
  std::vector<int> at = {0, std::max(1, s.epochs / 10), std::max(1, s.epochs / 4), std::max(1, s.epochs / 2), s.epochs};
  std::vector<ex::Image> panels = {snapshot(0)};

  double loss_sum = 0;
  for (int epoch = 1; epoch <= s.epochs; ++epoch) {
    loss_sum = 0;
    for (const ag::data::Batch& b : loader) {
      Tensor loss = F::binary_cross_entropy_with_logits((*model)(b.inputs), b.targets);
      sgd.zero_grad();
      loss.backward();
      sgd.step();
      loss_sum += loss.item() * static_cast<double>(b.inputs.size(0));
    }
    if (std::find(at.begin() + 1, at.end(), epoch) != at.end() && panels.size() < at.size())
      panels.push_back(snapshot(epoch));
  }
  double accuracy = test_accuracy();
  std::printf("%-8s %-6s %-10s %6d %12.4f %10.4f\n", s.dataset.c_str(), args.hidden.c_str(),
              args.activation.c_str(), s.epochs, loss_sum / static_cast<double>(train.size()), accuracy);
  ex::hstack(panels).save_png(args.out_path("playground_" + s.dataset + ".png"));
  return accuracy;
}

}  // namespace

int main(int argc, char** argv) {
  ex::Args args;
  args.hidden = "8,8";
  args.activation = "tanh";
  args.lr = 0.01;  // with momentum 0.9: steps of about 0.1 times the gradient
  args.batch = 10;
  args.dataset = "all";
  args.parse(argc, argv);
  args.apply();

  // Epochs each dataset gets by default, and the test accuracy it must reach.
  std::vector<Setting> settings = {
      {"circle", 100, 0.95},
      {"xor", 100, 0.95},
      {"gaussian", 50, 0.95},
      {"spiral", 1000, 0.90},
  };
  std::printf("%-8s %-6s %-10s %6s %12s %10s\n", "dataset", "hidden", "activation", "epochs",
              "train loss", "test acc");
  std::vector<std::pair<Setting, double>> results;
  for (Setting s : settings) {
    if (args.dataset != "all" && args.dataset != s.dataset) continue;
    if (args.given("--epochs")) s.epochs = args.epochs;
    results.push_back({s, run(s, args)});
  }
  if (results.empty()) make(args.dataset, 0);  // names the unknown dataset and exits

  std::cout << "wrote playground_<dataset>.png to " << args.out << "\n";
  for (const auto& [s, accuracy] : results)
    ex::expect(accuracy >= s.min_accuracy,
               s.dataset + ": test accuracy " + ex::fixed(accuracy) + " >= " + ex::fixed(s.min_accuracy, 2));
  return ex::exit_code();
}
