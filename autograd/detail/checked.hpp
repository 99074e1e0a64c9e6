// Internal: checked size arithmetic. Every path that turns user-supplied numbers into a shape,
// an element count, a byte count or a bounds check goes through these, so an overflow is an
// ag::Error naming the op and the shape instead of a wrapped count and a wild write.
#pragma once

#include <cstddef>
#include <string>

#include <autograd/tensor.hpp>

namespace ag {

// The most elements (and bytes) a tensor may have: what a signed 64-bit index reaches, as in
// PyTorch. A dimension of size 0 makes the tensor empty, but the other dimensions must still
// multiply within this bound (strides are computed from them).
inline constexpr std::size_t kMaxElements = static_cast<std::size_t>(PTRDIFF_MAX);

// a * b and a + b, or false on overflow.
inline bool mul_fits(std::size_t a, std::size_t b, std::size_t* out) {
  return !__builtin_mul_overflow(a, b, out);
}
inline bool add_fits(std::size_t a, std::size_t b, std::size_t* out) {
  return !__builtin_add_overflow(a, b, out);
}

// The element count of `shape`; throws "<op>: shape {..} has more than 2^63 - 1 elements".
std::size_t checked_numel(const char* op, const Shape& shape);
// The byte count of a tensor of `shape` and `dtype` (checked as above, and in bytes).
std::size_t checked_nbytes(const char* op, const Shape& shape, Dtype dtype);
// a + b, or throws "<op>: <what> overflows (a + b)".
std::size_t checked_add(const char* op, std::size_t a, std::size_t b, const char* what);
// a * b, or throws "<op>: <what> overflows (a * b)".
std::size_t checked_mul(const char* op, std::size_t a, std::size_t b, const char* what);

// Converting NaN, an infinity or a value outside [-2^63, 2^63) to int64 is undefined behaviour:
// these throw "<op>: value <v> cannot be converted to int64" instead (PyTorch's rule too).
inline bool fits_int64(double v) { return v >= -0x1p63 && v < 0x1p63; }
void check_int64_value(const char* op, double v);
void check_int64_values(const char* op, const Tensor& t);  // every value of a float tensor

}  // namespace ag
