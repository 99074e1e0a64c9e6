// Internal: what ag's oneDNN code shares (onednn.cpp): the one-OpenMP-thread rule, the
// backend switches (set_matmul_backend, set_conv_backend), and float32 GEMM through dnnl_sgemm
// for kernels/blas.cpp.
#pragma once

#include <atomic>
#include <cstddef>
#include <string>
#include <vector>

namespace ag::kernels::onednn {

// Debian builds oneDNN on OpenMP, a second thread pool beside TBB's. It never starts: before
// each oneDNN call the calling thread (the main one or a TBB worker) sets its own OpenMP thread
// count to 1, so oneDNN runs inline on it without a parallel region, and ag splits work over TBB
// itself. No OpenMP thread ever spins beside a TBB worker. No-op in builds without oneDNN.
void run_inline();

// One library choice between oneDNN and a fallback, whole process: on oneDNN by default where
// the build has it. `what` and `setter` name it in the error for an unknown name.
class BackendSwitch {
 public:
  BackendSwitch(const char* onednn_name, const char* fallback_name, const char* what,
                const char* setter);
  bool on_onednn() const { return on_onednn_.load(std::memory_order_relaxed); }
  std::string current() const { return on_onednn() ? onednn_ : fallback_; }
  std::vector<std::string> available() const;  // this build's, default first
  void set(const std::string& name);            // ag::Error naming the available ones otherwise

 private:
  const char *onednn_, *fallback_, *what_, *setter_;
  std::atomic<bool> on_onednn_;
};

// True when float32 products should go to sgemm() below: oneDNN is built and
// set_matmul_backend has not chosen "openblas".
bool gemm_enabled();

// C[m, n] = op(A)[m, k] op(B)[k, n] + beta C, row-major with leading dimensions, on the calling
// thread (dnnl_sgemm). Never reads C when beta is 0. Throws ag::Error if oneDNN fails, or if the
// build has no oneDNN.
void sgemm(bool ta, bool tb, std::size_t m, std::size_t n, std::size_t k, const float* a,
           std::size_t lda, const float* b, std::size_t ldb, float beta, float* c,
           std::size_t ldc);

}  // namespace ag::kernels::onednn
