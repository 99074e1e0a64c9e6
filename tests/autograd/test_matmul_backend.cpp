// The float32 matrix-product backends (autograd/matmul_backend.hpp): oneDNN where built, and
// OpenBLAS. Every path of kernels/blas.cpp (transposes, one row, one column, k = 1, the
// transposed few-row product, blocks split over TBB, linear's beta = 1 onto the bias, batches,
// empty products) must give, on each backend at 1 and 2 threads, the float64 result within
// float32 rounding: for an output that sums K products, |f32 - f64| <= (K + 4) 2^-23 sum
// |products| (the sums of |products| from the same ops on |a|, |b| in float64). Both backends
// then agree with each other within twice that.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <autograd/autograd.hpp>

#include "support.hpp"

using namespace ag;
using ag_test::check_float32_rounding;
using ag_test::worst_ratio;

namespace {

// The product and both its gradients, for sum(c * gc): {c, da, db}, in `dtype`.
std::vector<Tensor> product_results(const std::vector<Tensor>& in, bool ta, bool tb,
                                    Dtype dtype) {
  Tensor a = in[0].to(dtype).detach().requires_grad_(),
         b = in[1].to(dtype).detach().requires_grad_();
  Tensor c = matmul_flags(a, b, ta, tb);
  if (c.numel() == 0) return {c, zeros_like(a), zeros_like(b)};
  std::vector<Tensor> g = grad({c}, {a, b}, {in[2].to(dtype)});
  return {c, g[0], g[1]};
}

struct Dims {
  std::size_t batch_a, batch_b, m, n, k;  // batch 0: a 2-D operand
};

Shape operand(std::size_t batch, std::size_t rows, std::size_t cols) {
  return batch ? Shape{batch, rows, cols} : Shape{rows, cols};
}

// Random inputs are drawn at one thread: under ThreadSanitizer, elementwise kernels on TBB
// workers cost seconds per million elements (each access is checked against the libtbb
// suppression), and only the products need the second thread.
struct OneThread {
  int before = get_num_threads();
  OneThread() { set_num_threads(1); }
  ~OneThread() { set_num_threads(before); }
};

// Standard normal values rounded to float32, held in float64.
Tensor rounded_randn(const Shape& shape) {
  OneThread one;
  return randn(shape, float64).to(float32).to(float64);
}

void check_product(const Dims& d, bool ta, bool tb) {
  INFO("batches " << d.batch_a << ", " << d.batch_b << " m=" << d.m << " n=" << d.n
                  << " k=" << d.k << " ta=" << ta << " tb=" << tb << " on "
                  << matmul_backend() << " at " << get_num_threads() << " thread(s)");
  Tensor a = rounded_randn(operand(d.batch_a, ta ? d.k : d.m, ta ? d.m : d.k));
  Tensor b = rounded_randn(operand(d.batch_b, tb ? d.n : d.k, tb ? d.k : d.n));
  std::size_t batch = std::max(d.batch_a, d.batch_b);
  Tensor gc = rounded_randn(operand(batch, d.m, d.n));
  std::vector<Tensor> in{a, b, gc};
  std::vector<Tensor> got = product_results(in, ta, tb, float32);
  std::vector<Tensor> ref = product_results(in, ta, tb, float64);
  std::vector<Tensor> sums = product_results({abs(a), abs(b), abs(gc)}, ta, tb, float64);
  // da sums n products per element (times the batch where b broadcasts), db m (or the batch).
  check_float32_rounding(got, ref, sums,
                         {double(d.k), double(d.n * std::max<std::size_t>(1, batch)),
                          double(d.m * std::max<std::size_t>(1, batch))},
                         {"c", "da", "db"});
}

const std::vector<Dims>& product_cases() {
  static const std::vector<Dims> all = {
      {0, 0, 1, 7, 5},     {0, 0, 6, 1, 5},     {0, 0, 1, 1, 5},     // one row / one column
      {0, 0, 6, 7, 1},     {0, 0, 1, 7, 1},     {0, 0, 6, 1, 1},     // k = 1
      {0, 0, 1, 100, 784}, {0, 0, 3, 8, 300},   {0, 0, 12, 40, 256},  // few rows, direct
      {0, 0, 16, 64, 256}, {0, 0, 32, 100, 784},                      // few rows, transposed
      {0, 0, 300, 100, 50},                                           // plain
      {3, 3, 4, 6, 5},     {3, 0, 4, 6, 5},     {0, 3, 4, 6, 5},     {1, 3, 20, 50, 300},
      {0, 0, 0, 5, 3},     {0, 0, 4, 0, 3},     {0, 0, 4, 5, 0},     {2, 2, 3, 4, 0},  // empty
  };
  return all;
}

// The thread counts of the many-case tests. Under ThreadSanitizer (CI's TSan phase) they run at
// one thread only: there every access of ag's code to memory a TBB worker wrote last is checked
// against the libtbb suppression (scripts/tsan.supp), which took these cases 170-250 s. Below
// 2^24 multiply-adds nothing is split, so the second thread adds little to them; the split and
// determinism cases still run at 2 threads under TSan.
#if defined(__SANITIZE_THREAD__)
const std::vector<int> kCaseThreads = {1};
#else
const std::vector<int> kCaseThreads = {1, 2};
#endif

// Runs `body` with each backend of this build at each of `counts` threads, restoring the
// settings.
template <class F>
void on_every_backend(F&& body, const std::vector<int>& counts = {1, 2}) {
  std::string backend = matmul_backend();
  int threads = get_num_threads();
  for (const std::string& name : matmul_backends_available())
    for (int t : counts) {
      set_matmul_backend(name);
      set_num_threads(t);
      body();
    }
  set_matmul_backend(backend);
  set_num_threads(threads);
}

}  // namespace

TEST_CASE("matmul backends: products and their gradients equal float64 within float32 rounding",
          "[blas][dnnl]") {
  manual_seed(21);
  on_every_backend([] {
    for (const Dims& d : product_cases())
      for (bool ta : {false, true})
        for (bool tb : {false, true}) check_product(d, ta, tb);
  }, kCaseThreads);
}

TEST_CASE("matmul backends: products split over TBB equal float64 within float32 rounding",
          "[blas][dnnl]") {
  // From 2^24 multiply-adds (2^23 on OpenBLAS) a product runs as blocks of C rows, or of columns
  // when it has few rows, one library call per block at 2 threads. The operands and the
  // references are made once, at one thread (OneThread says why).
  struct Big { std::size_t m, n, k; bool ta, tb; };
  OneThread one;
  manual_seed(26);
  for (Big d : {Big{512, 128, 256, false, false}, Big{512, 128, 256, true, true},
                Big{20, 2800, 300, false, true}, Big{20, 2800, 300, true, false}}) {
    Tensor a = randn(d.ta ? Shape{d.k, d.m} : Shape{d.m, d.k});
    Tensor b = randn(d.tb ? Shape{d.n, d.k} : Shape{d.k, d.n});
    Tensor a64 = a.to(float64), b64 = b.to(float64);
    Tensor ref = matmul_flags(a64, b64, d.ta, d.tb);
    Tensor sums = matmul_flags(abs(a64), abs(b64), d.ta, d.tb);
    on_every_backend([&] {
      INFO("m=" << d.m << " n=" << d.n << " k=" << d.k << " ta=" << d.ta << " tb=" << d.tb
                << " on " << matmul_backend() << " at " << get_num_threads() << " thread(s)");
      CHECK(worst_ratio(matmul_flags(a, b, d.ta, d.tb), ref, sums, double(d.k)) <= 1.0);
    });
  }
}

TEST_CASE("matmul backends: linear adds onto the bias (beta = 1) within float32 rounding",
          "[blas][dnnl]") {
  manual_seed(22);
  struct L { std::size_t batch, in, out; bool bias; };
  on_every_backend([] {
    for (L l : {L{1, 784, 100, true}, L{32, 784, 100, true}, L{20, 300, 64, false},
                L{256, 784, 100, true}, L{8, 100, 10, true}, L{3, 0, 4, true}, L{0, 5, 4, true}}) {
      INFO("linear " << l.batch << "x" << l.in << " -> " << l.out << " bias " << l.bias << " on "
                     << matmul_backend() << " at " << get_num_threads() << " thread(s)");
      Tensor x = rounded_randn({l.batch, l.in}), w = rounded_randn({l.out, l.in});
      Tensor b = l.bias ? rounded_randn({l.out}) : Tensor();
      Tensor got = linear(x.to(float32), w.to(float32), l.bias ? b.to(float32) : Tensor());
      Tensor ref = linear(x, w, b);
      Tensor sums = linear(abs(x), abs(w), l.bias ? abs(b) : Tensor());
      REQUIRE(got.shape() == ref.shape());
      CHECK(worst_ratio(got, ref, sums, double(l.in + 1)) <= 1.0);
    }
  }, kCaseThreads);
}

TEST_CASE("matmul backends: a beta = 0 product never reads the memory it overwrites",
          "[blas][dnnl]") {
  // NaN left where the output is allocated: 0 * NaN would be NaN (some OpenBLAS releases scale
  // gemv's y by beta; dnnl_sgemm must not read C either).
  manual_seed(23);
  on_every_backend([] {
    for (Dims d : {Dims{0, 0, 1, 7, 5}, Dims{0, 0, 6, 1, 5}, Dims{0, 0, 6, 7, 1},
                   Dims{0, 0, 32, 64, 256}, Dims{0, 0, 9, 10, 11}}) {
      Tensor a = randn({d.m, d.k}), b = randn({d.k, d.n});
      { Tensor poison = full({d.m, d.n}, std::nan("")); }
      std::vector<double> c = matmul(a, b).to_vector();
      INFO("m=" << d.m << " n=" << d.n << " k=" << d.k << " on " << matmul_backend());
      CHECK(std::none_of(c.begin(), c.end(), [](double v) { return std::isnan(v); }));
    }
  });
}

TEST_CASE("matmul backends: each is deterministic, run to run and over thread counts",
          "[blas][dnnl]") {
  // The TBB blocks are whole rows (or columns) of C, each one call to the library, so every
  // element sums its k products in the same order whatever the thread count.
  manual_seed(24);
  Tensor a, b, x, w;
  {
    OneThread one;
    a = randn({512, 256}), b = randn({256, 128}), x = randn({20, 300}), w = randn({2800, 300});
  }
  on_every_backend([&] {
    INFO(matmul_backend() << " at " << get_num_threads() << " thread(s)");
    std::vector<double> c1 = matmul(a, b).to_vector(), c2 = matmul(a, b).to_vector();
    std::vector<double> y1 = linear(x, w, Tensor()).to_vector(),
                        y2 = linear(x, w, Tensor()).to_vector();
    CHECK(c1 == c2);
    CHECK(y1 == y2);
  });
  std::string backend = matmul_backend();
  int threads = get_num_threads();
  for (const std::string& name : matmul_backends_available()) {
    INFO(name);
    set_matmul_backend(name);
    set_num_threads(1);
    std::vector<double> c1 = matmul(a, b).to_vector(), y1 = linear(x, w, Tensor()).to_vector();
    set_num_threads(2);
    CHECK(matmul(a, b).to_vector() == c1);
    CHECK(linear(x, w, Tensor()).to_vector() == y1);
  }
  set_matmul_backend(backend);
  set_num_threads(threads);
}

TEST_CASE("matmul backends: the list, the default and bad names", "[blas][dnnl]") {
  std::vector<std::string> all = matmul_backends_available();
  REQUIRE_FALSE(all.empty());
  CHECK(all.back() == "openblas");
  CHECK(matmul_backend() == all.front());  // the default is the best one built
  CHECK_THROWS_AS(set_matmul_backend("mkl"), Error);
  CHECK_THROWS_WITH(set_matmul_backend("mkl"), Catch::Matchers::Contains("openblas"));
  CHECK_THROWS_WITH(set_matmul_backend("mkl"), Catch::Matchers::Contains("set_matmul_backend"));
  CHECK(matmul_backend() == all.front());  // unchanged by the bad name
}

TEST_CASE("matmul backends: float64 ignores the setting, and its gradients still check",
          "[blas][dnnl]") {
  manual_seed(25);
  Tensor a = randn({5, 4}, float64), b = randn({4, 3}, float64), w = randn({2, 5}, float64);
  std::string backend = matmul_backend();
  std::vector<std::vector<double>> seen;
  for (const std::string& name : matmul_backends_available()) {
    set_matmul_backend(name);
    seen.push_back(matmul(a, b).to_vector());
    auto f = [&](const std::vector<Tensor>& in) {
      return sum(linear(matmul(in[0], in[1]).t(), in[2], Tensor()) * 0.5);
    };
    CHECK(gradcheck(f, {a.detach().requires_grad_(), b.detach().requires_grad_(),
                        w.detach().requires_grad_()}));
  }
  set_matmul_backend(backend);
  for (const auto& s : seen) CHECK(s == seen.front());  // bit-identical: always OpenBLAS
}
