#include <algorithm>
#include <autograd/detail/impl.hpp>
#include <autograd/engine.hpp>
#include <autograd/ops.hpp>
#include <autograd/viz/format.hpp>
#include <autograd/viz/notation.hpp>
#include <autograd/viz/steps.hpp>
#include <cmath>

namespace ag::viz {
namespace {

const std::string& label(const Graph& g, std::ptrdiff_t ti) {
  static const std::string none = "(none)";
  return ti < 0 ? none : g.tensors[static_cast<std::size_t>(ti)].label;
}

Fill names_of(const Graph& g, const OpVertex& o, const std::string& dy, int precision) {
  Fill f;
  for (std::ptrdiff_t ti : o.in) f.inputs.push_back(label(g, ti));
  f.output = label(g, static_cast<std::ptrdiff_t>(o.out));
  f.dy = dy;
  f.attributes = attribute_texts(o, precision);
  return f;
}

// The same with the numbers; nullopt-like `ok = false` when one of them is too big to show.
Fill values_of(const Graph& g, const OpVertex& o, const DotOptions& opt, bool& ok) {
  Fill f = names_of(g, o, "", opt.precision);
  auto text = [&](const Tensor& t) {
    if (!t.defined() || !small(t, opt)) {
      ok = false;
      return std::string("?");
    }
    return values_text(t, opt.precision);
  };
  for (std::size_t k = 0; k < o.in.size(); ++k)
    f.inputs[k] = o.in[k] < 0 ? "?" : text(value_of(g, static_cast<std::size_t>(o.in[k])));
  f.output = text(value_of(g, o.out));
  f.dy = text(op_grad(o));
  return f;
}

double max_abs_diff(const Tensor& a, const Tensor& b) {
  const auto x = a.to_vector(), y = b.to_vector();
  double m = 0;
  for (std::size_t i = 0; i < x.size(); ++i) m = std::max(m, std::fabs(x[i] - y[i]));
  return m;
}

double max_abs(const Tensor& a) {
  double m = 0;
  for (double x : a.to_vector()) m = std::max(m, std::fabs(x));
  return m;
}

bool close(const Tensor& a, const Tensor& b) {
  if (!a.defined() || !b.defined() || a.shape() != b.shape()) return false;
  const double tol = a.dtype() == float32 || b.dtype() == float32 ? 1e-4 : 1e-9;
  return max_abs_diff(a, b) <= tol * std::max(1.0, std::max(max_abs(a), max_abs(b)));
}

// Runs the op's backward rule again, under no-grad, with `grad_out` as the incoming gradient.
bool rerun(const OpVertex& o, const Tensor& grad_out, std::vector<Tensor>& grad_in,
           std::string& why) {
  const Node& n = *o.node;
  grad_in.assign(n.inputs.size(), Tensor());
  if (!n.op || !n.op->backward) {
    why = "the op is not differentiable";
    return false;
  }
  NoGradGuard no_grad;
  try {
    n.op->backward(n, grad_out, grad_in.data());
    return true;
  } catch (const Error& e) {
    why = n.released ? "backward freed what this rule reads; run backward under "
                       "KeepGradsForDumpsGuard (or with retain_graph=true) to keep it"
                     : e.what();
    return false;
  }
}

// The numbers of one input's contribution: multiplied out, then summed over broadcast axes.
void number_lines(const Graph& g, const OpVertex& o, InputStep& s, const Tensor& raw,
                  const Tensor& local, const std::string& pattern, const DotOptions& opt) {
  const Tensor incoming = op_grad(o);
  bool shown = false;
  if (local.defined() && raw.defined() && small(raw, opt) && small(incoming, opt)) {
    // dL/dx = dL/dy * local, element by element; checked before it is shown.
    NoGradGuard no_grad;
    if (close(mul(incoming, local), raw)) {
      if (!close(local, ones_like(local)))  // add: nothing to multiply out
        s.lines.push_back(values_text(incoming, opt.precision) + " * " +
                          values_text(local, opt.precision));
      shown = true;
    }
  }
  if (!shown && !pattern.empty()) {
    bool ok = true;
    const std::string numbers = fill(pattern, values_of(g, o, opt, ok));
    if (ok && numbers.size() <= 160) s.lines.push_back(numbers);
  }
  if (raw.defined() && raw.shape() != s.value.shape())
    s.lines.push_back(inline_text(raw, opt) + "   (before summing over the broadcast axes)");
  s.lines.push_back(inline_text(s.value, opt));
}

std::vector<InputStep> input_steps(const Graph& g, const OpVertex& o, const DotOptions& opt) {
  std::vector<Tensor> grads, local;
  std::string why, why_local;
  const Tensor incoming = op_grad(o);
  const bool have = rerun(o, incoming, grads, why);
  // For elementwise ops, the local factor is the rule applied to an incoming gradient of 1.
  const OpInfo* info = info_of(o);
  const bool have_local =
      have && info && info->elementwise && rerun(o, ones_like(incoming), local, why_local);
  const std::vector<std::string> patterns = grad_patterns(o);
  const Fill names = names_of(g, o, d_of(g, o.out), opt.precision);
  std::vector<InputStep> out;
  for (std::size_t i = 0; i < o.in.size(); ++i) {
    if (o.in[i] < 0 || !o.node->needs_grad(i)) continue;
    InputStep s;
    s.slot = i;
    s.tensor = static_cast<std::size_t>(o.in[i]);
    s.lhs = d_of(g, s.tensor);
    const std::string pattern = i < patterns.size() ? patterns[i] : "";
    s.formula = pattern.empty() ? "(rule of " + o.name + ") applied to " + d_of(g, o.out)
                                : fill(pattern, names);
    if (!have) {
      s.missing = why;
    } else {
      NoGradGuard no_grad;
      if (grads[i].defined())
        s.value = sum_to_shape(grads[i], g.tensors[s.tensor].t.shape(), o.name.c_str());
      number_lines(g, o, s, grads[i], have_local ? local[i] : Tensor(), pattern, opt);
    }
    out.push_back(std::move(s));
  }
  return out;
}

struct Contribution {
  std::size_t op, slot;
  Tensor value;  // undefined when the numbers could not be recomputed
};

// The sum of the gradients a tensor received along several paths; its total is the engine's
// stored one where a path's numbers could not be recomputed.
PathSum path_sum(const Graph& g, std::size_t ti, const std::vector<Contribution>& cs,
                 const DotOptions& opt) {
  PathSum s;
  s.tensor = ti;
  s.paths = cs.size();
  s.lhs = d_of(g, ti);
  std::string nums;
  bool all = true, nums_ok = true;
  for (std::size_t k = 0; k < cs.size(); ++k) {
    std::size_t same_op = 0;
    for (const Contribution& other : cs) same_op += other.op == cs[k].op;
    std::string via = g.ops[cs[k].op].label;
    if (same_op > 1) via += ", input " + std::to_string(cs[k].slot + 1);
    s.terms += (k ? " + " : "") + s.lhs + " (via " + via + ")";
    if (!cs[k].value.defined()) {
      all = false;
      continue;
    }
    nums_ok = nums_ok && small(cs[k].value, opt);
    nums += (k ? " + " : "") + values_text(cs[k].value, opt.precision);
    NoGradGuard no_grad;
    s.total = s.total.defined() ? add(s.total, cs[k].value) : cs[k].value;
  }
  if (!all) s.total = stored_grad(g, ti);
  if (all && nums_ok) s.lines.push_back(nums);
  if (s.total.defined()) s.lines.push_back(inline_text(s.total, opt));
  return s;
}

std::string local_rule(const Graph& g, const OpVertex& o, int precision) {
  const std::vector<std::string> patterns = grad_patterns(o);
  const Fill names = names_of(g, o, "d" + diff_symbol(g.tensors[o.out].label), precision);
  std::string rule;
  for (std::size_t i = 0; i < patterns.size() && i < o.in.size(); ++i) {
    if (o.in[i] < 0 || !o.node->needs_grad(i)) continue;  // constants get no gradient
    rule += (rule.empty() ? "" : "; ") + std::string("d") + diff_symbol(label(g, o.in[i])) + " = " +
            fill(patterns[i], names);
  }
  return rule;
}

LeafTotal leaf_total(const Graph& g, std::size_t ti, const std::vector<Contribution>& cs,
                     const DotOptions& opt) {
  LeafTotal t;
  t.tensor = ti;
  if (cs.size() >= 2) {
    t.sum.push_back(path_sum(g, ti, cs, opt));
    t.total = t.sum[0].total;
  } else {
    t.total = cs.empty() || !cs[0].value.defined() ? stored_grad(g, ti) : cs[0].value;
  }
  // .grad accumulates over backward calls; the steps show the last one.
  const Tensor stored = stored_grad(g, ti);
  if (t.total.defined() && stored.defined() && !close(t.total, stored))
    t.accumulated = inline_text(stored, opt);
  return t;
}

}  // namespace

std::string d_of(const Graph& g, std::size_t ti) {
  return "d" + diff_symbol(g.tensors[0].label) + "/d" + diff_symbol(g.tensors[ti].label);
}

std::string expression_of(const Graph& g, std::size_t oi, int precision) {
  const OpVertex& o = g.ops[oi];
  std::string e = fill(forward_pattern(o), names_of(g, o, "dy", precision));
  const std::size_t minus = e.find(" + -");
  if (minus != std::string::npos) e.replace(minus, 4, " - ");
  if (o.index >= 0 && !e.empty() && e.back() == ')')  // the indices it reads: gather(x, labels)
    e.insert(e.size() - 1, ", " + label(g, o.index));
  return g.tensors[o.out].label + " = " + e;
}

Steps backward_steps(const Graph& g, const DotOptions& opt) {
  Steps steps;
  std::vector<std::vector<Contribution>> contributions(g.tensors.size());
  for (std::size_t oi : g.backward) {
    const OpVertex& o = g.ops[oi];
    OpStep s;
    s.op = oi;
    s.expression = expression_of(g, oi, opt.precision);
    s.local_rule = local_rule(g, o, opt.precision);
    s.words = info_of(o) && info_of(o)->rule ? info_of(o)->rule : "";
    if (contributions[o.out].size() > 1)
      s.sum.push_back(path_sum(g, o.out, contributions[o.out], opt));
    s.incoming = op_grad(o);
    s.reached = s.incoming.defined();
    if (s.reached) s.inputs = input_steps(g, o, opt);
    for (const InputStep& in : s.inputs)
      contributions[in.tensor].push_back({oi, in.slot, in.value});
    steps.ops.push_back(std::move(s));
  }
  std::vector<bool> seen(g.tensors.size(), false);
  for (std::size_t oi : g.forward)
    for (std::ptrdiff_t ti : g.ops[oi].in)
      if (ti >= 0 && g.tensors[ti].kind == Kind::Parameter && !seen[ti]) {
        seen[ti] = true;
        steps.leaves.push_back(leaf_total(g, static_cast<std::size_t>(ti), contributions[ti], opt));
      }
  return steps;
}

}  // namespace ag::viz
