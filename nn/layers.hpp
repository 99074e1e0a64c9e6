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
// (inverted dropout), so eval() is the identity. Draws from the global generator (ag::rand).
class Dropout : public Module {
 public:
  explicit Dropout(double p = 0.5);
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "Dropout"; }
  double p;
};

// An activation module by name: "sigmoid", "tanh", "relu", "leaky_relu", "softplus", "identity".
std::shared_ptr<Module> make_activation(const std::string& name);

// Linear(sizes[0], sizes[1]), activation, Linear(sizes[1], sizes[2]), ..., Linear(.., sizes.back()):
// the activation sits between layers, none after the last.
std::shared_ptr<Sequential> mlp(std::vector<std::size_t> sizes, std::string activation = "sigmoid");

}  // namespace ag::nn
AG_API_END
