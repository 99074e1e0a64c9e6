// The float32 convolution backends (autograd/conv_backend.hpp): oneDNN where built, and im2col.
// Each backend's float32 forward, input gradient and weight gradient must equal the float64
// im2col result within float32 rounding: for an output that sums K products, |f32 - f64| <=
// K * 2^-23 * sum |products| (the standard dot-product bound; the sums of |products| come from
// the same ops on |x|, |w| and |gy| in float64), plus a few ulps for the input's own rounding.
#include <algorithm>
#include <cmath>

#include <catch2/catch.hpp>

#include <autograd/autograd.hpp>

#include "support.hpp"

using namespace ag;
using ag_test::check_float32_rounding;

namespace {

struct Case {
  const char* name;
  Shape x, w;
  bool bias;
  Size2 stride, padding, dilation;
  std::size_t groups;
};

// The conv's three results for sum(y * gy) in `dtype`: {y, dx, dw}.
std::vector<Tensor> conv_results(const Case& c, const std::vector<Tensor>& in64, Dtype dtype) {
  Tensor x = in64[0].to(dtype).detach().requires_grad_(),
         w = in64[1].to(dtype).detach().requires_grad_();
  Tensor b = c.bias ? in64[2].to(dtype) : Tensor();
  Tensor y = conv2d(x, w, b, c.stride, c.padding, c.dilation, c.groups);
  Tensor gy = in64[3].to(dtype);
  std::vector<Tensor> g = grad({y}, {x, w}, {gy});
  return {y, g[0], g[1]};
}

void check_case(const Case& c) {
  INFO(c.name << " on backend " << conv_backend() << " at " << get_num_threads() << " thread(s)");
  Tensor x = randn(c.x, float64), w = randn(c.w, float64), b = randn({c.w[0]}, float64);
  Tensor y64 = conv2d(x, w, c.bias ? b : Tensor(), c.stride, c.padding, c.dilation, c.groups);
  Tensor gy = randn(y64.shape(), float64);
  // The float32 inputs, rounded once: the float64 reference starts from the same values.
  std::vector<Tensor> in{x.to(float32).to(float64), w.to(float32).to(float64),
                         b.to(float32).to(float64), gy.to(float32).to(float64)};
  std::vector<Tensor> ref = conv_results(c, in, float64), got = conv_results(c, in, float32);
  std::vector<Tensor> abs_in{abs(in[0]), abs(in[1]), abs(in[2]), abs(in[3])};
  std::vector<Tensor> sums = conv_results(c, abs_in, float64);
  // Terms per output: y and dx sum over (C/g) kh kw (or (O/g) kh kw) windows, dw over N OH OW.
  double k = double(c.w[1] * c.w[2] * c.w[3]) + (c.bias ? 1 : 0);
  check_float32_rounding(got, ref, sums,
                         {k, double(c.w[0] / c.groups * c.w[2] * c.w[3]),
                          double(c.x[0] * y64.shape()[2] * y64.shape()[3])},
                         {"y", "dx", "dw"});
}

const std::vector<Case>& cases() {
  static const std::vector<Case> all = {
      {"3x3 pad 1 with bias", {4, 3, 9, 8}, {5, 3, 3, 3}, true, 1, 1, 1, 1},
      {"LeNet's first layer, one input channel", {6, 1, 12, 12}, {6, 1, 5, 5}, true, 1, 2, 1, 1},
      {"5x5, no padding, no bias", {3, 6, 10, 10}, {16, 6, 5, 5}, false, 1, 0, 1, 1},
      {"stride 2, uneven padding remainder", {5, 4, 11, 10}, {8, 4, 3, 3}, true, 2, 1, 1, 1},
      {"dilation 2, rectangular", {2, 3, 12, 9}, {4, 3, 3, 2}, true, {1, 2}, {2, 1}, 2, 1},
      {"groups 2", {3, 8, 7, 7}, {6, 4, 3, 3}, true, 1, 1, 1, 2},
      {"depthwise, stride 3", {2, 4, 10, 10}, {4, 1, 3, 3}, false, 3, 0, 1, 4},
      {"a batch big enough to split over threads",
       {9, 16, 14, 14},
       {32, 16, 3, 3},
       true,
       1,
       1,
       1,
       1},
      {"an empty batch", {0, 3, 5, 5}, {4, 3, 3, 3}, true, 1, 1, 1, 1},
  };
  return all;
}

// Runs `body` with each backend of this build at 1 and 2 threads, restoring the settings.
template <class F> void on_every_backend(F&& body) {
  std::string backend = conv_backend();
  int threads = get_num_threads();
  for (const std::string& name : conv_backends_available())
    for (int t : {1, 2}) {
      set_conv_backend(name);
      set_num_threads(t);
      body();
    }
  set_conv_backend(backend);
  set_num_threads(threads);
}

}  // namespace

TEST_CASE("conv backends: float32 results equal float64 im2col within float32 rounding",
          "[conv][dnnl]") {
  manual_seed(11);
  on_every_backend([] {
    for (const Case& c : cases()) check_case(c);
  });
}

TEST_CASE("conv backends: the list, the default and bad names", "[conv][dnnl]") {
  std::vector<std::string> all = conv_backends_available();
  REQUIRE_FALSE(all.empty());
  CHECK(all.back() == "im2col");
  CHECK(conv_backend() == all.front());  // the default is the best one built
  CHECK_THROWS_AS(set_conv_backend("winograd"), Error);
  CHECK_THROWS_WITH(set_conv_backend("winograd"), Catch::Matchers::Contains("im2col"));
  CHECK(conv_backend() == all.front());  // unchanged by the bad name
}

TEST_CASE("conv backends: float64 always runs im2col, and both backends agree on it",
          "[conv][dnnl]") {
  // float64 must not depend on the backend setting at all: bit-identical results.
  manual_seed(12);
  Tensor x = randn({3, 4, 8, 8}, float64), w = randn({5, 4, 3, 3}, float64);
  std::string backend = conv_backend();
  std::vector<std::vector<double>> seen;
  for (const std::string& name : conv_backends_available()) {
    set_conv_backend(name);
    seen.push_back(conv2d(x, w, Tensor(), 1, 1).to_vector());
  }
  set_conv_backend(backend);
  for (const auto& s : seen) CHECK(s == seen.front());
}
