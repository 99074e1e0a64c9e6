// LU and Cholesky factorisations through LAPACK (OpenBLAS's, which ships it). LAPACK is
// column-major; a row-major n x n buffer is the column-major transpose, so:
//  - LU of the buffer factors A^T: same determinant, and its inverse is inv(A)^T column-major,
//    which is inv(A) row-major;
//  - solving with trans = 'T' against that factorisation solves A X = B;
//  - Cholesky with uplo = 'U' of the buffer is A = U^T U with U column-major upper, which is the
//    row-major lower factor L (A = L L^T); it reads A's lower triangle, as PyTorch does.
// Matrices of a batch are independent; each call handles one.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include <autograd/kernels/kernels.hpp>

extern "C" {
// Fortran interfaces; the trailing size_t arguments are the hidden lengths of character ones.
void sgetrf_(const int* m, const int* n, float* a, const int* lda, int* ipiv, int* info);
void dgetrf_(const int* m, const int* n, double* a, const int* lda, int* ipiv, int* info);
void sgetri_(const int* n, float* a, const int* lda, const int* ipiv, float* work,
             const int* lwork, int* info);
void dgetri_(const int* n, double* a, const int* lda, const int* ipiv, double* work,
             const int* lwork, int* info);
void sgetrs_(const char* trans, const int* n, const int* nrhs, const float* a, const int* lda,
             const int* ipiv, float* b, const int* ldb, int* info, std::size_t);
void dgetrs_(const char* trans, const int* n, const int* nrhs, const double* a, const int* lda,
             const int* ipiv, double* b, const int* ldb, int* info, std::size_t);
void spotrf_(const char* uplo, const int* n, float* a, const int* lda, int* info, std::size_t);
void dpotrf_(const char* uplo, const int* n, double* a, const int* lda, int* info, std::size_t);
}

namespace ag::kernels {
namespace {

void getrf(int n, float* a, int* piv, int* info) { sgetrf_(&n, &n, a, &n, piv, info); }
void getrf(int n, double* a, int* piv, int* info) { dgetrf_(&n, &n, a, &n, piv, info); }
void getri(int n, float* a, const int* piv, float* work, int lwork, int* info) {
  sgetri_(&n, a, &n, piv, work, &lwork, info);
}
void getri(int n, double* a, const int* piv, double* work, int lwork, int* info) {
  dgetri_(&n, a, &n, piv, work, &lwork, info);
}
void getrs(int n, int k, const float* a, const int* piv, float* b, int* info) {
  sgetrs_("T", &n, &k, a, &n, piv, b, &n, info, 1);
}
void getrs(int n, int k, const double* a, const int* piv, double* b, int* info) {
  dgetrs_("T", &n, &k, a, &n, piv, b, &n, info, 1);
}
void potrf(int n, float* a, int* info) { spotrf_("U", &n, a, &n, info, 1); }
void potrf(int n, double* a, int* info) { dpotrf_("U", &n, a, &n, info, 1); }

template <class T>
bool finite(const T* p, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i)
    if (!std::isfinite(p[i])) return false;
  return true;
}

// Matrices of {n, n} or {b, n, n}: the batch size and n.
void dims(const Tensor& a, std::size_t& batch, std::size_t& n) {
  n = a.shape().back();
  batch = a.dim() == 3 ? a.shape()[0] : 1;
}

template <class T>
LapackStatus inv_typed(const Tensor& a, Tensor& out) {
  std::size_t batch, n;
  dims(a, batch, n);
  if (n == 0) return {};  // 0 x 0 matrices: an empty result (LAPACK rejects lda = 0)
  std::copy(a.data_ptr<T>(), a.data_ptr<T>() + a.numel(), out.data_ptr<T>());
  std::vector<int> piv(n);
  std::vector<T> work(std::max<std::size_t>(1, 64 * n));
  for (std::size_t b = 0; b < batch; ++b) {
    T* m = out.data_ptr<T>() + b * n * n;
    int info = 0;
    getrf(int(n), m, piv.data(), &info);
    if (info == 0) getri(int(n), m, piv.data(), work.data(), int(work.size()), &info);
    if (info == 0 && !finite(m, n * n)) info = -1;
    if (info != 0) return {b, info};
  }
  return {};
}

template <class T>
LapackStatus solve_typed(const Tensor& a, const Tensor& rhs, Tensor& out) {
  std::size_t batch, n;
  dims(a, batch, n);
  if (batch == 0 || n == 0) return {};  // nothing to solve: the result is empty
  std::size_t k = rhs.numel() / (batch * n);  // right-hand sides per matrix
  std::vector<T> lu(n * n), cols(n * k);
  std::vector<int> piv(n);
  for (std::size_t b = 0; b < batch; ++b) {
    std::memcpy(lu.data(), a.data_ptr<T>() + b * n * n, n * n * sizeof(T));
    const T* bp = rhs.data_ptr<T>() + b * n * k;
    for (std::size_t i = 0; i < n; ++i)  // row-major B {n, k} to column-major
      for (std::size_t j = 0; j < k; ++j) cols[j * n + i] = bp[i * k + j];
    int info = 0;
    getrf(int(n), lu.data(), piv.data(), &info);
    if (info == 0) getrs(int(n), int(k), lu.data(), piv.data(), cols.data(), &info);
    if (info == 0 && !finite(cols.data(), n * k)) info = -1;
    if (info != 0) return {b, info};
    T* op = out.data_ptr<T>() + b * n * k;
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j < k; ++j) op[i * k + j] = cols[j * n + i];
  }
  return {};
}

// sign and log |det| from the LU diagonal and the pivots' parity; a zero pivot gives (0, -inf).
template <class T>
void slogdet_typed(const Tensor& a, Tensor& sign, Tensor& logabs, Tensor* det) {
  std::size_t batch, n;
  dims(a, batch, n);
  std::vector<T> lu(n * n);
  std::vector<int> piv(n);
  for (std::size_t b = 0; b < batch; ++b) {
    if (n) std::memcpy(lu.data(), a.data_ptr<T>() + b * n * n, n * n * sizeof(T));
    int info = 0;
    if (n) getrf(int(n), lu.data(), piv.data(), &info);
    T s = T(1), l = T(0), product = T(1);
    for (std::size_t i = 0; i < n; ++i) {
      T d = lu[i * n + i];
      if (piv[i] != int(i) + 1) s = -s, product = -product;
      if (d < 0) s = -s;
      l += std::log(std::abs(d));
      product *= d;
    }
    if (info > 0) s = T(0), l = -INFINITY, product = T(0);
    sign.data_ptr<T>()[b] = s;
    logabs.data_ptr<T>()[b] = l;
    if (det) det->data_ptr<T>()[b] = product;
  }
}

template <class T>
LapackStatus cholesky_typed(const Tensor& a, Tensor& out) {
  std::size_t batch, n;
  dims(a, batch, n);
  if (n == 0) return {};  // 0 x 0 matrices: an empty result (LAPACK rejects lda = 0)
  std::copy(a.data_ptr<T>(), a.data_ptr<T>() + a.numel(), out.data_ptr<T>());
  for (std::size_t b = 0; b < batch; ++b) {
    T* m = out.data_ptr<T>() + b * n * n;
    int info = 0;
    potrf(int(n), m, &info);
    if (info == 0 && !finite(m, n * n)) info = -1;
    if (info != 0) return {b, info};
    for (std::size_t i = 0; i < n; ++i)  // the strict upper triangle still holds A's values
      std::fill(m + i * n + i + 1, m + (i + 1) * n, T(0));
  }
  return {};
}

}  // namespace

LapackStatus inv(const Tensor& a, Tensor& out) {
  return a.dtype() == float32 ? inv_typed<float>(a, out) : inv_typed<double>(a, out);
}
LapackStatus solve(const Tensor& a, const Tensor& b, Tensor& out) {
  return a.dtype() == float32 ? solve_typed<float>(a, b, out) : solve_typed<double>(a, b, out);
}
void slogdet(const Tensor& a, Tensor& sign, Tensor& logabs, Tensor* det) {
  if (a.dtype() == float32)
    slogdet_typed<float>(a, sign, logabs, det);
  else
    slogdet_typed<double>(a, sign, logabs, det);
}
LapackStatus cholesky(const Tensor& a, Tensor& out) {
  return a.dtype() == float32 ? cholesky_typed<float>(a, out) : cholesky_typed<double>(a, out);
}

}  // namespace ag::kernels
