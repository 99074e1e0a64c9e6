#include <nn/init.hpp>

#include <cmath>
#include <utility>

#include <autograd/engine.hpp>

namespace ag::nn::init {

namespace {

void check_float(const char* fn, const Tensor& t) {
  if (!t.defined()) throw Error(std::string("init::") + fn + ": tensor is undefined");
  if (!is_floating(t.dtype()))
    throw Error(std::string("init::") + fn + ": needs a float32 or float64 tensor, got " +
                shape_str(t.shape()) + " " + dtype_name(t.dtype()));
}

// Writes draw() into every element through the raw pointer: no graph, one version bump.
template <class F>
Tensor fill_with(Tensor t, F draw) {
  NoGradGuard no_grad;
  const std::size_t n = t.numel();
  if (t.dtype() == float32) {
    float* p = t.data_ptr<float>();
    for (std::size_t i = 0; i < n; ++i) p[i] = static_cast<float>(draw());
  } else {
    double* p = t.data_ptr<double>();
    for (std::size_t i = 0; i < n; ++i) p[i] = draw();
  }
  t.bump_version();
  return t;
}

std::pair<double, double> fans(const char* fn, const Tensor& t) {
  if (t.dim() < 2)
    throw Error(std::string("init::") + fn + ": fan in and fan out need at least 2 dimensions, got " +
                shape_str(t.shape()));
  double receptive = 1;
  for (std::size_t i = 2; i < t.dim(); ++i) receptive *= static_cast<double>(t.shape()[i]);
  return {static_cast<double>(t.shape()[1]) * receptive, static_cast<double>(t.shape()[0]) * receptive};
}

double kaiming_std(const char* fn, const Tensor& t, double a, const std::string& mode,
                   const std::string& nonlinearity) {
  const auto [fan_in, fan_out] = fans(fn, t);
  double fan;
  if (mode == "fan_in") fan = fan_in;
  else if (mode == "fan_out") fan = fan_out;
  else throw Error(std::string("init::") + fn + ": mode must be 'fan_in' or 'fan_out', got '" + mode + "'");
  if (fan == 0) throw Error(std::string("init::") + fn + ": zero-element tensor " + shape_str(t.shape()));
  return calculate_gain(nonlinearity, a) / std::sqrt(fan);
}

}  // namespace

double calculate_gain(const std::string& nonlinearity, double param) {
  if (nonlinearity == "linear" || nonlinearity == "sigmoid" || nonlinearity == "identity") return 1;
  if (nonlinearity == "tanh") return 5.0 / 3.0;
  if (nonlinearity == "relu") return std::sqrt(2.0);
  if (nonlinearity == "leaky_relu") return std::sqrt(2.0 / (1 + param * param));
  if (nonlinearity == "selu") return 3.0 / 4.0;
  throw Error("init::calculate_gain: unknown nonlinearity '" + nonlinearity +
              "' (linear, sigmoid, tanh, relu, leaky_relu, selu)");
}

Tensor uniform_(Tensor t, double low, double high) {
  check_float("uniform_", t);
  if (!(low <= high))
    throw Error("init::uniform_: low " + std::to_string(low) + " > high " + std::to_string(high));
  return fill_with(std::move(t), [&] { return low + (high - low) * random_uniform(); });
}

Tensor normal_(Tensor t, double mean, double std) {
  check_float("normal_", t);
  if (!(std >= 0)) throw Error("init::normal_: std must be >= 0, got " + std::to_string(std));
  return fill_with(std::move(t), [&] { return mean + std * random_normal(); });
}

Tensor constant_(Tensor t, double value) {
  if (!t.defined()) throw Error("init::constant_: tensor is undefined");
  NoGradGuard no_grad;
  t.fill_(value);
  return t;
}

Tensor zeros_(Tensor t) { return constant_(std::move(t), 0); }
Tensor ones_(Tensor t) { return constant_(std::move(t), 1); }

Tensor xavier_uniform_(Tensor t, double gain) {
  check_float("xavier_uniform_", t);
  const auto [fan_in, fan_out] = fans("xavier_uniform_", t);
  const double bound = gain * std::sqrt(6.0 / (fan_in + fan_out));
  return uniform_(std::move(t), -bound, bound);
}

Tensor xavier_normal_(Tensor t, double gain) {
  check_float("xavier_normal_", t);
  const auto [fan_in, fan_out] = fans("xavier_normal_", t);
  return normal_(std::move(t), 0, gain * std::sqrt(2.0 / (fan_in + fan_out)));
}

Tensor kaiming_uniform_(Tensor t, double a, const std::string& mode, const std::string& nonlinearity) {
  check_float("kaiming_uniform_", t);
  const double bound = std::sqrt(3.0) * kaiming_std("kaiming_uniform_", t, a, mode, nonlinearity);
  return uniform_(std::move(t), -bound, bound);
}

Tensor kaiming_normal_(Tensor t, double a, const std::string& mode, const std::string& nonlinearity) {
  check_float("kaiming_normal_", t);
  const double std = kaiming_std("kaiming_normal_", t, a, mode, nonlinearity);
  return normal_(std::move(t), 0, std);
}

}  // namespace ag::nn::init
