// Tensor hooks, retain_grad and the gradient-retention rule, with PyTorch's semantics: a hook
// runs once per backward on the summed gradient, in registration order, a defined result
// replaces the gradient; on a leaf it runs before accumulation into .grad.
#include <catch2/catch.hpp>

#include <vector>

#include <autograd/autograd.hpp>
#include <autograd/detail/impl.hpp>

#include "support.hpp"

using Catch::Matchers::Contains;
using ag::Tensor;
using ag_test::error_of;
using ag_test::require_close;

namespace {
Tensor leaf(std::vector<double> v) {
  std::size_t n = v.size();
  return ag::tensor(std::move(v), {n}, ag::float64).requires_grad_();
}
}  // namespace

TEST_CASE("hooks: an interior hook runs once on the summed gradient", "[hooks]") {
  Tensor x = leaf({1, 2, 3});
  Tensor y = x * 2.0;  // used twice below: dL/dy = 2y + 1
  std::vector<std::vector<double>> seen;
  y.register_hook([&](const Tensor& g) { seen.push_back(g.to_vector()); });
  ((y * y).sum() + y.sum()).backward();
  REQUIRE(seen.size() == 1);
  require_close(seen[0], {5, 9, 13});
  require_close(x.grad().to_vector(), {10, 18, 26});
}

TEST_CASE("hooks: results replace the gradient, in registration order", "[hooks]") {
  Tensor x = leaf({1, -2});
  Tensor y = x * 3.0;
  y.register_hook([](const Tensor& g) { return g + 1.0; });
  y.register_hook([](const Tensor& g) { return g * 2.0; });  // sees the first hook's result
  y.sum().backward();
  require_close(x.grad().to_vector(), {12, 12});  // ((1 + 1) * 2) * 3
}

TEST_CASE("hooks: a leaf hook sees the summed gradient before accumulation", "[hooks]") {
  Tensor x = leaf({1, 2});
  int calls = 0;
  x.register_hook([&](const Tensor& g) {
    ++calls;
    require_close(g.to_vector(), {5, 7});  // 2x + 3, summed over both uses
    return g * 0.5;
  });
  Tensor loss = (x * x).sum() + (x * 3.0).sum();
  loss.backward({}, /*retain_graph=*/true);
  REQUIRE(calls == 1);
  require_close(x.grad().to_vector(), {2.5, 3.5});
  loss.backward();  // .grad accumulates the hooked gradient again
  REQUIRE(calls == 2);
  require_close(x.grad().to_vector(), {5, 7});
}

TEST_CASE("hooks: a hook on the root leaf itself", "[hooks]") {
  Tensor x = ag::scalar(2.0, ag::float64).requires_grad_();
  x.register_hook([](const Tensor& g) { return g * 4.0; });
  x.backward();
  REQUIRE(x.grad().item() == 4.0);
}

TEST_CASE("hooks: remove_hook stops a hook; an unknown handle throws", "[hooks]") {
  Tensor x = leaf({1, 2});
  std::size_t h = x.register_hook([](const Tensor& g) { return g * 100.0; });
  x.remove_hook(h);
  x.sum().backward();
  require_close(x.grad().to_vector(), {1, 1});
  REQUIRE_THAT(error_of([&] { x.remove_hook(h); }), Contains("no hook with handle"));
}

TEST_CASE("hooks: post-accumulate hooks see the updated .grad once per backward", "[hooks]") {
  Tensor w = leaf({1, 2, 3});
  std::vector<double> seen;
  int calls = 0;
  w.register_post_accumulate_grad_hook([&](Tensor& p) {
    ++calls;
    seen = p.grad().to_vector();
  });
  ((w * w).sum() + w.sum()).backward();
  REQUIRE(calls == 1);
  require_close(seen, {3, 5, 7});
  Tensor y = w * 2.0;
  REQUIRE_THAT(error_of([&] { y.register_post_accumulate_grad_hook([](Tensor&) {}); }),
               Contains("not a leaf"));
}

TEST_CASE("hooks: ag::grad runs hooks and returns the hooked gradient", "[hooks]") {
  Tensor x = leaf({1, 2});
  x.register_hook([](const Tensor& g) { return g * 2.0; });
  Tensor y = x * x;
  y.register_hook([](const Tensor& g) { return g + 1.0; });
  std::vector<Tensor> g = ag::grad({y.sum()}, {x, y});
  require_close(g[0].to_vector(), {8, 16});  // (1 + 1) * 2x * 2
  require_close(g[1].to_vector(), {2, 2});   // the interior tensor's gradient after its hook
  REQUIRE_FALSE(x.grad().defined());         // ag::grad never touches .grad
}

TEST_CASE("hooks: a hook made of ag ops is differentiated under create_graph", "[hooks]") {
  Tensor x = leaf({0.5, -1.5});
  Tensor y = x * x;
  y.register_hook([x](const Tensor& g) { return g * x; });  // dL/dx = x * 2x = 2x^2
  Tensor gx = ag::grad({y.sum()}, {x}, {}, false, /*create_graph=*/true)[0];
  require_close(gx.to_vector(), {0.5, 4.5});
  REQUIRE(gx.requires_grad());
  Tensor ggx = ag::grad({gx.sum()}, {x})[0];
  require_close(ggx.to_vector(), {2, -6});  // d(2x^2)/dx = 4x
}

TEST_CASE("hooks: bad hooks throw ag::Error", "[hooks]") {
  Tensor c = ag::tensor({1.0, 2.0});
  REQUIRE_THAT(error_of([&] { c.register_hook([](const Tensor& g) { return g; }); }),
               Contains("does not require grad"));
  REQUIRE_THAT(error_of([&] { c.retain_grad(); }), Contains("does not require grad"));
  Tensor x = leaf({1, 2});
  Tensor y = (x * 2.0).set_name("h");
  y.register_hook([](const Tensor& g) { return g.sum(); });
  REQUIRE_THAT(error_of([&] { y.sum().backward(); }),
               Contains("'h' {2} float64") && Contains("not the shape or dtype"));
}

TEST_CASE("retain_grad: an interior tensor keeps its (hooked) gradient", "[hooks]") {
  Tensor x = leaf({1, 2, 3});
  Tensor y = x * x;
  Tensor z = y * 2.0;
  y.retain_grad();
  REQUIRE(y.retains_grad());
  REQUIRE_FALSE(z.retains_grad());
  REQUIRE_FALSE(x.retains_grad());  // leaves keep .grad without it
  y.register_hook([](const Tensor& g) { return g * 10.0; });  // retain_grad sees the result
  Tensor loss = z.sum();
  loss.backward({}, /*retain_graph=*/true);
  require_close(y.grad().to_vector(), {20, 20, 20});
  REQUIRE_FALSE(z.grad().defined());
  loss.backward();  // accumulates, like a leaf
  require_close(y.grad().to_vector(), {40, 40, 40});
  require_close(x.grad().to_vector(), {80, 160, 240});
}

TEST_CASE("retention: training backward frees interior gradients unless asked", "[hooks]") {
  Tensor x = leaf({1, 2});
  Tensor y = x * 3.0;
  y.sum().backward();
  REQUIRE_FALSE(y.impl()->grad_fn->grad.defined());
  Tensor y2 = x * 3.0;
  {
    ag::KeepGradsForDumpsGuard keep;
    y2.sum().backward();
  }
  REQUIRE(y2.impl()->grad_fn->grad.defined());
  require_close(y2.impl()->grad_fn->grad.to_vector(), {1, 1});
}
