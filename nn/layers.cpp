#include <nn/layers.hpp>

#include <algorithm>
#include <cmath>

#include <autograd/engine.hpp>
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

Tensor Dropout::forward(const Tensor& x) { return functional::dropout(x, p, is_training()); }

BatchNorm::BatchNorm(std::size_t features, double eps, double momentum, bool affine, bool track)
    : num_features(features),
      eps(eps),
      momentum(momentum),
      affine(affine),
      track_running_stats(track) {
  if (features == 0) throw Error("BatchNorm: num_features must be positive");
  if (!(eps > 0) || !(momentum >= 0 && momentum <= 1))
    throw Error("BatchNorm: need eps > 0 and momentum in [0, 1], got eps " + std::to_string(eps) +
                ", momentum " + std::to_string(momentum));
  if (affine) {
    weight = register_parameter("weight", ones({features}));
    bias = register_parameter("bias", zeros({features}));
  }
  if (track) {
    running_mean = register_buffer("running_mean", zeros({features}));
    running_var = register_buffer("running_var", ones({features}));
    num_batches_tracked = register_buffer("num_batches_tracked", zeros({}, int64));
  }
}

void BatchNorm::reset_running_stats() {
  if (!track_running_stats) return;
  NoGradGuard no_grad;
  running_mean.fill_(0);
  running_var.fill_(1);
  num_batches_tracked.fill_(0);
}

void BatchNorm::reset_parameters() {
  reset_running_stats();
  if (!affine) return;
  init::ones_(weight);
  init::zeros_(bias);
}

Tensor BatchNorm::forward(const Tensor& x) {
  check_input(x);
  if (x.size(1) != num_features)
    throw Error(type_name() + "(" + std::to_string(num_features) + "): input " +
                shape_str(x.shape()) + " has " + std::to_string(x.size(1)) + " channels on axis 1");
  if (is_training() && track_running_stats) {
    ++num_batches_tracked.data_ptr<std::int64_t>()[0];  // int64: add_ does no int64 arithmetic
    num_batches_tracked.bump_version();
  }
  // Tracking modules pass their running statistics: the functional form uses them in eval and
  // updates them in training. Without tracking, both modes use the batch statistics.
  return functional::batch_norm(x, running_mean, running_var, weight, bias, is_training(), momentum,
                                eps);
}

void BatchNorm1d::check_input(const Tensor& x) const {
  if (!x.defined() || (x.dim() != 2 && x.dim() != 3))
    throw Error("BatchNorm1d: expected a 2-D {N, C} or 3-D {N, C, L} input, got " +
                (x.defined() ? shape_str(x.shape()) : std::string("undefined")));
}

void BatchNorm2d::check_input(const Tensor& x) const {
  if (!x.defined() || x.dim() != 4)
    throw Error("BatchNorm2d: expected a 4-D {N, C, H, W} input, got " +
                (x.defined() ? shape_str(x.shape()) : std::string("undefined")));
}

LayerNorm::LayerNorm(Shape shape, double eps, bool affine)
    : normalized_shape(std::move(shape)), eps(eps) {
  std::size_t n = normalized_shape.empty() ? 0 : 1;
  for (auto d : normalized_shape) n *= d;
  if (n == 0)
    throw Error("LayerNorm: normalized_shape " + shape_str(normalized_shape) +
                " must be non-empty and positive");
  if (!(eps > 0)) throw Error("LayerNorm: eps must be > 0, got " + std::to_string(eps));
  if (affine) {
    weight = register_parameter("weight", ones(normalized_shape));
    bias = register_parameter("bias", zeros(normalized_shape));
  }
}

void LayerNorm::reset_parameters() {
  if (!weight.defined()) return;
  init::ones_(weight);
  init::zeros_(bias);
}

Tensor LayerNorm::forward(const Tensor& x) {
  return functional::layer_norm(x, normalized_shape, weight, bias, eps);
}

Embedding::Embedding(std::size_t num, std::size_t dim) : num_embeddings(num), embedding_dim(dim) {
  if (num == 0 || dim == 0)
    throw Error("Embedding: num_embeddings and embedding_dim must be positive, got " +
                std::to_string(num) + " and " + std::to_string(dim));
  weight = register_parameter("weight", zeros({num, dim}));
  reset_parameters();
}

void Embedding::reset_parameters() { init::normal_(weight, 0, 1); }

Tensor Embedding::forward(const Tensor& indices) { return functional::embedding(indices, weight); }

Tensor Flatten::forward(const Tensor& x) {
  if (!x.defined()) throw Error("Flatten: input is undefined");
  const auto rank = static_cast<std::ptrdiff_t>(std::max<std::size_t>(x.dim(), 1));
  const std::ptrdiff_t start = start_axis < 0 ? start_axis + rank : start_axis;
  const std::ptrdiff_t end = end_axis < 0 ? end_axis + rank : end_axis;
  if (x.dim() == 0) return reshape(x, {1});  // PyTorch: a 0-d tensor flattens to {1}
  if (start < 0 || end >= rank || start > end)
    throw Error("Flatten(" + std::to_string(start_axis) + ", " + std::to_string(end_axis) +
                "): axes out of range for input " + shape_str(x.shape()));
  Shape out(x.shape().begin(), x.shape().begin() + start);
  std::size_t merged = 1;
  for (std::ptrdiff_t a = start; a <= end; ++a) merged *= x.shape()[static_cast<std::size_t>(a)];
  out.push_back(merged);
  out.insert(out.end(), x.shape().begin() + end + 1, x.shape().end());
  return reshape(x, out);
}

ModuleList::ModuleList(std::initializer_list<std::shared_ptr<Module>> modules) {
  for (const auto& m : modules) push_back(m);
}

void ModuleList::push_back(std::shared_ptr<Module> module) {
  register_module(std::to_string(modules_.size()), module);
  modules_.push_back(std::move(module));
}

const std::shared_ptr<Module>& ModuleList::operator[](std::size_t i) const {
  if (i >= modules_.size())
    throw Error("ModuleList: index " + std::to_string(i) + " out of range (size " +
                std::to_string(modules_.size()) + ")");
  return modules_[i];
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
