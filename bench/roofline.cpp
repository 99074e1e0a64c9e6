// The BLAS recorder behind bench/roofline.hpp: ag_bench's own cblas_sgemm, cblas_sgemv and
// dnnl_sgemm, which forward to OpenBLAS's and oneDNN's and write each call down while a
// Recording is alive.
#include "roofline.hpp"

#include <dlfcn.h>

#include <cblas.h>
#ifdef AG_HAVE_DNNL
#include <oneapi/dnnl/dnnl.h>

extern "C" void omp_set_num_threads(int);  // libgomp: oneDNN's thread count
#endif

#include <cstdio>
#include <cstdlib>
#include <stdexcept>

namespace {

using SgemmFn = void (*)(CBLAS_ORDER, CBLAS_TRANSPOSE, CBLAS_TRANSPOSE, blasint, blasint, blasint,
                         float, const float*, blasint, const float*, blasint, float, float*,
                         blasint);
using SgemvFn = void (*)(CBLAS_ORDER, CBLAS_TRANSPOSE, blasint, blasint, float, const float*,
                         blasint, const float*, blasint, float, float*, blasint);

// The next definition after the executable's: OpenBLAS's. Looked up once; a build where it is
// missing cannot measure anything, so it stops with a message.
template <class Fn>
Fn next_symbol(const char* name) {
  void* p = dlsym(RTLD_NEXT, name);
  if (!p) {
    std::fprintf(stderr, "ag_bench: dlsym(RTLD_NEXT, %s) found nothing\n", name);
    std::abort();
  }
  return reinterpret_cast<Fn>(p);
}

bool g_recording = false;
std::vector<bench::BlasCall>& recorded() {
  static std::vector<bench::BlasCall> calls;
  return calls;
}

std::size_t extent(int rows, int ld) { return std::size_t(rows > 0 ? rows : 1) * std::size_t(ld); }

}  // namespace

extern "C" void cblas_sgemm(const CBLAS_ORDER order, const CBLAS_TRANSPOSE ta,
                            const CBLAS_TRANSPOSE tb, const blasint m, const blasint n,
                            const blasint k, const float alpha, const float* a, const blasint lda,
                            const float* b, const blasint ldb, const float beta, float* c,
                            const blasint ldc) {
  static const SgemmFn real = next_symbol<SgemmFn>("cblas_sgemm");
  if (g_recording)
    recorded().push_back({bench::BlasLib::kSgemm, int(order), int(ta), int(tb), int(m), int(n), int(k), alpha,
                          beta, int(lda), int(ldb), int(ldc)});
  real(order, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

extern "C" void cblas_sgemv(const CBLAS_ORDER order, const CBLAS_TRANSPOSE trans, const blasint m,
                            const blasint n, const float alpha, const float* a, const blasint lda,
                            const float* x, const blasint incx, const float beta, float* y,
                            const blasint incy) {
  static const SgemvFn real = next_symbol<SgemvFn>("cblas_sgemv");
  if (g_recording)
    recorded().push_back({bench::BlasLib::kSgemv, int(order), int(trans), 0, int(m), int(n), 0,
                          alpha, beta, int(lda), int(incx), int(incy)});
  real(order, trans, m, n, alpha, a, lda, x, incx, beta, y, incy);
}

#ifdef AG_HAVE_DNNL
extern "C" dnnl_status_t dnnl_sgemm(char ta, char tb, dnnl_dim_t m, dnnl_dim_t n, dnnl_dim_t k,
                                    float alpha, const float* a, dnnl_dim_t lda, const float* b,
                                    dnnl_dim_t ldb, float beta, float* c, dnnl_dim_t ldc) {
  using DnnlFn = dnnl_status_t (*)(char, char, dnnl_dim_t, dnnl_dim_t, dnnl_dim_t, float,
                                   const float*, dnnl_dim_t, const float*, dnnl_dim_t, float,
                                   float*, dnnl_dim_t);
  static const DnnlFn real = next_symbol<DnnlFn>("dnnl_sgemm");
  auto trans = [](char t) { return int(t == 'T' || t == 't' ? CblasTrans : CblasNoTrans); };
  if (g_recording)
    recorded().push_back({bench::BlasLib::kDnnlSgemm, int(CblasRowMajor), trans(ta), trans(tb),
                          int(m), int(n), int(k), alpha, beta, int(lda), int(ldb), int(ldc)});
  return real(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
#endif

namespace bench {

Recording::Recording() {
  if (g_recording) throw std::logic_error("roofline: one Recording at a time");
  recorded().clear();
  g_recording = true;
}
Recording::~Recording() { g_recording = false; }
std::vector<BlasCall> Recording::calls() const { return recorded(); }

Replay::Replay(std::vector<BlasCall> calls) : calls_(std::move(calls)) {
  for (const BlasCall& c : calls_) {
    if (c.order != CblasRowMajor) throw std::logic_error("roofline: only row-major calls");
    const bool ta = c.trans_a == CblasTrans, tb = c.trans_b == CblasTrans;
    std::size_t sa, sb, sc;
    if (c.lib == BlasLib::kSgemv) {  // y = op(A) x: A is m x n; x has n (or m) entries, incx apart
      sa = extent(c.m, c.lda);
      std::size_t nx = ta ? c.m : c.n, ny = ta ? c.n : c.m;
      sb = (nx ? nx - 1 : 0) * std::size_t(c.ldb) + 1;
      sc = (ny ? ny - 1 : 0) * std::size_t(c.ldc) + 1;
    } else {  // row-major: op(A) is m x k, stored (ta ? k : m) rows of lda
      sa = extent(ta ? c.k : c.m, c.lda);
      sb = extent(tb ? c.n : c.k, c.ldb);
      sc = extent(c.m, c.ldc);
    }
    a_.emplace_back(sa, 0.25f);
    b_.emplace_back(sb, 0.5f);
    c_.emplace_back(sc, 0.125f);
  }
}

void Replay::run() {
  for (std::size_t i = 0; i < calls_.size(); ++i) {
    const BlasCall& c = calls_[i];
    if (c.lib == BlasLib::kSgemv)
      cblas_sgemv(CblasRowMajor, CBLAS_TRANSPOSE(c.trans_a), c.m, c.n, c.alpha, a_[i].data(),
                  c.lda, b_[i].data(), c.ldb, c.beta, c_[i].data(), c.ldc);
    else if (c.lib == BlasLib::kSgemm)
      cblas_sgemm(CblasRowMajor, CBLAS_TRANSPOSE(c.trans_a), CBLAS_TRANSPOSE(c.trans_b), c.m, c.n,
                  c.k, c.alpha, a_[i].data(), c.lda, b_[i].data(), c.ldb, c.beta, c_[i].data(),
                  c.ldc);
#ifdef AG_HAVE_DNNL
    else
      dnnl_sgemm(c.trans_a == CblasTrans ? 'T' : 'N', c.trans_b == CblasTrans ? 'T' : 'N', c.m,
                 c.n, c.k, c.alpha, a_[i].data(), c.lda, b_[i].data(), c.ldb, c.beta,
                 c_[i].data(), c.ldc);
#endif
  }
}

void Replay::set_library_threads(int threads) {
  openblas_set_num_threads(threads);
#ifdef AG_HAVE_DNNL
  omp_set_num_threads(threads);
#endif
}

double Replay::multiply_adds() const {
  double total = 0;
  for (const BlasCall& c : calls_)
    total += c.lib == BlasLib::kSgemv ? double(c.m) * c.n : double(c.m) * c.n * c.k;
  return total;
}

}  // namespace bench
