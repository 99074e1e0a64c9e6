// oneDNN's share of ag (onednn.hpp): the matmul backend switch (matmul_backend.hpp), the
// one-OpenMP-thread rule that conv_dnnl.cpp and blas.cpp both follow, and dnnl_sgemm.
//
// Why oneDNN for float32 GEMM: OpenBLAS 0.3.21 does not know this project's CPUs' AVX-512
// models and falls back to its SSE3 (PRESCOTT) kernels, or to AVX2 ones when told to
// (OPENBLAS_CORETYPE=Haswell); dnnl_sgemm picks its JIT kernels from CPUID at run time. At the
// MLP benchmark's shapes it is 1.5-2x OpenBLAS-Haswell and 2-5x OpenBLAS-PRESCOTT (bench/PROFILE.md).
#include <atomic>
#include <string>

#include <autograd/kernels/onednn.hpp>
#include <autograd/matmul_backend.hpp>
#include <autograd/tensor.hpp>

#ifdef AG_HAVE_DNNL
#include <oneapi/dnnl/dnnl.h>

extern "C" void omp_set_num_threads(int);  // libgomp, oneDNN's runtime (no omp.h under clang)
#endif

namespace ag {
namespace {
#ifdef AG_HAVE_DNNL
std::atomic<bool> g_gemm_on_dnnl{true};
#else
std::atomic<bool> g_gemm_on_dnnl{false};
#endif
}  // namespace

std::string matmul_backend() { return g_gemm_on_dnnl ? "onednn" : "openblas"; }

std::vector<std::string> matmul_backends_available() {
#ifdef AG_HAVE_DNNL
  return {"onednn", "openblas"};
#else
  return {"openblas"};
#endif
}

void set_matmul_backend(const std::string& name) {
  for (const std::string& b : matmul_backends_available())
    if (b == name) {
      g_gemm_on_dnnl = name == "onednn";
      return;
    }
  throw Error("set_matmul_backend: '" + name + "' is not a matrix-product backend of this build (" +
              (matmul_backends_available().size() > 1 ? "onednn, openblas"
                                                      : "openblas only: oneDNN was not found") +
              ")");
}

}  // namespace ag

namespace ag::kernels::onednn {

bool gemm_enabled() { return g_gemm_on_dnnl.load(std::memory_order_relaxed); }

#ifdef AG_HAVE_DNNL
void run_inline() { omp_set_num_threads(1); }  // this thread's count: each thread has its own

void sgemm(bool ta, bool tb, std::size_t m, std::size_t n, std::size_t k, const float* a,
           std::size_t lda, const float* b, std::size_t ldb, float beta, float* c,
           std::size_t ldc) {
  run_inline();
  auto d = [](std::size_t v) { return static_cast<dnnl_dim_t>(v); };
  dnnl_status_t status = dnnl_sgemm(ta ? 'T' : 'N', tb ? 'T' : 'N', d(m), d(n), d(k), 1.0f, a,
                                    d(lda), b, d(ldb), beta, c, d(ldc));
  if (status != dnnl_success)
    throw Error("matmul (oneDNN): dnnl_sgemm failed with status " +
                std::to_string(int(status)) + " for float32 [" + std::to_string(m) + ", " +
                std::to_string(k) + "] x [" + std::to_string(k) + ", " + std::to_string(n) +
                "] (transposes " + std::to_string(ta) + ", " + std::to_string(tb) + ")");
}
#else
void run_inline() {}

void sgemm(bool, bool, std::size_t, std::size_t, std::size_t, const float*, std::size_t,
           const float*, std::size_t, float, float*, std::size_t) {
  throw Error("matmul: this build of ag has no oneDNN (set_matmul_backend(\"openblas\"))");
}
#endif

}  // namespace ag::kernels::onednn
