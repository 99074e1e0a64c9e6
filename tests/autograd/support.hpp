// Shared by the core's tests: element-wise comparisons and the message of an expected ag::Error.
#pragma once

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <exception>
#include <string>
#include <vector>

#include <autograd/autograd.hpp>

namespace ag_test {

inline void require_close(const std::vector<double>& got, const std::vector<double>& want,
                          double tol = 1e-6) {
  REQUIRE(got.size() == want.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    INFO("element " << i << ": got " << got[i] << ", want " << want[i]);
    REQUIRE(got[i] == Approx(want[i]).margin(tol).epsilon(tol));
  }
}

// A float32 result against its float64 reference: max |got - want| / bound over the elements,
// where bound = (terms + 4) 2^-23 abs_sum is the rounding bound of a sum of `terms` products
// whose absolute values add up to abs_sum. At most 1 passes.
inline double worst_ratio(const ag::Tensor& got, const ag::Tensor& want,
                          const ag::Tensor& abs_sum, double terms) {
  std::vector<double> a = got.to_vector(), b = want.to_vector(), s = abs_sum.to_vector();
  REQUIRE(a.size() == b.size());
  REQUIRE(a.size() == s.size());
  double eps = std::ldexp(1.0, -23), worst = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    double bound = (terms + 4) * eps * s[i] + 1e-30;
    worst = std::max(worst, std::abs(a[i] - b[i]) / bound);
  }
  return worst;
}

// Each float32 result against its float64 reference within float32 rounding (worst_ratio):
// got[i], ref[i], sums[i] and terms[i] belong together; what[i] names the result in failures.
inline void check_float32_rounding(const std::vector<ag::Tensor>& got,
                                   const std::vector<ag::Tensor>& ref,
                                   const std::vector<ag::Tensor>& sums,
                                   const std::vector<double>& terms,
                                   const std::vector<std::string>& what) {
  REQUIRE(got.size() == what.size());
  for (std::size_t i = 0; i < what.size(); ++i) {
    INFO(what[i]);
    REQUIRE(got[i].dtype() == ag::float32);
    REQUIRE(got[i].shape() == ref[i].shape());
    CHECK(worst_ratio(got[i], ref[i], sums[i], terms[i]) <= 1.0);
  }
}

// The message of the ag::Error that `f` throws; fails the test when it throws nothing or
// something else.
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const ag::Error& e) {
    return e.what();
  } catch (const std::exception& e) {
    FAIL("expected ag::Error, got another exception: " << e.what());
  }
  FAIL("expected ag::Error, nothing was thrown");
  return {};
}

}  // namespace ag_test
