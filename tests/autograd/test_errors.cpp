// Bad input throws ag::Error with a message a user can act on: the op, the shapes as "{3, 4}",
// the dtypes and the tensors' names.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include <autograd/autograd.hpp>

#include "support.hpp"

using Catch::Matchers::Contains;
using ag_test::error_of;

namespace {

ag::Tensor named(ag::Shape s, const char* name, ag::Dtype d = ag::float32) {
  ag::Tensor t = ag::zeros(std::move(s), d);
  t.set_name(name);
  return t;
}

}  // namespace

TEST_CASE("errors: ag::Error is a std::runtime_error", "[errors]") {
  REQUIRE_THROWS_AS(ag::matmul(ag::zeros({3, 4}), ag::zeros({5, 2})), std::runtime_error);
}

TEST_CASE("errors: matmul with shapes that do not line up", "[errors]") {
  std::string msg = error_of([] { ag::matmul(ag::zeros({3, 4}), ag::zeros({5, 2})); });
  REQUIRE_THAT(msg, Contains("matmul"));
  REQUIRE_THAT(msg, Contains("{3, 4}"));
  REQUIRE_THAT(msg, Contains("{5, 2}"));
  REQUIRE_THAT(msg, Contains("4 != 5"));

  std::string named_msg = error_of([] { ag::matmul(named({3, 4}, "x"), named({5, 2}, "W")); });
  REQUIRE_THAT(named_msg, Contains("'x'"));
  REQUIRE_THAT(named_msg, Contains("'W'"));

  std::string batched = error_of([] { ag::matmul(ag::zeros({2, 3, 4}), ag::zeros({3, 4, 2})); });
  REQUIRE_THAT(batched, Contains("matmul"));
  REQUIRE_THAT(batched, Contains("{2, 3, 4}"));
  REQUIRE_THAT(batched, Contains("{3, 4, 2}"));

  std::string vec = error_of([] { ag::matmul(ag::zeros({3}), ag::zeros({4})); });
  REQUIRE_THAT(vec, Contains("matmul"));
  REQUIRE_THAT(vec, Contains("{3}"));
  REQUIRE_THAT(vec, Contains("{4}"));
}

TEST_CASE("errors: broadcasting failure in add", "[errors]") {
  std::string msg = error_of([] { ag::add(named({3, 4}, "a"), named({2, 4}, "b")); });
  REQUIRE_THAT(msg, Contains("add"));
  REQUIRE_THAT(msg, Contains("{3, 4}"));
  REQUIRE_THAT(msg, Contains("{2, 4}"));
  REQUIRE_THAT(msg, Contains("'a'"));
  REQUIRE_THAT(msg, Contains("'b'"));
  REQUIRE_THAT(msg, Contains("broadcast"));

  std::string op = error_of([] { ag::zeros({3}) * ag::zeros({4}); });
  REQUIRE_THAT(op, Contains("mul"));
  REQUIRE_THAT(op, Contains("{3}"));
  REQUIRE_THAT(op, Contains("{4}"));

  std::string bt = error_of([] { ag::broadcast_to(ag::zeros({3, 2}), {3, 4}); });
  REQUIRE_THAT(bt, Contains("broadcast_to"));
  REQUIRE_THAT(bt, Contains("{3, 2}"));
  REQUIRE_THAT(bt, Contains("{3, 4}"));
}

TEST_CASE("errors: mixed dtypes in a binary op", "[errors]") {
  std::string msg = error_of([] {
    ag::add(named({2}, "f", ag::float32), named({2}, "d", ag::float64));
  });
  REQUIRE_THAT(msg, Contains("add"));
  REQUIRE_THAT(msg, Contains("float32"));
  REQUIRE_THAT(msg, Contains("float64"));
  REQUIRE_THAT(msg, Contains("'f'"));
  REQUIRE_THAT(msg, Contains("'d'"));

  std::string mm = error_of([] { ag::matmul(ag::zeros({2, 2}), ag::zeros({2, 2}, ag::float64)); });
  REQUIRE_THAT(mm, Contains("matmul"));
  REQUIRE_THAT(mm, Contains("float32"));
  REQUIRE_THAT(mm, Contains("float64"));
}

TEST_CASE("errors: float ops on int64 tensors", "[errors]") {
  std::string msg = error_of([] { ag::exp(ag::zeros({2}, ag::int64)); });
  REQUIRE_THAT(msg, Contains("exp"));
  REQUIRE_THAT(msg, Contains("int64"));
}

TEST_CASE("errors: axis out of range", "[errors]") {
  ag::Tensor x = named({3, 4}, "x");
  std::string sum = error_of([&] { ag::sum(x, {2}); });
  REQUIRE_THAT(sum, Contains("sum"));
  REQUIRE_THAT(sum, Contains("2"));
  REQUIRE_THAT(sum, Contains("{3, 4}"));
  REQUIRE_THAT(sum, Contains("'x'"));

  std::string neg = error_of([&] { ag::mean(x, {-3}); });
  REQUIRE_THAT(neg, Contains("mean"));
  REQUIRE_THAT(neg, Contains("-3"));

  REQUIRE_THAT(error_of([&] { ag::softmax(x, 5); }), Contains("softmax"));
  REQUIRE_THAT(error_of([&] { ag::log_softmax(x, -3); }), Contains("log_softmax"));
  REQUIRE_THAT(error_of([&] { ag::max(x, 2); }), Contains("max"));
  REQUIRE_THAT(error_of([&] { ag::argmax(x, 2); }), Contains("argmax"));
  REQUIRE_THAT(error_of([&] { ag::logsumexp(x, 2); }), Contains("logsumexp"));
  REQUIRE_THAT(error_of([&] { ag::transpose(x, 0, 2); }), Contains("transpose"));
  REQUIRE_THAT(error_of([&] { ag::squeeze(x, 0); }), Contains("squeeze"));  // size 3, not 1
  REQUIRE_THAT(error_of([&] { ag::unsqueeze(x, 4); }), Contains("unsqueeze"));
  REQUIRE_THAT(error_of([&] { x.size(2); }), Contains("size"));
  REQUIRE_THAT(error_of([&] { ag::t(ag::zeros({2, 3, 4})); }), Contains("{2, 3, 4}"));
}

TEST_CASE("errors: reshape to a different number of elements", "[errors]") {
  std::string msg = error_of([] { ag::reshape(named({3, 4}, "x"), {5, 2}); });
  REQUIRE_THAT(msg, Contains("reshape"));
  REQUIRE_THAT(msg, Contains("{3, 4}"));
  REQUIRE_THAT(msg, Contains("{5, 2}"));
  REQUIRE_THAT(msg, Contains("12"));
  REQUIRE_THAT(msg, Contains("10"));
  REQUIRE_THAT(msg, Contains("'x'"));
}

TEST_CASE("errors: slice out of range", "[errors]") {
  ag::Tensor x = named({3, 4}, "x");
  std::string msg = error_of([&] { ag::slice(x, 1, 2, 6); });
  REQUIRE_THAT(msg, Contains("slice"));
  REQUIRE_THAT(msg, Contains("{3, 4}"));
  REQUIRE_THAT(msg, Contains("6"));
  REQUIRE_THAT(error_of([&] { ag::slice(x, 0, 2, 1); }), Contains("slice"));  // start > stop
  REQUIRE_THAT(error_of([&] { ag::slice(x, 2, 0, 1); }), Contains("slice"));  // bad axis
}

TEST_CASE("errors: index_select out of range", "[errors]") {
  std::string msg = error_of([] { ag::index_select(named({3, 4}, "x"), 0, {0, 3}); });
  REQUIRE_THAT(msg, Contains("index_select"));
  REQUIRE_THAT(msg, Contains("3"));
  REQUIRE_THAT(msg, Contains("{3, 4}"));
  REQUIRE_THAT(msg, Contains("'x'"));
}

TEST_CASE("errors: item() on a tensor with more than one element", "[errors]") {
  std::string msg = error_of([] { named({2, 2}, "x").item(); });
  REQUIRE_THAT(msg, Contains("item"));
  REQUIRE_THAT(msg, Contains("{2, 2}"));
  REQUIRE_THAT(msg, Contains("'x'"));
}

TEST_CASE("errors: requires_grad_ on int64 and on non-leaves", "[errors]") {
  std::string msg = error_of([] { named({3}, "labels", ag::int64).requires_grad_(); });
  REQUIRE_THAT(msg, Contains("requires_grad_"));
  REQUIRE_THAT(msg, Contains("int64"));
  REQUIRE_THAT(msg, Contains("'labels'"));

  ag::Tensor x = ag::ones({2});
  x.requires_grad_();
  ag::Tensor y = x * 2.0;
  std::string nonleaf = error_of([&] { y.requires_grad_(false); });
  REQUIRE_THAT(nonleaf, Contains("requires_grad_"));
  REQUIRE_THAT(nonleaf, Contains("leaf"));
}

TEST_CASE("errors: backward on a non-scalar without grad_output", "[errors]") {
  ag::Tensor x = ag::ones({3, 2});
  x.requires_grad_();
  ag::Tensor y = x * 2.0;
  y.set_name("y");
  std::string msg = error_of([&] { y.backward(); });
  REQUIRE_THAT(msg, Contains("backward"));
  REQUIRE_THAT(msg, Contains("{3, 2}"));
  REQUIRE_THAT(msg, Contains("'y'"));

  std::string wrong = error_of([&] { y.backward(ag::ones({2, 3})); });
  REQUIRE_THAT(wrong, Contains("backward"));
  REQUIRE_THAT(wrong, Contains("{2, 3}"));
  REQUIRE_THAT(wrong, Contains("{3, 2}"));
}

TEST_CASE("errors: concat and stack of mismatched tensors", "[errors]") {
  std::string msg = error_of([] { ag::concat({named({2, 3}, "a"), named({2, 4}, "b")}, 0); });
  REQUIRE_THAT(msg, Contains("concat"));
  REQUIRE_THAT(msg, Contains("{2, 3}"));
  REQUIRE_THAT(msg, Contains("{2, 4}"));
  REQUIRE_THAT(msg, Contains("'b'"));

  REQUIRE_THAT(error_of([] { ag::concat({}, 0); }), Contains("concat"));
  std::string dt = error_of([] { ag::concat({ag::zeros({2}), ag::zeros({2}, ag::float64)}, 0); });
  REQUIRE_THAT(dt, Contains("concat"));
  REQUIRE_THAT(dt, Contains("float64"));

  std::string st = error_of([] { ag::stack({ag::zeros({2, 3}), ag::zeros({3, 2})}, 0); });
  REQUIRE_THAT(st, Contains("stack"));
  REQUIRE_THAT(st, Contains("{2, 3}"));
  REQUIRE_THAT(st, Contains("{3, 2}"));
}

TEST_CASE("errors: set_num_threads needs a positive count", "[errors]") {
  int before = ag::get_num_threads();
  std::string msg = error_of([] { ag::set_num_threads(0); });
  REQUIRE_THAT(msg, Contains("set_num_threads"));
  REQUIRE_THAT(msg, Contains("0"));
  REQUIRE_THAT(error_of([] { ag::set_num_threads(-2); }), Contains("set_num_threads"));
  REQUIRE(ag::get_num_threads() == before);
}

TEST_CASE("errors: creation functions reject bad arguments", "[errors]") {
  std::string msg = error_of([] { ag::tensor({1.0, 2.0, 3.0}, {2, 2}); });
  REQUIRE_THAT(msg, Contains("tensor"));
  REQUIRE_THAT(msg, Contains("{2, 2}"));
  REQUIRE_THAT(msg, Contains("3"));
  REQUIRE_THAT(error_of([] { ag::arange(0, 1, 0); }), Contains("arange"));
  REQUIRE_THAT(error_of([] { ag::randn({2}, ag::int64); }), Contains("randn"));
  REQUIRE_THAT(error_of([] { ag::tensor({{1.0, 2.0}, {3.0}}); }), Contains("row"));
}

TEST_CASE("errors: an undefined tensor is reported, not dereferenced", "[errors]") {
  ag::Tensor undefined;
  REQUIRE_FALSE(undefined.defined());
  REQUIRE_THAT(error_of([&] { undefined.shape(); }), Contains("undefined"));
  REQUIRE_THAT(error_of([&] { ag::exp(undefined); }), Contains("exp"));
  REQUIRE_THAT(error_of([&] { ag::add(ag::ones({1}), undefined); }), Contains("add"));
}

TEST_CASE("errors: data_ptr with the wrong element type", "[errors]") {
  ag::Tensor x = named({2}, "x", ag::float32);
  std::string msg = error_of([&] { x.data_ptr<double>(); });
  REQUIRE_THAT(msg, Contains("data_ptr"));
  REQUIRE_THAT(msg, Contains("float64"));
  REQUIRE_THAT(msg, Contains("float32"));
  REQUIRE_THAT(msg, Contains("'x'"));
}
