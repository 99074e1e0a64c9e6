// where(cond, a, b): a where cond is nonzero, b elsewhere; cond, a and b broadcast together.
// Differentiable in a and b (cond only selects); the gradient goes to the side that was chosen.
#include <cstdint>

#include <autograd/ops/cases.hpp>
#include <autograd/ops/common.hpp>

namespace ag {
namespace ops {
namespace {

// The choice, kept for backward: 1 where cond is nonzero (NaN counts), in a's dtype and cond's
// shape. A float mask of a's dtype is what the backward's own where() call takes as cond.
struct WhereAttrs {
  Tensor mask;
};
AttrList where_attributes(const Node& n) { return {{"cond", describe(n.attrs<WhereAttrs>().mask)}}; }

// dy goes to a where cond holds and to b elsewhere: where() again, so it has gradients too.
void where_backward(const Node& n, const Tensor& g, Tensor* gi) {
  const Tensor& mask = n.attrs<WhereAttrs>().mask;
  Tensor zero = zeros({}, g.dtype());
  if (n.needs_grad(0)) gi[0] = where(mask, g, zero);
  if (n.needs_grad(1)) gi[1] = where(mask, zero, g);
}

// 1 where cond is nonzero, else 0, in `dtype`. Any cond dtype: through float64, where every
// nonzero int64 stays nonzero.
Tensor nonzero_mask(const Tensor& cond, Dtype dtype) {
  Tensor c = make_tensor(cond.shape(), float64, "where");
  kernels::cast(cond, c);
  Tensor mask = make_tensor(cond.shape(), float64, "where");
  const double* pc = c.data_ptr<double>();
  double* pm = mask.data_ptr<double>();
  for (std::size_t i = 0; i < c.numel(); ++i) pm[i] = pc[i] != 0 ? 1.0 : 0.0;
  return dtype == float64 ? mask : mask.to(dtype).detach();
}

Tensor expanded(const Tensor& t, const Shape& shape) {
  if (t.shape() == shape) return t;
  Tensor out = make_tensor(shape, t.dtype(), "where");
  kernels::broadcast_to(t, out);
  return out;
}

template <class T>
void select(const Tensor& mask, const Tensor& a, const Tensor& b, Tensor& out) {
  const T *pm = mask.data_ptr<T>(), *pa = a.data_ptr<T>(), *pb = b.data_ptr<T>();
  T* po = out.data_ptr<T>();
  for (std::size_t i = 0; i < out.numel(); ++i) po[i] = pm[i] != T(0) ? pa[i] : pb[i];
}

Shape where_shape(const Tensor& cond, const Tensor& a, const Tensor& b) {
  try {
    return kernels::broadcast_shapes(cond.shape(), kernels::broadcast_shapes(a.shape(), b.shape()));
  } catch (const std::invalid_argument&) {
    fail("where: shapes " + shape_str(cond.shape()) + ", " + shape_str(a.shape()) + " and " +
         shape_str(b.shape()) + " do not broadcast (cond " + describe(cond) + ", a " +
         describe(a) + ", b " + describe(b) + ")");
  }
}

}  // namespace

using namespace cases;

const OpInfo& op_where = register_op(OpDef("where").backward(where_backward)
    .rule("da = dy where cond holds, db = dy elsewhere")
    .grads({"where({cond}, dy, 0)", "where({cond}, 0, dy)"}).smooth()
    .attrs<WhereAttrs>().attributes(where_attributes)
    .cases([] {
      Tensor c23 = tensor({0, 1.5, -2, 0, 0, 3}, {2, 3});
      Tensor c3 = tensor({1, 0, 7}, {3}, int64);
      return std::vector<OpCase>{
          {"same shape", {A({2, 3}), A({2, 3})}, [c23](auto& x) { return where(c23, x[0], x[1]); }},
          {"int64 cond broadcast", {A({2, 3}), A({2, 3})}, [c3](auto& x) { return where(c3, x[0], x[1]); }},
          {"a and b broadcast", {A({2, 1}), A({3})}, [c23](auto& x) { return where(c23, x[0], x[1]); }},
          {"0-d b", {A({2, 3}), A({})}, [c23](auto& x) { return where(c23, x[0], x[1]) * x[0]; }}};
    }));

}  // namespace ops

using namespace ops;

Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  check_defined("where", cond);
  check_defined("where", a);
  check_defined("where", b);
  if (a.dtype() != b.dtype())
    fail("where: a and b must have one dtype, got a " + describe(a) + " and b " + describe(b));
  Shape shape = where_shape(cond, a, b);
  Tensor mask = nonzero_mask(cond.detach(), a.dtype() == int64 ? float64 : a.dtype());
  Tensor out = make_tensor(shape, a.dtype(), "where");
  Tensor m = expanded(mask, shape);
  if (a.dtype() == int64) {
    Tensor m64 = m.to(int64);
    select<std::int64_t>(m64, expanded(a, shape), expanded(b, shape), out);
    return out;
  }
  if (a.dtype() == float32)
    select<float>(m, expanded(a, shape), expanded(b, shape), out);
  else
    select<double>(m, expanded(a, shape), expanded(b, shape), out);
  record(op_where, out, {&a, &b}, WhereAttrs{mask});
  return out;
}

}  // namespace ag
