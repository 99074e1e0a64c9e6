// Derivatives of derivatives. With create_graph=true, ag::grad records the backward pass itself,
// so its result can be differentiated again:
//   1. f(x) = x^3 + sin(x): f'(x) and f''(x) at a point, against 3x^2 + cos(x) and 6x - sin(x);
//   2. a Hessian-vector product H v of f(w) = 1/2 w^T A w + sum(sin(w)), without forming H,
//      against (A + A^T)/2 v - sin(w) * v worked out with plain loops.
#include <cmath>
#include <iostream>

#include <autograd/autograd.hpp>

#include "common.hpp"

using ag::Tensor;

int main(int argc, char** argv) {
  ex::Args args;
  args.parse(argc, argv);
  args.apply();

  // ---- 1. second derivative of a scalar function ---------------------------------------------
  const double x0 = 0.7;
  Tensor x = ag::scalar(x0, ag::float64).set_name("x").requires_grad_();
  Tensor fx = (ag::pow(x, 3) + ag::sin(x)).set_name("f");
  // First derivative, keeping its graph: df is itself a function of x, made of ops.
  Tensor df = ag::grad({fx}, {x}, {}, /*retain_graph=*/true, /*create_graph=*/true)[0].set_name("df/dx");
  // Its backward puts the second derivative in x.grad(); create_graph keeps that one
  // differentiable too.
  {
    ag::KeepGradsForDumpsGuard keep;  // the picture below shows every gradient of this backward
    df.backward({}, /*retain_graph=*/true, /*create_graph=*/true);
  }
  Tensor d2f = x.grad();

  // The picture of f'(x): the backward ops that create_graph recorded (cos for sin's
  // derivative; pow and mul_scalar for x^3's), with x.grad = f''(x).
  const std::string svg = args.out_path("higher_order_derivative_graph.svg");
  try {
    ag::save_graph(df, svg);
    std::cout << "graph of f'(x) saved: " << svg << "\n";
  } catch (const ag::Error& err) {
    ag::save_graph(df, args.out_path("higher_order_derivative_graph.dot"));
    std::cout << err.what() << "\n(saved the DOT text instead)\n";
  }
  // The chain rule through the derivative's own graph.
  std::cout << "\n" << ag::chain_rule_trace(df) << "\n";

  Tensor d3f = ag::grad({d2f}, {x})[0];
  const double df_hand = 3 * x0 * x0 + std::cos(x0), d2f_hand = 6 * x0 - std::sin(x0),
               d3f_hand = 6 - std::cos(x0);
  std::cout << "f(x) = x^3 + sin(x) at x = " << x0 << "\n"
            << "  f'(x)   = " << ex::fixed(df.item(), 8) << "   by hand 3x^2 + cos(x) = " << ex::fixed(df_hand, 8) << "\n"
            << "  f''(x)  = " << ex::fixed(d2f.item(), 8) << "   by hand 6x - sin(x)   = " << ex::fixed(d2f_hand, 8) << "\n"
            << "  f'''(x) = " << ex::fixed(d3f.item(), 8) << "   by hand 6 - cos(x)    = " << ex::fixed(d3f_hand, 8) << "\n";
  ex::expect(std::fabs(df.item() - df_hand) < 1e-12, "f'(x) = 3x^2 + cos(x)");
  ex::expect(std::fabs(d2f.item() - d2f_hand) < 1e-12, "f''(x) = 6x - sin(x)");
  ex::expect(std::fabs(d3f.item() - d3f_hand) < 1e-12, "f'''(x) = 6 - cos(x)");

  // x.grad() was built with create_graph, so its graph uses x itself; it holds x weakly, so no
  // cycle keeps the two alive (PyTorch's does). zero_grad here only starts the next part clean.
  d2f = Tensor();
  x.zero_grad();

  // ---- 2. Hessian-vector product -------------------------------------------------------------
  const std::size_t n = 3;
  const std::vector<double> A{2.0, 0.5, -1.0, 0.0, 1.0, 0.3, 0.4, -0.2, 3.0};  // not symmetric
  const std::vector<double> w0{0.3, -1.2, 0.8}, v0{1.0, 0.5, -2.0};
  Tensor Am = ag::tensor(A, {n, n}, ag::float64).set_name("A");
  Tensor w = ag::tensor(w0, {n}, ag::float64).set_name("w").requires_grad_();
  Tensor v = ag::tensor(v0, {n}, ag::float64).set_name("v");
  auto f = [&](const Tensor& wt) { return 0.5 * ag::sum(wt * ag::matmul(Am, wt)) + ag::sum(ag::sin(wt)); };

  Tensor fw = f(w);
  Tensor g = ag::grad({fw}, {w}, {}, /*retain_graph=*/true, /*create_graph=*/true)[0];
  // H v = d/dw (g . v): one more backward through the recorded gradient, never forming H.
  Tensor hv = ag::grad({ag::sum(g * v)}, {w})[0];

  std::vector<double> hv_hand(n, 0.0);
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j < n; ++j) hv_hand[i] += 0.5 * (A[i * n + j] + A[j * n + i]) * v0[j];
    hv_hand[i] -= std::sin(w0[i]) * v0[i];
  }
  const std::vector<double> hv_ag = hv.to_vector();
  std::cout << "\nf(w) = 1/2 w^T A w + sum(sin(w)),  H = (A + A^T)/2 - diag(sin(w))\n";
  bool same = true;
  for (std::size_t i = 0; i < n; ++i) {
    std::cout << "  (H v)[" << i << "] = " << ex::fixed(hv_ag[i], 8) << "   by hand " << ex::fixed(hv_hand[i], 8) << "\n";
    same = same && std::fabs(hv_ag[i] - hv_hand[i]) < 1e-12;
  }
  ex::expect(same, "Hessian-vector product equals (A + A^T)/2 v - sin(w) * v");

  // gradgradcheck: second derivatives against finite differences of first derivatives.
  ag::GradcheckResult r = ag::gradgradcheck([&](const std::vector<Tensor>& in) { return f(in[0]); }, {w});
  std::cout << "\n" << r.report();
  ex::expect(r.ok, "gradgradcheck passes");
  return ex::exit_code();
}
