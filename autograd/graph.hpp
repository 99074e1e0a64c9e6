// Graph dumps for teaching: Graphviz DOT with values and gradients, and the chain rule traced
// step by step with its numbers.
#pragma once

#include <string>

#include <autograd/export.hpp>
#include <autograd/tensor.hpp>

AG_API_BEGIN
namespace ag {

/// What a graph dump shows.
struct DotOptions {
  bool values = true;  ///< each tensor's values
  bool grads = true;   ///< each tensor's gradient, where backward kept it
  std::size_t max_elements = 6;  ///< beyond this a tensor is summarised (shape, min/max/norm)
  int precision = 4;             ///< significant digits of the numbers shown
  /// Graphviz's layout direction: empty (the default) chooses from the graph's shape, so that a
  /// long chain runs top to bottom and a wide, shallow graph left to right; "LR", "RL", "TB" or
  /// "BT" forces one. Tensor records stay one row of fields either way.
  std::string rankdir;
};

/// Backward keeps only the gradients that leaves (.grad) and retain_grad() tensors need; every
/// other interior gradient is freed as soon as its node has run. While a KeepGradsForDumpsGuard
/// is alive (on the thread running backward), each node also keeps the gradient that reached it,
/// and what its backward rule reads (gathered indices, a custom function's saved tensors), so
/// that to_dot, save_graph, chain_rule_trace and save_backward_html can show every gradient of
/// that backward, and every step with its numbers:
///   { ag::KeepGradsForDumpsGuard keep; loss.backward(); }  ag::save_graph(loss, "g.svg");
/// Without it a dump shows the values, and gradients only for leaves and retain_grad tensors.
class KeepGradsForDumpsGuard {
 public:
  explicit KeepGradsForDumpsGuard(bool on = true);  ///< on = false turns keeping off inside
  ~KeepGradsForDumpsGuard();
  KeepGradsForDumpsGuard(const KeepGradsForDumpsGuard&) = delete;
  KeepGradsForDumpsGuard& operator=(const KeepGradsForDumpsGuard&) = delete;

 private:
  bool previous_;
};

/// Deterministic: the same graph gives the same text (ids follow a walk from the root, never
/// pointers). Parameters, constants, intermediates and ops are styled apart; tensors recorded
/// inside an nn::Module are grouped in a cluster labelled with the module's path.
std::string to_dot(const Tensor& root, DotOptions = {});
/// ".dot" writes DOT text; ".svg" and ".png" render through Graphviz's `dot` (found in PATH).
void save_graph(const Tensor& root, const std::string& path, DotOptions = {});
/// After backward: each op in the order the engine ran it, its local derivative rule in the
/// tensors' own names and the numbers multiplied out; where a gradient arrives along several
/// paths, the sum. Uses max_elements and precision of the options. Run backward inside a
/// KeepGradsForDumpsGuard, which keeps every interior gradient and what the rules read; without
/// it the gradients are gone and this throws ag::Error saying so.
std::string chain_rule_trace(const Tensor& root, DotOptions = {});
/// After backward: one self-contained HTML page (inline SVG laid out by Graphviz now, inline CSS
/// and script, no request to any file or host) that steps through the backward pass one node at
/// a time in the engine's order: the gradient arriving, the local rule in the tensors' names, the
/// numbers (those of chain_rule_trace) and the gradients appearing on the inputs. Controls:
/// first / previous / next / last, play with a speed, the arrow keys; backward.html#step=7 opens
/// step 7. Needs Graphviz's `dot` in PATH, and backward run inside a KeepGradsForDumpsGuard.
void save_backward_html(const Tensor& root, const std::string& path, DotOptions = {});

}  // namespace ag
AG_API_END
