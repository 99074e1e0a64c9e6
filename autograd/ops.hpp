// Differentiable ops on ag::Tensor. Binary ops broadcast by NumPy's rules; the engine sums each
// gradient back down to its input's shape. Derivatives live next to each forward in ops/*.cpp.
#pragma once

#include <autograd/export.hpp>
#include <autograd/tensor.hpp>

AG_API_BEGIN
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
// Element `index` along `axis` (negative from the end), that axis removed; differentiable.
Tensor select(const Tensor& x, std::ptrdiff_t axis, std::int64_t index);
Tensor index_select(const Tensor& x, std::ptrdiff_t axis, const std::vector<std::size_t>& index);
Tensor concat(const std::vector<Tensor>& xs, std::ptrdiff_t axis);
Tensor stack(const std::vector<Tensor>& xs, std::ptrdiff_t axis);

// norms and selection
// The vector p-norm (p = 1, 2 or inf) over `axes` (all when empty), PyTorch's torch.norm; its
// gradient is 0 at 0 for p = 2. norm(x) is the 2-norm of all elements, a 0-d tensor.
Tensor norm(const Tensor& x, double p = 2);
Tensor norm(const Tensor& x, double p, const Axes& axes, bool keepdim = false);
// a where cond is nonzero (NaN counts), else b; cond has any dtype; all three broadcast.
// Differentiable in a and b, which share one dtype.
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);

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

}  // namespace ag
AG_API_END
