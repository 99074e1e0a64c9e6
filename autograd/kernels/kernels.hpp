// Internal: the numeric kernels under the ops. Plain functions over contiguous tensors; the
// ops above them own shapes, dtypes, errors and the graph. Implemented with xsimd (vector math),
// TBB (through parallel.hpp) and OpenBLAS, in separate .cpp files to keep builds short.
#pragma once

#include <autograd/detail/tensor_impl.hpp>

namespace ag::kernels {

enum class Unary {
  Neg, Exp, Log, Sqrt, Abs, Sin, Cos, Tanh, Sigmoid, Relu, Step, Sign, Softplus,
  LeakyRelu,             // a = slope
  Clamp,                 // a = lo, b = hi
  Pow,                   // a = exponent
  AddScalar, MulScalar,  // x + a, x * a
  RSubScalar,            // a - x
  DivScalar, RDivScalar, // x / a, a / x
  GtScalar, GeScalar, LeScalar,  // 0/1 masks against a
  ClampMask,             // 1 where lo <= x <= hi
};
void unary(Unary op, const Tensor& x, Tensor& out, double a = 0, double b = 0);

enum class Binary {
  Add, Sub, Mul, Div, Maximum, Minimum,
  Gt, Ge, Eq,                       // 0/1 masks
  MaxGrad,                          // 1 where a > b, 0.5 where a == b, else 0
  SigmoidBackward,                  // a * b * (1 - b): grad, sigmoid result
  TanhBackward,                     // a * (1 - b * b): grad, tanh result
};
Shape broadcast_shapes(const Shape& a, const Shape& b);  // throws plain std::invalid_argument
void binary(Binary op, const Tensor& a, const Tensor& b, Tensor& out);  // out has the broadcast shape

// Sums x over the axes marked in `reduce` (one flag per axis) into out (numel = product of kept).
void sum(const Tensor& x, const std::vector<bool>& reduce, Tensor& out);
// Max (or min) along one axis: values and int64 indices, each of shape x.shape minus that axis.
void max_along(const Tensor& x, std::size_t axis, bool is_max, Tensor* values, Tensor* indices);
void log_softmax_along(const Tensor& x, std::size_t axis, Tensor& out);

// C = op(A) op(B) for 2-D (m, k) x (k, n), or batched 3-D where a batch of 1 broadcasts.
void matmul(const Tensor& a, const Tensor& b, bool trans_a, bool trans_b, Tensor& out);
// out = x w^T + bias (bias may be undefined): one GEMM onto a broadcast bias.
void linear(const Tensor& x, const Tensor& w, const Tensor& bias, Tensor& out);

// Data movement: any dtype.
void fill(Tensor& out, double value);
void cast(const Tensor& x, Tensor& out);  // converts dtype; same numel
void transpose(const Tensor& x, std::size_t a0, std::size_t a1, Tensor& out);
void broadcast_to(const Tensor& x, Tensor& out);
void slice(const Tensor& x, std::size_t axis, std::size_t start, Tensor& out);
void pad_slice(const Tensor& x, std::size_t axis, std::size_t start, Tensor& out);  // out zeroed first
void index_select(const Tensor& x, std::size_t axis, const std::vector<std::size_t>& idx, Tensor& out);
void index_add(const Tensor& src, std::size_t axis, const std::vector<std::size_t>& idx, Tensor& out);
void gather(const Tensor& x, std::size_t axis, const Tensor& idx, Tensor& out);
void scatter_add(const Tensor& src, std::size_t axis, const Tensor& idx, Tensor& out);
void concat(const std::vector<Tensor>& xs, std::size_t axis, Tensor& out);

bool all_finite(const Tensor& x);
// In place: y += alpha * x (same numel), y *= s.
void axpy(double alpha, const Tensor& x, Tensor& y);
void scale(Tensor& y, double s);

}  // namespace ag::kernels
