// Multi-class probabilities: rain, sun, cloud or snow, from temperature, humidity and pressure.
//
// The model gives one score (logit) per class; softmax turns the scores into probabilities that
// are positive and sum to 1, and cross-entropy, -log(probability of the right class), is the
// loss that trains them. The data is synthetic: each kind of weather draws its measurements
// around typical values.
//
// Run: ./weather [--epochs N] [--batch B] [--lr X] [--seed S]
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

const char* kClasses[] = {"rain", "sun", "cloud", "snow"};

struct Typical {
  double mean, spread;
};
// Per class: temperature (deg C), humidity (%), pressure (hPa).
const Typical kWeather[4][3] = {
    {{12, 5}, {88, 6}, {1000, 6}},   // rain: mild, humid, low pressure
    {{24, 6}, {45, 12}, {1022, 5}},  // sun: warm, dry, high pressure
    {{15, 6}, {72, 8}, {1012, 5}},   // cloud: in between
    {{-3, 3}, {85, 7}, {1005, 7}},   // snow: below freezing, humid
};

ag::data::TensorDataset make_days(std::size_t n) {
  std::vector<double> x, y;
  for (std::size_t i = 0; i < n; ++i) {
    std::size_t k = i % 4;
    for (const Typical& t : kWeather[k]) x.push_back(t.mean + t.spread * ag::random_normal());
    y.push_back(static_cast<double>(k));
  }
  return {ag::tensor(x, {n, 3}), ag::tensor(y, {n}, ag::int64)};
}

}  // namespace

int main(int argc, char** argv) {
  ex::Args args;
  args.epochs = 20;
  args.batch = 32;
  args.lr = 0.1;
  args.parse(argc, argv);
  args.apply();

  ag::data::TensorDataset train = make_days(800), test = make_days(400);

  // Features of very different sizes (1000 hPa next to 20 deg C) slow gradient descent down:
  // shift and scale each to mean 0, spread 1, using the training data's statistics.
  Tensor mean = ag::mean(train.inputs(), {0}, true);
  Tensor spread = ag::sqrt(ag::mean(ag::pow(train.inputs() - mean, 2), {0}, true));
  auto standardise = [&](const Tensor& x) { return (x - mean) / spread; };

  // Four outputs, one logit per class; no softmax inside: cross_entropy applies log_softmax.
  auto model = ag::nn::mlp({3, 16, 4}, "tanh");
  ag::optim::SGD sgd(model->parameters(), {args.lr, 0.9});
  ag::data::TensorDataset scaled(standardise(train.inputs()), train.targets());
  ag::data::DataLoader loader(scaled, args.batch);
  for (int epoch = 1; epoch <= args.epochs; ++epoch) {
    double total = 0;
    for (const ag::data::Batch& b : loader) {
      Tensor loss = F::cross_entropy((*model)(b.inputs), b.targets);
      sgd.zero_grad();
      loss.backward();
      sgd.step();
      total += loss.item() * static_cast<double>(b.inputs.size(0));
    }
    if (epoch == 1 || epoch % 5 == 0 || epoch == args.epochs)
      std::printf("epoch %2d: cross-entropy %.4f\n", epoch, total / static_cast<double>(train.size()));
  }

  ag::NoGradGuard no_grad;
  double test_accuracy = ex::accuracy((*model)(standardise(test.inputs())), test.targets());
  std::printf("accuracy on %zu new days: %.4f\n\n", test.size(), test_accuracy);

  std::cout << "probabilities for some days:\n";
  // Four typical days, and one between rain and cloud where the model should hedge.
  const Tensor days =
      ag::tensor({{30, 35, 1025}, {-5, 90, 1003}, {11, 92, 996}, {16, 70, 1012}, {14, 80, 1006}});
  const char* expected[] = {"sun", "snow", "rain", "cloud", nullptr};
  Tensor probs = ag::softmax((*model)(standardise(days)), 1);
  std::vector<double> d = days.to_vector(), p = probs.to_vector();
  std::printf("  temp  humid  press |  rain   sun  cloud  snow | sum  | most likely\n");
  bool typical_days_right = true, sums_to_one = true;
  for (std::size_t i = 0; i < days.size(0); ++i) {
    double sum = 0;
    std::size_t best = 0;
    for (std::size_t k = 0; k < 4; ++k) {
      sum += p[4 * i + k];
      if (p[4 * i + k] > p[4 * i + best]) best = k;
    }
    std::printf("  %4.0f  %5.0f  %5.0f | %5.3f %5.3f %5.3f %5.3f | %.3f | %s\n", d[3 * i], d[3 * i + 1],
                d[3 * i + 2], p[4 * i], p[4 * i + 1], p[4 * i + 2], p[4 * i + 3], sum, kClasses[best]);
    if (expected[i]) typical_days_right = typical_days_right && std::string(kClasses[best]) == expected[i];
    sums_to_one = sums_to_one && std::abs(sum - 1) < 1e-5;
  }

  // Cross-entropy of one day is -log of the probability the model gave the right answer.
  Tensor snow = ag::tensor({3}, {1}, ag::int64);  // class index of snow, for the one day
  double ce = F::cross_entropy((*model)(standardise(days.slice(0, 1, 2))), snow).item();
  std::printf("\ncross-entropy of day 2 labelled snow: %.4f = -log(%.4f)\n", ce, p[4 + 3]);

  // The chain rule of that loss, step by step. cross_entropy is one node whose rule is
  // dlogits = (softmax(logits) - onehot(snow)) * dloss / N: every class's probability pushes its
  // logit down, snow's is pulled up by 1. (nll_loss(log_softmax(logits, 1), snow) would show the
  // same as four steps.) KeepGradsForDumpsGuard keeps every gradient for the trace. (Grad mode
  // back on: the table above ran under NoGradGuard.)
  ag::set_grad_enabled(true);
  Tensor logits = (*model)(standardise(days.slice(0, 1, 2))).set_name("logits");
  Tensor day_loss = F::cross_entropy(logits, snow.set_name("snow")).set_name("loss");
  model->zero_grad();  // .grad then holds this backward only
  {
    ag::KeepGradsForDumpsGuard keep;
    day_loss.backward();
  }
  const std::string trace = ag::chain_rule_trace(day_loss);
  std::cout << "\n" << trace;
  ex::expect(trace.find("not recomputed") == std::string::npos &&
                 trace.find("(softmax(logits) - onehot(snow))") != std::string::npos,
             "the trace of the cross-entropy shows every step with its numbers, softmax's too");

  ex::expect(sums_to_one, "each row of probabilities sums to 1");
  ex::expect(typical_days_right, "typical days get their weather as the most likely class");
  ex::expect(std::abs(ce + std::log(p[4 + 3])) < 1e-4, "cross-entropy is -log(p of the true class)");
  ex::expect(test_accuracy >= 0.85, "accuracy on new days >= 0.85 (" + ex::fixed(test_accuracy) + ")");
  return ex::exit_code();
}
