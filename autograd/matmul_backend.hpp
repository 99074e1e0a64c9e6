// Which library runs float32 matrix products (matmul, bmm, linear and their gradients).
// "onednn": oneDNN's dnnl_sgemm (JIT kernels for the CPU it runs on: AVX-512 where there is
// AVX-512), in builds that found libdnnl at configure time (AG_WITH_DNNL, on by default);
// "openblas": OpenBLAS's cblas_sgemm / cblas_sgemv, always built. float64 always runs OpenBLAS.
// The two agree within float32 rounding; each is deterministic for a given thread count.
#pragma once

#include <string>
#include <vector>

#include <autograd/export.hpp>

AG_API_BEGIN
namespace ag {

/// The library that runs float32 matrix products: "onednn" (the default where built) or
/// "openblas".
std::string matmul_backend();

/// The matrix-product backends this build carries, default first.
std::vector<std::string> matmul_backends_available();

/// Chooses the float32 matrix-product library for the whole process; throws ag::Error naming
/// the backends of this build when `name` is not one of them.
void set_matmul_backend(const std::string& name);

}  // namespace ag
AG_API_END
