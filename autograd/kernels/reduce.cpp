// Reductions: sums over any set of axes (the engine's unbroadcast runs through here) and
// max/min and log_softmax along one axis. Float sums accumulate in blocks and carry the block
// totals in double.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include <xsimd/xsimd.hpp>

#include <autograd/kernels/kernels.hpp>
#include <autograd/kernels/parallel.hpp>

namespace ag::kernels {
inline namespace AG_SIMD_NS {  // one copy per instruction set: kernels.hpp
namespace {

constexpr std::size_t kBlock = 4096;

// Sum of a contiguous run: 4 vector accumulators per block, block totals in double.
template <class T>
double sum_run(const T* x, std::size_t n) {
  using B = xsimd::batch<T>;
  constexpr std::size_t W = B::size;
  double total = 0;
  for (std::size_t start = 0; start < n; start += kBlock) {
    std::size_t end = std::min(n, start + kBlock), i = start;
    B acc0(T(0)), acc1(T(0)), acc2(T(0)), acc3(T(0));
    for (; i + 4 * W <= end; i += 4 * W) {
      acc0 += B::load_unaligned(x + i);
      acc1 += B::load_unaligned(x + i + W);
      acc2 += B::load_unaligned(x + i + 2 * W);
      acc3 += B::load_unaligned(x + i + 3 * W);
    }
    T block = xsimd::hadd((acc0 + acc1) + (acc2 + acc3));
    for (; i < end; ++i) block += x[i];
    total += static_cast<double>(block);
  }
  return total;
}

// The same sum with its blocks spread over threads: the block totals are added in order, so
// the result is bit-identical to sum_run's for any thread count.
template <class T>
double sum_run_parallel(const T* x, std::size_t n) {
  std::size_t blocks = (n + kBlock - 1) / kBlock;
  std::vector<double> totals(blocks);
  parallel::for_range(blocks, std::max<std::size_t>(1, parallel::kGrain / kBlock),
                      [&](std::size_t b, std::size_t e) {
                        for (std::size_t k = b; k < e; ++k)
                          totals[k] = sum_run(x + k * kBlock, std::min(kBlock, n - k * kBlock));
                      });
  double total = 0;
  for (double t : totals) total += t;
  return total;
}

// out[k] = sum over r of x[r, k] for columns b..e of a {rows, cols} matrix (a bias gradient):
// the columns in registers, four vectors at a time, the rows added in order. Each column is the
// same float sum, in the same order, as the scalar loop `out[k] += x[r, k]`, so the result does
// not depend on the vector width; the scalar loop was not vectorised by g++ -O2 (it cannot rule
// out that out aliases x) and read and wrote out once per row.
template <class T>
void column_sums(const T* x, std::size_t rows, std::size_t cols, std::size_t b, std::size_t e,
                 T* out) {
  using B = xsimd::batch<T>;
  constexpr std::size_t W = B::size;
  std::size_t k = b;
  for (; k + 4 * W <= e; k += 4 * W) {
    B acc0(T(0)), acc1(T(0)), acc2(T(0)), acc3(T(0));
    for (std::size_t r = 0; r < rows; ++r) {
      const T* row = x + r * cols + k;
      acc0 += B::load_unaligned(row);
      acc1 += B::load_unaligned(row + W);
      acc2 += B::load_unaligned(row + 2 * W);
      acc3 += B::load_unaligned(row + 3 * W);
    }
    acc0.store_unaligned(out + k);
    acc1.store_unaligned(out + k + W);
    acc2.store_unaligned(out + k + 2 * W);
    acc3.store_unaligned(out + k + 3 * W);
  }
  for (; k + W <= e; k += W) {
    B acc(T(0));
    for (std::size_t r = 0; r < rows; ++r) acc += B::load_unaligned(x + r * cols + k);
    acc.store_unaligned(out + k);
  }
  for (; k < e; ++k) {
    T acc = T(0);
    for (std::size_t r = 0; r < rows; ++r) acc += x[r * cols + k];
    out[k] = acc;
  }
}

template <class T>
void sum_typed(const T* x, const Shape& shape, const std::vector<bool>& reduce, T* out,
               std::size_t out_n) {
  // Coalesce neighbouring axes that are both reduced or both kept.
  std::vector<std::size_t> dims;
  std::vector<bool> red;
  for (std::size_t k = 0; k < shape.size(); ++k) {
    if (shape[k] == 1) continue;
    if (!dims.empty() && red.back() == reduce[k]) {
      dims.back() *= shape[k];
    } else {
      dims.push_back(shape[k]);
      red.push_back(reduce[k]);
    }
  }
  std::size_t n = 1;
  for (std::size_t d : dims) n *= d;
  if (dims.empty() || n == 0) {  // nothing to reduce over, or an empty input
    for (std::size_t i = 0; i < out_n; ++i) out[i] = n ? x[i] : T(0);
    return;
  }
  std::size_t inner = dims.back();
  if (red.back()) {
    // Each output is the sum of one contiguous run (plus, for patterns like {R, K, R},
    // the runs of the outer reduced axes, handled by the generic loop below).
    if (dims.size() == 1 || (dims.size() == 2 && !red[0])) {
      std::size_t rows = n / inner;
      if (rows < static_cast<std::size_t>(parallel::num_threads()) && inner > parallel::kGrain) {
        for (std::size_t r = 0; r < rows; ++r)  // few long runs (a full sum): split each run
          out[r] = static_cast<T>(sum_run_parallel(x + r * inner, inner));
        return;
      }
      parallel::for_range(rows, std::max<std::size_t>(1, parallel::kGrain / inner),
                          [&](std::size_t b, std::size_t e) {
                            for (std::size_t r = b; r < e; ++r)
                              out[r] = static_cast<T>(sum_run(x + r * inner, inner));
                          });
      return;
    }
  } else if (dims.size() == 2) {
    // {R, K}: out[k] = sum over r of x[r, k]. Columns split over threads, rows added as vectors.
    std::size_t rows = dims[0];
    parallel::for_range(inner, std::max<std::size_t>(64, parallel::kGrain / rows),
                        [&](std::size_t b, std::size_t e) {
                          column_sums(x, rows, inner, b, e, out);
                        });
    return;
  }
  // Generic: walk the input in order, mapping each run to its output offset.
  std::size_t nd = dims.size();
  std::vector<std::size_t> ostride(nd, 0);
  std::size_t s = 1;
  for (std::size_t k = nd; k-- > 0;)
    if (!red[k]) {
      ostride[k] = s;
      s *= dims[k];
    }
  std::vector<double> acc(out_n, 0.0);
  std::vector<std::size_t> idx(nd, 0);
  for (std::size_t pos = 0; pos < n; pos += inner) {
    std::size_t o = 0;
    for (std::size_t k = 0; k + 1 < nd; ++k) o += idx[k] * ostride[k];
    if (red.back()) {
      acc[o] += sum_run(x + pos, inner);
    } else {
      for (std::size_t i = 0; i < inner; ++i) acc[o + i] += x[pos + i];
    }
    for (std::size_t k = nd - 1; k-- > 0;) {
      if (++idx[k] < dims[k]) break;
      idx[k] = 0;
    }
  }
  for (std::size_t i = 0; i < out_n; ++i) out[i] = static_cast<T>(acc[i]);
}

template <class T>
void max_typed(const T* x, std::size_t outer, std::size_t len, std::size_t inner, bool is_max,
               T* values, std::int64_t* indices) {
  parallel::for_range(outer * inner, std::max<std::size_t>(1, parallel::kGrain / len),
                      [&](std::size_t b, std::size_t e) {
                        for (std::size_t oi = b; oi < e; ++oi) {
                          std::size_t o = oi / inner, i = oi % inner;
                          const T* p = x + o * len * inner + i;
                          T best = p[0];
                          std::size_t arg = 0;
                          for (std::size_t j = 1; j < len && !std::isnan(best); ++j) {
                            T v = p[j * inner];
                            if ((is_max ? v > best : v < best) || std::isnan(v)) {
                              best = v;
                              arg = j;
                            }
                          }
                          if (values) values[oi] = best;
                          if (indices) indices[oi] = static_cast<std::int64_t>(arg);
                        }
                      });
}

// log_softmax along an axis: x - (m + log(sum(exp(x - m)))), m the row's maximum (0 when that
// is not finite: a row of -inf gives NaN, as in PyTorch). The sum of exponentials is in double.
// sum of exp(p[j] - m) in double. A row of logits is short (10 classes for MNIST), so the
// vector body goes over the row itself, W doubles at a time; std::exp one at a time was the
// largest item of ag's own work in an MLP step at batch 256 (bench/PROFILE.md, issue 15).
template <class T>
double sum_exp_contiguous(const T* p, std::size_t len, T m) {
  using D = xsimd::batch<double>;
  constexpr std::size_t W = D::size;
  alignas(64) double shifted[W];
  D acc(0.0);
  std::size_t j = 0;
  for (; j + W <= len; j += W) {
    for (std::size_t k = 0; k < W; ++k) shifted[k] = double(p[j + k] - m);
    acc += xsimd::exp(D::load_aligned(shifted));
  }
  double total = xsimd::hadd(acc);
  for (; j < len; ++j) total += std::exp(double(p[j] - m));
  return total;
}
template <class T>
double sum_exp_strided(const T* p, std::size_t len, std::size_t inner, T m) {
  double total = 0;
  for (std::size_t j = 0; j < len; ++j) total += std::exp(double(p[j * inner] - m));
  return total;
}

template <class T>
void log_softmax_typed(const T* x, std::size_t outer, std::size_t len, std::size_t inner, T* out) {
  parallel::for_range(outer * inner, std::max<std::size_t>(1, parallel::kGrainMath / len),
                      [&](std::size_t b, std::size_t e) {
                        for (std::size_t oi = b; oi < e; ++oi) {
                          std::size_t o = oi / inner, i = oi % inner;
                          const T* p = x + o * len * inner + i;
                          T* q = out + o * len * inner + i;
                          T m = p[0];
                          for (std::size_t j = 1; j < len; ++j) m = std::max(m, p[j * inner]);
                          if (!std::isfinite(m)) m = T(0);
                          const double total = inner == 1 ? sum_exp_contiguous(p, len, m)
                                                          : sum_exp_strided(p, len, inner, m);
                          const T shift = static_cast<T>(double(m) + std::log(total));
                          for (std::size_t j = 0; j < len; ++j) q[j * inner] = p[j * inner] - shift;
                        }
                      });
}

// Softmax cross-entropy, fused (the op is autograd/ops/loss.cpp): over a contiguous {n, c} x,
// probs gets each row's softmax and the result is the sum over rows of the row's loss
// logsumexp(row) - row[label]. Rows go in blocks of kXentRows: each row's maximum is
// subtracted, then one vector exp runs over the whole block (MNIST's 10-class rows are shorter
// than two vectors: per-row vector loops spent most of their time in scalar tails), then each
// row is summed (in double), normalised and its loss taken.
constexpr std::size_t kXentRows = 64;

template <class T>
void exp_in_place(T* q, std::size_t n) {
  using B = xsimd::batch<T>;
  constexpr std::size_t W = B::size;
  std::size_t i = 0;
  for (; i + W <= n; i += W) xsimd::exp(B::load_unaligned(q + i)).store_unaligned(q + i);
  for (; i < n; ++i) q[i] = std::exp(q[i]);
}

template <class T>
double softmax_xent_block(const T* x, const std::int64_t* labels, std::size_t rows, std::size_t c,
                          T* q) {
  T maxima[kXentRows];
  for (std::size_t r = 0; r < rows; ++r) {
    const T* p = x + r * c;
    T m = p[0];
    for (std::size_t j = 1; j < c; ++j) m = std::max(m, p[j]);
    if (!std::isfinite(m)) m = T(0);  // a row of -inf gives NaN, as log_softmax does
    maxima[r] = m;
    for (std::size_t j = 0; j < c; ++j) q[r * c + j] = p[j] - m;
  }
  exp_in_place(q, rows * c);
  double loss = 0;
  for (std::size_t r = 0; r < rows; ++r) {
    T* qr = q + r * c;
    double total = 0;
    for (std::size_t j = 0; j < c; ++j) total += static_cast<double>(qr[j]);
    const double inv = 1.0 / total;
    for (std::size_t j = 0; j < c; ++j) qr[j] = static_cast<T>(static_cast<double>(qr[j]) * inv);
    // The loss as log_softmax rounds it: its shift in T, then x[label] - shift in T.
    const T shift = static_cast<T>(static_cast<double>(maxima[r]) + std::log(total));
    loss -= static_cast<double>(static_cast<T>(x[r * c + labels[r]] - shift));
  }
  return loss;
}

template <class T>
double softmax_xent_typed(const T* x, const std::int64_t* labels, std::size_t n, std::size_t c,
                          T* probs) {
  double total = 0;
  for (std::size_t r = 0; r < n; r += kXentRows) {
    const std::size_t rows = std::min(kXentRows, n - r);
    total += softmax_xent_block(x + r * c, labels + r, rows, c, probs + r * c);
  }
  return total;
}

// dx = (probs - onehot(labels)) * scale over {n, c}: one vector pass, then the n label entries.
template <class T>
void softmax_xent_backward_typed(const T* probs, const std::int64_t* labels, std::size_t n,
                                 std::size_t c, T scale, T* dx) {
  using B = xsimd::batch<T>;
  constexpr std::size_t W = B::size;
  const std::size_t total = n * c;
  const B s(scale);
  std::size_t i = 0;
  for (; i + W <= total; i += W) (B::load_unaligned(probs + i) * s).store_unaligned(dx + i);
  for (; i < total; ++i) dx[i] = probs[i] * scale;
  for (std::size_t r = 0; r < n; ++r) {
    const std::size_t at = r * c + static_cast<std::size_t>(labels[r]);
    dx[at] = (probs[at] - T(1)) * scale;
  }
}

}  // namespace

void log_softmax_along(const Tensor& x, std::size_t axis, Tensor& out) {
  const Shape& s = x.shape();
  std::size_t outer = 1, inner = 1, len = s[axis];
  for (std::size_t k = 0; k < axis; ++k) outer *= s[k];
  for (std::size_t k = axis + 1; k < s.size(); ++k) inner *= s[k];
  if (x.dtype() == float32)
    log_softmax_typed(x.data_ptr<float>(), outer, len, inner, out.data_ptr<float>());
  else
    log_softmax_typed(x.data_ptr<double>(), outer, len, inner, out.data_ptr<double>());
}

double softmax_xent(const Tensor& x, const Tensor& labels, Tensor& probs) {
  const std::size_t n = x.shape()[0], c = x.shape()[1];
  const std::int64_t* l = labels.data_ptr<std::int64_t>();
  if (x.dtype() == float32)
    return softmax_xent_typed(x.data_ptr<float>(), l, n, c, probs.data_ptr<float>());
  return softmax_xent_typed(x.data_ptr<double>(), l, n, c, probs.data_ptr<double>());
}

void softmax_xent_backward(const Tensor& probs, const Tensor& labels, double scale, Tensor& dx) {
  const std::size_t n = probs.shape()[0], c = probs.shape()[1];
  const std::int64_t* l = labels.data_ptr<std::int64_t>();
  if (probs.dtype() == float32)
    softmax_xent_backward_typed(probs.data_ptr<float>(), l, n, c, static_cast<float>(scale),
                                dx.data_ptr<float>());
  else
    softmax_xent_backward_typed(probs.data_ptr<double>(), l, n, c, scale, dx.data_ptr<double>());
}

void sum(const Tensor& x, const std::vector<bool>& reduce, Tensor& out) {
  if (x.dtype() == float32)
    sum_typed(x.data_ptr<float>(), x.shape(), reduce, out.data_ptr<float>(), out.numel());
  else
    sum_typed(x.data_ptr<double>(), x.shape(), reduce, out.data_ptr<double>(), out.numel());
}

void max_along(const Tensor& x, std::size_t axis, bool is_max, Tensor* values, Tensor* indices) {
  const Shape& s = x.shape();
  std::size_t outer = 1, inner = 1, len = s[axis];
  for (std::size_t k = 0; k < axis; ++k) outer *= s[k];
  for (std::size_t k = axis + 1; k < s.size(); ++k) inner *= s[k];
  std::int64_t* ip = indices ? indices->data_ptr<std::int64_t>() : nullptr;
  if (x.dtype() == float32)
    max_typed(x.data_ptr<float>(), outer, len, inner, is_max,
              values ? values->data_ptr<float>() : nullptr, ip);
  else
    max_typed(x.data_ptr<double>(), outer, len, inner, is_max,
              values ? values->data_ptr<double>() : nullptr, ip);
}

}  // namespace AG_SIMD_NS
}  // namespace ag::kernels
