// Internal: float32 convolution on oneDNN (conv_dnnl.cpp). Each call returns false, having done
// nothing, when the build has no oneDNN, set_conv_backend chose "im2col", or oneDNN has no
// primitive for the geometry; conv.cpp then runs its im2col path. Plain NCHW / OIHW buffers.
#pragma once

#include <autograd/kernels/kernels.hpp>

namespace ag::kernels::dnnl_conv {

bool forward(const float* x, const float* w, const float* b, const ConvGeom& g,
             float* y);  // b may be null
bool input_grad(const float* dy, const float* w, const ConvGeom& g, float* dx);
bool weight_grad(const float* x, const float* dy, const ConvGeom& g, float* dw);

}  // namespace ag::kernels::dnnl_conv
