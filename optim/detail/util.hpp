// Helpers shared by the optimizer and scheduler sources. Not part of the public API.
#pragma once

#include <cmath>
#include <cstdio>
#include <string>
#include <typeinfo>
#include <utility>
#include <vector>

#include <autograd/tensor.hpp>

namespace ag::optim::detail {

inline std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

inline void require(bool ok, const std::string& message) {
  if (!ok) throw Error(message);
}

// Hyperparameter checks; each comparison is written so that NaN fails it.
inline void require_nonnegative(const char* who, const char* what, double v) {
  require(v >= 0 && std::isfinite(v),
          std::string(who) + ": " + what + " must be finite and >= 0, got " + num(v));
}
inline void require_positive(const char* who, const char* what, double v) {
  require(v > 0 && std::isfinite(v),
          std::string(who) + ": " + what + " must be finite and > 0, got " + num(v));
}
inline void require_unit(const char* who, const char* what, double v, bool one_allowed) {
  require(v >= 0 && (one_allowed ? v <= 1 : v < 1),
          std::string(who) + ": " + what + " must be in [0, 1" + (one_allowed ? "]" : ")") +
              ", got " + num(v));
}

// The gradient of params[i] if it has one that matches, else undefined (the parameter is skipped).
Tensor grad_of(const char* who, const Tensor& p, std::size_t i);

// Calls f(T{}) with T the C++ type of a float dtype, for kernels written once for both.
template <class F>
void for_float_dtype(Dtype d, F f) {
  if (d == float32)
    f(float{});
  else
    f(double{});
}

// The C++ class name of an object, without namespaces ("ns::MyOptimizer" -> "MyOptimizer").
std::string class_name(const std::type_info& type);

// .npz files of named plain values (scheduler state), via nn's archive code; errors start with who.
void save_values(const std::string& who, const std::string& path,
                 const std::vector<std::pair<std::string, Tensor>>& entries);
std::vector<std::pair<std::string, Tensor>> load_values(const std::string& who,
                                                        const std::string& path);
// The one entry named `key`, checked to be a 0-d tensor of `dtype`.
Tensor scalar_entry(const std::string& who, const std::string& path,
                    const std::vector<std::pair<std::string, Tensor>>& entries,
                    const std::string& key, Dtype dtype);

}  // namespace ag::optim::detail
