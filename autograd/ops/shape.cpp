// Shape and data-movement ops. Each comes with its adjoint: slice and pad_slice, index_select and
// index_add, gather and scatter_add undo each other's shapes, so every backward is one op and
// gradients of gradients come for free. These ops also move int64 data (never differentiated).
#include <autograd/ops/common.hpp>

namespace ag {
namespace ops {
namespace {

void reshape_backward(const Node& n, const Tensor& g, Tensor* gi) { gi[0] = reshape(g, n.shape); }
// The engine sums a gradient back down to its input's shape: broadcast_to needs nothing more.
void broadcast_backward(const Node&, const Tensor& g, Tensor* gi) { gi[0] = g; }
void slice_backward(const Node& n, const Tensor& g, Tensor* gi) {
  gi[0] = pad_slice(g, n.i0, static_cast<std::size_t>(n.i1), n.shape);
}
void pad_slice_backward(const Node& n, const Tensor& g, Tensor* gi) {
  std::size_t start = static_cast<std::size_t>(n.i1);
  gi[0] = slice(g, n.i0, start, start + n.inputs[0].shape()[static_cast<std::size_t>(n.i0)]);
}
void index_select_backward(const Node& n, const Tensor& g, Tensor* gi) {
  gi[0] = index_add(g, n.i0, n.index, n.shape);
}
void index_add_backward(const Node& n, const Tensor& g, Tensor* gi) {
  gi[0] = index_select(g, n.i0, n.index);
}
void gather_backward(const Node& n, const Tensor& g, Tensor* gi) {
  gi[0] = scatter_add(g, n.i0, n.saved, n.shape);
}
void scatter_add_backward(const Node& n, const Tensor& g, Tensor* gi) {
  gi[0] = gather(g, n.i0, n.saved);
}
void concat_backward(const Node& n, const Tensor& g, Tensor* gi) {
  std::size_t axis = static_cast<std::size_t>(n.i0), offset = 0;
  for (std::size_t i = 0; i < n.inputs.size(); ++i) {
    std::size_t len = n.inputs[i].shape()[axis];
    if (n.needs_grad(i)) gi[i] = slice(g, n.i0, offset, offset + len);
    offset += len;
  }
}
void clone_backward(const Node&, const Tensor& g, Tensor* gi) { gi[0] = g; }
void to_backward(const Node& n, const Tensor& g, Tensor* gi) { gi[0] = g.to(n.inputs[0].dtype()); }

// Differentiable shape ops need a float dtype when they record; int64 passes through unrecorded.
Tensor alias_op(const OpInfo& op, const Tensor& x, Shape shape) {
  Tensor out = alias(x, std::move(shape));
  if (Node* n = record(op, out, {&x})) n->shape = x.shape();
  return out;
}

void check_index(const char* op, const Tensor& x, std::size_t axis, const std::vector<std::size_t>& index) {
  for (std::size_t i = 0; i < index.size(); ++i)
    if (index[i] >= x.shape()[axis])
      fail(std::string(op) + ": index " + std::to_string(index[i]) + " (at position " +
           std::to_string(i) + ") is out of range for axis " + std::to_string(axis) + " of size " +
           std::to_string(x.shape()[axis]) + " in " + describe(x));
}

// gather/scatter_add: index is int64, has src's shape, matches `shape` off the axis, in range.
void check_gather(const char* op, const Shape& data, std::size_t axis, const Tensor& index,
                  const Tensor& named) {
  check_defined(op, index);
  if (index.dtype() != int64) fail(std::string(op) + ": index must be int64, got " + describe(index));
  bool ok = index.dim() == data.size();
  for (std::size_t k = 0; ok && k < data.size(); ++k)
    if (k != axis && index.shape()[k] != data[k]) ok = false;
  if (!ok)
    fail(std::string(op) + ": index " + describe(index) + " must have the shape of " +
         shape_str(data) + " except along axis " + std::to_string(axis) + " (" + describe(named) + ")");
  const std::int64_t* p = index.data_ptr<std::int64_t>();
  for (std::size_t i = 0; i < index.numel(); ++i)
    if (p[i] < 0 || static_cast<std::size_t>(p[i]) >= data[axis])
      fail(std::string(op) + ": index value " + std::to_string(p[i]) + " is out of range for axis " +
           std::to_string(axis) + " of size " + std::to_string(data[axis]) + " (" + describe(named) + ")");
}

}  // namespace

const OpInfo& op_reshape = register_op(OpDef("reshape").backward(reshape_backward).rule("dx = reshape(dy, shape of x)").smooth());
const OpInfo& op_broadcast_to = register_op(OpDef("broadcast_to").backward(broadcast_backward).rule("dx = dy summed over the broadcast axes").smooth());
const OpInfo& op_slice = register_op(OpDef("slice").backward(slice_backward).rule("dx = dy placed back at the slice, 0 elsewhere").smooth());
const OpInfo& op_pad_slice = register_op(OpDef("pad_slice").backward(pad_slice_backward).rule("dx = dy at the placed slice").smooth());
const OpInfo& op_index_select = register_op(OpDef("index_select").backward(index_select_backward).rule("dx = dy added back at the chosen indices").smooth());
const OpInfo& op_index_add = register_op(OpDef("index_add").backward(index_add_backward).rule("dx = dy at the indices").smooth());
const OpInfo& op_gather = register_op(OpDef("gather").backward(gather_backward).rule("dx = dy scattered (added) back to the gathered positions").smooth());
const OpInfo& op_scatter_add = register_op(OpDef("scatter_add").backward(scatter_add_backward).rule("dx = dy gathered from the scattered positions").smooth());
const OpInfo& op_concat = register_op(OpDef("concat").backward(concat_backward).rule("dx_i = the slice of dy that x_i filled").smooth());
const OpInfo& op_clone = register_op(OpDef("clone").backward(clone_backward).rule("dx = dy").smooth());
const OpInfo& op_to = register_op(OpDef("to").backward(to_backward).rule("dx = dy converted to x's dtype").smooth());

}  // namespace ops

using namespace ops;

Tensor reshape(const Tensor& x, const Shape& shape) {
  check_defined("reshape", x);
  const std::size_t n = checked_numel("reshape", shape);
  if (n != x.numel())
    fail("reshape: cannot reshape " + describe(x) + " (" + std::to_string(x.numel()) +
         " elements) to " + shape_str(shape) + " (" + std::to_string(n) + " elements)");
  return alias_op(op_reshape, x, shape);
}

Tensor flatten(const Tensor& x) {
  check_defined("flatten", x);
  return reshape(x, {x.numel()});
}

Tensor squeeze(const Tensor& x, std::ptrdiff_t axis) {
  check_defined("squeeze", x);
  std::size_t a = norm_axis("squeeze", axis, x.dim(), x);
  if (x.shape()[a] != 1)
    fail("squeeze: axis " + std::to_string(axis) + " of " + describe(x) + " has size " +
         std::to_string(x.shape()[a]) + ", not 1");
  Shape s = x.shape();
  s.erase(s.begin() + static_cast<std::ptrdiff_t>(a));
  return reshape(x, s);
}

Tensor unsqueeze(const Tensor& x, std::ptrdiff_t axis) {
  check_defined("unsqueeze", x);
  std::size_t a = norm_axis("unsqueeze", axis, x.dim() + 1, x);
  Shape s = x.shape();
  s.insert(s.begin() + static_cast<std::ptrdiff_t>(a), 1);
  return reshape(x, s);
}

Tensor broadcast_to(const Tensor& x, const Shape& shape) {
  check_defined("broadcast_to", x);
  bool ok = shape.size() >= x.dim();
  for (std::size_t off = 1; ok && off <= x.dim(); ++off) {
    std::size_t d = x.shape()[x.dim() - off];
    ok = d == 1 || d == shape[shape.size() - off];
  }
  if (!ok) fail("broadcast_to: cannot broadcast " + describe(x) + " to " + shape_str(shape));
  if (shape == x.shape()) return alias_op(op_reshape, x, shape);
  Tensor out = make_tensor(shape, x.dtype(), "broadcast_to");
  kernels::broadcast_to(x, out);
  record(op_broadcast_to, out, {&x});
  return out;
}

Tensor slice(const Tensor& x, std::ptrdiff_t axis, std::size_t start, std::size_t stop) {
  check_defined("slice", x);
  std::size_t a = norm_axis("slice", axis, x.dim(), x);
  if (start > stop || stop > x.shape()[a])
    fail("slice: range [" + std::to_string(start) + ", " + std::to_string(stop) +
         ") is out of range for axis " + std::to_string(axis) + " of size " +
         std::to_string(x.shape()[a]) + " in " + describe(x));
  Shape s = x.shape();
  s[a] = stop - start;
  Tensor out = make_tensor(s, x.dtype());
  kernels::slice(x, a, start, out);
  if (Node* n = record(op_slice, out, {&x})) {
    n->i0 = static_cast<std::ptrdiff_t>(a);
    n->i1 = static_cast<std::ptrdiff_t>(start);
    n->shape = x.shape();
  }
  return out;
}

Tensor pad_slice(const Tensor& x, std::ptrdiff_t axis, std::size_t start, const Shape& shape) {
  check_defined("pad_slice", x);
  std::size_t a = norm_axis("pad_slice", axis, x.dim(), x);
  // start + size would wrap for a huge start: compare against what is left instead.
  bool ok = shape.size() == x.dim() && x.shape()[a] <= shape[a] && start <= shape[a] - x.shape()[a];
  for (std::size_t k = 0; ok && k < shape.size(); ++k) ok = k == a || shape[k] == x.shape()[k];
  if (!ok)
    fail("pad_slice: " + describe(x) + " does not fit into " + shape_str(shape) + " at " +
         std::to_string(start) + " along axis " + std::to_string(axis));
  Tensor out = make_tensor(shape, x.dtype(), "pad_slice");
  kernels::pad_slice(x, a, start, out);
  if (Node* n = record(op_pad_slice, out, {&x})) {
    n->i0 = static_cast<std::ptrdiff_t>(a);
    n->i1 = static_cast<std::ptrdiff_t>(start);
  }
  return out;
}

Tensor index_select(const Tensor& x, std::ptrdiff_t axis, const std::vector<std::size_t>& index) {
  check_defined("index_select", x);
  std::size_t a = norm_axis("index_select", axis, x.dim(), x);
  check_index("index_select", x, a, index);
  Shape s = x.shape();
  s[a] = index.size();
  Tensor out = make_tensor(s, x.dtype());
  kernels::index_select(x, a, index, out);
  if (Node* n = record(op_index_select, out, {&x})) {
    n->i0 = static_cast<std::ptrdiff_t>(a);
    n->index = index;
    n->shape = x.shape();
  }
  return out;
}

Tensor index_add(const Tensor& src, std::ptrdiff_t axis, const std::vector<std::size_t>& index,
                 const Shape& shape) {
  check_float("index_add", src);
  std::size_t a = norm_axis("index_add", axis, src.dim(), src);
  bool ok = shape.size() == src.dim() && src.shape()[a] == index.size();
  for (std::size_t k = 0; ok && k < shape.size(); ++k) ok = k == a || shape[k] == src.shape()[k];
  if (!ok)
    fail("index_add: " + describe(src) + " with " + std::to_string(index.size()) +
         " indices does not fit into " + shape_str(shape) + " along axis " + std::to_string(axis));
  Tensor out = make_tensor(shape, src.dtype(), "index_add");
  check_index("index_add", out, a, index);
  kernels::index_add(src, a, index, out);
  if (Node* n = record(op_index_add, out, {&src})) {
    n->i0 = static_cast<std::ptrdiff_t>(a);
    n->index = index;
  }
  return out;
}

Tensor gather(const Tensor& x, std::ptrdiff_t axis, const Tensor& index) {
  check_defined("gather", x);
  std::size_t a = norm_axis("gather", axis, x.dim(), x);
  check_gather("gather", x.shape(), a, index, x);
  Tensor out = make_tensor(index.shape(), x.dtype());
  kernels::gather(x, a, index, out);
  if (Node* n = record(op_gather, out, {&x})) {
    n->i0 = static_cast<std::ptrdiff_t>(a);
    n->saved = index;
    n->shape = x.shape();
  }
  return out;
}

Tensor scatter_add(const Tensor& src, std::ptrdiff_t axis, const Tensor& index, const Shape& shape) {
  check_float("scatter_add", src);
  std::size_t a = norm_axis("scatter_add", axis, src.dim(), src);
  if (index.defined() && index.shape() != src.shape())
    fail("scatter_add: index " + describe(index) + " must have the shape of src " + describe(src));
  if (shape.size() != src.dim())
    fail("scatter_add: target shape " + shape_str(shape) + " and src " + describe(src) + " differ in rank");
  check_gather("scatter_add", shape, a, index, src);
  Tensor out = make_tensor(shape, src.dtype(), "scatter_add");
  kernels::scatter_add(src, a, index, out);
  if (Node* n = record(op_scatter_add, out, {&src})) {
    n->i0 = static_cast<std::ptrdiff_t>(a);
    n->saved = index;
  }
  return out;
}

Tensor concat(const std::vector<Tensor>& xs, std::ptrdiff_t axis) {
  if (xs.empty()) fail("concat: needs at least one tensor");
  for (const Tensor& x : xs) check_defined("concat", x);
  const Tensor& first = xs[0];
  std::size_t a = norm_axis("concat", axis, first.dim(), first);
  Shape s = first.shape();
  s[a] = 0;
  for (std::size_t i = 0; i < xs.size(); ++i) {
    const Tensor& x = xs[i];
    bool ok = x.dim() == first.dim() && x.dtype() == first.dtype();
    for (std::size_t k = 0; ok && k < x.dim(); ++k) ok = k == a || x.shape()[k] == first.shape()[k];
    if (!ok)
      fail("concat: tensor " + std::to_string(i) + " " + describe(x) + " does not match tensor 0 " +
           describe(first) + " off axis " + std::to_string(axis));
    s[a] = checked_add("concat", s[a], x.shape()[a], "the size along the axis");
  }
  Tensor out = make_tensor(s, first.dtype(), "concat");
  kernels::concat(xs, a, out);
  if (Node* n = record(op_concat, out, xs)) n->i0 = static_cast<std::ptrdiff_t>(a);
  return out;
}

Tensor stack(const std::vector<Tensor>& xs, std::ptrdiff_t axis) {
  if (xs.empty()) fail("stack: needs at least one tensor");
  for (const Tensor& x : xs) {
    check_defined("stack", x);
    if (x.shape() != xs[0].shape())
      fail("stack: shapes differ: " + describe(xs[0]) + " and " + describe(x));
  }
  std::size_t a = norm_axis("stack", axis, xs[0].dim() + 1, xs[0]);
  std::vector<Tensor> parts;
  parts.reserve(xs.size());
  for (const Tensor& x : xs) parts.push_back(unsqueeze(x, static_cast<std::ptrdiff_t>(a)));
  return concat(parts, static_cast<std::ptrdiff_t>(a));
}

Tensor one_hot(const Tensor& labels, std::size_t classes, Dtype dtype) {
  check_defined("one_hot", labels);
  if (labels.dtype() != int64 || labels.dim() != 1)
    fail("one_hot: labels must be 1-D int64, got " + describe(labels));
  checked_numel("one_hot", {labels.numel(), classes});
  Tensor idx = labels.reshape({labels.numel(), 1});
  check_gather("one_hot", {labels.numel(), classes}, 1, idx, labels);
  return scatter_add(ones({labels.numel(), 1}, dtype), 1, idx, {labels.numel(), classes});
}

Tensor Tensor::clone() const {
  check_defined("clone", *this);
  Tensor out = make_tensor(shape(), dtype());
  kernels::cast(*this, out);
  record(op_clone, out, {this});
  return out;
}

Tensor Tensor::to(Dtype dtype) const {
  check_defined("to", *this);
  if (dtype == this->dtype()) return *this;
  if (dtype == int64) check_int64_values("to", *this);  // NaN or 1e30 as int64 would be UB
  Tensor out = make_tensor(shape(), dtype, "to");
  kernels::cast(*this, out);
  if (is_floating(dtype)) record(op_to, out, {this});
  return out;
}

}  // namespace ag
