// Run-time choice among the copies of the SIMD kernels (see kernels.hpp). Each ISA's copy is
// compiled from the same sources with its own -m flags into its own namespace, and linked as one
// object whose other symbols are made local (cmake/AgSimd.cmake), so no inline function
// compiled for AVX2 can stand in for the baseline's copy. The choice is made once, at the first
// kernel call: the best ISA the CPU supports, or the one named by AG_SIMD.
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include <autograd/kernels/kernels.hpp>
#include <autograd/simd.hpp>

#ifndef AG_SIMD_DISPATCH
// One copy of the kernels, compiled for the build's own target (AG_NATIVE, or not x86-64).
namespace ag {
std::string simd_isa() { return "native"; }
std::vector<std::string> simd_isas_available() { return {"native"}; }
}  // namespace ag
#else
#include <cpuid.h>  // x86-64 only, as run-time dispatch is (cmake/AgSimd.cmake)

namespace ag::kernels {

// The copies this build has (AG_SIMD_HAVE_<isa>, set by CMake). sse2 is always there.
inline namespace isa_sse2 {  // inline, as where it is defined
#include <autograd/kernels/simd_kernels.inc>
}  // namespace isa_sse2
#ifdef AG_SIMD_HAVE_avx2
inline namespace isa_avx2 {  // inline, as where it is defined
#include <autograd/kernels/simd_kernels.inc>
}  // namespace isa_avx2
#endif
#ifdef AG_SIMD_HAVE_avx512
inline namespace isa_avx512 {  // inline, as where it is defined
#include <autograd/kernels/simd_kernels.inc>
}  // namespace isa_avx512
#endif

namespace {

enum class Isa { Sse2, Avx2, Avx512 };

struct IsaInfo {
  Isa isa;
  const char* name;
  bool built;
  bool (*cpu_runs)();
};

// XCR0, the register in which the OS says which register state it saves on a context switch
// (0 where the CPU or the OS has no XSAVE). A CPU may report AVX-512 in CPUID while the OS (or a
// hypervisor) leaves the ZMM and opmask registers unsaved: running AVX-512 code there corrupts
// other threads' registers or faults, so CPUID alone is not enough.
std::uint64_t xcr0() {
  unsigned eax, ebx, ecx, edx;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx) || !(ecx & bit_OSXSAVE)) return 0;
  unsigned lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));  // no -mxsave needed, unlike _xgetbv
  return (std::uint64_t(hi) << 32) | lo;
}
constexpr std::uint64_t kXcr0Ymm = 0x6;    // SSE (XMM) and AVX (upper YMM) state
constexpr std::uint64_t kXcr0Zmm = 0xe6;   // those, opmask k0-k7, upper ZMM0-15, ZMM16-31
bool os_saves(std::uint64_t bits) { return (xcr0() & bits) == bits; }

// Best first: the CPU must have every extension the copy is compiled for (CPUID, through
// __builtin_cpu_supports), and the OS must save its registers (XGETBV).
const IsaInfo kIsas[] = {
#ifdef AG_SIMD_HAVE_avx512
    {Isa::Avx512, "avx512", true,
     [] {
       return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
              __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") &&
              __builtin_cpu_supports("avx512cd") && __builtin_cpu_supports("avx2") &&
              __builtin_cpu_supports("fma") && os_saves(kXcr0Zmm);
     }},
#else
    {Isa::Avx512, "avx512", false, [] { return false; }},
#endif
#ifdef AG_SIMD_HAVE_avx2
    {Isa::Avx2, "avx2", true,
     [] {
       return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
              os_saves(kXcr0Ymm);
     }},
#else
    {Isa::Avx2, "avx2", false, [] { return false; }},
#endif
    {Isa::Sse2, "sse2", true, [] { return true; }},
};

std::string built_names() {
  std::string out;
  for (const IsaInfo& info : kIsas)
    if (info.built) out += (out.empty() ? "" : ", ") + std::string(info.name);
  return out;
}

const IsaInfo& choose() {
  __builtin_cpu_init();
  const char* forced = std::getenv("AG_SIMD");
  if (forced && *forced) {
    std::string want = forced == std::string("baseline") ? "sse2" : forced;
    for (const IsaInfo& info : kIsas) {
      if (want != info.name) continue;
      if (!info.built)
        fail("AG_SIMD=" + want + ": this build of ag has no " + want + " kernels (it has " +
             built_names() + "; configure with -DAG_SIMD_ISAS=\"sse2;avx2;avx512\" for more)");
      if (!info.cpu_runs()) fail("AG_SIMD=" + want + ": this CPU cannot run " + want + " code");
      return info;
    }
    fail("AG_SIMD=" + std::string(forced) +
         ": unknown instruction set (use sse2 or baseline, avx2, avx512)");
  }
  for (const IsaInfo& info : kIsas)
    if (info.built && info.cpu_runs()) return info;
  return kIsas[sizeof(kIsas) / sizeof(kIsas[0]) - 1];
}

// Chosen on first use rather than at load, so that a bad AG_SIMD throws ag::Error to a caller
// instead of terminating before main. After that every kernel call reads the choice with one
// plain load (the function-local static's guard and a call cost ~45 instructions per call, a
// quarter of a 1-element op's kernel time). Relaxed is enough: every thread that stores, stores
// the same value, and choose() has no other effect a reader depends on.
std::atomic<int> g_active{-1};

Isa resolve_active() {
  static const Isa isa = choose().isa;
  g_active.store(static_cast<int>(isa), std::memory_order_relaxed);
  return isa;
}

inline Isa active() {
  int isa = g_active.load(std::memory_order_relaxed);
  return isa >= 0 ? static_cast<Isa>(isa) : resolve_active();
}

}  // namespace

// AG_DISPATCH(f(args)): f of the active copy, as one expression (also for void f).
#ifdef AG_SIMD_HAVE_avx512
#define AG_PICK_AVX512(call) active() == Isa::Avx512 ? isa_avx512::call:
#else
#define AG_PICK_AVX512(call)
#endif
#ifdef AG_SIMD_HAVE_avx2
#define AG_PICK_AVX2(call) active() == Isa::Avx2 ? isa_avx2::call:
#else
#define AG_PICK_AVX2(call)
#endif
#define AG_DISPATCH(call) (AG_PICK_AVX512(call) AG_PICK_AVX2(call) isa_sse2::call)

inline namespace isa_dispatch {

void unary(Unary op, const Tensor& x, Tensor& out, double a, double b) {
  return AG_DISPATCH(unary(op, x, out, a, b));
}
Shape broadcast_shapes(const Shape& a, const Shape& b) {
  return AG_DISPATCH(broadcast_shapes(a, b));
}
void binary(Binary op, const Tensor& a, const Tensor& b, Tensor& out) {
  return AG_DISPATCH(binary(op, a, b, out));
}
void sum(const Tensor& x, const std::vector<bool>& reduce, Tensor& out) {
  return AG_DISPATCH(sum(x, reduce, out));
}
void max_along(const Tensor& x, std::size_t axis, bool is_max, Tensor* values, Tensor* indices) {
  return AG_DISPATCH(max_along(x, axis, is_max, values, indices));
}
void log_softmax_along(const Tensor& x, std::size_t axis, Tensor& out) {
  return AG_DISPATCH(log_softmax_along(x, axis, out));
}
double softmax_xent(const Tensor& x, const Tensor& labels, Tensor& probs) {
  return AG_DISPATCH(softmax_xent(x, labels, probs));
}
void softmax_xent_backward(const Tensor& probs, const Tensor& labels, double scale, Tensor& dx) {
  return AG_DISPATCH(softmax_xent_backward(probs, labels, scale, dx));
}
void matmul(const Tensor& a, const Tensor& b, bool trans_a, bool trans_b, Tensor& out) {
  return AG_DISPATCH(matmul(a, b, trans_a, trans_b, out));
}
void linear(const Tensor& x, const Tensor& w, const Tensor& bias, Tensor& out) {
  return AG_DISPATCH(linear(x, w, bias, out));
}
bool all_finite(const Tensor& x) { return AG_DISPATCH(all_finite(x)); }
void axpy(double alpha, const Tensor& x, Tensor& y) { return AG_DISPATCH(axpy(alpha, x, y)); }
void scale(Tensor& y, double s) { return AG_DISPATCH(scale(y, s)); }
void sgd_update(const SgdUpdate& o, Tensor& w, const Tensor& g, Tensor* buf) {
  return AG_DISPATCH(sgd_update(o, w, g, buf));
}
void adam_update(const AdamUpdate& o, Tensor& w, const Tensor& g, Tensor& m, Tensor& v) {
  return AG_DISPATCH(adam_update(o, w, g, m, v));
}

}  // namespace isa_dispatch
}  // namespace ag::kernels

namespace ag {

std::string simd_isa() {
  switch (kernels::active()) {
    case kernels::Isa::Avx512: return "avx512";
    case kernels::Isa::Avx2: return "avx2";
    default: return "sse2";
  }
}

std::vector<std::string> simd_isas_available() {
  std::vector<std::string> out;
  for (const kernels::IsaInfo& info : kernels::kIsas)
    if (info.built && info.cpu_runs()) out.push_back(info.name);
  return out;
}

}  // namespace ag

#endif  // AG_SIMD_DISPATCH
