// The run-time choice of SIMD kernels (autograd/kernels/dispatch.cpp). ctest runs all of
// test_autograd a second time with AG_SIMD=sse2 (test_autograd_baseline_simd), so every kernel
// test also runs on the x86-64 baseline copy; this file checks that the choice is the one asked.
#include <cmath>
#include <cstdlib>
#include <limits>
#include <string>

#include <catch2/catch.hpp>

#include <autograd/autograd.hpp>

namespace {

bool contains(const std::vector<std::string>& v, const std::string& s) {
  for (const std::string& x : v)
    if (x == s) return true;
  return false;
}

}  // namespace

TEST_CASE("simd: the kernels run an instruction set this build carries and this CPU runs",
          "[simd]") {
  std::vector<std::string> available = ag::simd_isas_available();
  REQUIRE_FALSE(available.empty());
  std::string active = ag::simd_isa();
  INFO("active " << active << ", available " << available.size());
  CHECK(contains(available, active));
  const char* forced = std::getenv("AG_SIMD");
  if (forced && *forced) {
    std::string want = std::string(forced) == "baseline" ? "sse2" : forced;
    CHECK(active == want);
  } else {
    CHECK(active == available.front());  // the best one
  }
  if (active != "native") CHECK(contains(available, "sse2"));  // the baseline is always there
}

TEST_CASE("simd: every kernel family gives the same numbers on the active instruction set",
          "[simd]") {
  // Sizes that leave a scalar tail after the vector body for 2-, 4-, 8- and 16-wide batches.
  ag::Tensor x = ag::arange(-3.5, 3.5, 0.25, ag::float64);  // 28 values
  std::vector<double> xs = x.to_vector();
  std::vector<double> sig = ag::sigmoid(x).to_vector(), ex = ag::exp(x).to_vector();
  double total = 0;
  for (std::size_t i = 0; i < xs.size(); ++i) {
    CHECK(sig[i] == Approx(1 / (1 + std::exp(-xs[i]))).epsilon(1e-14));
    CHECK(ex[i] == Approx(std::exp(xs[i])).epsilon(1e-14));
    total += xs[i];
  }
  CHECK(ag::sum(x).item() == Approx(total).margin(1e-12));
  ag::Tensor m = ag::reshape(x, {4, 7});
  ag::Tensor p = ag::matmul(m, ag::t(m));  // {4, 4}
  std::vector<double> pv = p.to_vector();
  for (std::size_t i = 0; i < 4; ++i)
    for (std::size_t j = 0; j < 4; ++j) {
      double want = 0;
      for (std::size_t k = 0; k < 7; ++k) want += xs[i * 7 + k] * xs[j * 7 + k];
      CHECK(pv[i * 4 + j] == Approx(want).epsilon(1e-14));
    }
}

TEST_CASE("simd: column sums (a bias gradient) equal the row-by-row scalar sum bit for bit",
          "[simd]") {
  // The vector kernel keeps each column's float sum in the scalar loop's order, so the result
  // is the same on every instruction set. Widths cover 4 vectors + 1 vector + a scalar tail for
  // 2- to 16-wide batches; rows include 1.
  for (ag::Dtype dtype : {ag::float32, ag::float64}) {
    for (std::size_t rows : {std::size_t(1), std::size_t(7), std::size_t(64)}) {
      for (std::size_t cols : {std::size_t(3), std::size_t(19), std::size_t(83)}) {
        ag::Tensor x = ag::randn({rows, cols}, dtype);
        std::vector<double> xs = x.to_vector();
        std::vector<double> got = ag::sum(x, {0}).to_vector();
        REQUIRE(got.size() == cols);
        for (std::size_t k = 0; k < cols; ++k) {
          double want;
          if (dtype == ag::float32) {
            float acc = 0;
            for (std::size_t r = 0; r < rows; ++r) acc += static_cast<float>(xs[r * cols + k]);
            want = acc;
          } else {
            double acc = 0;
            for (std::size_t r = 0; r < rows; ++r) acc += xs[r * cols + k];
            want = acc;
          }
          INFO("dtype " << ag::dtype_name(dtype) << ", " << rows << "x" << cols << ", column " << k);
          CHECK(got[k] == want);
        }
      }
    }
  }
}

TEST_CASE("simd: log_softmax along contiguous rows matches the scalar double formula",
          "[simd]") {
  // Row lengths leave a scalar tail after 2-, 4- and 8-wide double batches; one row has a
  // -inf logit (exp gives 0 there) and one is huge (the max shift keeps it finite).
  for (ag::Dtype dtype : {ag::float32, ag::float64}) {
    for (std::size_t len : {std::size_t(1), std::size_t(3), std::size_t(10), std::size_t(17)}) {
      ag::Tensor x = ag::mul(ag::randn({4, len}, dtype), 5.0);
      std::vector<double> xs = x.to_vector();
      xs[0] = -std::numeric_limits<double>::infinity();
      for (std::size_t j = 0; j < len; ++j) xs[len + j] += 1e4;
      x = ag::tensor(xs, {4, len}, dtype);
      xs = x.to_vector();
      std::vector<double> got = ag::log_softmax(x, 1).to_vector();
      for (std::size_t r = 0; r < 4; ++r) {
        double m = -std::numeric_limits<double>::infinity(), total = 0;
        for (std::size_t j = 0; j < len; ++j) m = std::max(m, xs[r * len + j]);
        for (std::size_t j = 0; j < len; ++j) total += std::exp(xs[r * len + j] - m);
        for (std::size_t j = 0; j < len; ++j) {
          const double want = xs[r * len + j] - (m + std::log(total));
          INFO(ag::dtype_name(dtype) << " len " << len << " row " << r << " col " << j);
          if (std::isnan(want))  // a row of one -inf: NaN, as in PyTorch
            CHECK(std::isnan(got[r * len + j]));
          else if (std::isinf(want))
            CHECK(got[r * len + j] == want);
          else  // float32 rounds the 1e4 shift of row 1 to its ulp, 1e-3
            CHECK(got[r * len + j] ==
                  Approx(want).epsilon(dtype == ag::float32 ? 1e-6 : 1e-13)
                      .margin(dtype == ag::float32 ? (r == 1 ? 2e-3 : 1e-5) : 1e-9));
        }
      }
    }
  }
}
