// Differentiable ops on ag::Tensor. Binary ops broadcast by NumPy's rules; the engine sums each
// gradient back down to its input's shape. Derivatives live next to each forward in ops/*.cpp.
#pragma once

#include <utility>

#include <autograd/tensor.hpp>

namespace ag {

// elementwise
Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor neg(const Tensor& x);
Tensor pow(const Tensor& x, double p);
Tensor exp(const Tensor& x);
Tensor log(const Tensor& x);
Tensor sqrt(const Tensor& x);
Tensor abs(const Tensor& x);
Tensor sin(const Tensor& x);
Tensor cos(const Tensor& x);
Tensor tanh(const Tensor& x);
Tensor sigmoid(const Tensor& x);
Tensor relu(const Tensor& x);
Tensor leaky_relu(const Tensor& x, double slope = 0.01);
Tensor softplus(const Tensor& x);  // log(1 + e^x); returns x beyond 20, as PyTorch does
Tensor clamp(const Tensor& x, double lo, double hi);
Tensor maximum(const Tensor& a, const Tensor& b);  // a tie splits the gradient in half
Tensor minimum(const Tensor& a, const Tensor& b);
Tensor step(const Tensor& x);  // 1 where x >= 0, else 0; its gradient is zero everywhere

// with a scalar (no tensor is made for the scalar)
Tensor add(const Tensor& a, double b);
Tensor sub(const Tensor& a, double b);
Tensor sub(double a, const Tensor& b);
Tensor mul(const Tensor& a, double b);
Tensor div(const Tensor& a, double b);
Tensor div(double a, const Tensor& b);

Tensor operator+(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& a, const Tensor& b);
Tensor operator*(const Tensor& a, const Tensor& b);
Tensor operator/(const Tensor& a, const Tensor& b);
Tensor operator+(const Tensor& a, double b);
Tensor operator-(const Tensor& a, double b);
Tensor operator*(const Tensor& a, double b);
Tensor operator/(const Tensor& a, double b);
Tensor operator+(double a, const Tensor& b);
Tensor operator-(double a, const Tensor& b);
Tensor operator*(double a, const Tensor& b);
Tensor operator/(double a, const Tensor& b);
Tensor operator-(const Tensor& x);

// reductions
Tensor sum(const Tensor& x);
Tensor sum(const Tensor& x, const Axes& axes, bool keepdim = false);
Tensor mean(const Tensor& x);
Tensor mean(const Tensor& x, const Axes& axes, bool keepdim = false);
Tensor max(const Tensor& x, std::ptrdiff_t axis, bool keepdim = false);
Tensor min(const Tensor& x, std::ptrdiff_t axis, bool keepdim = false);
Tensor logsumexp(const Tensor& x, std::ptrdiff_t axis, bool keepdim = false);
Tensor argmax(const Tensor& x, std::ptrdiff_t axis);  // int64, not differentiable

// linear algebra
Tensor matmul(const Tensor& a, const Tensor& b);  // 1-D, 2-D, and batched 3-D
Tensor t(const Tensor& x);                        // 2-D transpose
Tensor transpose(const Tensor& x, std::ptrdiff_t a0, std::ptrdiff_t a1);

// shape
Tensor reshape(const Tensor& x, const Shape& shape);
Tensor flatten(const Tensor& x);
Tensor squeeze(const Tensor& x, std::ptrdiff_t axis);
Tensor unsqueeze(const Tensor& x, std::ptrdiff_t axis);
Tensor broadcast_to(const Tensor& x, const Shape& shape);
Tensor slice(const Tensor& x, std::ptrdiff_t axis, std::size_t start, std::size_t stop);
Tensor index_select(const Tensor& x, std::ptrdiff_t axis, const std::vector<std::size_t>& index);
Tensor concat(const std::vector<Tensor>& xs, std::ptrdiff_t axis);
Tensor stack(const std::vector<Tensor>& xs, std::ptrdiff_t axis);

// statistics (PyTorch's semantics: correction 1 is the unbiased estimate; N - correction <= 0
// divides by 0, giving inf or NaN as PyTorch does)
Tensor var(const Tensor& x, const Axes& axes = {}, std::int64_t correction = 1, bool keepdim = false);
Tensor stddev(const Tensor& x, const Axes& axes = {}, std::int64_t correction = 1, bool keepdim = false);

// convolution and pooling (NCHW; a {C, H, W} input is one sample)
struct Size2 {  // a 2-D extent: Size2(3) is {3, 3}; Size2{2, 1} is 2 along H, 1 along W
  std::size_t h = 1, w = 1;
  Size2(std::size_t both) : h(both), w(both) {}  // NOLINT: implicit, as LibTorch's ExpandingArray
  Size2(std::size_t height, std::size_t width) : h(height), w(width) {}
};
// x {N, C, H, W}, w {out, C / groups, kh, kw}, b {out} or undefined.
Tensor conv2d(const Tensor& x, const Tensor& w, const Tensor& b = Tensor(), Size2 stride = 1,
              Size2 padding = 0, Size2 dilation = 1, std::size_t groups = 1);
// Windows of `kernel`; stride 0 (the default) means stride = kernel, as PyTorch's None does.
// Padding is at most half the kernel; max pooling never picks it, average pooling counts it.
Tensor max_pool2d(const Tensor& x, Size2 kernel, Size2 stride = 0, Size2 padding = 0);
Tensor avg_pool2d(const Tensor& x, Size2 kernel, Size2 stride = 0, Size2 padding = 0);

// normalised
Tensor softmax(const Tensor& x, std::ptrdiff_t axis);
Tensor log_softmax(const Tensor& x, std::ptrdiff_t axis);

// Beyond the contract table; used by the losses and by backward formulas.
// gather: out[i][j] = x[i][index[i][j]] along `axis` (PyTorch's gather); index is int64.
Tensor gather(const Tensor& x, std::ptrdiff_t axis, const Tensor& index);
// scatter_add: zeros(shape) with src added at index along axis; the adjoint of gather.
Tensor scatter_add(const Tensor& src, std::ptrdiff_t axis, const Tensor& index, const Shape& shape);
// index_add: zeros(shape) with the rows of src added at `index` along axis; adjoint of index_select.
Tensor index_add(const Tensor& src, std::ptrdiff_t axis, const std::vector<std::size_t>& index,
                 const Shape& shape);
// pad_slice: zeros(shape) with x placed at [start, start + x.size(axis)) along axis; adjoint of slice.
Tensor pad_slice(const Tensor& x, std::ptrdiff_t axis, std::size_t start, const Shape& shape);
// Masks of 0/1 in x's dtype; not differentiable (their gradient is zero almost everywhere).
Tensor gt(const Tensor& a, const Tensor& b);
Tensor ge(const Tensor& a, const Tensor& b);
Tensor eq(const Tensor& a, const Tensor& b);
Tensor gt(const Tensor& a, double b);
Tensor ge(const Tensor& a, double b);
Tensor le(const Tensor& a, double b);
Tensor sign(const Tensor& x);  // -1, 0 or 1; not differentiable
// one_hot: float {N, classes} from int64 labels {N}.
Tensor one_hot(const Tensor& labels, std::size_t classes, Dtype dtype = float32);
// Fused backward ops of sigmoid and tanh, from the saved result y: g * y * (1 - y), g * (1 - y^2).
// First-class ops so that their own gradients (second order) exist.
Tensor sigmoid_backward(const Tensor& g, const Tensor& y);
Tensor tanh_backward(const Tensor& g, const Tensor& y);
// op(a) op(b), op = transpose where the flag is set; 2-D or batched 3-D. What matmul's backward uses.
Tensor matmul_flags(const Tensor& a, const Tensor& b, bool trans_a, bool trans_b);
// linear(x, w, b) = x w^T + b as one GEMM; b may be undefined.
Tensor linear(const Tensor& x, const Tensor& w, const Tensor& b);

// Linear algebra through LAPACK, on {n, n} matrices or batches {b, n, n}; float32 or float64.
// Singular (solve, inv) or non-positive-definite (cholesky) input throws ag::Error.
namespace linalg {
Tensor solve(const Tensor& a, const Tensor& b);  // X with A X = B; B {n}, {n, k} or {b, n, k}
Tensor inv(const Tensor& a);
Tensor det(const Tensor& a);                     // 0 for a singular matrix, as PyTorch
std::pair<Tensor, Tensor> slogdet(const Tensor& a);  // (sign, log|det|); singular: (0, -inf)
Tensor cholesky(const Tensor& a);                // lower L with A = L L^T; reads A's lower triangle
}  // namespace linalg

}  // namespace ag
