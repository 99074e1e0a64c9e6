// conv2d, max_pool2d, avg_pool2d and var/stddev against PyTorch's numbers (tests/fixtures/ops.txt,
// from scripts/make_fixtures.py): forward values and input gradients for a fixed upstream
// gradient gy, in float64 and float32. Gradchecks of every case live in the ops' registry entries.
#include <catch2/catch.hpp>

#include <cmath>
#include <functional>

#include <autograd/autograd.hpp>

#include "../nn/helpers.hpp"
#include "support.hpp"

using namespace ag;
using Catch::Matchers::Contains;

namespace {

const testing::Fixture& fixture() {
  static const testing::Fixture f("ops.txt");
  return f;
}

using Fn = std::function<Tensor(const std::vector<Tensor>&)>;

// Runs f on the fixture's inputs `name.in<i>` (with the given shapes) in `dtype`, and compares
// y and every input gradient of sum(y * gy) with PyTorch's.
void check_case(const std::string& name, const std::vector<Shape>& shapes, const Fn& f, Dtype dtype) {
  INFO(name << " " << dtype_name(dtype));
  const auto& fx = fixture();
  double tol = dtype == float64 ? 1e-9 : 2e-4;
  std::vector<Tensor> in;
  for (std::size_t i = 0; i < shapes.size(); ++i)
    in.push_back(fx.tensor(name + ".in" + std::to_string(i), shapes[i], dtype).requires_grad_());
  Tensor y = f(in);
  REQUIRE(y.dtype() == dtype);
  testing::require_close(y, fx[name + ".y"], tol, tol);
  Tensor gy = tensor(fx[name + ".gy"], y.shape(), dtype);
  sum(y * gy).backward();
  for (std::size_t i = 0; i < in.size(); ++i) {
    INFO("gradient of input " << i);
    testing::require_close(in[i].grad(), fx[name + ".d" + std::to_string(i)], tol, tol);
  }
}

void check_both(const std::string& name, const std::vector<Shape>& shapes, const Fn& f) {
  check_case(name, shapes, f, float64);
  check_case(name, shapes, f, float32);
}

}  // namespace

TEST_CASE("var and stddev match PyTorch", "[ops][stats]") {
  check_both("var_all", {{3, 4}}, [](auto& x) { return var(x[0]); });
  check_both("var_axis1_c0_keep", {{3, 4}}, [](auto& x) { return var(x[0], {1}, 0, true); });
  check_both("std_axis0", {{3, 4}}, [](auto& x) { return stddev(x[0], {0}); });
  check_both("std_axes01_c2", {{3, 4}}, [](auto& x) { return x[0].stddev({0, -1}, 2); });
}

TEST_CASE("var and stddev: gradcheck first and second order", "[ops][stats]") {
  manual_seed(5);
  Tensor x = randn({3, 4}, float64).requires_grad_();
  for (const Fn& f : std::vector<Fn>{[](auto& v) { return var(v[0]); },
                                     [](auto& v) { return var(v[0], {0}, 0, true); },
                                     [](auto& v) { return stddev(v[0], {1}); },
                                     [](auto& v) { return stddev(v[0], {-1, 0}, 2, true); }}) {
    GradcheckResult r = gradcheck(f, {x});
    INFO(r.report());
    CHECK(r.ok);
    GradcheckResult rr = gradgradcheck(f, {x});
    INFO(rr.report());
    CHECK(rr.ok);
  }
}

TEST_CASE("var: PyTorch's divisor for tiny inputs and bad axes", "[ops][stats]") {
  Tensor one = tensor({2.0}, {1}, float64);
  CHECK(std::isnan(var(one).item()));            // 0 / 0, as torch.var
  CHECK(var(one, {}, 0).item() == 0.0);           // the population variance of one value
  CHECK(std::isinf(var(tensor({1.0, 3.0}, {2}, float64), {}, 2).item()));
  CHECK_THAT(ag_test::error_of([] { var(zeros({2, 3}), {2}); }), Contains("var") && Contains("{2, 3}"));
  CHECK_THAT(ag_test::error_of([] { stddev(zeros({2}, int64)); }), Contains("stddev") && Contains("int64"));
}

TEST_CASE("conv2d matches PyTorch (stride, padding, dilation, groups)", "[ops][conv]") {
  auto conv = [](Size2 s, Size2 p, Size2 d, std::size_t g) {
    return [=](const std::vector<Tensor>& x) {
      return conv2d(x[0], x[1], x.size() > 2 ? x[2] : Tensor(), s, p, d, g);
    };
  };
  check_both("conv_plain", {{2, 3, 6, 6}, {4, 3, 3, 3}, {4}}, conv(1, 0, 1, 1));
  check_both("conv_stride_pad", {{2, 2, 7, 6}, {3, 2, 3, 2}, {3}}, conv({2, 1}, {1, 2}, 1, 1));
  check_both("conv_dilation", {{1, 2, 8, 8}, {2, 2, 3, 3}}, conv(1, 1, 2, 1));
  check_both("conv_groups", {{2, 4, 5, 5}, {6, 2, 3, 3}, {6}}, conv(1, 1, 1, 2));
  check_both("conv_lenet", {{2, 1, 12, 12}, {6, 1, 5, 5}, {6}}, conv(1, 2, 1, 1));
}

TEST_CASE("conv2d gives the same numbers on 1 and 2 threads, batched over threads", "[ops][conv]") {
  manual_seed(11);
  Tensor x = randn({8, 8, 16, 16}).requires_grad_(), w = randn({16, 8, 3, 3}).requires_grad_();
  auto run = [&](int threads) {
    set_num_threads(threads);
    x.zero_grad();
    w.zero_grad();
    Tensor y = conv2d(x, w, Tensor(), 1, 1);
    sum(y * y).backward();
    return std::vector<std::vector<double>>{y.to_vector(), x.grad().to_vector(), w.grad().to_vector()};
  };
  int before = get_num_threads();
  auto one = run(1), two = run(2);
  set_num_threads(before);
  for (std::size_t k = 0; k < 3; ++k) ag_test::require_close(two[k], one[k], 1e-4);
}

TEST_CASE("max_pool2d and avg_pool2d match PyTorch", "[ops][pool]") {
  check_both("maxpool_2", {{2, 3, 6, 8}}, [](auto& x) { return max_pool2d(x[0], 2); });
  check_both("maxpool_3s2p1", {{1, 2, 7, 7}}, [](auto& x) { return max_pool2d(x[0], 3, 2, 1); });
  check_both("avgpool_2", {{2, 3, 6, 8}}, [](auto& x) { return avg_pool2d(x[0], 2); });
  check_both("avgpool_3s2p1", {{1, 2, 7, 7}}, [](auto& x) { return avg_pool2d(x[0], 3, 2, 1); });
  check_both("avgpool_23", {{1, 2, 7, 9}}, [](auto& x) { return avg_pool2d(x[0], {2, 3}, {1, 2}, 1); });
}

TEST_CASE("max_pool2d 2x2 stride 2 (its own fast loop): maxima, positions, ties and NaN",
          "[ops][pool]") {
  // Odd sizes (the last row and column fall outside every window; 6 windows a row: four in
  // SSE2, two in the scalar tail), ties (the first maximum in row-major order wins, as in
  // PyTorch) and NaN (it wins wherever it is): checked against a plain loop over each window,
  // values and gradient positions.
  const std::size_t h = 7, w = 13, plane = h * w, oh = 3, ow = 6;
  std::vector<double> v(2 * plane);
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = double((i * 37) % 11) - 5;
  v[3] = v[4] = 9;                           // a tie inside one window
  v[w * 2 + 2] = std::nan("");               // a NaN first in its window
  v[plane + w * 5 + 7] = std::nan("");       // one last in its window, second plane
  v[plane + w * 3 + 11] = std::nan("");      // and one in the scalar tail
  for (Dtype d : {float32, float64}) {
    Tensor x = tensor(v, {1, 2, h, w}, d).requires_grad_();
    Tensor y = max_pool2d(x, 2);
    REQUIRE(y.shape() == Shape{1, 2, oh, ow});
    sum(y).backward();
    std::vector<double> got = y.to_vector(), dx = x.grad().to_vector();
    std::vector<double> want_dx(v.size(), 0.0);
    for (std::size_t q = 0; q < 2; ++q)
      for (std::size_t r = 0; r < oh; ++r)
        for (std::size_t c = 0; c < ow; ++c) {
          std::size_t best = q * plane + 2 * r * w + 2 * c;
          for (std::size_t i = 0; i < 2; ++i)
            for (std::size_t j = 0; j < 2; ++j) {
              std::size_t at = q * plane + (2 * r + i) * w + 2 * c + j;
              if (v[at] > v[best] || std::isnan(v[at])) best = at;
            }
          double out = got[(q * oh + r) * ow + c];
          INFO(dtype_name(d) << " plane " << q << " window " << r << ", " << c);
          if (std::isnan(v[best])) CHECK(std::isnan(out));
          else CHECK(out == v[best]);
          want_dx[best] += 1;
        }
    CHECK(dx == want_dx);
  }
}

TEST_CASE("conv2d: third order through the three conv primitives", "[ops][conv]") {
  // d/dx of (d/dx of (d/dx sum(conv(x, w)^3))): each backward is made of conv ops again.
  manual_seed(3);
  Tensor x = randn({1, 2, 4, 4}, float64).requires_grad_();
  Tensor w = randn({2, 2, 2, 2}, float64).requires_grad_();
  Fn f = [&](const std::vector<Tensor>& v) {
    Tensor y = conv2d(v[0], v[1], Tensor(), 2, 1);
    Tensor g = grad({sum(y * y * y)}, {v[0]}, {}, true, true)[0];
    return sum(g * g);
  };
  GradcheckResult r = gradgradcheck(f, {x, w});
  INFO(r.report());
  CHECK(r.ok);
}

TEST_CASE("conv2d and pooling: bad input names the op and the shapes", "[ops][conv][errors]") {
  Tensor x = zeros({2, 3, 8, 8}), w = zeros({4, 3, 3, 3});
  CHECK_THAT(ag_test::error_of([&] { conv2d(zeros({3, 8}), w); }), Contains("conv2d") && Contains("{3, 8}"));
  CHECK_THAT(ag_test::error_of([&] { conv2d(x, zeros({4, 2, 3, 3})); }),
             Contains("conv2d") && Contains("{4, 2, 3, 3}") && Contains("in-channels"));
  CHECK_THAT(ag_test::error_of([&] { conv2d(x, w, zeros({3})); }), Contains("bias") && Contains("{4}"));
  CHECK_THAT(ag_test::error_of([&] { conv2d(x, zeros({4, 1, 3, 3}), Tensor(), 1, 0, 1, 2); }),
             Contains("groups"));
  CHECK_THAT(ag_test::error_of([&] { conv2d(x, zeros({4, 3, 9, 9})); }), Contains("does not fit"));
  CHECK_THAT(ag_test::error_of([&] { conv2d(x, w.to(float64)); }), Contains("dtypes differ"));
  CHECK_THAT(ag_test::error_of([&] { conv2d(x, w, Tensor(), 0); }), Contains("stride"));
  CHECK_THAT(ag_test::error_of([&] { max_pool2d(x, 3, 1, 2); }), Contains("max_pool2d") && Contains("half"));
  CHECK_THAT(ag_test::error_of([&] { avg_pool2d(zeros({1, 1, 2, 2}), 3); }),
             Contains("avg_pool2d") && Contains("does not fit"));
  CHECK_THAT(ag_test::error_of([&] { max_pool2d(zeros({4}), 2); }), Contains("max_pool2d") && Contains("{4}"));
}
