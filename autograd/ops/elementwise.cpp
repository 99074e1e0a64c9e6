// Elementwise ops: each forward, its derivative rule and its registry entry, side by side.
// Backward formulas use ag ops, so a backward run with create_graph records them.
// Broadcast gradients come back in the output's shape; the engine sums them to each input's.
#include <autograd/ops/cases.hpp>
#include <autograd/ops/common.hpp>

namespace ag {
namespace ops {
namespace {

using kernels::Binary;
using kernels::Unary;

// Per-op settings: the scalar of x + c, x * c, ...; pow's exponent; leaky_relu's slope; clamp's
// bounds. Their entries name them for dumps and rule texts ({c}, {p}, {slope}, {lo}, {hi}).
struct ScalarAttrs {
  double c;
};
struct PowAttrs {
  double p;
};
struct LeakyReluAttrs {
  double slope;
};
struct ClampAttrs {
  double lo, hi;
};
AttrList scalar_attributes(const Node& n) { return {{"c", attr_text(n.attrs<ScalarAttrs>().c)}}; }
AttrList pow_attributes(const Node& n) { return {{"p", attr_text(n.attrs<PowAttrs>().p)}}; }
AttrList leaky_relu_attributes(const Node& n) {
  return {{"slope", attr_text(n.attrs<LeakyReluAttrs>().slope)}};
}
AttrList clamp_attributes(const Node& n) {
  const ClampAttrs& c = n.attrs<ClampAttrs>();
  return {{"lo", attr_text(c.lo)}, {"hi", attr_text(c.hi)}};
}

Tensor unary_forward(const OpInfo& op, Unary k, const Tensor& x, double a = 0, double b = 0) {
  check_float(op.name, x);
  Tensor out = make_tensor(x.shape(), x.dtype(), op.name);
  kernels::unary(k, x, out, a, b);
  return out;
}
Tensor unary_op(const OpInfo& op, Unary k, const Tensor& x) {
  Tensor out = unary_forward(op, k, x);
  record(op, out, {&x});
  return out;
}
// The kernel's scalars (a, b) are the attributes' values, passed alongside.
template <class Attrs>
Tensor unary_op(const OpInfo& op, Unary k, const Tensor& x, Attrs attrs, double a, double b = 0) {
  Tensor out = unary_forward(op, k, x, a, b);
  record(op, out, {&x}, attrs);
  return out;
}

Tensor binary_op(const OpInfo& op, Binary k, const Tensor& x, const Tensor& y) {
  check_same_dtype(op.name, x, y);
  Tensor out = make_tensor(broadcast_shape(op.name, x, y), x.dtype(), op.name);
  kernels::binary(k, x, y, out);
  record(op, out, {&x, &y});
  return out;
}

// Masks and other piecewise-constant helpers: never recorded (their derivative is zero).
Tensor unary_const(Unary k, const Tensor& x, double a = 0, double b = 0) {
  Tensor out = make_tensor(x.shape(), x.dtype());
  kernels::unary(k, x, out, a, b);
  return out;
}
Tensor binary_const(const char* name, Binary k, const Tensor& x, const Tensor& y) {
  check_same_dtype(name, x, y);
  Tensor out = make_tensor(broadcast_shape(name, x, y), x.dtype(), name);
  kernels::binary(k, x, y, out);
  return out;
}

// ---- binary ----------------------------------------------------------------------------------
void add_backward(const Node&, const Tensor& g, Tensor* gi) { gi[0] = gi[1] = g; }
void sub_backward(const Node&, const Tensor& g, Tensor* gi) { gi[0] = g; gi[1] = neg(g); }
void mul_backward(const Node& n, const Tensor& g, Tensor* gi) {
  if (n.needs_grad(0)) gi[0] = mul(g, n.input(1));
  if (n.needs_grad(1)) gi[1] = mul(g, n.input(0));
}
void div_backward(const Node& n, const Tensor& g, Tensor* gi) {  // y = a / b
  Tensor ga = div(g, n.input(1));
  if (n.needs_grad(0)) gi[0] = ga;
  if (n.needs_grad(1)) gi[1] = neg(mul(ga, n.output()));  // -g a / b^2 = -(g / b) y
}
// A tie sends half the gradient each way (PyTorch's rule), so maximum(x, x) has gradient 1.
void maximum_backward(const Node& n, const Tensor& g, Tensor* gi) {
  Tensor a = n.input(0), b = n.input(1);
  if (n.needs_grad(0)) gi[0] = mul(g, binary_const("maximum", Binary::MaxGrad, a, b));
  if (n.needs_grad(1)) gi[1] = mul(g, binary_const("maximum", Binary::MaxGrad, b, a));
}
void minimum_backward(const Node& n, const Tensor& g, Tensor* gi) {
  Tensor a = n.input(0), b = n.input(1);
  if (n.needs_grad(0)) gi[0] = mul(g, binary_const("minimum", Binary::MaxGrad, b, a));
  if (n.needs_grad(1)) gi[1] = mul(g, binary_const("minimum", Binary::MaxGrad, a, b));
}

// ---- unary -----------------------------------------------------------------------------------
void neg_backward(const Node&, const Tensor& g, Tensor* gi) { gi[0] = neg(g); }
void exp_backward(const Node& n, const Tensor& g, Tensor* gi) { gi[0] = mul(g, n.output()); }
void log_backward(const Node& n, const Tensor& g, Tensor* gi) { gi[0] = div(g, n.input(0)); }
void sqrt_backward(const Node& n, const Tensor& g, Tensor* gi) {
  gi[0] = div(mul(g, 0.5), n.output());
}
void abs_backward(const Node& n, const Tensor& g, Tensor* gi) {
  gi[0] = mul(g, sign(n.input(0)));
}
void sin_backward(const Node& n, const Tensor& g, Tensor* gi) { gi[0] = mul(g, cos(n.input(0))); }
void cos_backward(const Node& n, const Tensor& g, Tensor* gi) {
  gi[0] = neg(mul(g, sin(n.input(0))));
}
void tanh_backward_rule(const Node& n, const Tensor& g, Tensor* gi) {
  gi[0] = tanh_backward(g, n.output());
}
void sigmoid_backward_rule(const Node& n, const Tensor& g, Tensor* gi) {
  gi[0] = sigmoid_backward(g, n.output());
}
void relu_backward(const Node& n, const Tensor& g, Tensor* gi) {
  // Under create_graph the reference composite, whose graph is the one second order uses (the
  // mask a constant); otherwise one fused pass without the mask tensor. Same numbers either way.
  if (is_grad_enabled())
    gi[0] = mul(g, gt(n.input(0), 0.0));
  else
    gi[0] = binary_const("relu_backward", Binary::ReluBackward, g, n.input(0));
}
void leaky_relu_backward(const Node& n, const Tensor& g, Tensor* gi) {
  // slope + (1 - slope) * [x > 0]: 1 on the right, slope on the left
  Tensor mask = gt(n.input(0), 0.0);
  double slope = n.attrs<LeakyReluAttrs>().slope;
  gi[0] = mul(g, unary_const(Unary::AddScalar, unary_const(Unary::MulScalar, mask, 1 - slope), slope));
}
void softplus_backward(const Node& n, const Tensor& g, Tensor* gi) {
  // sigmoid(x) below the threshold, where softplus is log(1 + e^x); 1 above it, where it is x.
  Tensor x = n.input(0);
  gi[0] = mul(g, add(mul(sigmoid(x), le(x, 20.0)), gt(x, 20.0)));
}
void clamp_backward(const Node& n, const Tensor& g, Tensor* gi) {
  const ClampAttrs& c = n.attrs<ClampAttrs>();
  gi[0] = mul(g, unary_const(Unary::ClampMask, n.input(0), c.lo, c.hi));
}
void pow_backward(const Node& n, const Tensor& g, Tensor* gi) {
  double p = n.attrs<PowAttrs>().p;
  if (p == 0) {
    gi[0] = mul(g, 0.0);
    return;
  }
  gi[0] = mul(g, mul(pow(n.input(0), p - 1), p));
}
void step_backward(const Node& n, const Tensor&, Tensor* gi) {
  gi[0] = zeros(n.input_shape(0), n.input_dtype(0));  // flat almost everywhere
}

// ---- with a scalar ---------------------------------------------------------------------------
void add_scalar_backward(const Node&, const Tensor& g, Tensor* gi) { gi[0] = g; }
void rsub_scalar_backward(const Node&, const Tensor& g, Tensor* gi) { gi[0] = neg(g); }
void mul_scalar_backward(const Node& n, const Tensor& g, Tensor* gi) {
  gi[0] = mul(g, n.attrs<ScalarAttrs>().c);
}
void div_scalar_backward(const Node& n, const Tensor& g, Tensor* gi) {
  gi[0] = div(g, n.attrs<ScalarAttrs>().c);
}
void rdiv_scalar_backward(const Node& n, const Tensor& g, Tensor* gi) {  // y = a / x
  gi[0] = neg(div(mul(g, n.output()), n.input(0)));                    // -a / x^2 = -y / x
}

// ---- fused backward ops (first-class, so their own gradients exist) ---------------------------
void sigmoid_backward_backward(const Node& n, const Tensor& gg, Tensor* gi) {
  Tensor g = n.input(0), y = n.input(1);  // out = g * y * (1 - y)
  if (n.needs_grad(0)) gi[0] = sigmoid_backward(gg, y);
  if (n.needs_grad(1)) gi[1] = mul(mul(gg, g), sub(1.0, mul(y, 2.0)));
}
void tanh_backward_backward(const Node& n, const Tensor& gg, Tensor* gi) {
  Tensor g = n.input(0), y = n.input(1);  // out = g * (1 - y^2)
  if (n.needs_grad(0)) gi[0] = tanh_backward(gg, y);
  if (n.needs_grad(1)) gi[1] = mul(mul(gg, g), mul(y, -2.0));
}

}  // namespace

using namespace cases;

// ---- entries: rule, per-input formulas ({0}, {1} inputs, {y} output, dy, {attr}), cases -------
const OpInfo& op_add = register_op(OpDef("add").backward(add_backward)
    .rule("da = dy, db = dy").grads({"dy", "dy"}).smooth().elementwise()
    .cases([] { return binary_cases([](auto& a, auto& b) { return a + b; }); }));
const OpInfo& op_sub = register_op(OpDef("sub").backward(sub_backward)
    .rule("da = dy, db = -dy").grads({"dy", "-dy"}).smooth().elementwise()
    .cases([] { return binary_cases([](auto& a, auto& b) { return a - b; }); }));
const OpInfo& op_mul = register_op(OpDef("mul").backward(mul_backward)
    .rule("da = dy * b, db = dy * a").grads({"dy * {1}", "dy * {0}"})
    .saves_inputs().smooth().elementwise()
    .cases([] { return binary_cases([](auto& a, auto& b) { return a * b; }); }));
const OpInfo& op_div = register_op(OpDef("div").backward(div_backward)
    .rule("da = dy / b, db = -dy * a / b^2").grads({"dy / {1}", "-dy * {0} / {1}^2"})
    .saves_inputs().smooth().elementwise()
    .cases([] { return binary_cases([](auto& a, auto& b) { return a / b; }, Domain::Positive); }));
const OpInfo& op_maximum = register_op(OpDef("maximum").backward(maximum_backward)
    .rule("da = dy * [a > b] (half on ties), db = dy * [b > a]")
    .grads({"dy * ([{0} > {1}] + 0.5 * [{0} == {1}])", "dy * ([{1} > {0}] + 0.5 * [{0} == {1}])"})
    .saves_inputs().elementwise()
    .cases([] {
      return with(binary_cases([](auto& a, auto& b) { return maximum(a, b); }),
                  {{"tie splits the gradient", {A({3})},
                    [](auto& x) { return maximum(x[0], x[0]) * 3.0; }}});
    }));
const OpInfo& op_minimum = register_op(OpDef("minimum").backward(minimum_backward)
    .rule("da = dy * [a < b] (half on ties), db = dy * [b < a]")
    .grads({"dy * ([{0} < {1}] + 0.5 * [{0} == {1}])", "dy * ([{1} < {0}] + 0.5 * [{0} == {1}])"})
    .saves_inputs().elementwise()
    .cases([] { return binary_cases([](auto& a, auto& b) { return minimum(a, b); }); }));
const OpInfo& op_neg = register_op(OpDef("neg").backward(neg_backward)
    .rule("dx = -dy").grads({"-dy"}).smooth().elementwise()
    .cases([] { return unary_cases([](auto& x) { return -x; }); }));
const OpInfo& op_exp = register_op(OpDef("exp").backward(exp_backward)
    .rule("dx = dy * exp(x) = dy * y").grads({"dy * {y}"}).smooth().elementwise()
    .cases([] { return unary_cases([](auto& x) { return exp(x); }); }));
const OpInfo& op_log = register_op(OpDef("log").backward(log_backward)
    .rule("dx = dy / x").grads({"dy / {0}"}).saves_inputs().smooth().elementwise()
    .cases([] { return unary_cases([](auto& x) { return log(x); }, Domain::Positive); }));
const OpInfo& op_sqrt = register_op(OpDef("sqrt").backward(sqrt_backward)
    .rule("dx = dy / (2 * sqrt(x)) = dy * 0.5 / y").grads({"dy * 0.5 / {y}"}).smooth().elementwise()
    .cases([] { return unary_cases([](auto& x) { return sqrt(x); }, Domain::Positive); }));
const OpInfo& op_abs = register_op(OpDef("abs").backward(abs_backward)
    .rule("dx = dy * sign(x)").grads({"dy * sign({0})"}).saves_inputs().elementwise()
    .cases([] { return unary_cases([](auto& x) { return abs(x); }); }));
const OpInfo& op_sin = register_op(OpDef("sin").backward(sin_backward)
    .rule("dx = dy * cos(x)").grads({"dy * cos({0})"}).saves_inputs().smooth().elementwise()
    .cases([] { return unary_cases([](auto& x) { return sin(x); }); }));
const OpInfo& op_cos = register_op(OpDef("cos").backward(cos_backward)
    .rule("dx = -dy * sin(x)").grads({"-dy * sin({0})"}).saves_inputs().smooth().elementwise()
    .cases([] { return unary_cases([](auto& x) { return cos(x); }); }));
const OpInfo& op_tanh = register_op(OpDef("tanh").backward(tanh_backward_rule)
    .rule("dx = dy * (1 - y^2)").grads({"dy * (1 - {y}^2)"}).smooth().elementwise()
    .cases([] { return unary_cases([](auto& x) { return tanh(x); }); }));
const OpInfo& op_sigmoid = register_op(OpDef("sigmoid").backward(sigmoid_backward_rule)
    .rule("dx = dy * y * (1 - y)").grads({"dy * {y} * (1 - {y})"}).smooth().elementwise()
    .cases([] { return unary_cases([](auto& x) { return sigmoid(x); }); }));
const OpInfo& op_relu = register_op(OpDef("relu").backward(relu_backward)
    .rule("dx = dy * [x > 0]").grads({"dy * [{0} > 0]"}).saves_inputs().elementwise()
    .cases([] { return unary_cases([](auto& x) { return relu(x); }); }));
const OpInfo& op_leaky_relu = register_op(OpDef("leaky_relu").backward(leaky_relu_backward)
    .rule("dx = dy * (x > 0 ? 1 : slope)").grads({"dy * ({0} > 0 ? 1 : {slope})"})
    .saves_inputs().elementwise().attrs<LeakyReluAttrs>().attributes(leaky_relu_attributes)
    .cases([] { return unary_cases([](auto& x) { return leaky_relu(x, 0.1); }); }));
const OpInfo& op_softplus = register_op(OpDef("softplus").backward(softplus_backward)
    .rule("dx = dy * sigmoid(x)").grads({"dy * ({0} > 20 ? 1 : sigmoid({0}))"})
    .saves_inputs().smooth().elementwise()
    .cases([] {
      return with(unary_cases([](auto& x) { return softplus(x); }),
                  {{"beyond the threshold", {A({3})}, [](auto& x) { return softplus(x[0] + 25.0); }}});
    }));
const OpInfo& op_clamp = register_op(OpDef("clamp").backward(clamp_backward)
    .rule("dx = dy * [lo <= x <= hi]").grads({"dy * [{lo} <= {0} <= {hi}]"})
    .saves_inputs().elementwise().attrs<ClampAttrs>().attributes(clamp_attributes)
    .cases([] { return unary_cases([](auto& x) { return clamp(x, -0.5, 0.5); }); }));
const OpInfo& op_pow = register_op(OpDef("pow").backward(pow_backward)
    .rule("dx = dy * p * x^(p-1)").grads({"dy * {p} * {0}^({p} - 1)"})
    .saves_inputs().smooth().elementwise().attrs<PowAttrs>().attributes(pow_attributes)
    .cases([] {
      std::vector<OpCase> cs = unary_cases([](auto& x) { return pow(x, 3); });
      for (double p : {2.5, -1.5, 0.0, 1.0})
        cs.push_back({"p = " + attr_text(p), {P({2, 3})}, [p](auto& x) { return pow(x[0], p); }});
      return cs;
    }));
const OpInfo& op_step = register_op(OpDef("step").backward(step_backward)
    .rule("dx = 0 (step is flat almost everywhere)").grads({"0"}).elementwise()
    .cases([] { return unary_cases([](auto& x) { return step(x) * x; }); }));
const OpInfo& op_add_scalar = register_op(OpDef("add_scalar").backward(add_scalar_backward)
    .rule("dx = dy").grads({"dy"}).smooth().elementwise()
    .attrs<ScalarAttrs>().attributes(scalar_attributes)
    .cases([] {
      return with(unary_cases([](auto& x) { return x + 2.0; }),
                  {{"sub scalar", {A({2, 3})}, [](auto& x) { return x[0] - 2.0; }}});
    }));
const OpInfo& op_rsub_scalar = register_op(OpDef("rsub_scalar").backward(rsub_scalar_backward)
    .rule("dx = -dy").grads({"-dy"}).smooth().elementwise()
    .attrs<ScalarAttrs>().attributes(scalar_attributes)
    .cases([] { return unary_cases([](auto& x) { return 2.0 - x; }); }));
const OpInfo& op_mul_scalar = register_op(OpDef("mul_scalar").backward(mul_scalar_backward)
    .rule("dx = dy * c").grads({"dy * {c}"}).smooth().elementwise()
    .attrs<ScalarAttrs>().attributes(scalar_attributes)
    .cases([] { return unary_cases([](auto& x) { return 3.0 * x; }); }));
const OpInfo& op_div_scalar = register_op(OpDef("div_scalar").backward(div_scalar_backward)
    .rule("dx = dy / c").grads({"dy / {c}"}).smooth().elementwise()
    .attrs<ScalarAttrs>().attributes(scalar_attributes)
    .cases([] { return unary_cases([](auto& x) { return x / 4.0; }); }));
const OpInfo& op_rdiv_scalar = register_op(OpDef("rdiv_scalar").backward(rdiv_scalar_backward)
    .rule("dx = -dy * c / x^2 = -dy * y / x").grads({"-dy * {c} / {0}^2"})
    .saves_inputs().smooth().elementwise().attrs<ScalarAttrs>().attributes(scalar_attributes)
    .cases([] { return unary_cases([](auto& x) { return 3.0 / x; }, Domain::Positive); }));
const OpInfo& op_sigmoid_backward = register_op(OpDef("sigmoid_backward")
    .backward(sigmoid_backward_backward)
    .rule("dg = dz * y * (1 - y), dy = dz * g * (1 - 2y)")
    .grads({"dy * {1} * (1 - {1})", "dy * {0} * (1 - 2 * {1})"})
    .saves_inputs().smooth().elementwise()
    .cases([] {
      auto f = [](auto& x) { return sigmoid_backward(x[0], x[1]); };
      return std::vector<OpCase>{{"g and y", {A({2, 3}), U({2, 3})}, f},
                                 {"broadcast y", {A({2, 3}), U({3})}, f}};
    }));
const OpInfo& op_tanh_backward = register_op(OpDef("tanh_backward")
    .backward(tanh_backward_backward)
    .rule("dg = dz * (1 - y^2), dy = -2 * dz * g * y")
    .grads({"dy * (1 - {1}^2)", "-2 * dy * {0} * {1}"})
    .saves_inputs().smooth().elementwise()
    .cases([] {
      auto f = [](auto& x) { return tanh_backward(x[0], x[1]); };
      return std::vector<OpCase>{{"g and y", {A({2, 3}), U({2, 3})}, f},
                                 {"broadcast g", {A({1, 3}), U({2, 3})}, f}};
    }));

}  // namespace ops

using namespace ops;

Tensor add(const Tensor& a, const Tensor& b) { return binary_op(op_add, Binary::Add, a, b); }
Tensor sub(const Tensor& a, const Tensor& b) { return binary_op(op_sub, Binary::Sub, a, b); }
Tensor mul(const Tensor& a, const Tensor& b) { return binary_op(op_mul, Binary::Mul, a, b); }
Tensor div(const Tensor& a, const Tensor& b) { return binary_op(op_div, Binary::Div, a, b); }
Tensor maximum(const Tensor& a, const Tensor& b) { return binary_op(op_maximum, Binary::Maximum, a, b); }
Tensor minimum(const Tensor& a, const Tensor& b) { return binary_op(op_minimum, Binary::Minimum, a, b); }
Tensor neg(const Tensor& x) { return unary_op(op_neg, Unary::Neg, x); }
Tensor exp(const Tensor& x) { return unary_op(op_exp, Unary::Exp, x); }
Tensor log(const Tensor& x) { return unary_op(op_log, Unary::Log, x); }
Tensor sqrt(const Tensor& x) { return unary_op(op_sqrt, Unary::Sqrt, x); }
Tensor abs(const Tensor& x) { return unary_op(op_abs, Unary::Abs, x); }
Tensor sin(const Tensor& x) { return unary_op(op_sin, Unary::Sin, x); }
Tensor cos(const Tensor& x) { return unary_op(op_cos, Unary::Cos, x); }
Tensor tanh(const Tensor& x) { return unary_op(op_tanh, Unary::Tanh, x); }
Tensor sigmoid(const Tensor& x) { return unary_op(op_sigmoid, Unary::Sigmoid, x); }
Tensor relu(const Tensor& x) { return unary_op(op_relu, Unary::Relu, x); }
Tensor leaky_relu(const Tensor& x, double slope) {
  return unary_op(op_leaky_relu, Unary::LeakyRelu, x, LeakyReluAttrs{slope}, slope);
}
Tensor softplus(const Tensor& x) { return unary_op(op_softplus, Unary::Softplus, x); }
Tensor clamp(const Tensor& x, double lo, double hi) {
  if (!(lo <= hi))
    fail("clamp: needs lo <= hi, got lo = " + std::to_string(lo) + ", hi = " + std::to_string(hi) +
         " for " + describe(x));
  return unary_op(op_clamp, Unary::Clamp, x, ClampAttrs{lo, hi}, lo, hi);
}
Tensor pow(const Tensor& x, double p) {
  return unary_op(op_pow, Unary::Pow, x, PowAttrs{p}, p);
}
Tensor step(const Tensor& x) { return unary_op(op_step, Unary::Step, x); }

Tensor add(const Tensor& a, double b) {
  return unary_op(op_add_scalar, Unary::AddScalar, a, ScalarAttrs{b}, b);
}
Tensor sub(const Tensor& a, double b) {
  return unary_op(op_add_scalar, Unary::AddScalar, a, ScalarAttrs{-b}, -b);
}
Tensor sub(double a, const Tensor& b) {
  return unary_op(op_rsub_scalar, Unary::RSubScalar, b, ScalarAttrs{a}, a);
}
Tensor mul(const Tensor& a, double b) {
  return unary_op(op_mul_scalar, Unary::MulScalar, a, ScalarAttrs{b}, b);
}
Tensor div(const Tensor& a, double b) {
  return unary_op(op_div_scalar, Unary::DivScalar, a, ScalarAttrs{b}, b);
}
Tensor div(double a, const Tensor& b) {
  return unary_op(op_rdiv_scalar, Unary::RDivScalar, b, ScalarAttrs{a}, a);
}

Tensor sigmoid_backward(const Tensor& g, const Tensor& y) {
  return binary_op(op_sigmoid_backward, Binary::SigmoidBackward, g, y);
}
Tensor tanh_backward(const Tensor& g, const Tensor& y) {
  return binary_op(op_tanh_backward, Binary::TanhBackward, g, y);
}

Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
Tensor operator+(const Tensor& a, double b) { return add(a, b); }
Tensor operator-(const Tensor& a, double b) { return sub(a, b); }
Tensor operator*(const Tensor& a, double b) { return mul(a, b); }
Tensor operator/(const Tensor& a, double b) { return div(a, b); }
Tensor operator+(double a, const Tensor& b) { return add(b, a); }
Tensor operator-(double a, const Tensor& b) { return sub(a, b); }
Tensor operator*(double a, const Tensor& b) { return mul(b, a); }
Tensor operator/(double a, const Tensor& b) { return div(a, b); }
Tensor operator-(const Tensor& x) { return neg(x); }

// ---- masks: 0/1 in the input's dtype, never recorded ----------------------------------------
// int64 inputs compare through float64 (exact for |values| < 2^53) and give int64 masks.
static Tensor as_float(const Tensor& t) { return is_floating(t.dtype()) ? t : t.detach().to(float64); }
static Tensor mask2(const char* name, Binary k, const Tensor& a, const Tensor& b) {
  check_defined(name, a);
  check_defined(name, b);
  if (a.dtype() != b.dtype())  // before as_float turns an int64 side into float64
    fail(std::string(name) + ": dtypes differ: " + describe(a) + " and " + describe(b) +
         "; convert one with .to()");
  Tensor m = binary_const(name, k, as_float(a), as_float(b));
  return is_floating(a.dtype()) ? m : m.to(int64);
}
static Tensor mask1(const char* name, Unary k, const Tensor& a, double v) {
  check_defined(name, a);
  Tensor m = unary_const(k, as_float(a), v);
  return is_floating(a.dtype()) ? m : m.to(int64);
}
Tensor gt(const Tensor& a, const Tensor& b) { return mask2("gt", Binary::Gt, a, b); }
Tensor ge(const Tensor& a, const Tensor& b) { return mask2("ge", Binary::Ge, a, b); }
Tensor eq(const Tensor& a, const Tensor& b) { return mask2("eq", Binary::Eq, a, b); }
Tensor gt(const Tensor& a, double b) { return mask1("gt", Unary::GtScalar, a, b); }
Tensor ge(const Tensor& a, double b) { return mask1("ge", Unary::GeScalar, a, b); }
Tensor le(const Tensor& a, double b) { return mask1("le", Unary::LeScalar, a, b); }
Tensor sign(const Tensor& x) {
  check_float("sign", x);
  Tensor out = unary_const(Unary::Sign, x);
  // Never recorded (its derivative is zero), so anomaly mode checks its NaN here (inside a
  // backward the engine reports the node instead, as for recorded ops).
  if (is_anomaly_enabled() && !in_backward() && !kernels::all_finite(out))
    fail("sign: produced NaN or Inf (anomaly mode) in its output " + describe(out) + " from " + describe(x));
  return out;
}

}  // namespace ag
