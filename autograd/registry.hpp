// The op registry: one entry per differentiable primitive, in one table (autograd/registry.cpp).
// Tests walk it, so a new op cannot skip gradcheck.
#pragma once

#include <vector>

#include <autograd/export.hpp>

AG_API_BEGIN
namespace ag {

struct Node;
class Tensor;

// Fills grad_in[i] with dL/d(input i) given dL/d(output). Written with ag ops, so that a
// backward run with create_graph records it and gradients of gradients come for free.
using BackwardFn = void (*)(const Node& node, const Tensor& grad_out, Tensor* grad_in);

struct OpInfo {
  const char* name;
  BackwardFn backward;       // nullptr: not differentiable (argmax, step's zero is explicit)
  const char* rule;          // the local derivative in words, for traces: "dx = dy * y * (1 - y)"
  bool saves_inputs;         // backward reads the inputs' values (guarded by version counters)
  bool saves_result;         // backward reads the output's value
  bool smooth;               // twice differentiable where tests sample: gets gradgradcheck
};

const std::vector<const OpInfo*>& op_registry();
const OpInfo* find_op(const char* name);

}  // namespace ag
AG_API_END
