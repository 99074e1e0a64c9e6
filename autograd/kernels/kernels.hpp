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
};

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

inline namespace AG_SIMD_NS {
#include <autograd/kernels/simd_kernels.inc>
}  // namespace AG_SIMD_NS

}  // namespace ag::kernels
