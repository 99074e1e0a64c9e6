// The roofline of a training step (issue 15): the time of the step's matrix products alone.
//
// ag_bench defines cblas_sgemm, cblas_sgemv and (where ag is built with oneDNN) dnnl_sgemm
// itself (roofline.cpp): every call, ag's included (libag's references bind to the executable's
// definitions), goes through them to the libraries' own, found with dlsym(RTLD_NEXT). While a
// Recording is alive each call is also written down: library, order, transposes, shapes,
// leading dimensions, increments, alpha and beta. Replay then makes exactly those calls again,
// each in the library that served it, on buffers of the same sizes, so the roofline follows
// whatever blas.cpp decides (the backend, sgemv for one row, the transposed few-row product,
// ...) without a copy of its rules. What ag computes without a GEMM library (the k = 1 outer
// product of a batch-1 weight gradient) is not in it.
#pragma once

#include <cstddef>
#include <vector>

namespace bench {

enum class BlasLib { kSgemm, kSgemv, kDnnlSgemm };  // cblas_sgemm, cblas_sgemv, dnnl_sgemm

struct BlasCall {
  BlasLib lib;
  int order, trans_a, trans_b;  // CBLAS enums as ints (dnnl: row-major, 'T' as CblasTrans)
  int m, n, k;                  // gemv: m, n of the matrix; k unused
  float alpha, beta;
  int lda, ldb, ldc;            // gemv: lda, incx (ldb), incy (ldc)
};

// Records the BLAS calls made while it lives (one at a time; not thread-safe: record at one
// thread).
class Recording {
 public:
  Recording();
  ~Recording();
  Recording(const Recording&) = delete;
  Recording& operator=(const Recording&) = delete;
  std::vector<BlasCall> calls() const;
};

// Buffers for a list of calls, allocated once and filled with small values (no denormals).
class Replay {
 public:
  explicit Replay(std::vector<BlasCall> calls);
  void run();  // every call once, in order, each in its own library
  // The library threads a replay may use: OpenBLAS's and oneDNN's (OpenMP) thread counts; ag
  // keeps both at 1 (it splits large products over TBB itself).
  static void set_library_threads(int threads);
  std::size_t size() const { return calls_.size(); }
  double multiply_adds() const;

 private:
  std::vector<BlasCall> calls_;
  std::vector<std::vector<float>> a_, b_, c_;
};

}  // namespace bench
