#include <nn/functional.hpp>

#include <algorithm>
#include <limits>
#include <string>
#include <utility>

#include <autograd/engine.hpp>
#include <autograd/ops.hpp>
#include <autograd/ops/fused.hpp>

namespace ag::nn::functional {

namespace {

std::string desc(const Tensor& t) {
  if (!t.defined()) return "undefined";
  std::string s = shape_str(t.shape()) + " " + dtype_name(t.dtype());
  if (!t.name().empty()) s = "'" + t.name() + "' " + s;
  return s;
}

// Loss inputs: both defined, float, same shape and dtype (no silent broadcasting, which
// PyTorch only warns about and which usually hides a bug such as {N} against {N, 1}).
void check_pair(const char* fn, const char* a_name, const Tensor& a, const char* b_name, const Tensor& b) {
  if (!a.defined() || !b.defined() || !is_floating(a.dtype()) || a.dtype() != b.dtype() ||
      a.shape() != b.shape())
    throw Error(std::string(fn) + ": " + a_name + " " + desc(a) + " and " + b_name + " " + desc(b) +
                " must be float tensors of the same shape and dtype");
  if (a.numel() == 0) throw Error(std::string(fn) + ": empty input " + desc(a));
}

template <class T>
void check_probabilities(const T* p, std::size_t n, const Tensor& prob) {
  for (std::size_t i = 0; i < n; ++i)
    if (!(p[i] >= 0 && p[i] <= 1))
      throw Error("binary_cross_entropy: input " + desc(prob) + " has value " + std::to_string(p[i]) +
                  " at flat index " + std::to_string(i) + "; probabilities must be in [0, 1] "
                  "(use binary_cross_entropy_with_logits for raw scores)");
}


Tensor nll(const std::string& fn, const Tensor& log_probs, const Tensor& labels) {
  if (!log_probs.defined() || log_probs.dim() != 2 || !is_floating(log_probs.dtype()))
    throw Error(fn + ": input " + desc(log_probs) + " must be a float {N, C} tensor");
  const std::size_t n = log_probs.size(0), classes = log_probs.size(1);
  if (!labels.defined() || labels.dtype() != int64)
    throw Error(fn + ": labels " + desc(labels) + " must be int64 class indices");
  if (labels.dim() != 1 || labels.size(0) != n)
    throw Error(fn + ": labels " + desc(labels) + " must have shape {" + std::to_string(n) +
                "} to match input " + desc(log_probs));
  if (n == 0) throw Error(fn + ": empty batch " + desc(log_probs));
  const std::int64_t* l = labels.data_ptr<std::int64_t>();
  for (std::size_t i = 0; i < n; ++i)
    if (l[i] < 0 || static_cast<std::size_t>(l[i]) >= classes)
      throw Error(fn + ": label " + std::to_string(l[i]) + " at index " + std::to_string(i) +
                  " is out of range for " + std::to_string(classes) + " classes");
  const Tensor picked = gather(log_probs, 1, labels.reshape({n, 1}));  // {N, 1}
  return -mean(picked);
}

// A per-feature tensor (weight, bias, running statistic) must be undefined or {C} in x's dtype.
void check_per_channel(const char* fn, const char* what, const Tensor& t, std::size_t channels,
                       const Tensor& x, const Shape& expected) {
  if (!t.defined()) return;
  if (t.shape() != expected || t.dtype() != x.dtype())
    throw Error(std::string(fn) + ": " + what + " " + desc(t) + " must be " + shape_str(expected) +
                " " + dtype_name(x.dtype()) + " to match input " + desc(x) + " (" +
                std::to_string(channels) +
                (expected.size() == 1 ? " channels)" : " normalised elements)"));
}

// running = (1 - momentum) running + momentum batch, in place and outside any graph.
void update_running(Tensor& running, const Tensor& batch, double momentum) {
  NoGradGuard no_grad;
  running.mul_(1 - momentum);
  running.add_(batch.detach().reshape(running.shape()), momentum);
}

}  // namespace

Tensor batch_norm(const Tensor& x, const Tensor& running_mean, const Tensor& running_var,
                  const Tensor& weight, const Tensor& bias, bool training, double momentum,
                  double eps) {
  if (!x.defined() || x.dim() < 2 || !is_floating(x.dtype()))
    throw Error("batch_norm: input " + desc(x) + " must be a float tensor {N, C, ...}");
  const std::size_t channels = x.size(1);
  for (auto [what, t] : {std::pair{"running_mean", &running_mean},
                         {"running_var", &running_var},
                         {"weight", &weight},
                         {"bias", &bias}})
    check_per_channel("batch_norm", what, *t, channels, x, {channels});
  if (running_mean.defined() != running_var.defined())
    throw Error("batch_norm: running_mean and running_var must both be given or both be undefined");
  if (!(eps > 0) || !(momentum >= 0 && momentum <= 1))
    throw Error("batch_norm: need eps > 0 and momentum in [0, 1], got eps " + std::to_string(eps) +
                ", momentum " + std::to_string(momentum));
  Axes axes{0};
  Shape per_channel(x.dim(), 1);  // {1, C, 1, ...}: broadcasts against x
  per_channel[1] = channels;
  for (std::size_t a = 2; a < x.dim(); ++a) axes.push_back(static_cast<std::ptrdiff_t>(a));
  const std::size_t count = x.numel() / std::max<std::size_t>(channels, 1);
  Tensor centred, scale;
  if (training || !running_mean.defined()) {
    if (count <= 1)
      throw Error("batch_norm: expected more than 1 value per channel when training, got input " +
                  desc(x));
    const Tensor batch_mean = mean(x, axes, true);
    centred = x - batch_mean;
    const Tensor batch_var = mean(centred * centred, axes, true);  // biased, for normalising
    scale = pow(batch_var + eps, -0.5);
    if (training && running_mean.defined()) {
      Tensor rm = running_mean, rv = running_var;
      update_running(rm, batch_mean, momentum);
      update_running(rv, batch_var * (static_cast<double>(count) / static_cast<double>(count - 1)),
                     momentum);
    }
  } else {
    centred = x - running_mean.reshape(per_channel);
    scale = pow(running_var.reshape(per_channel) + eps, -0.5);
  }
  // One {1, C, 1, ...} factor: a single pass over x for the scaling.
  if (weight.defined()) scale = scale * weight.reshape(per_channel);
  Tensor y = centred * scale;
  if (bias.defined()) y = y + bias.reshape(per_channel);
  return y;
}

Tensor layer_norm(const Tensor& x, const Shape& normalized_shape, const Tensor& weight,
                  const Tensor& bias, double eps) {
  const std::size_t k = normalized_shape.size();
  const bool fits =
      x.defined() && k > 0 && x.dim() >= k &&
      Shape(x.shape().end() - static_cast<std::ptrdiff_t>(k), x.shape().end()) == normalized_shape;
  if (!fits || !is_floating(x.dtype()))
    throw Error("layer_norm: input " + desc(x) +
                " must be a float tensor ending in normalized_shape " +
                shape_str(normalized_shape));
  if (!(eps > 0)) throw Error("layer_norm: eps must be > 0, got " + std::to_string(eps));
  std::size_t elements = 1;
  for (auto d : normalized_shape) elements *= d;
  check_per_channel("layer_norm", "weight", weight, elements, x, normalized_shape);
  check_per_channel("layer_norm", "bias", bias, elements, x, normalized_shape);
  Axes axes;
  for (std::size_t a = 0; a < k; ++a) axes.push_back(-static_cast<std::ptrdiff_t>(a) - 1);
  const Tensor centred = x - mean(x, axes, true);
  Tensor y = centred * pow(mean(centred * centred, axes, true) + eps, -0.5);
  if (weight.defined()) y = y * weight;  // trailing dimensions broadcast
  if (bias.defined()) y = y + bias;
  return y;
}

Tensor embedding(const Tensor& indices, const Tensor& weight) {
  if (!weight.defined() || weight.dim() != 2 || !is_floating(weight.dtype()))
    throw Error("embedding: weight " + desc(weight) +
                " must be a float {num_embeddings, embedding_dim} tensor");
  if (!indices.defined() || indices.dtype() != int64)
    throw Error("embedding: indices " + desc(indices) + " must be int64");
  const std::size_t rows = weight.size(0);
  const std::int64_t* idx = indices.data_ptr<std::int64_t>();
  std::vector<std::size_t> flat(indices.numel());
  for (std::size_t i = 0; i < flat.size(); ++i) {
    if (idx[i] < 0 || static_cast<std::size_t>(idx[i]) >= rows)
      throw Error("embedding: index " + std::to_string(idx[i]) + " at flat position " +
                  std::to_string(i) + " of indices " + desc(indices) +
                  " is out of range for weight " + desc(weight));
    flat[i] = static_cast<std::size_t>(idx[i]);
  }
  Shape out_shape = indices.shape();
  out_shape.push_back(weight.size(1));
  return reshape(index_select(weight, 0, flat), out_shape);
}

Tensor dropout(const Tensor& x, double p, bool training) {
  if (!(p >= 0 && p <= 1)) throw Error("dropout: p must be in [0, 1], got " + std::to_string(p));
  if (!x.defined() || !is_floating(x.dtype()))
    throw Error("dropout: input " + desc(x) + " must be a float tensor");
  if (!training || p == 0) return x;
  if (p == 1) return x * 0.0;
  // keep where u >= p, which happens with probability 1 - p; survivors scaled by 1 / (1 - p)
  const Tensor keep = ge(rand(x.shape(), x.dtype()), p);
  return x * (keep * (1.0 / (1.0 - p)));
}

Tensor linear(const Tensor& x, const Tensor& w, const Tensor& b) { return ag::linear(x, w, b); }

Tensor mse_loss(const Tensor& pred, const Tensor& target) {
  check_pair("mse_loss", "pred", pred, "target", target);
  const Tensor d = pred - target;
  return mean(d * d);
}

Tensor binary_cross_entropy(const Tensor& prob, const Tensor& target) {
  check_pair("binary_cross_entropy", "input", prob, "target", target);
  if (prob.dtype() == float32) check_probabilities(prob.data_ptr<float>(), prob.numel(), prob);
  else check_probabilities(prob.data_ptr<double>(), prob.numel(), prob);
  const double inf = std::numeric_limits<double>::infinity();
  const Tensor log_p = clamp(log(prob), -100, inf);
  const Tensor log_1mp = clamp(log(1.0 - prob), -100, inf);
  return -mean(target * log_p + (1.0 - target) * log_1mp);
}

Tensor binary_cross_entropy_with_logits(const Tensor& logits, const Tensor& target) {
  check_pair("binary_cross_entropy_with_logits", "logits", logits, "target", target);
  // -[t log sigmoid(x) + (1 - t) log(1 - sigmoid(x))] = softplus(x) - x t. ag::softplus is the
  // stable max(x, 0) + log1p(e^-|x|) (no exp overflows) and its derivative is sigmoid(x), so the
  // gradient is sigmoid(x) - t everywhere. Spelling the max and |x| out as relu and abs ops would
  // give the same values but a wrong gradient at x = 0, where both kinks meet.
  return mean(softplus(logits) - logits * target);
}

Tensor nll_loss(const Tensor& log_probs, const Tensor& labels) { return nll("nll_loss", log_probs, labels); }

Tensor cross_entropy(const Tensor& logits, const Tensor& labels) {
  // One fused node (autograd/ops/loss.cpp): the row max is subtracted before exponentiating
  // (log-sum-exp), so large logits are safe. Its reference is nll_loss(log_softmax(logits, 1)).
  return ops::cross_entropy(logits, labels);
}

}  // namespace ag::nn::functional
