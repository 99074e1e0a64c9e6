#include <nn/layers.hpp>

#include <cmath>

#include <autograd/ops.hpp>
#include <nn/functional.hpp>
#include <nn/init.hpp>

namespace ag::nn {

Linear::Linear(std::size_t in, std::size_t out, bool with_bias) : in_features(in), out_features(out) {
  if (in == 0 || out == 0)
    throw Error("Linear: in_features and out_features must be positive, got " + std::to_string(in) +
                " and " + std::to_string(out));
  // The weight's size is checked (in * out may overflow), and running out of memory names the layer.
  const std::string self = "Linear(" + std::to_string(in) + ", " + std::to_string(out) + ")";
  try {
    weight = register_parameter("weight", zeros({out, in}));
    if (with_bias) bias = register_parameter("bias", zeros({out}));
  } catch (const Error& e) {
    throw Error(self + ": " + e.what());
  }
  reset_parameters();
}

void Linear::reset_parameters() {
  // LibTorch's defaults: kaiming_uniform_ with a = sqrt(5) gives the bound 1/sqrt(in); the bias
  // uses the same bound.
  init::kaiming_uniform_(weight, std::sqrt(5.0));
  if (bias.defined()) {
    const double bound = 1.0 / std::sqrt(static_cast<double>(in_features));
    init::uniform_(bias, -bound, bound);
  }
}

Tensor Linear::forward(const Tensor& x) {
  if (!x.defined() || x.dim() == 0 || x.shape().back() != in_features)
    throw Error("Linear(" + std::to_string(in_features) + ", " + std::to_string(out_features) +
                "): input " + (x.defined() ? shape_str(x.shape()) : std::string("undefined")) +
                " must end in " + std::to_string(in_features) + " features");
  return functional::linear(x, weight, bias);
}

Sequential::Sequential(std::initializer_list<std::shared_ptr<Module>> modules) {
  for (const auto& m : modules) push_back(m);
}

void Sequential::push_back(std::shared_ptr<Module> module) {
  register_module(std::to_string(modules_.size()), module);
  modules_.push_back(std::move(module));
}

const std::shared_ptr<Module>& Sequential::operator[](std::size_t i) const {
  if (i >= modules_.size())
    throw Error("Sequential: index " + std::to_string(i) + " out of range (size " +
                std::to_string(modules_.size()) + ")");
  return modules_[i];
}

Tensor Sequential::forward(const Tensor& x) {
  Tensor h = x;
  for (auto& m : modules_) h = (*m)(h);
  return h;
}

Tensor Sigmoid::forward(const Tensor& x) { return sigmoid(x); }
Tensor Tanh::forward(const Tensor& x) { return tanh(x); }
Tensor ReLU::forward(const Tensor& x) { return relu(x); }
Tensor LeakyReLU::forward(const Tensor& x) { return leaky_relu(x, negative_slope); }
Tensor Softplus::forward(const Tensor& x) { return softplus(x); }
Tensor Softmax::forward(const Tensor& x) { return softmax(x, axis); }
Tensor LogSoftmax::forward(const Tensor& x) { return log_softmax(x, axis); }

Dropout::Dropout(double p) : p(p) {
  if (!(p >= 0 && p <= 1)) throw Error("Dropout: p must be in [0, 1], got " + std::to_string(p));
}

Tensor Dropout::forward(const Tensor& x) {
  if (!is_training() || p == 0) return x;
  if (p == 1) return x * 0.0;
  // keep where u >= p, which happens with probability 1 - p; survivors scaled by 1 / (1 - p)
  const Tensor keep = ge(rand(x.shape(), x.dtype()), p);
  return x * (keep * (1.0 / (1.0 - p)));
}

std::shared_ptr<Module> make_activation(const std::string& name) {
  if (name == "sigmoid") return std::make_shared<Sigmoid>();
  if (name == "tanh") return std::make_shared<Tanh>();
  if (name == "relu") return std::make_shared<ReLU>();
  if (name == "leaky_relu") return std::make_shared<LeakyReLU>();
  if (name == "softplus") return std::make_shared<Softplus>();
  if (name == "identity" || name == "linear") return std::make_shared<Identity>();
  throw Error("make_activation: unknown activation '" + name +
              "' (choose sigmoid, tanh, relu, leaky_relu, softplus or identity)");
}

std::shared_ptr<Sequential> mlp(std::vector<std::size_t> sizes, std::string activation) {
  if (sizes.size() < 2)
    throw Error("mlp: need at least two sizes (inputs and outputs), got " + std::to_string(sizes.size()));
  make_activation(activation);  // reject an unknown name before building anything
  auto net = std::make_shared<Sequential>();
  for (std::size_t i = 0; i + 1 < sizes.size(); ++i) {
    net->push_back(std::make_shared<Linear>(sizes[i], sizes[i + 1]));
    if (i + 2 < sizes.size()) net->push_back(make_activation(activation));
  }
  return net;
}

}  // namespace ag::nn
