// Shared by the core's tests: element-wise comparison and the message of an expected ag::Error.
#pragma once

#include <catch2/catch.hpp>

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
