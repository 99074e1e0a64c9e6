// "Make Your Own Neural Network" sends the output errors back to the hidden layer by splitting
// them along the weights: e_hidden = W_ho^T e. That is not the gradient. This example puts the
// two side by side on a 3-4-3 sigmoid network (no biases, as in the book) and shows which
// factors make them differ:
//   - the output layer: the book's update is the gradient up to the factor 2/N of the mean
//     squared error (N outputs), the same for every weight: only the step size changes;
//   - the hidden layer: the book's e_hidden leaves out the output sigmoid's derivative
//     o (1 - o), which weighs each output differently: the direction changes, not only its size.
// Putting both factors back gives autograd's gradient exactly. Then both rules train the same
// network from the same start, and both lower the loss.
#include <algorithm>
#include <cmath>
#include <iostream>

#include <autograd/autograd.hpp>

#include "common.hpp"

using ag::Tensor;

namespace {

constexpr std::size_t N_IN = 3, N_HID = 4, N_OUT = 3;

struct Net {
  Tensor W_ih, W_ho;  // {hidden, in} and {out, hidden}: column vectors, as in the book
};

struct Pass {
  Tensor h, o, loss;
};

// x and t are columns {3, 1}.
Pass forward(const Net& net, const Tensor& x, const Tensor& t) {
  Pass p;
  p.h = ag::sigmoid(ag::matmul(net.W_ih, x)).set_name("h");
  p.o = ag::sigmoid(ag::matmul(net.W_ho, p.h)).set_name("o");
  p.loss = ag::mean((t - p.o) * (t - p.o)).set_name("loss");
  return p;
}

struct Updates {
  Tensor dW_ih, dW_ho;  // what to add to the weights, before the learning rate
};

// The book's rule (train() in MYONN): errors split back along the weights.
Updates error_split(const Net& net, const Tensor& x, const Tensor& t) {
  ag::NoGradGuard no_grad;
  Tensor h = ag::sigmoid(ag::matmul(net.W_ih, x));
  Tensor o = ag::sigmoid(ag::matmul(net.W_ho, h));
  Tensor e_out = t - o;
  Tensor e_hid = ag::matmul(ag::t(net.W_ho), e_out);  // W_ho^T e: the split
  return {ag::matmul(e_hid * h * (1.0 - h), ag::t(x)), ag::matmul(e_out * o * (1.0 - o), ag::t(h))};
}

// The gradient's rule: minus dloss/dW from autograd.
Updates negative_gradient(const Net& net, const Tensor& x, const Tensor& t) {
  Pass p = forward(net, x, t);
  auto g = ag::grad({p.loss}, {net.W_ih, net.W_ho});
  return {-g[0], -g[1]};
}

double max_abs_diff(const Tensor& a, const Tensor& b) {
  const auto x = a.to_vector(), y = b.to_vector();
  double m = 0;
  for (std::size_t i = 0; i < x.size(); ++i) m = std::max(m, std::fabs(x[i] - y[i]));
  return m;
}

double cosine(const Tensor& a, const Tensor& b) {
  const auto x = a.to_vector(), y = b.to_vector();
  double xy = 0, xx = 0, yy = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    xy += x[i] * y[i];
    xx += x[i] * x[i];
    yy += y[i] * y[i];
  }
  return xy / std::sqrt(xx * yy);
}

std::string values(const Tensor& t) {
  std::string s = "[";
  const auto v = t.to_vector();
  for (std::size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + ex::fixed(v[i], 4);
  return s + "]";
}

// Per-element ratio book / gradient, as text.
std::string ratios(const Tensor& book, const Tensor& grad) {
  const auto x = book.to_vector(), y = grad.to_vector();
  std::string s;
  for (std::size_t i = 0; i < x.size(); ++i) s += (i ? " " : "") + ex::fixed(x[i] / y[i], 3);
  return s;
}

// Inputs: the 8 patterns of 3 bits. Targets (0.01 / 0.99, the book's range): x0 OR x1,
// x1 AND x2, and x0 itself.
std::vector<std::pair<Tensor, Tensor>> dataset() {
  std::vector<std::pair<Tensor, Tensor>> data;
  for (int k = 0; k < 8; ++k) {
    const double b0 = k & 1, b1 = (k >> 1) & 1, b2 = (k >> 2) & 1;
    auto level = [](bool on) { return on ? 0.99 : 0.01; };
    data.emplace_back(
        ag::tensor({0.01 + 0.98 * b0, 0.01 + 0.98 * b1, 0.01 + 0.98 * b2}, {N_IN, 1}, ag::float64),
        ag::tensor({level(b0 || b1), level(b1 && b2), level(b0)}, {N_OUT, 1}, ag::float64));
  }
  return data;
}

double mean_loss(const Net& net, const std::vector<std::pair<Tensor, Tensor>>& data) {
  ag::NoGradGuard no_grad;
  double total = 0;
  for (const auto& [x, t] : data) total += forward(net, x, t).loss.item();
  return total / static_cast<double>(data.size());
}

Net initial_net() {
  ag::manual_seed(3);
  // The book's initialisation: normal with standard deviation 1/sqrt(inputs to the layer).
  Net net{(ag::randn({N_HID, N_IN}, ag::float64) / std::sqrt(double(N_IN))).detach().set_name("W_ih"),
          (ag::randn({N_OUT, N_HID}, ag::float64) / std::sqrt(double(N_HID))).detach().set_name("W_ho")};
  net.W_ih.requires_grad_();
  net.W_ho.requires_grad_();
  return net;
}

}  // namespace

int main(int argc, char** argv) {
  ex::Args args;
  args.lr = 0.3;
  args.epochs = 2000;
  args.parse(argc, argv);
  if (args.quick && !args.given("--epochs")) args.epochs = 400;

  const auto data = dataset();
  Net net = initial_net();
  const Tensor& x = data[5].first;
  const Tensor& t = data[5].second;

  // ---- one sample, both rules ----------------------------------------------------------------
  Updates book = error_split(net, x, t);
  Updates grad = negative_gradient(net, x, t);
  const double two_over_n = 2.0 / N_OUT;
  std::cout << "one sample: x = " << values(x) << ", target = " << values(t) << "\n\n"
            << "output layer, book / gradient per weight: " << ratios(book.dW_ho, grad.dW_ho) << "\n"
            << "  every ratio is N/2 = " << ex::fixed(1 / two_over_n, 3)
            << ": the mean squared error's 2/N, a step-size factor only\n";
  ex::expect(max_abs_diff(book.dW_ho * two_over_n, grad.dW_ho) < 1e-12,
             "output layer: book update * 2/N == -dloss/dW_ho");

  std::cout << "hidden layer, book / gradient per weight: " << ratios(book.dW_ih, grad.dW_ih) << "\n"
            << "  the ratio changes from one hidden unit (row) to the next: the direction is not the\n"
            << "  gradient's, though close to it here\n"
            << "  cosine(book, gradient) = " << ex::fixed(cosine(book.dW_ih, grad.dW_ih), 4) << "\n";
  ex::expect(max_abs_diff(book.dW_ih * two_over_n, grad.dW_ih) > 1e-6,
             "hidden layer: the split errors are not a multiple of the gradient");

  // Where the difference comes from: the hidden error the gradient uses is
  //   dloss/dh = -(2/N) W_ho^T (e * o * (1 - o)),  the book's is W_ho^T e.
  {
    Pass p = forward(net, x, t);
    Tensor dh = ag::grad({p.loss}, {p.h})[0];
    ag::NoGradGuard no_grad;
    Tensor o = p.o.detach(), e = t - o;
    Tensor book_e_hid = ag::matmul(ag::t(net.W_ho), e);
    Tensor fixed_e_hid = ag::matmul(ag::t(net.W_ho), e * o * (1.0 - o)) * two_over_n;
    std::cout << "\nhidden error, the book's W_ho^T e:                   " << values(book_e_hid)
              << "\nwith the output sigmoid's o(1 - o) and 2/N put back: " << values(fixed_e_hid)
              << "\nautograd's -dloss/dh:                                " << values(-dh) << "\n";
    ex::expect(max_abs_diff(fixed_e_hid, -dh) < 1e-12,
               "(2/N) W_ho^T (e * o(1 - o)) == -dloss/dh: those are the two missing factors");
  }

  // ---- training with each rule ---------------------------------------------------------------
  // The book's rule at lr, and plain gradient descent at lr * N/2, so that the output layers
  // take the same size of step and only the hidden rule differs.
  Net by_book = initial_net(), by_grad = initial_net();
  const double start = mean_loss(by_book, data);
  for (int epoch = 0; epoch < args.epochs; ++epoch) {
    for (const auto& [xs, ts] : data) {
      Updates ub = error_split(by_book, xs, ts);
      Updates ug = negative_gradient(by_grad, xs, ts);
      ag::NoGradGuard no_grad;
      by_book.W_ih.add_(ub.dW_ih, args.lr);
      by_book.W_ho.add_(ub.dW_ho, args.lr);
      by_grad.W_ih.add_(ug.dW_ih, args.lr / two_over_n);
      by_grad.W_ho.add_(ug.dW_ho, args.lr / two_over_n);
    }
    if ((epoch + 1) % std::max(1, args.epochs / 4) == 0)
      std::cout << "epoch " << epoch + 1 << ": loss with the error split "
                << ex::fixed(mean_loss(by_book, data), 5) << ", with the gradient "
                << ex::fixed(mean_loss(by_grad, data), 5) << "\n";
  }
  const double end_book = mean_loss(by_book, data), end_grad = mean_loss(by_grad, data);
  std::cout << "start " << ex::fixed(start, 5) << " -> error split " << ex::fixed(end_book, 5)
            << ", gradient " << ex::fixed(end_grad, 5) << "\n";
  ex::expect(end_book < 0.5 * start, "the book's error split still trains (loss at least halved)");
  ex::expect(end_grad < 0.5 * start, "gradient descent trains (loss at least halved)");
  return ex::exit_code();
}
