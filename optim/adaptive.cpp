// RMSprop and Adagrad: PyTorch 1.13's single-tensor update rules, in the parameter's dtype with
// double arithmetic per element.
#include <cmath>

#include <autograd/engine.hpp>
#include <optim/detail/util.hpp>
#include <optim/optim.hpp>

namespace ag::optim {

RMSprop::RMSprop(std::vector<Tensor> params, RMSpropOptions o)
    : Optimizer(std::move(params), o.lr()), options_(o) {
  detail::require_unit("RMSprop", "alpha", o.alpha(), true);
  detail::require_positive("RMSprop", "eps", o.eps());
  detail::require_nonnegative("RMSprop", "weight_decay", o.weight_decay());
  detail::require_nonnegative("RMSprop", "momentum", o.momentum());
}

std::vector<Optimizer::StateSpec> RMSprop::state_spec(std::size_t i) const {
  std::vector<StateSpec> spec{{"step", {}, int64}, like_param("square_avg", i)};
  if (options_.momentum() > 0) spec.push_back(like_param("momentum_buffer", i));
  if (options_.centered()) spec.push_back(like_param("grad_avg", i));
  return spec;
}

void RMSprop::step() {
  NoGradGuard no_grad;
  const double lr = lr_, alpha = options_.alpha(), eps = options_.eps(),
               wd = options_.weight_decay(), mu = options_.momentum();
  const bool centered = options_.centered();
  for (std::size_t i = 0; i < params_.size(); ++i) {
    Tensor& p = params_[i];
    const Tensor g = detail::grad_of("RMSprop::step", p, i);
    if (!g.defined()) continue;
    State& s = init_state(i);
    increment_step(s);
    detail::for_float_dtype(p.dtype(), [&](auto tag) {
      using T = decltype(tag);
      T* w = p.data_ptr<T>();
      const T* gr = g.data_ptr<T>();
      T* sq = s.at("square_avg").data_ptr<T>();
      T* buf = mu > 0 ? s.at("momentum_buffer").data_ptr<T>() : nullptr;
      T* avg_g = centered ? s.at("grad_avg").data_ptr<T>() : nullptr;
      for (std::size_t j = 0, n = p.numel(); j < n; ++j) {
        double gj = gr[j];
        if (wd != 0) gj += wd * w[j];
        sq[j] = static_cast<T>(alpha * sq[j] + (1 - alpha) * gj * gj);
        double avg;
        if (centered) {
          avg_g[j] = static_cast<T>(alpha * avg_g[j] + (1 - alpha) * gj);
          avg = std::sqrt(static_cast<double>(sq[j]) - static_cast<double>(avg_g[j]) * avg_g[j]) +
                eps;
        } else {
          avg = std::sqrt(static_cast<double>(sq[j])) + eps;
        }
        if (mu > 0) {
          buf[j] = static_cast<T>(mu * buf[j] + gj / avg);
          w[j] = static_cast<T>(w[j] - lr * buf[j]);
        } else {
          w[j] = static_cast<T>(w[j] - lr * gj / avg);
        }
      }
    });
    for (auto& [key, t] : s) t.bump_version();
    p.bump_version();
  }
}

Adagrad::Adagrad(std::vector<Tensor> params, AdagradOptions o)
    : Optimizer(std::move(params), o.lr()), options_(o) {
  detail::require_nonnegative("Adagrad", "lr_decay", o.lr_decay());
  detail::require_nonnegative("Adagrad", "weight_decay", o.weight_decay());
  detail::require_positive("Adagrad", "eps", o.eps());
  detail::require_nonnegative("Adagrad", "initial_accumulator_value",
                              o.initial_accumulator_value());
  for (std::size_t i = 0; i < params_.size(); ++i) init_state(i);  // PyTorch fills it up front
}

std::vector<Optimizer::StateSpec> Adagrad::state_spec(std::size_t i) const {
  return {{"step", {}, int64}, like_param("sum", i)};
}

void Adagrad::on_new_state(std::size_t, State& state) {
  state.at("sum").fill_(options_.initial_accumulator_value());
}

void Adagrad::step() {
  NoGradGuard no_grad;
  const double wd = options_.weight_decay(), eps = options_.eps();
  for (std::size_t i = 0; i < params_.size(); ++i) {
    Tensor& p = params_[i];
    const Tensor g = detail::grad_of("Adagrad::step", p, i);
    if (!g.defined()) continue;
    State& s = init_state(i);
    const double t = static_cast<double>(increment_step(s));
    const double clr = lr_ / (1 + (t - 1) * options_.lr_decay());
    detail::for_float_dtype(p.dtype(), [&](auto tag) {
      using T = decltype(tag);
      T* w = p.data_ptr<T>();
      const T* gr = g.data_ptr<T>();
      T* sum = s.at("sum").data_ptr<T>();
      for (std::size_t j = 0, n = p.numel(); j < n; ++j) {
        double gj = gr[j];
        if (wd != 0) gj += wd * w[j];
        sum[j] = static_cast<T>(sum[j] + gj * gj);
        w[j] = static_cast<T>(w[j] - clr * gj / (std::sqrt(static_cast<double>(sum[j])) + eps));
      }
    });
    s.at("sum").bump_version();
    p.bump_version();
  }
}

}  // namespace ag::optim
