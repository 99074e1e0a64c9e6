// oneDNN's share of ag (onednn.hpp): the matmul backend switch (matmul_backend.hpp), the
// one-OpenMP-thread rule that conv_dnnl.cpp and blas.cpp both follow, and dnnl_sgemm.
//
// Why oneDNN for float32 GEMM: OpenBLAS 0.3.21 does not know this project's CPUs' AVX-512
// models and falls back to its SSE3 (PRESCOTT) kernels, or to AVX2 ones when told to
// (OPENBLAS_CORETYPE=Haswell); dnnl_sgemm picks its JIT kernels from CPUID at run time. At the
// MLP benchmark's shapes it is 1.5-2x OpenBLAS-Haswell and 2-5x OpenBLAS-PRESCOTT (bench/PROFILE.md).
#include <string>
#include <vector>

#include <autograd/kernels/onednn.hpp>
#include <autograd/matmul_backend.hpp>
#include <autograd/tensor.hpp>

#ifdef AG_HAVE_DNNL
#include <oneapi/dnnl/dnnl.h>

extern "C" void omp_set_num_threads(int);  // libgomp, oneDNN's runtime (no omp.h under clang)
#endif

namespace ag::kernels::onednn {

#ifdef AG_HAVE_DNNL
constexpr bool kBuilt = true;
#else
constexpr bool kBuilt = false;
#endif

BackendSwitch::BackendSwitch(const char* onednn_name, const char* fallback_name,
                             const char* what, const char* setter)
    : onednn_(onednn_name), fallback_(fallback_name), what_(what), setter_(setter),
      on_onednn_(kBuilt) {}

std::vector<std::string> BackendSwitch::available() const {
  if (kBuilt) return {onednn_, fallback_};
  return {fallback_};
}

void BackendSwitch::set(const std::string& name) {
  if ((kBuilt && name == onednn_) || name == fallback_) {
    on_onednn_.store(name == onednn_, std::memory_order_relaxed);
    return;
  }
  throw Error(std::string(setter_) + ": '" + name + "' is not a " + what_ +
              " backend of this build (" +
              (kBuilt ? std::string(onednn_) + ", " + fallback_
                      : std::string(fallback_) + " only: oneDNN was not found") +
              ")");
}

namespace {
BackendSwitch& gemm_switch() {
  static BackendSwitch s("onednn", "openblas", "matrix-product", "set_matmul_backend");
  return s;
}
}  // namespace

}  // namespace ag::kernels::onednn

namespace ag {
std::string matmul_backend() { return kernels::onednn::gemm_switch().current(); }
std::vector<std::string> matmul_backends_available() {
  return kernels::onednn::gemm_switch().available();
}
void set_matmul_backend(const std::string& name) { kernels::onednn::gemm_switch().set(name); }
}  // namespace ag

namespace ag::kernels::onednn {

bool gemm_enabled() { return gemm_switch().on_onednn(); }

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
