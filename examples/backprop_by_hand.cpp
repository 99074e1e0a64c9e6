// Backpropagation by hand, then by autograd, on the course's 3-2-2 network: 3 inputs, 2 sigmoid
// hidden units, 2 linear outputs, mean squared error, learning rate 0.02.
//
//   z1 = x W1 + b1      h = sigmoid(z1)      y = h W2 + b2      loss = mean((y - t)^2)
//
// The gradients are derived with plain loops (no ag), checked against autograd with
// compare_gradients, and used for one gradient-descent step. The graph is saved as SVG and the
// chain rule is printed step by step with its numbers.
#include <cmath>
#include <cstdio>
#include <iostream>

#include <autograd/autograd.hpp>
#include <nn/nn.hpp>

#include "common.hpp"

using ag::Tensor;

namespace {

// The numbers of the worked example. W1[i][j] joins input i to hidden unit j.
const double X[3] = {1.0, 0.5, -1.0};
const double T[2] = {0.8, -0.4};
const double W1_0[3][2] = {{0.1, 0.4}, {-0.2, 0.3}, {0.5, -0.1}};
const double B1_0[2] = {0.1, -0.1};
const double W2_0[2][2] = {{0.6, -0.3}, {0.2, 0.7}};
const double B2_0[2] = {0.05, -0.05};
constexpr int N_OUT = 2;

struct Params {
  double W1[3][2], b1[2], W2[2][2], b2[2];
};

struct Forward {
  double z1[2], h[2], y[2], e[2], loss;
};

// ---- the hand derivation: plain C++, no ag --------------------------------------------------

Forward forward_by_hand(const Params& p) {
  Forward f{};
  for (int j = 0; j < 2; ++j) {
    f.z1[j] = p.b1[j];
    for (int i = 0; i < 3; ++i) f.z1[j] += X[i] * p.W1[i][j];
    f.h[j] = 1 / (1 + std::exp(-f.z1[j]));
  }
  f.loss = 0;
  for (int k = 0; k < N_OUT; ++k) {
    f.y[k] = p.b2[k];
    for (int j = 0; j < 2; ++j) f.y[k] += f.h[j] * p.W2[j][k];
    f.e[k] = f.y[k] - T[k];
    f.loss += f.e[k] * f.e[k] / N_OUT;
  }
  return f;
}

// The chain rule, layer by layer, from the loss back to the first weights.
Params gradients_by_hand(const Params& p, const Forward& f) {
  Params g{};
  double dy[N_OUT], dh[2] = {0, 0}, dz1[2];
  for (int k = 0; k < N_OUT; ++k) dy[k] = 2.0 / N_OUT * f.e[k];  // d mean(e^2) / dy
  for (int k = 0; k < N_OUT; ++k) {
    g.b2[k] = dy[k];
    for (int j = 0; j < 2; ++j) {
      g.W2[j][k] = f.h[j] * dy[k];  // y = h W2: dW2 = h^T dy
      dh[j] += p.W2[j][k] * dy[k];  // dh = dy W2^T
    }
  }
  for (int j = 0; j < 2; ++j) {
    dz1[j] = dh[j] * f.h[j] * (1 - f.h[j]);  // sigmoid' = h (1 - h)
    g.b1[j] = dz1[j];
    for (int i = 0; i < 3; ++i) g.W1[i][j] = X[i] * dz1[j];  // dW1 = x^T dz1
  }
  return g;
}

// ---- the same network in ag ------------------------------------------------------------------

Tensor matrix(const double* v, std::size_t rows, std::size_t cols, const std::string& name) {
  return ag::tensor(std::vector<double>(v, v + rows * cols), {rows, cols}, ag::float64).set_name(name);
}
Tensor vec(const double* v, std::size_t n, const std::string& name) {
  return ag::tensor(std::vector<double>(v, v + n), {n}, ag::float64).set_name(name);
}

struct Net {
  Tensor W1, b1, W2, b2;
};

// Names every tensor after the hand derivation's symbols, so the graph and trace read alike.
Tensor loss_of(const Net& n, const Tensor& x, const Tensor& t) {
  Tensor z1 = (ag::matmul(x, n.W1) + n.b1).set_name("z1");
  Tensor h = ag::sigmoid(z1).set_name("h");
  Tensor y = (ag::matmul(h, n.W2) + n.b2).set_name("y");
  Tensor e = (y - t).set_name("e");
  Tensor se = (e * e).set_name("e^2");
  return ag::mean(se).set_name("loss");
}

std::string row(const double* v, int n) {
  std::string s = "[";
  for (int i = 0; i < n; ++i) s += (i ? ", " : "") + ex::fixed(v[i], 4);
  return s + "]";
}

bool close(const std::vector<double>& a, const double* b, double tol = 1e-12) {
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::fabs(a[i] - b[i]) > tol) return false;
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  ex::Args args;
  args.lr = 0.02;
  args.parse(argc, argv);
  args.apply();

  Params p{};
  std::copy(&W1_0[0][0], &W1_0[0][0] + 6, &p.W1[0][0]);
  std::copy(B1_0, B1_0 + 2, p.b1);
  std::copy(&W2_0[0][0], &W2_0[0][0] + 4, &p.W2[0][0]);
  std::copy(B2_0, B2_0 + 2, p.b2);

  // 1. The forward pass by hand.
  const Forward f = forward_by_hand(p);
  std::cout << "== forward pass (by hand) ==\n"
            << "x  = " << row(X, 3) << "   target t = " << row(T, 2) << "\n"
            << "z1 = x W1 + b1 = " << row(f.z1, 2) << "\n"
            << "h  = sigmoid(z1) = " << row(f.h, 2) << "\n"
            << "y  = h W2 + b2 = " << row(f.y, 2) << "\n"
            << "e  = y - t = " << row(f.e, 2) << "\n"
            << "loss = (e1^2 + e2^2) / 2 = " << ex::fixed(f.loss, 6) << "\n\n";

  // 2. The gradients by hand.
  const Params g = gradients_by_hand(p, f);
  std::cout << "== gradients (by hand, plain loops) ==\n"
            << "dloss/dy  = 2/N * e = " << row(g.b2, 2) << "   (N = 2 outputs)\n"
            << "dloss/dW2 = h^T dloss/dy = [" << row(g.W2[0], 2) << ", " << row(g.W2[1], 2) << "]\n"
            << "dloss/db2 = dloss/dy = " << row(g.b2, 2) << "\n"
            << "dloss/dz1 = (dloss/dy W2^T) * h * (1 - h) = " << row(g.b1, 2) << "\n"
            << "dloss/dW1 = x^T dloss/dz1 = [" << row(g.W1[0], 2) << ", " << row(g.W1[1], 2)
            << ", " << row(g.W1[2], 2) << "]\n"
            << "dloss/db1 = dloss/dz1 = " << row(g.b1, 2) << "\n\n";

  // 3. The same network in ag: forward, backward, and the comparison.
  const Tensor x = matrix(X, 1, 3, "x"), t = matrix(T, 1, 2, "t");
  Net net{matrix(&p.W1[0][0], 3, 2, "W1").requires_grad_(), vec(p.b1, 2, "b1").requires_grad_(),
          matrix(&p.W2[0][0], 2, 2, "W2").requires_grad_(), vec(p.b2, 2, "b2").requires_grad_()};
  Tensor loss = loss_of(net, x, t);
  ex::expect(std::fabs(loss.item() - f.loss) < 1e-12, "autograd's forward loss equals the hand value " + ex::fixed(f.loss, 6));
  ex::expect(std::fabs(ag::nn::functional::mse_loss(ag::matmul(ag::sigmoid(ag::matmul(x, net.W1) + net.b1), net.W2) + net.b2, t).item() - f.loss) < 1e-12,
             "nn::functional::mse_loss gives the same loss");
  {
    ag::KeepGradsForDumpsGuard keep;  // the picture and the trace of part 4 show every gradient
    loss.backward();
  }
  ex::expect(close(net.W1.grad().to_vector(), &g.W1[0][0]) && close(net.b1.grad().to_vector(), g.b1) &&
                 close(net.W2.grad().to_vector(), &g.W2[0][0]) && close(net.b2.grad().to_vector(), g.b2),
             "loss.backward() gives the hand-derived gradients (to 1e-12)");

  auto f_of = [&](const std::vector<Tensor>& in) {
    return loss_of(Net{in[0], in[1], in[2], in[3]}, x, t);
  };
  ag::GradcheckResult report = ag::compare_gradients(
      f_of, {net.W1, net.b1, net.W2, net.b2},
      {matrix(&g.W1[0][0], 3, 2, "dW1"), vec(g.b1, 2, "db1"), matrix(&g.W2[0][0], 2, 2, "dW2"),
       vec(g.b2, 2, "db2")});
  std::cout << "\n" << report.report() << "\n";
  ex::expect(report.ok, "compare_gradients: autograd agrees with every hand-derived gradient");

  // A slip in one hand-derived element is caught, with the input and the index named.
  Params slipped = g;
  slipped.W1[2][1] = -slipped.W1[2][1];  // a sign error, the classic one
  ag::GradcheckResult caught = ag::compare_gradients(
      f_of, {net.W1, net.b1, net.W2, net.b2},
      {matrix(&slipped.W1[0][0], 3, 2, "dW1"), vec(g.b1, 2, "db1"), matrix(&g.W2[0][0], 2, 2, "dW2"),
       vec(g.b2, 2, "db2")});
  std::cout << "with a sign slip in dW1[2][1]:\n" << caught.report() << "\n";
  ex::expect(!caught.ok && !caught.entries[0].ok &&
                 caught.entries[0].index == std::vector<std::size_t>{2, 1},
             "compare_gradients names W1 and the element [2, 1] of a slipped gradient");

  // 4. The picture, the chain rule step by step, and the same steps as a page to click through.
  // Nine ops in a chain: the layout runs top to bottom by itself.
  const std::string svg = args.out_path("backprop_by_hand.svg");
  const std::string page = args.out_path("backprop_by_hand_backward.html");
  try {
    ag::save_graph(loss, svg);
    ag::save_backward_html(loss, page);
    std::cout << "graph saved: " << svg << "\nbackward page saved: " << page << "\n\n";
  } catch (const ag::Error& err) {  // no Graphviz: keep the DOT text instead
    ag::save_graph(loss, args.out_path("backprop_by_hand.dot"));
    std::cout << err.what() << "\n(saved the DOT text instead)\n\n";
  }
  std::cout << ag::chain_rule_trace(loss) << "\n";

  // 5. One gradient-descent step: w <- w - lr * dloss/dw, by hand and in ag.
  Params q = p;
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 2; ++j) q.W1[i][j] -= args.lr * g.W1[i][j];
  for (int j = 0; j < 2; ++j) {
    q.b1[j] -= args.lr * g.b1[j];
    q.b2[j] -= args.lr * g.b2[j];
    for (int k = 0; k < 2; ++k) q.W2[j][k] -= args.lr * g.W2[j][k];
  }
  {
    ag::NoGradGuard no_grad;
    for (Tensor* w : {&net.W1, &net.b1, &net.W2, &net.b2}) w->sub_(w->grad() * args.lr);
  }
  const double new_loss = forward_by_hand(q).loss;
  const double ag_new_loss = loss_of(net, x, t).item();
  std::cout << "== one gradient-descent step, lr = " << args.lr << " ==\n"
            << "W1 = [" << row(q.W1[0], 2) << ", " << row(q.W1[1], 2) << ", " << row(q.W1[2], 2)
            << "]\nb1 = " << row(q.b1, 2) << "\nW2 = [" << row(q.W2[0], 2) << ", "
            << row(q.W2[1], 2) << "]\nb2 = " << row(q.b2, 2) << "\n"
            << "loss: " << ex::fixed(f.loss, 6) << " -> " << ex::fixed(new_loss, 6) << "\n";
  ex::expect(close(net.W1.to_vector(), &q.W1[0][0]) && close(net.W2.to_vector(), &q.W2[0][0]) &&
                 close(net.b1.to_vector(), q.b1) && close(net.b2.to_vector(), q.b2),
             "the ag update equals the hand update");
  ex::expect(std::fabs(ag_new_loss - new_loss) < 1e-12, "the new loss agrees");
  ex::expect(new_loss < f.loss, "one step downhill lowers the loss");
  return ex::exit_code();
}
