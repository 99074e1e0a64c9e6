// Statistics composed of primitives: var = sum((x - mean)^2) / (N - correction), stddev its
// square root. Compositions need no derivative of their own and differentiate to any order.
#include <algorithm>

#include <autograd/ops/common.hpp>

namespace ag {

Tensor var(const Tensor& x, const Axes& axes, std::int64_t correction, bool keepdim) {
  ops::check_float("var", x);
  std::size_t count = 1;
  if (axes.empty()) {
    count = x.numel();
  } else {
    for (std::ptrdiff_t a : axes) count *= x.shape()[ops::norm_axis("var", a, x.dim(), x)];
  }
  Tensor centred = sub(x, mean(x, axes, true));
  // PyTorch clamps the divisor at 0: too few elements give inf (or NaN for 0 / 0), not an error.
  double divisor = std::max(0.0, static_cast<double>(count) - static_cast<double>(correction));
  return div(sum(mul(centred, centred), axes, keepdim), divisor);
}

Tensor stddev(const Tensor& x, const Axes& axes, std::int64_t correction, bool keepdim) {
  ops::check_float("stddev", x);
  return sqrt(var(x, axes, correction, keepdim));
}

}  // namespace ag
