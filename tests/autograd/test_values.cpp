// Forward values against numbers computed by hand or by plain loops: numerically delicate ops
// (softmax, logsumexp, log_softmax), every elementwise op, reductions, matmul, shape ops and
// creation functions.
#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include <autograd/autograd.hpp>

#include "support.hpp"

using Catch::Matchers::Contains;
using ag_test::require_close;

namespace {

bool all_finite(const ag::Tensor& t) {
  for (double v : t.to_vector())
    if (!std::isfinite(v)) return false;
  return true;
}

// Deterministic, non-trivial values: v_i = sin(1 + 0.7 i) * scale.
std::vector<double> wave(std::size_t n, double scale = 1.0) {
  std::vector<double> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = std::sin(1.0 + 0.7 * static_cast<double>(i)) * scale;
  return v;
}

}  // namespace

// ---- softmax family --------------------------------------------------------------------------

TEST_CASE("values: softmax rows sum to 1 and match exp(x)/sum(exp(x))", "[values][softmax]") {
  for (ag::Dtype dt : {ag::float32, ag::float64}) {
    std::vector<double> v = wave(12, 3.0);
    ag::Tensor x = ag::tensor(v, {3, 4}, dt);
    ag::Tensor s = ag::softmax(x, 1);
    REQUIRE(s.shape() == ag::Shape{3, 4});
    REQUIRE(s.dtype() == dt);
    std::vector<double> got = s.to_vector();
    for (std::size_t r = 0; r < 3; ++r) {
      double z = 0, row = 0;
      for (std::size_t c = 0; c < 4; ++c) z += std::exp(v[r * 4 + c]);
      for (std::size_t c = 0; c < 4; ++c) {
        REQUIRE(got[r * 4 + c] == Approx(std::exp(v[r * 4 + c]) / z).epsilon(1e-5));
        row += got[r * 4 + c];
      }
      REQUIRE(row == Approx(1.0).epsilon(1e-6));
    }
    // Along axis 0 (negative spelling): columns sum to 1.
    std::vector<double> cols = ag::softmax(x, -2).sum({0}).to_vector();
    require_close(cols, {1.0, 1.0, 1.0, 1.0}, 1e-6);
  }
}

TEST_CASE("values: softmax of huge logits is finite", "[values][softmax]") {
  ag::Tensor x = ag::tensor({{1e4, 1e4 - 1.0, -1e4}});
  ag::Tensor s = ag::softmax(x, -1);
  REQUIRE(all_finite(s));
  double e = std::exp(-1.0);
  require_close(s.to_vector(), {1 / (1 + e), e / (1 + e), 0.0}, 1e-6);
}

TEST_CASE("values: logsumexp of inputs of 1000 is 1000 + log(n)", "[values][softmax]") {
  for (ag::Dtype dt : {ag::float32, ag::float64}) {
    ag::Tensor x = ag::full({2, 5}, 1000.0, dt);
    ag::Tensor l = ag::logsumexp(x, 1);
    REQUIRE(l.shape() == ag::Shape{2});
    REQUIRE(all_finite(l));
    require_close(l.to_vector(), {1000 + std::log(5.0), 1000 + std::log(5.0)}, 1e-6);
    ag::Tensor lk = ag::logsumexp(x, -1, /*keepdim=*/true);
    REQUIRE(lk.shape() == ag::Shape{2, 1});
  }
  // Mixed magnitudes: the smaller terms still count.
  ag::Tensor y = ag::tensor({1000.0, 999.0, -1000.0}, {3}, ag::float64);
  REQUIRE(ag::logsumexp(y, 0).item() ==
          Approx(1000.0 + std::log(1.0 + std::exp(-1.0))).epsilon(1e-14));
  ag::Tensor small = ag::tensor({-1000.0, -1000.0}, {2}, ag::float64);
  REQUIRE(ag::logsumexp(small, 0).item() == Approx(-1000.0 + std::log(2.0)).epsilon(1e-14));
}

TEST_CASE("values: log_softmax and cross-entropy stay finite for large logits", "[values][softmax]") {
  for (ag::Dtype dt : {ag::float32, ag::float64}) {
    std::vector<double> v = {1e4, 0.0, -1e4, 5.0, 5.0 + 1e4, 5.0};
    ag::Tensor logits = ag::tensor(v, {2, 3}, dt);
    logits.requires_grad_();
    ag::Tensor lp = ag::log_softmax(logits, 1);
    REQUIRE(all_finite(lp));
    // Row 0: the max is 1e4, the others are exp(-1e4) and exp(-2e4) away.
    require_close(lp.to_vector(), {0.0, -1e4, -2e4, -1e4, 0.0, -1e4}, 1e-6);

    // Cross-entropy by composition: pick the label's log-probability, negate, average.
    ag::Tensor picked = ag::index_select(lp.reshape({6}), 0, {1, 4});  // labels {1, 1}
    ag::Tensor loss = -picked.mean();
    REQUIRE(loss.item() == Approx(5e3).epsilon(1e-6));
    loss.backward();
    REQUIRE(all_finite(logits.grad()));
    // d/dlogits of -log_softmax[label] is softmax - one_hot, divided by the batch of 2.
    require_close(logits.grad().to_vector(), {0.5, -0.5, 0.0, 0.0, 0.0, 0.0}, 1e-6);
  }
}

TEST_CASE("values: log_softmax equals log(softmax) on moderate inputs", "[values][softmax]") {
  std::vector<double> v = wave(10, 2.0);
  ag::Tensor x = ag::tensor(v, {2, 5}, ag::float64);
  require_close(ag::log_softmax(x, 1).to_vector(), ag::log(ag::softmax(x, 1)).to_vector(), 1e-12);
  require_close(ag::log_softmax(x, 0).to_vector(), ag::log(ag::softmax(x, 0)).to_vector(), 1e-12);
}

// ---- elementwise ------------------------------------------------------------------------------

TEST_CASE("values: each unary elementwise op at chosen points", "[values][elementwise]") {
  const std::vector<double> pts = {-2.5, -1.0, -0.3, 0.0, 0.4, 1.0, 3.0};
  struct Case {
    const char* name;
    std::function<ag::Tensor(const ag::Tensor&)> op;
    std::function<double(double)> want;
    bool positive_only;
  };
  const double slope = 0.1;
  std::vector<Case> cases = {
      {"neg", [](const ag::Tensor& x) { return ag::neg(x); }, [](double x) { return -x; }, false},
      {"unary -", [](const ag::Tensor& x) { return -x; }, [](double x) { return -x; }, false},
      {"exp", [](const ag::Tensor& x) { return ag::exp(x); }, [](double x) { return std::exp(x); }, false},
      {"log", [](const ag::Tensor& x) { return ag::log(x); }, [](double x) { return std::log(x); }, true},
      {"sqrt", [](const ag::Tensor& x) { return ag::sqrt(x); }, [](double x) { return std::sqrt(x); }, true},
      {"abs", [](const ag::Tensor& x) { return ag::abs(x); }, [](double x) { return std::fabs(x); }, false},
      {"sin", [](const ag::Tensor& x) { return ag::sin(x); }, [](double x) { return std::sin(x); }, false},
      {"cos", [](const ag::Tensor& x) { return ag::cos(x); }, [](double x) { return std::cos(x); }, false},
      {"tanh", [](const ag::Tensor& x) { return ag::tanh(x); }, [](double x) { return std::tanh(x); }, false},
      {"sigmoid", [](const ag::Tensor& x) { return ag::sigmoid(x); },
       [](double x) { return 1 / (1 + std::exp(-x)); }, false},
      {"relu", [](const ag::Tensor& x) { return ag::relu(x); },
       [](double x) { return x > 0 ? x : 0.0; }, false},
      {"leaky_relu", [&](const ag::Tensor& x) { return ag::leaky_relu(x, slope); },
       [&](double x) { return x > 0 ? x : slope * x; }, false},
      {"softplus", [](const ag::Tensor& x) { return ag::softplus(x); },
       [](double x) { return std::log1p(std::exp(x)); }, false},
      {"clamp", [](const ag::Tensor& x) { return ag::clamp(x, -1.0, 0.5); },
       [](double x) { return std::min(std::max(x, -1.0), 0.5); }, false},
      {"step", [](const ag::Tensor& x) { return ag::step(x); },
       [](double x) { return x >= 0 ? 1.0 : 0.0; }, false},
      {"pow 3", [](const ag::Tensor& x) { return ag::pow(x, 3.0); },
       [](double x) { return x * x * x; }, false},
      {"pow 0.5", [](const ag::Tensor& x) { return ag::pow(x, 0.5); },
       [](double x) { return std::sqrt(x); }, true},
      {"pow -1", [](const ag::Tensor& x) { return ag::pow(x, -1.0); },
       [](double x) { return 1 / x; }, true},
      {"x + 2", [](const ag::Tensor& x) { return x + 2.0; }, [](double x) { return x + 2; }, false},
      {"2 - x", [](const ag::Tensor& x) { return 2.0 - x; }, [](double x) { return 2 - x; }, false},
      {"x - 2", [](const ag::Tensor& x) { return x - 2.0; }, [](double x) { return x - 2; }, false},
      {"3 * x", [](const ag::Tensor& x) { return 3.0 * x; }, [](double x) { return 3 * x; }, false},
      {"x / 4", [](const ag::Tensor& x) { return x / 4.0; }, [](double x) { return x / 4; }, false},
      {"1 / x", [](const ag::Tensor& x) { return 1.0 / x; }, [](double x) { return 1 / x; }, true},
  };
  for (ag::Dtype dt : {ag::float32, ag::float64}) {
    for (const Case& c : cases) {
      std::vector<double> in;
      for (double p : pts)
        if (!c.positive_only || p > 0) in.push_back(p);
      ag::Tensor x = ag::tensor(in, {in.size()}, dt);
      ag::Tensor y = c.op(x);
      INFO("op " << c.name << " in " << ag::dtype_name(dt));
      REQUIRE(y.dtype() == dt);
      REQUIRE(y.shape() == x.shape());
      std::vector<double> want;
      for (double p : in) want.push_back(c.want(p));
      require_close(y.to_vector(), want, dt == ag::float32 ? 1e-6 : 1e-12);
    }
  }
}

TEST_CASE("values: softplus is stable far from zero", "[values][elementwise]") {
  ag::Tensor x = ag::tensor({-100.0, 50.0, 1000.0}, {3}, ag::float64);
  std::vector<double> y = ag::softplus(x).to_vector();
  REQUIRE(y[0] == Approx(std::exp(-100.0)).epsilon(1e-6));
  REQUIRE(y[1] == Approx(50.0).epsilon(1e-14));
  REQUIRE(y[2] == Approx(1000.0));
}

TEST_CASE("values: sigmoid saturates without NaN", "[values][elementwise]") {
  ag::Tensor x = ag::tensor({-1000.0, 1000.0}, {2}, ag::float32);
  std::vector<double> y = ag::sigmoid(x).to_vector();
  REQUIRE(y[0] == Approx(0.0).margin(1e-30));
  REQUIRE(y[1] == Approx(1.0));
}

TEST_CASE("values: binary ops and broadcasting shapes", "[values][broadcast]") {
  ag::Tensor a = ag::tensor({1, 2, 3, 4, 5, 6}, {2, 3}, ag::float64);
  ag::Tensor row = ag::tensor({10, 20, 30}, {3}, ag::float64);
  ag::Tensor col = ag::tensor({100, 200}, {2, 1}, ag::float64);

  require_close((a + row).to_vector(), {11, 22, 33, 14, 25, 36});
  require_close((a - row).to_vector(), {-9, -18, -27, -6, -15, -24});
  require_close((a * col).to_vector(), {100, 200, 300, 800, 1000, 1200});
  require_close((a / col).to_vector(), {0.01, 0.02, 0.03, 0.02, 0.025, 0.03});
  require_close(ag::maximum(a, ag::tensor({2.5, 2.5, 2.5}, {3}, ag::float64)).to_vector(),
                {2.5, 2.5, 3, 4, 5, 6});
  require_close(ag::minimum(a, ag::tensor({2.5, 2.5, 2.5}, {3}, ag::float64)).to_vector(),
                {1, 2, 2.5, 2.5, 2.5, 2.5});

  // {2, 1} with {3} broadcasts both ways to {2, 3}.
  ag::Tensor outer = col + row;
  REQUIRE(outer.shape() == ag::Shape{2, 3});
  require_close(outer.to_vector(), {110, 120, 130, 210, 220, 230});

  // {4, 1, 3} with {2, 1}: {4, 2, 3}.
  ag::Tensor b = ag::arange(0, 12, 1, ag::float64).reshape({4, 1, 3});
  ag::Tensor c = ag::tensor({0, 1000}, {2, 1}, ag::float64);
  ag::Tensor bc = b + c;
  REQUIRE(bc.shape() == ag::Shape{4, 2, 3});
  std::vector<double> got = bc.to_vector();
  for (std::size_t i = 0; i < 4; ++i)
    for (std::size_t j = 0; j < 2; ++j)
      for (std::size_t k = 0; k < 3; ++k)
        REQUIRE(got[(i * 2 + j) * 3 + k] == static_cast<double>(i * 3 + k) + 1000.0 * j);

  // A 0-d scalar broadcasts against anything.
  ag::Tensor s = ag::scalar(2.0, ag::float64);
  REQUIRE((a * s).shape() == ag::Shape{2, 3});
  require_close((s - a).to_vector(), {1, 0, -1, -2, -3, -4});

  REQUIRE(ag::broadcast_to(row, {4, 3}).shape() == ag::Shape{4, 3});
  require_close(ag::broadcast_to(col, {2, 2}).to_vector(), {100, 100, 200, 200});
}

// ---- reductions -------------------------------------------------------------------------------

TEST_CASE("values: sum and mean with axes, negative axes and keepdim", "[values][reduce]") {
  ag::Tensor x = ag::arange(0, 24, 1, ag::float64).reshape({2, 3, 4});
  REQUIRE(ag::sum(x).dim() == 0);
  REQUIRE(ag::sum(x).item() == 276.0);
  REQUIRE(ag::mean(x).item() == 11.5);

  ag::Tensor s1 = ag::sum(x, {1});
  REQUIRE(s1.shape() == ag::Shape{2, 4});
  require_close(s1.to_vector(), {12, 15, 18, 21, 48, 51, 54, 57});

  ag::Tensor sneg = ag::sum(x, {-1}, true);
  REQUIRE(sneg.shape() == ag::Shape{2, 3, 1});
  require_close(sneg.to_vector(), {6, 22, 38, 54, 70, 86});

  ag::Tensor s02 = ag::sum(x, {0, -1});
  REQUIRE(s02.shape() == ag::Shape{3});
  require_close(s02.to_vector(), {6 + 54, 22 + 70, 38 + 86});

  ag::Tensor m = ag::mean(x, {0, 2}, true);
  REQUIRE(m.shape() == ag::Shape{1, 3, 1});
  require_close(m.to_vector(), {60.0 / 8, 92.0 / 8, 124.0 / 8});

  ag::Tensor mneg = x.mean({-3});
  REQUIRE(mneg.shape() == ag::Shape{3, 4});
  REQUIRE(mneg.to_vector()[0] == 6.0);
  REQUIRE(mneg.to_vector()[11] == 17.0);
}

TEST_CASE("values: float32 sums of many elements stay accurate", "[values][reduce]") {
  // One million 0.1f: a naive float accumulator drifts by ~1%; pairwise or wide sums do not.
  ag::Tensor x = ag::full({1000000}, 0.1, ag::float32);
  REQUIRE(ag::sum(x).item() == Approx(100000.0).epsilon(1e-3));
  REQUIRE(ag::mean(x).item() == Approx(0.1).epsilon(1e-3));
}

TEST_CASE("values: max and min with ties, argmax as int64", "[values][reduce]") {
  ag::Tensor x = ag::tensor({{3, 7, 7, 1}, {-2, -2, -5, -9}, {0, 4, 2, 4}});
  ag::Tensor mx = ag::max(x, 1);
  REQUIRE(mx.shape() == ag::Shape{3});
  require_close(mx.to_vector(), {7, -2, 4});
  ag::Tensor mn = ag::min(x, -1, true);
  REQUIRE(mn.shape() == ag::Shape{3, 1});
  require_close(mn.to_vector(), {1, -9, 0});
  require_close(ag::max(x, 0).to_vector(), {3, 7, 7, 4});
  require_close(ag::min(x, -2).to_vector(), {-2, -2, -5, -9});

  ag::Tensor am = ag::argmax(x, 1);
  REQUIRE(am.dtype() == ag::int64);
  REQUIRE(am.shape() == ag::Shape{3});
  REQUIRE_FALSE(am.requires_grad());
  // Ties pick the first index, as NumPy and PyTorch do.
  const std::int64_t* idx = am.data_ptr<std::int64_t>();
  REQUIRE(idx[0] == 1);
  REQUIRE(idx[1] == 0);
  REQUIRE(idx[2] == 1);
  require_close(ag::argmax(x, 0).to_vector(), {0, 0, 0, 2});

  // A tie in max: the gradient goes to the tied elements and sums to the incoming gradient.
  ag::Tensor y = ag::tensor({2.0, 5.0, 5.0}, {3}, ag::float64);
  y.requires_grad_();
  ag::max(y, 0).backward();
  std::vector<double> g = y.grad().to_vector();
  REQUIRE(g[0] == 0.0);
  REQUIRE(g[1] + g[2] == Approx(1.0));
  REQUIRE(g[1] >= 0.0);
  REQUIRE(g[2] >= 0.0);
}

// ---- linear algebra ----------------------------------------------------------------------------

namespace {
std::vector<double> loop_matmul(const std::vector<double>& a, const std::vector<double>& b,
                                std::size_t n, std::size_t k, std::size_t m) {
  std::vector<double> c(n * m, 0.0);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < m; ++j)
      for (std::size_t p = 0; p < k; ++p) c[i * m + j] += a[i * k + p] * b[p * m + j];
  return c;
}
}  // namespace

TEST_CASE("values: matmul 2-D against a plain loop", "[values][matmul]") {
  for (ag::Dtype dt : {ag::float32, ag::float64}) {
    const std::vector<std::array<std::size_t, 3>> sizes = {{3, 4, 2}, {1, 1, 1}, {17, 33, 9}, {64, 65, 63}};
    for (const auto& [n, k, m] : sizes) {
      std::vector<double> a = wave(n * k), b = wave(k * m, 0.5);
      ag::Tensor c = ag::matmul(ag::tensor(a, {n, k}, dt), ag::tensor(b, {k, m}, dt));
      INFO(n << "x" << k << " @ " << k << "x" << m << " in " << ag::dtype_name(dt));
      REQUIRE(c.shape() == ag::Shape{n, m});
      REQUIRE(c.dtype() == dt);
      require_close(c.to_vector(), loop_matmul(a, b, n, k, m), dt == ag::float32 ? 1e-4 : 1e-12);
    }
  }
}

TEST_CASE("values: matmul with 1-D operands", "[values][matmul]") {
  ag::Tensor v = ag::tensor({1.0, 2.0, 3.0}, {3}, ag::float64);
  ag::Tensor w = ag::tensor({4.0, -5.0, 6.0}, {3}, ag::float64);
  ag::Tensor m = ag::tensor({1, 2, 3, 4, 5, 6}, {2, 3}, ag::float64);

  ag::Tensor dot = ag::matmul(v, w);
  REQUIRE(dot.dim() == 0);
  REQUIRE(dot.item() == 12.0);

  ag::Tensor mv = ag::matmul(m, v);  // {2, 3} @ {3} -> {2}
  REQUIRE(mv.shape() == ag::Shape{2});
  require_close(mv.to_vector(), {14, 32});

  ag::Tensor vm = ag::matmul(ag::tensor({1.0, -1.0}, {2}, ag::float64), m);  // {2} @ {2, 3} -> {3}
  REQUIRE(vm.shape() == ag::Shape{3});
  require_close(vm.to_vector(), {-3, -3, -3});
}

TEST_CASE("values: batched 3-D matmul against a loop per batch", "[values][matmul]") {
  const std::size_t B = 3, n = 4, k = 5, m = 2;
  std::vector<double> a = wave(B * n * k), b = wave(B * k * m, 2.0);
  ag::Tensor c = ag::matmul(ag::tensor(a, {B, n, k}, ag::float64), ag::tensor(b, {B, k, m}, ag::float64));
  REQUIRE(c.shape() == ag::Shape{B, n, m});
  std::vector<double> got = c.to_vector();
  for (std::size_t i = 0; i < B; ++i) {
    std::vector<double> ai(a.begin() + i * n * k, a.begin() + (i + 1) * n * k);
    std::vector<double> bi(b.begin() + i * k * m, b.begin() + (i + 1) * k * m);
    std::vector<double> want = loop_matmul(ai, bi, n, k, m);
    for (std::size_t j = 0; j < n * m; ++j) REQUIRE(got[i * n * m + j] == Approx(want[j]).epsilon(1e-12));
  }
}

TEST_CASE("values: t and transpose", "[values][shape]") {
  ag::Tensor m = ag::tensor({{1, 2, 3}, {4, 5, 6}});
  ag::Tensor mt = ag::t(m);
  REQUIRE(mt.shape() == ag::Shape{3, 2});
  require_close(mt.to_vector(), {1, 4, 2, 5, 3, 6});
  require_close(m.t().t().to_vector(), m.to_vector());

  ag::Tensor x = ag::arange(0, 24).reshape({2, 3, 4});
  ag::Tensor y = ag::transpose(x, 0, -1);
  REQUIRE(y.shape() == ag::Shape{4, 3, 2});
  std::vector<double> got = y.to_vector();
  for (std::size_t i = 0; i < 4; ++i)
    for (std::size_t j = 0; j < 3; ++j)
      for (std::size_t k = 0; k < 2; ++k)
        REQUIRE(got[(i * 3 + j) * 2 + k] == static_cast<double>(k * 12 + j * 4 + i));
}

// ---- shape ops ----------------------------------------------------------------------------------

TEST_CASE("values: reshape, flatten, squeeze, unsqueeze", "[values][shape]") {
  ag::Tensor x = ag::arange(0, 6);
  ag::Tensor r = ag::reshape(x, {2, 3});
  REQUIRE(r.shape() == ag::Shape{2, 3});
  require_close(r.to_vector(), {0, 1, 2, 3, 4, 5});
  REQUIRE(ag::flatten(r).shape() == ag::Shape{6});

  ag::Tensor u = ag::unsqueeze(r, 0);
  REQUIRE(u.shape() == ag::Shape{1, 2, 3});
  REQUIRE(ag::unsqueeze(r, -1).shape() == ag::Shape{2, 3, 1});
  REQUIRE(ag::unsqueeze(r, 1).shape() == ag::Shape{2, 1, 3});
  REQUIRE(ag::squeeze(u, 0).shape() == ag::Shape{2, 3});
  REQUIRE(ag::squeeze(ag::unsqueeze(r, -1), -1).shape() == ag::Shape{2, 3});
  require_close(ag::squeeze(u, 0).to_vector(), {0, 1, 2, 3, 4, 5});
}

TEST_CASE("values: slice, index_select, concat, stack", "[values][shape]") {
  ag::Tensor x = ag::arange(0, 12, 1, ag::float64).reshape({3, 4});

  ag::Tensor rows = ag::slice(x, 0, 1, 3);
  REQUIRE(rows.shape() == ag::Shape{2, 4});
  require_close(rows.to_vector(), {4, 5, 6, 7, 8, 9, 10, 11});
  ag::Tensor cols = ag::slice(x, -1, 1, 3);
  REQUIRE(cols.shape() == ag::Shape{3, 2});
  require_close(cols.to_vector(), {1, 2, 5, 6, 9, 10});
  REQUIRE(ag::slice(x, 1, 2, 2).shape() == ag::Shape{3, 0});

  ag::Tensor sel = ag::index_select(x, 0, {2, 0, 2});
  REQUIRE(sel.shape() == ag::Shape{3, 4});
  require_close(sel.to_vector(), {8, 9, 10, 11, 0, 1, 2, 3, 8, 9, 10, 11});
  ag::Tensor selc = x.index_select(-1, {3, 1});
  REQUIRE(selc.shape() == ag::Shape{3, 2});
  require_close(selc.to_vector(), {3, 1, 7, 5, 11, 9});

  ag::Tensor y = ag::full({1, 4}, -1.0, ag::float64);
  ag::Tensor c0 = ag::concat({x, y}, 0);
  REQUIRE(c0.shape() == ag::Shape{4, 4});
  require_close(c0.to_vector(), {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, -1, -1, -1, -1});
  ag::Tensor c1 = ag::concat({x, ag::zeros({3, 1}, ag::float64)}, -1);
  REQUIRE(c1.shape() == ag::Shape{3, 5});
  require_close(c1.to_vector(), {0, 1, 2, 3, 0, 4, 5, 6, 7, 0, 8, 9, 10, 11, 0});

  ag::Tensor a = ag::tensor({1.0, 2.0}), b = ag::tensor({3.0, 4.0});
  ag::Tensor s0 = ag::stack({a, b}, 0);
  REQUIRE(s0.shape() == ag::Shape{2, 2});
  require_close(s0.to_vector(), {1, 2, 3, 4});
  ag::Tensor s1 = ag::stack({a, b}, -1);
  REQUIRE(s1.shape() == ag::Shape{2, 2});
  require_close(s1.to_vector(), {1, 3, 2, 4});

  // Gradients of the shape ops land in the right places.
  ag::Tensor p = ag::arange(0, 12, 1, ag::float64).reshape({3, 4});
  p.requires_grad_();
  ag::Tensor w = ag::arange(1, 9, 1, ag::float64).reshape({2, 4});
  (ag::slice(p, 0, 1, 3) * w).sum().backward();
  require_close(p.grad().to_vector(), {0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8});
  p.zero_grad();
  ag::index_select(p, 0, {2, 2, 0}).sum().backward();
  require_close(p.grad().to_vector(), {1, 1, 1, 1, 0, 0, 0, 0, 2, 2, 2, 2});
}

// ---- creation -----------------------------------------------------------------------------------

TEST_CASE("values: rand and randn repeat under manual_seed", "[values][random]") {
  ag::manual_seed(1234);
  std::vector<double> u1 = ag::rand({1000}).to_vector();
  std::vector<double> n1 = ag::randn({2000}, ag::float64).to_vector();
  ag::manual_seed(1234);
  std::vector<double> u2 = ag::rand({1000}).to_vector();
  std::vector<double> n2 = ag::randn({2000}, ag::float64).to_vector();
  REQUIRE(u1 == u2);
  REQUIRE(n1 == n2);
  ag::manual_seed(1235);
  REQUIRE(ag::rand({1000}).to_vector() != u1);

  double umin = 1, umax = 0, usum = 0;
  for (double v : u1) {
    umin = std::min(umin, v);
    umax = std::max(umax, v);
    usum += v;
  }
  REQUIRE(umin >= 0.0);
  REQUIRE(umax < 1.0);
  REQUIRE(usum / 1000 == Approx(0.5).margin(0.05));  // 5 standard errors
  double nsum = 0, nsq = 0;
  for (double v : n1) {
    nsum += v;
    nsq += v * v;
  }
  double mean = nsum / 2000;
  REQUIRE(mean == Approx(0.0).margin(0.12));
  REQUIRE(nsq / 2000 - mean * mean == Approx(1.0).margin(0.15));
}

TEST_CASE("values: arange, eye, full, zeros, ones", "[values][creation]") {
  require_close(ag::arange(0, 5).to_vector(), {0, 1, 2, 3, 4});
  require_close(ag::arange(1, 2, 0.25).to_vector(), {1, 1.25, 1.5, 1.75});
  require_close(ag::arange(5, 0, -2).to_vector(), {5, 3, 1});
  REQUIRE(ag::arange(3, 3).numel() == 0);
  ag::Tensor ai = ag::arange(0, 4, 1, ag::int64);
  REQUIRE(ai.dtype() == ag::int64);
  require_close(ai.to_vector(), {0, 1, 2, 3});

  ag::Tensor e = ag::eye(3, ag::float64);
  REQUIRE(e.shape() == ag::Shape{3, 3});
  require_close(e.to_vector(), {1, 0, 0, 0, 1, 0, 0, 0, 1});

  ag::Tensor f = ag::full({2, 2}, 7.5);
  REQUIRE(f.dtype() == ag::float32);
  require_close(f.to_vector(), {7.5, 7.5, 7.5, 7.5});
  require_close(ag::zeros({3}).to_vector(), {0, 0, 0});
  require_close(ag::ones({2}, ag::float64).to_vector(), {1, 1});
  REQUIRE(ag::scalar(2.5).dim() == 0);
  REQUIRE(ag::scalar(2.5).item() == 2.5);
}

TEST_CASE("values: int64 tensors hold integers and refuse gradients", "[values][int64]") {
  ag::Tensor i = ag::tensor({1.0, 2.9, -3.9}, {3}, ag::int64);
  REQUIRE(i.dtype() == ag::int64);
  require_close(i.to_vector(), {1, 2, -3});  // truncation toward zero
  REQUIRE_THROWS_AS(i.requires_grad_(), ag::Error);
  REQUIRE_FALSE(i.requires_grad());
  // Integers above float32's 2^24 stay exact.
  ag::Tensor big = ag::tensor({16777217.0}, {1}, ag::int64);
  REQUIRE(big.data_ptr<std::int64_t>()[0] == 16777217);
  REQUIRE(big.item() == 16777217.0);
}

TEST_CASE("values: fused relu backward equals the unfused g * (x > 0), float32 and float64",
          "[values][fused]") {
  // backward without create_graph takes the fused one-pass kernel; with create_graph the
  // reference composite mul(g, gt(x, 0)). Both must give the same numbers bit for bit, zeros,
  // NaN and inf included, on every instruction set (ctest reruns this per ISA).
  const double inf = std::numeric_limits<double>::infinity(), nan = std::nan("");
  for (ag::Dtype dtype : {ag::float32, ag::float64}) {
    std::vector<double> xs = {-2, -0.0, 0.0, 1e-30, 3, nan, -inf, inf};
    std::vector<double> gs = {1, inf, 2, -3, nan, 5, inf, -0.5};
    for (int i = 0; i < 37; ++i) {  // a vector body and a tail at any width
      xs.push_back(std::sin(1.7 * i));
      gs.push_back(std::cos(0.3 * i));
    }
    const ag::Shape shape{xs.size()};
    ag::Tensor x = ag::tensor(xs, shape, dtype).requires_grad_();
    ag::Tensor g = ag::tensor(gs, shape, dtype);
    ag::relu(x).backward(g);
    std::vector<double> fused = x.grad().to_vector();
    std::vector<double> unfused =
        ag::grad({ag::relu(x)}, {x}, {g}, /*retain_graph=*/false, /*create_graph=*/true)[0]
            .to_vector();
    REQUIRE(fused.size() == xs.size());
    xs = x.to_vector();  // the values as stored in dtype
    gs = g.to_vector();
    for (std::size_t k = 0; k < xs.size(); ++k) {
      INFO(ag::dtype_name(dtype) << " x " << xs[k] << " g " << gs[k]);
      const double want = gs[k] * (xs[k] > 0 ? 1.0 : 0.0);
      if (std::isnan(want)) {
        CHECK(std::isnan(fused[k]));
        CHECK(std::isnan(unfused[k]));
      } else {
        CHECK(fused[k] == want);
        CHECK(unfused[k] == want);
      }
    }
  }
}
