// Matrix products and transposes. One primitive, matmul with transpose flags, serves the forward
// and every backward: the gradient of op(A) op(B) is again a product of flagged operands, so no
// transposed copy is ever made.
#include <autograd/ops/common.hpp>

namespace ag {
namespace ops {
namespace {

std::size_t rows(const Tensor& t, bool trans) { return t.shape()[t.dim() - (trans ? 1 : 2)]; }
std::size_t cols(const Tensor& t, bool trans) { return t.shape()[t.dim() - (trans ? 2 : 1)]; }

void matmul_backward(const Node& n, const Tensor& g, Tensor* gi) {
  // C = A' B' with A' = op(A), B' = op(B):  dA' = g B'^T,  dB' = A'^T g.
  Tensor a = n.input(0), b = n.input(1);
  bool ta = n.flag, tb = n.flag2;
  if (n.needs_grad(0)) gi[0] = ta ? matmul_flags(b, g, tb, true) : matmul_flags(g, b, false, !tb);
  if (n.needs_grad(1)) gi[1] = tb ? matmul_flags(g, a, true, ta) : matmul_flags(a, g, !ta, false);
}

void linear_backward(const Node& n, const Tensor& g, Tensor* gi) {  // y = x w^T + b
  if (n.needs_grad(0)) gi[0] = matmul_flags(g, n.input(1), false, false);
  if (n.needs_grad(1)) gi[1] = matmul_flags(g, n.input(0), true, false);
  if (n.needs_grad(2)) gi[2] = sum(g, Axes{0});
}

void transpose_backward(const Node& n, const Tensor& g, Tensor* gi) {
  gi[0] = transpose(g, n.i0, n.i1);
}

}  // namespace

const OpInfo& op_matmul = register_op(OpDef("matmul").backward(matmul_backward).rule("dA = dY B^T, dB = A^T dY").saves_inputs().smooth());
const OpInfo& op_linear = register_op(OpDef("linear").backward(linear_backward).rule("dx = dy W, dW = dy^T x, db = sum_rows(dy)").saves_inputs().smooth());
const OpInfo& op_transpose = register_op(OpDef("transpose").backward(transpose_backward).rule("dx = transpose(dy)").smooth());

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
  if (Node* node = record(op_matmul, out, {&a, &b})) {
    node->flag = ta;
    node->flag2 = tb;
  }
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
  if (Node* n = record(op_transpose, out, {&x})) {
    n->i0 = static_cast<std::ptrdiff_t>(d0);
    n->i1 = static_cast<std::ptrdiff_t>(d1);
  }
  return out;
}

Tensor t(const Tensor& x) {
  check_defined("t", x);
  if (x.dim() > 2) fail("t: needs a tensor of at most 2 dimensions, got " + describe(x) + "; use transpose");
  return x.dim() < 2 ? x : transpose(x, 0, 1);
}

}  // namespace ag
