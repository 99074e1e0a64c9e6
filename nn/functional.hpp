// Stateless layers and losses. Every loss uses 'mean' reduction, as PyTorch's default does.
#pragma once

#include <autograd/export.hpp>
#include <autograd/tensor.hpp>

AG_API_BEGIN
namespace ag::nn::functional {

// x w^T + b in one GEMM; b may be undefined.
Tensor linear(const Tensor& x, const Tensor& w, const Tensor& b = {});

// mean((pred - target)^2); pred and target must have the same shape and dtype.
Tensor mse_loss(const Tensor& pred, const Tensor& target);

// -mean(t log p + (1 - t) log(1 - p)) for probabilities p in [0, 1]; each log is clamped at
// -100 as PyTorch does, so p = 0 or 1 gives a finite loss.
Tensor binary_cross_entropy(const Tensor& prob, const Tensor& target);

// The same loss from logits x, in the stable form mean(max(x, 0) - x t + log(1 + e^-|x|));
// its gradient is (sigmoid(x) - t) / n.
Tensor binary_cross_entropy_with_logits(const Tensor& logits, const Tensor& target);

// logits {N, C}, labels int64 {N} with values in [0, C): nll_loss(log_softmax(logits, 1), labels).
Tensor cross_entropy(const Tensor& logits, const Tensor& labels);

// -mean(log_probs[i, labels[i]]) for log_probs {N, C} and int64 labels {N}.
Tensor nll_loss(const Tensor& log_probs, const Tensor& labels);

}  // namespace ag::nn::functional
AG_API_END
