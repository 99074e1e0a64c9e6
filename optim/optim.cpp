#include <optim/optim.hpp>

#include <cxxabi.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>

#include <autograd/engine.hpp>
#include <autograd/kernels/kernels.hpp>
#include <nn/detail/npz.hpp>
#include <optim/detail/util.hpp>

namespace ag::optim {

using detail::num;
using detail::require;

namespace detail {

std::string class_name(const std::type_info& type) {
  int status = 0;
  char* demangled = abi::__cxa_demangle(type.name(), nullptr, nullptr, &status);
  std::string name = status == 0 && demangled ? demangled : type.name();
  std::free(demangled);
  const auto colon = name.rfind("::", name.find('<'));
  return colon == std::string::npos ? name : name.substr(colon + 2);
}

Tensor grad_of(const char* who, const Tensor& p, std::size_t i) {
  Tensor g = p.grad();
  if (!g.defined()) return g;
  if (g.shape() != p.shape() || g.dtype() != p.dtype())
    throw Error(std::string(who) + ": gradient of parameter " + std::to_string(i) + " is " +
                shape_str(g.shape()) + " " + dtype_name(g.dtype()) + " but the parameter is " +
                shape_str(p.shape()) + " " + dtype_name(p.dtype()));
  return g;
}

namespace {
// nn's archive code names Module::save/load in its messages; say who really failed.
template <class F>
auto as(const std::string& who, F f) {
  try {
    return f();
  } catch (const Error& e) {
    std::string message = e.what();
    for (const char* from : {"Module::save", "Module::load"})
      if (message.rfind(from, 0) == 0) message = who + message.substr(std::string(from).size());
    throw Error(message);
  }
}
}  // namespace

void save_values(const std::string& who, const std::string& path,
                 const std::vector<std::pair<std::string, Tensor>>& entries) {
  as(who, [&] {
    nn::detail::write_npz(path, entries);
    return 0;
  });
}

std::vector<std::pair<std::string, Tensor>> load_values(const std::string& who,
                                                        const std::string& path) {
  return as(who, [&] { return nn::detail::read_npz(path); });
}

Tensor scalar_entry(const std::string& who, const std::string& path,
                    const std::vector<std::pair<std::string, Tensor>>& entries,
                    const std::string& key, Dtype dtype) {
  for (const auto& [name, t] : entries) {
    if (name != key) continue;
    require(t.dim() == 0 && t.dtype() == dtype,
            who + ": " + path + " entry '" + key + "' is " + shape_str(t.shape()) + " " +
                dtype_name(t.dtype()) + ", expected a 0-d " + dtype_name(dtype) + " value");
    return t;
  }
  throw Error(who + ": " + path + " has no entry '" + key + "'");
}

}  // namespace detail

Optimizer::Optimizer(std::vector<Tensor> params, double lr)
    : params_(std::move(params)), lr_(lr), state_(params_.size()) {
  require(!params_.empty(), "optimizer: got an empty parameter list");
  for (std::size_t i = 0; i < params_.size(); ++i) {
    const Tensor& p = params_[i];
    require(p.defined(), "optimizer: parameter " + std::to_string(i) + " is undefined");
    require(is_floating(p.dtype()), "optimizer: parameter " + std::to_string(i) + " " +
                                        shape_str(p.shape()) + " has dtype " +
                                        dtype_name(p.dtype()) +
                                        "; only float32 and float64 tensors can be optimized");
    require(p.is_leaf(), "optimizer: parameter " + std::to_string(i) + " " + shape_str(p.shape()) +
                             " is not a leaf; optimize the leaves it was computed from");
    for (std::size_t j = 0; j < i; ++j)
      require(params_[j].impl() != p.impl(),
              "optimizer: parameter " + std::to_string(i) + " is the same tensor as parameter " +
                  std::to_string(j) + " (it would be updated twice per step)");
  }
  set_lr(lr);
}

void Optimizer::set_lr(double lr) {
  require(lr >= 0 && std::isfinite(lr),
          "optimizer: learning rate must be finite and >= 0, got " + num(lr));
  lr_ = lr;
}

std::string Optimizer::name() const { return detail::class_name(typeid(*this)); }

void Optimizer::zero_grad() {
  for (auto& p : params_) p.zero_grad();
}

const Optimizer::State& Optimizer::state(std::size_t i) const {
  require(i < state_.size(), name() + "::state: parameter " + std::to_string(i) +
                                 " out of range (" + std::to_string(state_.size()) +
                                 " parameters)");
  return state_[i];
}

Optimizer::StateSpec Optimizer::like_param(std::string key, std::size_t i) const {
  return {std::move(key), params_[i].shape(), params_[i].dtype()};
}

Optimizer::State& Optimizer::init_state(std::size_t i) {
  State& s = state_[i];
  if (!s.empty()) return s;
  for (const auto& spec : state_spec(i)) s[spec.key] = zeros(spec.shape, spec.dtype);
  on_new_state(i, s);
  return s;
}

std::int64_t Optimizer::increment_step(State& state) {
  Tensor& step = state.at("step");
  const std::int64_t t = ++step.data_ptr<std::int64_t>()[0];
  step.bump_version();
  return t;
}

void Optimizer::save(const std::string& path) const {
  const std::string prefix = name() + ".";
  std::vector<std::pair<std::string, Tensor>> entries{
      {prefix + "lr", scalar(lr_, float64)},
      {prefix + "num_params", scalar(static_cast<double>(params_.size()), int64)}};
  for (std::size_t i = 0; i < params_.size(); ++i)
    if (!state_[i].empty())
      for (const auto& spec : state_spec(i))
        entries.emplace_back(prefix + std::to_string(i) + "." + spec.key, state_[i].at(spec.key));
  detail::save_values("Optimizer::save", path, entries);
}

void Optimizer::load(const std::string& path) {
  const std::string who = "Optimizer::load";
  const auto entries = detail::load_values(who, path);
  const std::string prefix = name() + ".";
  for (const auto& [key, t] : entries)
    require(key.rfind(prefix, 0) == 0,
            who + ": " + path + " entry '" + key + "' is not " + name() +
                " state (was the file saved by another kind of optimizer?)");
  const Tensor lr = detail::scalar_entry(who, path, entries, prefix + "lr", float64);
  const Tensor count = detail::scalar_entry(who, path, entries, prefix + "num_params", int64);
  require(count.item() == static_cast<double>(params_.size()),
          who + ": " + path + " holds state for " +
              std::to_string(static_cast<long long>(count.item())) + " parameters, but this " +
              name() + " optimizes " + std::to_string(params_.size()));
  std::size_t used = 2;
  std::vector<State> loaded(params_.size());
  for (std::size_t i = 0; i < params_.size(); ++i) {
    const std::string at = prefix + std::to_string(i) + ".";
    for (const auto& spec : state_spec(i)) {
      const auto it = std::find_if(entries.begin(), entries.end(),
                                   [&](const auto& e) { return e.first == at + spec.key; });
      if (it == entries.end()) continue;
      const Tensor& t = it->second;
      require(t.shape() == spec.shape && t.dtype() == spec.dtype,
              who + ": " + path + " entry '" + it->first + "' is " + shape_str(t.shape()) + " " +
                  dtype_name(t.dtype()) + ", but parameter " + std::to_string(i) + " needs " +
                  shape_str(spec.shape) + " " + dtype_name(spec.dtype));
      loaded[i][spec.key] = t;
      ++used;
    }
    const std::size_t expected = state_spec(i).size();
    require(loaded[i].empty() || loaded[i].size() == expected,
            who + ": " + path + " holds " + std::to_string(loaded[i].size()) + " of the " +
                std::to_string(expected) + " state tensors of parameter " + std::to_string(i) +
                " (options differ from the saved optimizer's?)");
  }
  if (used != entries.size())
    for (const auto& [key, t] : entries) {
      bool known = key == prefix + "lr" || key == prefix + "num_params";
      for (std::size_t i = 0; i < params_.size() && !known; ++i)
        for (const auto& [k, v] : loaded[i])
          known = known || key == prefix + std::to_string(i) + "." + k;
      require(known, who + ": " + path + " entry '" + key + "' " + shape_str(t.shape()) +
                         " matches no state of this " + name() +
                         " (options differ from the saved optimizer's?)");
    }
  // Everything checked: commit.
  set_lr(lr.item());
  state_ = std::move(loaded);
}

SGD::SGD(std::vector<Tensor> params, SGDOptions o)
    : Optimizer(std::move(params), o.lr()), options_(o) {
  detail::require_nonnegative("SGD", "momentum", o.momentum());
  require(std::isfinite(o.dampening()), "SGD: dampening must be finite, got " + num(o.dampening()));
  detail::require_nonnegative("SGD", "weight_decay", o.weight_decay());
  require(!o.nesterov() || (o.momentum() > 0 && o.dampening() == 0),
          "SGD: nesterov needs momentum > 0 and dampening = 0, got momentum " + num(o.momentum()) +
              ", dampening " + num(o.dampening()));
}

std::vector<Optimizer::StateSpec> SGD::state_spec(std::size_t i) const {
  if (options_.momentum() == 0) return {};
  return {like_param("momentum_buffer", i)};
}

void SGD::step() {
  NoGradGuard no_grad;
  const double lr = lr_, mu = options_.momentum(), damp = options_.dampening(),
               wd = options_.weight_decay();
  const bool nesterov = options_.nesterov();
  for (std::size_t i = 0; i < params_.size(); ++i) {
    Tensor& p = params_[i];
    const Tensor g = detail::grad_of("SGD::step", p, i);
    if (!g.defined()) continue;
    if (mu == 0 && wd == 0) {  // plain SGD: w -= lr * g, vectorised in the parameter's dtype
      p.add_(g, -lr);
      continue;
    }
    const bool first = state_[i].empty();  // PyTorch: the first step takes g undamped
    Tensor buf_t = mu != 0 ? init_state(i).at("momentum_buffer") : Tensor();
    // One vectorised pass in double (autograd/kernels/elementwise.cpp: sgd_update).
    kernels::sgd_update({lr, mu, damp, wd, nesterov, first}, p, g, mu != 0 ? &buf_t : nullptr);
    if (buf_t.defined()) buf_t.bump_version();
    p.bump_version();
  }
}

Adam::Adam(std::vector<Tensor> params, AdamOptions o)
    : Optimizer(std::move(params), o.lr()), options_(o) {
  detail::require_unit("Adam", "beta1", o.beta1(), false);
  detail::require_unit("Adam", "beta2", o.beta2(), false);
  detail::require_nonnegative("Adam", "eps", o.eps());
  detail::require_nonnegative("Adam", "weight_decay", o.weight_decay());
}

std::vector<Optimizer::StateSpec> Adam::state_spec(std::size_t i) const {
  return {{"step", {}, int64}, like_param("exp_avg", i), like_param("exp_avg_sq", i)};
}

void Adam::step() {
  NoGradGuard no_grad;
  const double lr = lr_, b1 = options_.beta1(), b2 = options_.beta2(), eps = options_.eps(),
               wd = options_.weight_decay();
  const bool decoupled = options_.decoupled();
  for (std::size_t i = 0; i < params_.size(); ++i) {
    Tensor& p = params_[i];
    const Tensor g = detail::grad_of(decoupled ? "AdamW::step" : "Adam::step", p, i);
    if (!g.defined()) continue;
    State& s = init_state(i);
    const double t = static_cast<double>(increment_step(s));
    const double step_size = lr / (1 - std::pow(b1, t));
    const double bc2_sqrt = std::sqrt(1 - std::pow(b2, t));
    // One vectorised pass in double (autograd/kernels/elementwise.cpp: adam_update).
    kernels::adam_update({lr, b1, b2, eps, wd, step_size, bc2_sqrt, decoupled}, p, g,
                         s.at("exp_avg"), s.at("exp_avg_sq"));
    s.at("exp_avg").bump_version();
    s.at("exp_avg_sq").bump_version();
    p.bump_version();
  }
}

namespace {
AdamOptions adamw_options(const AdamWOptions& o) {
  return AdamOptions(o.lr(), o.beta1(), o.beta2(), o.eps(), o.weight_decay(), /*decoupled=*/true);
}
}  // namespace

AdamW::AdamW(std::vector<Tensor> params, AdamWOptions options)
    : Adam(std::move(params), adamw_options(options)) {}

double clip_grad_norm_(std::vector<Tensor> params, double max_norm) {
  require(max_norm >= 0, "clip_grad_norm_: max_norm must be >= 0 (not NaN), got " + num(max_norm));
  NoGradGuard no_grad;
  std::vector<Tensor> grads;
  double sum_sq = 0;
  for (std::size_t i = 0; i < params.size(); ++i) {
    if (!params[i].defined()) continue;
    Tensor g = detail::grad_of("clip_grad_norm_", params[i], i);
    if (!g.defined()) continue;
    // Per-tensor norms, then the norm of those: PyTorch's order of summation.
    double sq = 0;
    detail::for_float_dtype(g.dtype(), [&](auto tag) {
      const auto* gr = g.data_ptr<decltype(tag)>();
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
