// ag: tensors, differentiable ops, the reverse-mode engine, gradient checks and graph dumps.
#pragma once

#include <autograd/conv_backend.hpp>
#include <autograd/engine.hpp>
#include <autograd/function.hpp>
#include <autograd/gradcheck.hpp>
#include <autograd/graph.hpp>
#include <autograd/higher_order.hpp>
#include <autograd/matmul_backend.hpp>
#include <autograd/ops.hpp>
#include <autograd/registry.hpp>
#include <autograd/simd.hpp>
#include <autograd/tensor.hpp>
