// ag::Function: custom differentiable functions with a hand-written backward (LibTorch's shape).
#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <vector>

#include <autograd/autograd.hpp>

#include "support.hpp"

using Catch::Matchers::Contains;
using ag::AutogradContext;
using ag::Tensor;
using ag_test::error_of;
using ag_test::require_close;

namespace {

Tensor leaf(std::vector<double> v, ag::Shape s) {
  return ag::tensor(std::move(v), std::move(s), ag::float64).requires_grad_();
}

struct Cube : ag::Function<Cube> {
  static Tensor forward(AutogradContext* ctx, Tensor x) {
    ctx->save_for_backward({x});
    return x * x * x;
  }
  static std::vector<Tensor> backward(AutogradContext* ctx, std::vector<Tensor> grads) {
    Tensor x = ctx->get_saved_variables()[0];
    return {grads[0] * 3.0 * x * x};
  }
};

// Saves its own output: backward reads y, so second order goes through the function again.
struct MyExp : ag::Function<MyExp> {
  static constexpr const char* name = "my_exp";
  static Tensor forward(AutogradContext* ctx, Tensor x) {
    Tensor y = ag::exp(x);
    ctx->save_for_backward({y});
    return y;
  }
  static std::vector<Tensor> backward(AutogradContext* ctx, std::vector<Tensor> grads) {
    return {grads[0] * ctx->get_saved_variables()[0]};
  }
};

// Tensors and plain values mixed: y = a * x^p + shift, with p, a flag and a Shape saved.
struct ScalePow : ag::Function<ScalePow> {
  static Tensor forward(AutogradContext* ctx, Tensor x, double p, Tensor a, bool twice,
                        ag::Shape shape, std::string tag) {
    ctx->save_for_backward({x, a});
    ctx->saved_data["p"] = p;
    ctx->saved_data["twice"] = twice;
    ctx->saved_data["shape"] = shape;
    ctx->saved_data["tag"] = tag;
    ctx->saved_data["n"] = 7;
    Tensor y = a * ag::pow(x, p);
    return twice ? y * 2.0 : y;
  }
  static std::vector<Tensor> backward(AutogradContext* ctx, std::vector<Tensor> grads) {
    std::vector<Tensor> s = ctx->get_saved_variables();
    double p = ctx->saved_data["p"].to_double();
    double k = ctx->saved_data["twice"].to_bool() ? 2.0 : 1.0;
    REQUIRE(ctx->saved_data["shape"].to_shape() == ag::Shape{2});
    REQUIRE(ctx->saved_data["tag"].to_string() == "t");
    REQUIRE(ctx->saved_data["n"].toInt() == 7);
    REQUIRE(ctx->saved_data["n"].to_double() == 7.0);
    Tensor gx, ga;
    if (ctx->needs_input_grad(0)) gx = grads[0] * k * s[1] * p * ag::pow(s[0], p - 1);
    if (ctx->needs_input_grad(2)) ga = grads[0] * k * ag::pow(s[0], p);
    return {gx, Tensor(), ga, Tensor(), Tensor(), Tensor()};
  }
};

// Two outputs; the loss may use only one of them.
struct SinCos : ag::Function<SinCos> {
  static std::vector<std::vector<double>> last_grads;  // values only: no graph outlives a test
  static std::vector<Tensor> forward(AutogradContext* ctx, Tensor x) {
    ctx->save_for_backward({x});
    return {ag::sin(x), ag::cos(x)};
  }
  static std::vector<Tensor> backward(AutogradContext* ctx, std::vector<Tensor> grads) {
    last_grads.clear();
    for (const Tensor& g : grads)
      last_grads.push_back(g.defined() ? g.to_vector() : std::vector<double>{});
    Tensor x = ctx->get_saved_variables()[0];
    return {grads[0] * ag::cos(x) - grads[1] * ag::sin(x)};
  }
};
std::vector<std::vector<double>> SinCos::last_grads;

// A float output marked non-differentiable next to a differentiable one.
struct ClampWithMask : ag::Function<ClampWithMask> {
  static std::vector<Tensor> forward(AutogradContext* ctx, Tensor x, double lo) {
    Tensor mask = ag::step(x - lo);
    ctx->save_for_backward({mask});
    ctx->mark_non_differentiable({mask});
    return {ag::maximum(x, ag::full(x.shape(), lo, x.dtype())), mask};
  }
  static std::vector<Tensor> backward(AutogradContext* ctx, std::vector<Tensor> grads) {
    return {grads[0] * ctx->get_saved_variables()[0], Tensor()};
  }
};

// Deliberately wrong backwards, for the error messages.
struct TooFew : ag::Function<TooFew> {
  static Tensor forward(AutogradContext*, Tensor x, Tensor y) { return x * y; }
  static std::vector<Tensor> backward(AutogradContext*, std::vector<Tensor> g) { return {g[0]}; }
};
struct WrongShape : ag::Function<WrongShape> {
  static Tensor forward(AutogradContext*, Tensor x) { return x.sum(); }
  static std::vector<Tensor> backward(AutogradContext*, std::vector<Tensor> g) { return {g[0]}; }
};
struct WrongDtype : ag::Function<WrongDtype> {
  static Tensor forward(AutogradContext*, Tensor x) { return x * 2.0; }
  static std::vector<Tensor> backward(AutogradContext*, std::vector<Tensor> g) {
    return {g[0].to(ag::float32)};
  }
};
struct GradForDouble : ag::Function<GradForDouble> {
  static Tensor forward(AutogradContext*, Tensor x, double) { return x * 2.0; }
  static std::vector<Tensor> backward(AutogradContext*, std::vector<Tensor> g) {
    return {g[0] * 2.0, g[0]};
  }
};
struct NanBackward : ag::Function<NanBackward> {
  static Tensor forward(AutogradContext*, Tensor x) { return x * 1.0; }
  static std::vector<Tensor> backward(AutogradContext*, std::vector<Tensor> g) {
    return {g[0] * std::nan("")};
  }
};
struct Passthrough : ag::Function<Passthrough> {
  static Tensor forward(AutogradContext*, Tensor x) { return x; }
  static std::vector<Tensor> backward(AutogradContext*, std::vector<Tensor> g) {
    return {g[0] * 5.0};
  }
};

}  // namespace

TEST_CASE("function: values and first gradient of a custom cube", "[function]") {
  Tensor x = leaf({1, -2, 0.5}, {3});
  Tensor y = Cube::apply(x);
  require_close(y.to_vector(), {1, -8, 0.125});
  REQUIRE(y.requires_grad());
  REQUIRE_FALSE(y.is_leaf());
  y.sum().backward();
  require_close(x.grad().to_vector(), {3, 12, 0.75});
}

TEST_CASE("function: gradcheck and gradgradcheck, backward written with ag ops", "[function]") {
  Tensor x = leaf({0.3, -1.2, 0.8, 2.0}, {2, 2});
  auto cube = [](const std::vector<Tensor>& in) { return Cube::apply(in[0]); };
  auto exp = [](const std::vector<Tensor>& in) { return MyExp::apply(in[0]) * in[0]; };
  ag::GradcheckResult r1 = ag::gradcheck(cube, {x});
  INFO(r1.report());
  REQUIRE(r1.ok);
  ag::GradcheckResult r2 = ag::gradgradcheck(cube, {x});
  INFO(r2.report());
  REQUIRE(r2.ok);
  REQUIRE(ag::gradcheck(exp, {x}).ok);
  REQUIRE(ag::gradgradcheck(exp, {x}).ok);  // backward reads the saved output
  // Third order through create_graph: d^3/dx^3 x^3 = 6.
  Tensor s = ag::scalar(0.7, ag::float64).requires_grad_();
  Tensor g1 = ag::grad({Cube::apply(s)}, {s}, {}, false, true)[0];
  Tensor g2 = ag::grad({g1}, {s}, {}, false, true)[0];
  Tensor g3 = ag::grad({g2}, {s})[0];
  REQUIRE(g1.item() == Approx(3 * 0.49));
  REQUIRE(g2.item() == Approx(6 * 0.7));
  REQUIRE(g3.item() == Approx(6.0));
}

TEST_CASE("function: Tensors mixed with plain values; needs_input_grad", "[function]") {
  Tensor x = leaf({1.5, 2.0}, {2});
  Tensor a = ag::tensor({3.0, -1.0}, {2}, ag::float64);  // no gradient wanted
  Tensor y = ScalePow::apply(x, 3.0, a, true, ag::Shape{2}, std::string("t"));
  require_close(y.to_vector(), {2 * 3 * 3.375, 2 * -1 * 8.0});
  y.sum().backward();
  require_close(x.grad().to_vector(), {2 * 3 * 3 * 2.25, 2 * -1 * 3 * 4.0});
  a.requires_grad_();
  auto f = [](const std::vector<Tensor>& in) {
    return ScalePow::apply(in[0], 2.5, in[1], false, ag::Shape{2}, std::string("t"));
  };
  ag::GradcheckResult r = ag::gradcheck(f, {x, a});
  INFO(r.report());
  REQUIRE(r.ok);
  REQUIRE(ag::gradgradcheck(f, {x, a}).ok);
}

TEST_CASE("function: several outputs; a missing output gradient arrives as zeros", "[function]") {
  Tensor x = leaf({0.2, 1.1, -0.7}, {3});
  std::vector<Tensor> sc = SinCos::apply(x);
  REQUIRE(sc.size() == 2);
  require_close(sc[0].to_vector(), {std::sin(0.2), std::sin(1.1), std::sin(-0.7)});
  require_close(sc[1].to_vector(), {std::cos(0.2), std::cos(1.1), std::cos(-0.7)});
  (sc[0] * 2.0).sum().backward();
  REQUIRE(SinCos::last_grads.size() == 2);
  require_close(SinCos::last_grads[1], {0, 0, 0});  // defined, materialized zeros
  require_close(x.grad().to_vector(), {2 * std::cos(0.2), 2 * std::cos(1.1), 2 * std::cos(-0.7)});
  auto f = [](const std::vector<Tensor>& in) {
    std::vector<Tensor> o = SinCos::apply(in[0]);
    return o[0] * 2.0 + o[1] * o[0];
  };
  REQUIRE(ag::gradcheck(f, {x}).ok);
  REQUIRE(ag::gradgradcheck(f, {x}).ok);
}

TEST_CASE("function: mark_non_differentiable outputs do not require grad", "[function]") {
  Tensor x = leaf({-1, 0.5, 2}, {3});
  std::vector<Tensor> out = ClampWithMask::apply(x, 0.0);
  REQUIRE(out[0].requires_grad());
  REQUIRE_FALSE(out[1].requires_grad());
  require_close(out[1].to_vector(), {0, 1, 1});
  out[0].sum().backward();
  require_close(x.grad().to_vector(), {0, 1, 1});
}

TEST_CASE("function: NoGradGuard records nothing; inputs that need no grad", "[function]") {
  Tensor x = leaf({1, 2}, {2});
  {
    ag::NoGradGuard no_grad;
    Tensor y = Cube::apply(x);
    REQUIRE_FALSE(y.requires_grad());
    REQUIRE(y.is_leaf());
  }
  Tensor c = ag::tensor({1.0, 2.0}, {2}, ag::float64);
  REQUIRE_FALSE(Cube::apply(c).requires_grad());
  // An input returned as it is: the output gets its own handle, the input stays a leaf.
  Tensor p = Passthrough::apply(x);
  REQUIRE(x.is_leaf());
  REQUIRE_FALSE(p.is_leaf());
  p.sum().backward();
  require_close(x.grad().to_vector(), {5, 5});
}

TEST_CASE("function: saved tensors are version-checked like built-in ops", "[function]") {
  Tensor x = leaf({1, 2}, {2});
  Tensor y = Cube::apply(x).sum();
  {
    ag::NoGradGuard no_grad;
    x.add_(1.0);
  }
  std::string msg = error_of([&] { y.backward(); });
  CHECK_THAT(msg, Contains("backward of 'Cube'") && Contains("saved tensor 0") &&
                      Contains("was modified in place after the forward (version 1, saved at "
                               "version 0)"));
}

TEST_CASE("function: retain_graph, freed graphs and ag::grad", "[function]") {
  Tensor x = leaf({1, 2}, {2});
  Tensor y = MyExp::apply(x);
  Tensor seed = ag::ones_like(y);
  y.backward(seed, /*retain_graph=*/true);
  y.backward(seed);
  require_close(x.grad().to_vector(), {2 * std::exp(1.0), 2 * std::exp(2.0)});
  CHECK_THAT(error_of([&] { y.backward(seed); }), Contains("'my_exp'") && Contains("retain_graph"));
  Tensor z = MyExp::apply(x).sum();
  require_close(ag::grad({z}, {x})[0].to_vector(), {std::exp(1.0), std::exp(2.0)});
}

TEST_CASE("function: bad backward results name the function, argument and shapes",
          "[function]") {
  Tensor x = leaf({1, 2, 3}, {3}).set_name("x");
  Tensor y = leaf({4, 5, 6}, {3});
  CHECK_THAT(error_of([&] { TooFew::apply(x, y).sum().backward(); }),
             Contains("TooFew: backward returned 1 gradients, but forward takes 2 arguments"));
  CHECK_THAT(error_of([&] { WrongShape::apply(x).backward(); }),
             Contains("WrongShape: backward returned a gradient {} float64 for argument 0") &&
                 Contains("'x' {3} float64") && Contains("shape {3}"));
  CHECK_THAT(error_of([&] { WrongDtype::apply(x).sum().backward(); }),
             Contains("WrongDtype") && Contains("{3} float32 for argument 0") &&
                 Contains("dtype float64"));
  CHECK_THAT(error_of([&] { GradForDouble::apply(x, 2.0).sum().backward(); }),
             Contains("GradForDouble") && Contains("argument 1, which is not a Tensor"));
  CHECK_THAT(error_of([&] { AutogradContext().needs_input_grad(0); }), Contains("out of range"));
}

TEST_CASE("function: anomaly mode names the custom function", "[function]") {
  ag::AnomalyModeGuard anomaly;
  Tensor x = leaf({1, 2}, {2});
  CHECK_THAT(error_of([&] { NanBackward::apply(x).sum().backward(); }),
             Contains("backward of 'NanBackward'") && Contains("NaN or Inf"));
  Tensor big = leaf({1000, 2}, {2});
  CHECK_THAT(error_of([&] { MyExp::apply(big); }),
             Contains("forward of custom function 'my_exp'") && Contains("NaN or Inf"));
}

TEST_CASE("function: graph dumps and traces show its name and 'custom backward'", "[function]") {
  Tensor x = leaf({0.5, 1.0}, {2}).set_name("x");
  Tensor L = Cube::apply(x).sum().set_name("L");
  {
    ag::KeepGradsForDumpsGuard keep;
    L.backward();
  }
  std::string dot = ag::to_dot(L);
  CHECK_THAT(dot, Contains("Cube"));
  std::string trace = ag::chain_rule_trace(L);
  INFO(trace);
  CHECK_THAT(trace, Contains("Cube") && Contains("custom backward"));
}

TEST_CASE("function: saved_data type errors", "[function]") {
  ag::SavedValue v = 2.5;
  REQUIRE(v.to_double() == 2.5);
  CHECK_THAT(error_of([&] { v.to_string(); }), Contains("asked for a string") &&
                                                   Contains("holds double"));
  ag::SavedValue s = "name";
  REQUIRE(s.toStringRef() == "name");
  ag::SavedValue b = true;
  REQUIRE(b.toBool());
}
