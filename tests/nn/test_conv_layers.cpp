// Conv2d, MaxPool2d and AvgPool2d against PyTorch (tests/fixtures/ops.txt): a small CNN's output
// and every parameter gradient, float64 and float32; default init, options and errors.
#include <cmath>

#include <nn/nn.hpp>

#include "helpers.hpp"

using namespace ag;
using Catch::Matchers::Contains;

namespace {

struct SmallCnn {  // torch: Conv2d(1,2,3,p1) ReLU MaxPool2d(2) Conv2d(2,3,(3,2),s(1,2)) ReLU AvgPool2d(2,p1) Flatten Linear(12,4)
  std::shared_ptr<nn::Conv2d> c0 = std::make_shared<nn::Conv2d>(1, 2, 3, nn::Conv2dOptions{1, 1});
  std::shared_ptr<nn::Conv2d> c3 = std::make_shared<nn::Conv2d>(2, 3, Size2{3, 2}, nn::Conv2dOptions{{1, 2}});
  std::shared_ptr<nn::Linear> l7 = std::make_shared<nn::Linear>(12, 4);
  nn::MaxPool2d pool{2};
  nn::AvgPool2d avg{2, 0, 1};
  Tensor operator()(const Tensor& x) {
    Tensor h = pool(relu((*c0)(x)));
    h = avg(relu((*c3)(h)));
    return (*l7)(reshape(h, {h.shape()[0], 12}));
  }
  std::vector<std::pair<std::string, Tensor>> params() {
    return {{"0.weight", c0->weight}, {"0.bias", c0->bias}, {"3.weight", c3->weight},
            {"3.bias", c3->bias}, {"7.weight", l7->weight}, {"7.bias", l7->bias}};
  }
};

void check_cnn(Dtype dtype) {
  INFO(dtype_name(dtype));
  testing::Fixture fx("ops.txt");
  double tol = dtype == float64 ? 1e-9 : 2e-4;
  SmallCnn net;
  for (auto* m : std::initializer_list<nn::Module*>{net.c0.get(), net.c3.get(), net.l7.get()}) m->to(dtype);
  {
    NoGradGuard no_grad;
    for (auto& [name, p] : net.params()) p.copy_(tensor(fx["cnn." + name], p.shape(), float64));
  }
  Tensor x = fx.tensor("cnn.x", {2, 1, 10, 10}, dtype);
  Tensor y = net(x);
  testing::require_close(y, fx["cnn.y"], tol, tol);
  sum(y * tensor(fx["cnn.gy"], y.shape(), dtype)).backward();
  for (auto& [name, p] : net.params()) {
    INFO(name);
    REQUIRE(p.grad().dtype() == dtype);
    testing::require_close(p.grad(), fx["cnn." + name + ".grad"], tol, tol);
  }
}

}  // namespace

TEST_CASE("a small CNN of Conv2d, pools and Linear matches PyTorch, values and parameter gradients",
          "[nn][conv]") {
  check_cnn(float64);
  check_cnn(float32);
}

TEST_CASE("Conv2d: weight {out, in / groups, kh, kw}, LibTorch's default init bounds", "[nn][conv]") {
  manual_seed(7);
  nn::Conv2d conv(4, 8, 3, nn::Conv2dOptions{1, 1, 1, true, 2});
  REQUIRE(conv.weight.shape() == Shape{8, 2, 3, 3});
  REQUIRE(conv.bias.shape() == Shape{8});
  REQUIRE(conv.named_parameters().size() == 2);
  double bound = 1.0 / std::sqrt(2.0 * 9.0);  // fan_in = in / groups * kh * kw = 18
  double wmax = 0, bmax = 0;
  for (double v : conv.weight.to_vector()) wmax = std::max(wmax, std::abs(v));
  for (double v : conv.bias.to_vector()) bmax = std::max(bmax, std::abs(v));
  CHECK(wmax <= bound);
  CHECK(wmax > 0.8 * bound);  // 144 draws from U(-b, b) reach near b
  CHECK(bmax <= bound);
  nn::Conv2d no_bias(3, 5, {2, 4}, nn::Conv2dOptions{2, 0, 1, false});
  CHECK_FALSE(no_bias.bias.defined());
  CHECK(no_bias.parameters().size() == 1);
  CHECK(no_bias(zeros({1, 3, 8, 8})).shape() == Shape{1, 5, 4, 3});
  CHECK(no_bias(zeros({3, 8, 8})).shape() == Shape{5, 4, 3});  // one unbatched sample
}

TEST_CASE("MaxPool2d and AvgPool2d: stride defaults to the kernel; functional forms agree", "[nn][conv]") {
  manual_seed(8);
  Tensor x = randn({2, 3, 9, 8});
  CHECK(nn::MaxPool2d(3)(x).shape() == Shape{2, 3, 3, 2});
  CHECK(nn::AvgPool2d(2, 1)(x).shape() == Shape{2, 3, 8, 7});
  CHECK(nn::MaxPool2d({2, 3}, {1, 2}, {1, 1})(x).shape() == Shape{2, 3, 10, 4});
  CHECK(nn::MaxPool2d(2)(x).to_vector() == nn::functional::max_pool2d(x, 2).to_vector());
  CHECK(nn::AvgPool2d(3, 2, 1)(x).to_vector() == nn::functional::avg_pool2d(x, 3, 2, 1).to_vector());
  Tensor w = randn({4, 3, 3, 3}), b = randn({4});
  CHECK(nn::functional::conv2d(x, w, b, 1, 1).to_vector() == conv2d(x, w, b, 1, 1).to_vector());
}

TEST_CASE("Conv2d: bad construction and input name the layer and the shapes", "[nn][conv]") {
  REQUIRE_THROWS_WITH(nn::Conv2d(3, 4, 3, nn::Conv2dOptions{1, 0, 1, true, 2}),
                      Contains("Conv2d(3, 4, {3, 3}") && Contains("groups"));
  nn::Conv2d conv(3, 4, 3);
  REQUIRE_THROWS_WITH(conv(zeros({2, 5, 8, 8})), Contains("Conv2d(3, 4, {3, 3})") && Contains("{2, 5, 8, 8}"));
  REQUIRE_THROWS_WITH(conv(zeros({2, 3, 2, 2})), Contains("conv2d") && Contains("does not fit"));
  REQUIRE_THROWS_WITH(nn::MaxPool2d(2, 2, 2)(zeros({1, 1, 4, 4})), Contains("max_pool2d"));
}
