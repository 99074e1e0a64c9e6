// Convolution and pooling kernels (NCHW). A convolution is im2col + one GEMM per group and block
// of samples: the samples' receptive fields become the columns of a [C/g * kh * kw, nb * OH * OW]
// matrix, and the weights [O/g, C/g * kh * kw] multiply it. The input gradient is the transposed GEMM
// followed by col2im (im2col's adjoint, which adds overlapping fields back); the weight gradient
// is G cols^T summed over the batch.
//
// Threading: samples are split over TBB's threads, each with its own column buffer, and every
// GEMM runs single-threaded inside its task (OpenBLAS is pinned to one thread, see blas.cpp).
// The weight gradient sums one partial result per chunk, in chunk order.
#include <algorithm>
#include <cstdint>
#include <type_traits>
#include <vector>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include <cblas.h>
#include <tbb/parallel_for.h>

#include <autograd/kernels/conv_dnnl.hpp>
#include <autograd/kernels/kernels.hpp>
#include <autograd/kernels/parallel.hpp>

namespace ag::kernels {
namespace {

// Below this many multiply-adds for the whole batch, one thread does all samples: a worker
// wake-up costs more than the work.
constexpr std::size_t kConvParallelFlops = std::size_t(1) << 21;

void gemm(bool ta, bool tb, std::size_t m, std::size_t n, std::size_t k, const float* a,
          std::size_t lda, const float* b, std::size_t ldb, float beta, float* c, std::size_t ldc) {
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, int(m),
              int(n), int(k), 1.0f, a, int(lda), b, int(ldb), beta, c, int(ldc));
}
void gemm(bool ta, bool tb, std::size_t m, std::size_t n, std::size_t k, const double* a,
          std::size_t lda, const double* b, std::size_t ldb, double beta, double* c,
          std::size_t ldc) {
  cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, int(m),
              int(n), int(k), 1.0, a, int(lda), b, int(ldb), beta, c, int(ldc));
}

std::size_t out_len(const ConvGeom& g) { return g.oh * g.ow; }
std::size_t col_rows(const ConvGeom& g) { return g.c * g.kh * g.kw; }
// The output columns [lo, hi) whose input column ow * stride + off lies inside [0, size).
void valid_range(std::ptrdiff_t off, std::size_t stride, std::size_t size, std::size_t out,
                 std::size_t& lo, std::size_t& hi) {
  std::ptrdiff_t s = static_cast<std::ptrdiff_t>(stride), n = static_cast<std::ptrdiff_t>(size);
  std::ptrdiff_t first = off >= 0 ? 0 : (-off + s - 1) / s;
  std::ptrdiff_t last = off >= n ? -1 : (n - 1 - off) / s;  // inclusive
  lo = static_cast<std::size_t>(std::min<std::ptrdiff_t>(first, static_cast<std::ptrdiff_t>(out)));
  hi = static_cast<std::size_t>(
      std::clamp<std::ptrdiff_t>(last + 1, static_cast<std::ptrdiff_t>(lo), static_cast<std::ptrdiff_t>(out)));
}

// cols[(c, ki, kj), (oh, ow)] = x[c, oh * sh - ph + ki * dh, ow * sw - pw + kj * dw], 0 outside;
// each row of cols starts `ld` elements after the previous one (a block of samples sits side by
// side). With `add`, the adjoint: x[...] += cols[...] (col2im; x must start zeroed).
template <class T, bool add>
void im2col_or_back(const ConvGeom& g, T* x, T* cols, std::size_t ld) {
  std::size_t len = out_len(g);
  for (std::size_t c = 0; c < g.c; ++c)
    for (std::size_t ki = 0; ki < g.kh; ++ki)
      for (std::size_t kj = 0; kj < g.kw; ++kj) {
        T* row = cols + ((c * g.kh + ki) * g.kw + kj) * ld;
        std::ptrdiff_t hoff = std::ptrdiff_t(ki * g.dh) - std::ptrdiff_t(g.ph);
        std::ptrdiff_t woff = std::ptrdiff_t(kj * g.dw) - std::ptrdiff_t(g.pw);
        std::size_t h_lo, h_hi, w_lo, w_hi;
        valid_range(hoff, g.sh, g.h, g.oh, h_lo, h_hi);
        valid_range(woff, g.sw, g.w, g.ow, w_lo, w_hi);
        if (!add) std::fill(row, row + h_lo * g.ow, T(0));
        for (std::size_t oh = h_lo; oh < h_hi; ++oh) {
          T* s = x + (c * g.h + std::size_t(std::ptrdiff_t(oh * g.sh) + hoff)) * g.w +
                 (std::ptrdiff_t(w_lo * g.sw) + woff);
          T* dst = row + oh * g.ow;
          if (add) {
            for (std::size_t ow = w_lo; ow < w_hi; ++ow, s += g.sw) *s += dst[ow];
            continue;
          }
          std::fill(dst, dst + w_lo, T(0));
          if (g.sw == 1)  // rows are short (tens of elements): a loop beats a memcpy call
            for (std::size_t ow = w_lo; ow < w_hi; ++ow) dst[ow] = s[ow - w_lo];
          else
            for (std::size_t ow = w_lo; ow < w_hi; ++ow, s += g.sw) dst[ow] = *s;
          std::fill(dst + w_hi, dst + g.ow, T(0));
        }
        if (!add) std::fill(row + h_hi * g.ow, row + len, T(0));
      }
}

// Runs fn(chunk, lo, hi) over the samples, split into at most num_threads() chunks; returns the
// chunk count. Small convolutions stay on the calling thread.
template <class F>
std::size_t over_batch(const ConvGeom& g, F&& fn) {
  std::size_t flops = g.n * g.o * out_len(g) * col_rows(g) / g.groups;
  std::size_t threads = static_cast<std::size_t>(parallel::num_threads());
  std::size_t chunks = flops < kConvParallelFlops ? 1 : std::min(threads, g.n);
  if (chunks <= 1) {
    fn(std::size_t(0), std::size_t(0), g.n);
    return 1;
  }
  std::size_t per = (g.n + chunks - 1) / chunks;
  tbb::parallel_for(std::size_t(0), chunks, [&](std::size_t i) {
    std::size_t lo = i * per, hi = std::min(g.n, lo + per);
    if (lo < hi) fn(i, lo, hi);
  });
  return chunks;
}

template <class T, int slot>
T* scratch(std::size_t n) {
  thread_local std::vector<T> buffer;
  if (buffer.size() < n) buffer.resize(n);
  return buffer.data();
}

// Samples per GEMM: small images (LeNet's 10x10 maps) make thin products that OpenBLAS runs
// slowly, so several samples' columns sit side by side in one product, as many as keep the
// column block within about an L2 cache (a larger block only moves more memory).
template <class T>
std::size_t block_samples(const ConvGeom& g) {
  constexpr std::size_t kColumnBytes = std::size_t(384) << 10;
  std::size_t per_sample = col_rows(g) * out_len(g) * sizeof(T);
  return std::clamp<std::size_t>(kColumnBytes / std::max<std::size_t>(per_sample, 1), 1, g.n);
}

// Copies the samples' [o, L] planes from `planes` (sample-major) into the side-by-side block
// layout [o, nb * L], or back with `to_block` false.
template <class T>
void relayout(const ConvGeom& g, std::size_t nb, const T* from, T* to, bool to_block) {
  std::size_t len = out_len(g), ld = nb * len;
  for (std::size_t s = 0; s < nb; ++s)
    for (std::size_t o = 0; o < g.o; ++o) {
      const T* src = to_block ? from + (s * g.o + o) * len : from + o * ld + s * len;
      T* dst = to_block ? to + o * ld + s * len : to + (s * g.o + o) * len;
      std::copy(src, src + len, dst);
    }
}

// The im2col columns of samples [s0, s0 + nb) of x, side by side.
template <class T>
T* block_columns(const ConvGeom& g, const T* x, std::size_t s0, std::size_t nb) {
  std::size_t len = out_len(g), ld = nb * len;
  T* cols = scratch<T, 0>(col_rows(g) * ld);
  for (std::size_t s = 0; s < nb; ++s)
    im2col_or_back<T, false>(g, const_cast<T*>(x + (s0 + s) * g.c * g.h * g.w), cols + s * len, ld);
  return cols;
}

// The output gradient of samples [s0, s0 + nb) in the block layout (no copy for one sample).
template <class T>
const T* block_grad(const ConvGeom& g, const T* gy, std::size_t s0, std::size_t nb) {
  const T* first = gy + s0 * g.o * out_len(g);
  if (nb == 1) return first;
  T* block = scratch<T, 1>(g.o * nb * out_len(g));
  relayout(g, nb, first, block, true);
  return block;
}

template <class T>
void forward_typed(const Tensor& x, const Tensor& w, const Tensor& b, const ConvGeom& g, Tensor& y) {
  std::size_t len = out_len(g), og = g.o / g.groups, kg = col_rows(g) / g.groups;
  const T* wp = w.data_ptr<T>();
  const T* bp = b.defined() ? b.data_ptr<T>() : nullptr;
  std::size_t per_block = block_samples<T>(g);
  over_batch(g, [&](std::size_t, std::size_t lo, std::size_t hi) {
    for (std::size_t s0 = lo; s0 < hi; s0 += per_block) {
      std::size_t nb = std::min(per_block, hi - s0), ld = nb * len;
      const T* cols = block_columns(g, x.data_ptr<T>(), s0, nb);
      T* ys = y.data_ptr<T>() + s0 * g.o * len;
      T* out = nb == 1 ? ys : scratch<T, 1>(g.o * ld);
      for (std::size_t gi = 0; gi < g.groups; ++gi)  // Y_g = W_g cols_g
        gemm(false, false, og, ld, kg, wp + gi * og * kg, kg, cols + gi * kg * ld, ld, T(0),
             out + gi * og * ld, ld);
      if (nb > 1) relayout(g, nb, out, ys, false);
      for (std::size_t r = 0; bp && r < nb * g.o; ++r)
        for (T *p = ys + r * len, *e = p + len; p < e; ++p) *p += bp[r % g.o];
    }
  });
}

template <class T>
void input_grad_typed(const Tensor& gy, const Tensor& w, const ConvGeom& g, Tensor& dx) {
  std::size_t len = out_len(g), og = g.o / g.groups, kg = col_rows(g) / g.groups;
  std::size_t plane = g.c * g.h * g.w;
  const T* wp = w.data_ptr<T>();
  std::size_t per_block = block_samples<T>(g);
  over_batch(g, [&](std::size_t, std::size_t lo, std::size_t hi) {
    for (std::size_t s0 = lo; s0 < hi; s0 += per_block) {
      std::size_t nb = std::min(per_block, hi - s0), ld = nb * len;
      const T* gb = block_grad(g, gy.data_ptr<T>(), s0, nb);
      T* cols = scratch<T, 0>(col_rows(g) * ld);
      for (std::size_t gi = 0; gi < g.groups; ++gi)  // cols_g = W_g^T G_g
        gemm(true, false, kg, ld, og, wp + gi * og * kg, kg, gb + gi * og * ld, ld, T(0),
             cols + gi * kg * ld, ld);
      T* ds = dx.data_ptr<T>() + s0 * plane;
      std::fill(ds, ds + nb * plane, T(0));
      for (std::size_t s = 0; s < nb; ++s) im2col_or_back<T, true>(g, ds + s * plane, cols + s * len, ld);
    }
  });
}

template <class T>
void weight_grad_typed(const Tensor& x, const Tensor& gy, const ConvGeom& g, Tensor& dw) {
  std::size_t len = out_len(g), og = g.o / g.groups, kg = col_rows(g) / g.groups;
  std::size_t wsize = g.o * kg;
  T* dwp = dw.data_ptr<T>();
  std::size_t threads = static_cast<std::size_t>(parallel::num_threads());
  std::vector<T> partial(std::min(threads, std::max<std::size_t>(g.n, 1)) * wsize, T(0));
  std::fill(dwp, dwp + wsize, T(0));
  std::size_t per_block = block_samples<T>(g);
  std::size_t chunks = over_batch(g, [&](std::size_t chunk, std::size_t lo, std::size_t hi) {
    T* acc = chunk == 0 ? dwp : partial.data() + chunk * wsize;
    for (std::size_t s0 = lo; s0 < hi; s0 += per_block) {
      std::size_t nb = std::min(per_block, hi - s0), ld = nb * len;
      const T* cols = block_columns(g, x.data_ptr<T>(), s0, nb);
      const T* gb = block_grad(g, gy.data_ptr<T>(), s0, nb);
      for (std::size_t gi = 0; gi < g.groups; ++gi)  // dW_g += G_g cols_g^T
        gemm(false, true, og, kg, ld, gb + gi * og * ld, ld, cols + gi * kg * ld, ld, T(1),
             acc + gi * og * kg, kg);
    }
  });
  for (std::size_t c = 1; c < chunks; ++c)
    for (std::size_t i = 0; i < wsize; ++i) dwp[i] += partial[c * wsize + i];
}

template <class F>
void by_dtype(Dtype d, F&& f) {
  if (d == float32)
    f(float{});
  else
    f(double{});
}

// Pooling: each (sample, channel) plane is independent; planes are split over threads.
template <class F>
void over_planes(const PoolGeom& p, F&& fn) {
  std::size_t work = p.planes * p.oh * p.ow * p.kh * p.kw;
  std::size_t grain = std::max<std::size_t>(1, p.planes * parallel::kGrainMath / std::max<std::size_t>(work, 1));
  parallel::for_range(p.planes, grain, [&](std::size_t lo, std::size_t hi) {
    for (std::size_t q = lo; q < hi; ++q) fn(q);
  });
}

// The input rows (or columns) [lo, hi) of each output row (or column)'s window, clipped to the
// input: computed once per call, not per output element.
struct Span {
  std::size_t lo, hi;
};
std::vector<Span> spans(std::size_t out, std::size_t stride, std::size_t pad, std::size_t k,
                        std::size_t size) {
  std::vector<Span> r(out);
  for (std::size_t o = 0; o < out; ++o) {
    std::ptrdiff_t start = std::ptrdiff_t(o * stride) - std::ptrdiff_t(pad);
    auto clip = [size](std::ptrdiff_t v) {
      return static_cast<std::size_t>(std::clamp<std::ptrdiff_t>(v, 0, std::ptrdiff_t(size)));
    };
    r[o] = {clip(start), clip(start + std::ptrdiff_t(k))};
  }
  return r;
}

// Keeps the window's running maximum: a larger value or a NaN takes over (NaN wins, as in
// PyTorch), so a scan in row-major order picks what the general loop below picks.
template <class T>
inline void take_max(T v, std::size_t at, T& top, std::size_t& best) {
  if (v > top || v != v) top = v, best = at;
}

// The common case, 2x2 windows at stride 2 without padding. On ReLU outputs every comparison
// is a coin toss that branches mispredict (the general loop was 15% of a LeNet step, and GCC
// turns scalar selects back into branches), so float32 runs four windows at a time in SSE2
// (every x86-64 CPU has it) with the same rule as take_max: a larger value or a NaN takes over.
template <class T>
void max_pool_2x2_row(const T* r0, const T* r1, std::size_t ow_from, std::size_t ow_to,
                      std::size_t base, std::size_t below, T* yr, std::int64_t* ir) {
  for (std::size_t ow = ow_from; ow < ow_to; ++ow) {
    std::size_t j = 2 * ow, best = base + j;
    T top = r0[j];
    take_max(r0[j + 1], base + j + 1, top, best);
    take_max(r1[j], below + j, top, best);
    take_max(r1[j + 1], below + j + 1, top, best);
    yr[ow] = top;
    ir[ow] = static_cast<std::int64_t>(best);
  }
}

#ifdef __SSE2__
// Four windows of rows r0, r1: returns how many outputs it did (a multiple of 4).
std::size_t max_pool_2x2_sse2(const float* r0, const float* r1, std::size_t ow_count, std::size_t base,
                              std::size_t below, float* yr, std::int64_t* ir) {
  std::size_t done = ow_count / 4 * 4;
  __m128i step = _mm_set_epi32(6, 4, 2, 0), one = _mm_set1_epi32(1);
  __m128i down = _mm_set1_epi32(static_cast<int>(below - base));
  for (std::size_t ow = 0; ow < done; ow += 4) {
    std::size_t j = 2 * ow;
    __m128 a0 = _mm_loadu_ps(r0 + j), a1 = _mm_loadu_ps(r0 + j + 4);
    __m128 b0 = _mm_loadu_ps(r1 + j), b1 = _mm_loadu_ps(r1 + j + 4);
    __m128i first = _mm_add_epi32(_mm_set1_epi32(static_cast<int>(base + j)), step);
    __m128 top = _mm_shuffle_ps(a0, a1, _MM_SHUFFLE(2, 0, 2, 0));
    __m128i best = first;
    auto offer = [&](__m128 v, __m128i at) {
      __m128 take = _mm_or_ps(_mm_cmpgt_ps(v, top), _mm_cmpunord_ps(v, v));
      __m128i take_i = _mm_castps_si128(take);
      top = _mm_or_ps(_mm_and_ps(take, v), _mm_andnot_ps(take, top));
      best = _mm_or_si128(_mm_and_si128(take_i, at), _mm_andnot_si128(take_i, best));
    };
    offer(_mm_shuffle_ps(a0, a1, _MM_SHUFFLE(3, 1, 3, 1)), _mm_add_epi32(first, one));
    offer(_mm_shuffle_ps(b0, b1, _MM_SHUFFLE(2, 0, 2, 0)), _mm_add_epi32(first, down));
    offer(_mm_shuffle_ps(b0, b1, _MM_SHUFFLE(3, 1, 3, 1)), _mm_add_epi32(_mm_add_epi32(first, down), one));
    _mm_storeu_ps(yr + ow, top);
    alignas(16) std::int32_t at[4];
    _mm_store_si128(reinterpret_cast<__m128i*>(at), best);
    for (int k = 0; k < 4; ++k) ir[ow + std::size_t(k)] = at[k];
  }
  return done;
}
#endif

template <class T>
void max_pool_2x2(const T* plane, const PoolGeom& p, T* yq, std::int64_t* iq) {
  for (std::size_t oh = 0; oh < p.oh; ++oh) {
    std::size_t base = 2 * oh * p.w, below = base + p.w, done = 0;
    T* yr = yq + oh * p.ow;
    std::int64_t* ir = iq + oh * p.ow;
#ifdef __SSE2__
    if constexpr (std::is_same_v<T, float>)  // int32 positions: planes below 2^31 elements
      if (p.h * p.w < (std::size_t(1) << 31))
        done = max_pool_2x2_sse2(plane + base, plane + below, p.ow, base, below, yr, ir);
#endif
    max_pool_2x2_row(plane + base, plane + below, done, p.ow, base, below, yr, ir);
  }
}

template <class T>
void max_pool_typed(const Tensor& x, const PoolGeom& p, Tensor& y, Tensor& idx) {
  const T* xp = x.data_ptr<T>();
  T* yp = y.data_ptr<T>();
  std::int64_t* ip = idx.data_ptr<std::int64_t>();
  if (p.kh == 2 && p.kw == 2 && p.sh == 2 && p.sw == 2 && p.ph == 0 && p.pw == 0) {
    over_planes(p, [&](std::size_t q) {
      max_pool_2x2(xp + q * p.h * p.w, p, yp + q * p.oh * p.ow, ip + q * p.oh * p.ow);
    });
    return;
  }
  const std::vector<Span> rows = spans(p.oh, p.sh, p.ph, p.kh, p.h), cols = spans(p.ow, p.sw, p.pw, p.kw, p.w);
  over_planes(p, [&](std::size_t q) {
    const T* plane = xp + q * p.h * p.w;
    T* yq = yp + q * p.oh * p.ow;
    std::int64_t* iq = ip + q * p.oh * p.ow;
    for (std::size_t oh = 0; oh < p.oh; ++oh)
      for (std::size_t ow = 0; ow < p.ow; ++ow) {
        std::size_t best = rows[oh].lo * p.w + cols[ow].lo;
        T top = plane[best];
        for (std::size_t i = rows[oh].lo; i < rows[oh].hi; ++i)
          for (std::size_t j = cols[ow].lo; j < cols[ow].hi; ++j) {
            take_max(plane[i * p.w + j], i * p.w + j, top, best);
          }
        yq[oh * p.ow + ow] = top;
        iq[oh * p.ow + ow] = static_cast<std::int64_t>(best);
      }
  });
}

template <class T, bool backward>
void avg_pool_typed(const Tensor& in, const PoolGeom& p, Tensor& out) {
  const T* src = in.data_ptr<T>();
  T* dst = out.data_ptr<T>();
  T scale = T(1) / T(p.kh * p.kw);  // padding counts in the divisor (PyTorch's default)
  const std::vector<Span> rows = spans(p.oh, p.sh, p.ph, p.kh, p.h), cols = spans(p.ow, p.sw, p.pw, p.kw, p.w);
  over_planes(p, [&](std::size_t q) {
    for (std::size_t oh = 0; oh < p.oh; ++oh)
      for (std::size_t ow = 0; ow < p.ow; ++ow) {
        std::size_t o = (q * p.oh + oh) * p.ow + ow;
        if (backward) {
          T* dx = dst + q * p.h * p.w;
          if (oh == 0 && ow == 0) std::fill(dx, dx + p.h * p.w, T(0));
          T v = src[o] * scale;
          for (std::size_t i = rows[oh].lo; i < rows[oh].hi; ++i)
            for (std::size_t j = cols[ow].lo; j < cols[ow].hi; ++j) dx[i * p.w + j] += v;
          continue;
        }
        const T* plane = src + q * p.h * p.w;
        T s = T(0);
        for (std::size_t i = rows[oh].lo; i < rows[oh].hi; ++i)
          for (std::size_t j = cols[ow].lo; j < cols[ow].hi; ++j) s += plane[i * p.w + j];
        dst[o] = s * scale;
      }
  });
}

}  // namespace

// float32 goes to oneDNN first (conv_dnnl.cpp); it declines where it is not built, switched off
// or lacks a primitive for the geometry.
void conv2d_forward(const Tensor& x, const Tensor& w, const Tensor& b, const ConvGeom& g, Tensor& y) {
  if (x.dtype() == float32 &&
      dnnl_conv::forward(x.data_ptr<float>(), w.data_ptr<float>(), b.defined() ? b.data_ptr<float>() : nullptr,
                         g, y.data_ptr<float>()))
    return;
  by_dtype(x.dtype(), [&](auto z) { forward_typed<decltype(z)>(x, w, b, g, y); });
}
void conv2d_input_grad(const Tensor& gy, const Tensor& w, const ConvGeom& g, Tensor& dx) {
  if (gy.dtype() == float32 &&
      dnnl_conv::input_grad(gy.data_ptr<float>(), w.data_ptr<float>(), g, dx.data_ptr<float>()))
    return;
  by_dtype(gy.dtype(), [&](auto z) { input_grad_typed<decltype(z)>(gy, w, g, dx); });
}
void conv2d_weight_grad(const Tensor& x, const Tensor& gy, const ConvGeom& g, Tensor& dw) {
  if (x.dtype() == float32 &&
      dnnl_conv::weight_grad(x.data_ptr<float>(), gy.data_ptr<float>(), g, dw.data_ptr<float>()))
    return;
  by_dtype(x.dtype(), [&](auto z) { weight_grad_typed<decltype(z)>(x, gy, g, dw); });
}
void max_pool2d(const Tensor& x, const PoolGeom& p, Tensor& y, Tensor& indices) {
  by_dtype(x.dtype(), [&](auto z) { max_pool_typed<decltype(z)>(x, p, y, indices); });
}
void avg_pool2d(const Tensor& x, const PoolGeom& p, Tensor& y) {
  by_dtype(x.dtype(), [&](auto z) { avg_pool_typed<decltype(z), false>(x, p, y); });
}
void avg_pool2d_backward(const Tensor& gy, const PoolGeom& p, Tensor& dx) {
  by_dtype(gy.dtype(), [&](auto z) { avg_pool_typed<decltype(z), true>(gy, p, dx); });
}

}  // namespace ag::kernels
