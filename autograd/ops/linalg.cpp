// Matrix products and transposes. One primitive, matmul with transpose flags, serves the forward
// and every backward: the gradient of op(A) op(B) is again a product of flagged operands, so no
// transposed copy is ever made.
#include <autograd/ops/cases.hpp>
#include <autograd/ops/common.hpp>

namespace ag {
namespace ops {
namespace {

std::size_t rows(const Tensor& t, bool trans) { return t.shape()[t.dim() - (trans ? 1 : 2)]; }
std::size_t cols(const Tensor& t, bool trans) { return t.shape()[t.dim() - (trans ? 2 : 1)]; }

// matmul: whether each operand is multiplied transposed; transpose: the two swapped axes.
struct MatmulAttrs {
  bool trans_a, trans_b;
};
struct TransposeAttrs {
  std::size_t axis0, axis1;
};
AttrList matmul_attributes(const Node& n) {
  const MatmulAttrs& a = n.attrs<MatmulAttrs>();
  return {{"trans_a", attr_text(a.trans_a)}, {"trans_b", attr_text(a.trans_b)}};
}
AttrList transpose_attributes(const Node& n) {
  const TransposeAttrs& a = n.attrs<TransposeAttrs>();
  return {{"axis0", std::to_string(a.axis0)}, {"axis1", std::to_string(a.axis1)}};
}

void matmul_backward(const Node& n, const Tensor& g, Tensor* gi) {
  // C = A' B' with A' = op(A), B' = op(B):  dA' = g B'^T,  dB' = A'^T g.
  Tensor a = n.input(0), b = n.input(1);
  bool ta = n.attrs<MatmulAttrs>().trans_a, tb = n.attrs<MatmulAttrs>().trans_b;
  if (n.needs_grad(0)) gi[0] = ta ? matmul_flags(b, g, tb, true) : matmul_flags(g, b, false, !tb);
  if (n.needs_grad(1)) gi[1] = tb ? matmul_flags(g, a, true, ta) : matmul_flags(a, g, !ta, false);
}

void linear_backward(const Node& n, const Tensor& g, Tensor* gi) {  // y = x w^T + b
  if (n.needs_grad(0)) gi[0] = matmul_flags(g, n.input(1), false, false);
  if (n.needs_grad(1)) gi[1] = matmul_flags(g, n.input(0), true, false);
  if (n.needs_grad(2)) gi[2] = sum(g, Axes{0});
}

void transpose_backward(const Node& n, const Tensor& g, Tensor* gi) {
  const TransposeAttrs& a = n.attrs<TransposeAttrs>();
  gi[0] = transpose(g, static_cast<std::ptrdiff_t>(a.axis0), static_cast<std::ptrdiff_t>(a.axis1));
}

}  // namespace

using namespace cases;

// ---- entries: rule, per-input formulas ({0}, {1} inputs, {y} output, dy, {attr}), cases -------
// matmul's formulas are for untransposed operands; with trans_a / trans_b (matmul_flags, what
// backward itself uses) the same holds for the operands as multiplied, transposed back.
const OpInfo& op_matmul = register_op(OpDef("matmul").backward(matmul_backward)
    .rule("dA = dY B^T, dB = A^T dY").grads({"dy @ {1}^T", "{0}^T @ dy"})
    .saves_inputs().smooth().attrs<MatmulAttrs>().attributes(matmul_attributes)
    .cases([] {
      auto mm = [](auto& x) { return matmul(x[0], x[1]); };
      return std::vector<OpCase>{
          {"2-D", {A({2, 3}), A({3, 4})}, mm},
          {"vector-matrix", {A({3}), A({3, 2})}, mm},
          {"matrix-vector", {A({2, 3}), A({3})}, mm},
          {"vector-vector", {A({3}), A({3})}, mm},
          {"batched", {A({2, 2, 3}), A({2, 3, 2})}, mm},
          {"batched with 2-D", {A({2, 2, 3}), A({3, 2})}, mm},
          {"2-D with batched", {A({2, 3}), A({2, 3, 2})}, mm},
          {"batch of 1 broadcasts", {A({1, 2, 3}), A({3, 3, 2})}, mm},
          {"transposed flags", {A({3, 2}), A({4, 3})},
           [](auto& x) { return matmul_flags(x[0], x[1], true, true); }}};
    }));
const OpInfo& op_linear = register_op(OpDef("linear").backward(linear_backward)
    .rule("dx = dy W, dW = dy^T x, db = sum_rows(dy)")
    .grads({"dy @ {1}", "dy^T @ {0}", "sum(dy, 0)"}).saves_inputs().smooth()
    .cases([] {
      auto with_bias = [](auto& x) { return linear(x[0], x[1], x[2]); };
      return std::vector<OpCase>{
          {"with bias", {A({4, 3}), A({2, 3}), A({2})}, with_bias},
          {"without bias", {A({4, 3}), A({2, 3})}, [](auto& x) { return linear(x[0], x[1], Tensor()); }},
          {"one sample", {A({1, 3}), A({5, 3}), A({5})}, with_bias}};
    }));
const OpInfo& op_transpose = register_op(OpDef("transpose").backward(transpose_backward)
    .rule("dx = transpose(dy)").grads({"transpose(dy, {axis0}, {axis1})"}).smooth()
    .attrs<TransposeAttrs>().attributes(transpose_attributes)
    .cases([] {
      return std::vector<OpCase>{
          {"axes 0, 2", {A({2, 3, 4})}, [](auto& x) { return transpose(x[0], 0, 2); }},
          {"t", {A({2, 3})}, [](auto& x) { return t(x[0]); }},
          {"negative axes", {A({2, 3, 4})}, [](auto& x) { return transpose(x[0], -1, -2); }}};
    }));

}  // namespace ops

using namespace ops;

// op(a) op(b) for 2-D or 3-D operands (a batch of 1, or a 2-D operand, broadcasts).
Tensor matmul_flags(const Tensor& a, const Tensor& b, bool ta, bool tb) {
  check_same_dtype("matmul", a, b);
  if (a.dim() < 2 || a.dim() > 3 || b.dim() < 2 || b.dim() > 3)
    fail("matmul: needs 2-D or 3-D operands here, got " + describe(a) + " and " + describe(b));
  std::size_t m = rows(a, ta), k = cols(a, ta), k2 = rows(b, tb), n = cols(b, tb);
  std::size_t batch_a = a.dim() == 3 ? a.shape()[0] : 1, batch_b = b.dim() == 3 ? b.shape()[0] : 1;
  if (k != k2)
    fail("matmul: shapes " + shape_str(a.shape()) + " and " + shape_str(b.shape()) +
         " do not line up (" + std::to_string(k) + " != " + std::to_string(k2) + ") (" +
         describe(a) + ", " + describe(b) + ")");
  if (batch_a != batch_b && batch_a != 1 && batch_b != 1)
    fail("matmul: batch sizes " + std::to_string(batch_a) + " and " + std::to_string(batch_b) +
         " differ (" + describe(a) + ", " + describe(b) + ")");
  Shape out_shape{m, n};
  if (a.dim() == 3 || b.dim() == 3) out_shape.insert(out_shape.begin(), std::max(batch_a, batch_b));
  Tensor out = make_tensor(out_shape, a.dtype(), "matmul");  // k = 0 allows any m, n
  kernels::matmul(a, b, ta, tb, out);
  record(op_matmul, out, {&a, &b}, MatmulAttrs{ta, tb});
  return out;
}

Tensor matmul(const Tensor& a, const Tensor& b) {
  check_same_dtype("matmul", a, b);
  for (const Tensor* t : {&a, &b})
    if (t->dim() < 1 || t->dim() > 3)
      fail("matmul: needs 1-D, 2-D or 3-D operands, got " + describe(a) + " and " + describe(b));
  // A vector is a one-row (left) or one-column (right) matrix whose extra axis is dropped after.
  if (a.dim() == 1 && b.dim() == 1 && a.numel() != b.numel())
    fail("matmul: shapes " + shape_str(a.shape()) + " and " + shape_str(b.shape()) +
         " do not line up (" + std::to_string(a.numel()) + " != " + std::to_string(b.numel()) +
         ") (" + describe(a) + ", " + describe(b) + ")");
  Tensor a2 = a.dim() == 1 ? unsqueeze(a, 0) : a;
  Tensor b2 = b.dim() == 1 ? unsqueeze(b, 1) : b;
  Tensor out = matmul_flags(a2, b2, false, false);
  if (b.dim() == 1) out = squeeze(out, -1);
  if (a.dim() == 1) out = squeeze(out, b.dim() == 1 ? 0 : -2);
  return out;
}

Tensor linear(const Tensor& x, const Tensor& w, const Tensor& b) {
  check_same_dtype("linear", x, w);
  if (b.defined()) check_same_dtype("linear", x, b);
  if (w.dim() != 2 || x.dim() < 1 || x.shape().back() != w.shape()[1] ||
      (b.defined() && (b.dim() != 1 || b.shape()[0] != w.shape()[0])))
    fail("linear: input " + describe(x) + ", weight " + describe(w) + " and bias " + describe(b) +
         " do not fit (need input {N, in}, weight {out, in}, bias {out})");
  if (x.dim() != 2) {  // 1-D or batched inputs: the same math, through matmul
    Tensor y = matmul(x, t(w));
    return b.defined() ? add(y, b) : y;
  }
  Tensor out = make_tensor({x.shape()[0], w.shape()[0]}, x.dtype(), "linear");
  kernels::linear(x, w, b, out);
  record(op_linear, out, {&x, &w, &b});
  return out;
}

Tensor transpose(const Tensor& x, std::ptrdiff_t a0, std::ptrdiff_t a1) {
  check_defined("transpose", x);
  std::size_t d0 = norm_axis("transpose", a0, x.dim(), x);
  std::size_t d1 = norm_axis("transpose", a1, x.dim(), x);
  Shape s = x.shape();
  std::swap(s[d0], s[d1]);
  Tensor out = make_tensor(s, x.dtype());
  kernels::transpose(x, d0, d1, out);
  record(op_transpose, out, {&x}, TransposeAttrs{d0, d1});
  return out;
}

Tensor t(const Tensor& x) {
  check_defined("t", x);
  if (x.dim() > 2) fail("t: needs a tensor of at most 2 dimensions, got " + describe(x) + "; use transpose");
  return x.dim() < 2 ? x : transpose(x, 0, 1);
}

}  // namespace ag
