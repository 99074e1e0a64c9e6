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
  // Graphviz's layout direction: "LR" (left to right, micrograd's look) or "TB" (top to bottom,
  // for long chains). Tensor records stay one row of fields either way.
  std::string rankdir = "LR";
};

// Backward keeps only the gradients that leaves (.grad) and retain_grad() tensors need; every
// other interior gradient is freed as soon as its node has run. While a KeepGradsForDumpsGuard
// is alive (on the thread running backward), each node also keeps the gradient that reached it,
// so that to_dot, save_graph and chain_rule_trace can show every gradient of that backward:
//   { ag::KeepGradsForDumpsGuard keep; loss.backward(); }  ag::save_graph(loss, "g.svg");
// Without it a dump shows the values, and gradients only for leaves and retain_grad tensors.
class KeepGradsForDumpsGuard {
 public:
  explicit KeepGradsForDumpsGuard(bool on = true);
  ~KeepGradsForDumpsGuard();
  KeepGradsForDumpsGuard(const KeepGradsForDumpsGuard&) = delete;
  KeepGradsForDumpsGuard& operator=(const KeepGradsForDumpsGuard&) = delete;

 private:
  bool previous_;
};

// Deterministic: the same graph gives the same text (ids follow a walk from the root, never
// pointers). Parameters, constants, intermediates and ops are styled apart; tensors recorded
// inside an nn::Module are grouped in a cluster labelled with the module's path.
std::string to_dot(const Tensor& root, DotOptions = {});
// ".dot" writes DOT text; ".svg" and ".png" render through Graphviz's `dot` (found in PATH).
void save_graph(const Tensor& root, const std::string& path, DotOptions = {});
// After backward: each op in backward order, its local derivative rule and the numbers
// multiplied out; where a gradient arrives along several paths, the sum. Uses max_elements and
// precision of the options. Backward without retain_graph frees what some rules read; those
// steps then show their totals only.
std::string chain_rule_trace(const Tensor& root, DotOptions = {});

}  // namespace ag
