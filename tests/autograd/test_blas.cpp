// The BLAS behind matmul must be OpenBLAS: the reference BLAS that Debian's base image carries
// runs sgemm 20-40x slower and would pass every numeric test. These checks do not time anything.
#include <catch2/catch.hpp>

#include <dlfcn.h>

#include <cmath>
#include <filesystem>
#include <string>

#include <autograd/autograd.hpp>

// OpenBLAS's own entry points: a link error here means the BLAS linked is not OpenBLAS.
extern "C" char* openblas_get_config(void);
extern "C" int openblas_get_num_threads(void);

using Catch::Matchers::Contains;

namespace {
// The file of the shared library that the dynamic linker resolves `symbol` to, symlinks (Debian's
// alternatives) followed.
std::string library_of(const char* symbol) {
  void* address = dlsym(RTLD_DEFAULT, symbol);
  if (!address) return "(" + std::string(symbol) + " not found)";
  Dl_info info{};
  if (!dladdr(address, &info) || !info.dli_fname) return "(no file for " + std::string(symbol) + ")";
  std::error_code ec;
  std::filesystem::path real = std::filesystem::canonical(info.dli_fname, ec);
  return ec ? std::string(info.dli_fname) : real.string();
}
}  // namespace

TEST_CASE("blas: the linked BLAS is OpenBLAS", "[blas]") {
  const char* config = openblas_get_config();
  REQUIRE(config != nullptr);
  INFO("openblas_get_config: " << config);
  REQUIRE_THAT(std::string(config), Contains("OpenBLAS"));
}

TEST_CASE("blas: cblas_sgemm and cblas_dgemm resolve into OpenBLAS", "[blas]") {
  // If the reference libblas.so.3 were loaded ahead of OpenBLAS, matmul would call it even
  // though openblas_get_config links.
  for (const char* symbol : {"cblas_sgemm", "cblas_dgemm"}) {
    std::string file = library_of(symbol);
    INFO(symbol << " comes from " << file);
    REQUIRE_THAT(file, Contains("openblas"));
  }
}

TEST_CASE("blas: OpenBLAS stays single-threaded and set_num_threads splits GEMMs over TBB", "[blas]") {
  // OpenBLAS's own threads spin and fight TBB's for the cores, so ag runs OpenBLAS on one
  // thread and splits large products into blocks of C across its TBB threads instead.
  int before = ag::get_num_threads();
  REQUIRE(before >= 1);
  REQUIRE(openblas_get_num_threads() == 1);
  ag::manual_seed(7);
  ag::Tensor a = ag::randn({300, 200}), b = ag::randn({200, 100});
  ag::Tensor at = ag::randn({200, 20}), bt = ag::randn({600, 200});
  ag::set_num_threads(1);
  REQUIRE(ag::get_num_threads() == 1);
  std::vector<double> c1 = ag::matmul(a, b).to_vector();
  std::vector<double> d1 = ag::matmul_flags(at, bt, true, true).to_vector();  // split by columns
  ag::set_num_threads(2);
  REQUIRE(ag::get_num_threads() == 2);
  REQUIRE(openblas_get_num_threads() == 1);
  std::vector<double> c2 = ag::matmul(a, b).to_vector();
  std::vector<double> d2 = ag::matmul_flags(at, bt, true, true).to_vector();
  REQUIRE(c1.size() == c2.size());
  for (std::size_t i = 0; i < c1.size(); ++i) REQUIRE(c2[i] == Approx(c1[i]).margin(1e-4));
  REQUIRE(d1.size() == d2.size());
  for (std::size_t i = 0; i < d1.size(); ++i) REQUIRE(d2[i] == Approx(d1[i]).margin(1e-4));
  // The values are right, not just consistent: one element against a plain dot product.
  double ref = 0;
  std::vector<double> av = a.to_vector(), bv = b.to_vector();
  for (std::size_t k = 0; k < 200; ++k) ref += av[299 * 200 + k] * bv[k * 100 + 99];
  REQUIRE(c2.back() == Approx(ref).margin(1e-3));
  ag::set_num_threads(before);
  REQUIRE(ag::get_num_threads() == before);
}

TEST_CASE("blas: one-row, one-column, k = 1 and few-row products match a plain loop for every transpose", "[blas]") {
  // These shapes (batch 1, a batch-1 weight gradient) bypass sgemm for sgemv or a direct outer
  // product, and a few rows times a long k go through the transposed product; every layout of A
  // and B must still give the product.
  struct Dims { std::size_t m, n, k; };
  ag::manual_seed(11);
  for (ag::Dtype dtype : {ag::float32, ag::float64})
    for (Dims d : {Dims{1, 7, 5}, Dims{6, 1, 5}, Dims{6, 7, 1}, Dims{1, 1, 5}, Dims{1, 7, 1},
                   Dims{6, 1, 1}, Dims{3, 8, 300}, Dims{32, 64, 256}})
      for (bool ta : {false, true})
        for (bool tb : {false, true}) {
          ag::Tensor a = ag::randn(ta ? ag::Shape{d.k, d.m} : ag::Shape{d.m, d.k}, dtype);
          ag::Tensor b = ag::randn(tb ? ag::Shape{d.n, d.k} : ag::Shape{d.k, d.n}, dtype);
          // Leave NaN in memory the product's output may reuse: a beta = 0 product must not
          // read it (some OpenBLAS releases' gemv scale y by beta, and 0 * NaN is NaN).
          { ag::Tensor poison = ag::full({d.m, d.n}, std::nan(""), dtype); }
          std::vector<double> c = ag::matmul_flags(a, b, ta, tb).to_vector();
          std::vector<double> av = a.to_vector(), bv = b.to_vector();
          INFO(ag::dtype_name(dtype) << " m=" << d.m << " n=" << d.n << " k=" << d.k << " ta=" << ta << " tb=" << tb);
          REQUIRE(c.size() == d.m * d.n);
          for (std::size_t i = 0; i < d.m; ++i)
            for (std::size_t j = 0; j < d.n; ++j) {
              double ref = 0;
              for (std::size_t p = 0; p < d.k; ++p)
                ref += av[ta ? p * d.m + i : i * d.k + p] * bv[tb ? j * d.k + p : p * d.n + j];
              REQUIRE(c[i * d.n + j] == Approx(ref).margin(dtype == ag::float32 ? 1e-4 : 1e-12));
            }
        }
  // linear at batch 1 adds the product onto the bias (beta = 1).
  ag::Tensor x = ag::tensor({1.0, 2.0, 3.0}, {1, 3}, ag::float64);
  ag::Tensor w = ag::tensor({1.0, 0.0, -1.0, 0.5, 0.5, 0.5}, {2, 3}, ag::float64);
  ag::Tensor bias = ag::tensor({10.0, 20.0}, {2}, ag::float64);
  std::vector<double> y = ag::linear(x, w, bias).to_vector();
  REQUIRE(y == std::vector<double>{8.0, 23.0});
  // ... and so does the transposed product for a few rows (batch 5, 12 outputs, 400 inputs).
  ag::Tensor xs = ag::randn({5, 400}), ws = ag::randn({12, 400}), bs = ag::randn({12});
  std::vector<double> ys = ag::linear(xs, ws, bs).to_vector();
  std::vector<double> xv = xs.to_vector(), wv = ws.to_vector(), bv = bs.to_vector();
  for (std::size_t i = 0; i < 5; ++i)
    for (std::size_t j = 0; j < 12; ++j) {
      double ref = bv[j];
      for (std::size_t p = 0; p < 400; ++p) ref += xv[i * 400 + p] * wv[j * 400 + p];
      REQUIRE(ys[i * 12 + j] == Approx(ref).margin(1e-3));
    }
}

TEST_CASE("blas: a full sum spread over threads is bit-identical to one thread", "[blas][reduce]") {
  int before = ag::get_num_threads();
  ag::manual_seed(5);
  ag::Tensor x = ag::rand({3, 1000003});  // odd length: a partial last block
  std::vector<double> xv = x.to_vector();
  double ref = 0;
  for (double v : xv) ref += v;
  ag::set_num_threads(1);
  double one = ag::sum(x).item();
  ag::set_num_threads(2);
  double two = ag::sum(x).item();
  ag::set_num_threads(before);
  REQUIRE(two == one);  // exact: block totals are added in the same order
  REQUIRE(one == Approx(ref).epsilon(1e-6));
}
