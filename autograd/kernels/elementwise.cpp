// Elementwise kernels. Each op is one functor whose call operator is a template, so the same
// line of math runs on a scalar (the tail) and on an xsimd batch (the body): 8 floats or
// 4 doubles at a time with AVX2. Large tensors are split over threads in contiguous chunks.
#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <type_traits>

#include <xsimd/xsimd.hpp>
#ifdef __SSE2__
#include <immintrin.h>
#endif

#include <autograd/kernels/kernels.hpp>
#include <autograd/kernels/parallel.hpp>

namespace ag::kernels {
inline namespace AG_SIMD_NS {  // one copy per instruction set: kernels.hpp
namespace {

template <class T> T select(bool c, T a, T b) { return c ? a : b; }
// lit<V>(c): the constant c as a scalar of V's element type, or as a broadcast batch.
template <class V> struct scalar_of { using type = V; };
template <class T, class A> struct scalar_of<xsimd::batch<T, A>> { using type = T; };
template <class V, class S> V lit(S v) { return V(static_cast<typename scalar_of<V>::type>(v)); }

// ---- unary functors: f(x) with parameters a, b ---------------------------------------------
#define AG_UNARY(NAME, EXPR)                       \
  struct NAME {                                    \
    double a, b;                                   \
    template <class V> V operator()(V x) const {   \
      using std::exp; using std::log; using std::sqrt; using std::abs; using std::sin; \
      using std::cos; using std::tanh; using std::log1p; using std::max; using std::min; \
      (void)a; (void)b;                            \
      return EXPR;                                 \
    }                                              \
  };
AG_UNARY(NegF, -x)
AG_UNARY(ExpF, exp(x))
AG_UNARY(LogF, log(x))
AG_UNARY(SqrtF, sqrt(x))
AG_UNARY(AbsF, abs(x))
AG_UNARY(SinF, sin(x))
AG_UNARY(CosF, cos(x))
AG_UNARY(TanhF, tanh(x))
AG_UNARY(SigmoidF, lit<V>(1) / (lit<V>(1) + exp(-x)))
// NaN goes through every activation, clamp, maximum and minimum, as in PyTorch: a NaN must reach
// anomaly mode (and the loss) instead of vanishing into 0 or a bound. (x <= 0 is false for NaN.)
AG_UNARY(ReluF, select(x <= lit<V>(0), lit<V>(0), x))
AG_UNARY(StepF, select(x >= lit<V>(0), lit<V>(1), select(x < lit<V>(0), lit<V>(0), x)))
AG_UNARY(SignF, select(x > lit<V>(0), lit<V>(1), select(x < lit<V>(0), lit<V>(-1), x * lit<V>(0))))
// PyTorch's softplus: x itself beyond 20, where log1p(e^x) == x in float32.
AG_UNARY(SoftplusF, select(x > lit<V>(20), x, log1p(exp(select(x > lit<V>(20), lit<V>(0), x)))))
AG_UNARY(LeakyReluF, select(x > lit<V>(0), x, x * lit<V>(a)))
AG_UNARY(ClampF, select(x < lit<V>(a), lit<V>(a), select(x > lit<V>(b), lit<V>(b), x)))
AG_UNARY(AddScalarF, x + lit<V>(a))
AG_UNARY(MulScalarF, x * lit<V>(a))
AG_UNARY(RSubScalarF, lit<V>(a) - x)
AG_UNARY(DivScalarF, x / lit<V>(a))
AG_UNARY(RDivScalarF, lit<V>(a) / x)
AG_UNARY(GtScalarF, select(x > lit<V>(a), lit<V>(1), lit<V>(0)))
AG_UNARY(GeScalarF, select(x >= lit<V>(a), lit<V>(1), lit<V>(0)))
AG_UNARY(LeScalarF, select(x <= lit<V>(a), lit<V>(1), lit<V>(0)))
AG_UNARY(ClampMaskF, select(x >= lit<V>(a), select(x <= lit<V>(b), lit<V>(1), lit<V>(0)), lit<V>(0)))
#undef AG_UNARY

// pow stays scalar: std::pow is exact for integer exponents of negative bases.
struct PowF {
  double a, b;
  template <class T> T operator()(T x) const {
    if (a == 2) return x * x;
    return static_cast<T>(std::pow(x, static_cast<T>(a)));
  }
};

template <class T, class F>
void map1(const T* x, T* y, std::size_t n, F f) {
  parallel::for_range(n, parallel::kGrainMath, [&](std::size_t b, std::size_t e) {
    using B = xsimd::batch<T>;
    constexpr std::size_t W = B::size;
    // Local copies: through the by-reference capture, every store to y could change x and y
    // themselves, and g++ reloaded both pointers in each iteration (4 of 14 instructions).
    const T* xp = x;
    T* yp = y;
    std::size_t i = b;
    for (; i + W <= e; i += W) f(B::load_unaligned(xp + i)).store_unaligned(yp + i);
    for (; i < e; ++i) yp[i] = f(xp[i]);
  });
}

template <class T>
void map1_pow(const T* x, T* y, std::size_t n, PowF f) {
  parallel::for_range(n, parallel::kGrainMath, [&](std::size_t b, std::size_t e) {
    for (std::size_t i = b; i < e; ++i) y[i] = f(x[i]);
  });
}

template <class T>
void unary_typed(Unary op, const T* x, T* y, std::size_t n, double a, double b) {
  switch (op) {
    case Unary::Neg: return map1(x, y, n, NegF{a, b});
    case Unary::Exp: return map1(x, y, n, ExpF{a, b});
    case Unary::Log: return map1(x, y, n, LogF{a, b});
    case Unary::Sqrt: return map1(x, y, n, SqrtF{a, b});
    case Unary::Abs: return map1(x, y, n, AbsF{a, b});
    case Unary::Sin: return map1(x, y, n, SinF{a, b});
    case Unary::Cos: return map1(x, y, n, CosF{a, b});
    case Unary::Tanh: return map1(x, y, n, TanhF{a, b});
    case Unary::Sigmoid: return map1(x, y, n, SigmoidF{a, b});
    case Unary::Relu: return map1(x, y, n, ReluF{a, b});
    case Unary::Step: return map1(x, y, n, StepF{a, b});
    case Unary::Sign: return map1(x, y, n, SignF{a, b});
    case Unary::Softplus: return map1(x, y, n, SoftplusF{a, b});
    case Unary::LeakyRelu: return map1(x, y, n, LeakyReluF{a, b});
    case Unary::Clamp: return map1(x, y, n, ClampF{a, b});
    case Unary::Pow: return map1_pow(x, y, n, PowF{a, b});
    case Unary::AddScalar: return map1(x, y, n, AddScalarF{a, b});
    case Unary::MulScalar: return map1(x, y, n, MulScalarF{a, b});
    case Unary::RSubScalar: return map1(x, y, n, RSubScalarF{a, b});
    case Unary::DivScalar: return map1(x, y, n, DivScalarF{a, b});
    case Unary::RDivScalar: return map1(x, y, n, RDivScalarF{a, b});
    case Unary::GtScalar: return map1(x, y, n, GtScalarF{a, b});
    case Unary::GeScalar: return map1(x, y, n, GeScalarF{a, b});
    case Unary::LeScalar: return map1(x, y, n, LeScalarF{a, b});
    case Unary::ClampMask: return map1(x, y, n, ClampMaskF{a, b});
  }
}

// ---- binary functors -------------------------------------------------------------------------
#define AG_BINARY(NAME, EXPR)                          \
  struct NAME {                                        \
    template <class V> V operator()(V x, V y) const {  \
      using std::max; using std::min;                  \
      return EXPR;                                     \
    }                                                  \
  };
AG_BINARY(AddF, x + y)
AG_BINARY(SubF, x - y)
AG_BINARY(MulF, x * y)
AG_BINARY(DivF, x / y)
// x == x is false only for NaN (xsimd's != is an ordered compare, false for NaN too).
AG_BINARY(MaximumF, select(x == x, select(x >= y, x, y), x))
AG_BINARY(MinimumF, select(x == x, select(x <= y, x, y), x))
AG_BINARY(GtF, select(x > y, lit<V>(1), lit<V>(0)))
AG_BINARY(GeF, select(x >= y, lit<V>(1), lit<V>(0)))
AG_BINARY(EqF, select(x == y, lit<V>(1), lit<V>(0)))
AG_BINARY(MaxGradF, select(x > y, lit<V>(1), select(x == y, lit<V>(0.5), lit<V>(0))))
AG_BINARY(SigmoidBackwardF, x * y * (lit<V>(1) - y))
AG_BINARY(TanhBackwardF, x * (lit<V>(1) - y * y))
// Multiplies by the 0/1 mask rather than selecting g or 0, so that it gives the unfused
// mul(g, gt(x, 0)) bit for bit, NaN and inf included (inf * 0 is NaN there too).
AG_BINARY(ReluBackwardF, x * select(y > lit<V>(0), lit<V>(1), lit<V>(0)))
#undef AG_BINARY

// One contiguous run: x advances by sx (0 or 1), y by sy (0 or 1).
template <class T, class F>
void run2(const T* x, std::size_t sx, const T* y, std::size_t sy, T* out, std::size_t n, F f) {
  using B = xsimd::batch<T>;
  constexpr std::size_t W = B::size;
  std::size_t i = 0;
  if (sx && sy) {
    for (; i + W <= n; i += W)
      f(B::load_unaligned(x + i), B::load_unaligned(y + i)).store_unaligned(out + i);
  } else if (sx) {
    B yb(y[0]);
    for (; i + W <= n; i += W) f(B::load_unaligned(x + i), yb).store_unaligned(out + i);
  } else if (sy) {
    B xb(x[0]);
    for (; i + W <= n; i += W) f(xb, B::load_unaligned(y + i)).store_unaligned(out + i);
  }
  for (; i < n; ++i) out[i] = f(x[i * sx], y[i * sy]);
}

// Broadcasting as a loop nest over coalesced dimensions: stride 0 where an input broadcasts.
struct Plan {
  std::vector<std::size_t> dims, sx, sy;  // outermost first
};

Plan make_plan(const Shape& xs, const Shape& ys, const Shape& os) {
  std::size_t nd = os.size();
  std::vector<std::size_t> dims(nd), sx(nd), sy(nd);
  std::size_t stx = 1, sty = 1;
  for (std::size_t k = nd; k-- > 0;) {
    std::size_t off = nd - k;
    std::size_t dx = off <= xs.size() ? xs[xs.size() - off] : 1;
    std::size_t dy = off <= ys.size() ? ys[ys.size() - off] : 1;
    dims[k] = os[k];
    sx[k] = (dx == 1 && os[k] != 1) ? 0 : stx;
    sy[k] = (dy == 1 && os[k] != 1) ? 0 : sty;
    stx *= dx;
    sty *= dy;
  }
  Plan p;
  for (std::size_t k = 0; k < nd; ++k) {
    if (dims[k] == 1) continue;
    if (!p.dims.empty() && p.sx.back() == sx[k] * dims[k] && p.sy.back() == sy[k] * dims[k]) {
      p.dims.back() *= dims[k];
      p.sx.back() = sx[k];
      p.sy.back() = sy[k];
    } else {
      p.dims.push_back(dims[k]);
      p.sx.push_back(sx[k]);
      p.sy.push_back(sy[k]);
    }
  }
  if (p.dims.empty()) p = Plan{{1}, {1}, {1}};
  return p;
}

template <class T, class F>
void map2(const T* x, const T* y, T* out, const Plan& p, std::size_t n, F f) {
  std::size_t nd = p.dims.size(), inner = p.dims.back();
  std::size_t isx = p.sx.back(), isy = p.sy.back();
  parallel::for_range(n, parallel::kGrain, [&](std::size_t b, std::size_t e) {
    std::vector<std::size_t> idx(nd);
    std::size_t rem = b, ox = 0, oy = 0;
    for (std::size_t k = nd; k-- > 0;) {
      idx[k] = rem % p.dims[k];
      rem /= p.dims[k];
      ox += idx[k] * p.sx[k];
      oy += idx[k] * p.sy[k];
    }
    std::size_t pos = b;
    while (pos < e) {
      std::size_t len = std::min(inner - idx[nd - 1], e - pos);
      run2(x + ox, isx, y + oy, isy, out + pos, len, f);
      pos += len;
      // advance the multi-index past this run
      idx[nd - 1] += len;
      ox += len * isx;
      oy += len * isy;
      for (std::size_t k = nd - 1; k > 0 && idx[k] == p.dims[k]; --k) {
        ox -= idx[k] * p.sx[k];
        oy -= idx[k] * p.sy[k];
        idx[k] = 0;
        ++idx[k - 1];
        ox += p.sx[k - 1];
        oy += p.sy[k - 1];
      }
    }
  });
}

template <class T>
void binary_typed(Binary op, const T* x, const T* y, T* out, const Plan& p, std::size_t n) {
  switch (op) {
    case Binary::Add: return map2(x, y, out, p, n, AddF{});
    case Binary::Sub: return map2(x, y, out, p, n, SubF{});
    case Binary::Mul: return map2(x, y, out, p, n, MulF{});
    case Binary::Div: return map2(x, y, out, p, n, DivF{});
    case Binary::Maximum: return map2(x, y, out, p, n, MaximumF{});
    case Binary::Minimum: return map2(x, y, out, p, n, MinimumF{});
    case Binary::Gt: return map2(x, y, out, p, n, GtF{});
    case Binary::Ge: return map2(x, y, out, p, n, GeF{});
    case Binary::Eq: return map2(x, y, out, p, n, EqF{});
    case Binary::MaxGrad: return map2(x, y, out, p, n, MaxGradF{});
    case Binary::SigmoidBackward: return map2(x, y, out, p, n, SigmoidBackwardF{});
    case Binary::TanhBackward: return map2(x, y, out, p, n, TanhBackwardF{});
    case Binary::ReluBackward: return map2(x, y, out, p, n, ReluBackwardF{});
  }
}

template <class T, class F>
void flat2(const T* x, bool x_full, const T* y, bool y_full, T* out, std::size_t n, F f) {
  parallel::for_range(n, parallel::kGrain, [&](std::size_t b, std::size_t e) {
    run2(x + (x_full ? b : 0), x_full, y + (y_full ? b : 0), y_full, out + b, e - b, f);
  });
}

template <class T>
void binary_flat(Binary op, const T* x, bool xf, const T* y, bool yf, T* out, std::size_t n) {
  switch (op) {
    case Binary::Add: return flat2(x, xf, y, yf, out, n, AddF{});
    case Binary::Sub: return flat2(x, xf, y, yf, out, n, SubF{});
    case Binary::Mul: return flat2(x, xf, y, yf, out, n, MulF{});
    case Binary::Div: return flat2(x, xf, y, yf, out, n, DivF{});
    case Binary::Maximum: return flat2(x, xf, y, yf, out, n, MaximumF{});
    case Binary::Minimum: return flat2(x, xf, y, yf, out, n, MinimumF{});
    case Binary::Gt: return flat2(x, xf, y, yf, out, n, GtF{});
    case Binary::Ge: return flat2(x, xf, y, yf, out, n, GeF{});
    case Binary::Eq: return flat2(x, xf, y, yf, out, n, EqF{});
    case Binary::MaxGrad: return flat2(x, xf, y, yf, out, n, MaxGradF{});
    case Binary::SigmoidBackward: return flat2(x, xf, y, yf, out, n, SigmoidBackwardF{});
    case Binary::TanhBackward: return flat2(x, xf, y, yf, out, n, TanhBackwardF{});
    case Binary::ReluBackward: return flat2(x, xf, y, yf, out, n, ReluBackwardF{});
  }
}

}  // namespace

void unary(Unary op, const Tensor& x, Tensor& out, double a, double b) {
  std::size_t n = x.numel();
  if (x.dtype() == float32)
    unary_typed(op, x.data_ptr<float>(), out.data_ptr<float>(), n, a, b);
  else
    unary_typed(op, x.data_ptr<double>(), out.data_ptr<double>(), n, a, b);
}

Shape broadcast_shapes(const Shape& a, const Shape& b) {
  std::size_t nd = std::max(a.size(), b.size());
  Shape out(nd);
  for (std::size_t off = 1; off <= nd; ++off) {
    std::size_t da = off <= a.size() ? a[a.size() - off] : 1;
    std::size_t db = off <= b.size() ? b[b.size() - off] : 1;
    if (da != db && da != 1 && db != 1) throw std::invalid_argument("shapes do not broadcast");
    out[nd - off] = da == 1 ? db : da;
  }
  return out;
}

void binary(Binary op, const Tensor& x, const Tensor& y, Tensor& out) {
  std::size_t n = out.numel();
  if (n == 0) return;
  // Most calls (MLPs, every backward product) need no broadcasting beyond a scalar: one flat
  // run, without building a plan.
  bool x_full = x.numel() == n, y_full = y.numel() == n;
  if ((x_full || x.numel() == 1) && (y_full || y.numel() == 1)) {
    if (x.dtype() == float32)
      binary_flat(op, x.data_ptr<float>(), x_full, y.data_ptr<float>(), y_full, out.data_ptr<float>(), n);
    else
      binary_flat(op, x.data_ptr<double>(), x_full, y.data_ptr<double>(), y_full, out.data_ptr<double>(), n);
    return;
  }
  Plan p = make_plan(x.shape(), y.shape(), out.shape());
  if (x.dtype() == float32)
    binary_typed(op, x.data_ptr<float>(), y.data_ptr<float>(), out.data_ptr<float>(), p, n);
  else
    binary_typed(op, x.data_ptr<double>(), y.data_ptr<double>(), out.data_ptr<double>(), p, n);
}

template <class T>
static bool finite_typed(const T* x, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i)
    if (!std::isfinite(x[i])) return false;
  return true;
}

bool all_finite(const Tensor& x) {
  if (x.dtype() == float32) return finite_typed(x.data_ptr<float>(), x.numel());
  if (x.dtype() == float64) return finite_typed(x.data_ptr<double>(), x.numel());
  return true;
}

template <class T>
static void axpy_typed(T alpha, const T* x, T* y, std::size_t n) {
  // x and y by value: captured by reference, they were reloaded after every store (map1).
  parallel::for_range(n, parallel::kGrain, [=](std::size_t b, std::size_t e) {
    using B = xsimd::batch<T>;
    constexpr std::size_t W = B::size;
    B a(alpha);
    std::size_t i = b;
    for (; i + W <= e; i += W)
      (B::load_unaligned(y + i) + a * B::load_unaligned(x + i)).store_unaligned(y + i);
    for (; i < e; ++i) y[i] += alpha * x[i];
  });
}

void axpy(double alpha, const Tensor& x, Tensor& y) {
  if (y.dtype() == float32)
    axpy_typed(static_cast<float>(alpha), x.data_ptr<float>(), y.data_ptr<float>(), y.numel());
  else
    axpy_typed(alpha, x.data_ptr<double>(), y.data_ptr<double>(), y.numel());
}

void scale(Tensor& y, double s) { unary(Unary::MulScalar, y, y, s); }

// ---- optimizer updates (optim/optim.cpp): one pass per parameter -----------------------------
// In double, as the scalar loops they replace were: every element goes through the same IEEE
// operations in the same order (nothing is contracted into an FMA under -std=c++17), so the
// results are bit-identical to those loops; W doubles per step, converted from and to T.
// g++ contracts a * b + c into an FMA wherever -mfma allows (also under -std=c++17, and also in
// xsimd's operators): not here, where the baseline loops had no FMA to round like. (The SLP
// vectoriser is off too: all vector work here is explicit.)
#pragma GCC push_options
#pragma GCC optimize("fp-contract=off", "no-tree-slp-vectorize")
namespace {

using D = xsimd::batch<double>;
constexpr std::size_t kW = D::size;

// T <-> double W lanes at a time. With intrinsics, not a loop over lanes through a buffer: g++
// 12's SLP vectoriser folded such a float store and reload into the unrounded double (SSE2
// copy), losing the rounding to T that the scalar loops had between the steps.
template <class T>
D load_d(const T* p) {
  if constexpr (std::is_same_v<T, double>) {
    return D::load_unaligned(p);
  } else {
#if defined(__AVX512F__)
    return D(_mm512_cvtps_pd(_mm256_loadu_ps(p)));
#elif defined(__AVX__)
    return D(_mm256_cvtps_pd(_mm_loadu_ps(p)));
#elif defined(__SSE2__)
    return D(_mm_cvtps_pd(_mm_castsi128_ps(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)))));
#else
    alignas(64) double t[kW];
    for (std::size_t k = 0; k < kW; ++k) t[k] = static_cast<double>(p[k]);
    return D::load_aligned(t);
#endif
  }
}
template <class T>
void store_t(D v, T* p) {
  if constexpr (std::is_same_v<T, double>) {
    v.store_unaligned(p);
  } else {
#if defined(__AVX512F__)
    _mm256_storeu_ps(p, _mm512_cvtpd_ps(v));
#elif defined(__AVX__)
    _mm_storeu_ps(p, _mm256_cvtpd_ps(v));
#elif defined(__SSE2__)
    _mm_storel_epi64(reinterpret_cast<__m128i*>(p), _mm_castps_si128(_mm_cvtpd_ps(v)));
#else
    alignas(64) double t[kW];
    v.store_aligned(t);
    for (std::size_t k = 0; k < kW; ++k) p[k] = static_cast<T>(t[k]);
#endif
  }
}
// Scalar twins of load_d/store_t, so that one body serves the vector steps and the tail.
template <class T> double load_d1(const T* p) { return static_cast<double>(*p); }
template <class T> void store_t1(double v, T* p) { *p = static_cast<T>(v); }

// SGD: d = g + wd w; buf = first ? d : mu buf + (1 - damp) d; d = nesterov ? d + mu buf : buf;
// w += -lr d. `buf` is only read when momentum is on. V is D (K = kW) or double (K = 1).
template <class V, class T, class Load, class Store>
void sgd_at(const SgdUpdate& o, T* w, const T* g, T* buf, Load load, Store store) {
  V d = load(g);
  if (o.weight_decay != 0) d = d + V(o.weight_decay) * load(w);
  if (o.momentum != 0) {
    store(o.first ? d : load(buf) * V(o.momentum) + V(1 - o.dampening) * d, buf);
    const V b = load(buf);  // rounded to T, as the scalar loop read it back
    d = o.nesterov ? d + V(o.momentum) * b : b;
  }
  store(load(w) + V(-o.lr) * d, w);
}

template <class T>
void sgd_typed(const SgdUpdate& o, T* w, const T* g, T* buf, std::size_t n) {
  parallel::for_range(n, parallel::kGrain, [=, &o](std::size_t b, std::size_t e) {
    std::size_t j = b;
    for (; j + kW <= e; j += kW)
      sgd_at<D>(o, w + j, g + j, buf ? buf + j : nullptr, load_d<T>, store_t<T>);
    for (; j < e; ++j)
      sgd_at<double>(o, w + j, g + j, buf ? buf + j : nullptr, load_d1<T>, store_t1<T>);
  });
}

// Adam (AdamW when decoupled): m = b1 m + (1 - b1) g, v = b2 v + (1 - b2) g^2,
// w += -step_size m / (sqrt(v) / bc2_sqrt + eps), the weight decay first.
template <class V, class T, class Load, class Store, class Sqrt>
void adam_at(const AdamUpdate& o, T* w, const T* g, T* m, T* v, Load load, Store store, Sqrt sq) {
  V gj = load(g), wj = load(w);
  if (o.decoupled)
    wj = wj * V(1 - o.lr * o.weight_decay);
  else if (o.weight_decay != 0)
    gj = gj + V(o.weight_decay) * wj;
  store(load(m) * V(o.beta1) + V(1 - o.beta1) * gj, m);
  store(load(v) * V(o.beta2) + V(1 - o.beta2) * (gj * gj), v);
  const V denom = sq(load(v)) / V(o.bc2_sqrt) + V(o.eps);
  store(wj + V(-o.step_size) * (load(m) / denom), w);
}

template <class T>
void adam_typed(const AdamUpdate& o, T* w, const T* g, T* m, T* v, std::size_t n) {
  parallel::for_range(n, parallel::kGrain, [=, &o](std::size_t b, std::size_t e) {
    std::size_t j = b;
    auto vsqrt = [](D x) { return xsimd::sqrt(x); };
    auto ssqrt = [](double x) { return std::sqrt(x); };
    for (; j + kW <= e; j += kW)
      adam_at<D>(o, w + j, g + j, m + j, v + j, load_d<T>, store_t<T>, vsqrt);
    for (; j < e; ++j)
      adam_at<double>(o, w + j, g + j, m + j, v + j, load_d1<T>, store_t1<T>, ssqrt);
  });
}

}  // namespace
#pragma GCC pop_options

void sgd_update(const SgdUpdate& o, Tensor& w, const Tensor& g, Tensor* buf) {
  if (w.dtype() == float32)
    sgd_typed(o, w.data_ptr<float>(), g.data_ptr<float>(), buf ? buf->data_ptr<float>() : nullptr,
              w.numel());
  else
    sgd_typed(o, w.data_ptr<double>(), g.data_ptr<double>(),
              buf ? buf->data_ptr<double>() : nullptr, w.numel());
}

void adam_update(const AdamUpdate& o, Tensor& w, const Tensor& g, Tensor& m, Tensor& v) {
  if (w.dtype() == float32)
    adam_typed(o, w.data_ptr<float>(), g.data_ptr<float>(), m.data_ptr<float>(),
               v.data_ptr<float>(), w.numel());
  else
    adam_typed(o, w.data_ptr<double>(), g.data_ptr<double>(), m.data_ptr<double>(),
               v.data_ptr<double>(), w.numel());
}

}  // namespace AG_SIMD_NS
}  // namespace ag::kernels
