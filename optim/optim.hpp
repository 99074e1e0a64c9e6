// ag::optim: optimizers and learning-rate schedulers with PyTorch's update rules.
// Updates run without recording a graph and bump each parameter's version counter, so a graph
// that saved a parameter's old value refuses to backward through it afterwards.
#pragma once

#include <cstddef>
#include <vector>

#include <autograd/export.hpp>
#include <autograd/tensor.hpp>

AG_API_BEGIN
namespace ag::optim {

class Optimizer {
 public:
  Optimizer(std::vector<Tensor> params, double lr);
  virtual ~Optimizer() = default;
  // One update of every parameter that has a gradient; parameters without one are skipped.
  virtual void step() = 0;
  void zero_grad();  // drops every parameter's gradient
  double lr() const { return lr_; }
  void set_lr(double lr);
  const std::vector<Tensor>& params() const { return params_; }

 protected:
  std::vector<Tensor> params_;
  double lr_;
};

struct SGDOptions {
  double lr;
  double momentum = 0, dampening = 0, weight_decay = 0;
  bool nesterov = false;
};

// PyTorch's SGD: g = grad + weight_decay * p; with momentum, buf = g on the first step, then
// buf = momentum * buf + (1 - dampening) * g; g = nesterov ? g + momentum * buf : buf;
// p -= lr * g.
class SGD : public Optimizer {
 public:
  SGD(std::vector<Tensor> params, SGDOptions options);
  void step() override;
  const SGDOptions& options() const { return options_; }

 private:
  SGDOptions options_;
  std::vector<std::vector<double>> momentum_;  // per parameter; empty until its first step
};

struct AdamOptions {
  double lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0;
  bool decoupled = false;  // true: AdamW's decoupled weight decay p *= 1 - lr * weight_decay
};

// PyTorch's Adam: m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
// p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps). Weight decay adds
// weight_decay * p to g (Adam) or, when decoupled, first scales p by 1 - lr * weight_decay (AdamW).
class Adam : public Optimizer {
 public:
  Adam(std::vector<Tensor> params, AdamOptions options = {});
  void step() override;
  const AdamOptions& options() const { return options_; }

 private:
  AdamOptions options_;
  struct State {
    std::size_t step = 0;
    std::vector<double> m, v;
  };
  std::vector<State> state_;
};

// AdamW's defaults differ from Adam's only in weight_decay (1e-2, as in PyTorch).
struct AdamWOptions {
  double lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 1e-2;
};

class AdamW : public Adam {
 public:
  AdamW(std::vector<Tensor> params, AdamWOptions options = {});
};

// Schedulers: call step() once per epoch, after the optimizer's steps of that epoch.
class LRScheduler {
 public:
  explicit LRScheduler(Optimizer& optimizer);
  virtual ~LRScheduler() = default;
  void step();
  std::size_t last_epoch() const { return epoch_; }
  double get_last_lr() const { return optimizer_.lr(); }

 protected:
  virtual double next_lr(double current_lr, std::size_t epoch) const = 0;  // epoch >= 1
  Optimizer& optimizer_;

 private:
  std::size_t epoch_ = 0;
};

// lr * gamma every step_size epochs.
class StepLR : public LRScheduler {
 public:
  StepLR(Optimizer& optimizer, std::size_t step_size, double gamma = 0.1);

 protected:
  double next_lr(double current_lr, std::size_t epoch) const override;

 private:
  std::size_t step_size_;
  double gamma_;
};

// lr * gamma every epoch.
class ExponentialLR : public LRScheduler {
 public:
  ExponentialLR(Optimizer& optimizer, double gamma);

 protected:
  double next_lr(double current_lr, std::size_t epoch) const override;

 private:
  double gamma_;
};

// Scales all gradients together so that their joint L2 norm is at most max_norm (by
// max_norm / (norm + 1e-6), only when that is below 1), as torch.nn.utils.clip_grad_norm_ does.
// Returns the norm before clipping. Parameters without a gradient are ignored.
double clip_grad_norm_(std::vector<Tensor> params, double max_norm);

}  // namespace ag::optim
AG_API_END
