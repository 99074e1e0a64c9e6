// The BLAS behind matmul must be OpenBLAS: the reference BLAS that Debian's base image carries
// runs sgemm 20-40x slower and would pass every numeric test. These checks do not time anything.
#include <catch2/catch.hpp>

#include <dlfcn.h>

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
