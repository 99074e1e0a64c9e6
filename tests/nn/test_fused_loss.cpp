// The fused cross_entropy (one node, autograd/ops/loss.cpp) against its composite reference
// nll_loss(log_softmax(logits, 1), labels): values, gradients, second derivatives, in float32
// and float64, with large logits, one class, the batch sizes of the MLP benchmarks and
// gradients seeded with other values than 1. (cross_entropy has no class weights, ignore index,
// label smoothing or reductions other than the mean, so there are none to compare.)
#include "helpers.hpp"

#include <nn/nn.hpp>

using namespace ag;
namespace F = ag::nn::functional;

namespace {

Tensor composite(const Tensor& logits, const Tensor& labels) {
  return F::nll_loss(log_softmax(logits, 1), labels);
}

Tensor random_labels(std::size_t n, std::size_t classes) {
  std::vector<double> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<double>((i * 7 + 3) % classes);
  return tensor(v, {n}, int64);
}

// Loss and dloss/dlogits, for the loss scaled by `seed` (so dy != 1 reaches the backward).
std::pair<double, std::vector<double>> loss_and_grad(Tensor (*loss_fn)(const Tensor&, const Tensor&),
                                                     const Tensor& x, const Tensor& labels,
                                                     double seed) {
  Tensor logits = x.detach().requires_grad_();
  Tensor loss = loss_fn(logits, labels);
  (loss * seed).backward();
  return {loss.item(), logits.grad().to_vector()};
}

void compare(Dtype dtype, std::size_t n, std::size_t classes, double shift, double tol) {
  INFO(dtype_name(dtype) << " {" << n << ", " << classes << "} shifted by " << shift);
  manual_seed(n * 31 + classes);
  const Tensor x = (randn({n, classes}, float64) * 3.0 + shift).to(dtype);
  const Tensor labels = random_labels(n, classes);
  for (double seed : {1.0, -2.5}) {
    auto [fused_loss, fused_grad] = loss_and_grad(F::cross_entropy, x, labels, seed);
    auto [ref_loss, ref_grad] = loss_and_grad(composite, x, labels, seed);
    REQUIRE(fused_loss == Approx(ref_loss).epsilon(tol));
    testing::require_close(fused_grad, ref_grad, tol, tol);
  }
}

}  // namespace

TEST_CASE("fused cross_entropy equals nll_loss(log_softmax) in values and gradients",
          "[nn][functional][fused]") {
  for (Dtype d : {float64, float32}) {
    const double tol = d == float64 ? 1e-12 : 2e-6;
    compare(d, 3, 4, 0, tol);
    compare(d, 256, 10, 0, tol);
    compare(d, 32, 10, 0, tol);
    compare(d, 5, 1, 0, tol);       // one class: loss 0, gradient 0
    compare(d, 7, 33, 0, tol);      // rows longer than a vector, with a tail
    // Large logits: both subtract the row max first. In float32 the composite's log_softmax
    // output x - logsumexp(x) carries the rounding of numbers near 1000 (ulp 6e-5) into its
    // exp, the fused softmax exp(x - max) does not: they agree to that rounding.
    compare(d, 4, 6, 1000.0, d == float64 ? tol : 2e-4);
  }
}

TEST_CASE("fused cross_entropy: the loss is log-sum-exp minus the label's logit",
          "[nn][functional][fused]") {
  const Tensor logits = tensor({1.0, 2.0, 0.5, 0.1, -1.0, 2.0}, {2, 3}, float64);
  const Tensor labels = tensor({2.0, 0.0}, {2}, int64);
  const double row0 = std::log(std::exp(1.0) + std::exp(2.0) + std::exp(0.5)) - 0.5;
  const double row1 = std::log(std::exp(0.1) + std::exp(-1.0) + std::exp(2.0)) - 0.1;
  REQUIRE(F::cross_entropy(logits, labels).item() == Approx((row0 + row1) / 2).epsilon(1e-14));
  // A row of -inf logits gives NaN, as log_softmax (and PyTorch) do.
  const double inf = std::numeric_limits<double>::infinity();
  const Tensor masked = tensor({-inf, -inf, 0.0, 1.0}, {2, 2}, float64);
  REQUIRE(std::isnan(F::cross_entropy(masked, tensor({0.0, 1.0}, {2}, int64)).item()));
  REQUIRE(std::isnan(composite(masked, tensor({0.0, 1.0}, {2}, int64)).item()));
}

TEST_CASE("fused cross_entropy: second derivatives equal the composite's",
          "[nn][functional][fused]") {
  for (Dtype d : {float64, float32}) {
    INFO(dtype_name(d));
    manual_seed(5);
    const Tensor x = randn({4, 5}, d);
    const Tensor labels = random_labels(4, 5);
    const Tensor v = randn({4, 5}, d);  // direction of the Hessian-vector product
    std::vector<std::vector<double>> hvp;
    for (auto loss_fn : {F::cross_entropy, composite}) {
      Tensor logits = x.detach().requires_grad_();
      Tensor g = grad({loss_fn(logits, labels)}, {logits}, {}, false, true)[0];
      REQUIRE(g.requires_grad());
      hvp.push_back(grad({sum(g * v)}, {logits})[0].to_vector());
    }
    testing::require_close(hvp[0], hvp[1], d == float64 ? 1e-12 : 1e-5, 1e-6);
  }
}

TEST_CASE("fused cross_entropy under NoGradGuard records nothing and gives the same value",
          "[nn][functional][fused]") {
  manual_seed(9);
  const Tensor x = randn({8, 10}).requires_grad_();
  const Tensor labels = random_labels(8, 10);
  const double recorded = F::cross_entropy(x, labels).item();
  NoGradGuard no_grad;
  const Tensor loss = F::cross_entropy(x, labels);
  REQUIRE_FALSE(loss.requires_grad());
  REQUIRE(loss.item() == recorded);
}
