// The misuse catalogue's checks. Every case asserts one exact outcome: a value (shape and
// elements, NaN matching NaN), or an ag::Error whose message contains the op's name and the
// other given parts. Any other exception, or none where one is due, fails the case.
#pragma once

#include <catch2/catch.hpp>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

// Every ag header before the one-letter macros below, which would rewrite their templates.
#include <autograd/autograd.hpp>
#include <data/data.hpp>
#include <nn/nn.hpp>
#include <optim/optim.hpp>

namespace misuse {

inline std::size_t& case_count() {
  static std::size_t n = 0;
  return n;
}

// "ag::Error: <message>", "std::exception: <message>" or "no exception".
inline std::string outcome_of(const std::function<void()>& f, bool& ag_error) {
  ag_error = false;
  try {
    f();
  } catch (const ag::Error& e) {
    ag_error = true;
    return e.what();
  } catch (const std::exception& e) {
    return std::string("non-ag exception: ") + e.what();
  }
  return "no exception";
}

inline void expect_error(const char* what, const std::function<void()>& f,
                         const std::vector<std::string>& parts) {
  ++case_count();
  bool ag_error = false;
  const std::string msg = outcome_of(f, ag_error);
  bool ok = ag_error;
  for (const auto& p : parts) ok = ok && msg.find(p) != std::string::npos;
  INFO(what << "\n  got: " << msg);
  CHECK(ok);
}

inline bool same_value(double a, double b, double rtol) {
  if (std::isnan(b)) return std::isnan(a);
  if (std::isinf(b)) return a == b;
  return std::fabs(a - b) <= rtol * std::fabs(b) + 1e-12;
}

inline void expect_value(const char* what, const std::function<ag::Tensor()>& f, const ag::Shape& shape,
                         const std::vector<double>& values, double rtol = 1e-6) {
  ++case_count();
  std::string got;
  bool ok = false;
  try {
    ag::Tensor t = f();
    got = t.str();
    ok = t.shape() == shape;
    if (ok && !values.empty()) {
      std::vector<double> v = t.to_vector();
      ok = v.size() == values.size();
      for (std::size_t i = 0; ok && i < v.size(); ++i) ok = same_value(v[i], values[i], rtol);
    } else if (ok) {
      ok = t.numel() == 0 || values.empty();
    }
  } catch (const std::exception& e) {
    got = std::string("exception: ") + e.what();
  }
  INFO(what << "\n  expected shape " << ag::shape_str(shape) << "\n  got: " << got);
  CHECK(ok);
}

inline void expect_true(const char* what, const std::function<bool()>& f) {
  ++case_count();
  std::string got = "false";
  bool ok = false;
  try {
    ok = f();
  } catch (const std::exception& e) {
    got = std::string("exception: ") + e.what();
  }
  INFO(what << "\n  got: " << got);
  CHECK(ok);
}

}  // namespace misuse

// FAILS(expr, "op", ...): expr throws ag::Error naming the op (and the other parts).
#define FAILS(expr, ...) ::misuse::expect_error(#expr, [&] { (void)(expr); }, {__VA_ARGS__})
// GIVES(expr, shape, {values}): expr is a tensor of that shape and those values ({} for empty).
#define GIVES(expr, shape, ...) ::misuse::expect_value(#expr, [&] { return ag::Tensor(expr); }, shape, __VA_ARGS__)
// HOLDS(expr): expr is true, and throws nothing.
#define HOLDS(expr) ::misuse::expect_true(#expr, [&] { return static_cast<bool>(expr); })
