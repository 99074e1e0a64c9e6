// ag::linalg: solve, inv, det, slogdet and cholesky of {n, n} or batched {b, n, n} matrices,
// through LAPACK (kernels/lapack.cpp). Their backward rules are the standard matrix-calculus
// ones written with ag ops (matmul, transpose, inv, solve of the op's own output), so they
// differentiate again: second order comes for free.
//   X = solve(A, B):  dB = solve(A^T, dX),       dA = -dB X^T
//   Y = inv(A):       dA = -Y^T dY Y^T
//   d = det(A):       dA = dd d A^-T
//   l = log|det(A)|:  dA = dl A^-T
//   L = cholesky(A):  P = tril(L^T dL) with half its diagonal, S = L^-T P L^-1, dA = (S + S^T) / 2
// Singular or non-positive-definite input throws ag::Error naming the op, the matrix and shape.
// det and slogdet follow PyTorch at a singular matrix (0, and sign 0 with log|det| = -inf);
// their gradient needs A^-1 there and throws.
#include <autograd/ops/common.hpp>

namespace ag {
namespace ops {
namespace {

Tensor mT(const Tensor& x) { return transpose(x, -2, -1); }

// The batch shape with two trailing 1s, to broadcast a per-matrix scalar against matrices.
Tensor per_matrix(const Tensor& s, const Tensor& a) {
  return a.dim() == 3 ? reshape(s, {a.shape()[0], 1, 1}) : reshape(s, {1, 1});
}

void solve_backward(const Node& n, const Tensor& g, Tensor* gi) {
  Tensor gb = linalg::solve(mT(n.input(0)), g);
  if (n.needs_grad(0)) gi[0] = neg(matmul(gb, mT(n.output())));
  if (n.needs_grad(1)) gi[1] = gb;
}
void inv_backward(const Node& n, const Tensor& g, Tensor* gi) {
  Tensor yt = mT(n.output());
  gi[0] = neg(matmul(matmul(yt, g), yt));
}
void det_backward(const Node& n, const Tensor& g, Tensor* gi) {
  Tensor a = n.input(0);
  gi[0] = mul(per_matrix(mul(g, n.output()), a), mT(linalg::inv(a)));
}
void logabsdet_backward(const Node& n, const Tensor& g, Tensor* gi) {
  Tensor a = n.input(0);
  gi[0] = mul(per_matrix(g, a), mT(linalg::inv(a)));
}
// 1 below the diagonal, 1/2 on it, 0 above: Phi of the Cholesky backward, as a constant mask.
Tensor half_tril(std::size_t n, Dtype dtype) {
  std::vector<double> v(n * n, 0.0);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j <= i; ++j) v[i * n + j] = i == j ? 0.5 : 1.0;
  return tensor(std::move(v), {n, n}, dtype);
}
void cholesky_backward(const Node& n, const Tensor& g, Tensor* gi) {
  Tensor l = n.output();
  Tensor linv = linalg::inv(l);
  Tensor phi = mul(matmul(mT(l), g), half_tril(l.shape().back(), l.dtype()));
  Tensor s = matmul(matmul(mT(linv), phi), linv);
  gi[0] = mul(add(s, mT(s)), 0.5);
}

// Gradcheck cases: well-conditioned matrices (a random one plus a multiple of the identity),
// 2-D and batched.
Tensor conditioned(const Tensor& x) { return add(x, mul(eye(x.shape().back(), x.dtype()), 4.0)); }
Tensor spd(const Tensor& x) { return add(matmul(x, mT(x)), eye(x.shape().back(), x.dtype())); }
std::vector<OpCase> solve_cases() {
  auto f = [](const std::vector<Tensor>& v) { return linalg::solve(conditioned(v[0]), v[1]); };
  return {{"2-D", {{{3, 3}}, {{3, 2}}}, f},
          {"vector right-hand side", {{{3, 3}}, {{3}}}, f},
          {"batched", {{{2, 3, 3}}, {{2, 3, 2}}}, f}};
}
std::vector<OpCase> inv_cases() {
  auto f = [](const std::vector<Tensor>& v) { return linalg::inv(conditioned(v[0])); };
  return {{"2-D", {{{3, 3}}}, f}, {"batched", {{{2, 3, 3}}}, f}};
}
std::vector<OpCase> det_cases() {
  auto f = [](const std::vector<Tensor>& v) { return linalg::det(conditioned(v[0])); };
  auto neg_det = [](const std::vector<Tensor>& v) { return linalg::det(neg(conditioned(v[0]))); };
  return {{"2-D", {{{3, 3}}}, f}, {"batched", {{{2, 4, 4}}}, f}, {"negative determinant", {{{3, 3}}}, neg_det}};
}
std::vector<OpCase> slogdet_cases() {
  auto f = [](const std::vector<Tensor>& v) { return linalg::slogdet(neg(conditioned(v[0]))).second; };
  return {{"2-D, negative determinant", {{{3, 3}}}, f}, {"batched", {{{2, 3, 3}}}, f}};
}
std::vector<OpCase> cholesky_cases() {
  // Through A = X X^T + I: cholesky reads only A's lower triangle, and its gradient is the
  // symmetric one, which is what a symmetric parametrisation of A sees.
  auto f = [](const std::vector<Tensor>& v) { return linalg::cholesky(spd(v[0])); };
  return {{"2-D", {{{3, 3}}}, f}, {"batched", {{{2, 4, 4}}}, f}};
}

}  // namespace

const OpInfo& op_linalg_solve = register_op(
    OpDef("linalg_solve").backward(solve_backward)
        .grads({"-solve({0}^T, dy) {y}^T", "solve({0}^T, dy)"}).rule("dB = solve(A^T, dX), dA = -dB X^T")
        .saves_inputs().smooth().cases(solve_cases));
const OpInfo& op_linalg_inv = register_op(
    OpDef("linalg_inv").backward(inv_backward).grads({"-{y}^T dy {y}^T"}).rule("dA = -Y^T dY Y^T").smooth().cases(inv_cases));
const OpInfo& op_linalg_det = register_op(
    OpDef("linalg_det").backward(det_backward).grads({"dy * {y} * {0}^-T"}).rule("dA = dy det(A) A^-T")
        .saves_inputs().smooth().cases(det_cases));
const OpInfo& op_linalg_slogdet = register_op(
    OpDef("linalg_slogdet").backward(logabsdet_backward).grads({"dy * {0}^-T"}).rule("dA = dy A^-T (of log|det A|)")
        .saves_inputs().smooth().cases(slogdet_cases));
const OpInfo& op_linalg_cholesky = register_op(
    OpDef("linalg_cholesky").backward(cholesky_backward)
        .grads({"sym({y}^-T tril_half({y}^T dy) {y}^-1)"})
        .rule("dA = sym(L^-T tril_half(L^T dL) L^-1)").smooth().cases(cholesky_cases));

namespace {

void check_square(const char* op, const Tensor& a) {
  check_float(op, a);
  if ((a.dim() != 2 && a.dim() != 3) || a.shape()[a.dim() - 1] != a.shape()[a.dim() - 2])
    fail(std::string(op) + ": needs a square matrix {n, n} or a batch {b, n, n}, got " + describe(a));
}

void check_status(const char* op, const kernels::LapackStatus& s, const Tensor& a, const char* what) {
  if (s.info == 0) return;
  std::string which = a.dim() == 3 ? "matrix " + std::to_string(s.batch) + " of " : "";
  fail(std::string(op) + ": " + which + describe(a) + " is " + what +
       (s.info > 0 ? " (LAPACK info " + std::to_string(s.info) + ")" : " (the result is not finite)"));
}

}  // namespace
}  // namespace ops

namespace linalg {
using namespace ops;

Tensor solve(const Tensor& a, const Tensor& b) {
  check_square("linalg::solve", a);
  check_same_dtype("linalg::solve", a, b);
  std::size_t n = a.shape().back();
  if (a.dim() == 2 && b.dim() == 1 && b.shape()[0] == n) return squeeze(solve(a, unsqueeze(b, 1)), 1);
  bool fits = b.dim() == a.dim() && b.shape()[b.dim() - 2] == n && (a.dim() == 2 || b.shape()[0] == a.shape()[0]);
  if (!fits)
    fail("linalg::solve: A " + describe(a) + " and B " + describe(b) +
         " do not fit (need B {n}, {n, k}, or {b, n, k} for a batch of A)");
  Tensor out = make_tensor(b.shape(), b.dtype());
  check_status("linalg::solve", kernels::solve(a, b, out), a, "singular");
  record(op_linalg_solve, out, {&a, &b});
  return out;
}

Tensor inv(const Tensor& a) {
  check_square("linalg::inv", a);
  Tensor out = make_tensor(a.shape(), a.dtype());
  check_status("linalg::inv", kernels::inv(a, out), a, "singular");
  record(op_linalg_inv, out, {&a});
  return out;
}

std::pair<Tensor, Tensor> slogdet(const Tensor& a) {
  check_square("linalg::slogdet", a);
  Shape batch = a.dim() == 3 ? Shape{a.shape()[0]} : Shape{};
  Tensor sign = make_tensor(batch, a.dtype()), logabs = make_tensor(batch, a.dtype());
  kernels::slogdet(a, sign, logabs);
  record(op_linalg_slogdet, logabs, {&a});
  return {sign, logabs};
}

Tensor det(const Tensor& a) {
  check_square("linalg::det", a);
  Shape batch = a.dim() == 3 ? Shape{a.shape()[0]} : Shape{};
  Tensor sign = make_tensor(batch, a.dtype()), logabs = make_tensor(batch, a.dtype());
  Tensor out = make_tensor(batch, a.dtype());
  kernels::slogdet(a, sign, logabs, &out);
  record(op_linalg_det, out, {&a});
  return out;
}

Tensor cholesky(const Tensor& a) {
  check_square("linalg::cholesky", a);
  Tensor out = make_tensor(a.shape(), a.dtype());
  check_status("linalg::cholesky", kernels::cholesky(a, out), a, "not positive definite");
  record(op_linalg_cholesky, out, {&a});
  return out;
}

}  // namespace linalg
}  // namespace ag
