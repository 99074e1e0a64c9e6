// Initialisers, as in torch.nn.init. Each fills its tensor in place (no graph is recorded, the
// version counter is bumped) from the global generator, and returns it.
// Fans follow PyTorch: for a weight {out, in, k...}, fan_in = in * k..., fan_out = out * k....
#pragma once

#include <string>

#include <autograd/export.hpp>
#include <autograd/tensor.hpp>

AG_API_BEGIN
namespace ag::nn::init {

// The recommended gain for a nonlinearity: "linear", "sigmoid", "tanh", "relu", "leaky_relu"
// (param = negative slope, default 0.01), "selu".
double calculate_gain(const std::string& nonlinearity, double param = 0.01);

Tensor uniform_(Tensor t, double low = 0, double high = 1);
Tensor normal_(Tensor t, double mean = 0, double std = 1);
Tensor constant_(Tensor t, double value);
Tensor zeros_(Tensor t);
Tensor ones_(Tensor t);
Tensor xavier_uniform_(Tensor t, double gain = 1);
Tensor xavier_normal_(Tensor t, double gain = 1);
// mode: "fan_in" or "fan_out"; a: the negative slope used when nonlinearity is "leaky_relu".
Tensor kaiming_uniform_(Tensor t, double a = 0, const std::string& mode = "fan_in",
                        const std::string& nonlinearity = "leaky_relu");
Tensor kaiming_normal_(Tensor t, double a = 0, const std::string& mode = "fan_in",
                       const std::string& nonlinearity = "leaky_relu");

}  // namespace ag::nn::init
AG_API_END
