// ag::Tensor as a handle: creation, shape queries, element access, printing, names, in-place
// updates and their version counter.
#include <catch2/catch.hpp>

#include <cstdint>
#include <type_traits>
#include <string>
#include <vector>

#include <xtensor/xarray.hpp>
#include <xtensor/xmath.hpp>

#include <autograd/autograd.hpp>
#include <autograd/xarray.hpp>

using Catch::Matchers::Contains;

TEST_CASE("tensor: creation from values, nested lists and scalars", "[tensor]") {
  ag::Tensor a = ag::tensor({1.0, 2.0, 3.0});
  REQUIRE(a.defined());
  REQUIRE(a.dtype() == ag::float32);
  REQUIRE(a.shape() == ag::Shape{3});
  REQUIRE(a.to_vector() == std::vector<double>{1, 2, 3});

  ag::Tensor m = ag::tensor({{1, 2, 3}, {4, 5, 6}});
  REQUIRE(m.shape() == ag::Shape{2, 3});
  REQUIRE(m.to_vector() == std::vector<double>{1, 2, 3, 4, 5, 6});

  ag::Tensor d = ag::tensor({0.1, 0.2, 0.3, 0.4}, {2, 1, 2}, ag::float64);
  REQUIRE(d.dtype() == ag::float64);
  REQUIRE(d.shape() == ag::Shape{2, 1, 2});
  REQUIRE(d.to_vector()[1] == 0.2);  // exact in float64
  // float32 rounds: 0.1f is not 0.1.
  REQUIRE(ag::tensor({0.1}).to_vector()[0] == static_cast<double>(0.1f));

  ag::Tensor s = ag::scalar(-4.25, ag::float64);
  REQUIRE(s.dim() == 0);
  REQUIRE(s.numel() == 1);
  REQUIRE(s.shape().empty());
  REQUIRE(s.item() == -4.25);

  ag::Tensor z = ag::zeros({2, 0, 3});
  REQUIRE(z.numel() == 0);
  REQUIRE(z.to_vector().empty());
}

TEST_CASE("tensor: zeros_like, ones_like, empty keep shape and dtype", "[tensor]") {
  ag::Tensor x = ag::full({2, 3}, 3.0, ag::float64);
  ag::Tensor z = ag::zeros_like(x), o = ag::ones_like(x), e = ag::empty({4, 1}, ag::int64);
  REQUIRE(z.shape() == x.shape());
  REQUIRE(z.dtype() == ag::float64);
  REQUIRE(z.to_vector() == std::vector<double>(6, 0.0));
  REQUIRE(o.to_vector() == std::vector<double>(6, 1.0));
  REQUIRE(e.shape() == ag::Shape{4, 1});
  REQUIRE(e.dtype() == ag::int64);
}

TEST_CASE("tensor: shape, dim, numel and size with negative axes", "[tensor]") {
  ag::Tensor x = ag::zeros({2, 3, 5});
  REQUIRE(x.dim() == 3);
  REQUIRE(x.numel() == 30);
  REQUIRE(x.size(0) == 2);
  REQUIRE(x.size(2) == 5);
  REQUIRE(x.size(-1) == 5);
  REQUIRE(x.size(-3) == 2);
  REQUIRE_THROWS_AS(x.size(3), ag::Error);
  REQUIRE_THROWS_AS(x.size(-4), ag::Error);
}

TEST_CASE("tensor: item and to_vector", "[tensor]") {
  REQUIRE(ag::tensor({7.5}).item() == 7.5);
  REQUIRE(ag::tensor({2.0}, {1, 1}).item() == 2.0);
  REQUIRE(ag::tensor({3.0, -1.0}, {2}, ag::int64).to_vector() == std::vector<double>{3, -1});
  REQUIRE_THROWS_AS(ag::tensor({1.0, 2.0}).item(), ag::Error);
  // Row-major order.
  REQUIRE(ag::arange(0, 6).reshape({3, 2}).t().to_vector() == std::vector<double>{0, 2, 4, 1, 3, 5});
}

TEST_CASE("tensor: copies are handles to the same data", "[tensor]") {
  ag::Tensor a = ag::zeros({3});
  ag::Tensor b = a;
  b.fill_(2.0);
  REQUIRE(a.to_vector() == std::vector<double>{2, 2, 2});
  REQUIRE(a.impl() == b.impl());
  ag::Tensor c = a.clone();
  c.fill_(5.0);
  REQUIRE(a.to_vector() == std::vector<double>{2, 2, 2});
  REQUIRE(c.to_vector() == std::vector<double>{5, 5, 5});
}

TEST_CASE("tensor: str shows values, shape, dtype and name", "[tensor]") {
  ag::Tensor x = ag::tensor({{1.5, -2.0}, {3.0, 4.0}});
  x.set_name("weights");
  std::string s = x.str();
  REQUIRE_THAT(s, Contains("1.5"));
  REQUIRE_THAT(s, Contains("-2"));
  REQUIRE_THAT(s, Contains("{2, 2}"));
  REQUIRE_THAT(s, Contains("float32"));
  REQUIRE_THAT(s, Contains("weights"));
  REQUIRE_THAT(ag::zeros({2}, ag::int64).str(), Contains("int64"));
  x.requires_grad_();
  REQUIRE_THAT(x.str(), Contains("requires_grad"));
  REQUIRE_THAT(ag::Tensor().str(), Contains("undefined"));
}

TEST_CASE("tensor: names", "[tensor]") {
  ag::Tensor x = ag::ones({2});
  REQUIRE(x.name().empty());
  REQUIRE(&x.set_name("bias") == &x);  // chainable
  REQUIRE(x.name() == "bias");
  ag::Tensor alias = x;
  REQUIRE(alias.name() == "bias");
}

TEST_CASE("tensor: dtype helpers", "[tensor]") {
  REQUIRE(std::string(ag::dtype_name(ag::float32)) == "float32");
  REQUIRE(std::string(ag::dtype_name(ag::float64)) == "float64");
  REQUIRE(std::string(ag::dtype_name(ag::int64)) == "int64");
  REQUIRE(ag::dtype_size(ag::float32) == 4);
  REQUIRE(ag::dtype_size(ag::float64) == 8);
  REQUIRE(ag::dtype_size(ag::int64) == 8);
  REQUIRE(ag::is_floating(ag::float32));
  REQUIRE_FALSE(ag::is_floating(ag::int64));
  REQUIRE(ag::shape_str({3, 4}) == "{3, 4}");
  REQUIRE(ag::shape_str({}) == "{}");
}

TEST_CASE("tensor: in-place updates change values and bump the version", "[tensor]") {
  ag::Tensor x = ag::tensor({1.0, 2.0, 3.0}, {3}, ag::float64);
  std::uint64_t v = x.version();

  x.add_(1.0);
  REQUIRE(x.to_vector() == std::vector<double>{2, 3, 4});
  REQUIRE(x.version() > v);
  v = x.version();

  x.mul_(2.0);
  REQUIRE(x.to_vector() == std::vector<double>{4, 6, 8});
  REQUIRE(x.version() > v);
  v = x.version();

  x.add_(ag::tensor({1.0, 1.0, 1.0}, {3}, ag::float64), -0.5);
  REQUIRE(x.to_vector() == std::vector<double>{3.5, 5.5, 7.5});
  REQUIRE(x.version() > v);
  v = x.version();

  x.sub_(ag::tensor({0.5, 0.5, 0.5}, {3}, ag::float64));
  REQUIRE(x.to_vector() == std::vector<double>{3, 5, 7});
  REQUIRE(x.version() > v);
  v = x.version();

  x.mul_(ag::tensor({2.0, 0.0, -1.0}, {3}, ag::float64));
  REQUIRE(x.to_vector() == std::vector<double>{6, 0, -7});
  REQUIRE(x.version() > v);
  v = x.version();

  x.copy_(ag::tensor({9.0, 8.0, 7.0}));  // float32 source, converted
  REQUIRE(x.to_vector() == std::vector<double>{9, 8, 7});
  REQUIRE(x.dtype() == ag::float64);
  REQUIRE(x.version() > v);
  v = x.version();

  x.zero_();
  REQUIRE(x.to_vector() == std::vector<double>{0, 0, 0});
  REQUIRE(x.version() > v);
  v = x.version();

  x.data_ptr<double>()[1] = 42;
  x.bump_version();
  REQUIRE(x.version() == v + 1);
  REQUIRE(x.to_vector()[1] == 42);

  // A detached view shares the counter: a graph that saved it must see the change.
  ag::Tensor d = x.detach();
  std::uint64_t dv = d.version();
  x.add_(1.0);
  REQUIRE(d.version() > dv);
}

TEST_CASE("tensor: in-place updates with a mismatched shape throw", "[tensor]") {
  ag::Tensor x = ag::zeros({3});
  std::uint64_t v = x.version();
  REQUIRE_THROWS_AS(x.add_(ag::zeros({4})), ag::Error);
  REQUIRE_THROWS_AS(x.copy_(ag::zeros({3, 1})), ag::Error);
  REQUIRE(x.version() == v);  // nothing was written
}

TEST_CASE("tensor: data_ptr checks the element type", "[tensor]") {
  ag::Tensor f = ag::ones({2});
  ag::Tensor d = ag::ones({2}, ag::float64);
  ag::Tensor i = ag::ones({2}, ag::int64);
  REQUIRE(f.data_ptr<float>()[1] == 1.0f);
  REQUIRE(d.data_ptr<double>()[1] == 1.0);
  REQUIRE(i.data_ptr<std::int64_t>()[1] == 1);
  REQUIRE_THROWS_AS(f.data_ptr<double>(), ag::Error);
  REQUIRE_THROWS_AS(d.data_ptr<float>(), ag::Error);
  REQUIRE_THROWS_AS(i.data_ptr<double>(), ag::Error);
  REQUIRE_THROWS_AS(f.data_ptr<std::int64_t>(), ag::Error);
}

TEST_CASE("tensor: requires_grad and leaves", "[tensor]") {
  ag::Tensor x = ag::ones({2});
  REQUIRE_FALSE(x.requires_grad());
  REQUIRE(x.is_leaf());
  REQUIRE(&x.requires_grad_() == &x);
  REQUIRE(x.requires_grad());
  REQUIRE_FALSE(x.grad().defined());
  x.requires_grad_(false);
  REQUIRE_FALSE(x.requires_grad());
}

TEST_CASE("tensor: from_xarray copies in row-major order with the matching dtype", "[tensor]") {
  xt::xarray<double> a = {{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}};
  ag::Tensor t = ag::from_xarray(a);
  REQUIRE(t.dtype() == ag::float64);
  REQUIRE(t.shape() == ag::Shape{2, 3});
  REQUIRE(t.to_vector() == std::vector<double>{1, 2, 3, 4, 5, 6});

  xt::xarray<float> f = {0.5f, 1.5f};
  REQUIRE(ag::from_xarray(f).dtype() == ag::float32);
  auto i = xt::xarray<std::int64_t>::from_shape({2, 1});  // a braced {{7}, {8}} is ambiguous
  i(0, 0) = 7;
  i(1, 0) = 8;
  ag::Tensor ti = ag::from_xarray(i);
  REQUIRE(ti.dtype() == ag::int64);
  REQUIRE(ti.shape() == ag::Shape{2, 1});
  REQUIRE(ti.to_vector() == std::vector<double>{7, 8});
}

TEST_CASE("tensor: as_xarray is a zero-copy view both ways, checked against the dtype", "[tensor]") {
  ag::Tensor t = ag::arange(0, 6, 1, ag::float32).reshape({2, 3});
  auto v = ag::as_xarray<float>(t);
  REQUIRE(v.dimension() == 2);
  REQUIRE(v.shape()[0] == 2);
  REQUIRE(v.shape()[1] == 3);
  REQUIRE(v(1, 2) == 5.0f);
  REQUIRE(&v(0, 0) == t.data_ptr<float>());  // the same storage, no copy

  // xtensor math on the view writes into the tensor.
  v = v * 2.0f + 1.0f;
  t.bump_version();
  REQUIRE(t.to_vector() == std::vector<double>{1, 3, 5, 7, 9, 11});
  // ... and a change to the tensor shows through the view.
  t.fill_(-1);
  REQUIRE(v(0, 1) == -1.0f);
  REQUIRE(xt::sum(v)() == -6.0f);

  const ag::Tensor c = ag::tensor({1.5, 2.5}, {2}, ag::float64);
  auto cv = ag::as_xarray<double>(c);
  static_assert(std::is_const_v<std::remove_reference_t<decltype(cv(0))>>,
                "a const tensor gives a read-only view");
  REQUIRE(cv(1) == 2.5);
  REQUIRE(ag::from_xarray(xt::xarray<double>(cv)).to_vector() == c.to_vector());

  ag::Tensor named = ag::zeros({2, 2}, ag::float64);
  named.set_name("w");
  try {
    ag::as_xarray<float>(named);
    FAIL("as_xarray<float> of a float64 tensor did not throw");
  } catch (const ag::Error& e) {
    std::string msg = e.what();
    CHECK(msg.find("as_xarray") != std::string::npos);
    CHECK(msg.find("'w'") != std::string::npos);
    CHECK(msg.find("{2, 2} float64, not float32") != std::string::npos);
  }
  REQUIRE_THROWS_AS(ag::as_xarray<double>(ag::Tensor()), ag::Error);
}
