// Matrix products: float32 through oneDNN's dnnl_sgemm where the build has it and
// set_matmul_backend left it on (autograd/matmul_backend.hpp, kernels/onednn.cpp), else, and for
// float64 always, through OpenBLAS's cblas (never the reference BLAS: a test checks
// openblas_get_config). Transposes are passed as flags, never copied.
//
// Threading: both libraries run single-threaded; large products are split into blocks of C
// that TBB runs in parallel, one call per block. OpenBLAS's own threads spin while they wait
// and fought TBB's for the cores (an MLP epoch took 3x longer on 2 threads than on 1), and
// oneDNN's OpenMP pool is kept at one thread (onednn::run_inline); with one scheduler for
// everything, the thread count means the same thing everywhere.
#include <algorithm>
#include <cctype>
#include <string>
#include <type_traits>
#include <vector>

#include <cblas.h>
#include <tbb/parallel_for.h>
#include <xsimd/xsimd.hpp>

#include <autograd/kernels/kernels.hpp>
#include <autograd/kernels/onednn.hpp>
#include <autograd/kernels/parallel.hpp>

namespace ag::kernels {
inline namespace AG_SIMD_NS {  // one copy per instruction set: kernels.hpp
namespace {

// Below this many multiply-adds a product runs on the calling thread.
// (The 2.5 M multiply-add products of a 784-100 layer at batch 32 take ~55 us each on one core;
// split over 2 threads, the training step got 30% slower: worker wake-ups on a VM.) The bound is
// a time, about 230 us of one core: 8M multiply-adds on OpenBLAS-Haswell, 16M on oneDNN, which
// runs these shapes at twice the rate (bench/PROFILE.md). The MLP benchmarks' split products
// (784- and 256-wide layers at batch 256, 20M and 16.7M) are the same on both.
constexpr std::size_t kParallelFlops = std::size_t(1) << 23;
constexpr std::size_t kParallelFlopsDnnl = std::size_t(1) << 24;

struct Gemm {  // C[m, n] = op(A)[m, k] op(B)[k, n] + beta C, row-major, with leading dims
  bool ta, tb;
  std::size_t m, n, k, lda, ldb, ldc;
  bool dnnl;  // float32 on oneDNN (else OpenBLAS)
};

void gemm_call(const Gemm& g, const float* a, const float* b, float beta, float* c) {
  if (g.dnnl) return onednn::sgemm(g.ta, g.tb, g.m, g.n, g.k, a, g.lda, b, g.ldb, beta, c, g.ldc);
  cblas_sgemm(CblasRowMajor, g.ta ? CblasTrans : CblasNoTrans, g.tb ? CblasTrans : CblasNoTrans,
              int(g.m), int(g.n), int(g.k), 1.0f, a, int(g.lda), b, int(g.ldb), beta, c, int(g.ldc));
}
void gemm_call(const Gemm& g, const double* a, const double* b, double beta, double* c) {
  cblas_dgemm(CblasRowMajor, g.ta ? CblasTrans : CblasNoTrans, g.tb ? CblasTrans : CblasNoTrans,
              int(g.m), int(g.n), int(g.k), 1.0, a, int(g.lda), b, int(g.ldb), beta, c, int(g.ldc));
}
// y = op(M) x + beta y, M row-major [rows, cols] with leading dimension ld.
void gemv_call(bool trans, std::size_t rows, std::size_t cols, const float* m, std::size_t ld,
               const float* x, std::size_t incx, float beta, float* y, std::size_t incy) {
  cblas_sgemv(CblasRowMajor, trans ? CblasTrans : CblasNoTrans, int(rows), int(cols), 1.0f, m,
              int(ld), x, int(incx), beta, y, int(incy));
}
void gemv_call(bool trans, std::size_t rows, std::size_t cols, const double* m, std::size_t ld,
               const double* x, std::size_t incx, double beta, double* y, std::size_t incy) {
  cblas_dgemv(CblasRowMajor, trans ? CblasTrans : CblasNoTrans, int(rows), int(cols), 1.0, m,
              int(ld), x, int(incx), beta, y, int(incy));
}

// One row or one column of C through OpenBLAS's gemv: for one row (batch 1) its sgemm packs the
// whole matrix, 7x slower than sgemv here. dnnl_sgemm takes vector shapes as they are, at 1.15x
// the time of OpenBLAS's AVX2 sgemv and a third of its SSE3 (PRESCOTT) one (bench/PROFILE.md),
// so on oneDNN they go to sgemv only where OpenBLAS runs AVX2 kernels or wider.
bool openblas_gemv_is_fast() {
  static const bool fast = [] {
    std::string core = openblas_get_corename();
    std::transform(core.begin(), core.end(), core.begin(), [](unsigned char ch) {
      return static_cast<char>(std::tolower(ch));
    });
    for (const char* wide : {"haswell", "skylakex", "cooperlake", "sapphirerapids", "zen"})
      if (core == wide) return true;
    return false;
  }();
  return fast;
}

// C's one row or one column through gemv.
template <class T>
void vector_call(const Gemm& g, const T* a, const T* b, T beta, T* c) {
  std::size_t len = g.m == 1 ? g.n : g.m, inc = g.m == 1 ? 1 : g.ldc;
  // BLAS need not read y when beta is 0, but some OpenBLAS releases scale it (0 * NaN is
  // NaN), and C may be fresh memory.
  if (beta == T(0))
    for (std::size_t i = 0; i < len; ++i) c[i * inc] = T(0);
  if (g.m == 1)  // C row = op(A) row . op(B): op(B) is B^T of a [k, n] B, or B of an [n, k] B
    return gemv_call(!g.tb, g.tb ? g.n : g.k, g.tb ? g.k : g.n, b, g.ldb, a, g.ta ? g.lda : 1,
                     beta, c, 1);
  // C column = op(A) . op(B) column
  gemv_call(g.ta, g.ta ? g.k : g.m, g.ta ? g.m : g.k, a, g.lda, b, g.tb ? 1 : g.ldb, beta, c,
            g.ldc);
}

// k == 1 (a batch-1 weight gradient): C = a b^T + beta C, the column of op(A) times the row of
// op(B), in one pass that writes C. OpenBLAS's sgemm zeroes C first; dnnl_sgemm takes 1.8x as
// long as this loop (bench/PROFILE.md), so both backends use it.
template <class T>
void outer_product(const Gemm& g, const T* a, const T* b, T beta, T* c) {
  std::size_t inca = g.ta ? 1 : g.lda, incb = g.tb ? g.ldb : 1;
  using V = xsimd::batch<T>;
  constexpr std::size_t W = V::size;
  for (std::size_t i = 0; i < g.m; ++i) {
    const T ai = a[i * inca];
    T* ci = c + i * g.ldc;
    if (beta == T(0) && incb == 1) {
      std::size_t j = 0;
      for (; j + W <= g.n; j += W) (V(ai) * V::load_unaligned(b + j)).store_unaligned(ci + j);
      for (; j < g.n; ++j) ci[j] = ai * b[j];
    } else if (beta == T(0))
      for (std::size_t j = 0; j < g.n; ++j) ci[j] = ai * b[j * incb];
    else
      for (std::size_t j = 0; j < g.n; ++j) ci[j] = beta * ci[j] + ai * b[j * incb];
  }
}

// x w^T for a few rows x (linear's forward at batch 8..32) runs faster as the transposed
// product w x^T, even with the small result transposed back: OpenBLAS by 1.1-1.45x for up to
// 32 rows; oneDNN by 1.2-1.6x at 16..32 rows, while below 16 rows its direct product is faster
// (bench/PROFILE.md).
bool few_rows(const Gemm& g) {
  return !g.ta && g.tb && g.m <= 32 && (!g.dnnl || g.m >= 16) && g.n >= 2 * g.m && g.k >= 256;
}

template <class T>
void transposed_call(const Gemm& g, const T* a, const T* b, T beta, T* c) {
  thread_local std::vector<T> scratch;
  scratch.resize(g.m * g.n);
  gemm_call(Gemm{false, true, g.n, g.m, g.k, g.ldb, g.lda, g.m, g.dnnl}, b, a, T(0),
            scratch.data());
  for (std::size_t i = 0; i < g.m; ++i) {
    T* ci = c + i * g.ldc;
    if (beta == T(0))
      for (std::size_t j = 0; j < g.n; ++j) ci[j] = scratch[j * g.m + i];
    else
      for (std::size_t j = 0; j < g.n; ++j) ci[j] = beta * ci[j] + scratch[j * g.m + i];
  }
}

// One product on the calling thread, by the rules above.
template <class T>
void call(const Gemm& g, const T* a, const T* b, T beta, T* c) {
  if ((g.m == 1 || g.n == 1) && (!g.dnnl || openblas_gemv_is_fast()))
    return vector_call(g, a, b, beta, c);
  if (g.k == 1) return outer_product(g, a, b, beta, c);
  if (few_rows(g)) return transposed_call(g, a, b, beta, c);
  gemm_call(g, a, b, beta, c);
}

// Splits C into row blocks (or column blocks when it has few rows) run in parallel.
template <class T>
void gemm(const Gemm& g, const T* a, const T* b, T beta, T* c) {
  std::size_t threads = static_cast<std::size_t>(parallel::num_threads());
  if (threads == 1 || g.m * g.n * g.k < (g.dnnl ? kParallelFlopsDnnl : kParallelFlops))
    return call(g, a, b, beta, c);
  bool by_rows = g.m >= g.n || g.m >= 16 * threads;
  std::size_t extent = by_rows ? g.m : g.n;
  std::size_t blocks = std::min(threads, std::max<std::size_t>(1, extent / 8));
  std::size_t per = (extent + blocks - 1) / blocks;
  tbb::parallel_for(std::size_t(0), blocks, [&](std::size_t i) {
    std::size_t lo = i * per, hi = std::min(extent, lo + per);
    if (lo >= hi) return;
    Gemm part = g;
    if (by_rows) {  // rows lo..hi of op(A) and of C
      part.m = hi - lo;
      call(part, a + (g.ta ? lo : lo * g.lda), b, beta, c + lo * g.ldc);
    } else {        // columns lo..hi of op(B) and of C
      part.n = hi - lo;
      call(part, a, b + (g.tb ? lo * g.ldb : lo), beta, c + lo);
    }
  });
}

// Read once per product, so that all blocks of one product use the same library.
template <class T>
bool on_dnnl() {
  return std::is_same_v<T, float> && onednn::gemm_enabled();
}

template <class T>
void matmul_typed(const Tensor& a, const Tensor& b, bool ta, bool tb, Tensor& out) {
  const Shape& as = a.shape();
  const Shape& bs = b.shape();
  std::size_t ad = as.size(), bd = bs.size();
  std::size_t m = ta ? as[ad - 1] : as[ad - 2], k = ta ? as[ad - 2] : as[ad - 1];
  std::size_t n = tb ? bs[bd - 2] : bs[bd - 1];
  std::size_t batch_a = ad == 3 ? as[0] : 1, batch_b = bd == 3 ? bs[0] : 1;
  std::size_t batch = std::max(batch_a, batch_b);
  const T* ap = a.data_ptr<T>();
  const T* bp = b.data_ptr<T>();
  T* cp = out.data_ptr<T>();
  if (m == 0 || n == 0) return;
  if (k == 0) {
    std::fill(cp, cp + batch * m * n, T(0));
    return;
  }
  Gemm g{ta, tb, m, n, k, ta ? m : k, tb ? k : n, n, on_dnnl<T>()};
  for (std::size_t i = 0; i < batch; ++i)
    gemm(g, ap + (batch_a > 1 ? i * m * k : 0), bp + (batch_b > 1 ? i * k * n : 0), T(0),
         cp + i * m * n);
}

template <class T>
void linear_typed(const Tensor& x, const Tensor& w, const Tensor& bias, Tensor& out) {
  std::size_t m = x.shape()[0], k = x.shape()[1], n = w.shape()[0];
  T* cp = out.data_ptr<T>();
  T beta = T(0);
  if (bias.defined()) {  // C starts as the bias in every row; the GEMM adds x w^T onto it
    const T* bp = bias.data_ptr<T>();
    for (std::size_t i = 0; i < m; ++i) std::copy(bp, bp + n, cp + i * n);
    beta = T(1);
  }
  if (m == 0 || n == 0) return;
  if (k == 0) {
    if (!bias.defined()) std::fill(cp, cp + m * n, T(0));
    return;
  }
  gemm(Gemm{false, true, m, n, k, k, k, n, on_dnnl<T>()}, x.data_ptr<T>(), w.data_ptr<T>(), beta, cp);
}

}  // namespace

void matmul(const Tensor& a, const Tensor& b, bool ta, bool tb, Tensor& out) {
  if (a.dtype() == float32)
    matmul_typed<float>(a, b, ta, tb, out);
  else
    matmul_typed<double>(a, b, ta, tb, out);
}

void linear(const Tensor& x, const Tensor& w, const Tensor& bias, Tensor& out) {
  if (x.dtype() == float32)
    linear_typed<float>(x, w, bias, out);
  else
    linear_typed<double>(x, w, bias, out);
}

}  // namespace AG_SIMD_NS
}  // namespace ag::kernels
