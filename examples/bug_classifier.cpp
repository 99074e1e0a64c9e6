// Ladybirds and caterpillars, told apart by width and length with a straight dividing line
// (after "Make Your Own Neural Network").
//
//   1. The book's rule with two bugs: the line length = A * width, nudged by each example.
//      Fixing each example fully (learning rate 1) just fits the last bug seen; moderating each
//      update (learning rate 0.5) keeps what the earlier ones taught.
//   2. The same idea on many bugs with autograd: a linear classifier w . x + b, updated one bug
//      at a time by gradient descent, with a learning rate moderating every update.
//
// Run: ./bug_classifier [--epochs N] [--lr X] [--seed S] [--out DIR]; writes bug_classifier.png.
#include <cstdio>
#include <iostream>

#include <autograd/autograd.hpp>
#include <data/data.hpp>
#include <nn/nn.hpp>
#include <optim/optim.hpp>

#include "common.hpp"

using ag::Tensor;

namespace {

// The book's classifier: length = A * width. Each example asks for a line just above a
// ladybird (target 1.1 for its length 1) or just below a caterpillar (2.9 for length 3).
double book_rule(double learning_rate) {
  struct Example {
    const char* bug;
    double width, target;
  };
  const Example examples[] = {{"ladybird    (3.0, 1.0)", 3.0, 1.1}, {"caterpillar (1.0, 3.0)", 1.0, 2.9}};
  double a = 0.25;
  std::printf("  learning rate %.1f, start A = %.4f\n", learning_rate, a);
  for (const Example& e : examples) {
    double error = e.target - a * e.width;
    a += learning_rate * error / e.width;  // the change that would fix this example, moderated
    std::printf("    %s: error %+.4f -> A = %.4f\n", e.bug, error, a);
  }
  return a;
}

bool separates(double a) { return 1.0 < a * 3.0 && 3.0 > a * 1.0; }  // ladybird below, caterpillar above

// n bugs of each kind: ladybirds are wide and short, caterpillars narrow and long.
// Label 0: ladybird, 1: caterpillar.
ag::data::TensorDataset make_bugs(std::size_t n) {
  Tensor noise = ag::randn({2 * n, 2}) * 0.3;
  std::vector<double> centre, label;
  for (std::size_t i = 0; i < 2 * n; ++i) {
    bool caterpillar = i % 2 == 1;
    centre.push_back(caterpillar ? 1.0 : 3.0);  // width
    centre.push_back(caterpillar ? 3.0 : 1.2);  // length
    label.push_back(caterpillar);
  }
  return {ag::tensor(centre, {2 * n, 2}) + noise, ag::tensor(label, {2 * n, 1})};
}

}  // namespace

int main(int argc, char** argv) {
  ex::Args args;
  args.epochs = 5;
  args.lr = 0.1;
  args.parse(argc, argv);
  args.apply();

  std::cout << "1. The book's rule: length = A * width, one update per example\n";
  double a_full = book_rule(1.0);
  double a_moderated = book_rule(0.5);
  std::printf("  unmoderated A = %.4f only fits the last bug; moderated A = %.4f\n", a_full, a_moderated);
  ex::expect(separates(a_moderated), "the moderated line separates the two bugs");
  std::cout << "\n";

  std::cout << "2. A linear classifier learned from 40 bugs, one bug per update (lr " << args.lr << ")\n";
  ag::data::TensorDataset train = make_bugs(20), test = make_bugs(20);
  ag::nn::Linear classifier(2, 1);  // caterpillar if w1 width + w2 length + b > 0
  ag::optim::SGD sgd(classifier.parameters(), {args.lr});
  ag::data::DataLoader loader(train, 1);  // one bug at a time, in a new order every epoch
  auto train_accuracy = [&] { return ex::binary_accuracy(ag::sigmoid(classifier(train.inputs())), train.targets()); };
  for (int epoch = 1; epoch <= args.epochs; ++epoch) {
    for (const ag::data::Batch& bug : loader) {
      Tensor loss = ag::nn::functional::binary_cross_entropy_with_logits(classifier(bug.inputs), bug.targets);
      sgd.zero_grad();
      loss.backward();
      sgd.step();
    }
    std::vector<double> w = classifier.weight.to_vector();
    std::printf("  epoch %2d: line %.3f*width %+.3f*length %+.3f = 0, training accuracy %.2f\n", epoch,
                w[0], w[1], classifier.bias.item(), train_accuracy());
  }
  double test_accuracy = ex::binary_accuracy(ag::sigmoid(classifier(test.inputs())), test.targets());
  std::printf("  accuracy on 40 new bugs: %.2f\n", test_accuracy);
  ex::expect(train_accuracy() == 1.0, "the learned line separates the training bugs");
  ex::expect(test_accuracy >= 0.95, "and classifies new bugs (accuracy >= 0.95)");

  std::vector<double> w = classifier.weight.to_vector();
  ex::Image picture = ex::scatter(
      train.inputs(), train.targets(), {"ladybird", "caterpillar"},
      {{"book: length = " + ex::fixed(a_moderated, 2) + " width", a_moderated, -1, 0, ex::colors::grey},
       {"learned by gradient descent", w[0], w[1], classifier.bias.item(), ex::colors::blue}},
      0, 4.5, 0, 4.5, "ladybirds and caterpillars", "width", "length");
  std::string path = args.out_path("bug_classifier.png");
  picture.save_png(path);
  std::cout << "wrote " << path << "\n";
  return ex::exit_code();
}
