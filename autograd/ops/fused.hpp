// Internal: fused ops that the public API reaches through other names (nn::functional), so they
// are not declared in autograd/ops.hpp. Each is one entry of an autograd/ops/*.cpp file.
#pragma once

#include <autograd/tensor.hpp>

namespace ag::ops {

// mean over rows of logsumexp(logits_r) - logits_r[labels_r]: logits float {N, C}, labels int64
// {N} in [0, C). One node, "cross_entropy" (autograd/ops/loss.cpp).
Tensor cross_entropy(const Tensor& logits, const Tensor& labels);

}  // namespace ag::ops
