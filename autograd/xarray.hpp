// Interop with xtensor, kept out of autograd.hpp so that programs which do not use xtensor do
// not pay for its headers.
#pragma once

#include <cstdint>
#include <type_traits>
#include <vector>

#include <xtensor/xarray.hpp>

#include <autograd/export.hpp>
#include <autograd/tensor.hpp>

AG_API_BEGIN
namespace ag {

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

}  // namespace ag
AG_API_END
