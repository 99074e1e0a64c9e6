#include "helpers.hpp"

#include <nn/nn.hpp>

using namespace ag;
using Catch::Matchers::Contains;
namespace F = ag::nn::functional;

namespace {

// One loss case of tests/fixtures/nn.txt: the loss and the gradient wrt the first argument.
void check_loss(const testing::Fixture& fx, const std::string& name, const Shape& shape, const Shape& other_shape,
                Dtype other_dtype, Tensor (*loss_fn)(const Tensor&, const Tensor&)) {
  INFO(name);
  const Tensor input = fx.tensor(name + ".input", shape).requires_grad_();
  const Tensor other = tensor(fx[name + ".other"], other_shape, other_dtype);
  const Tensor loss = loss_fn(input, other);
  REQUIRE(loss.shape() == Shape{});
  testing::require_close(loss, fx[name + ".loss"]);
  loss.backward();
  testing::require_close(input.grad(), fx[name + ".grad"]);
}

}  // namespace

TEST_CASE("functional::linear and Linear match PyTorch, values and gradients", "[nn][functional]") {
  const testing::Fixture fx("nn.txt");
  const Tensor x = fx.tensor("linear.x", {4, 3}).requires_grad_();
  const Tensor gy = fx.tensor("linear.gy", {4, 2});

  const Tensor w = fx.tensor("linear.weight", {2, 3}).requires_grad_();
  const Tensor b = fx.tensor("linear.bias", {2}).requires_grad_();
  const Tensor y = F::linear(x, w, b);
  testing::require_close(y, fx["linear.y"]);
  sum(y * gy).backward();
  testing::require_close(x.grad(), fx["linear.dx"]);
  testing::require_close(w.grad(), fx["linear.dweight"]);
  testing::require_close(b.grad(), fx["linear.dbias"]);

  // The module in float64 gives the same numbers.
  nn::Linear lin(3, 2);
  lin.to(float64);
  {
    NoGradGuard no_grad;
    lin.weight.copy_(w.detach());
    lin.bias.copy_(b.detach());
  }
  const Tensor x2 = x.detach().clone().requires_grad_();
  const Tensor y2 = lin(x2);
  testing::require_close(y2, fx["linear.y"]);
  sum(y2 * gy).backward();
  testing::require_close(x2.grad(), fx["linear.dx"]);
  testing::require_close(lin.weight.grad(), fx["linear.dweight"]);
  testing::require_close(lin.bias.grad(), fx["linear.dbias"]);
}

TEST_CASE("losses match PyTorch, values and gradients", "[nn][functional]") {
  const testing::Fixture fx("nn.txt");
  check_loss(fx, "cross_entropy", {4, 5}, {4}, int64, F::cross_entropy);
  check_loss(fx, "nll_loss", {3, 4}, {3}, int64, F::nll_loss);
  check_loss(fx, "bce_with_logits", {8}, {8}, float64, F::binary_cross_entropy_with_logits);
  check_loss(fx, "bce", {6}, {6}, float64, F::binary_cross_entropy);
  check_loss(fx, "mse", {2, 3}, {2, 3}, float64, F::mse_loss);
}

TEST_CASE("losses stay finite at extreme inputs", "[nn][functional]") {
  const Tensor logits = tensor({{1000, 0, -1000}, {-1000, -1000, 1000}});
  const Tensor labels = tensor({0, 2}, {2}, int64);
  REQUIRE(F::cross_entropy(logits, labels).item() == Approx(0).margin(1e-6));
  REQUIRE(F::cross_entropy(logits, tensor({1, 0}, {2}, int64)).item() == Approx(1500).epsilon(1e-5));

  const Tensor z = tensor({-200, 200, 0});
  const Tensor t = tensor({0, 1, 1});
  REQUIRE(F::binary_cross_entropy_with_logits(z, t).item() == Approx(std::log(2.0) / 3).epsilon(1e-5));
  REQUIRE(F::binary_cross_entropy_with_logits(z, tensor({1, 0, 1})).item() == Approx((400 + std::log(2.0)) / 3).epsilon(1e-5));
  // BCE on probabilities clamps each log at -100, as PyTorch does.
  REQUIRE(F::binary_cross_entropy(tensor({0, 1}), tensor({1, 0})).item() == Approx(100));
}

TEST_CASE("losses reject mismatched shapes, dtypes and labels", "[nn][functional]") {
  const Tensor logits = zeros({4, 5});
  REQUIRE_THROWS_WITH(F::cross_entropy(logits, tensor({0, 1, 2, 3})), Contains("int64") && Contains("float32"));
  REQUIRE_THROWS_WITH(F::cross_entropy(logits, tensor({0, 1, 7, 3}, {4}, int64)),
                      Contains("label 7") && Contains("5 classes"));
  REQUIRE_THROWS_WITH(F::cross_entropy(logits, tensor({0, -1, 2, 3}, {4}, int64)), Contains("label -1"));
  REQUIRE_THROWS_WITH(F::cross_entropy(logits, tensor({0, 1, 2}, {3}, int64)), Contains("{3}") && Contains("{4}"));
  REQUIRE_THROWS_WITH(F::cross_entropy(zeros({4}), tensor({0}, {1}, int64)), Contains("{N, C}"));
  REQUIRE_THROWS_WITH(F::nll_loss(logits, tensor({0, 1, 9, 3}, {4}, int64)),
                      Contains("nll_loss") && Contains("label 9"));

  REQUIRE_THROWS_WITH(F::mse_loss(zeros({4}), zeros({4, 1})), Contains("{4}") && Contains("{4, 1}"));
  REQUIRE_THROWS_WITH(F::mse_loss(zeros({4}), zeros({4}, float64)), Contains("float64"));
  REQUIRE_THROWS_WITH(F::binary_cross_entropy_with_logits(zeros({3}), zeros({2})), Contains("{3}"));
  REQUIRE_THROWS_WITH(F::binary_cross_entropy(tensor({0.5, 1.5}), tensor({1, 0})),
                      Contains("1.5") && Contains("[0, 1]"));
}

TEST_CASE("a tiny classifier learns with Linear + cross_entropy + SGD-style updates", "[nn][functional]") {
  // Two well-separated blobs: the loss must fall well below its starting value.
  manual_seed(5);
  const std::size_t n = 64;
  Tensor x = randn({n, 2});
  std::vector<double> labels(n);
  {
    float* p = x.data_ptr<float>();
    for (std::size_t i = 0; i < n; ++i) {
      labels[i] = static_cast<double>(i % 2);
      p[2 * i] += labels[i] ? 3.0f : -3.0f;
    }
  }
  const Tensor y = tensor(labels, {n}, int64);
  nn::Linear lin(2, 2);
  double first = 0, last = 0;
  for (int it = 0; it < 50; ++it) {
    const Tensor loss = F::cross_entropy(lin(x), y);
    if (it == 0) first = loss.item();
    last = loss.item();
    lin.zero_grad();
    loss.backward();
    NoGradGuard no_grad;
    for (auto& p : lin.parameters()) p.add_(p.grad(), -0.5);
  }
  REQUIRE(last < 0.2 * first);
  REQUIRE(last < 0.1);
}
