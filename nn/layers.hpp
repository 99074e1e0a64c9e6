// Layers: Linear, Sequential, activations, Dropout, and the mlp() builder.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include <autograd/export.hpp>
#include <nn/module.hpp>

AG_API_BEGIN
namespace ag::nn {

/// y = x W^T + b, weight {out, in}. LibTorch's default init: weight ~ kaiming_uniform(a = sqrt(5)),
/// i.e. U(-1/sqrt(in), 1/sqrt(in)); bias ~ U(-1/sqrt(in), 1/sqrt(in)).
class Linear : public Module {
 public:
  Linear(std::size_t in_features, std::size_t out_features, bool bias = true);  ///< LibTorch's init
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "Linear"; }
  void reset_parameters();  ///< draws weight and bias again with the default init

  std::size_t in_features;   ///< size of each input sample
  std::size_t out_features;  ///< size of each output sample
  Tensor weight;             ///< {out_features, in_features}
  Tensor bias;               ///< {out_features}; undefined when built with bias = false
};

/// Runs its children in order; they are registered as "0", "1", ...
class Sequential : public Module {
 public:
  Sequential() = default;
  Sequential(std::initializer_list<std::shared_ptr<Module>> modules);  ///< these, in order
  /// Sequential(std::make_shared<Linear>(2, 3), std::make_shared<ReLU>()): any module types.
  template <class M, class... Ms>
  explicit Sequential(std::shared_ptr<M> first, std::shared_ptr<Ms>... rest) {
    push_back(std::move(first));
    (push_back(std::move(rest)), ...);
  }
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "Sequential"; }

  void push_back(std::shared_ptr<Module> module);  ///< appends module as child "<size()>"
  std::size_t size() const { return modules_.size(); }  ///< the number of children
  const std::shared_ptr<Module>& operator[](std::size_t i) const;  ///< child i (Error if none)

 private:
  std::vector<std::shared_ptr<Module>> modules_;
};

/// 1 / (1 + exp(-x)), elementwise.
class Sigmoid : public Module {
 public:
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "Sigmoid"; }
};

/// tanh(x), elementwise.
class Tanh : public Module {
 public:
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "Tanh"; }
};

/// max(x, 0), elementwise.
class ReLU : public Module {
 public:
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "ReLU"; }
};

/// x for x > 0, negative_slope * x otherwise, elementwise.
class LeakyReLU : public Module {
 public:
  explicit LeakyReLU(double slope = 0.01) : negative_slope(slope) {}  ///< PyTorch's default slope
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "LeakyReLU"; }
  double negative_slope;  ///< the slope for x <= 0
};

/// log(1 + exp(x)), elementwise (computed without overflow).
class Softplus : public Module {
 public:
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "Softplus"; }
};

/// exp(x) / sum(exp(x)) along axis (stable: the maximum is subtracted first).
class Softmax : public Module {
 public:
  explicit Softmax(std::ptrdiff_t along) : axis(along) {}  ///< along < 0 counts from the end
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "Softmax"; }
  std::ptrdiff_t axis;  ///< the axis normalized over
};

/// x - logsumexp(x) along axis: the log of Softmax, computed stably.
class LogSoftmax : public Module {
 public:
  explicit LogSoftmax(std::ptrdiff_t along) : axis(along) {}  ///< along < 0 counts from the end
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "LogSoftmax"; }
  std::ptrdiff_t axis;  ///< the axis normalized over
};

/// Returns its input unchanged (a placeholder, as torch.nn.Identity).
class Identity : public Module {
 public:
  Tensor forward(const Tensor& x) override { return x; }
  std::string type_name() const override { return "Identity"; }
};

/// Zeroes each element with probability p while training and scales the rest by 1 / (1 - p)
/// (inverted dropout, functional::dropout), so eval() is the identity.
class Dropout : public Module {
 public:
  explicit Dropout(double probability = 0.5);  ///< probability in [0, 1) (Error otherwise)
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "Dropout"; }
  double p;  ///< the probability of zeroing an element
};

/// Batch normalisation over axis 1, as torch.nn.BatchNorm1d/2d: weight (gamma, ones) and bias
/// (beta, zeros) are parameters when affine; running_mean (zeros), running_var (ones) and the int64
/// num_batches_tracked are buffers when track_running_stats. Training normalises with the batch
/// statistics and updates the running ones (momentum 0.1: running = 0.9 running + 0.1 batch, the
/// unbiased batch variance for running_var); eval() normalises with the running statistics.
class BatchNorm : public Module {
 public:
  Tensor forward(const Tensor& x) override;
  void reset_running_stats();  ///< zeros, ones, 0
  void reset_parameters();     ///< also resets the running statistics

  std::size_t num_features;  ///< C, the size of axis 1
  double eps;                ///< added to the variance before the square root
  double momentum;           ///< weight of the batch statistic in the running update
  bool affine;               ///< whether weight and bias exist
  bool track_running_stats;  ///< whether the running buffers exist
  Tensor weight;               ///< gamma {C}; undefined unless affine
  Tensor bias;                 ///< beta {C}; undefined unless affine
  Tensor running_mean;         ///< {C}; undefined unless tracking
  Tensor running_var;          ///< {C}; undefined unless tracking
  Tensor num_batches_tracked;  ///< int64 0-d; undefined unless tracking

 protected:
  /// For BatchNorm1d and BatchNorm2d, which add the input check.
  BatchNorm(std::size_t num_features, double eps, double momentum, bool affine,
            bool track_running_stats);
  virtual void check_input(const Tensor& x) const = 0;  ///< throws Error on a wrong input shape
};

/// Input {N, C} or {N, C, L}.
class BatchNorm1d : public BatchNorm {
 public:
  /// PyTorch's defaults: eps 1e-5, momentum 0.1, affine, tracking running statistics.
  explicit BatchNorm1d(std::size_t features, double epsilon = 1e-5, double running_momentum = 0.1,
                       bool learn_affine = true, bool track_stats = true)
      : BatchNorm(features, epsilon, running_momentum, learn_affine, track_stats) {}
  std::string type_name() const override { return "BatchNorm1d"; }

 protected:
  void check_input(const Tensor& x) const override;
};

/// Input {N, C, H, W}.
class BatchNorm2d : public BatchNorm {
 public:
  /// PyTorch's defaults: eps 1e-5, momentum 0.1, affine, tracking running statistics.
  explicit BatchNorm2d(std::size_t features, double epsilon = 1e-5, double running_momentum = 0.1,
                       bool learn_affine = true, bool track_stats = true)
      : BatchNorm(features, epsilon, running_momentum, learn_affine, track_stats) {}
  std::string type_name() const override { return "BatchNorm2d"; }

 protected:
  void check_input(const Tensor& x) const override;
};

/// Normalises over the trailing normalized_shape dimensions of each sample (biased variance), as
/// torch.nn.LayerNorm; weight (ones) and bias (zeros) of that shape when elementwise_affine.
class LayerNorm : public Module {
 public:
  /// Normalizes over the last normalized_shape.size() axes, which must equal normalized_shape.
  explicit LayerNorm(Shape normalized_shape, double eps = 1e-5, bool elementwise_affine = true);
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "LayerNorm"; }
  void reset_parameters();  ///< weight to ones, bias to zeros

  Shape normalized_shape;  ///< the trailing shape normalized over
  double eps;              ///< added to the variance before the square root
  Tensor weight;           ///< normalized_shape; undefined unless elementwise_affine
  Tensor bias;             ///< normalized_shape; undefined unless elementwise_affine
};

/// A lookup table: int64 indices of any shape -> their rows of weight {num_embeddings, dim},
/// result shape indices.shape ++ {dim}. weight ~ N(0, 1), as PyTorch initialises it.
class Embedding : public Module {
 public:
  Embedding(std::size_t num_embeddings, std::size_t embedding_dim);  ///< weight ~ N(0, 1)
  Tensor forward(const Tensor& indices) override;
  std::string type_name() const override { return "Embedding"; }
  void reset_parameters();  ///< draws weight ~ N(0, 1) again

  std::size_t num_embeddings;  ///< the number of rows (valid indices are 0..num_embeddings-1)
  std::size_t embedding_dim;   ///< the length of each row
  Tensor weight;               ///< {num_embeddings, embedding_dim}
};

/// Merges axes start_axis..end_axis (inclusive; negative count from the end) into one, as
/// torch.nn.Flatten: {N, C, H, W} -> {N, C*H*W} by default.
class Flatten : public Module {
 public:
  explicit Flatten(std::ptrdiff_t first = 1, std::ptrdiff_t last = -1)
      : start_axis(first), end_axis(last) {}  ///< PyTorch's defaults: keep the batch axis
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "Flatten"; }
  std::ptrdiff_t start_axis;  ///< the first axis merged
  std::ptrdiff_t end_axis;    ///< the last axis merged (inclusive)
};

/// Holds modules, registered as "0", "1", ... (so their parameters are "0.weight", ...), without
/// a forward of its own: the owner decides how to run them.
class ModuleList : public Module {
 public:
  using Items = std::vector<std::shared_ptr<Module>>;  ///< the modules, in order
  ModuleList() = default;
  ModuleList(std::initializer_list<std::shared_ptr<Module>> modules);  ///< these, in order
  std::string type_name() const override { return "ModuleList"; }

  void push_back(std::shared_ptr<Module> module);  ///< appends module as child "<size()>"
  std::size_t size() const { return modules_.size(); }  ///< the number of modules
  bool empty() const { return modules_.empty(); }       ///< size() == 0
  const std::shared_ptr<Module>& operator[](std::size_t i) const;  ///< module i (Error if none)
  /// The i-th module as its concrete type; throws when it is not an M.
  template <class M>
  std::shared_ptr<M> at(std::size_t i) const {
    auto m = std::dynamic_pointer_cast<M>((*this)[i]);
    if (!m)
      throw Error("ModuleList::at: module " + std::to_string(i) + " is a " +
                  (*this)[i]->type_name());
    return m;
  }
  Items::const_iterator begin() const { return modules_.begin(); }  ///< for range-for loops
  Items::const_iterator end() const { return modules_.end(); }      ///< past the last module

 private:
  Items modules_;
};

/// An activation module by name: "sigmoid", "tanh", "relu", "leaky_relu", "softplus", "identity".
std::shared_ptr<Module> make_activation(const std::string& name);

/// Linear(sizes[0], sizes[1]), activation, Linear(sizes[1], sizes[2]), ..., Linear(.., sizes.back()):
/// the activation sits between layers, none after the last.
std::shared_ptr<Sequential> mlp(std::vector<std::size_t> sizes, std::string activation = "sigmoid");

}  // namespace ag::nn
AG_API_END
