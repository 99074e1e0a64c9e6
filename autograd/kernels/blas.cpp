// Matrix products through OpenBLAS's cblas (never through the reference BLAS: see the test
// that checks openblas_get_config). Transposes are passed as flags, never copied.
#include <cblas.h>

#include <autograd/kernels/kernels.hpp>

namespace ag::kernels {
namespace {

void gemm(bool ta, bool tb, std::size_t m, std::size_t n, std::size_t k, const float* a,
          const float* b, float beta, float* c) {
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
              int(m), int(n), int(k), 1.0f, a, ta ? int(m) : int(k), b, tb ? int(k) : int(n), beta,
              c, int(n));
}
void gemm(bool ta, bool tb, std::size_t m, std::size_t n, std::size_t k, const double* a,
          const double* b, double beta, double* c) {
  cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
              int(m), int(n), int(k), 1.0, a, ta ? int(m) : int(k), b, tb ? int(k) : int(n), beta,
              c, int(n));
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
  for (std::size_t i = 0; i < batch; ++i)
    gemm(ta, tb, m, n, k, ap + (batch_a > 1 ? i * m * k : 0), bp + (batch_b > 1 ? i * k * n : 0),
         T(0), cp + i * m * n);
}

template <class T>
void linear_typed(const Tensor& x, const Tensor& w, const Tensor& bias, Tensor& out) {
  std::size_t m = x.shape()[0], k = x.shape()[1], n = w.shape()[0];
  T* cp = out.data_ptr<T>();
  T beta = T(0);
  if (bias.defined()) {
    const T* bp = bias.data_ptr<T>();
    for (std::size_t i = 0; i < m; ++i) std::copy(bp, bp + n, cp + i * n);
    beta = T(1);
  }
  if (m == 0 || n == 0) return;
  if (k == 0) {
    if (!bias.defined()) std::fill(cp, cp + m * n, T(0));
    return;
  }
  gemm(false, true, m, n, k, x.data_ptr<T>(), w.data_ptr<T>(), beta, cp);
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

}  // namespace ag::kernels
