// Reductions and the normalised ops built from them (logsumexp, softmax, log_softmax).
#include <algorithm>
#include <cmath>

#include <autograd/ops/cases.hpp>
#include <autograd/ops/common.hpp>

namespace ag {
namespace ops {
namespace {

Shape keep_shape(const Shape& s, const std::vector<bool>& reduce) {
  Shape k = s;
  for (std::size_t i = 0; i < s.size(); ++i)
    if (reduce[i]) k[i] = 1;
  return k;
}
Shape drop_shape(const Shape& s, const std::vector<bool>& reduce) {
  Shape d;
  for (std::size_t i = 0; i < s.size(); ++i)
    if (!reduce[i]) d.push_back(s[i]);
  return d;
}

// Per-op settings. sum: the reduced axes (normalised, sorted) and keepdim; max/min: the axis
// and the picked indices; log_softmax: the axis.
struct SumAttrs {
  std::vector<std::size_t> axes;
  bool keepdim;
};
struct MaxAttrs {
  std::size_t axis;
  Tensor indices;  // int64, the output's shape without the axis
};
struct AxisAttrs {
  std::size_t axis;
};
AttrList sum_attributes(const Node& n) {
  const SumAttrs& a = n.attrs<SumAttrs>();
  return {{"axes", attr_text(a.axes)}, {"keepdim", attr_text(a.keepdim)}};
}
AttrList max_attributes(const Node& n) {
  return {{"axis", std::to_string(n.attrs<MaxAttrs>().axis)}};
}
AttrList axis_attributes(const Node& n) {
  return {{"axis", std::to_string(n.attrs<AxisAttrs>().axis)}};
}

// sum: dx = dy broadcast back over the reduced axes.
void sum_backward(const Node& n, const Tensor& g, Tensor* gi) {
  const Shape& x = n.input_shape(0);
  gi[0] = broadcast_to(reshape(g, kept_shape(x, n.attrs<SumAttrs>().axes)), x);
}

// max/min along an axis: the gradient goes to the element that was picked.
void max_backward(const Node& n, const Tensor& g, Tensor* gi) {
  const MaxAttrs& a = n.attrs<MaxAttrs>();
  const Shape& x = n.input_shape(0);
  Shape keep = kept_shape(x, {a.axis});
  gi[0] = scatter_add(reshape(g, keep), static_cast<std::ptrdiff_t>(a.axis),
                      a.indices.reshape(keep), x);
}

Tensor max_min(const OpInfo& op, const Tensor& x, std::ptrdiff_t axis, bool keepdim, bool is_max) {
  check_float(op.name, x);
  std::size_t a = norm_axis(op.name, axis, x.dim(), x);
  if (x.shape()[a] == 0) fail(std::string(op.name) + ": axis " + std::to_string(axis) + " of " + describe(x) + " is empty");
  Shape out_shape = x.shape();
  out_shape.erase(out_shape.begin() + static_cast<std::ptrdiff_t>(a));
  Tensor values = make_tensor(out_shape, x.dtype());
  Tensor indices = make_tensor(out_shape, int64);
  kernels::max_along(x, a, is_max, &values, &indices);
  if (keepdim) {
    Shape keep = x.shape();
    keep[a] = 1;
    values = alias(values, keep);
  }
  record(op, values, {&x}, MaxAttrs{a, indices});
  return values;
}

// log_softmax: y = x - logsumexp(x), so dx = dy - softmax(x) * sum(dy) with softmax(x) = exp(y).
void log_softmax_backward(const Node& n, const Tensor& g, Tensor* gi) {
  auto axis = static_cast<std::ptrdiff_t>(n.attrs<AxisAttrs>().axis);
  gi[0] = sub(g, mul(exp(n.output()), sum(g, Axes{axis}, true)));
}

}  // namespace

using namespace cases;

// ---- entries: rule, per-input formulas ({0}, {1} inputs, {y} output, dy, {attr}), cases -------
const OpInfo& op_log_softmax = register_op(OpDef("log_softmax").backward(log_softmax_backward)
    .rule("dx = dy - exp(y) * sum(dy)").grads({"dy - exp({y}) * sum(dy, {axis}, keepdim)"})
    .smooth().attrs<AxisAttrs>().attributes(axis_attributes)
    .cases([] {
      auto along = [](std::ptrdiff_t axis) {
        return [axis](const std::vector<Tensor>& x) { return log_softmax(x[0], axis); };
      };
      return std::vector<OpCase>{
          {"axis 1", {A({3, 4})}, along(1)},
          {"axis 0", {A({3, 4})}, along(0)},
          {"middle axis of 3-d", {A({2, 3, 4})}, along(1)},
          {"axis -1, a size-1 row", {A({3, 1})}, along(-1)},
          {"shifted by 50", {A({2, 3})}, [](auto& x) { return log_softmax(x[0] + 50.0, 1); }}};
    }));
const OpInfo& op_sum = register_op(OpDef("sum").backward(sum_backward)
    .rule("dx = dy (copied to every summed element)")
    .grads({"broadcast_to(dy with axes {axes} kept, shape({0}))"}).smooth()
    .attrs<SumAttrs>().attributes(sum_attributes)
    .cases([] {
      return std::vector<OpCase>{
          {"all", {A({2, 3, 4})}, [](auto& x) { return sum(x[0]); }},
          {"axis 1", {A({2, 3, 4})}, [](auto& x) { return sum(x[0], {1}); }},
          {"axis -1 keepdim", {A({2, 3, 4})}, [](auto& x) { return sum(x[0], {-1}, true); }},
          {"axes 0 and 2", {A({2, 3, 4})}, [](auto& x) { return sum(x[0], {0, 2}); }},
          {"size-1 axis", {A({3, 1})}, [](auto& x) { return sum(x[0], {1}); }}};
    }));
const OpInfo& op_max = register_op(OpDef("max").backward(max_backward)
    .rule("dx = dy at the maximum, 0 elsewhere")
    .grads({"scatter_add(dy, {axis}, argmax({0}, {axis}), shape({0}))"})
    .attrs<MaxAttrs>().attributes(max_attributes)
    .cases([] {
      return std::vector<OpCase>{
          {"axis 1", {A({3, 4})}, [](auto& x) { return max(x[0], 1); }},
          {"axis -1 keepdim", {A({2, 3, 4})}, [](auto& x) { return max(x[0], -1, true); }},
          {"axis 0", {A({3, 4})}, [](auto& x) { return max(x[0], 0); }}};
    }));
const OpInfo& op_min = register_op(OpDef("min").backward(max_backward)
    .rule("dx = dy at the minimum, 0 elsewhere")
    .grads({"scatter_add(dy, {axis}, argmin({0}, {axis}), shape({0}))"})
    .attrs<MaxAttrs>().attributes(max_attributes)
    .cases([] {
      return std::vector<OpCase>{
          {"axis 1", {A({3, 4})}, [](auto& x) { return min(x[0], 1); }},
          {"axis -2 keepdim", {A({2, 3, 4})}, [](auto& x) { return min(x[0], -2, true); }}};
    }));

}  // namespace ops

using namespace ops;

Tensor sum(const Tensor& x, const Axes& axes, bool keepdim) {
  check_float("sum", x);
  std::vector<std::size_t> ax = norm_axes("sum", axes, x);
  std::vector<bool> reduce(x.dim(), false);
  for (std::size_t a : ax) reduce[a] = true;
  Shape keep = keep_shape(x.shape(), reduce);
  Tensor out = make_tensor(keepdim ? keep : drop_shape(x.shape(), reduce), x.dtype(), "sum");
  kernels::sum(x, reduce, out);
  record(op_sum, out, {&x}, SumAttrs{std::move(ax), keepdim});
  return out;
}
Tensor sum(const Tensor& x) { return sum(x, Axes{}, false); }

Tensor mean(const Tensor& x, const Axes& axes, bool keepdim) {
  check_float("mean", x);
  std::size_t count = 1;
  for (std::size_t a : norm_axes("mean", axes, x)) count *= x.shape()[a];
  return div(sum(x, axes, keepdim), static_cast<double>(count));
}
Tensor mean(const Tensor& x) { return mean(x, Axes{}, false); }

Tensor max(const Tensor& x, std::ptrdiff_t axis, bool keepdim) {
  return max_min(op_max, x, axis, keepdim, true);
}
Tensor min(const Tensor& x, std::ptrdiff_t axis, bool keepdim) {
  return max_min(op_min, x, axis, keepdim, false);
}

Tensor argmax(const Tensor& x, std::ptrdiff_t axis) {
  check_float("argmax", x);
  std::size_t a = norm_axis("argmax", axis, x.dim(), x);
  if (x.shape()[a] == 0) fail("argmax: axis " + std::to_string(axis) + " of " + describe(x) + " is empty");
  Shape out_shape = x.shape();
  out_shape.erase(out_shape.begin() + static_cast<std::ptrdiff_t>(a));
  Tensor indices = make_tensor(out_shape, int64);
  kernels::max_along(x, a, true, nullptr, &indices);
  return indices;
}

// The shift by the (constant) maximum keeps exp from overflowing; it cancels in the math, so it
// is detached and needs no derivative. A row of all -inf shifts by 0 (as PyTorch does).
// An empty axis shifts by 0 too: softmax is then empty and logsumexp -inf, as in PyTorch (and
// the internal max never sees the empty axis, so errors never name it instead of `op`).
static Tensor row_max(const char* op, const Tensor& x, std::ptrdiff_t axis) {
  check_float(op, x);
  std::size_t a = norm_axis(op, axis, x.dim(), x);
  if (x.shape()[a] == 0) {
    Shape keep = x.shape();
    keep[a] = 1;
    return zeros(keep, x.dtype());
  }
  Tensor m = max(x.detach(), axis, true);
  if (!kernels::all_finite(m)) {
    if (m.dtype() == float32) {
      float* p = m.data_ptr<float>();
      for (std::size_t i = 0; i < m.numel(); ++i) p[i] = std::isfinite(p[i]) ? p[i] : 0.0f;
    } else {
      double* p = m.data_ptr<double>();
      for (std::size_t i = 0; i < m.numel(); ++i) p[i] = std::isfinite(p[i]) ? p[i] : 0.0;
    }
  }
  return m;
}

Tensor logsumexp(const Tensor& x, std::ptrdiff_t axis, bool keepdim) {
  Tensor m = row_max("logsumexp", x, axis);
  Tensor out = add(log(sum(exp(sub(x, m)), Axes{axis}, true)), m);
  return keepdim ? out : squeeze(out, axis);
}

Tensor softmax(const Tensor& x, std::ptrdiff_t axis) {
  Tensor e = exp(sub(x, row_max("softmax", x, axis)));
  return div(e, sum(e, Axes{axis}, true));
}

// One primitive rather than five recorded ops: it is the head of every classifier's loss.
Tensor log_softmax(const Tensor& x, std::ptrdiff_t axis) {
  check_float("log_softmax", x);
  std::size_t a = norm_axis("log_softmax", axis, x.dim(), x);
  Tensor out = make_tensor(x.shape(), x.dtype());
  if (x.numel() > 0) kernels::log_softmax_along(x, a, out);
  record(op_log_softmax, out, {&x}, AxisAttrs{a});
  return out;
}

}  // namespace ag
