// The measurements behind kernels/blas.cpp's per-shape rules on oneDNN (bench/PROFILE.md): the
// MLP steps' products through cblas_sgemm, cblas_sgemv and dnnl_sgemm, each library on one
// thread, best of 9 rounds of the thread's CPU time per call, in microseconds. Also the two
// ways of a few-row x w^T (direct, and the transposed w x^T plus the transpose back) and the
// k = 1 outer product as blas.cpp's loop does it. Run it in both OpenBLAS settings:
//   OPENBLAS_CORETYPE=Haswell OPENBLAS_L2_SIZE=512 build/bench/gemm_shapes; build/bench/gemm_shapes
#include <cblas.h>
#include <oneapi/dnnl/dnnl.h>
#include <time.h>
#ifdef __AVX2__
#include <immintrin.h>
#endif

#include <algorithm>
#include <cstdio>
#include <vector>

extern "C" void omp_set_num_threads(int);  // libgomp: oneDNN inline on this thread

namespace {

double thread_seconds() {
  timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return double(t.tv_sec) + 1e-9 * double(t.tv_nsec);
}

template <class F>
double best_us(F&& f) {
  double best = 1e30;
  for (int r = 0; r < 9; ++r) {
    int iters = 0;
    double t0 = thread_seconds(), t;
    do {
      f();
      ++iters;
      t = thread_seconds();
    } while (t - t0 < 0.01);
    best = std::min(best, (t - t0) / iters * 1e6);
  }
  return best;
}

// C = a b^T for k = 1, as blas.cpp's xsimd loop does it (AVX2 here, as ag's AVX2 copy).
void outer_product(int m, int n, const float* a, const float* b, float* c) {
  for (int i = 0; i < m; ++i) {
    float* ci = c + std::size_t(i) * n;
    int j = 0;
#ifdef __AVX2__
    const __m256 ai = _mm256_set1_ps(a[i]);
    for (; j + 8 <= n; j += 8) _mm256_storeu_ps(ci + j, _mm256_mul_ps(ai, _mm256_loadu_ps(b + j)));
#endif
    for (; j < n; ++j) ci[j] = a[i] * b[j];
  }
}

struct Shape {
  const char* what;
  bool ta, tb;
  int m, n, k;
  float beta;
};

void general(const Shape& s) {
  int lda = s.ta ? s.m : s.k, ldb = s.tb ? s.k : s.n;
  std::vector<float> a(std::size_t(s.m) * s.k, 0.25f), b(std::size_t(s.k) * s.n, 0.5f),
      c(std::size_t(s.m) * s.n, 0.125f), scratch(c.size());
  auto ta = s.ta ? CblasTrans : CblasNoTrans, tb = s.tb ? CblasTrans : CblasNoTrans;
  double tc = best_us([&] {
    cblas_sgemm(CblasRowMajor, ta, tb, s.m, s.n, s.k, 1.f, a.data(), lda, b.data(), ldb, s.beta,
                c.data(), s.n);
  });
  double td = best_us([&] {
    dnnl_sgemm(s.ta ? 'T' : 'N', s.tb ? 'T' : 'N', s.m, s.n, s.k, 1.f, a.data(), lda, b.data(),
               ldb, s.beta, c.data(), s.n);
  });
  std::printf("%-22s %c%c m=%4d n=%4d k=%4d  cblas_sgemm %8.2f  dnnl_sgemm %8.2f", s.what,
              s.ta ? 'T' : 'N', s.tb ? 'T' : 'N', s.m, s.n, s.k, tc, td);
  if (s.m == 1 && !s.ta)  // the row as blas.cpp's sgemv makes it
    std::printf("  cblas_sgemv %8.2f", best_us([&] {
                  cblas_sgemv(CblasRowMajor, s.tb ? CblasNoTrans : CblasTrans, s.tb ? s.n : s.k,
                              s.tb ? s.k : s.n, 1.f, b.data(), ldb, a.data(), 1, s.beta,
                              c.data(), 1);
                }));
  if (!s.ta && s.tb && s.m > 1 && s.m <= 64)  // w x^T, then the result transposed back
    std::printf("  transposed: cblas %8.2f dnnl %8.2f",
                best_us([&] {
                  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, s.n, s.m, s.k, 1.f,
                              b.data(), ldb, a.data(), lda, 0.f, scratch.data(), s.m);
                  for (int i = 0; i < s.m; ++i)
                    for (int j = 0; j < s.n; ++j) c[i * s.n + j] += scratch[j * s.m + i];
                }),
                best_us([&] {
                  dnnl_sgemm('N', 'T', s.n, s.m, s.k, 1.f, b.data(), ldb, a.data(), lda, 0.f,
                             scratch.data(), s.m);
                  for (int i = 0; i < s.m; ++i)
                    for (int j = 0; j < s.n; ++j) c[i * s.n + j] += scratch[j * s.m + i];
                }));
  if (s.k == 1)  // blas.cpp's outer product: one vector multiply per 8 elements of C
    std::printf("  loop %8.2f",
                best_us([&] { outer_product(s.m, s.n, a.data(), b.data(), c.data()); }));
  std::printf("\n");
}

}  // namespace

int main() {
  omp_set_num_threads(1);
  openblas_set_num_threads(1);
  std::printf("OpenBLAS core: %s\n", openblas_get_corename());
  for (int batch : {1, 8, 16, 32, 64, 256}) {
    std::printf("-- 784-100-10 at batch %d\n", batch);
    general({"layer 1 forward", false, true, batch, 100, 784, 1.f});
    general({"layer 2 forward", false, true, batch, 10, 100, 1.f});
    general({"layer 2 input grad", false, false, batch, 100, 10, 0.f});
    general({"layer 2 weight grad", true, false, 10, 100, batch, 0.f});
    general({"layer 1 weight grad", true, false, 100, 784, batch, 0.f});
  }
  std::printf("-- 784-256-256-10 at batch 256\n");
  general({"layer 1 forward", false, true, 256, 256, 784, 1.f});
  general({"layer 2 forward", false, true, 256, 256, 256, 1.f});
  general({"layer 2 input grad", false, false, 256, 256, 256, 0.f});
  general({"layer 1 weight grad", true, false, 256, 784, 256, 0.f});
  std::printf("-- few rows x w^T\n");
  for (int n : {100, 256})
    for (int m : {4, 8, 12, 16, 24, 32, 48}) general({"few rows", false, true, m, n, 784, 1.f});
  std::printf("-- one column\n");
  general({"A x", false, false, 256, 1, 784, 0.f});
  general({"A^T x", true, false, 784, 1, 256, 0.f});
}
