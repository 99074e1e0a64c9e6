// Interop with xtensor, both ways, kept out of autograd.hpp so that programs which do not use
// xtensor do not pay for its headers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include <xtensor/xadapt.hpp>
#include <xtensor/xarray.hpp>

#include <autograd/export.hpp>
#include <autograd/tensor.hpp>

AG_API_BEGIN
namespace ag {

/// A tensor holding a row-major copy of `a` (float -> float32, double -> float64,
/// int64_t -> int64).
template <class T>
Tensor from_xarray(const xt::xarray<T>& a) {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double> ||
                    std::is_same_v<T, std::int64_t>,
                "from_xarray: element type must be float, double or int64_t");
  constexpr Dtype dt = std::is_same_v<T, float> ? float32
                       : std::is_same_v<T, double> ? float64
                                                   : int64;
  Tensor out = empty(Shape(a.shape().begin(), a.shape().end()), dt);
  T* dst = out.template data_ptr<T>();
  std::size_t i = 0;
  for (auto it = a.template begin<xt::layout_type::row_major>();
       it != a.template end<xt::layout_type::row_major>(); ++it)
    dst[i++] = *it;
  return out;
}

namespace detail {
template <class T>
void check_view_dtype(const Tensor& t) {
  constexpr Dtype want = std::is_same_v<T, float> ? float32
                         : std::is_same_v<T, double> ? float64
                                                     : int64;
  if (!t.defined()) throw Error("as_xarray: got an undefined tensor");
  if (t.dtype() != want)
    throw Error(std::string("as_xarray: the tensor") +
                (t.name().empty() ? "" : " '" + t.name() + "'") + " is " + shape_str(t.shape()) +
                " " + dtype_name(t.dtype()) + ", not " + dtype_name(want) +
                "; choose the element type that matches, or convert with .to()");
}

// as_xarray for a Tensor or a const Tensor (then the view's elements are const).
template <class T, class TensorRef>
auto adapt_view(TensorRef& t) {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double> ||
                    std::is_same_v<T, std::int64_t>,
                "as_xarray: element type must be float, double or int64_t");
  check_view_dtype<T>(t);
  std::vector<std::size_t> shape(t.shape().begin(), t.shape().end());
  return xt::adapt(t.template data_ptr<T>(), t.numel(), xt::no_ownership(), shape);
}
}  // namespace detail

/// A zero-copy xtensor view (xt::adapt) of the tensor's storage, with its shape, row-major.
/// T must match the dtype (float32 -> float, float64 -> double, int64 -> int64_t), else ag::Error.
/// The view aliases the data: it is valid while the tensor is, and writes through it change the
/// tensor. After writing, call t.bump_version() so that a graph which saved t refuses backward.
template <class T>
auto as_xarray(Tensor& t) {
  return detail::adapt_view<T>(t);
}

/// The read-only form of as_xarray for a const tensor.
template <class T>
auto as_xarray(const Tensor& t) {
  return detail::adapt_view<T>(t);
}

}  // namespace ag
AG_API_END
