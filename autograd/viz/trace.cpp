// chain_rule_trace: the steps of viz/steps.cpp as text, one "= ..." line per stage of a number.
#include <algorithm>
#include <autograd/detail/impl.hpp>
#include <autograd/graph.hpp>
#include <autograd/viz/collect.hpp>
#include <autograd/viz/format.hpp>
#include <autograd/viz/steps.hpp>
#include <sstream>

namespace ag {
namespace {

using namespace viz;

void print_lines(std::ostream& out, const std::string& pad, const std::vector<std::string>& lines) {
  for (const std::string& line : lines) out << pad << "= " << line << "\n";
}

void print_sum(std::ostream& out, const PathSum& s, const std::string& indent) {
  out << indent << s.lhs << " arrives along " << s.paths << " paths, so they add up:\n";
  out << indent << "  " << s.lhs << " = " << s.terms << "\n";
  print_lines(out, std::string(indent.size() + 2 + s.lhs.size() + 1, ' '), s.lines);
}

void print_forward(std::ostream& out, const Graph& g, const DotOptions& o) {
  out << "\nForward pass (the leaves, then each op in the order it ran)\n";
  std::vector<std::size_t> leaves;  // in the order the forward pass first used them
  for (std::size_t oi : g.forward)
    for (std::ptrdiff_t ti : g.ops[oi].in)
      if (ti >= 0 && !g.tensors[ti].producer &&
          std::find(leaves.begin(), leaves.end(), static_cast<std::size_t>(ti)) == leaves.end())
        leaves.push_back(static_cast<std::size_t>(ti));
  for (std::size_t ti : leaves) {
    const TensorVertex& v = g.tensors[ti];
    out << "  " << v.label << " = " << inline_text(value_of(g, ti), o) << "   ("
        << (v.kind == Kind::Parameter ? "parameter" : "constant") << ", " << shape_text(v.t.shape())
        << " " << dtype_name(v.t.dtype()) << ")\n";
  }
  for (std::size_t oi : g.forward)
    out << "  " << expression_of(g, oi, o.precision) << " = "
        << inline_text(value_of(g, g.ops[oi].out), o) << "\n";
}

void print_step(std::ostream& out, const Graph& g, const OpStep& s) {
  out << "\n";
  for (const PathSum& sum : s.sum) {
    print_sum(out, sum, "  ");
    out << "\n";
  }
  if (!s.reached) {
    out << "  " << s.expression << ": no gradient reached this op (it does not lead to "
        << g.tensors[0].label << ")\n";
    return;
  }
  out << "  " << s.expression << "\n";
  if (!s.local_rule.empty())
    out << "    local derivative: " << s.local_rule << "\n";
  else if (!s.words.empty())
    out << "    local derivative: " << s.words << "\n";
  for (const InputStep& in : s.inputs) {
    out << "    " << in.lhs << " = " << in.formula << "\n";
    const std::string pad(4 + in.lhs.size() + 1, ' ');
    if (!in.missing.empty())
      out << pad << "(numbers not recomputed: " << in.missing << ")\n";
    else
      print_lines(out, pad, in.lines);
  }
}

void print_leaves(std::ostream& out, const Graph& g, const Steps& steps, const DotOptions& o) {
  out << "\nGradients of the parameters (what backward accumulates in .grad)\n";
  if (steps.leaves.empty()) out << "  (none: no leaf of the graph requires grad)\n";
  for (const LeafTotal& t : steps.leaves) {
    if (!t.sum.empty())
      print_sum(out, t.sum[0], "  ");
    else
      out << "  " << d_of(g, t.tensor) << " = " << inline_text(t.total, o) << "\n";
    if (!t.accumulated.empty())
      out << "    (" << g.tensors[t.tensor].label << ".grad holds " << t.accumulated
          << ": it also accumulated earlier backward calls; zero_grad() clears it)\n";
  }
}

}  // namespace

std::string chain_rule_trace(const Tensor& root, DotOptions options) {
  const Graph g = collect(root, "chain_rule_trace");
  require_kept_grads(g, root, "chain_rule_trace");
  const std::string& L = g.tensors[0].label;
  std::ostringstream out;
  out << "Chain rule for " << L << ", step by step\n"
      << "  d" << diff_symbol(L) << "/dv is the gradient of " << L
      << " with respect to v; @ is a matrix product, ^T a transpose.\n";
  if (g.ops.empty()) {
    out << "  " << L << " is a leaf: no op to differentiate; " << d_of(g, 0) << " = 1.\n";
    return out.str();
  }
  print_forward(out, g, options);
  out << "\nBackward pass (each op in the engine's order: its local derivative, then the "
         "numbers)\n"
      << "  " << d_of(g, 0) << " = " << inline_text(stored_grad(g, 0), options)
      << "   (the seed: backward starts here)\n";
  const Steps steps = backward_steps(g, options);
  for (const OpStep& s : steps.ops) print_step(out, g, s);
  print_leaves(out, g, steps, options);
  return out.str();
}

}  // namespace ag
