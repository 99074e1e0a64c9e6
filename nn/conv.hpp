// Convolution and pooling layers (NCHW), as torch.nn.Conv2d, MaxPool2d and AvgPool2d, and
// their functional forms.
#pragma once

#include <cstddef>
#include <string>

#include <autograd/export.hpp>
#include <autograd/ops.hpp>
#include <nn/module.hpp>

AG_API_BEGIN
namespace ag::nn {

/// Conv2d(in, out, kernel, Conv2dOptions{stride, padding, dilation, bias, groups}); each extent
/// is a Size2: one number for both axes, or {h, w}.
struct Conv2dOptions {
  Size2 stride = 1;        ///< step of the window
  Size2 padding = 0;       ///< zeros added on each side
  Size2 dilation = 1;      ///< spacing of the kernel's taps
  bool bias = true;        ///< whether the layer has a bias
  std::size_t groups = 1;  ///< channel groups (in and out must be multiples of it)
};

/// y = conv2d(x, W, b), weight {out, in / groups, kh, kw}, bias {out}. LibTorch's default init:
/// weight ~ kaiming_uniform(a = sqrt(5)), i.e. U(+-1/sqrt(fan_in)), bias ~ U(+-1/sqrt(fan_in)),
/// fan_in = in / groups * kh * kw.
class Conv2d : public Module {
 public:
  /// Input {N, in_channels, H, W} (or {in_channels, H, W}) to out_channels; LibTorch's init.
  Conv2d(std::size_t in_channels, std::size_t out_channels, Size2 kernel_size,
         Conv2dOptions options = {});
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "Conv2d"; }
  void reset_parameters();  ///< draws weight and bias again with the default init

  std::size_t in_channels;   ///< C of the input
  std::size_t out_channels;  ///< C of the output
  Size2 kernel_size;         ///< {kh, kw}
  Conv2dOptions options;     ///< stride, padding, dilation, bias, groups
  Tensor weight;             ///< {out, in / groups, kh, kw}
  Tensor bias;               ///< {out}; undefined with options.bias = false
};

/// Windows of kernel_size; the stride defaults to the kernel size, as in PyTorch.
class MaxPool2d : public Module {
 public:
  /// step 0: stride = window.
  explicit MaxPool2d(Size2 window, Size2 step = 0, Size2 pad = 0)
      : kernel_size(window), stride(step), padding(pad) {}
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "MaxPool2d"; }
  Size2 kernel_size;  ///< the window
  Size2 stride;       ///< the window's step (0: kernel_size)
  Size2 padding;      ///< padding on each side (at most half the window; never picked)
};

/// Padding counts in each window's divisor (PyTorch's count_include_pad = true).
class AvgPool2d : public Module {
 public:
  /// step 0: stride = window.
  explicit AvgPool2d(Size2 window, Size2 step = 0, Size2 pad = 0)
      : kernel_size(window), stride(step), padding(pad) {}
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "AvgPool2d"; }
  Size2 kernel_size;  ///< the window
  Size2 stride;       ///< the window's step (0: kernel_size)
  Size2 padding;      ///< zero padding on each side (at most half the window)
};

namespace functional {
/// ag::conv2d under torch.nn.functional's name.
Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor(), Size2 stride = 1,
              Size2 padding = 0, Size2 dilation = 1, std::size_t groups = 1);
/// ag::max_pool2d under torch.nn.functional's name.
Tensor max_pool2d(const Tensor& x, Size2 kernel_size, Size2 stride = 0, Size2 padding = 0);
/// ag::avg_pool2d under torch.nn.functional's name.
Tensor avg_pool2d(const Tensor& x, Size2 kernel_size, Size2 stride = 0, Size2 padding = 0);
}  // namespace functional

}  // namespace ag::nn
AG_API_END
