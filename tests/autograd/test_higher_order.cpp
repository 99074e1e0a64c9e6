// jacobian, hessian, vjp, jvp, hvp against analytic results and finite differences.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include <autograd/autograd.hpp>

#include "support.hpp"

using Catch::Matchers::Contains;
using ag::Tensor;
using ag_test::error_of;
using ag_test::require_close;

namespace {
// A deliberately non-symmetric A: the Hessian of x^T A x is A + A^T, not 2A.
const std::vector<double> kA = {2, -1, 0.5, 3, 1, -2, 0, 4, 1.5};
Tensor A() { return ag::tensor(kA, {3, 3}, ag::float64); }
Tensor vec(std::vector<double> v) {
  std::size_t n = v.size();
  return ag::tensor(std::move(v), {n}, ag::float64);
}
double a(std::size_t i, std::size_t j) { return kA[i * 3 + j]; }
Tensor quadratic(const Tensor& x) { return ag::matmul(x, ag::matmul(A(), x)); }
}  // namespace

TEST_CASE("higher order: x^T A x and A x against their analytic derivatives", "[higher]") {
  Tensor x = vec({0.5, -1.0, 2.0});
  Tensor v = vec({1.0, 0.25, -0.5});
  Tensor H = ag::hessian(quadratic, x);
  REQUIRE(H.shape() == ag::Shape{3, 3});
  std::vector<double> sym, Av, ATv, Hv;
  for (std::size_t i = 0; i < 3; ++i)
    for (std::size_t j = 0; j < 3; ++j) sym.push_back(a(i, j) + a(j, i));
  for (std::size_t i = 0; i < 3; ++i) {
    double s = 0, t = 0, h = 0;
    for (std::size_t j = 0; j < 3; ++j) {
      s += a(i, j) * v.to_vector()[j];
      t += a(j, i) * v.to_vector()[j];
      h += (a(i, j) + a(j, i)) * v.to_vector()[j];
    }
    Av.push_back(s);
    ATv.push_back(t);
    Hv.push_back(h);
  }
  require_close(H.to_vector(), sym);
  auto linear = [](const Tensor& in) { return ag::matmul(A(), in); };
  require_close(ag::jacobian(linear, x).to_vector(), kA);
  auto [y1, vj] = ag::vjp(linear, x, v);
  require_close(y1.to_vector(), ag::matmul(A(), x).to_vector());
  require_close(vj.to_vector(), ATv);
  auto [y2, jv] = ag::jvp(linear, x, v);
  require_close(jv.to_vector(), Av);
  auto [y3, hv] = ag::hvp(quadratic, x, v);
  REQUIRE(y3.item() == Approx(quadratic(x).item()));
  require_close(hv.to_vector(), Hv);
  REQUIRE_FALSE(hv.requires_grad());
}

TEST_CASE("higher order: softmax's Jacobian is diag(s) - s s^T", "[higher]") {
  Tensor x = vec({0.3, -1.2, 2.0, 0.1});
  Tensor J = ag::jacobian([](const Tensor& t) { return ag::softmax(t, 0); }, x);
  REQUIRE(J.shape() == ag::Shape{4, 4});
  std::vector<double> s = ag::softmax(x, 0).to_vector(), want;
  for (std::size_t i = 0; i < 4; ++i)
    for (std::size_t j = 0; j < 4; ++j) want.push_back((i == j ? s[i] : 0.0) - s[i] * s[j]);
  require_close(J.to_vector(), want, 1e-12);
  // jvp and vjp agree with the full Jacobian.
  Tensor v = vec({1, 2, -1, 0.5});
  auto sm = [](const Tensor& t) { return ag::softmax(t, 0); };
  require_close(ag::jvp(sm, x, v).second.to_vector(), ag::matmul(J, v).to_vector(), 1e-12);
  require_close(ag::vjp(sm, x, v).second.to_vector(), ag::matmul(v, J).to_vector(), 1e-12);
}

TEST_CASE("higher order: a 2-layer tanh net's Hessian against differences of its gradient",
          "[higher]") {
  ag::manual_seed(3);
  Tensor W1 = ag::randn({5, 3}, ag::float64), b1 = ag::randn({5}, ag::float64);
  Tensor w2 = ag::randn({5}, ag::float64);
  auto net = [&](const Tensor& x) {
    return ag::matmul(w2, ag::tanh(ag::matmul(W1, x) + b1));
  };
  Tensor x = vec({0.4, -0.3, 0.9});
  Tensor H = ag::hessian(net, x);
  auto grad_at = [&](std::vector<double> p) {
    Tensor xp = vec(std::move(p)).requires_grad_();
    return ag::grad({net(xp)}, {xp})[0].to_vector();
  };
  const double eps = 1e-5;
  std::vector<double> fd(9);
  for (std::size_t j = 0; j < 3; ++j) {
    std::vector<double> plus = x.to_vector(), minus = x.to_vector();
    plus[j] += eps;
    minus[j] -= eps;
    std::vector<double> gp = grad_at(plus), gm = grad_at(minus);
    for (std::size_t i = 0; i < 3; ++i) fd[i * 3 + j] = (gp[i] - gm[i]) / (2 * eps);
  }
  require_close(H.to_vector(), fd, 1e-7);
  std::vector<double> h = H.to_vector();
  for (std::size_t i = 0; i < 3; ++i)
    for (std::size_t j = 0; j < 3; ++j) REQUIRE(h[i * 3 + j] == Approx(h[j * 3 + i]));
}

TEST_CASE("higher order: create_graph keeps the Jacobian differentiable in x", "[higher]") {
  Tensor x = vec({0.5, -2.0}).requires_grad_();
  auto cube = [](const Tensor& t) { return t * t * t; };
  Tensor J = ag::jacobian(cube, x, /*create_graph=*/true);  // diag(3 x^2)
  require_close(J.to_vector(), {0.75, 0, 0, 12});
  REQUIRE(J.requires_grad());
  J.sum().backward();
  require_close(x.grad().to_vector(), {3, -12});  // d/dx sum 3x^2 = 6x
  Tensor H = ag::hessian([](const Tensor& t) { return (t * t * t).sum(); }, x, true);
  require_close(H.to_vector(), {3, 0, 0, -12});   // diag(6x)
  REQUIRE(H.requires_grad());
  REQUIRE_FALSE(ag::jacobian(cube, x).requires_grad());
}

TEST_CASE("higher order: constant functions, no-grad callers and bad arguments", "[higher]") {
  Tensor x = vec({1, 2});
  auto constant = [](const Tensor& t) { return ag::ones({3}, t.dtype()); };
  require_close(ag::jacobian(constant, x).to_vector(), std::vector<double>(6, 0.0));
  {
    ag::NoGradGuard no_grad;  // the helpers switch grad mode on for f
    require_close(ag::hessian([](const Tensor& t) { return (t * t).sum(); }, x).to_vector(),
                  {2, 0, 0, 2});
  }
  auto sq = [](const Tensor& t) { return t * t; };
  CHECK_THAT(error_of([&] { ag::hessian(sq, x); }), Contains("hessian: f must return one element"));
  CHECK_THAT(error_of([&] { ag::vjp(sq, x, vec({1, 2, 3})); }),
             Contains("vjp: v {3} float64 must have the shape and dtype of f(x) {2} float64"));
  CHECK_THAT(error_of([&] { ag::jvp(sq, x, vec({1})); }), Contains("jvp: v {1} float64"));
  CHECK_THAT(error_of([&] { ag::jacobian(sq, ag::tensor({1.0}, {1}, ag::int64)); }),
             Contains("jacobian: x must be float32 or float64"));
}
