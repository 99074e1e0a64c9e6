// The reports of gradcheck, gradgradcheck and compare_gradients: a table a person can read,
// naming the input and the element where autograd and the reference differ most.
#include <cmath>

#include <autograd/autograd.hpp>

#include "util.hpp"

using namespace ag;

namespace {

// f(x, W) = sum(sigmoid(W x)); by hand: dW = s' x^T, dx = W^T s' with s' = h (1 - h).
const std::vector<double> kW{0.1, -0.2, 0.3, 0.4, 0.5, -0.6}, kX{1.0, 2.0, -1.0};

Tensor f(const std::vector<Tensor>& in) { return sum(sigmoid(matmul(in[1], in[0]))); }

std::pair<std::vector<double>, std::vector<double>> hand_gradients() {
  std::vector<double> dW(6), dx(3, 0.0);
  for (int i = 0; i < 2; ++i) {
    double z = 0;
    for (int j = 0; j < 3; ++j) z += kW[3 * i + j] * kX[j];
    const double h = 1 / (1 + std::exp(-z)), ds = h * (1 - h);
    for (int j = 0; j < 3; ++j) {
      dW[3 * i + j] = ds * kX[j];
      dx[j] += kW[3 * i + j] * ds;
    }
  }
  return {dW, dx};
}

}  // namespace

TEST_CASE("compare_gradients passes correct hand-derived gradients", "[graph][report]") {
  Tensor x = tensor(kX, {3}, float64).set_name("x").requires_grad_();
  Tensor W = tensor(kW, {2, 3}, float64).set_name("W").requires_grad_();
  auto [dW, dx] = hand_gradients();
  GradcheckResult r = compare_gradients(f, {x, W}, {tensor(dx, {3}, float64), tensor(dW, {2, 3}, float64)});
  INFO(r.report());
  CHECK(r.ok);
  REQUIRE(r.entries.size() == 2);
  CHECK(r.entries[0].ok);
  CHECK(r.entries[1].ok);
  const std::string report = r.report();
  CHECK(report.find("compare_gradients: passed") != std::string::npos);
  CHECK(report.find("hand-derived") != std::string::npos);
  CHECK(report.find("'W'") != std::string::npos);
  CHECK(report.find("'x'") != std::string::npos);
}

TEST_CASE("compare_gradients catches one wrong element and names the input and index",
          "[graph][report]") {
  Tensor x = tensor(kX, {3}, float64).set_name("x").requires_grad_();
  Tensor W = tensor(kW, {2, 3}, float64).set_name("W").requires_grad_();
  auto [dW, dx] = hand_gradients();
  const double right = dW[5];
  dW[5] += 0.01;  // W[1][2] is off: a typical slip in a hand derivation
  GradcheckResult r = compare_gradients(f, {x, W}, {tensor(dx, {3}, float64), tensor(dW, {2, 3}, float64)});
  const std::string report = r.report();
  INFO(report);
  CHECK_FALSE(r.ok);
  CHECK_FALSE(static_cast<bool>(r));
  REQUIRE(r.entries.size() == 2);
  CHECK(r.entries[0].ok);  // x is right
  const GradcheckEntry& e = r.entries[1];
  CHECK_FALSE(e.ok);
  CHECK(e.input == "'W'");
  CHECK(e.index == std::vector<std::size_t>{1, 2});
  CHECK(e.analytic == Approx(right));
  CHECK(e.reference == Approx(right + 0.01));
  CHECK(e.abs_error == Approx(0.01));
  CHECK(report.find("compare_gradients: FAILED") != std::string::npos);
  // The row of W names it, its worst element, and says MISMATCH.
  bool row = false;
  for (const std::string& line : graph_test::lines_of(report))
    if (line.rfind("'W'", 0) == 0)
      row = line.find("[1, 2]") != std::string::npos && line.find("MISMATCH") != std::string::npos;
  CHECK(row);
}

TEST_CASE("gradcheck warns on float32 inputs and checks them in float64", "[graph][report]") {
  Tensor x = tensor(kX, {3}).set_name("x").requires_grad_();
  Tensor W = tensor(kW, {2, 3}).set_name("W").requires_grad_();
  GradcheckResult r = gradcheck(f, {x, W});
  const std::string report = r.report();
  INFO(report);
  CHECK(r.ok);
  REQUIRE(r.warnings.size() == 2);
  CHECK(r.warnings[0].find("float32") != std::string::npos);
  CHECK(report.find("warning: 'x' is float32") != std::string::npos);
  CHECK(report.find("warning: 'W' is float32") != std::string::npos);
  // float64 inputs give no warning.
  GradcheckResult r64 = gradcheck(f, {x.detach().to(float64).requires_grad_(),
                                      W.detach().to(float64).requires_grad_()});
  CHECK(r64.ok);
  CHECK(r64.warnings.empty());
  CHECK(r64.report().find("warning") == std::string::npos);
}

TEST_CASE("gradcheck's report has one row per input and flags a wrong derivative",
          "[graph][report]") {
  Tensor a = tensor({0.3, -0.7}, {2}, float64).set_name("a").requires_grad_();
  Tensor b = tensor({1.1, 0.4}, {2}, float64).set_name("b").requires_grad_();
  GradcheckResult r = gradcheck([](const std::vector<Tensor>& in) { return in[0] * sin(in[1]); },
                                {a, b});
  INFO(r.report());
  CHECK(r.ok);
  REQUIRE(r.entries.size() == 2);
  CHECK(r.report().find("gradcheck: passed") != std::string::npos);
  // step() has zero gradient by definition; the numeric derivative across its jump does not.
  Tensor s = tensor({0.0, 1.0}, {2}, float64).set_name("s").requires_grad_();
  GradcheckResult bad = gradcheck([](const std::vector<Tensor>& in) { return step(in[0]); }, {s});
  INFO(bad.report());
  CHECK_FALSE(bad.ok);
  CHECK(bad.entries[0].index == std::vector<std::size_t>{0});
  CHECK(bad.report().find("MISMATCH") != std::string::npos);
}

TEST_CASE("gradgradcheck reports second derivatives", "[graph][report]") {
  Tensor x = tensor({0.2, -0.5, 1.3}, {3}, float64).set_name("x").requires_grad_();
  GradcheckResult r =
      gradgradcheck([](const std::vector<Tensor>& in) { return tanh(in[0]) * in[0]; }, {x});
  INFO(r.report());
  CHECK(r.ok);
  CHECK(r.report().find("gradgradcheck: passed") != std::string::npos);
  CHECK(r.report().find("'x'") != std::string::npos);
}
