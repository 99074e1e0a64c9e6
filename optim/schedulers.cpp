// Learning-rate schedulers (PyTorch 1.13's chainable forms) and their save/load.
#include <algorithm>
#include <cmath>
#include <limits>

#include <optim/detail/util.hpp>
#include <optim/optim.hpp>

namespace ag::optim {

using detail::num;
using detail::require;

namespace {

constexpr double kPi = 3.14159265358979323846;

// Entries "<kind>.<key>" of a scheduler file, each a 0-d value of `dtype`.
double value_of(const std::string& who, const std::string& path,
                const std::vector<std::pair<std::string, Tensor>>& entries, const std::string& kind,
                const std::string& key, Dtype dtype) {
  for (const auto& [name, t] : entries)
    require(name.rfind(kind + ".", 0) == 0,
            who + ": " + path + " entry '" + name + "' is not " + kind +
                " state (was the file saved by another scheduler?)");
  return detail::scalar_entry(who, path, entries, kind + "." + key, dtype).item();
}

}  // namespace

LRScheduler::LRScheduler(Optimizer& optimizer) : optimizer_(optimizer), base_lr_(optimizer.lr()) {}

std::string LRScheduler::name() const { return detail::class_name(typeid(*this)); }

void LRScheduler::step() {
  ++epoch_;
  optimizer_.set_lr(next_lr(optimizer_.lr(), epoch_));
}

void LRScheduler::save(const std::string& path) const {
  detail::save_values("LRScheduler::save", path,
                      {{name() + ".last_epoch", scalar(static_cast<double>(epoch_), int64)},
                       {name() + ".base_lr", scalar(base_lr_, float64)}});
}

void LRScheduler::load(const std::string& path) {
  const std::string who = "LRScheduler::load";
  const auto entries = detail::load_values(who, path);
  const double epoch = value_of(who, path, entries, name(), "last_epoch", int64);
  const double base = value_of(who, path, entries, name(), "base_lr", float64);
  require(entries.size() == 2, who + ": " + path + " has " + std::to_string(entries.size()) +
                                   " entries; a " + name() + " file has last_epoch and base_lr");
  require(epoch >= 0, who + ": " + path + ": negative last_epoch " + num(epoch));
  epoch_ = static_cast<std::size_t>(epoch);
  base_lr_ = base;
}

StepLR::StepLR(Optimizer& optimizer, std::size_t step_size, double gamma)
    : LRScheduler(optimizer), step_size_(step_size), gamma_(gamma) {
  require(step_size > 0, "StepLR: step_size must be positive");
  detail::require_nonnegative("StepLR", "gamma", gamma);
}

double StepLR::next_lr(double lr, std::size_t epoch) const {
  // PyTorch's chainable form: multiply at each multiple of step_size.
  return epoch % step_size_ == 0 ? lr * gamma_ : lr;
}

ExponentialLR::ExponentialLR(Optimizer& optimizer, double gamma)
    : LRScheduler(optimizer), gamma_(gamma) {
  detail::require_nonnegative("ExponentialLR", "gamma", gamma);
}

double ExponentialLR::next_lr(double lr, std::size_t) const { return lr * gamma_; }

CosineAnnealingLR::CosineAnnealingLR(Optimizer& optimizer, std::size_t t_max, double eta_min)
    : LRScheduler(optimizer), t_max_(t_max), eta_min_(eta_min) {
  require(t_max > 0, "CosineAnnealingLR: T_max must be positive");
  detail::require_nonnegative("CosineAnnealingLR", "eta_min", eta_min);
}

double CosineAnnealingLR::next_lr(double lr, std::size_t epoch) const {
  const double t = static_cast<double>(epoch), T = static_cast<double>(t_max_);
  // At the bottom of each period the recursion divides by zero; PyTorch steps up from there.
  if ((epoch - 1 + t_max_) % (2 * t_max_) == 0)
    return lr + (base_lr() - eta_min_) * (1 - std::cos(kPi / T)) / 2;
  return (1 + std::cos(kPi * t / T)) / (1 + std::cos(kPi * (t - 1) / T)) * (lr - eta_min_) +
         eta_min_;
}

LambdaLR::LambdaLR(Optimizer& optimizer, std::function<double(std::size_t)> lr_lambda)
    : LRScheduler(optimizer), lr_lambda_(std::move(lr_lambda)) {
  require(static_cast<bool>(lr_lambda_), "LambdaLR: lr_lambda is empty");
  optimizer_.set_lr(next_lr(optimizer_.lr(), 0));
}

double LambdaLR::next_lr(double, std::size_t epoch) const {
  const double factor = lr_lambda_(epoch);
  require(factor >= 0 && std::isfinite(factor), "LambdaLR: lr_lambda(" + std::to_string(epoch) +
                                                    ") = " + num(factor) +
                                                    "; it must be finite and >= 0");
  return base_lr() * factor;
}

ReduceLROnPlateau::ReduceLROnPlateau(Optimizer& optimizer, double factor, std::size_t patience)
    : ReduceLROnPlateau(optimizer, ReduceLROnPlateauOptions(factor, patience)) {}

ReduceLROnPlateau::ReduceLROnPlateau(Optimizer& optimizer, ReduceLROnPlateauOptions o)
    : optimizer_(optimizer), options_(std::move(o)) {
  const auto& p = options_;
  require(p.factor() >= 0 && p.factor() < 1,
          "ReduceLROnPlateau: factor must be in [0, 1), got " + num(p.factor()));
  require(p.mode() == "min" || p.mode() == "max",
          "ReduceLROnPlateau: mode must be \"min\" or \"max\", got \"" + p.mode() + "\"");
  require(p.threshold_mode() == "rel" || p.threshold_mode() == "abs",
          "ReduceLROnPlateau: threshold_mode must be \"rel\" or \"abs\", got \"" +
              p.threshold_mode() + "\"");
  detail::require_nonnegative("ReduceLROnPlateau", "threshold", p.threshold());
  detail::require_nonnegative("ReduceLROnPlateau", "min_lr", p.min_lr());
  detail::require_nonnegative("ReduceLROnPlateau", "eps", p.eps());
  const double inf = std::numeric_limits<double>::infinity();
  best_ = p.mode() == "min" ? inf : -inf;
}

bool ReduceLROnPlateau::is_better(double a) const {
  const double th = options_.threshold();
  const bool rel = options_.threshold_mode() == "rel";
  if (options_.mode() == "min") return rel ? a < best_ * (1 - th) : a < best_ - th;
  return rel ? a > best_ * (th + 1) : a > best_ + th;
}

void ReduceLROnPlateau::step(double metric) {
  require(!std::isnan(metric), "ReduceLROnPlateau::step: the metric is NaN");
  ++epoch_;
  if (is_better(metric)) {
    best_ = metric;
    num_bad_epochs_ = 0;
  } else {
    ++num_bad_epochs_;
  }
  if (cooldown_counter_ > 0) {
    --cooldown_counter_;
    num_bad_epochs_ = 0;  // bad epochs during cooldown are ignored
  }
  if (num_bad_epochs_ > options_.patience()) {
    const double old_lr = optimizer_.lr();
    const double new_lr = std::max(old_lr * options_.factor(), options_.min_lr());
    if (old_lr - new_lr > options_.eps()) optimizer_.set_lr(new_lr);
    cooldown_counter_ = options_.cooldown();
    num_bad_epochs_ = 0;
  }
}

void ReduceLROnPlateau::save(const std::string& path) const {
  const std::string k = "ReduceLROnPlateau.";
  detail::save_values(
      "ReduceLROnPlateau::save", path,
      {{k + "best", scalar(best_, float64)},
       {k + "num_bad_epochs", scalar(static_cast<double>(num_bad_epochs_), int64)},
       {k + "cooldown_counter", scalar(static_cast<double>(cooldown_counter_), int64)},
       {k + "last_epoch", scalar(static_cast<double>(epoch_), int64)}});
}

void ReduceLROnPlateau::load(const std::string& path) {
  const std::string who = "ReduceLROnPlateau::load", kind = "ReduceLROnPlateau";
  const auto entries = detail::load_values(who, path);
  const double best = value_of(who, path, entries, kind, "best", float64);
  const double bad = value_of(who, path, entries, kind, "num_bad_epochs", int64);
  const double cooldown = value_of(who, path, entries, kind, "cooldown_counter", int64);
  const double epoch = value_of(who, path, entries, kind, "last_epoch", int64);
  require(entries.size() == 4 && bad >= 0 && cooldown >= 0 && epoch >= 0,
          who + ": " + path + " is not a valid ReduceLROnPlateau file (4 non-negative counters)");
  best_ = best;
  num_bad_epochs_ = static_cast<std::size_t>(bad);
  cooldown_counter_ = static_cast<std::size_t>(cooldown);
  epoch_ = static_cast<std::size_t>(epoch);
}

}  // namespace ag::optim
