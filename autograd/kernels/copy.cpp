// Data-movement kernels: any dtype. Most move whole rows with memcpy; the adding ones (index_add,
// scatter_add) dispatch on the element type. Every tensor is contiguous and row-major, so each
// op is "outer x axis x inner" index arithmetic.
#include <cstring>

#include <xtensor/xadapt.hpp>
#include <xtensor/xarray.hpp>
#include <xtensor/xmanipulation.hpp>
#include <xtensor/xnoalias.hpp>
#include <xtensor/xstrided_view.hpp>

#include <autograd/kernels/kernels.hpp>
#include <autograd/kernels/parallel.hpp>

namespace ag::kernels {
namespace {

struct Split {  // a shape seen as {outer, len, inner} around one axis
  std::size_t outer = 1, len = 1, inner = 1;
};
Split split(const Shape& s, std::size_t axis) {
  Split r;
  for (std::size_t k = 0; k < axis; ++k) r.outer *= s[k];
  r.len = s[axis];
  for (std::size_t k = axis + 1; k < s.size(); ++k) r.inner *= s[k];
  return r;
}

const char* bytes(const Tensor& t) { return static_cast<const char*>(t.impl()->data()); }
char* bytes(Tensor& t) { return static_cast<char*>(t.impl()->data()); }

template <class F>
decltype(auto) dispatch(Dtype d, F&& f) {
  switch (d) {
    case Dtype::Float32: return f(float{});
    case Dtype::Float64: return f(double{});
    default: return f(std::int64_t{});
  }
}

// The xtensor view of a contiguous tensor's buffer, for the strided copies below.
template <class T>
auto view(const Tensor& t) {
  return xt::adapt(static_cast<const T*>(t.impl()->data()), t.numel(), xt::no_ownership(),
                   std::vector<std::size_t>(t.shape().begin(), t.shape().end()));
}
template <class T>
auto view(Tensor& t) {
  return xt::adapt(static_cast<T*>(t.impl()->data()), t.numel(), xt::no_ownership(),
                   std::vector<std::size_t>(t.shape().begin(), t.shape().end()));
}

}  // namespace

void fill(Tensor& out, double value) {
  dispatch(out.dtype(), [&](auto zero) {
    using T = decltype(zero);
    T* p = static_cast<T*>(out.impl()->data());
    T v = static_cast<T>(value);
    parallel::for_range(out.numel(), parallel::kGrain,
                        [&](std::size_t b, std::size_t e) { std::fill(p + b, p + e, v); });
  });
}

void cast(const Tensor& x, Tensor& out) {
  dispatch(x.dtype(), [&](auto from) {
    using S = decltype(from);
    dispatch(out.dtype(), [&](auto to) {
      using D = decltype(to);
      const S* src = static_cast<const S*>(x.impl()->data());
      D* dst = static_cast<D*>(out.impl()->data());
      parallel::for_range(x.numel(), parallel::kGrain, [&](std::size_t b, std::size_t e) {
        for (std::size_t i = b; i < e; ++i) dst[i] = static_cast<D>(src[i]);
      });
    });
  });
}

// Strided copies go through xtensor: a transposed or broadcast view assigned to the output.
void transpose(const Tensor& x, std::size_t a0, std::size_t a1, Tensor& out) {
  if (out.numel() == 0) return;
  dispatch(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    std::vector<std::size_t> perm(x.dim());
    for (std::size_t k = 0; k < perm.size(); ++k) perm[k] = k;
    std::swap(perm[a0], perm[a1]);
    auto dst = view<T>(out);
    xt::noalias(dst) = xt::transpose(view<T>(x), perm);
  });
}

void broadcast_to(const Tensor& x, Tensor& out) {
  if (out.numel() == 0) return;
  dispatch(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    auto dst = view<T>(out);
    xt::noalias(dst) = xt::broadcast(view<T>(x), out.shape());
  });
}

// Zero-size tensors return early in every kernel below: a shape such as {2^40, 3, 0} has no
// element, but its outer loop alone would run 2^40 times.
void slice(const Tensor& x, std::size_t axis, std::size_t start, Tensor& out) {
  if (out.numel() == 0) return;
  Split in = split(x.shape(), axis);
  std::size_t es = dtype_size(x.dtype());
  std::size_t row = in.inner * es, count = out.shape()[axis];
  const char* src = bytes(x);
  char* dst = bytes(out);
  for (std::size_t o = 0; o < in.outer; ++o)
    std::memcpy(dst + o * count * row, src + (o * in.len + start) * row, count * row);
}

void pad_slice(const Tensor& x, std::size_t axis, std::size_t start, Tensor& out) {
  fill(out, 0);
  if (x.numel() == 0) return;
  Split o = split(out.shape(), axis);
  std::size_t es = dtype_size(x.dtype());
  std::size_t row = o.inner * es, count = x.shape()[axis];
  const char* src = bytes(x);
  char* dst = bytes(out);
  for (std::size_t i = 0; i < o.outer; ++i)
    std::memcpy(dst + (i * o.len + start) * row, src + i * count * row, count * row);
}

void index_select(const Tensor& x, std::size_t axis, const std::vector<std::size_t>& idx,
                  Tensor& out) {
  if (out.numel() == 0) return;
  Split in = split(x.shape(), axis);
  std::size_t row = in.inner * dtype_size(x.dtype()), m = idx.size();
  const char* src = bytes(x);
  char* dst = bytes(out);
  parallel::for_range(in.outer * m, std::max<std::size_t>(1, parallel::kGrain / (in.inner + 1)),
                      [&](std::size_t b, std::size_t e) {
                        for (std::size_t r = b; r < e; ++r) {
                          std::size_t o = r / m, j = r % m;
                          std::memcpy(dst + r * row, src + (o * in.len + idx[j]) * row, row);
                        }
                      });
}

void index_add(const Tensor& src, std::size_t axis, const std::vector<std::size_t>& idx,
               Tensor& out) {
  fill(out, 0);
  if (src.numel() == 0) return;
  Split o = split(out.shape(), axis);
  std::size_t m = idx.size();
  dispatch(src.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T* s = static_cast<const T*>(src.impl()->data());
    T* d = static_cast<T*>(out.impl()->data());
    for (std::size_t i = 0; i < o.outer; ++i)  // repeated indices add up: run in order
      for (std::size_t j = 0; j < m; ++j) {
        const T* from = s + (i * m + j) * o.inner;
        T* to = d + (i * o.len + idx[j]) * o.inner;
        for (std::size_t k = 0; k < o.inner; ++k) to[k] += from[k];
      }
  });
}

// out[..., i, ...] = x[..., index[..., i, ...], ...] along axis; index has out's shape.
void gather(const Tensor& x, std::size_t axis, const Tensor& idx, Tensor& out) {
  if (out.numel() == 0) return;
  Split xs = split(x.shape(), axis), is = split(idx.shape(), axis);
  const std::int64_t* ip = idx.data_ptr<std::int64_t>();
  dispatch(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T* s = static_cast<const T*>(x.impl()->data());
    T* d = static_cast<T*>(out.impl()->data());
    for (std::size_t o = 0; o < is.outer; ++o)
      for (std::size_t j = 0; j < is.len; ++j)
        for (std::size_t k = 0; k < is.inner; ++k) {
          std::size_t p = (o * is.len + j) * is.inner + k;
          d[p] = s[(o * xs.len + static_cast<std::size_t>(ip[p])) * xs.inner + k];
        }
  });
}

void scatter_add(const Tensor& src, std::size_t axis, const Tensor& idx, Tensor& out) {
  fill(out, 0);
  if (src.numel() == 0) return;
  Split os = split(out.shape(), axis), is = split(idx.shape(), axis);
  const std::int64_t* ip = idx.data_ptr<std::int64_t>();
  dispatch(src.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T* s = static_cast<const T*>(src.impl()->data());
    T* d = static_cast<T*>(out.impl()->data());
    for (std::size_t o = 0; o < is.outer; ++o)
      for (std::size_t j = 0; j < is.len; ++j)
        for (std::size_t k = 0; k < is.inner; ++k) {
          std::size_t p = (o * is.len + j) * is.inner + k;
          d[(o * os.len + static_cast<std::size_t>(ip[p])) * os.inner + k] += s[p];
        }
  });
}

void concat(const std::vector<Tensor>& xs, std::size_t axis, Tensor& out) {
  if (out.numel() == 0) return;
  Split o = split(out.shape(), axis);
  std::size_t es = dtype_size(out.dtype());
  char* dst = bytes(out);
  std::size_t offset = 0;  // along axis
  for (const Tensor& x : xs) {
    std::size_t count = x.shape()[axis], row = o.inner * es;
    const char* src = bytes(x);
    for (std::size_t i = 0; i < o.outer; ++i)
      std::memcpy(dst + (i * o.len + offset) * row, src + i * count * row, count * row);
    offset += count;
  }
}

}  // namespace ag::kernels
