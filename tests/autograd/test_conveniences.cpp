// Tensor conveniences: operator<<, operator[] / select, reshape with ag::infer, item<T>(),
// to_vector<T>(), tensor() from float and int64 vectors, and str()'s layout of long rows.
#include <catch2/catch.hpp>

#include <cstdint>
#include <sstream>
#include <vector>

#include <autograd/autograd.hpp>

#include "support.hpp"

using Catch::Matchers::Contains;
using ag::Tensor;
using ag_test::error_of;
using ag_test::require_close;

TEST_CASE("conveniences: operator<< prints str()", "[conveniences]") {
  Tensor x = ag::tensor({{1.5, -2.0}, {3.0, 4.0}}).set_name("w");
  std::ostringstream os;
  os << x;
  REQUIRE(os.str() == x.str());
  REQUIRE(os.str() == "tensor([[1.5, -2],\n        [3, 4]], shape={2, 2}, dtype=float32, "
                      "name='w')");
}

TEST_CASE("conveniences: str() aligns rows and puts ... on its own line", "[conveniences]") {
  Tensor rows = ag::arange(0, 20, 1, ag::int64).reshape({10, 2});
  REQUIRE(rows.str() ==
          "tensor([[0, 1],\n"
          "        [2, 3],\n"
          "        [4, 5],\n"
          "        ...,\n"
          "        [14, 15],\n"
          "        [16, 17],\n"
          "        [18, 19]], shape={10, 2}, dtype=int64)");
  REQUIRE(ag::zeros({2, 2, 2}, ag::int64).str() ==
          "tensor([[[0, 0],\n"
          "         [0, 0]],\n"
          "\n"
          "        [[0, 0],\n"
          "         [0, 0]]], shape={2, 2, 2}, dtype=int64)");
  REQUIRE(ag::arange(0, 10, 1, ag::int64).str() ==
          "tensor([0, 1, 2, ..., 7, 8, 9], shape={10}, dtype=int64)");
}

TEST_CASE("conveniences: operator[] and select, with their gradients", "[conveniences]") {
  Tensor x = ag::tensor({1, 2, 3, 4, 5, 6}, {3, 2}, ag::float64).requires_grad_();
  require_close(x[1].to_vector(), {3, 4});
  REQUIRE(x[1].shape() == ag::Shape{2});
  require_close(x[-1].to_vector(), {5, 6});
  require_close(x.select(1, 0).to_vector(), {1, 3, 5});
  require_close(x.select(-1, -1).to_vector(), {2, 4, 6});
  REQUIRE(x[0][1].item() == 2.0);
  REQUIRE(x[0][1].shape().empty());
  ((x[2] * 3.0).sum() + x.select(1, 1).sum()).backward();
  require_close(x.grad().to_vector(), {0, 1, 0, 1, 3, 4});
  auto f = [](const std::vector<Tensor>& in) { return in[0].select(1, -2) * in[0][1].sum(); };
  REQUIRE(ag::gradcheck(f, {x}).ok);
  REQUIRE(ag::gradgradcheck(f, {x}).ok);
  CHECK_THAT(error_of([&] { x[3]; }),
             Contains("select: index 3 is out of range for axis 0") && Contains("-3 to 2"));
  CHECK_THAT(error_of([&] { x.select(2, 0); }), Contains("select: axis 2 is out of range"));
}

TEST_CASE("conveniences: reshape with one inferred dimension", "[conveniences]") {
  Tensor x = ag::arange(0, 12, 1, ag::float64).requires_grad_();
  REQUIRE(ag::reshape(x, {ag::infer, 2}).shape() == ag::Shape{6, 2});
  REQUIRE(x.reshape({2, ag::infer, 3}).shape() == ag::Shape{2, 2, 3});
  REQUIRE(ag::reshape(x, {ag::infer}).shape() == ag::Shape{12});
  (ag::reshape(x, {3, ag::infer}) * 2.0).sum().backward();
  require_close(x.grad().to_vector(), std::vector<double>(12, 2.0));
  CHECK_THAT(error_of([&] { ag::reshape(x, {ag::infer, ag::infer}); }),
             Contains("only one dimension can be ag::infer"));
  CHECK_THAT(error_of([&] { ag::reshape(x, {5, ag::infer}); }),
             Contains("12 elements, not a multiple of the 5"));
}

TEST_CASE("conveniences: item<T>, to_vector<T> and typed tensor()", "[conveniences]") {
  Tensor f = ag::tensor(std::vector<float>{1.5f, -2.25f}, {2});
  REQUIRE(f.dtype() == ag::float32);
  REQUIRE(f.to_vector<float>() == std::vector<float>{1.5f, -2.25f});
  REQUIRE(f[1].item<float>() == -2.25f);
  REQUIRE(f[0].item<double>() == 1.5);
  Tensor i = ag::tensor(std::vector<std::int64_t>{7, -3, 9000000000}, {3});
  REQUIRE(i.dtype() == ag::int64);
  REQUIRE(i.to_vector<std::int64_t>() == std::vector<std::int64_t>{7, -3, 9000000000});
  REQUIRE(i[2].item<std::int64_t>() == 9000000000);
  REQUIRE(f.to_vector<std::int64_t>() == std::vector<std::int64_t>{1, -2});  // truncates
  // A braced list still means the std::vector<double> overload: float32.
  REQUIRE(ag::tensor({1, 2}, {2}).dtype() == ag::float32);
  CHECK_THAT(error_of([&] { ag::tensor(std::vector<float>{1, 2, 3}, {2}); }),
             Contains("3 values do not fill shape {2}"));
  CHECK_THAT(error_of([&] { i.item<std::int64_t>(); }), Contains("one-element"));
}
