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
  int precision = 4;             // significant digits of the numbers shown
  // Graphviz's layout direction: empty (the default) chooses from the graph's shape, so that a
  // long chain runs top to bottom and a wide, shallow graph left to right; "LR", "RL", "TB" or
  // "BT" forces one. Tensor records stay one row of fields either way.
  std::string rankdir;
};

// Deterministic: the same graph gives the same text (ids follow a walk from the root, never
// pointers). Parameters, constants, intermediates and ops are styled apart; tensors recorded
// inside an nn::Module are grouped in a cluster labelled with the module's path.
std::string to_dot(const Tensor& root, DotOptions = {});
// ".dot" writes DOT text; ".svg" and ".png" render through Graphviz's `dot` (found in PATH).
void save_graph(const Tensor& root, const std::string& path, DotOptions = {});
// After backward: each op in the order the engine ran it, its local derivative rule and the numbers
// multiplied out; where a gradient arrives along several paths, the sum. Uses max_elements and
// precision of the options. Backward without retain_graph frees what some rules read; those
// steps then show their totals only.
std::string chain_rule_trace(const Tensor& root, DotOptions = {});
// After backward: one self-contained HTML page (inline SVG laid out by Graphviz now, inline CSS
// and script, no request to any file or host) that steps through the backward pass one node at
// a time in the engine's order: the gradient arriving, the local rule in the tensors' names, the
// numbers (those of chain_rule_trace) and the gradients appearing on the inputs. Controls:
// first / previous / next / last, play with a speed, the arrow keys; backward.html#step=7 opens
// step 7. Needs Graphviz's `dot` in PATH.
void save_backward_html(const Tensor& root, const std::string& path, DotOptions = {});

}  // namespace ag
