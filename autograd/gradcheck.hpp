// Gradient verification: autograd against central finite differences, or against gradients
// derived by hand. All checks run in float64; float32 inputs are converted, with a warning.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <autograd/export.hpp>
#include <autograd/tensor.hpp>

AG_API_BEGIN
namespace ag {

/// Step and tolerances of a check.
struct GradcheckOptions {
  double eps = 1e-6;   ///< finite-difference step
  double atol = 1e-5;  ///< absolute tolerance
  double rtol = 1e-3;  ///< relative tolerance
};

/// One row per checked input: where the analytic and reference gradients differ most.
struct GradcheckEntry {
  std::string input;             ///< the tensor's name, or "input i"
  Shape shape;  ///< the input's shape
  std::vector<std::size_t> index;  ///< the input element where the gradients differ most
  std::size_t output_index = 0;    ///< and the (flat) output element whose derivative it is
  double analytic = 0;   ///< autograd's derivative there
  double reference = 0;  ///< the numeric (or hand-derived) one
  double abs_error = 0;  ///< |analytic - reference|
  double rel_error = 0;  ///< abs_error / |reference|
  bool ok = true;  ///< within atol + rtol * |reference| everywhere
};

/// The outcome of gradcheck, gradgradcheck or compare_gradients.
struct GradcheckResult {
  bool ok = true;  ///< every entry within tolerance  ///< within atol + rtol * |reference| everywhere
  std::string what;                   ///< "gradcheck", "gradgradcheck", "compare_gradients"
  std::string reference_name;         ///< "numeric" or "hand-derived"
  std::vector<GradcheckEntry> entries;  ///< one per checked input
  std::vector<std::string> warnings;  ///< e.g. float32 inputs converted to float64
  std::string report() const;         ///< a table a person can read
  explicit operator bool() const { return ok; }  ///< ok
};

/// The function a check differentiates (named CheckFunction: ag::Function is the custom-function
/// base of autograd/function.hpp).
using CheckFunction = std::function<Tensor(const std::vector<Tensor>&)>;

GradcheckResult gradcheck(CheckFunction f, const std::vector<Tensor>& inputs, GradcheckOptions = {});  ///< autograd's gradients against central differences (float64)
GradcheckResult gradgradcheck(CheckFunction f, const std::vector<Tensor>& inputs, GradcheckOptions = {});  ///< the same for second derivatives
/// Autograd's gradient of f (summed over its outputs) against gradients derived by hand.
GradcheckResult compare_gradients(CheckFunction f, const std::vector<Tensor>& inputs,
                                  const std::vector<Tensor>& hand_derived, GradcheckOptions = {});

}  // namespace ag
AG_API_END
