// ag::linalg against PyTorch's numbers (tests/fixtures/ops.txt): values and the gradients of
// sum(y * gy), float64 and float32, 2-D and batched; singular and non-positive-definite input.
// Gradchecks (first and second order) run from the ops' registry entries.
#include <catch2/catch.hpp>

#include <cmath>
#include <functional>

#include <autograd/autograd.hpp>

#include "../nn/helpers.hpp"
#include "support.hpp"

using namespace ag;
using Catch::Matchers::Contains;

namespace {

using Fn = std::function<Tensor(const std::vector<Tensor>&)>;

void check_case(const std::string& name, const std::vector<Shape>& shapes, const Fn& f, Dtype dtype) {
  INFO(name << " " << dtype_name(dtype));
  static const testing::Fixture fx("ops.txt");
  double tol = dtype == float64 ? 1e-9 : 2e-4;
  std::vector<Tensor> in;
  for (std::size_t i = 0; i < shapes.size(); ++i)
    in.push_back(fx.tensor(name + ".in" + std::to_string(i), shapes[i], dtype).requires_grad_());
  Tensor y = f(in);
  REQUIRE(y.dtype() == dtype);
  testing::require_close(y, fx[name + ".y"], tol, tol);
  sum(y * tensor(fx[name + ".gy"], y.shape(), dtype)).backward();
  for (std::size_t i = 0; i < in.size(); ++i) {
    INFO("gradient of input " << i);
    testing::require_close(in[i].grad(), fx[name + ".d" + std::to_string(i)], tol, tol);
  }
}

void check_both(const std::string& name, const std::vector<Shape>& shapes, const Fn& f) {
  check_case(name, shapes, f, float64);
  check_case(name, shapes, f, float32);
}

}  // namespace

TEST_CASE("linalg::solve and inv match PyTorch", "[ops][linalg]") {
  Fn solve = [](auto& x) { return linalg::solve(x[0], x[1]); };
  check_both("solve", {{3, 3}, {3, 2}}, solve);
  check_both("solve_batched", {{2, 3, 3}, {2, 3, 2}}, solve);
  check_both("inv", {{3, 3}}, [](auto& x) { return linalg::inv(x[0]); });
  check_both("inv_batched", {{2, 3, 3}}, [](auto& x) { return linalg::inv(x[0]); });
}

TEST_CASE("linalg::det and slogdet match PyTorch", "[ops][linalg]") {
  check_both("det", {{3, 3}}, [](auto& x) { return linalg::det(x[0]); });
  check_both("det_batched", {{2, 3, 3}}, [](auto& x) { return linalg::det(x[0]); });
  check_both("logabsdet", {{2, 3, 3}}, [](auto& x) { return linalg::slogdet(x[0]).second; });
  static const testing::Fixture fx("ops.txt");
  testing::require_close(linalg::slogdet(fx.tensor("logabsdet.in0", {2, 3, 3})).first, fx["logabsdet.sign"]);
}

TEST_CASE("linalg::cholesky matches PyTorch", "[ops][linalg]") {
  check_both("cholesky", {{3, 3}}, [](auto& x) { return linalg::cholesky(x[0]); });
  check_both("cholesky_batched", {{2, 4, 4}}, [](auto& x) { return linalg::cholesky(x[0]); });
}

TEST_CASE("linalg: identities on a vector right-hand side and exact small determinants", "[ops][linalg]") {
  Tensor a = tensor({4, 1, 0, 1, 3, 1, 0, 1, 2}, {3, 3}, float64);
  Tensor b = tensor({1, 2, 3}, {3}, float64);
  Tensor x = linalg::solve(a, b);
  REQUIRE(x.shape() == Shape{3});
  ag_test::require_close(matmul(a, x).to_vector(), b.to_vector(), 1e-12);
  ag_test::require_close(matmul(a, linalg::inv(a)).to_vector(), eye(3, float64).to_vector(), 1e-12);
  CHECK(linalg::det(tensor({2, 0, 0, 3}, {2, 2}, float64)).item() == 6.0);
  CHECK(linalg::det(tensor({0, 1, 1, 0}, {2, 2}, float64)).item() == -1.0);  // a row swap
}

TEST_CASE("linalg: singular and non-positive-definite input throws, never NaN", "[ops][linalg][errors]") {
  Tensor singular = tensor({1, 2, 2, 4}, {2, 2}, float64).set_name("A");
  CHECK_THAT(ag_test::error_of([&] { linalg::inv(singular); }),
             Contains("linalg::inv") && Contains("'A' {2, 2} float64") && Contains("singular"));
  CHECK_THAT(ag_test::error_of([&] { linalg::solve(singular, ones({2, 1}, float64)); }),
             Contains("linalg::solve") && Contains("singular"));
  Tensor batch = stack({eye(2, float64), singular}, 0);
  CHECK_THAT(ag_test::error_of([&] { linalg::inv(batch); }), Contains("matrix 1 of") && Contains("{2, 2, 2}"));
  CHECK_THAT(ag_test::error_of([&] { linalg::cholesky(tensor({1, 2, 2, 1}, {2, 2})); }),
             Contains("linalg::cholesky") && Contains("not positive definite") && Contains("float32"));
  CHECK_THAT(ag_test::error_of([&] { linalg::cholesky(tensor({-1, 0, 0, 1}, {2, 2})); }),
             Contains("not positive definite"));
  // det and slogdet follow PyTorch: exact values at a singular matrix; their gradient throws.
  CHECK(linalg::det(singular).item() == 0.0);
  auto [sign, logabs] = linalg::slogdet(singular);
  CHECK(sign.item() == 0.0);
  CHECK(std::isinf(logabs.item()));
  Tensor leaf = singular.detach().requires_grad_();
  CHECK_THAT(ag_test::error_of([&] { linalg::det(leaf).backward(); }), Contains("singular"));
  Tensor nan = tensor({1, NAN, 0, 1}, {2, 2}, float64);
  CHECK_THAT(ag_test::error_of([&] { linalg::inv(nan); }), Contains("linalg::inv"));
}

TEST_CASE("linalg: shapes and dtypes are checked", "[ops][linalg][errors]") {
  CHECK_THAT(ag_test::error_of([] { linalg::inv(zeros({2, 3})); }), Contains("square") && Contains("{2, 3}"));
  CHECK_THAT(ag_test::error_of([] { linalg::det(zeros({4})); }), Contains("linalg::det") && Contains("{4}"));
  CHECK_THAT(ag_test::error_of([] { linalg::solve(eye(3), zeros({2, 1})); }),
             Contains("linalg::solve") && Contains("{3, 3}") && Contains("{2, 1}"));
  CHECK_THAT(ag_test::error_of([] { linalg::solve(eye(3), zeros({3, 1}, float64)); }), Contains("dtypes differ"));
  CHECK_THAT(ag_test::error_of([] { linalg::cholesky(zeros({2, 2}, int64)); }), Contains("int64"));
}

// 0 x 0 matrices, as PyTorch: det 1, log|det| 0 with sign 1, empty inverse, solution and factor
// (LAPACK itself rejects n = 0, so these never reach it).
TEST_CASE("linalg ops on 0 x 0 matrices give PyTorch's results", "[ops][linalg]") {
  for (Dtype dt : {float32, float64}) {
    const Tensor empty = zeros({0, 0}, dt), batch = zeros({2, 0, 0}, dt);
    CHECK(linalg::det(empty).item<double>() == 1.0);
    const Tensor dets = linalg::det(batch);
    REQUIRE(dets.shape() == Shape{2});
    CHECK(dets.to(float64).data_ptr<double>()[0] == 1.0);
    CHECK(dets.to(float64).data_ptr<double>()[1] == 1.0);
    auto [sign, logabs] = linalg::slogdet(empty);
    CHECK(sign.item<double>() == 1.0);
    CHECK(logabs.item<double>() == 0.0);
    CHECK(linalg::inv(empty).shape() == Shape{0, 0});
    CHECK(linalg::inv(batch).shape() == Shape{2, 0, 0});
    CHECK(linalg::cholesky(empty).shape() == Shape{0, 0});
    CHECK(linalg::solve(empty, zeros({0}, dt)).shape() == Shape{0});
    CHECK(linalg::solve(batch, zeros({2, 0, 3}, dt)).shape() == Shape{2, 0, 3});
  }
}
