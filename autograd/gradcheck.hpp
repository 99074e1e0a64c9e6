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

struct GradcheckOptions {
  double eps = 1e-6, atol = 1e-5, rtol = 1e-3;
};

// One row per checked input: where the analytic and reference gradients differ most.
struct GradcheckEntry {
  std::string input;             // the tensor's name, or "input i"
  Shape shape;
  std::vector<std::size_t> index;  // the input element where the gradients differ most
  std::size_t output_index = 0;    // and the (flat) output element whose derivative it is
  double analytic = 0, reference = 0, abs_error = 0, rel_error = 0;
  bool ok = true;
  // How many compared values (Jacobian entries for gradcheck, elements for compare_gradients)
  // are off, and autograd/reference over all of them: a constant ratio (3.00 everywhere) points
  // at a missing factor such as 1/N.
  std::size_t compared = 0, mismatched = 0;
  double ratio_lo = std::numeric_limits<double>::infinity();
  double ratio_hi = -std::numeric_limits<double>::infinity();
  bool ratio_defined = true;  // false once a reference is 0 where autograd is not
  bool constant_ratio() const;
};

struct GradcheckResult {
  bool ok = true;
  std::string what;                   // "gradcheck", "gradgradcheck", "compare_gradients"
  std::string reference_name;         // "numeric" or "hand-derived"
  std::vector<GradcheckEntry> entries;
  std::vector<std::string> warnings;  // e.g. float32 inputs converted to float64
  std::string report() const;         // a table a person can read
  explicit operator bool() const { return ok; }
};

// The function a check differentiates (named CheckFunction: ag::Function is the custom-function
// base of autograd/function.hpp).
using CheckFunction = std::function<Tensor(const std::vector<Tensor>&)>;

// gradcheck checks the inputs that require grad, or every float input when none does; f runs
// with grad mode on for the numeric differences too, so f may itself call ag::grad (a gradient
// penalty) or ag::Function. compare_gradients follows the same rule: a hand-derived gradient
// given for an input that is not checked is reported as a warning, not compared.
GradcheckResult gradcheck(CheckFunction f, const std::vector<Tensor>& inputs,
                          GradcheckOptions = {});
GradcheckResult gradgradcheck(CheckFunction f, const std::vector<Tensor>& inputs,
                              GradcheckOptions = {});
// Autograd's gradient of f (summed over its outputs) against gradients derived by hand.
GradcheckResult compare_gradients(CheckFunction f, const std::vector<Tensor>& inputs,
                                  const std::vector<Tensor>& hand_derived, GradcheckOptions = {});

}  // namespace ag
AG_API_END
