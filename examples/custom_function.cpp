// A custom function with its own backward: log(1 + e^x), written so that it never overflows,
// used as the activation of a small classifier that trains, and checked by gradcheck to first
// and second order. A gradient hook on the hidden layer and a post-accumulate hook on a weight
// show the other extension points.
//
// Naively, log(1 + exp(x)) overflows to inf for x > 88 in float32. The stable form is
// max(x, 0) + log(1 + exp(-|x|)), and its derivative is sigmoid(x). Writing backward with ag ops
// (sigmoid, mul) makes create_graph differentiate it again: gradgradcheck passes, where the
// common "detach() trick" (forward on detached values, gradient pasted on) gets second order wrong.
#include <cmath>
#include <cstdio>

#include <autograd/autograd.hpp>
#include <nn/nn.hpp>
#include <optim/optim.hpp>

using namespace ag;

struct Log1pExp : Function<Log1pExp> {
  static constexpr const char* name = "log1p_exp";
  static Tensor forward(AutogradContext* ctx, Tensor x) {
    ctx->save_for_backward({x});
    return relu(x) + log(exp(-abs(x)) + 1.0);
  }
  static std::vector<Tensor> backward(AutogradContext* ctx, std::vector<Tensor> grad_outputs) {
    Tensor x = ctx->get_saved_variables()[0];
    return {grad_outputs[0] * sigmoid(x)};
  }
};

struct Classifier : nn::Module {
  std::shared_ptr<nn::Linear> fc1, fc2;
  Classifier() {
    fc1 = register_module("fc1", std::make_shared<nn::Linear>(2, 16));
    fc2 = register_module("fc2", std::make_shared<nn::Linear>(16, 2));
  }
  Tensor forward(const Tensor& x) override { return (*fc2)(Log1pExp::apply((*fc1)(x))); }
};

static bool check(bool ok, const char* what) {
  std::printf("%s %s\n", ok ? "[ok]  " : "[FAIL]", what);
  return ok;
}

int main() {
  bool ok = true;
  // 1. Values where the naive formula overflows, and the gradient there.
  Tensor big = tensor({-100.0, 0.0, 100.0}).requires_grad_();
  Tensor y = Log1pExp::apply(big);
  y.sum().backward();
  ok &= check(std::isfinite(y[2].item()) && std::abs(y[2].item() - 100) < 1e-4,
              "log1p_exp(100) = 100 in float32, where log(1 + exp(100)) is inf");
  ok &= check(std::abs(big.grad()[1].item() - 0.5) < 1e-6, "its gradient at 0 is sigmoid(0)");

  // 2. gradcheck, first and second order, in float64.
  Tensor x = tensor({-3.0, -0.5, 0.2, 4.0}, {4}, float64).requires_grad_();
  auto f = [](const std::vector<Tensor>& in) { return Log1pExp::apply(in[0]); };
  GradcheckResult first = gradcheck(f, {x}), second = gradgradcheck(f, {x});
  std::printf("%s%s", first.report().c_str(), second.report().c_str());
  ok &= check(first.ok && second.ok, "gradcheck and gradgradcheck pass");

  // 3. A classifier with log1p_exp as its activation: two interleaved moons of points.
  manual_seed(1);
  const std::size_t n = 200;
  std::vector<double> angle = (rand({n}) * 3.14159).to_vector(), pts;
  std::vector<std::int64_t> label(n);
  for (std::size_t i = 0; i < n; ++i) {
    bool upper = i % 2 == 0;
    label[i] = upper ? 1 : 0;
    pts.push_back(upper ? std::cos(angle[i]) : 1 - std::cos(angle[i]));
    pts.push_back(upper ? std::sin(angle[i]) : 0.5 - std::sin(angle[i]));
  }
  Tensor points = ag::tensor(pts, {n, 2});
  Tensor labels = ag::tensor(label, {n});
  auto model = std::make_shared<Classifier>();
  optim::Adam opt(model->parameters(), {/*lr=*/0.05});
  int ready = 0;  // the post-accumulate hook counts gradients that reached fc1.weight
  model->fc1->weight.register_post_accumulate_grad_hook([&](Tensor&) { ++ready; });
  Tensor loss;
  const int steps = 300;
  for (int step = 0; step < steps; ++step) {
    loss = nn::functional::cross_entropy((*model)(points), labels);
    opt.zero_grad();
    loss.backward();
    opt.step();
    if (step % 100 == 0) std::printf("step %3d  loss %.4f\n", step, loss.item());
  }
  Tensor predicted = argmax((*model)(points), 1);
  std::vector<std::int64_t> guess = predicted.to_vector<std::int64_t>();
  std::size_t right = 0;
  for (std::size_t i = 0; i < n; ++i) right += guess[i] == label[i];
  std::printf("final loss %.4f, training accuracy %.3f\n", loss.item(), double(right) / n);
  ok &= check(double(right) / n > 0.95, "the classifier separates the moons (accuracy > 0.95)");
  ok &= check(ready == steps, "fc1.weight's post-accumulate hook ran once per backward");

  // 4. A gradient hook on the hidden layer: scale its gradient, see the weight gradient follow.
  Tensor h = Log1pExp::apply((*model->fc1)(points));
  Tensor plain = grad({nn::functional::cross_entropy((*model->fc2)(h), labels)},
                      {model->fc1->weight})[0];
  Tensor h2 = Log1pExp::apply((*model->fc1)(points));
  h2.register_hook([](const Tensor& g) { return g * 2.0; });
  Tensor hooked = grad({nn::functional::cross_entropy((*model->fc2)(h2), labels)},
                       {model->fc1->weight})[0];
  std::vector<double> a = plain.to_vector(), b = hooked.to_vector();
  double worst = 0;
  for (std::size_t i = 0; i < a.size(); ++i) worst = std::fmax(worst, std::abs(2 * a[i] - b[i]));
  ok &= check(worst < 1e-5, "a hook doubling dL/dh doubles dL/dW1");
  return ok ? 0 : 1;
}
