// norm(x, p, axes, keepdim): the vector p-norm over `axes` (all by default) for p = 1, 2 and
// inf, with PyTorch's gradients: sign(x) for p = 1; x / y for p = 2, and 0 where y = 0 (a
// composite sqrt(sum(x^2)) would give NaN there); for p = inf, sign(x) at the elements equal to
// the maximum, shared evenly between ties.
#include <cmath>

#include <autograd/ops/cases.hpp>
#include <autograd/ops/common.hpp>

namespace ag {
namespace ops {
namespace {

struct NormAttrs {
  double p;
  std::vector<std::size_t> axes;  // normalised, sorted
  bool keepdim;
};
AttrList norm_attributes(const Node& n) {
  const NormAttrs& a = n.attrs<NormAttrs>();
  return {{"p", attr_text(a.p)}, {"axes", attr_text(a.axes)}, {"keepdim", attr_text(a.keepdim)}};
}

Axes signed_axes(const std::vector<std::size_t>& axes) { return Axes(axes.begin(), axes.end()); }

// dL/dx for one p, from dy and y reshaped to keep the reduced axes (as size 1). Built from ag
// ops, so a backward with create_graph records it: second derivatives come from it.
Tensor norm_grad(const NormAttrs& a, const Tensor& x, const Tensor& g, const Tensor& y) {
  if (a.p == 1) return mul(g, sign(x));
  if (a.p == 2)  // dy * x / y; where y = 0, x = 0 as well, and dividing by 1 instead gives 0
    return div(mul(g, x), add(y, le(y.detach(), 0.0)));
  // p = inf: constant weights sign(x) [|x| = y] / (the number of such elements per norm).
  Tensor xd = x.detach();
  Tensor picked = eq(abs(xd), y.detach());
  Tensor ties = sum(picked, signed_axes(a.axes), true);
  return mul(g, div(mul(sign(xd), picked), ties));
}

void norm_backward(const Node& n, const Tensor& g, Tensor* gi) {
  const NormAttrs& a = n.attrs<NormAttrs>();
  Shape keep = kept_shape(n.input_shape(0), a.axes);
  gi[0] = norm_grad(a, n.input(0), reshape(g, keep), reshape(n.output(), keep));
}

// The values, computed with ag ops under NoGradGuard; the caller records one norm node, and
// anomaly mode checks its output there, under the name "norm" rather than its parts'.
Tensor norm_value(const Tensor& x, const NormAttrs& a) {
  NoGradGuard no_grad;
  AnomalyModeGuard parts_unchecked(false);
  Axes axes = signed_axes(a.axes);
  if (a.p == 1) return sum(abs(x), axes, a.keepdim);
  if (a.p == 2) return sqrt(sum(mul(x, x), axes, a.keepdim));
  Tensor m = abs(x);  // p = inf: the maximum over each axis in turn, keeping them for now
  for (std::size_t axis : a.axes) m = max(m, static_cast<std::ptrdiff_t>(axis), true);
  if (a.keepdim) return m;
  Shape dropped;
  for (std::size_t k = 0; k < x.dim(); ++k)
    if (!std::binary_search(a.axes.begin(), a.axes.end(), k)) dropped.push_back(x.shape()[k]);
  return reshape(m, dropped);
}

}  // namespace

using namespace cases;

const OpInfo& op_norm = register_op(OpDef("norm").backward(norm_backward)
    .rule("p = 2: dx = dy * x / y (0 where y = 0); p = 1: dx = dy * sign(x); "
          "p = inf: dx = dy * sign(x) at the maxima of |x|, shared between ties")
    .grads({"dy * ({p} == 2 ? {0} / {y} : {p} == 1 ? sign({0}) : "
            "sign({0}) * [|{0}| == {y}] / count(|{0}| == {y}))"})
    .saves_inputs().smooth().attrs<NormAttrs>().attributes(norm_attributes)
    .cases([] {
      double inf = INFINITY;
      auto norm_of = [](double p, Axes axes, bool keepdim) {
        return [=](const std::vector<Tensor>& x) { return norm(x[0], p, axes, keepdim); };
      };
      return std::vector<OpCase>{
          {"p = 2, all", {A({2, 3})}, [](auto& x) { return norm(x[0]); }},
          {"p = 2, axis 1", {A({3, 4})}, norm_of(2, {1}, false)},
          {"p = 2, axes 0 and 2 keepdim", {A({2, 3, 2})}, norm_of(2, {0, -1}, true)},
          {"p = 2, 0-d", {A({})}, norm_of(2, {}, false)},
          {"p = 1, axis -1", {A({3, 4})}, norm_of(1, {-1}, false)},
          {"p = 1, all", {A({2, 3})}, [](auto& x) { return norm(x[0], 1); }},
          {"p = inf, axis 0", {A({4, 3})}, norm_of(inf, {0}, false)},
          {"p = inf, all keepdim", {A({2, 3})}, norm_of(inf, {}, true)},
          {"p = 2 times x (second order through y)", {A({3})},
           [](auto& x) { return norm(x[0]) * x[0]; }}};
    }));

}  // namespace ops

using namespace ops;

Tensor norm(const Tensor& x, double p, const Axes& axes, bool keepdim) {
  check_float("norm", x);
  if (!(p == 1 || p == 2 || p == INFINITY))
    fail("norm: p must be 1, 2 or inf, got " + attr_text(p) + " for " + describe(x));
  NormAttrs attrs{p, norm_axes("norm", axes, x), keepdim};
  Tensor out = norm_value(x, attrs);
  record(op_norm, out, {&x}, std::move(attrs));
  return out;
}

Tensor norm(const Tensor& x, double p) { return norm(x, p, Axes{}, false); }

}  // namespace ag
