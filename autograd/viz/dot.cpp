// to_dot: a record per tensor { name | shape dtype | value | grad } and an ellipse per op, as
// micrograd's draw_dot, with modules as clusters.
#include <algorithm>
#include <autograd/viz/dot.hpp>
#include <autograd/viz/format.hpp>
#include <autograd/viz/notation.hpp>
#include <cmath>
#include <sstream>
#include <unordered_map>

namespace ag::viz {
namespace {

std::string value_field(const Graph& g, std::size_t ti, const DotOptions& o) {
  const Tensor val = value_of(g, ti);
  if (!val.defined()) return "value (freed)";
  return "value " +
         (small(val, o) ? values_text(val, o.precision, "\n") : summary_text(val, o.precision));
}

std::string grad_field(const Graph& g, std::size_t ti, const DotOptions& o) {
  if (g.tensors[ti].kind == Kind::Constant) return "no grad (constant)";
  const Tensor gr = stored_grad(g, ti);
  if (!gr.defined()) return "grad none";
  return "grad " +
         (small(gr, o) ? values_text(gr, o.precision, "\n") : summary_text(gr, o.precision));
}

std::string tensor_record(const Graph& g, std::size_t ti, const DotOptions& o, bool across) {
  const TensorVertex& v = g.tensors[ti];
  std::vector<std::string> fields{v.label, shape_text(v.t.shape()) + " " + dtype_name(v.t.dtype())};
  if (o.values) fields.push_back(value_field(g, ti, o));
  if (o.grads) fields.push_back(grad_field(g, ti, o));
  std::string label = across ? "{ " : "";
  for (std::size_t i = 0; i < fields.size(); ++i)
    label += (i ? " | " : "") + record_escape(fields[i]);
  label += across ? " }" : "";
  std::string style, fill;
  switch (v.kind) {
    case Kind::Parameter:
      style = "filled";
      fill = "#cfe2ff";
      break;
    case Kind::Constant:
      style = "filled,dashed";
      fill = "#eeeeee";
      break;
    case Kind::Intermediate:
      style = "filled";
      fill = "#ffffff";
      break;
  }
  if (ti == 0) {
    style += ",bold";
    fill = "#ffe8a3";
  }
  return "t" + std::to_string(ti) + " [shape=record, style=\"" + style + "\", fillcolor=\"" + fill +
         "\", label=\"" + label + "\"];";
}

std::string op_node(const Graph& g, std::size_t oi, const DotOptions& o) {
  const OpVertex& op = g.ops[oi];
  std::string name = op.name;
  const bool custom =
      info_of(op) && info_of(op)->rule && std::string(info_of(op)->rule) == "custom backward";
  if (custom) name += "\ncustom backward";
  const std::string attribute = attribute_line(op, o.precision);
  if (!attribute.empty()) name += "\n" + attribute;
  return "op" + std::to_string(oi) + " [shape=ellipse, style=filled, fillcolor=\"" +
         (custom ? "#f3d9fa" : "#d8f0d8") + "\", label=\"" + quote_escape(name) + "\"];";
}

// Clusters: an op and its output go in the scope the op was recorded in; a parameter goes in
// its consumers' scope when they all share one (a layer's weight and bias sit in the layer).
struct Clusters {
  std::vector<std::string> names;  // in first-seen walk order
  std::vector<std::ptrdiff_t> of_tensor, of_op;
};

Clusters clusters_of(const Graph& g) {
  Clusters c;
  c.of_tensor.assign(g.tensors.size(), -1);
  c.of_op.assign(g.ops.size(), -1);
  std::unordered_map<std::string, std::size_t> index;
  auto id = [&](const std::string& s) {
    auto it = index.emplace(s, c.names.size());
    if (it.second) c.names.push_back(s);
    return static_cast<std::ptrdiff_t>(it.first->second);
  };
  for (std::size_t oi = 0; oi < g.ops.size(); ++oi) {
    if (!scope_of(g.ops[oi])) continue;
    c.of_op[oi] = id(*scope_of(g.ops[oi]));
    c.of_tensor[g.ops[oi].out] = c.of_op[oi];
  }
  for (std::size_t ti = 0; ti < g.tensors.size(); ++ti) {
    const TensorVertex& v = g.tensors[ti];
    if (v.kind != Kind::Parameter || v.consumers.empty()) continue;
    const std::string* scope0 = scope_of(g.ops[v.consumers.front().first]);
    bool same = scope0 != nullptr;
    for (const auto& use : v.consumers) {
      const std::string* s = scope_of(g.ops[use.first]);
      same = same && s && *s == *scope0;
    }
    if (same) c.of_tensor[ti] = id(*scope0);
  }
  return c;
}

std::string title_of(const Graph& g) {
  const std::string& root = g.tensors[0].label;
  std::string title = "graph of " + root + ": " + std::to_string(g.ops.size()) +
                      (g.ops.size() == 1 ? " op, " : " ops, ") + std::to_string(g.tensors.size()) +
                      " tensors\n";
  if (g.grads_kept)
    title += "backward has run: grad = d" + diff_symbol(root) + "/d(tensor)";
  else if (g.backward_ran)
    title +=
        "backward has run; interior gradients were not kept (KeepGradsForDumpsGuard keeps them)";
  else
    title += "backward has not run yet: no gradients";
  return title + "\nblue: parameters, grey dashed: constants, white: intermediates, green: ops";
}

void write_nodes(std::ostream& out, const Graph& g, const DotOptions& o, const Clusters& c,
                 bool across) {
  for (std::size_t ti = 0; ti < g.tensors.size(); ++ti)
    if (c.of_tensor[ti] < 0) out << "  " << tensor_record(g, ti, o, across) << "\n";
  for (std::size_t oi = 0; oi < g.ops.size(); ++oi)
    if (c.of_op[oi] < 0) out << "  " << op_node(g, oi, o) << "\n";
  for (std::size_t k = 0; k < c.names.size(); ++k) {
    const auto mine = static_cast<std::ptrdiff_t>(k);
    out << "  subgraph cluster_" << k << " {\n"
        << "    label=\"" << quote_escape(c.names[k]) << "\";\n"
        << "    style=\"rounded,dashed\"; color=\"#7a7a7a\"; fontname=\"Helvetica\";\n";
    for (std::size_t ti = 0; ti < g.tensors.size(); ++ti)
      if (c.of_tensor[ti] == mine) out << "    " << tensor_record(g, ti, o, across) << "\n";
    for (std::size_t oi = 0; oi < g.ops.size(); ++oi)
      if (c.of_op[oi] == mine) out << "    " << op_node(g, oi, o) << "\n";
    out << "  }\n";
  }
}

// The rank of each tensor in a layered drawing: leaves just before their first consumer.
std::vector<std::size_t> tensor_ranks(const Graph& g) {
  std::vector<std::size_t> rank(g.tensors.size(), 0);
  for (std::size_t oi : g.forward) {
    std::size_t r = 0;
    for (std::ptrdiff_t ti : g.ops[oi].in)
      if (ti >= 0 && g.tensors[ti].producer) r = std::max(r, rank[ti]);
    rank[g.ops[oi].out] = r + 2;  // an op's rank, then its output's
  }
  for (std::size_t ti = 0; ti < g.tensors.size(); ++ti)
    if (!g.tensors[ti].producer && !g.tensors[ti].consumers.empty())
      rank[ti] = rank[g.ops[g.tensors[ti].consumers.front().first].out] - 2;
  return rank;
}

}  // namespace

// Records are about 170 x 40 points in a row (120 x 90 stacked) and ops 70 x 40, with Graphviz's
// default gaps. The direction whose estimated drawing is closer to a slide's 16:10 wins.
std::string layout_direction(const Graph& g, const DotOptions& o, const DotStyle& style,
                             const char* who) {
  if (o.rankdir == "LR" || o.rankdir == "RL" || o.rankdir == "TB" || o.rankdir == "BT")
    return o.rankdir;
  if (!o.rankdir.empty() && o.rankdir != "auto")
    throw Error(std::string(who) +
                ": rankdir must be \"LR\", \"RL\", \"TB\", \"BT\" or empty "
                "(chosen from the graph's shape), got \"" +
                o.rankdir + "\"");
  const std::vector<std::size_t> rank = tensor_ranks(g);
  const std::size_t ranks = *std::max_element(rank.begin(), rank.end()) + 1;
  std::vector<std::size_t> per_rank(ranks, 0);
  for (std::size_t r : rank) ++per_rank[r];
  const double wide = static_cast<double>(*std::max_element(per_rank.begin(), per_rank.end()));
  const double w = style.stacked ? 120 : 170, h = style.stacked ? 90 : 40;
  const double lr_w = ranks * 0.5 * (w + 70 + 2 * 36), lr_h = wide * (h + 18);
  const double tb_w = wide * (w + 18), tb_h = ranks * 0.5 * (h + 40 + 2 * 36);
  auto off = [](double width, double height) { return std::fabs(std::log(width / height / 1.6)); };
  return off(lr_w, lr_h) <= off(tb_w, tb_h) ? "LR" : "TB";
}

std::string dot_text(const Graph& g, const DotOptions& o, DotStyle style) {
  const std::string rankdir = layout_direction(g, o, style, "to_dot");
  const int fontsize = style.fontsize;
  // Records lay fields across the rank direction; braces turn them.
  const bool across = (rankdir == "LR" || rankdir == "RL") != style.stacked;
  std::ostringstream out;
  out << "digraph ag {\n"
      << "  graph [rankdir=" << rankdir
      << ", labelloc=t, fontname=\"Helvetica\", fontsize=" << fontsize + 2 << ", label=\""
      << quote_escape(title_of(g)) << "\"];\n"
      << "  node [fontname=\"Helvetica\", fontsize=" << fontsize << "];\n"
      << "  edge [color=\"#555555\"];\n";
  write_nodes(out, g, o, clusters_of(g), across);
  // Data flow: each op's inputs into it, in slot order, then the op into its output.
  for (std::size_t oi : g.forward) {
    const OpVertex& op = g.ops[oi];
    for (std::ptrdiff_t ti : op.in)
      if (ti >= 0) out << "  t" << ti << " -> op" << oi << ";\n";
    if (op.index >= 0)
      out << "  t" << op.index << " -> op" << oi << " [style=dashed, label=\"index\"];\n";
    out << "  op" << oi << " -> t" << op.out << ";\n";
  }
  out << "}\n";
  return out.str();
}

}  // namespace ag::viz

namespace ag {

std::string to_dot(const Tensor& root, DotOptions options) {
  return viz::dot_text(viz::collect(root, "to_dot"), options);
}

}  // namespace ag
