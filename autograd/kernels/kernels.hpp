// Internal: the numeric kernels under the ops. Plain functions over contiguous tensors; the
// ops above them own shapes, dtypes, errors and the graph. Implemented with xsimd (vector math),
// TBB (through parallel.hpp) and OpenBLAS, in separate .cpp files to keep builds short.
#pragma once

#include <autograd/detail/tensor_impl.hpp>

// The kernels in simd_kernels.inc (elementwise.cpp, reduce.cpp, blas.cpp) are compiled once per
// instruction set on x86-64, each copy in its own namespace (isa_sse2, isa_avx2, ...), and
// dispatch.cpp picks one copy at run time. Code outside those files sees the namespace
// `isa_dispatch` (the forwarders); AG_NATIVE builds and other CPUs compile one copy, `native`.
#ifndef AG_SIMD_NS
#define AG_SIMD_NS native
#endif

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

enum class Binary {
  Add, Sub, Mul, Div, Maximum, Minimum,
  Gt, Ge, Eq,                       // 0/1 masks
  MaxGrad,                          // 1 where a > b, 0.5 where a == b, else 0
  SigmoidBackward,                  // a * b * (1 - b): grad, sigmoid result
  TanhBackward,                     // a * (1 - b * b): grad, tanh result
  ReluBackward,                     // a * [b > 0]: grad, relu input (one pass, no mask tensor)
};

// 2-D convolution geometry (NCHW): input {n, c, h, w}, weight {o, c / groups, kh, kw},
// output {n, o, oh, ow}; s* stride, p* padding, d* dilation.
struct ConvGeom {
  std::size_t n, c, h, w, o, kh, kw, oh, ow, sh, sw, ph, pw, dh, dw, groups;
};
// y = conv(x, w) + b (b may be undefined); dx = the input gradient of dy (a transposed
// convolution); dw = the weight gradient of dy, summed over the batch.
void conv2d_forward(const Tensor& x, const Tensor& w, const Tensor& b, const ConvGeom& g, Tensor& y);
void conv2d_input_grad(const Tensor& dy, const Tensor& w, const ConvGeom& g, Tensor& dx);
void conv2d_weight_grad(const Tensor& x, const Tensor& dy, const ConvGeom& g, Tensor& dw);

// Pooling geometry: `planes` = n * c planes of h x w, windows kh x kw, output oh x ow.
struct PoolGeom {
  std::size_t planes, h, w, kh, kw, oh, ow, sh, sw, ph, pw;
};
// Max over each window (padding never wins); indices: the flat h * w position of each maximum.
void max_pool2d(const Tensor& x, const PoolGeom& p, Tensor& y, Tensor& indices);
// Mean over each window, padding counted in the divisor; and its adjoint.
void avg_pool2d(const Tensor& x, const PoolGeom& p, Tensor& y);
void avg_pool2d_backward(const Tensor& dy, const PoolGeom& p, Tensor& dx);

// LAPACK on {n, n} or batched {b, n, n} float matrices. A status names the first matrix of the
// batch that failed: info > 0 is a zero pivot (singular) or a non-positive leading minor (not
// positive definite); -1 a result that is not finite (numerically singular).
struct LapackStatus {
  std::size_t batch = 0;
  int info = 0;
};
LapackStatus inv(const Tensor& a, Tensor& out);
LapackStatus solve(const Tensor& a, const Tensor& b, Tensor& out);  // b {n, k} or {b, n, k}
// sign, log|det| and (when det is given) det itself; singular: (0, -inf, 0).
void slogdet(const Tensor& a, Tensor& sign, Tensor& logabs, Tensor* det = nullptr);
LapackStatus cholesky(const Tensor& a, Tensor& out);                // lower L, A = L L^T

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

// One optimizer step's settings (optim/optim.cpp). SGD: first is the first step of a momentum
// buffer (PyTorch takes g undamped then). Adam: step_size = lr / (1 - beta1^t),
// bc2_sqrt = sqrt(1 - beta2^t); decoupled is AdamW's weight decay.
struct SgdUpdate {
  double lr, momentum, dampening, weight_decay;
  bool nesterov, first;
};
struct AdamUpdate {
  double lr, beta1, beta2, eps, weight_decay, step_size, bc2_sqrt;
  bool decoupled;
};

inline namespace AG_SIMD_NS {
#include <autograd/kernels/simd_kernels.inc>
}  // namespace AG_SIMD_NS

}  // namespace ag::kernels
