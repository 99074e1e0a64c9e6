#include <nn/conv.hpp>

#include <cmath>

#include <nn/init.hpp>

namespace ag::nn {
namespace {
std::string extent(Size2 s) { return "{" + std::to_string(s.h) + ", " + std::to_string(s.w) + "}"; }
}  // namespace

Conv2d::Conv2d(std::size_t in, std::size_t out, Size2 kernel, Conv2dOptions opts)
    : in_channels(in), out_channels(out), kernel_size(kernel), options(opts) {
  const std::size_t g = opts.groups;
  if (in == 0 || out == 0 || kernel.h == 0 || kernel.w == 0 || g == 0 || in % g || out % g)
    throw Error("Conv2d(" + std::to_string(in) + ", " + std::to_string(out) + ", " + extent(kernel) +
                ", groups " + std::to_string(g) +
                "): channels and kernel must be positive, and both channel counts divisible by groups");
  weight = register_parameter("weight", zeros({out, in / g, kernel.h, kernel.w}));
  if (opts.bias) bias = register_parameter("bias", zeros({out}));
  reset_parameters();
}

void Conv2d::reset_parameters() {
  init::kaiming_uniform_(weight, std::sqrt(5.0));  // fan_in = in / groups * kh * kw
  if (bias.defined()) {
    double fan_in = static_cast<double>(weight.numel() / out_channels);
    init::uniform_(bias, -1.0 / std::sqrt(fan_in), 1.0 / std::sqrt(fan_in));
  }
}

Tensor Conv2d::forward(const Tensor& x) {
  if (!x.defined() || (x.dim() != 4 && x.dim() != 3) || x.shape()[x.dim() - 3] != in_channels)
    throw Error("Conv2d(" + std::to_string(in_channels) + ", " + std::to_string(out_channels) + ", " +
                extent(kernel_size) + "): input " +
                (x.defined() ? shape_str(x.shape()) : std::string("undefined")) +
                " must be {N, " + std::to_string(in_channels) + ", H, W} or {" +
                std::to_string(in_channels) + ", H, W}");
  return functional::conv2d(x, weight, bias, options.stride, options.padding, options.dilation,
                            options.groups);
}

Tensor MaxPool2d::forward(const Tensor& x) { return functional::max_pool2d(x, kernel_size, stride, padding); }
Tensor AvgPool2d::forward(const Tensor& x) { return functional::avg_pool2d(x, kernel_size, stride, padding); }

namespace functional {
Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, Size2 stride, Size2 padding,
              Size2 dilation, std::size_t groups) {
  return ag::conv2d(x, weight, bias, stride, padding, dilation, groups);
}
Tensor max_pool2d(const Tensor& x, Size2 kernel_size, Size2 stride, Size2 padding) {
  return ag::max_pool2d(x, kernel_size, stride, padding);
}
Tensor avg_pool2d(const Tensor& x, Size2 kernel_size, Size2 stride, Size2 padding) {
  return ag::avg_pool2d(x, kernel_size, stride, padding);
}
}  // namespace functional

}  // namespace ag::nn
