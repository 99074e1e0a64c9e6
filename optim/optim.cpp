#include <optim/optim.hpp>

#include <cmath>
#include <cstdio>
#include <string>
#include <type_traits>

#include <autograd/engine.hpp>

namespace ag::optim {

namespace {

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

void require(bool ok, const std::string& message) {
  if (!ok) throw Error(message);
}

// The gradient of params[i] if it has one that matches, else undefined (the parameter is skipped).
Tensor grad_of(const char* who, const Tensor& p, std::size_t i) {
  Tensor g = p.grad();
  if (!g.defined()) return g;
  if (g.shape() != p.shape() || g.dtype() != p.dtype())
    throw Error(std::string(who) + ": gradient of parameter " + std::to_string(i) + " is " +
                shape_str(g.shape()) + " " + dtype_name(g.dtype()) + " but the parameter is " +
                shape_str(p.shape()) + " " + dtype_name(p.dtype()));
  return g;
}

// Calls f(param_data, grad_data) with the pointer type of the parameter's dtype.
template <class F>
void with_data(Tensor& p, const Tensor& g, F f) {
  if (p.dtype() == float32) f(p.data_ptr<float>(), g.data_ptr<float>());
  else f(p.data_ptr<double>(), g.data_ptr<double>());
}

}  // namespace

Optimizer::Optimizer(std::vector<Tensor> params, double lr) : params_(std::move(params)), lr_(lr) {
  require(!params_.empty(), "optimizer: got an empty parameter list");
  for (std::size_t i = 0; i < params_.size(); ++i) {
    const Tensor& p = params_[i];
    require(p.defined(), "optimizer: parameter " + std::to_string(i) + " is undefined");
    require(is_floating(p.dtype()), "optimizer: parameter " + std::to_string(i) + " " +
                                        shape_str(p.shape()) + " has dtype " + dtype_name(p.dtype()) +
                                        "; only float32 and float64 tensors can be optimized");
    require(p.is_leaf(), "optimizer: parameter " + std::to_string(i) + " " + shape_str(p.shape()) +
                             " is not a leaf; optimize the leaves it was computed from");
    for (std::size_t j = 0; j < i; ++j)
      require(params_[j].impl() != p.impl(), "optimizer: parameter " + std::to_string(i) +
                                                 " is the same tensor as parameter " + std::to_string(j) +
                                                 " (it would be updated twice per step)");
  }
  set_lr(lr);
}

void Optimizer::set_lr(double lr) {
  require(lr >= 0 && std::isfinite(lr), "optimizer: learning rate must be finite and >= 0, got " + num(lr));
  lr_ = lr;
}

void Optimizer::zero_grad() {
  for (auto& p : params_) p.zero_grad();
}

SGD::SGD(std::vector<Tensor> params, SGDOptions o)
    : Optimizer(std::move(params), o.lr), options_(o), momentum_(params_.size()) {
  // NaN fails every comparison below, so each check also rejects NaN.
  require(o.momentum >= 0 && std::isfinite(o.momentum), "SGD: momentum must be finite and >= 0, got " + num(o.momentum));
  require(std::isfinite(o.dampening), "SGD: dampening must be finite, got " + num(o.dampening));
  require(o.weight_decay >= 0 && std::isfinite(o.weight_decay),
          "SGD: weight_decay must be finite and >= 0, got " + num(o.weight_decay));
  require(!o.nesterov || (o.momentum > 0 && o.dampening == 0),
          "SGD: nesterov needs momentum > 0 and dampening = 0, got momentum " + num(o.momentum) +
              ", dampening " + num(o.dampening));
}

void SGD::step() {
  NoGradGuard no_grad;
  const double lr = lr_, mu = options_.momentum, damp = options_.dampening, wd = options_.weight_decay;
  const bool nesterov = options_.nesterov;
  for (std::size_t i = 0; i < params_.size(); ++i) {
    Tensor& p = params_[i];
    const Tensor g = grad_of("SGD::step", p, i);
    if (!g.defined()) continue;
    if (mu == 0 && wd == 0) {  // plain SGD: w -= lr * g, vectorised in the parameter's dtype
      p.add_(g, -lr);
      continue;
    }
    const std::size_t n = p.numel();
    std::vector<double>& buf = momentum_[i];
    const bool first = buf.empty();
    if (mu != 0 && first) buf.resize(n);
    with_data(p, g, [&](auto* w, const auto* gr) {
      for (std::size_t j = 0; j < n; ++j) {
        double d = gr[j];
        if (wd != 0) d += wd * w[j];
        if (mu != 0) {
          buf[j] = first ? d : buf[j] * mu + (1 - damp) * d;  // the first step takes g undamped
          d = nesterov ? d + mu * buf[j] : buf[j];
        }
        w[j] = static_cast<std::remove_reference_t<decltype(w[j])>>(w[j] + -lr * d);
      }
    });
    p.bump_version();
  }
}

Adam::Adam(std::vector<Tensor> params, AdamOptions o)
    : Optimizer(std::move(params), o.lr), options_(o), state_(params_.size()) {
  require(o.beta1 >= 0 && o.beta1 < 1, "Adam: beta1 must be in [0, 1), got " + num(o.beta1));
  require(o.beta2 >= 0 && o.beta2 < 1, "Adam: beta2 must be in [0, 1), got " + num(o.beta2));
  require(o.eps >= 0 && std::isfinite(o.eps), "Adam: eps must be finite and >= 0, got " + num(o.eps));
  require(o.weight_decay >= 0 && std::isfinite(o.weight_decay),
          "Adam: weight_decay must be finite and >= 0, got " + num(o.weight_decay));
}

void Adam::step() {
  NoGradGuard no_grad;
  const double lr = lr_, b1 = options_.beta1, b2 = options_.beta2, eps = options_.eps,
               wd = options_.weight_decay;
  const bool decoupled = options_.decoupled;
  for (std::size_t i = 0; i < params_.size(); ++i) {
    Tensor& p = params_[i];
    const Tensor g = grad_of(decoupled ? "AdamW::step" : "Adam::step", p, i);
    if (!g.defined()) continue;
    const std::size_t n = p.numel();
    State& s = state_[i];
    if (s.step == 0) {
      s.m.assign(n, 0.0);
      s.v.assign(n, 0.0);
    }
    ++s.step;
    const double t = static_cast<double>(s.step);
    const double step_size = lr / (1 - std::pow(b1, t));
    const double bc2_sqrt = std::sqrt(1 - std::pow(b2, t));
    with_data(p, g, [&](auto* w, const auto* gr) {
      using T = std::remove_reference_t<decltype(w[0])>;
      for (std::size_t j = 0; j < n; ++j) {
        double gj = gr[j];
        double wj = w[j];
        if (decoupled) wj *= 1 - lr * wd;
        else if (wd != 0) gj += wd * wj;
        s.m[j] = s.m[j] * b1 + (1 - b1) * gj;
        s.v[j] = s.v[j] * b2 + (1 - b2) * (gj * gj);
        const double denom = std::sqrt(s.v[j]) / bc2_sqrt + eps;
        w[j] = static_cast<T>(wj + -step_size * (s.m[j] / denom));
      }
    });
    p.bump_version();
  }
}

namespace {
AdamOptions adamw_options(const AdamWOptions& o) {
  AdamOptions a;
  a.lr = o.lr;
  a.beta1 = o.beta1;
  a.beta2 = o.beta2;
  a.eps = o.eps;
  a.weight_decay = o.weight_decay;
  a.decoupled = true;
  return a;
}
}  // namespace

AdamW::AdamW(std::vector<Tensor> params, AdamWOptions options)
    : Adam(std::move(params), adamw_options(options)) {}

LRScheduler::LRScheduler(Optimizer& optimizer) : optimizer_(optimizer) {}

void LRScheduler::step() {
  ++epoch_;
  optimizer_.set_lr(next_lr(optimizer_.lr(), epoch_));
}

StepLR::StepLR(Optimizer& optimizer, std::size_t step_size, double gamma)
    : LRScheduler(optimizer), step_size_(step_size), gamma_(gamma) {
  require(step_size > 0, "StepLR: step_size must be positive");
  require(gamma >= 0 && std::isfinite(gamma), "StepLR: gamma must be finite and >= 0, got " + num(gamma));
}

double StepLR::next_lr(double lr, std::size_t epoch) const {
  // PyTorch's chainable form: multiply at each multiple of step_size.
  return epoch % step_size_ == 0 ? lr * gamma_ : lr;
}

ExponentialLR::ExponentialLR(Optimizer& optimizer, double gamma) : LRScheduler(optimizer), gamma_(gamma) {
  require(gamma >= 0 && std::isfinite(gamma), "ExponentialLR: gamma must be finite and >= 0, got " + num(gamma));
}

double ExponentialLR::next_lr(double lr, std::size_t) const { return lr * gamma_; }

double clip_grad_norm_(std::vector<Tensor> params, double max_norm) {
  require(max_norm >= 0, "clip_grad_norm_: max_norm must be >= 0 (not NaN), got " + num(max_norm));
  NoGradGuard no_grad;
  std::vector<Tensor> grads;
  double sum_sq = 0;
  for (std::size_t i = 0; i < params.size(); ++i) {
    if (!params[i].defined()) continue;
    Tensor g = grad_of("clip_grad_norm_", params[i], i);
    if (!g.defined()) continue;
    // Per-tensor norms, then the norm of those: PyTorch's order of summation.
    double sq = 0;
    with_data(params[i], g, [&](auto*, const auto* gr) {
      for (std::size_t j = 0; j < g.numel(); ++j) sq += static_cast<double>(gr[j]) * gr[j];
    });
    const double norm = std::sqrt(sq);
    sum_sq += norm * norm;
    grads.push_back(g);
  }
  const double total = std::sqrt(sum_sq);
  const double coef = max_norm / (total + 1e-6);
  if (coef < 1)
    for (auto& g : grads) g.mul_(coef);
  return total;
}

}  // namespace ag::optim
