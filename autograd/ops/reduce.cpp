// Reductions and the normalised ops built from them (logsumexp, softmax, log_softmax).
#include <algorithm>
#include <cmath>

#include <autograd/ops/common.hpp>

namespace ag {
namespace ops {
namespace {

// Normalised, sorted, unique axes; empty means every axis.
std::vector<std::size_t> norm_axes(const char* op, const Axes& axes, const Tensor& x) {
  std::vector<std::size_t> out;
  if (axes.empty()) {
    for (std::size_t k = 0; k < x.dim(); ++k) out.push_back(k);
    return out;
  }
  for (std::ptrdiff_t a : axes) out.push_back(norm_axis(op, a, x.dim(), x));
  std::sort(out.begin(), out.end());
  if (std::adjacent_find(out.begin(), out.end()) != out.end())
    fail(std::string(op) + ": an axis appears twice in the axes of " + describe(x));
  return out;
}

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

// sum: dx = dy broadcast back over the reduced axes (node->shape = x's shape, node->axes the
// kept-dims shape as integers).
void sum_backward(const Node& n, const Tensor& g, Tensor* gi) {
  Shape keep(n.axes.begin(), n.axes.end());
  gi[0] = broadcast_to(reshape(g, keep), n.shape);
}

// max/min along an axis: the gradient goes to the element that was picked (node->saved).
void max_backward(const Node& n, const Tensor& g, Tensor* gi) {
  std::size_t axis = static_cast<std::size_t>(n.i0);
  Shape keep = n.shape;
  keep[axis] = 1;
  gi[0] = scatter_add(reshape(g, keep), n.i0, n.saved.reshape(keep), n.shape);
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
  if (Node* n = record(op, values, {&x})) {
    n->saved = indices;
    n->i0 = static_cast<std::ptrdiff_t>(a);
    n->shape = x.shape();
  }
  return values;
}

// log_softmax: y = x - logsumexp(x), so dx = dy - softmax(x) * sum(dy) with softmax(x) = exp(y).
void log_softmax_backward(const Node& n, const Tensor& g, Tensor* gi) {
  gi[0] = sub(g, mul(exp(n.output()), sum(g, Axes{n.i0}, true)));
}

}  // namespace

const OpInfo& op_log_softmax = register_op(OpDef("log_softmax").backward(log_softmax_backward).rule("dx = dy - exp(y) * sum(dy)").smooth());
const OpInfo& op_sum = register_op(OpDef("sum").backward(sum_backward).rule("dx = dy (copied to every summed element)").smooth());
const OpInfo& op_max = register_op(OpDef("max").backward(max_backward).rule("dx = dy at the maximum, 0 elsewhere"));
const OpInfo& op_min = register_op(OpDef("min").backward(max_backward).rule("dx = dy at the minimum, 0 elsewhere"));

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
  if (Node* n = record(op_sum, out, {&x})) {
    n->shape = x.shape();
    n->axes.assign(keep.begin(), keep.end());
  }
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
  if (Node* n = record(op_log_softmax, out, {&x})) n->i0 = static_cast<std::ptrdiff_t>(a);
  return out;
}

}  // namespace ag
