#include <nn/functional.hpp>

#include <limits>
#include <string>

#include <autograd/ops.hpp>

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

}  // namespace

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
  if (!logits.defined() || logits.dim() != 2 || !is_floating(logits.dtype()))
    throw Error("cross_entropy: logits " + desc(logits) + " must be a float {N, C} tensor");
  // log_softmax subtracts the row max before exponentiating (log-sum-exp), so large logits are safe.
  return nll("cross_entropy", log_softmax(logits, 1), labels);
}

}  // namespace ag::nn::functional
