// Which kernels run float32 convolutions (conv2d and its two gradients). "dnnl": oneDNN's
// direct convolutions (AVX-512 where the CPU has it), in builds that found libdnnl at configure
// time (AG_WITH_DNNL, on by default); "im2col": im2col + OpenBLAS GEMM, always built. float64
// always runs im2col. The two agree within float32 rounding.
#pragma once

#include <string>
#include <vector>

#include <autograd/export.hpp>

AG_API_BEGIN
namespace ag {

/// The float32 convolution kernels in use: "dnnl" (the default where built) or "im2col".
std::string conv_backend();

/// The backends this build carries, default first.
std::vector<std::string> conv_backends_available();

/// Chooses the float32 convolution kernels for the whole process; throws ag::Error naming the
/// backends of this build when `name` is not one of them.
void set_conv_backend(const std::string& name);

}  // namespace ag
AG_API_END
