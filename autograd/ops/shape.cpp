// Shape and data-movement ops. Each comes with its adjoint: slice and pad_slice, index_select and
// index_add, gather and scatter_add undo each other's shapes, so every backward is one op and
// gradients of gradients come for free. These ops also move int64 data (never differentiated).
#include <autograd/ops/cases.hpp>
#include <autograd/ops/common.hpp>

namespace ag {
namespace ops {
namespace {

// Per-op settings. Input shapes are not stored: backward reads them with n.input_shape(i).
struct SliceAttrs {  // slice and pad_slice: where the slice sits
  std::size_t axis, start;
};
struct IndexAttrs {  // index_select and index_add
  std::size_t axis;
  std::vector<std::size_t> index;
};
struct GatherAttrs {  // gather and scatter_add: the int64 index tensor
  std::size_t axis;
  Tensor index;
};
struct ConcatAttrs {
  std::size_t axis;
};
std::ptrdiff_t signed_axis(std::size_t axis) { return static_cast<std::ptrdiff_t>(axis); }

AttrList slice_attributes(const Node& n) {
  const SliceAttrs& a = n.attrs<SliceAttrs>();
  return {{"axis", std::to_string(a.axis)}, {"start", std::to_string(a.start)}};
}
AttrList index_attributes(const Node& n) {
  const IndexAttrs& a = n.attrs<IndexAttrs>();
  return {{"axis", std::to_string(a.axis)}, {"index", attr_text(a.index)}};
}
AttrList gather_attributes(const Node& n) {
  const GatherAttrs& a = n.attrs<GatherAttrs>();
  return {{"axis", std::to_string(a.axis)}, {"index", describe(a.index)}};
}
Tensor gather_index(const Node& n) { return n.attrs<GatherAttrs>().index; }
AttrList concat_attributes(const Node& n) {
  return {{"axis", std::to_string(n.attrs<ConcatAttrs>().axis)}};
}

void reshape_backward(const Node& n, const Tensor& g, Tensor* gi) {
  gi[0] = reshape(g, n.input_shape(0));
}
// The engine sums a gradient back down to its input's shape: broadcast_to needs nothing more.
void broadcast_backward(const Node&, const Tensor& g, Tensor* gi) { gi[0] = g; }
void slice_backward(const Node& n, const Tensor& g, Tensor* gi) {
  const SliceAttrs& a = n.attrs<SliceAttrs>();
  gi[0] = pad_slice(g, signed_axis(a.axis), a.start, n.input_shape(0));
}
void pad_slice_backward(const Node& n, const Tensor& g, Tensor* gi) {
  const SliceAttrs& a = n.attrs<SliceAttrs>();
  gi[0] = slice(g, signed_axis(a.axis), a.start, a.start + n.input_shape(0)[a.axis]);
}
void index_select_backward(const Node& n, const Tensor& g, Tensor* gi) {
  const IndexAttrs& a = n.attrs<IndexAttrs>();
  gi[0] = index_add(g, signed_axis(a.axis), a.index, n.input_shape(0));
}
void index_add_backward(const Node& n, const Tensor& g, Tensor* gi) {
  const IndexAttrs& a = n.attrs<IndexAttrs>();
  gi[0] = index_select(g, signed_axis(a.axis), a.index);
}
void gather_backward(const Node& n, const Tensor& g, Tensor* gi) {
  const GatherAttrs& a = n.attrs<GatherAttrs>();
  gi[0] = scatter_add(g, signed_axis(a.axis), a.index, n.input_shape(0));
}
void scatter_add_backward(const Node& n, const Tensor& g, Tensor* gi) {
  const GatherAttrs& a = n.attrs<GatherAttrs>();
  gi[0] = gather(g, signed_axis(a.axis), a.index);
}
void concat_backward(const Node& n, const Tensor& g, Tensor* gi) {
  std::size_t axis = n.attrs<ConcatAttrs>().axis, offset = 0;
  for (std::size_t i = 0; i < n.num_inputs(); ++i) {
    std::size_t len = n.input_shape(i)[axis];
    if (n.needs_grad(i)) gi[i] = slice(g, signed_axis(axis), offset, offset + len);
    offset += len;
  }
}
void clone_backward(const Node&, const Tensor& g, Tensor* gi) { gi[0] = g; }
void to_backward(const Node& n, const Tensor& g, Tensor* gi) { gi[0] = g.to(n.input_dtype(0)); }

// Differentiable shape ops need a float dtype when they record; int64 passes through unrecorded.
Tensor alias_op(const OpInfo& op, const Tensor& x, Shape shape) {
  Tensor out = alias(x, std::move(shape));
  record(op, out, {&x});
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

using namespace cases;

// ---- entries: rule, per-input formulas ({0}, {1} inputs, {y} output, dy, {attr}), cases -------
const OpInfo& op_reshape = register_op(OpDef("reshape").backward(reshape_backward)
    .rule("dx = reshape(dy, shape of x)").grads({"reshape(dy, shape({0}))"}).smooth()
    .cases([] {
      return std::vector<OpCase>{
          {"2x3 to 3x2", {A({2, 3})}, [](auto& x) { return reshape(x[0], {3, 2}) * x[0].reshape({3, 2}); }},
          {"flatten", {A({2, 3})}, [](auto& x) { return flatten(x[0]); }},
          {"squeeze", {A({2, 1, 3})}, [](auto& x) { return squeeze(x[0], -2); }},
          {"unsqueeze", {A({2, 3})}, [](auto& x) { return unsqueeze(x[0], -1) * 2.0; }}};
    }));
const OpInfo& op_broadcast_to = register_op(OpDef("broadcast_to").backward(broadcast_backward)
    .rule("dx = dy summed over the broadcast axes").grads({"dy summed to shape({0})"}).smooth()
    .cases([] {
      return std::vector<OpCase>{
          {"to 3-D", {A({3, 1})}, [](auto& x) { return broadcast_to(x[0], {2, 3, 4}); }},
          {"from 0-d", {A({})}, [](auto& x) { return broadcast_to(x[0], {2, 2}); }}};
    }));
const OpInfo& op_slice = register_op(OpDef("slice").backward(slice_backward)
    .rule("dx = dy placed back at the slice, 0 elsewhere")
    .grads({"pad_slice(dy, {axis}, {start}, shape({0}))"}).smooth()
    .attrs<SliceAttrs>().attributes(slice_attributes)
    .cases([] {
      return std::vector<OpCase>{
          {"axis 0", {A({4, 3})}, [](auto& x) { return slice(x[0], 0, 1, 3); }},
          {"axis -1", {A({2, 4})}, [](auto& x) { return slice(x[0], -1, 0, 2); }}};
    }));
const OpInfo& op_pad_slice = register_op(OpDef("pad_slice").backward(pad_slice_backward)
    .rule("dx = dy at the placed slice")
    .grads({"slice(dy, {axis}, {start}, {start} + shape({0})[{axis}])"}).smooth()
    .attrs<SliceAttrs>().attributes(slice_attributes)
    .cases([] {
      return std::vector<OpCase>{
          {"axis 0", {A({2, 3})}, [](auto& x) { return pad_slice(x[0], 0, 1, {5, 3}); }},
          {"axis -1", {A({2, 1})}, [](auto& x) { return pad_slice(x[0], -1, 2, {2, 3}); }}};
    }));
const OpInfo& op_index_select = register_op(OpDef("index_select").backward(index_select_backward)
    .rule("dx = dy added back at the chosen indices")
    .grads({"index_add(dy, {axis}, {index}, shape({0}))"}).smooth()
    .attrs<IndexAttrs>().attributes(index_attributes)
    .cases([] {
      return std::vector<OpCase>{
          {"repeated rows", {A({4, 3})}, [](auto& x) { return index_select(x[0], 0, {3, 0, 3}); }},
          {"axis -1", {A({2, 3})}, [](auto& x) { return index_select(x[0], -1, {2, 0}); }}};
    }));
const OpInfo& op_index_add = register_op(OpDef("index_add").backward(index_add_backward)
    .rule("dx = dy at the indices").grads({"index_select(dy, {axis}, {index})"}).smooth()
    .attrs<IndexAttrs>().attributes(index_attributes)
    .cases([] {
      return std::vector<OpCase>{{"repeated rows", {A({3, 2})},
                                  [](auto& x) { return index_add(x[0], 0, {1, 1, 0}, {4, 2}); }}};
    }));
const OpInfo& op_gather = register_op(OpDef("gather").backward(gather_backward)
    .rule("dx = dy scattered (added) back to the gathered positions")
    .grads({"scatter_add(dy, {axis}, {index}, shape({0}))"}).smooth()
    .attrs<GatherAttrs>().attributes(gather_attributes).index(gather_index)
    .cases([] {
      Tensor i = idx({1, 3, 0, 0, 2, 1}, {3, 2});
      return std::vector<OpCase>{
          {"axis 1", {A({3, 4})}, [i](auto& x) { return gather(x[0], 1, i); }},
          {"axis 0", {A({4, 2})}, [](auto& x) { return gather(x[0], 0, idx({3, 0, 1, 1}, {2, 2})); }}};
    }));
const OpInfo& op_scatter_add = register_op(OpDef("scatter_add").backward(scatter_add_backward)
    .rule("dx = dy gathered from the scattered positions")
    .grads({"gather(dy, {axis}, {index})"}).smooth()
    .attrs<GatherAttrs>().attributes(gather_attributes).index(gather_index)
    .cases([] {
      Tensor i = idx({1, 3, 0, 0, 2, 1}, {3, 2});
      return std::vector<OpCase>{
          {"axis 1", {A({3, 2})}, [i](auto& x) { return scatter_add(x[0], 1, i, {3, 4}); }},
          {"collisions", {A({2, 2})},
           [](auto& x) { return scatter_add(x[0], -1, idx({1, 1, 0, 0}, {2, 2}), {2, 3}); }}};
    }));
const OpInfo& op_concat = register_op(OpDef("concat").backward(concat_backward)
    .rule("dx_i = the slice of dy that x_i filled")
    .grads({"slice(dy, {axis}, offset({i}), offset({i}) + shape({i})[{axis}])"}).smooth()
    .attrs<ConcatAttrs>().attributes(concat_attributes)
    .cases([] {
      return std::vector<OpCase>{
          {"axis 0", {A({2, 3}), A({1, 3})}, [](auto& x) { return concat({x[0], x[1]}, 0); }},
          {"axis -1, three", {A({2, 1}), A({2, 2}), A({2, 3})},
           [](auto& x) { return concat({x[0], x[1], x[2]}, -1); }}};
    }));
const OpInfo& op_clone = register_op(OpDef("clone").backward(clone_backward)
    .rule("dx = dy").grads({"dy"}).smooth()
    .cases([] { return unary_cases([](auto& x) { return x.clone() * x; }); }));
const OpInfo& op_to = register_op(OpDef("to").backward(to_backward)
    .rule("dx = dy converted to x's dtype").grads({"dy.to(dtype({0}))"}).smooth()
    .cases([] {
      // float64 -> float32 -> float64 rounds to float32: differences need a coarser step.
      return std::vector<OpCase>{{"through float32", {A({2, 3})},
                                  [](auto& x) { return x[0].to(float32).to(float64); },
                                  1e-2, 1e-4, 1e-3}};
    }));

}  // namespace ops

using namespace ops;

// The shape with its one ag::infer dimension (if any) filled in from x's element count.
static Shape inferred_shape(const Tensor& x, Shape shape) {
  std::size_t at = shape.size(), known = 1;
  for (std::size_t k = 0; k < shape.size(); ++k) {
    if (shape[k] != infer) {
      known *= shape[k];
    } else if (at != shape.size()) {
      fail("reshape: only one dimension can be ag::infer, got two in the new shape for " +
           describe(x));
    } else {
      at = k;
    }
  }
  if (at == shape.size()) return shape;
  if (known == 0 || x.numel() % known != 0)
    fail("reshape: cannot infer a dimension: " + describe(x) + " has " +
         std::to_string(x.numel()) + " elements, not a multiple of the " + std::to_string(known) +
         " given by the other dimensions");
  shape[at] = x.numel() / known;
  return shape;
}

Tensor reshape(const Tensor& x, const Shape& new_shape) {
  check_defined("reshape", x);
  Shape shape = inferred_shape(x, new_shape);
  const std::size_t n = checked_numel("reshape", shape);
  if (n != x.numel())
    fail("reshape: cannot reshape " + describe(x) + " (" + std::to_string(x.numel()) +
         " elements) to " + shape_str(shape) + " (" + std::to_string(n) + " elements)");
  return alias_op(op_reshape, x, shape);
}

Tensor select(const Tensor& x, std::ptrdiff_t axis, std::int64_t index) {
  check_defined("select", x);
  std::size_t a = norm_axis("select", axis, x.dim(), x);
  std::int64_t n = static_cast<std::int64_t>(x.shape()[a]);
  std::int64_t i = index < 0 ? index + n : index;
  if (i < 0 || i >= n)
    fail("select: index " + std::to_string(index) + " is out of range for axis " +
         std::to_string(axis) + " of " + describe(x) + " (valid: " + std::to_string(-n) + " to " +
         std::to_string(n - 1) + ")");
  Shape s = x.shape();
  s.erase(s.begin() + static_cast<std::ptrdiff_t>(a));
  auto u = static_cast<std::size_t>(i);
  return reshape(slice(x, axis, u, u + 1), s);  // a composite: slice's backward pads with zeros
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
  record(op_slice, out, {&x}, SliceAttrs{a, start});
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
  record(op_pad_slice, out, {&x}, SliceAttrs{a, start});
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
  if (recording(x)) record(op_index_select, out, {&x}, IndexAttrs{a, index});
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
  if (recording(src)) record(op_index_add, out, {&src}, IndexAttrs{a, index});
  return out;
}

Tensor gather(const Tensor& x, std::ptrdiff_t axis, const Tensor& index) {
  check_defined("gather", x);
  std::size_t a = norm_axis("gather", axis, x.dim(), x);
  check_gather("gather", x.shape(), a, index, x);
  Tensor out = make_tensor(index.shape(), x.dtype());
  kernels::gather(x, a, index, out);
  record(op_gather, out, {&x}, GatherAttrs{a, index});
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
  record(op_scatter_add, out, {&src}, GatherAttrs{a, index});
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
  record(op_concat, out, xs, ConcatAttrs{a});
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
