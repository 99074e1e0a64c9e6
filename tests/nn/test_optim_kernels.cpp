// The vectorised SGD and Adam updates (autograd/kernels/elementwise.cpp: sgd_update,
// adam_update) against the scalar double loops they replaced, kept here as the reference: the
// same arithmetic in the same order, so every step must agree bit for bit, in float32 and
// float64, on sizes with and without a tail after the last full vector.
#include "helpers.hpp"

#include <cmath>
#include <type_traits>

#include <optim/optim.hpp>

using namespace ag;

namespace {

struct SgdRef {
  double lr, mu, damp, wd;
  bool nesterov;
};
template <class T>
void sgd_reference(const SgdRef& o, bool first, std::vector<T>& w, const std::vector<T>& g,
                   std::vector<T>& buf) {
  for (std::size_t j = 0; j < w.size(); ++j) {
    double d = g[j];
    if (o.wd != 0) d += o.wd * w[j];
    if (o.mu != 0) {
      buf[j] = static_cast<T>(first ? d : buf[j] * o.mu + (1 - o.damp) * d);
      d = o.nesterov ? d + o.mu * buf[j] : buf[j];
    }
    w[j] = static_cast<T>(w[j] + -o.lr * d);
  }
}

struct AdamRef {
  double lr, b1, b2, eps, wd;
  bool decoupled;
};
template <class T>
void adam_reference(const AdamRef& o, int t, std::vector<T>& w, const std::vector<T>& g,
                    std::vector<T>& m, std::vector<T>& v) {
  const double step_size = o.lr / (1 - std::pow(o.b1, t));
  const double bc2_sqrt = std::sqrt(1 - std::pow(o.b2, t));
  for (std::size_t j = 0; j < w.size(); ++j) {
    double gj = g[j];
    double wj = w[j];
    if (o.decoupled)
      wj *= 1 - o.lr * o.wd;
    else if (o.wd != 0)
      gj += o.wd * wj;
    m[j] = static_cast<T>(m[j] * o.b1 + (1 - o.b1) * gj);
    v[j] = static_cast<T>(v[j] * o.b2 + (1 - o.b2) * (gj * gj));
    const double denom = std::sqrt(static_cast<double>(v[j])) / bc2_sqrt + o.eps;
    w[j] = static_cast<T>(wj + -step_size * (m[j] / denom));
  }
}

template <class T>
std::vector<T> values(const Tensor& t) {
  const T* p = t.data_ptr<T>();
  return std::vector<T>(p, p + t.numel());
}

// Runs `steps` optimizer steps with fresh random gradients and the reference alongside; `ref`
// updates the reference vectors for step k (1-based).
template <class T, class Opt, class Ref>
void check_bitwise(Opt& opt, Tensor& p, int steps, Ref ref) {
  std::vector<T> w = values<T>(p);
  for (int k = 1; k <= steps; ++k) {
    INFO("step " << k);
    const Tensor g = randn(p.shape(), p.dtype());
    opt.zero_grad();
    sum(p * g).backward();  // p.grad() == g exactly
    opt.step();
    const std::vector<T> gv = values<T>(g);
    ref(k, w, gv);
    const std::vector<T> got = values<T>(p);
    for (std::size_t j = 0; j < w.size(); ++j) {
      INFO("element " << j << " of " << w.size() << ": " << std::hexfloat << double(got[j])
                      << " against " << double(w[j]) << ", gradient " << double(gv[j]));
      REQUIRE(got[j] == w[j]);
    }
  }
}

template <class T>
void sgd_case(std::size_t n, const SgdRef& o) {
  INFO("n " << n << " momentum " << o.mu << " dampening " << o.damp << " weight_decay " << o.wd
            << " nesterov " << o.nesterov);
  const Dtype dtype = std::is_same_v<T, float> ? float32 : float64;
  Tensor p = randn({n}, dtype).requires_grad_();
  optim::SGD opt({p}, optim::SGDOptions(o.lr, o.mu, o.damp, o.wd, o.nesterov));
  std::vector<T> buf(n, T(0));
  check_bitwise<T>(opt, p, 4, [&](int k, std::vector<T>& w, const std::vector<T>& g) {
    sgd_reference(o, k == 1, w, g, buf);
  });
}

template <class T>
void adam_case(std::size_t n, const AdamRef& o) {
  INFO("n " << n << " weight_decay " << o.wd << " decoupled " << o.decoupled);
  const Dtype dtype = std::is_same_v<T, float> ? float32 : float64;
  Tensor p = randn({n}, dtype).requires_grad_();
  std::vector<T> m(n, T(0)), v(n, T(0));
  auto ref = [&](int k, std::vector<T>& w, const std::vector<T>& g) {
    adam_reference(o, k, w, g, m, v);
  };
  if (o.decoupled) {
    optim::AdamW opt({p}, optim::AdamWOptions(o.lr, o.b1, o.b2, o.eps, o.wd));
    check_bitwise<T>(opt, p, 4, ref);
  } else {
    optim::Adam opt({p}, optim::AdamOptions(o.lr, o.b1, o.b2, o.eps, o.wd));
    check_bitwise<T>(opt, p, 4, ref);
  }
}

template <class T>
void all_cases() {
  for (std::size_t n : {1, 7, 37, 1000}) {
    sgd_case<T>(n, {0.1, 0, 0, 0.01, false});     // weight decay only
    sgd_case<T>(n, {0.1, 0.9, 0, 0, false});      // momentum
    sgd_case<T>(n, {0.05, 0.9, 0.3, 0.01, false});  // dampening and weight decay
    sgd_case<T>(n, {0.1, 0.8, 0, 0.02, true});    // nesterov
    adam_case<T>(n, {1e-3, 0.9, 0.999, 1e-8, 0, false});
    adam_case<T>(n, {1e-2, 0.8, 0.99, 1e-6, 0.1, false});  // L2 weight decay
    adam_case<T>(n, {1e-2, 0.9, 0.999, 1e-8, 0.1, true});  // AdamW
  }
}

}  // namespace

TEST_CASE("vectorised SGD and Adam updates equal the scalar double loops bit for bit",
          "[optim][fused]") {
  manual_seed(3);
  all_cases<float>();
  all_cases<double>();
}
