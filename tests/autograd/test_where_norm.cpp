// where and norm, the two ops added by docs/adding_an_op.md's procedure: values, the gradients
// at the points gradcheck cannot sample (0 for p = 2, ties for p = inf), and the errors. Their
// gradcheck and gradgradcheck cases live in their entries (autograd/ops/where.cpp, norm.cpp).
#include <cmath>

#include "support.hpp"

using namespace ag;
using ag_test::error_of;
using ag_test::require_close;
using Catch::Matchers::Contains;

TEST_CASE("norm: values for p = 1, 2, inf, over all axes or some, with keepdim", "[ops][norm]") {
  Tensor x = tensor({3, -4, 0, 1, 2, -2}, {2, 3}, float64);
  CHECK(norm(x).dim() == 0);
  CHECK(norm(x).item() == Approx(std::sqrt(34.0)));
  CHECK(norm(x, 1).item() == Approx(12.0));
  CHECK(norm(x, INFINITY).item() == Approx(4.0));
  Tensor rows = norm(x, 2, {1});
  REQUIRE(rows.shape() == Shape{2});
  require_close(rows.to_vector(), {5, 3});
  Tensor cols = norm(x, 1, {0}, true);
  REQUIRE(cols.shape() == Shape{1, 3});
  require_close(cols.to_vector(), {4, 6, 2});
  require_close(norm(x, INFINITY, {-1}).to_vector(), {4, 2});
  CHECK(x.norm().item() == Approx(norm(x).item()));
  CHECK(x.norm(1, {1}, true).shape() == Shape{2, 1});
  CHECK(norm(tensor({3, 4}, {2}, float32)).dtype() == float32);
}

TEST_CASE("norm: p = 2 has gradient 0 at 0, also next to a nonzero row", "[ops][norm]") {
  Tensor z = zeros({3}, float64).requires_grad_();
  norm(z).backward();
  require_close(z.grad().to_vector(), {0, 0, 0});
  Tensor x = tensor({0, 0, 3, 4}, {2, 2}, float64).requires_grad_();
  sum(norm(x, 2, {1})).backward();
  require_close(x.grad().to_vector(), {0, 0, 0.6, 0.8});
  // The second derivative through y stays finite there too (create_graph).
  Tensor w = zeros({2}, float64).requires_grad_();
  Tensor g = grad({norm(w)}, {w}, {}, true, true)[0];
  require_close(g.to_vector(), {0, 0});
  std::vector<double> gg = grad({sum(g * w)}, {w})[0].to_vector();
  for (double v : gg) CHECK(std::isfinite(v));
}

TEST_CASE("norm: p = 1 and p = inf gradients: sign, and ties share the gradient", "[ops][norm]") {
  Tensor x = tensor({0, -2, 3}, {3}, float64).requires_grad_();
  norm(x, 1).backward();
  require_close(x.grad().to_vector(), {0, -1, 1});
  Tensor t = tensor({3, -3, 1, 2, 0, 1}, {2, 3}, float64).requires_grad_();
  sum(norm(t, INFINITY, {1})).backward();  // row 0 ties between 3 and -3, as PyTorch splits it
  require_close(t.grad().to_vector(), {0.5, -0.5, 0, 1, 0, 0});
}

TEST_CASE("norm: bad p, a non-float tensor and bad axes throw naming norm", "[ops][norm][errors]") {
  Tensor x = tensor({1, 2}, {2}, float64).set_name("x");
  std::string msg = error_of([&] { norm(x, 3); });
  REQUIRE_THAT(msg, Contains("norm") && Contains("p must be 1, 2 or inf, got 3") && Contains("'x'"));
  REQUIRE_THAT(error_of([&] { norm(tensor({1, 2}, {2}, int64)); }), Contains("norm") && Contains("int64"));
  REQUIRE_THAT(error_of([&] { norm(x, 2, {1}); }), Contains("norm") && Contains("axis 1"));
  AnomalyModeGuard anomaly;  // an infinite norm is reported as norm's, not as one of its parts'
  REQUIRE_THAT(error_of([] { norm(tensor({INFINITY, 1}, {2}, float64)); }),
               Contains("norm: produced NaN or Inf"));
}

TEST_CASE("where: picks a where cond is nonzero, for any cond dtype, broadcasting", "[ops][where]") {
  Tensor a = tensor({1, 2, 3}, {3}, float64), b = tensor({10, 20, 30}, {3}, float64);
  require_close(where(tensor({1, 0, 7}, {3}, int64), a, b).to_vector(), {1, 20, 3});
  require_close(where(tensor({NAN, 0, -0.5}, {3}), a, b).to_vector(), {1, 20, 3});  // NaN is nonzero
  Tensor wide = where(tensor({1, 0}, {2, 1}, int64), a, scalar(-1.0, float64));
  REQUIRE(wide.shape() == Shape{2, 3});
  require_close(wide.to_vector(), {1, 2, 3, -1, -1, -1});
  require_close(a.where(tensor({0, 1, 0}, {3}, int64), b).to_vector(), {10, 2, 30});
  Tensor ints = where(tensor({1, 0}, {2}, int64), tensor({4, 5}, {2}, int64), tensor({6, 7}, {2}, int64));
  CHECK(ints.dtype() == int64);
  require_close(ints.to_vector(), {4, 7});
}

TEST_CASE("where: the gradient goes to the chosen side, summed over broadcasting", "[ops][where]") {
  Tensor a = tensor({1, 2, 3}, {3}, float64).requires_grad_();
  Tensor b = scalar(5.0, float64).requires_grad_();
  Tensor cond = tensor({1, 0, 1, 0, 0, 1}, {2, 3}, float64).requires_grad_();  // never differentiated
  sum(where(cond, a, b)).backward();
  require_close(a.grad().to_vector(), {1, 0, 2});
  require_close(b.grad().to_vector(), {3});
  CHECK_FALSE(cond.grad().defined());
  // An infinite value on the side not taken does not leak NaN into the other's gradient.
  Tensor x = tensor({1, 2}, {2}, float64).requires_grad_();
  Tensor y = where(tensor({1, 0}, {2}, int64), x, tensor({INFINITY, 3}, {2}, float64));
  sum(y).backward();
  require_close(x.grad().to_vector(), {1, 0});
}

TEST_CASE("where: shapes that do not broadcast and mixed dtypes throw naming where", "[ops][where][errors]") {
  Tensor a = tensor({1, 2, 3}, {3}, float64).set_name("a");
  std::string msg = error_of([&] { where(tensor({1, 0}, {2}, int64), a, a); });
  REQUIRE_THAT(msg, Contains("where") && Contains("{2}") && Contains("{3}") && Contains("'a'"));
  msg = error_of([&] { where(tensor({1, 0, 1}, {3}), a, tensor({1, 2, 3}, {3}, float32)); });
  REQUIRE_THAT(msg, Contains("where") && Contains("float64") && Contains("float32"));
  REQUIRE_THAT(error_of([&] { where(Tensor(), a, a); }), Contains("where"));
}
