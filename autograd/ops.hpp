// Differentiable ops on ag::Tensor. Binary ops broadcast by NumPy's rules; the engine sums each
// gradient back down to its input's shape. Derivatives live next to each forward in ops/*.cpp.
#pragma once

#include <autograd/export.hpp>
#include <utility>

#include <autograd/tensor.hpp>

AG_API_BEGIN
namespace ag {

// ---- elementwise
Tensor add(const Tensor& a, const Tensor& b);  ///< a + b
Tensor sub(const Tensor& a, const Tensor& b);  ///< a - b
Tensor mul(const Tensor& a, const Tensor& b);  ///< a * b, elementwise
Tensor div(const Tensor& a, const Tensor& b);  ///< a / b, elementwise
Tensor neg(const Tensor& x);  ///< -x
Tensor pow(const Tensor& x, double p);  ///< x^p (exact for integer p and negative x)
Tensor exp(const Tensor& x);  ///< e^x
Tensor log(const Tensor& x);  ///< natural logarithm
Tensor sqrt(const Tensor& x);  ///< square root
Tensor abs(const Tensor& x);  ///< |x|; gradient 0 at 0
Tensor sin(const Tensor& x);  ///< sine
Tensor cos(const Tensor& x);  ///< cosine
Tensor tanh(const Tensor& x);  ///< hyperbolic tangent
Tensor sigmoid(const Tensor& x);  ///< 1 / (1 + e^-x)
Tensor relu(const Tensor& x);  ///< max(x, 0); NaN stays NaN
Tensor leaky_relu(const Tensor& x, double slope = 0.01);  ///< x where x > 0, else slope * x
Tensor softplus(const Tensor& x);  ///< log(1 + e^x); returns x beyond 20, as PyTorch does
Tensor clamp(const Tensor& x, double lo, double hi);  ///< x limited to [lo, hi]; gradient 1 inside
Tensor maximum(const Tensor& a, const Tensor& b);  ///< a tie splits the gradient in half
Tensor minimum(const Tensor& a, const Tensor& b);  ///< elementwise min; a tie splits the gradient
Tensor step(const Tensor& x);  ///< 1 where x >= 0, else 0; its gradient is zero everywhere

// ---- with a scalar (no tensor is made for the scalar)
Tensor add(const Tensor& a, double b);  ///< a + b for a scalar b
Tensor sub(const Tensor& a, double b);  ///< a - b for a scalar b
Tensor sub(double a, const Tensor& b);  ///< a - b for a scalar a
Tensor mul(const Tensor& a, double b);  ///< a * b for a scalar b
Tensor div(const Tensor& a, double b);  ///< a / b for a scalar b
Tensor div(double a, const Tensor& b);  ///< a / b for a scalar a

Tensor operator+(const Tensor& a, const Tensor& b);  ///< add(a, b)
Tensor operator-(const Tensor& a, const Tensor& b);  ///< sub(a, b)
Tensor operator*(const Tensor& a, const Tensor& b);  ///< mul(a, b)
Tensor operator/(const Tensor& a, const Tensor& b);  ///< div(a, b)
Tensor operator+(const Tensor& a, double b);  ///< add(a, b)
Tensor operator-(const Tensor& a, double b);  ///< sub(a, b)
Tensor operator*(const Tensor& a, double b);  ///< mul(a, b)
Tensor operator/(const Tensor& a, double b);  ///< div(a, b)
Tensor operator+(double a, const Tensor& b);  ///< add(b, a)
Tensor operator-(double a, const Tensor& b);  ///< sub(a, b)
Tensor operator*(double a, const Tensor& b);  ///< mul(b, a)
Tensor operator/(double a, const Tensor& b);  ///< div(a, b)
Tensor operator-(const Tensor& x);  ///< neg(x)

// ---- reductions
Tensor sum(const Tensor& x);  ///< sum of all elements (a 0-d tensor)
Tensor sum(const Tensor& x, const Axes& axes, bool keepdim = false);  ///< sum over axes
Tensor mean(const Tensor& x);  ///< mean of all elements
Tensor mean(const Tensor& x, const Axes& axes, bool keepdim = false);  ///< mean over axes
Tensor max(const Tensor& x, std::ptrdiff_t axis, bool keepdim = false);  ///< maximum along an axis; ties share the gradient
Tensor min(const Tensor& x, std::ptrdiff_t axis, bool keepdim = false);  ///< minimum along an axis
Tensor logsumexp(const Tensor& x, std::ptrdiff_t axis, bool keepdim = false);  ///< log(sum(exp(x))) along an axis, max-shifted
Tensor argmax(const Tensor& x, std::ptrdiff_t axis);  ///< int64, not differentiable

// ---- linear algebra
Tensor matmul(const Tensor& a, const Tensor& b);  ///< 1-D, 2-D, and batched 3-D
Tensor t(const Tensor& x);                        ///< 2-D transpose
Tensor transpose(const Tensor& x, std::ptrdiff_t a0, std::ptrdiff_t a1);  ///< swaps two axes

/// shape
Tensor reshape(const Tensor& x, const Shape& shape);  ///< same elements, new shape
Tensor flatten(const Tensor& x);  ///< 1-D, row-major
Tensor squeeze(const Tensor& x, std::ptrdiff_t axis);  ///< removes a size-1 axis
Tensor unsqueeze(const Tensor& x, std::ptrdiff_t axis);  ///< inserts a size-1 axis
Tensor broadcast_to(const Tensor& x, const Shape& shape);  ///< NumPy broadcasting to shape
Tensor slice(const Tensor& x, std::ptrdiff_t axis, std::size_t start, std::size_t stop);  ///< [start, stop) along axis
/// Element `index` along `axis` (negative from the end), that axis removed; differentiable.
Tensor select(const Tensor& x, std::ptrdiff_t axis, std::int64_t index);
Tensor index_select(const Tensor& x, std::ptrdiff_t axis, const std::vector<std::size_t>& index);  ///< the entries at index along axis
Tensor concat(const std::vector<Tensor>& xs, std::ptrdiff_t axis);  ///< joins along an existing axis
Tensor stack(const std::vector<Tensor>& xs, std::ptrdiff_t axis);  ///< joins along a new axis

// norms and selection
/// The vector p-norm (p = 1, 2 or inf) over `axes` (all when empty), PyTorch's torch.norm; its
/// gradient is 0 at 0 for p = 2. norm(x) is the 2-norm of all elements, a 0-d tensor.
Tensor norm(const Tensor& x, double p = 2);
Tensor norm(const Tensor& x, double p, const Axes& axes, bool keepdim = false);  ///< over axes
/// a where cond is nonzero (NaN counts), else b; cond has any dtype; all three broadcast.
/// Differentiable in a and b, which share one dtype.
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);
// statistics (PyTorch's semantics: correction 1 is the unbiased estimate; N - correction <= 0
// divides by 0, giving inf or NaN as PyTorch does)
/// The variance over axes (all when empty): sum((x - mean)^2) / (N - correction).
Tensor var(const Tensor& x, const Axes& axes = {}, std::int64_t correction = 1,
           bool keepdim = false);
/// sqrt(var(x, axes, correction, keepdim)), PyTorch's torch.std.
Tensor stddev(const Tensor& x, const Axes& axes = {}, std::int64_t correction = 1,
              bool keepdim = false);

// convolution and pooling (NCHW; a {C, H, W} input is one sample)
/// A 2-D extent: Size2(3) is {3, 3}; Size2{2, 1} is 2 along H, 1 along W.
struct Size2 {
  std::size_t h = 1;  ///< along H
  std::size_t w = 1;  ///< along W
  /// {both, both}; implicit, as LibTorch's ExpandingArray.
  Size2(std::size_t both) : h(both), w(both) {}  // NOLINT
  Size2(std::size_t height, std::size_t width) : h(height), w(width) {}  ///< {height, width}
};
/// 2-D cross-correlation, as torch.nn.functional.conv2d:
/// x {N, C, H, W}, w {out, C / groups, kh, kw}, b {out} or undefined.
Tensor conv2d(const Tensor& x, const Tensor& w, const Tensor& b = Tensor(), Size2 stride = 1,
              Size2 padding = 0, Size2 dilation = 1, std::size_t groups = 1);
/// The maximum of each window of `kernel`; stride 0 (the default) means stride = kernel, as
/// PyTorch's None does. Padding is at most half the kernel; max pooling never picks it.
Tensor max_pool2d(const Tensor& x, Size2 kernel, Size2 stride = 0, Size2 padding = 0);
/// The mean of each window, as max_pool2d's windows; padding counts as zeros in the mean.
Tensor avg_pool2d(const Tensor& x, Size2 kernel, Size2 stride = 0, Size2 padding = 0);

// normalised
Tensor softmax(const Tensor& x, std::ptrdiff_t axis);
Tensor log_softmax(const Tensor& x, std::ptrdiff_t axis);

/// normalised
Tensor softmax(const Tensor& x, std::ptrdiff_t axis);  ///< exp(x) / sum(exp(x)) along axis
Tensor log_softmax(const Tensor& x, std::ptrdiff_t axis);  ///< x - logsumexp(x) along axis, in one pass

// ---- beyond the contract table; used by the losses and by backward formulas
/// gather: out[i][j] = x[i][index[i][j]] along `axis` (PyTorch's gather); index is int64.
Tensor gather(const Tensor& x, std::ptrdiff_t axis, const Tensor& index);
/// scatter_add: zeros(shape) with src added at index along axis; the adjoint of gather.
Tensor scatter_add(const Tensor& src, std::ptrdiff_t axis, const Tensor& index, const Shape& shape);
/// index_add: zeros(shape) with the rows of src added at `index` along axis; adjoint of index_select.
Tensor index_add(const Tensor& src, std::ptrdiff_t axis, const std::vector<std::size_t>& index,
                 const Shape& shape);
/// pad_slice: zeros(shape) with x placed at [start, start + x.size(axis)) along axis; adjoint of slice.
Tensor pad_slice(const Tensor& x, std::ptrdiff_t axis, std::size_t start, const Shape& shape);
/// 1 where a > b, else 0, in a's dtype; the masks below are not differentiable.
Tensor gt(const Tensor& a, const Tensor& b);
Tensor ge(const Tensor& a, const Tensor& b);  ///< 1 where a >= b
Tensor eq(const Tensor& a, const Tensor& b);  ///< 1 where a == b
Tensor gt(const Tensor& a, double b);  ///< 1 where a > b
Tensor ge(const Tensor& a, double b);  ///< 1 where a >= b
Tensor le(const Tensor& a, double b);  ///< 1 where a <= b
Tensor sign(const Tensor& x);  ///< -1, 0 or 1; not differentiable
/// one_hot: float {N, classes} from int64 labels {N}.
Tensor one_hot(const Tensor& labels, std::size_t classes, Dtype dtype = float32);
/// Fused backward ops of sigmoid and tanh from the saved result y: g * y * (1 - y) here, and
/// tanh_backward below. First-class ops so that their own gradients (second order) exist.
Tensor sigmoid_backward(const Tensor& g, const Tensor& y);
Tensor tanh_backward(const Tensor& g, const Tensor& y);  ///< g * (1 - y^2)
/// op(a) op(b), op = transpose where the flag is set; 2-D or batched 3-D. What matmul's backward uses.
Tensor matmul_flags(const Tensor& a, const Tensor& b, bool trans_a, bool trans_b);
/// linear(x, w, b) = x w^T + b as one GEMM; b may be undefined.
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
AG_API_END
