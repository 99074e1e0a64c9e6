// Internal: what every op file needs — argument checks with good messages, and the helpers that
// turn a forward into a recorded node.
#pragma once

#include <algorithm>
#include <string>
#include <vector>

#include <autograd/detail/checked.hpp>
#include <autograd/detail/impl.hpp>
#include <autograd/engine.hpp>
#include <autograd/kernels/kernels.hpp>
#include <autograd/ops.hpp>

namespace ag::ops {

inline void check_defined(const char* op, const Tensor& t) {
  if (!t.defined()) fail(std::string(op) + ": got an undefined tensor");
}

// Arithmetic needs a float dtype; int64 is for labels and indices. Every op checks each input,
// so the test is inline (no accessor calls) and the message is built only when it fails.
inline void check_float(const char* op, const Tensor& t) {
  if (__builtin_expect(t.defined() && t.impl()->dtype != int64, 1)) return;  // float32, float64
  check_defined(op, t);
  fail(std::string(op) + ": needs a float32 or float64 tensor, got " + describe(t) +
       "; convert it with .to(ag::float32)");
}

inline void check_same_dtype(const char* op, const Tensor& a, const Tensor& b) {
  check_float(op, a);
  check_float(op, b);
  if (a.impl()->dtype != b.impl()->dtype)
    fail(std::string(op) + ": dtypes differ: " + describe(a) + " and " + describe(b) +
         "; convert one with .to()");
}

// A possibly negative axis, checked against `ndim`.
inline std::size_t norm_axis(const char* op, std::ptrdiff_t axis, std::size_t ndim,
                             const Tensor& t) {
  std::ptrdiff_t d = static_cast<std::ptrdiff_t>(ndim);
  std::ptrdiff_t a = axis < 0 ? axis + d : axis;
  if (a < 0 || a >= d)
    fail(std::string(op) + ": axis " + std::to_string(axis) + " is out of range for " +
         describe(t) + " (valid: " + std::to_string(-d) + " to " + std::to_string(d - 1) + ")");
  return static_cast<std::size_t>(a);
}

// Normalised, sorted, unique axes; empty means every axis.
inline std::vector<std::size_t> norm_axes(const char* op, const Axes& axes, const Tensor& x) {
  std::vector<std::size_t> out;
  if (axes.empty()) {
    for (std::size_t k = 0; k < x.dim(); ++k) out.push_back(k);
    return out;
  }
  for (std::ptrdiff_t a : axes) out.push_back(norm_axis(op, a, x.dim(), x));
  std::sort(out.begin(), out.end());
  if (std::adjacent_find(out.begin(), out.end()) != out.end())
    fail(std::string(op) + ": an axis appears twice in the axes of " + describe(x));
  return out;
}

// x's shape with the reduced axes kept as size 1.
inline Shape kept_shape(const Shape& x, const std::vector<std::size_t>& axes) {
  Shape k = x;
  for (std::size_t a : axes) k[a] = 1;
  return k;
}

// Whether record() has work for an op on x: a node to make, or anomaly mode's check of the
// output. Lets a forward skip building attributes (copying an index list) that nothing keeps.
inline bool recording(const Tensor& x) {
  return is_anomaly_enabled() || (is_grad_enabled() && x.defined() && x.requires_grad());
}

inline Shape broadcast_shape(const char* op, const Tensor& a, const Tensor& b) {
  if (a.shape() == b.shape()) return copy_shape(a.shape());  // a recycled buffer
  Shape s;
  try {
    s = kernels::broadcast_shapes(a.shape(), b.shape());
  } catch (const std::invalid_argument&) {
    fail(std::string(op) + ": shapes " + shape_str(a.shape()) + " and " + shape_str(b.shape()) +
         " do not broadcast (" + describe(a) + ", " + describe(b) + ")");
  }
  checked_numel(op, s);  // {n, 1} with {1, m}: each is small, n * m may overflow
  return s;
}

}  // namespace ag::ops
