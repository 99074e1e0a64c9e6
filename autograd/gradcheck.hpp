// Gradient verification: autograd against central finite differences, or against gradients
// derived by hand. All checks run in float64; float32 inputs are converted, with a warning.
#pragma once

#include <functional>
#include <limits>
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
  double analytic = 0;   ///< autograd's value there
  double reference = 0;  ///< the numeric (or hand-derived) value there
  double abs_error = 0;  ///< |analytic - reference|
  double rel_error = 0;  ///< abs_error / |reference|
  bool ok = true;  ///< within atol + rtol * |reference| everywhere
  /// How many compared values (Jacobian entries for gradcheck, elements for compare_gradients)
  /// are off, and autograd/reference over all of them: a constant ratio (3.00 everywhere) points
  /// at a missing factor such as 1/N.
  std::size_t compared = 0;
  std::size_t mismatched = 0;  ///< how many compared values are out of tolerance
  double ratio_lo = std::numeric_limits<double>::infinity();    ///< least autograd/reference
  double ratio_hi = -std::numeric_limits<double>::infinity();   ///< greatest autograd/reference
  bool ratio_defined = true;  ///< false once a reference is 0 where autograd is not
  bool constant_ratio() const;  ///< mismatched, with one ratio (within 1e-6) everywhere
};

/// The outcome of gradcheck, gradgradcheck or compare_gradients.
struct GradcheckResult {
  bool ok = true;  ///< every entry within tolerance
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

/// gradcheck checks the inputs that require grad, or every float input when none does; f runs
/// with grad mode on for the numeric differences too, so f may itself call ag::grad (a gradient
/// penalty) or ag::Function. compare_gradients follows the same rule: a hand-derived gradient
/// given for an input that is not checked is reported as a warning, not compared.
GradcheckResult gradcheck(CheckFunction f, const std::vector<Tensor>& inputs,
                          GradcheckOptions = {});
/// gradcheck of the first derivatives themselves (backward with create_graph), against
/// finite differences of the gradient: checks second-order backward.
GradcheckResult gradgradcheck(CheckFunction f, const std::vector<Tensor>& inputs,
                              GradcheckOptions = {});
/// Autograd's gradient of f (summed over its outputs) against gradients derived by hand.
GradcheckResult compare_gradients(CheckFunction f, const std::vector<Tensor>& inputs,
                                  const std::vector<Tensor>& hand_derived, GradcheckOptions = {});

}  // namespace ag
AG_API_END
