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

// y = x W^T + b, weight {out, in}. LibTorch's default init: weight ~ kaiming_uniform(a = sqrt(5)),
// i.e. U(-1/sqrt(in), 1/sqrt(in)); bias ~ U(-1/sqrt(in), 1/sqrt(in)).
class Linear : public Module {
 public:
  Linear(std::size_t in_features, std::size_t out_features, bool bias = true);
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "Linear"; }
  void reset_parameters();

  std::size_t in_features, out_features;
  Tensor weight, bias;  // bias is undefined when built with bias = false
};

// Runs its children in order; they are registered as "0", "1", ...
class Sequential : public Module {
 public:
  Sequential() = default;
  Sequential(std::initializer_list<std::shared_ptr<Module>> modules);
  template <class M, class... Ms>
  explicit Sequential(std::shared_ptr<M> first, std::shared_ptr<Ms>... rest) {
    push_back(std::move(first));
    (push_back(std::move(rest)), ...);
  }
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "Sequential"; }

  void push_back(std::shared_ptr<Module> module);
  std::size_t size() const { return modules_.size(); }
  const std::shared_ptr<Module>& operator[](std::size_t i) const;

 private:
  std::vector<std::shared_ptr<Module>> modules_;
};

class Sigmoid : public Module {
 public:
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "Sigmoid"; }
};

class Tanh : public Module {
 public:
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "Tanh"; }
};

class ReLU : public Module {
 public:
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "ReLU"; }
};

class LeakyReLU : public Module {
 public:
  explicit LeakyReLU(double negative_slope = 0.01) : negative_slope(negative_slope) {}
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "LeakyReLU"; }
  double negative_slope;
};

class Softplus : public Module {
 public:
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "Softplus"; }
};

class Softmax : public Module {
 public:
  explicit Softmax(std::ptrdiff_t axis) : axis(axis) {}
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "Softmax"; }
  std::ptrdiff_t axis;
};

class LogSoftmax : public Module {
 public:
  explicit LogSoftmax(std::ptrdiff_t axis) : axis(axis) {}
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "LogSoftmax"; }
  std::ptrdiff_t axis;
};

class Identity : public Module {
 public:
  Tensor forward(const Tensor& x) override { return x; }
  std::string type_name() const override { return "Identity"; }
};

// Zeroes each element with probability p while training and scales the rest by 1 / (1 - p)
// (inverted dropout, functional::dropout), so eval() is the identity.
class Dropout : public Module {
 public:
  explicit Dropout(double p = 0.5);
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "Dropout"; }
  double p;
};

// Batch normalisation over axis 1, as torch.nn.BatchNorm1d/2d: weight (gamma, ones) and bias
// (beta, zeros) are parameters when affine; running_mean (zeros), running_var (ones) and the int64
// num_batches_tracked are buffers when track_running_stats. Training normalises with the batch
// statistics and updates the running ones (momentum 0.1: running = 0.9 running + 0.1 batch, the
// unbiased batch variance for running_var); eval() normalises with the running statistics.
class BatchNorm : public Module {
 public:
  Tensor forward(const Tensor& x) override;
  void reset_running_stats();  // zeros, ones, 0
  void reset_parameters();     // also resets the running statistics

  std::size_t num_features;
  double eps, momentum;
  bool affine, track_running_stats;
  Tensor weight, bias;                                    // undefined unless affine
  Tensor running_mean, running_var, num_batches_tracked;  // undefined unless tracking

 protected:
  BatchNorm(std::size_t num_features, double eps, double momentum, bool affine,
            bool track_running_stats);
  virtual void check_input(const Tensor& x) const = 0;
};

// Input {N, C} or {N, C, L}.
class BatchNorm1d : public BatchNorm {
 public:
  explicit BatchNorm1d(std::size_t num_features, double eps = 1e-5, double momentum = 0.1,
                       bool affine = true, bool track_running_stats = true)
      : BatchNorm(num_features, eps, momentum, affine, track_running_stats) {}
  std::string type_name() const override { return "BatchNorm1d"; }

 protected:
  void check_input(const Tensor& x) const override;
};

// Input {N, C, H, W}.
class BatchNorm2d : public BatchNorm {
 public:
  explicit BatchNorm2d(std::size_t num_features, double eps = 1e-5, double momentum = 0.1,
                       bool affine = true, bool track_running_stats = true)
      : BatchNorm(num_features, eps, momentum, affine, track_running_stats) {}
  std::string type_name() const override { return "BatchNorm2d"; }

 protected:
  void check_input(const Tensor& x) const override;
};

// Normalises over the trailing normalized_shape dimensions of each sample (biased variance), as
// torch.nn.LayerNorm; weight (ones) and bias (zeros) of that shape when elementwise_affine.
class LayerNorm : public Module {
 public:
  explicit LayerNorm(Shape normalized_shape, double eps = 1e-5, bool elementwise_affine = true);
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "LayerNorm"; }
  void reset_parameters();

  Shape normalized_shape;
  double eps;
  Tensor weight, bias;  // undefined unless elementwise_affine
};

// A lookup table: int64 indices of any shape -> their rows of weight {num_embeddings, dim},
// result shape indices.shape ++ {dim}. weight ~ N(0, 1), as PyTorch initialises it.
class Embedding : public Module {
 public:
  Embedding(std::size_t num_embeddings, std::size_t embedding_dim);
  Tensor forward(const Tensor& indices) override;
  std::string type_name() const override { return "Embedding"; }
  void reset_parameters();

  std::size_t num_embeddings, embedding_dim;
  Tensor weight;
};

// Merges axes start_axis..end_axis (inclusive; negative count from the end) into one, as
// torch.nn.Flatten: {N, C, H, W} -> {N, C*H*W} by default.
class Flatten : public Module {
 public:
  explicit Flatten(std::ptrdiff_t start_axis = 1, std::ptrdiff_t end_axis = -1)
      : start_axis(start_axis), end_axis(end_axis) {}
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "Flatten"; }
  std::ptrdiff_t start_axis, end_axis;
};

// Holds modules, registered as "0", "1", ... (so their parameters are "0.weight", ...), without
// a forward of its own: the owner decides how to run them.
class ModuleList : public Module {
 public:
  using Items = std::vector<std::shared_ptr<Module>>;
  ModuleList() = default;
  ModuleList(std::initializer_list<std::shared_ptr<Module>> modules);
  std::string type_name() const override { return "ModuleList"; }

  void push_back(std::shared_ptr<Module> module);
  std::size_t size() const { return modules_.size(); }
  bool empty() const { return modules_.empty(); }
  const std::shared_ptr<Module>& operator[](std::size_t i) const;
  // The i-th module as its concrete type; throws when it is not an M.
  template <class M>
  std::shared_ptr<M> at(std::size_t i) const {
    auto m = std::dynamic_pointer_cast<M>((*this)[i]);
    if (!m)
      throw Error("ModuleList::at: module " + std::to_string(i) + " is a " +
                  (*this)[i]->type_name());
    return m;
  }
  Items::const_iterator begin() const { return modules_.begin(); }
  Items::const_iterator end() const { return modules_.end(); }

 private:
  Items modules_;
};

// An activation module by name: "sigmoid", "tanh", "relu", "leaky_relu", "softplus", "identity".
std::shared_ptr<Module> make_activation(const std::string& name);

// Linear(sizes[0], sizes[1]), activation, Linear(sizes[1], sizes[2]), ..., Linear(.., sizes.back()):
// the activation sits between layers, none after the last.
std::shared_ptr<Sequential> mlp(std::vector<std::size_t> sizes, std::string activation = "sigmoid");

}  // namespace ag::nn
AG_API_END
