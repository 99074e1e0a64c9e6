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

// Normalisation layers, with PyTorch's argument order and semantics.
//
// batch_norm: x is {N, C, ...} and every statistic is per channel (axis 1), over all the other
// axes. With training true, or without running statistics, it normalises with the batch mean and
// the biased batch variance; in training it also updates running_mean/var in place (when
// defined) as running = (1 - momentum) * running + momentum * batch, with the unbiased variance
// for running_var, as PyTorch does. Otherwise it normalises with the running statistics.
// weight (gamma) and bias (beta) are {C} and may be undefined.
Tensor batch_norm(const Tensor& x, const Tensor& running_mean, const Tensor& running_var,
                  const Tensor& weight = {}, const Tensor& bias = {}, bool training = false,
                  double momentum = 0.1, double eps = 1e-5);

// layer_norm: normalises over the trailing dimensions, which must equal normalized_shape, with
// the biased variance; weight and bias have shape normalized_shape and may be undefined.
Tensor layer_norm(const Tensor& x, const Shape& normalized_shape, const Tensor& weight = {},
                  const Tensor& bias = {}, double eps = 1e-5);

// Rows of weight {num_embeddings, dim} picked by int64 indices of any shape: the result has shape
// indices.shape ++ {dim}. The gradient of a row picked several times is the sum of its uses.
Tensor embedding(const Tensor& indices, const Tensor& weight);

// Inverted dropout: while training, zeroes each element with probability p and scales the rest by
// 1 / (1 - p); without training it returns x. Draws from the global generator (ag::rand).
Tensor dropout(const Tensor& x, double p = 0.5, bool training = true);

}  // namespace ag::nn::functional
AG_API_END
