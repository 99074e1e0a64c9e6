// ag::optim: optimizers and learning-rate schedulers with PyTorch's update rules.
// Updates run without recording a graph and bump each parameter's version counter, so a graph
// that saved a parameter's old value refuses to backward through it afterwards.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <autograd/export.hpp>
#include <autograd/tensor.hpp>

AG_API_BEGIN
namespace ag::optim {

/// One hyperparameter of an options class, usable in all three spellings users know:
///   SGDOptions{0.1, 0.9}                            positional (the options' constructor)
///   SGDOptions(0.1).momentum(0.9).nesterov(true)    LibTorch's chained setters
///   o.momentum = 0.9;  double m = o.momentum;       a plain field (o.momentum() reads it too)
/// It remembers its options object so that a setter can return it; every options class therefore
/// defines its copy constructor to bind the copy's fields to the copy.
template <class Options, class Value>
class Hyperparameter {
 public:
  /// A field of *owner holding value.
  Hyperparameter(Options* owner, Value value) : owner_(owner), value_(std::move(value)) {}
  Hyperparameter(const Hyperparameter&) = default;  ///< copies owner and value (see above)
  Hyperparameter& operator=(const Hyperparameter& other) {  ///< the value only: owner stays
    value_ = other.value_;
    return *this;
  }
  Hyperparameter& operator=(Value value) {  ///< o.momentum = 0.9
    value_ = std::move(value);
    return *this;
  }
  operator Value() const { return value_; }      ///< double m = o.momentum
  Value operator()() const { return value_; }    ///< o.momentum(): LibTorch's getter
  Options& operator()(Value value) {             ///< o.momentum(0.9): sets it, returns the options
    value_ = std::move(value);
    return *owner_;
  }

 private:
  Options* owner_;
  Value value_;
};

/// The base of every optimizer: the parameters, the learning rate and per-parameter state held in
/// tensors, which save() and load() write and read as .npz.
class Optimizer {
 public:
  using State = std::map<std::string, Tensor>;  ///< one parameter's state tensors, by key

  /// Optimizes params (leaves that require grad) with learning rate lr.
  Optimizer(std::vector<Tensor> params, double lr);
  virtual ~Optimizer() = default;
  /// One update of every parameter that has a gradient; parameters without one are skipped.
  virtual void step() = 0;
  /// "SGD", "Adam", "AdamW", "RMSprop", "Adagrad": recorded in saved files and checked on load.
  /// By default the C++ class name without namespaces, so user-defined optimizers have one too.
  virtual std::string name() const;
  void zero_grad();  ///< drops every parameter's gradient
  double lr() const { return lr_; }  ///< the learning rate the next step() uses
  void set_lr(double lr);             ///< sets the learning rate (finite, >= 0)
  const std::vector<Tensor>& params() const { return params_; }  ///< the parameters, in order
  /// PyTorch's optimizer.state[p] for parameter i: "step" (int64, 0-d), "momentum_buffer",
  /// "exp_avg", ... in the parameter's dtype; empty until the parameter's first step (Adagrad
  /// fills it at construction, as PyTorch does).
  const State& state(std::size_t i) const;

  /// The learning rate and every state tensor, as "<name>.lr", "<name>.num_params" and
  /// "<name>.<parameter index>.<key>" members of an .npz written atomically (as Module::save).
  void save(const std::string& path) const;
  /// Checks the file against this optimizer before changing anything: the same kind of optimizer,
  /// the same number of parameters, and for each parameter with state every key with the
  /// parameter's shape and dtype. Then restores the state and the learning rate, so training
  /// resumes bit for bit where the saved optimizer stood.
  void load(const std::string& path);

 protected:
  /// One state tensor a subclass keeps per parameter: what load() checks a file against.
  struct StateSpec {
    std::string key;  ///< its name in State ("exp_avg", ...)
    Shape shape;      ///< its shape
    Dtype dtype;      ///< its dtype
  };
  /// The tensors a stepped parameter i holds under this optimizer's options (default: none).
  virtual std::vector<StateSpec> state_spec(std::size_t) const { return {}; }
  /// Fresh state (zeros, step 0) per state_spec, then on_new_state; returns it as it stands.
  State& init_state(std::size_t i);
  virtual void on_new_state(std::size_t, State&) {}  ///< hook to fill fresh state (default: none)
  /// Adds one to state["step"] and returns the new count.
  static std::int64_t increment_step(State& state);
  /// A StateSpec named key with parameter i's shape and dtype.
  StateSpec like_param(std::string key, std::size_t i) const;

  std::vector<Tensor> params_;  ///< the parameters being optimized
  double lr_;                   ///< the learning rate
  std::vector<State> state_;    ///< per-parameter state, index for index with params_
};

/// SGD's hyperparameters (PyTorch's names and defaults; lr has no default, as in PyTorch).
class SGDOptions {
 public:
  /// Every hyperparameter positionally, in PyTorch's order.
  SGDOptions(double lr_value, double momentum_value = 0, double dampening_value = 0,
             double weight_decay_value = 0, bool nesterov_value = false)
      : lr(this, lr_value),
        momentum(this, momentum_value),
        dampening(this, dampening_value),
        weight_decay(this, weight_decay_value),
        nesterov(this, nesterov_value) {}
  SGDOptions(const SGDOptions& o) : SGDOptions(o.lr) { *this = o; }  ///< fields bound to the copy
  SGDOptions& operator=(const SGDOptions&) = default;  ///< copies the values
  Hyperparameter<SGDOptions, double> lr;            ///< learning rate
  Hyperparameter<SGDOptions, double> momentum;      ///< momentum factor (0: plain SGD)
  Hyperparameter<SGDOptions, double> dampening;     ///< dampening of the momentum
  Hyperparameter<SGDOptions, double> weight_decay;  ///< L2 penalty added to the gradient
  Hyperparameter<SGDOptions, bool> nesterov;        ///< Nesterov momentum (needs momentum > 0)
};

/// PyTorch's SGD: g = grad + weight_decay * p; with momentum, buf = g on the first step, then
/// buf = momentum * buf + (1 - dampening) * g; g = nesterov ? g + momentum * buf : buf;
/// p -= lr * g. State: "momentum_buffer" when momentum != 0.
class SGD : public Optimizer {
 public:
  SGD(std::vector<Tensor> params, SGDOptions options);  ///< checks options (Error if invalid)
  void step() override;
  std::string name() const override { return "SGD"; }
  const SGDOptions& options() const { return options_; }  ///< the options it was built with

 protected:
  std::vector<StateSpec> state_spec(std::size_t i) const override;

 private:
  SGDOptions options_;
};

/// Adam's hyperparameters (PyTorch's names and defaults).
class AdamOptions {
 public:
  /// Every hyperparameter positionally, in PyTorch's order.
  AdamOptions(double lr_value = 1e-3, double beta1_value = 0.9, double beta2_value = 0.999,
              double eps_value = 1e-8, double weight_decay_value = 0, bool decoupled_value = false)
      : lr(this, lr_value),
        beta1(this, beta1_value),
        beta2(this, beta2_value),
        eps(this, eps_value),
        weight_decay(this, weight_decay_value),
        decoupled(this, decoupled_value) {}
  AdamOptions(const AdamOptions& o) : AdamOptions() { *this = o; }  ///< fields bound to the copy
  AdamOptions& operator=(const AdamOptions&) = default;  ///< copies the values
  AdamOptions& betas(double b1, double b2) { return beta1(b1).beta2(b2); }  ///< LibTorch's spelling
  Hyperparameter<AdamOptions, double> lr;            ///< learning rate
  Hyperparameter<AdamOptions, double> beta1;         ///< decay of the first moment (m)
  Hyperparameter<AdamOptions, double> beta2;         ///< decay of the second moment (v)
  Hyperparameter<AdamOptions, double> eps;           ///< added to the denominator
  Hyperparameter<AdamOptions, double> weight_decay;  ///< L2 penalty (or decoupled decay)
  /// true: AdamW's decoupled weight decay p *= 1 - lr * weight_decay
  Hyperparameter<AdamOptions, bool> decoupled;
};

/// PyTorch's Adam: m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
/// p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps). Weight decay adds
/// weight_decay * p to g (Adam) or, when decoupled, first scales p by 1 - lr * weight_decay (AdamW).
/// State: "step", "exp_avg" (m), "exp_avg_sq" (v).
class Adam : public Optimizer {
 public:
  Adam(std::vector<Tensor> params, AdamOptions options = {});  ///< checks options
  void step() override;
  std::string name() const override { return options_.decoupled() ? "AdamW" : "Adam"; }
  const AdamOptions& options() const { return options_; }  ///< the options it was built with

 protected:
  std::vector<StateSpec> state_spec(std::size_t i) const override;

 private:
  AdamOptions options_;
};

/// AdamW's defaults differ from Adam's only in weight_decay (1e-2, as in PyTorch).
class AdamWOptions {
 public:
  /// Every hyperparameter positionally, in PyTorch's order.
  AdamWOptions(double lr_value = 1e-3, double beta1_value = 0.9, double beta2_value = 0.999,
               double eps_value = 1e-8, double weight_decay_value = 1e-2)
      : lr(this, lr_value),
        beta1(this, beta1_value),
        beta2(this, beta2_value),
        eps(this, eps_value),
        weight_decay(this, weight_decay_value) {}
  AdamWOptions(const AdamWOptions& o) : AdamWOptions() { *this = o; }  ///< fields bound to the copy
  AdamWOptions& operator=(const AdamWOptions&) = default;  ///< copies the values
  AdamWOptions& betas(double b1, double b2) { return beta1(b1).beta2(b2); }  ///< LibTorch's spelling
  Hyperparameter<AdamWOptions, double> lr;            ///< learning rate
  Hyperparameter<AdamWOptions, double> beta1;         ///< decay of the first moment (m)
  Hyperparameter<AdamWOptions, double> beta2;         ///< decay of the second moment (v)
  Hyperparameter<AdamWOptions, double> eps;           ///< added to the denominator
  Hyperparameter<AdamWOptions, double> weight_decay;  ///< decoupled decay: p *= 1 - lr * wd
};

/// PyTorch's AdamW: Adam with decoupled weight decay (an Adam whose options have decoupled set).
class AdamW : public Adam {
 public:
  AdamW(std::vector<Tensor> params, AdamWOptions options = {});  ///< checks options
};

/// RMSprop's hyperparameters (PyTorch's names and defaults).
class RMSpropOptions {
 public:
  /// Every hyperparameter positionally, in PyTorch's order.
  RMSpropOptions(double lr_value = 1e-2, double alpha_value = 0.99, double eps_value = 1e-8,
                 double weight_decay_value = 0, double momentum_value = 0,
                 bool centered_value = false)
      : lr(this, lr_value),
        alpha(this, alpha_value),
        eps(this, eps_value),
        weight_decay(this, weight_decay_value),
        momentum(this, momentum_value),
        centered(this, centered_value) {}
  RMSpropOptions(const RMSpropOptions& o) : RMSpropOptions() { *this = o; }  ///< bound to the copy
  RMSpropOptions& operator=(const RMSpropOptions&) = default;  ///< copies the values
  Hyperparameter<RMSpropOptions, double> lr;            ///< learning rate
  Hyperparameter<RMSpropOptions, double> alpha;         ///< smoothing of the squared average
  Hyperparameter<RMSpropOptions, double> eps;           ///< added to the denominator
  Hyperparameter<RMSpropOptions, double> weight_decay;  ///< L2 penalty added to the gradient
  Hyperparameter<RMSpropOptions, double> momentum;      ///< momentum factor (0: none)
  Hyperparameter<RMSpropOptions, bool> centered;        ///< normalize by the centered variance
};

/// PyTorch's RMSprop: g = grad + weight_decay * p; v = alpha v + (1 - alpha) g^2;
/// centered: m = alpha m + (1 - alpha) g and avg = sqrt(v - m^2) + eps, else avg = sqrt(v) + eps;
/// with momentum, buf = momentum * buf + g / avg and p -= lr * buf, else p -= lr * g / avg.
/// State: "step", "square_avg", "momentum_buffer" (momentum > 0), "grad_avg" (centered).
class RMSprop : public Optimizer {
 public:
  RMSprop(std::vector<Tensor> params, RMSpropOptions options = {});  ///< checks options
  void step() override;
  std::string name() const override { return "RMSprop"; }
  const RMSpropOptions& options() const { return options_; }  ///< the options it was built with

 protected:
  std::vector<StateSpec> state_spec(std::size_t i) const override;

 private:
  RMSpropOptions options_;
};

/// Adagrad's hyperparameters (PyTorch's names and defaults).
class AdagradOptions {
 public:
  /// Every hyperparameter positionally, in PyTorch's order.
  AdagradOptions(double lr_value = 1e-2, double lr_decay_value = 0, double weight_decay_value = 0,
                 double eps_value = 1e-10, double initial_accumulator = 0)
      : lr(this, lr_value),
        lr_decay(this, lr_decay_value),
        weight_decay(this, weight_decay_value),
        eps(this, eps_value),
        initial_accumulator_value(this, initial_accumulator) {}
  AdagradOptions(const AdagradOptions& o) : AdagradOptions() { *this = o; }  ///< bound to the copy
  AdagradOptions& operator=(const AdagradOptions&) = default;  ///< copies the values
  Hyperparameter<AdagradOptions, double> lr;            ///< learning rate
  Hyperparameter<AdagradOptions, double> lr_decay;      ///< clr = lr / (1 + (t - 1) lr_decay)
  Hyperparameter<AdagradOptions, double> weight_decay;  ///< L2 penalty added to the gradient
  Hyperparameter<AdagradOptions, double> eps;           ///< added to the denominator
  Hyperparameter<AdagradOptions, double> initial_accumulator_value;  ///< starting value of "sum"
};

/// PyTorch's Adagrad: g = grad + weight_decay * p; clr = lr / (1 + (t - 1) lr_decay);
/// sum += g^2; p -= clr * g / (sqrt(sum) + eps). State: "step", "sum" (initial_accumulator_value).
class Adagrad : public Optimizer {
 public:
  Adagrad(std::vector<Tensor> params, AdagradOptions options = {});  ///< checks options
  void step() override;
  std::string name() const override { return "Adagrad"; }
  const AdagradOptions& options() const { return options_; }  ///< the options it was built with

 protected:
  std::vector<StateSpec> state_spec(std::size_t i) const override;
  void on_new_state(std::size_t i, State& state) override;  ///< "sum" = initial_accumulator_value

 private:
  AdagradOptions options_;
};

/// Schedulers: call step() once per epoch, after the optimizer's steps of that epoch. Each one
/// remembers the optimizer's learning rate at construction as base_lr().
class LRScheduler {
 public:
  explicit LRScheduler(Optimizer& optimizer);  ///< schedules optimizer's lr (must outlive this)
  virtual ~LRScheduler() = default;
  void step();  ///< ends an epoch: sets the optimizer's lr for the next one
  std::size_t last_epoch() const { return epoch_; }  ///< the number of step() calls so far
  double get_last_lr() const { return optimizer_.lr(); }  ///< the optimizer's current lr
  double base_lr() const { return base_lr_; }  ///< the optimizer's lr at construction
  virtual std::string name() const;  ///< "StepLR", ...; by default the C++ class name
  /// The epoch count and base_lr as .npz ("<name>.last_epoch", "<name>.base_lr"), atomically; load
  /// checks the kind of scheduler. The learning rate itself lives in the optimizer's file.
  void save(const std::string& path) const;
  void load(const std::string& path);  ///< reads what save() wrote (Error if another scheduler)

 protected:
  virtual double next_lr(double current_lr, std::size_t epoch) const = 0;  ///< epoch >= 1
  Optimizer& optimizer_;  ///< the optimizer whose lr is scheduled

 private:
  std::size_t epoch_ = 0;
  double base_lr_;
};

/// lr * gamma every step_size epochs.
class StepLR : public LRScheduler {
 public:
  StepLR(Optimizer& optimizer, std::size_t step_size, double gamma = 0.1);  ///< step_size >= 1
  std::string name() const override { return "StepLR"; }

 protected:
  double next_lr(double current_lr, std::size_t epoch) const override;

 private:
  std::size_t step_size_;
  double gamma_;
};

/// lr * gamma every epoch.
class ExponentialLR : public LRScheduler {
 public:
  ExponentialLR(Optimizer& optimizer, double gamma);  ///< decays by gamma per epoch
  std::string name() const override { return "ExponentialLR"; }

 protected:
  double next_lr(double current_lr, std::size_t epoch) const override;

 private:
  double gamma_;
};

/// Half a cosine from base_lr down to eta_min over T_max epochs (then back up, periodically), in
/// PyTorch's recursive form: lr_t = eta_min + (lr_{t-1} - eta_min) (1 + cos(pi t / T)) /
/// (1 + cos(pi (t - 1) / T)).
class CosineAnnealingLR : public LRScheduler {
 public:
  CosineAnnealingLR(Optimizer& optimizer, std::size_t T_max, double eta_min = 0);  ///< T_max >= 1
  std::string name() const override { return "CosineAnnealingLR"; }

 protected:
  double next_lr(double current_lr, std::size_t epoch) const override;

 private:
  std::size_t t_max_;
  double eta_min_;
};

/// lr = base_lr * lr_lambda(epoch); applied at construction for epoch 0, as PyTorch does.
class LambdaLR : public LRScheduler {
 public:
  LambdaLR(Optimizer& optimizer, std::function<double(std::size_t)> lr_lambda);  ///< sets epoch 0
  std::string name() const override { return "LambdaLR"; }

 protected:
  double next_lr(double current_lr, std::size_t epoch) const override;

 private:
  std::function<double(std::size_t)> lr_lambda_;
};

/// ReduceLROnPlateau's settings (PyTorch's names and defaults).
class ReduceLROnPlateauOptions {
  using Self = ReduceLROnPlateauOptions;

 public:
  /// The two settings most often changed; the rest have PyTorch's defaults.
  ReduceLROnPlateauOptions(double factor_value = 0.1, std::size_t patience_value = 10)
      : factor(this, factor_value), patience(this, patience_value) {}
  ReduceLROnPlateauOptions(const Self& o) : Self() { *this = o; }  ///< fields bound to the copy
  Self& operator=(const Self&) = default;  ///< copies the values
  Hyperparameter<Self, double> factor;          ///< new lr = lr * factor (< 1)
  Hyperparameter<Self, std::size_t> patience;   ///< bad epochs tolerated before reducing
  Hyperparameter<Self, std::string> mode{this, "min"};  ///< "min": lower is better; "max"
  Hyperparameter<Self, double> threshold{this, 1e-4};  ///< the least change that counts
  Hyperparameter<Self, std::string> threshold_mode{this, "rel"};  ///< "rel" or "abs"
  Hyperparameter<Self, std::size_t> cooldown{this, 0};  ///< epochs to wait after a reduction
  Hyperparameter<Self, double> min_lr{this, 0.0};       ///< lr never goes below this
  Hyperparameter<Self, double> eps{this, 1e-8};  ///< smaller changes of lr are skipped
};

/// Multiplies lr by factor once the metric passed to step() has not improved (by more than
/// threshold, relative or absolute) for more than patience epochs; then waits cooldown epochs.
/// PyTorch's defaults: mode "min", factor 0.1, patience 10, threshold 1e-4 "rel".
class ReduceLROnPlateau {
 public:
  /// Schedules optimizer's lr (the optimizer must outlive this) with factor and patience.
  explicit ReduceLROnPlateau(Optimizer& optimizer, double factor = 0.1, std::size_t patience = 10);
  ReduceLROnPlateau(Optimizer& optimizer, ReduceLROnPlateauOptions options);  ///< all settings
  void step(double metric);  ///< ends an epoch whose validation metric was metric
  std::size_t last_epoch() const { return epoch_; }  ///< the number of step() calls so far
  double best() const { return best_; }  ///< the best metric so far
  std::size_t num_bad_epochs() const { return num_bad_epochs_; }  ///< epochs since the best
  double get_last_lr() const { return optimizer_.lr(); }  ///< the optimizer's current lr
  const ReduceLROnPlateauOptions& options() const { return options_; }  ///< its settings
  /// best, num_bad_epochs, cooldown_counter and last_epoch as .npz, atomically.
  void save(const std::string& path) const;
  void load(const std::string& path);  ///< reads what save() wrote

 private:
  bool is_better(double metric) const;
  Optimizer& optimizer_;
  ReduceLROnPlateauOptions options_;
  double best_;
  std::size_t num_bad_epochs_ = 0, cooldown_counter_ = 0, epoch_ = 0;
};

/// Scales all gradients together so that their joint L2 norm is at most max_norm (by
/// max_norm / (norm + 1e-6), only when that is below 1), as torch.nn.utils.clip_grad_norm_ does.
/// Returns the norm before clipping. Parameters without a gradient are ignored.
double clip_grad_norm_(std::vector<Tensor> params, double max_norm);

}  // namespace ag::optim
AG_API_END
