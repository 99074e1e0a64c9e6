// Graph dumps for teaching: Graphviz DOT with values and gradients, and the chain rule traced
// step by step with its numbers.
#pragma once

#include <string>

#include <autograd/tensor.hpp>

namespace ag {

struct DotOptions {
  bool values = true;
  bool grads = true;
  std::size_t max_elements = 6;  // beyond this a tensor is summarised (shape, min/max/norm)
};

std::string to_dot(const Tensor& root, DotOptions = {});
// ".dot" writes DOT text; ".svg" and ".png" render through Graphviz's `dot`.
void save_graph(const Tensor& root, const std::string& path, DotOptions = {});
// After backward: each op in backward order, its local derivative rule and the numbers.
std::string chain_rule_trace(const Tensor& root);

}  // namespace ag
