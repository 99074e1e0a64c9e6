// Which vector instruction set the kernels run with. On x86-64 the library carries one copy of
// its SIMD kernels per instruction set (SSE2, the baseline every x86-64 CPU has; AVX2 + FMA; and
// AVX-512 F/CD/BW/DQ/VL unless configured without it) and picks the best one the CPU supports,
// and whose registers the OS saves (XGETBV), when first used. The
// environment variable AG_SIMD names another (AG_SIMD=sse2 runs the baseline path anywhere);
// naming one this build lacks or this CPU cannot run makes the first kernel call throw ag::Error.
// Builds with one copy (AG_NATIVE=ON, or not x86-64) ignore AG_SIMD.
#pragma once

#include <string>
#include <vector>

#include <autograd/export.hpp>

AG_API_BEGIN
namespace ag {

/// The instruction set the kernels run with: "sse2", "avx2" or "avx512" where the library
/// dispatches at run time, "native" in an AG_NATIVE build or on non-x86 CPUs (NEON on arm64).
std::string simd_isa();

/// The instruction sets this build carries and this CPU runs, best first.
std::vector<std::string> simd_isas_available();

}  // namespace ag
AG_API_END
