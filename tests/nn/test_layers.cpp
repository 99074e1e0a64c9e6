// BatchNorm1d/2d, LayerNorm, Embedding and Flatten against PyTorch (tests/fixtures/layers.txt),
// in float64 and float32, train and eval; their functional forms gradchecked in float64.
#include "helpers.hpp"

#include <nn/nn.hpp>

using namespace ag;
using Catch::Matchers::Contains;
namespace F = ag::nn::functional;

namespace {

struct Tolerance {
  double rtol, atol;
};
Tolerance tolerance(Dtype d) {
  return d == float64 ? Tolerance{1e-9, 1e-11} : Tolerance{2e-4, 2e-5};
}

// Copies the fixture's "<key>.<name>" into every parameter of m.
void load_parameters(nn::Module& m, const testing::Fixture& fx, const std::string& key) {
  NoGradGuard no_grad;
  for (auto& [name, p] : m.named_parameters()) p.copy_(fx.tensor(key + "." + name, p.shape()));
}

// One forward + backward of loss = sum(y * gy) with the fixture's x and gy, compared with
// PyTorch's y, dx, every parameter's gradient and every buffer afterwards.
void check_case(nn::Module& m, const testing::Fixture& fx, const std::string& key,
                const Shape& shape, Dtype dtype, Dtype input_dtype) {
  INFO(key << " in " << dtype_name(dtype));
  const auto [rtol, atol] = tolerance(dtype);
  Tensor x = fx.tensor(key + ".x", shape, input_dtype);
  if (is_floating(input_dtype)) x.requires_grad_();
  m.zero_grad();
  const Tensor y = m(x);
  REQUIRE(y.dtype() == dtype);
  testing::require_close(y, fx[key + ".y"], rtol, atol);
  sum(y * fx.tensor(key + ".gy", y.shape(), dtype)).backward();
  if (is_floating(input_dtype)) testing::require_close(x.grad(), fx[key + ".dx"], rtol, atol);
  for (auto& [name, p] : m.named_parameters()) {
    INFO("gradient of " << name);
    testing::require_close(p.grad(), fx[key + ".d" + name], rtol, atol);
  }
  for (auto& [name, b] : m.named_buffers()) {
    INFO("buffer " << name);
    testing::require_close(b, fx[key + "." + name], rtol, atol);
  }
}

// Two training batches, then eval, as make_fixtures.py's batchnorm_case runs them.
void check_batchnorm(nn::BatchNorm& bn, const std::string& key, const Shape& shape, Dtype dtype) {
  const testing::Fixture fx("layers.txt");
  bn.to(dtype);
  load_parameters(bn, fx, key);
  bn.train();
  check_case(bn, fx, key + ".train1", shape, dtype, dtype);
  check_case(bn, fx, key + ".train2", shape, dtype, dtype);
  bn.eval();
  check_case(bn, fx, key + ".eval", shape, dtype, dtype);
}

void require_gradchecks(const std::function<Tensor(const std::vector<Tensor>&)>& f,
                        const std::vector<Tensor>& inputs) {
  const GradcheckResult first = gradcheck(f, inputs);
  INFO(first.report());
  REQUIRE(first.ok);
  const GradcheckResult second = gradgradcheck(f, inputs);
  INFO(second.report());
  REQUIRE(second.ok);
}

Tensor leaf(Shape shape, double scale = 1, double shift = 0) {
  return (randn(std::move(shape), float64) * scale + shift).detach().requires_grad_();
}

}  // namespace

TEST_CASE("BatchNorm1d and BatchNorm2d match PyTorch in train and eval mode", "[nn][layers]") {
  for (Dtype dtype : {float64, float32}) {
    nn::BatchNorm1d bn1(3);
    check_batchnorm(bn1, "bn1d", {6, 3}, dtype);
    REQUIRE(bn1.num_batches_tracked.item() == 2);  // eval does not count
    nn::BatchNorm1d bn3(3, 1e-5, 0.3);
    check_batchnorm(bn3, "bn1d_3d", {4, 3, 5}, dtype);
    nn::BatchNorm1d plain(3, 1e-5, 0.1, /*affine=*/false, /*track_running_stats=*/false);
    REQUIRE(plain.parameters().empty());
    REQUIRE(plain.named_buffers().empty());
    check_batchnorm(plain, "bn1d_plain", {5, 3}, dtype);  // eval still uses batch statistics
    nn::BatchNorm2d bn2(2);
    check_batchnorm(bn2, "bn2d", {3, 2, 4, 4}, dtype);
  }
}

TEST_CASE("BatchNorm: buffers, defaults and errors", "[nn][layers]") {
  nn::BatchNorm2d bn(4);
  REQUIRE(bn.momentum == 0.1);
  REQUIRE(bn.eps == 1e-5);
  REQUIRE(bn.weight.to_vector() == std::vector<double>(4, 1));
  REQUIRE(bn.bias.to_vector() == std::vector<double>(4, 0));
  const auto buffers = bn.named_buffers();
  REQUIRE(buffers.size() == 3);
  REQUIRE(buffers[0].first == "running_mean");
  REQUIRE(buffers[1].first == "running_var");
  REQUIRE(buffers[2].first == "num_batches_tracked");
  REQUIRE(bn.num_batches_tracked.dtype() == int64);
  REQUIRE(bn.running_var.to_vector() == std::vector<double>(4, 1));
  REQUIRE(bn.parameters().size() == 2);  // buffers are not parameters
  REQUIRE_FALSE(bn.running_mean.requires_grad());

  bn(randn({2, 4, 3, 3}));
  REQUIRE(bn.running_mean.to_vector() != std::vector<double>(4, 0));
  bn.reset_running_stats();
  REQUIRE(bn.running_mean.to_vector() == std::vector<double>(4, 0));
  REQUIRE(bn.num_batches_tracked.item() == 0);

  REQUIRE_THROWS_WITH(bn(randn({2, 4, 3})), Contains("BatchNorm2d") && Contains("{2, 4, 3}"));
  REQUIRE_THROWS_WITH(bn(randn({2, 3, 3, 3})),
                      Contains("BatchNorm2d(4)") && Contains("3 channels"));
  REQUIRE_THROWS_WITH(bn(randn({1, 4, 1, 1})), Contains("more than 1 value per channel"));
  REQUIRE_THROWS_WITH(bn(randn({2, 4, 3, 3}, float64)), Contains("float32") && Contains("float64"));
  nn::BatchNorm1d bn1(4);
  REQUIRE_THROWS_WITH(bn1(randn({2, 4, 3, 3})),
                      Contains("BatchNorm1d") && Contains("{2, 4, 3, 3}"));
  REQUIRE_THROWS_WITH(nn::BatchNorm1d(0), Contains("num_features"));
  REQUIRE_THROWS_WITH(nn::BatchNorm1d(3, 0.0), Contains("eps"));
  REQUIRE_THROWS_WITH(nn::BatchNorm1d(3, 1e-5, 1.5), Contains("momentum"));
  bn1.eval();
  REQUIRE_NOTHROW(bn1(randn({1, 4})));  // one sample is fine with running statistics
}

TEST_CASE("LayerNorm matches PyTorch", "[nn][layers]") {
  const testing::Fixture fx("layers.txt");
  for (Dtype dtype : {float64, float32}) {
    nn::LayerNorm ln1({4});
    nn::LayerNorm ln2({3, 4});
    nn::LayerNorm plain({5}, 1e-5, /*elementwise_affine=*/false);
    REQUIRE(plain.parameters().empty());
    for (auto [m, key, shape] :
         {std::tuple<nn::LayerNorm*, const char*, Shape>{&ln1, "ln1", {3, 4}},
          {&ln2, "ln2", {2, 3, 4}},
          {&plain, "ln_plain", {2, 5}}}) {
      m->to(dtype);
      load_parameters(*m, fx, key);
      m->eval();  // the same in both modes
      check_case(*m, fx, key, shape, dtype, dtype);
      m->train();
      check_case(*m, fx, key, shape, dtype, dtype);
    }
  }
  nn::LayerNorm ln({3, 4});
  REQUIRE(ln.weight.shape() == Shape{3, 4});
  REQUIRE_THROWS_WITH(ln(randn({2, 4, 3})),
                      Contains("layer_norm") && Contains("{2, 4, 3}") && Contains("{3, 4}"));
  REQUIRE_THROWS_WITH(nn::LayerNorm({}), Contains("normalized_shape"));
}

TEST_CASE("Embedding matches PyTorch for indices of any shape", "[nn][layers]") {
  const testing::Fixture fx("layers.txt");
  for (Dtype dtype : {float64, float32}) {
    nn::Embedding emb(6, 3);
    emb.to(dtype);
    load_parameters(emb, fx, "emb");
    check_case(emb, fx, "emb", {2, 3}, dtype, int64);
  }
  nn::Embedding emb(6, 3);
  REQUIRE(emb(tensor(std::vector<double>{4}, {}, int64)).shape() == Shape{3});  // a 0-d index
  REQUIRE(emb(tensor({1, 2, 3, 0, 1, 5, 0, 0}, {2, 2, 2}, int64)).shape() == Shape{2, 2, 2, 3});
  REQUIRE_THROWS_WITH(emb(tensor({1, 6}, {2}, int64)), Contains("index 6") && Contains("{6, 3}"));
  REQUIRE_THROWS_WITH(emb(tensor({-1}, {1}, int64)), Contains("index -1"));
  REQUIRE_THROWS_WITH(emb(tensor({1, 2})), Contains("int64") && Contains("float32"));
  REQUIRE_THROWS_WITH(nn::Embedding(0, 3), Contains("positive"));
}

TEST_CASE("Flatten merges the same axes as PyTorch's", "[nn][layers]") {
  const testing::Fixture fx("layers.txt");
  const Tensor x = zeros({2, 3, 4, 5}).requires_grad_();
  using Axes2 = std::pair<std::ptrdiff_t, std::ptrdiff_t>;
  for (auto [key, axes] : {std::pair{"flatten_default", Axes2{1, -1}},
                           {"flatten_all", Axes2{0, -1}},
                           {"flatten_mid", Axes2{1, 2}},
                           {"flatten_neg", Axes2{-3, -2}}}) {
    INFO(key);
    nn::Flatten flat(axes.first, axes.second);
    std::vector<double> shape;
    const Tensor y = flat(x);
    for (auto d : y.shape()) shape.push_back(static_cast<double>(d));
    REQUIRE(shape == fx[std::string(key) + ".shape"]);
  }
  sum(nn::Flatten()(x)).backward();
  REQUIRE(x.grad().shape() == x.shape());
  REQUIRE_THROWS_WITH(nn::Flatten(2, 1)(x), Contains("Flatten(2, 1)") && Contains("{2, 3, 4, 5}"));
  REQUIRE_THROWS_WITH(nn::Flatten(1, 4)(x), Contains("out of range"));
}

TEST_CASE("functional batch_norm, layer_norm and embedding pass gradcheck and gradgradcheck",
          "[nn][functional]") {
  manual_seed(5);
  const Tensor w = leaf({3}, 0.5, 1), b = leaf({3});
  // Training (batch statistics): gradients flow through the mean and the variance.
  require_gradchecks(
      [](const std::vector<Tensor>& in) {
        return F::batch_norm(in[0], {}, {}, in[1], in[2], true);
      },
      {leaf({4, 3, 2}, 2, 1), w, b});
  // Eval (running statistics): an affine map of x.
  const Tensor rm = randn({3}, float64), rv = rand({3}, float64) + 0.5;
  require_gradchecks(
      [&](const std::vector<Tensor>& in) { return F::batch_norm(in[0], rm, rv, in[1], in[2]); },
      {leaf({4, 3}), w, b});
  require_gradchecks(
      [](const std::vector<Tensor>& in) {
        return F::layer_norm(in[0], {2, 3}, in[1], in[2]);
      },
      {leaf({2, 2, 3}, 2), leaf({2, 3}), leaf({2, 3})});
  const Tensor idx = tensor({0, 2, 2, 1}, {2, 2}, int64);
  require_gradchecks(
      [&](const std::vector<Tensor>& in) {
        return F::embedding(idx, in[0]) * F::embedding(idx, in[0]);
      },
      {leaf({3, 2})});
}

TEST_CASE("functional batch_norm updates the running statistics only in training",
          "[nn][functional]") {
  Tensor rm = zeros({2}, float64), rv = ones({2}, float64);
  const Tensor x =
      tensor({1, 10, 3, 20}, {2, 2}, float64);  // channel 0: {1, 3}, channel 1: {10, 20}
  F::batch_norm(x, rm, rv, {}, {}, /*training=*/true, /*momentum=*/0.5);
  testing::require_close(rm, {0.5 * 2, 0.5 * 15});
  testing::require_close(rv, {0.5 + 0.5 * 2, 0.5 + 0.5 * 50});  // unbiased: 2 and 50
  const auto before = rm.to_vector();
  const Tensor y = F::batch_norm(x, rm, rv);
  REQUIRE(rm.to_vector() == before);
  testing::require_close(y, {(1 - 1) / std::sqrt(1.5 + 1e-5), (10 - 7.5) / std::sqrt(25.5 + 1e-5),
                             (3 - 1) / std::sqrt(1.5 + 1e-5), (20 - 7.5) / std::sqrt(25.5 + 1e-5)});
  REQUIRE_THROWS_WITH(F::batch_norm(x, rm, {}), Contains("both"));
  REQUIRE_THROWS_WITH(F::batch_norm(x, zeros({3}, float64), rv),
                      Contains("running_mean") && Contains("{3}"));
  REQUIRE_THROWS_WITH(F::batch_norm(zeros({4}), {}, {}), Contains("{N, C, ...}"));
}

TEST_CASE("dropout zeroes with probability p, scales the rest, and is the identity in eval",
          "[nn][functional]") {
  manual_seed(3);
  const Tensor x = (rand({20000}, float64) + 1).detach().requires_grad_();
  const Tensor y = F::dropout(x, 0.25, true);
  sum(y).backward();
  const auto xv = x.to_vector(), yv = y.to_vector(), gv = x.grad().to_vector();
  std::size_t kept = 0;
  for (std::size_t i = 0; i < xv.size(); ++i) {
    const bool keep = yv[i] != 0;
    kept += keep;
    REQUIRE(yv[i] == Approx(keep ? xv[i] / 0.75 : 0.0));
    REQUIRE(gv[i] == Approx(keep ? 1 / 0.75 : 0.0));
  }
  REQUIRE(static_cast<double>(kept) / xv.size() == Approx(0.75).margin(0.01));
  REQUIRE(F::dropout(x, 0.25, false).impl() == x.impl());
  REQUIRE(F::dropout(x, 1.0, true).to_vector() == std::vector<double>(xv.size(), 0));
  REQUIRE_THROWS_WITH(F::dropout(x, 1.5), Contains("dropout") && Contains("1.5"));
  nn::Dropout module(0.25);
  module.eval();
  REQUIRE(module(x).impl() == x.impl());
}
