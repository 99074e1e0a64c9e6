// The reverse-mode engine: graph shapes, accumulation rules, freed graphs, deep chains, grad
// mode, version counters, higher-order gradients and anomaly mode.
#include <catch2/catch.hpp>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include <autograd/autograd.hpp>

#include "support.hpp"

using Catch::Matchers::Contains;
using ag_test::error_of;
using ag_test::require_close;

namespace {

ag::Tensor leaf(std::vector<double> v, ag::Shape s, ag::Dtype d = ag::float64) {
  ag::Tensor t = ag::tensor(std::move(v), std::move(s), d);
  t.requires_grad_();
  return t;
}

}  // namespace

TEST_CASE("engine: a diamond graph sums the gradient of both paths", "[engine]") {
  ag::Tensor x = leaf({1.5, -2.0, 3.0}, {3});
  // Two separate products of x with itself meet in one add: d/dx (x*x + x*x) = 4x.
  ag::Tensor y = (x * x + x * x).sum();
  y.backward();
  REQUIRE(x.grad().defined());
  REQUIRE(x.grad().shape() == ag::Shape{3});
  require_close(x.grad().to_vector(), {6.0, -8.0, 12.0});
}

TEST_CASE("engine: a shared subexpression is differentiated once per use", "[engine]") {
  ag::Tensor x = leaf({0.5, 2.0}, {2});
  ag::Tensor s = x.exp();     // used three times below
  ag::Tensor y = (s * s + s).sum();  // d/dx = 2 e^{2x} + e^x
  y.backward();
  std::vector<double> want;
  for (double v : {0.5, 2.0}) want.push_back(2 * std::exp(2 * v) + std::exp(v));
  require_close(x.grad().to_vector(), want, 1e-9);
}

TEST_CASE("engine: a wide fan-in of one leaf", "[engine]") {
  ag::Tensor x = leaf({2.0}, {1});
  ag::Tensor acc = x;
  for (int i = 0; i < 50; ++i) acc = acc + x * static_cast<double>(i);
  // acc = x * (1 + 0 + 1 + ... + 49) = 1226 x
  acc.sum().backward();
  require_close(x.grad().to_vector(), {1226.0});
}

TEST_CASE("engine: ag::grad and unused inputs", "[engine]") {
  ag::Tensor x = leaf({1.0, 2.0}, {2});
  ag::Tensor unused = leaf({3.0}, {1});
  unused.set_name("unused_w");
  ag::Tensor y = (x * x).sum();

  SECTION("allow_unused gives an undefined entry") {
    std::vector<ag::Tensor> g = ag::grad({y}, {x, unused}, {}, false, false, true);
    REQUIRE(g.size() == 2);
    REQUIRE(g[0].defined());
    require_close(g[0].to_vector(), {2.0, 4.0});
    REQUIRE_FALSE(g[1].defined());
    // ag::grad returns gradients instead of accumulating them.
    REQUIRE_FALSE(x.grad().defined());
  }
  SECTION("without allow_unused it throws") {
    std::string msg = error_of([&] { ag::grad({y}, {x, unused}); });
    REQUIRE_THAT(msg, Contains("allow_unused"));
  }
}

TEST_CASE("engine: leaves accumulate across backward calls; zero_grad clears", "[engine]") {
  ag::Tensor x = leaf({1.0, -3.0}, {2});
  (x * x).sum().backward();
  require_close(x.grad().to_vector(), {2.0, -6.0});
  (x * x).sum().backward();
  require_close(x.grad().to_vector(), {4.0, -12.0});
  x.zero_grad();
  REQUIRE_FALSE(x.grad().defined());
  (x * 3.0).sum().backward();
  require_close(x.grad().to_vector(), {3.0, 3.0});
}

TEST_CASE("engine: interior nodes keep no gradient", "[engine]") {
  ag::Tensor x = leaf({1.0, 2.0}, {2});
  ag::Tensor h = x * 2.0;
  ag::Tensor y = (h * h).sum();
  REQUIRE(x.is_leaf());
  REQUIRE_FALSE(h.is_leaf());
  REQUIRE(h.requires_grad());
  y.backward();
  REQUIRE_FALSE(h.grad().defined());
  REQUIRE_FALSE(y.grad().defined());
  require_close(x.grad().to_vector(), {8.0, 16.0});  // d/dx 4x^2 = 8x
}

TEST_CASE("engine: retain_graph allows a second backward", "[engine]") {
  ag::Tensor x = leaf({0.3, -0.7}, {2});
  ag::Tensor y = x.sigmoid().sum();
  y.backward({}, /*retain_graph=*/true);
  std::vector<double> first = x.grad().to_vector();
  y.backward();
  std::vector<double> second = x.grad().to_vector();
  for (std::size_t i = 0; i < first.size(); ++i) {
    double v = i == 0 ? 0.3 : -0.7;
    double s = 1 / (1 + std::exp(-v));
    REQUIRE(first[i] == Approx(s * (1 - s)).epsilon(1e-12));
    REQUIRE(second[i] == Approx(2 * s * (1 - s)).epsilon(1e-12));
  }
}

TEST_CASE("engine: a second backward through a freed graph says how to fix it", "[engine]") {
  ag::Tensor x = leaf({0.3, -0.7}, {2});
  ag::Tensor y = x.sigmoid().sum();
  y.backward();
  std::string msg = error_of([&] { y.backward(); });
  REQUIRE_THAT(msg, Contains("retain_graph"));
  REQUIRE_THAT(msg, Contains("ag::grad"));
  // The failed call must not have touched the gradient of the first one.
  double s = 1 / (1 + std::exp(-0.3));
  REQUIRE(x.grad().to_vector()[0] == Approx(s * (1 - s)).epsilon(1e-12));
}

TEST_CASE("engine: backward on a scalar needs no grad_output; a given one scales", "[engine]") {
  ag::Tensor x = leaf({1.0, 2.0, 3.0}, {3});
  ag::Tensor y = x * x;
  y.backward(ag::tensor({1.0, 0.5, -1.0}, {3}, ag::float64));
  require_close(x.grad().to_vector(), {2.0, 2.0, -6.0});
}

TEST_CASE("engine: a chain of 1,000,000 ops runs backward and is destroyed", "[engine][deep]") {
  constexpr int depth = 1000000;
  SECTION("multiplications: grad is the product of the factors") {
    ag::Tensor x = leaf({1.0}, {1});
    ag::Tensor y = x;
    for (int i = 0; i < depth; ++i) y = y * 1.0000001;
    REQUIRE(y.item() == Approx(std::pow(1.0000001, depth)).epsilon(1e-9));
    y.sum().backward();
    REQUIRE(x.grad().item() == Approx(std::pow(1.0000001, depth)).epsilon(1e-9));
    // y and its graph of a million nodes go out of scope here: destruction must be iterative.
  }
  SECTION("additions, destroyed without ever running backward") {
    ag::Tensor x = leaf({0.0}, {1});
    {
      ag::Tensor y = x;
      for (int i = 0; i < depth; ++i) y = y + 1.0;
      REQUIRE(y.item() == Approx(1e6));
    }
    REQUIRE(x.requires_grad());
  }
  SECTION("additions with retain_graph, then two backwards") {
    ag::Tensor x = leaf({0.0}, {1});
    ag::Tensor y = x;
    for (int i = 0; i < depth; ++i) y = y + 1.0;
    y.sum().backward({}, true);
    y.sum().backward();
    REQUIRE(x.grad().item() == Approx(2.0));
  }
}

TEST_CASE("engine: NoGradGuard records nothing", "[engine]") {
  ag::Tensor x = leaf({1.0, 2.0}, {2});
  REQUIRE(ag::is_grad_enabled());
  {
    ag::NoGradGuard guard;
    REQUIRE_FALSE(ag::is_grad_enabled());
    ag::Tensor y = (x * x).exp().sum();
    REQUIRE_FALSE(y.requires_grad());
    REQUIRE(y.is_leaf());
    REQUIRE(y.item() == Approx(std::exp(1.0) + std::exp(4.0)));
    {
      ag::NoGradGuard nested;
      REQUIRE_FALSE(ag::is_grad_enabled());
    }
    REQUIRE_FALSE(ag::is_grad_enabled());  // the inner guard restores "off", not "on"
  }
  REQUIRE(ag::is_grad_enabled());
  ag::Tensor z = x * x;
  REQUIRE(z.requires_grad());
  REQUIRE_FALSE(z.is_leaf());
}

TEST_CASE("engine: nothing is recorded when no input requires grad", "[engine]") {
  ag::Tensor a = ag::tensor({1.0, 2.0});
  ag::Tensor b = (a * a + 1.0).sum();
  REQUIRE_FALSE(b.requires_grad());
  REQUIRE(b.is_leaf());
}

TEST_CASE("engine: changing a saved tensor in place makes backward throw", "[engine][version]") {
  SECTION("the saved result of sigmoid") {
    ag::Tensor x = leaf({0.1, 0.2}, {2});
    ag::Tensor y = x.sigmoid();
    ag::Tensor loss = y.sum();
    std::uint64_t v0 = y.version();
    {
      ag::NoGradGuard guard;
      y.mul_(2.0);
    }
    REQUIRE(y.version() > v0);
    std::string msg = error_of([&] { loss.backward(); });
    REQUIRE_THAT(msg, Contains("sigmoid"));
  }
  SECTION("a saved input of mul") {
    ag::Tensor x = leaf({0.1, 0.2}, {2});
    ag::Tensor w = leaf({3.0, 4.0}, {2});
    ag::Tensor loss = (x * w).sum();
    {
      ag::NoGradGuard guard;
      x.add_(1.0);
    }
    std::string msg = error_of([&] { loss.backward(); });
    REQUIRE_THAT(msg, Contains("mul"));
  }
  SECTION("an op that saves nothing does not mind") {
    ag::Tensor x = leaf({0.1, 0.2}, {2});
    ag::Tensor loss = (x + 1.0).sum();
    {
      ag::NoGradGuard guard;
      x.add_(1.0);
    }
    REQUIRE_NOTHROW(loss.backward());
    require_close(x.grad().to_vector(), {1.0, 1.0});
  }
}

TEST_CASE("engine: in-place update of a leaf that requires grad needs NoGradGuard", "[engine]") {
  ag::Tensor x = leaf({1.0}, {1});
  x.set_name("weight");
  std::string msg = error_of([&] { x.add_(1.0); });
  REQUIRE_THAT(msg, Contains("add_"));
  REQUIRE_THAT(msg, Contains("NoGradGuard"));
  REQUIRE(x.item() == 1.0);
}

TEST_CASE("engine: grad of grad against analytic second derivatives", "[engine][higher]") {
  std::vector<double> pts = {-1.3, -0.2, 0.4, 2.1};
  auto second = [&](ag::Tensor (*f)(const ag::Tensor&)) {
    ag::Tensor x = leaf(pts, {pts.size()});
    ag::Tensor y = f(x).sum();
    std::vector<ag::Tensor> g = ag::grad({y}, {x}, {}, false, /*create_graph=*/true);
    REQUIRE(g[0].requires_grad());
    std::vector<ag::Tensor> gg = ag::grad({g[0].sum()}, {x});
    return std::make_pair(g[0].to_vector(), gg[0].to_vector());
  };

  SECTION("x^3: 3x^2 and 6x") {
    auto [d1, d2] = second([](const ag::Tensor& x) { return ag::pow(x, 3.0); });
    for (std::size_t i = 0; i < pts.size(); ++i) {
      REQUIRE(d1[i] == Approx(3 * pts[i] * pts[i]).epsilon(1e-12));
      REQUIRE(d2[i] == Approx(6 * pts[i]).epsilon(1e-12));
    }
  }
  SECTION("sin: cos and -sin") {
    auto [d1, d2] = second([](const ag::Tensor& x) { return ag::sin(x); });
    for (std::size_t i = 0; i < pts.size(); ++i) {
      REQUIRE(d1[i] == Approx(std::cos(pts[i])).epsilon(1e-12));
      REQUIRE(d2[i] == Approx(-std::sin(pts[i])).epsilon(1e-12));
    }
  }
  SECTION("sigmoid: s(1-s) and s(1-s)(1-2s)") {
    auto [d1, d2] = second([](const ag::Tensor& x) { return ag::sigmoid(x); });
    for (std::size_t i = 0; i < pts.size(); ++i) {
      double s = 1 / (1 + std::exp(-pts[i]));
      REQUIRE(d1[i] == Approx(s * (1 - s)).epsilon(1e-12));
      REQUIRE(d2[i] == Approx(s * (1 - s) * (1 - 2 * s)).epsilon(1e-10));
    }
  }
  SECTION("tanh: 1-t^2 and -2t(1-t^2)") {
    auto [d1, d2] = second([](const ag::Tensor& x) { return ag::tanh(x); });
    for (std::size_t i = 0; i < pts.size(); ++i) {
      double t = std::tanh(pts[i]);
      REQUIRE(d1[i] == Approx(1 - t * t).epsilon(1e-12));
      REQUIRE(d2[i] == Approx(-2 * t * (1 - t * t)).epsilon(1e-10));
    }
  }
  SECTION("exp: e^x twice") {
    auto [d1, d2] = second([](const ag::Tensor& x) { return ag::exp(x); });
    for (std::size_t i = 0; i < pts.size(); ++i) {
      REQUIRE(d1[i] == Approx(std::exp(pts[i])).epsilon(1e-12));
      REQUIRE(d2[i] == Approx(std::exp(pts[i])).epsilon(1e-12));
    }
  }
}

TEST_CASE("engine: Hessian-vector product of 0.5 x^T A x is 0.5 (A + A^T) v", "[engine][higher]") {
  // A is not symmetric, so a backward that forgets one of the two paths through x shows up.
  std::vector<double> a = {2.0, 1.0, 0.0,  //
                           3.0, 4.0, -1.0,  //
                           0.5, 0.0, 5.0};
  std::vector<double> xv = {0.7, -1.2, 2.0}, vv = {1.0, -0.5, 0.25};
  ag::Tensor A = ag::tensor(a, {3, 3}, ag::float64);
  ag::Tensor x = leaf(xv, {3});
  ag::Tensor v = ag::tensor(vv, {3}, ag::float64);
  ag::Tensor f = 0.5 * ag::matmul(x, ag::matmul(A, x));
  REQUIRE(f.dim() == 0);

  std::vector<ag::Tensor> g = ag::grad({f}, {x}, {}, false, true);
  std::vector<ag::Tensor> hv = ag::grad({(g[0] * v).sum()}, {x});

  std::vector<double> want_g(3, 0), want_hv(3, 0);
  for (std::size_t i = 0; i < 3; ++i)
    for (std::size_t j = 0; j < 3; ++j) {
      double sym = 0.5 * (a[i * 3 + j] + a[j * 3 + i]);
      want_g[i] += sym * xv[j];
      want_hv[i] += sym * vv[j];
    }
  require_close(g[0].to_vector(), want_g, 1e-12);
  require_close(hv[0].to_vector(), want_hv, 1e-12);
}

TEST_CASE("engine: backward with create_graph makes .grad differentiable", "[engine][higher]") {
  ag::Tensor x = leaf({0.5, -1.5}, {2});
  ag::Tensor y = (x * x * x).sum();  // grad 3x^2, second derivative 6x
  y.backward({}, false, /*create_graph=*/true);
  ag::Tensor g = x.grad();
  REQUIRE(g.requires_grad());
  require_close(g.to_vector(), {0.75, 6.75}, 1e-12);
  ag::Tensor gsum = g.sum();
  x.zero_grad();
  gsum.backward();
  require_close(x.grad().to_vector(), {3.0, -9.0}, 1e-12);
}

TEST_CASE("engine: gradients flow through a 2-layer network in float32", "[engine]") {
  // y = sum(sigmoid(x W^T + b)) with hand-derived gradients.
  ag::Tensor x = ag::tensor({{1.0, 2.0}, {-1.0, 0.5}});
  ag::Tensor w = ag::tensor({{0.1, -0.2}, {0.3, 0.4}, {-0.5, 0.6}});
  ag::Tensor b = ag::tensor({0.01, 0.02, 0.03});
  w.requires_grad_();
  b.requires_grad_();
  ag::Tensor y = ag::sigmoid(ag::matmul(x, ag::t(w)) + b).sum();
  y.backward();
  REQUIRE(w.grad().dtype() == ag::float32);
  std::vector<double> xv = x.to_vector(), wv = w.to_vector(), bv = b.to_vector();
  std::vector<double> gw(6, 0), gb(3, 0);
  for (int n = 0; n < 2; ++n)
    for (int o = 0; o < 3; ++o) {
      double z = bv[o];
      for (int i = 0; i < 2; ++i) z += xv[n * 2 + i] * wv[o * 2 + i];
      double s = 1 / (1 + std::exp(-z)), ds = s * (1 - s);
      gb[o] += ds;
      for (int i = 0; i < 2; ++i) gw[o * 2 + i] += ds * xv[n * 2 + i];
    }
  require_close(w.grad().to_vector(), gw, 1e-5);
  require_close(b.grad().to_vector(), gb, 1e-5);
}

TEST_CASE("engine: broadcast gradients are summed back to the input's shape", "[engine]") {
  ag::Tensor a = leaf({1, 2, 3, 4, 5, 6}, {2, 3});
  ag::Tensor b = leaf({10, 20, 30}, {3});
  ag::Tensor c = leaf({2.0}, {1, 1});
  ag::Tensor y = ((a + b) * c).sum();
  y.backward();
  REQUIRE(b.grad().shape() == ag::Shape{3});
  REQUIRE(c.grad().shape() == ag::Shape{1, 1});
  require_close(a.grad().to_vector(), std::vector<double>(6, 2.0));
  require_close(b.grad().to_vector(), {4.0, 4.0, 4.0});
  require_close(c.grad().to_vector(), {21.0 + 2 * 60.0});  // sum(a) + 2 * sum(b)
}

TEST_CASE("engine: AnomalyModeGuard names the op that made a NaN or Inf", "[engine][anomaly]") {
  SECTION("forward: log of a negative number") {
    ag::Tensor x = leaf({1.0, -1.0}, {2});
    REQUIRE_FALSE(ag::is_anomaly_enabled());
    ag::AnomalyModeGuard guard;
    REQUIRE(ag::is_anomaly_enabled());
    std::string msg = error_of([&] { ag::log(x); });
    REQUIRE_THAT(msg, Contains("log"));
  }
  SECTION("backward: sqrt at 0 has an infinite derivative") {
    ag::Tensor x = leaf({0.0, 4.0}, {2});
    ag::AnomalyModeGuard guard;
    ag::Tensor y = ag::sqrt(x).sum();  // forward is finite
    REQUIRE(y.item() == Approx(2.0));
    std::string msg = error_of([&] { y.backward(); });
    REQUIRE_THAT(msg, Contains("sqrt"));
  }
  SECTION("off: the NaN passes through silently") {
    ag::Tensor x = leaf({-1.0}, {1});
    ag::Tensor y = ag::log(x);
    REQUIRE(std::isnan(y.item()));
  }
  REQUIRE_FALSE(ag::is_anomaly_enabled());
}

TEST_CASE("engine: detach, clone and to(dtype)", "[engine]") {
  ag::Tensor x = leaf({1.0, 2.0}, {2}, ag::float32);

  SECTION("detach shares data and stops gradients") {
    ag::Tensor d = x.detach();
    REQUIRE_FALSE(d.requires_grad());
    REQUIRE(d.is_leaf());
    ag::Tensor y = (x * d).sum();  // d is a constant: dy/dx = d
    y.backward();
    require_close(x.grad().to_vector(), {1.0, 2.0});
    {
      ag::NoGradGuard guard;
      x.add_(1.0);
    }
    require_close(d.to_vector(), {2.0, 3.0});  // same storage
  }
  SECTION("clone copies data and passes gradients") {
    ag::Tensor c = x.clone();
    REQUIRE(c.requires_grad());
    REQUIRE_FALSE(c.is_leaf());
    (c * c).sum().backward();
    require_close(x.grad().to_vector(), {2.0, 4.0});
    {
      ag::NoGradGuard guard;
      c.add_(10.0);
    }
    require_close(x.to_vector(), {1.0, 2.0});  // own storage
  }
  SECTION("to(float64) sends a float32 gradient back") {
    ag::Tensor y = x.to(ag::float64);
    REQUIRE(y.dtype() == ag::float64);
    REQUIRE(y.requires_grad());
    (y * y * 0.5).sum().backward();
    REQUIRE(x.grad().dtype() == ag::float32);
    require_close(x.grad().to_vector(), {1.0, 2.0});
  }
  SECTION("to(float32) from float64 and back") {
    ag::Tensor z = leaf({3.0}, {1}, ag::float64);
    ag::Tensor y = z.to(ag::float32) * 2.0;
    REQUIRE(y.dtype() == ag::float32);
    y.sum().backward();
    REQUIRE(z.grad().dtype() == ag::float64);
    REQUIRE(z.grad().item() == 2.0);
  }
}

TEST_CASE("engine: mixing float32 and float64 in one op throws", "[engine]") {
  ag::Tensor a = leaf({1.0}, {1}, ag::float32);
  ag::Tensor b = leaf({1.0}, {1}, ag::float64);
  std::string msg = error_of([&] { ag::mul(a, b); });
  REQUIRE_THAT(msg, Contains("float32"));
  REQUIRE_THAT(msg, Contains("float64"));
}

TEST_CASE("engine: backward of a non-scalar without grad_output throws", "[engine]") {
  ag::Tensor x = leaf({1.0, 2.0}, {2});
  ag::Tensor y = x * 2.0;
  std::string msg = error_of([&] { y.backward(); });
  REQUIRE_THAT(msg, Contains("backward"));
  REQUIRE_THAT(msg, Contains("{2}"));
}

TEST_CASE("engine: backward of a tensor that does not require grad throws", "[engine]") {
  ag::Tensor y = ag::tensor({1.0, 2.0}).sum();
  std::string msg = error_of([&] { y.backward(); });
  REQUIRE_THAT(msg, Contains("requires_grad") || Contains("require grad"));
}

TEST_CASE("engine: ag::grad of several outputs sums their contributions", "[engine]") {
  ag::Tensor x = leaf({1.0, 2.0}, {2});
  ag::Tensor y1 = (x * x).sum();      // 2x
  ag::Tensor y2 = (x * 3.0).sum();    // 3
  std::vector<ag::Tensor> g = ag::grad({y1, y2}, {x});
  require_close(g[0].to_vector(), {5.0, 7.0});

  // Non-scalar outputs with explicit grad_outputs: a vector-Jacobian product.
  ag::Tensor z = leaf({0.5, -1.0}, {2});
  ag::Tensor v = z * z * z;  // Jacobian diag(3 z^2)
  std::vector<ag::Tensor> vjp = ag::grad({v}, {z}, {ag::tensor({2.0, 10.0}, {2}, ag::float64)});
  require_close(vjp[0].to_vector(), {2.0 * 0.75, 10.0 * 3.0});
}

TEST_CASE("engine: ag::grad frees the graph unless retain_graph", "[engine]") {
  ag::Tensor x = leaf({0.5}, {1});
  ag::Tensor y = x.exp().sum();
  std::vector<ag::Tensor> first = ag::grad({y}, {x}, {}, /*retain_graph=*/true);
  std::vector<ag::Tensor> second = ag::grad({y}, {x});
  REQUIRE(first[0].item() == Approx(std::exp(0.5)));
  REQUIRE(second[0].item() == Approx(std::exp(0.5)));
  std::string msg = error_of([&] { ag::grad({y}, {x}); });
  REQUIRE_THAT(msg, Contains("retain_graph"));
}

TEST_CASE("engine: a change between two retained backwards is caught", "[engine][version]") {
  ag::Tensor x = leaf({0.5, 1.5}, {2});
  ag::Tensor y = x.tanh();
  ag::Tensor loss = y.sum();
  loss.backward({}, true);
  {
    ag::NoGradGuard guard;
    y.add_(1.0);
  }
  REQUIRE_THAT(error_of([&] { loss.backward(); }), Contains("tanh"));
}

TEST_CASE("engine: graphs are freed when their last handle goes", "[engine][memory]") {
  std::weak_ptr<ag::TensorImpl> leaf_impl, mid_impl;
  {
    ag::Tensor x = leaf({1.0, 2.0}, {2});
    leaf_impl = x.impl_ptr();
    ag::Tensor h = x.sigmoid() * x;
    mid_impl = h.impl_ptr();
    h.sum().backward();
  }
  REQUIRE(mid_impl.expired());
  REQUIRE(leaf_impl.expired());
}

TEST_CASE("engine: create_graph leaves no reference cycle through .grad", "[engine][memory]") {
  // The gradient's graph points back at the leaf that holds the gradient (PyTorch #4661): the
  // leaf must still be freed when the program drops it, without zero_grad.
  std::weak_ptr<ag::TensorImpl> leaf_impl, grad_impl;
  {
    ag::Tensor x = leaf({0.5, -1.5}, {2});
    leaf_impl = x.impl_ptr();
    (x * x * x).sum().backward({}, false, /*create_graph=*/true);
    REQUIRE(x.grad().requires_grad());
    grad_impl = x.grad().impl_ptr();
  }
  REQUIRE(grad_impl.expired());
  REQUIRE(leaf_impl.expired());
}

TEST_CASE("engine: gradients keep flowing to a leaf its own .grad graph holds weakly", "[engine][higher]") {
  // x.grad = 3x^2 with a graph; backward through it again with create_graph adds 6x, and a third
  // pass adds 6: every order must still reach x, and x must still be freed at the end.
  std::weak_ptr<ag::TensorImpl> leaf_impl;
  {
    ag::Tensor x = leaf({0.5, -1.5}, {2});
    leaf_impl = x.impl_ptr();
    (x * x * x).sum().backward({}, false, /*create_graph=*/true);
    require_close(x.grad().to_vector(), {0.75, 6.75}, 1e-12);
    x.grad().sum().backward({}, false, /*create_graph=*/true);  // x.grad = 3x^2 + 6x
    require_close(x.grad().to_vector(), {0.75 + 3.0, 6.75 - 9.0}, 1e-12);
    x.grad().sum().backward();  // + d/dx (3x^2 + 6x) summed = 6x + 6
    require_close(x.grad().to_vector(), {3.75 + 9.0, -2.25 - 3.0}, 1e-12);
  }
  REQUIRE(leaf_impl.expired());
}

TEST_CASE("engine: a detached copy made a leaf collects its own gradient", "[engine]") {
  ag::Tensor x = leaf({2.0}, {1});
  ag::Tensor d = (x * 3.0).detach();
  d.requires_grad_();
  REQUIRE(d.is_leaf());
  (d * d).sum().backward();
  REQUIRE(d.grad().item() == Approx(12.0));  // 2 * 6
  REQUIRE_FALSE(x.grad().defined());
}

TEST_CASE("engine: gradients of concat and stack go back to each piece", "[engine]") {
  ag::Tensor a = leaf({1, 2, 3, 4}, {2, 2});
  ag::Tensor b = leaf({5, 6}, {1, 2});
  ag::Tensor w = ag::tensor({1, 2, 3, 4, 5, 6}, {3, 2}, ag::float64);
  (ag::concat({a, b}, 0) * w).sum().backward();
  require_close(a.grad().to_vector(), {1, 2, 3, 4});
  require_close(b.grad().to_vector(), {5, 6});

  ag::Tensor p = leaf({1, 2}, {2}), q = leaf({3, 4}, {2});
  ag::Tensor s = ag::stack({p, q}, 1);  // {{1, 3}, {2, 4}}
  (s * ag::tensor({10, 20, 30, 40}, {2, 2}, ag::float64)).sum().backward();
  require_close(p.grad().to_vector(), {10, 30});
  require_close(q.grad().to_vector(), {20, 40});
}

// A node keeps up to three inputs inline and more in a block of their own (InputList): the
// pieces beyond the third must get their gradients too, also when the graph is walked twice.
TEST_CASE("engine: an op with more than three inputs sends a gradient to each", "[engine]") {
  std::vector<ag::Tensor> pieces;
  for (int k = 0; k < 5; ++k) pieces.push_back(leaf({double(k), double(k) + 0.5}, {1, 2}));
  ag::Tensor w = ag::tensor({1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, {5, 2}, ag::float64);
  ag::Tensor y = (ag::concat(pieces, 0) * w).sum();
  y.backward({}, /*retain_graph=*/true);
  y.backward();
  for (int k = 0; k < 5; ++k)
    require_close(pieces[k].grad().to_vector(), {2.0 * (2 * k + 1), 2.0 * (2 * k + 2)});
  ag::Tensor z = ag::stack({pieces[0], pieces[1], pieces[2], pieces[3]}, 0).sum();
  std::vector<ag::Tensor> g = ag::grad({z}, {pieces[3], pieces[0]});
  require_close(g[0].to_vector(), {1, 1});
  require_close(g[1].to_vector(), {1, 1});
}
