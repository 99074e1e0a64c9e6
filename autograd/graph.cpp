// Graph dumps (Graphviz DOT) and the chain-rule trace. Both walk the graph reachable from a root
// iteratively (graphs can be thousands of ops deep) and number everything by walk order or by
// creation order, never by pointer, so the same graph always gives the same text.
#include <autograd/graph.hpp>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <map>
#include <sstream>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <unordered_map>

#include <autograd/detail/impl.hpp>
#include <autograd/engine.hpp>
#include <autograd/ops.hpp>

extern char** environ;

namespace ag {
namespace {

// ---------------------------------------------------------------------------------------------
// Numbers and tensors as text

std::string num(double v, int precision, Dtype dtype = float64) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  if (v == 0) return "0";  // also turns -0 into 0
  char buf[64];
  if (dtype == int64)
    std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(v));
  else
    std::snprintf(buf, sizeof buf, "%.*g", precision, v);
  return buf;
}

// Nested brackets, NumPy style. `row_break` separates the rows of a matrix (a newline for DOT
// records, nothing for one-line traces).
std::string values_text(const Tensor& t, int precision, const std::string& row_break = "") {
  const std::vector<double> v = t.to_vector();
  const Shape& s = t.shape();
  if (s.empty()) return num(v.at(0), precision, t.dtype());
  if (t.numel() == 0) return "[]";
  // block[d]: how many elements one list at depth d spans; its bracket opens where i is a
  // multiple of it and closes where i + 1 is.
  std::vector<std::size_t> block(s.size(), 1);
  block.back() = s.back();
  for (std::size_t d = s.size() - 1; d > 0; --d) block[d - 1] = block[d] * s[d - 1];
  std::string out;
  for (std::size_t i = 0; i < v.size(); ++i) {
    std::size_t opens = 0, closes = 0;
    for (std::size_t d = 0; d < s.size(); ++d) {
      if (i % block[d] == 0) ++opens;
      if ((i + 1) % block[d] == 0) ++closes;
    }
    if (i > 0) {
      if (opens > 0 && !row_break.empty())
        out += "," + row_break + std::string(s.size() - opens, ' ');
      else
        out += ", ";
    }
    out += std::string(opens, '[');
    out += num(v[i], precision, t.dtype());
    out += std::string(closes, ']');
  }
  return out;
}

std::string summary_text(const Tensor& t, int precision) {
  const std::vector<double> v = t.to_vector();
  if (v.empty()) return "empty";
  double lo = v[0], hi = v[0], sq = 0;
  for (double x : v) {
    lo = std::min(lo, x);
    hi = std::max(hi, x);
    sq += x * x;
  }
  return "min " + num(lo, precision) + ", max " + num(hi, precision) + ", norm " +
         num(std::sqrt(sq), precision);
}

// A label as it follows the "d" of a derivative: "dL/dz1", but "d(df/dx)/dx".
std::string diff_symbol(const std::string& label) {
  for (char c : label)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '#' && c != '^' &&
        c != '.')
      return "(" + label + ")";
  return label;
}

// "{2, 3}", and "scalar" for a 0-d tensor (clearer to a learner than "{}").
std::string shape_text(const Shape& s) { return s.empty() ? "scalar" : shape_str(s); }

bool small(const Tensor& t, const DotOptions& o) { return t.numel() <= o.max_elements; }

// A tensor in one line: in full when small, else its shape and a summary.
std::string inline_text(const Tensor& t, const DotOptions& o) {
  if (!t.defined()) return "(freed)";
  if (small(t, o)) return values_text(t, o.precision);
  return shape_str(t.shape()) + " tensor: " + summary_text(t, o.precision);
}

// Graphviz record labels treat | { } < > as structure; quotes and backslashes end or escape the
// string. Newlines become \n (centred lines).
std::string record_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '|': case '{': case '}': case '<': case '>': case '"': case '\\':
        out += '\\';
        out += c;
        break;
      case '\n': out += "\\n"; break;
      default: out += c;
    }
  }
  return out;
}

std::string quote_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The graph reachable from a root

enum class Kind { Parameter, Constant, Intermediate };

struct TensorVertex {
  Tensor t;                 // a live handle: the root, a leaf, or a consumer's input
  Node* producer = nullptr; // null for leaves
  Kind kind = Kind::Constant;
  std::string label;
  std::vector<std::pair<std::size_t, std::size_t>> consumers;  // (op, input slot), forward order
};

struct OpVertex {
  Node* node = nullptr;
  std::string label;                  // "sigmoid#2": op name and its count in forward order
  std::size_t out = 0;                // tensor id of its output
  std::vector<std::ptrdiff_t> in;     // tensor id per input slot; -1 for an undefined input
};

struct Graph {
  std::vector<TensorVertex> tensors;  // index = id, in first-visit order (root is 0)
  std::vector<OpVertex> ops;          // index = id, in first-visit order
  std::vector<std::size_t> forward;   // op ids in creation order (a topological order)
  bool backward_ran = false;
};

const void* key_of(const Tensor& t) {
  Node* n = t.impl()->grad_fn.get();
  return n ? static_cast<const void*>(n) : static_cast<const void*>(t.impl());
}

// "1 (Sequential).0 (Linear)" -> "1.0": the module path as named_parameters() writes it. A part
// without "(Type)" is a module that is nobody's child (just its type name): it has no path.
std::string module_path(const std::string& scope) {
  std::string out;
  std::stringstream parts(scope);
  std::string part;
  while (std::getline(parts, part, '.')) {
    const std::size_t paren = part.find(" (");
    if (paren == std::string::npos) continue;
    if (!out.empty()) out += '.';
    out += part.substr(0, paren);
  }
  return out;
}

// Layers name their parameters "weight" and "bias"; two layers make two "weight"s. A shared
// label is qualified by the module path where there is one ("0.weight"), else numbered.
void disambiguate(Graph& g) {
  std::map<std::string, std::vector<std::size_t>> by_label;  // ids in walk order
  for (std::size_t ti = 0; ti < g.tensors.size(); ++ti) by_label[g.tensors[ti].label].push_back(ti);
  for (auto& entry : by_label) {
    if (entry.second.size() < 2) continue;
    for (std::size_t ti : entry.second) {
      TensorVertex& v = g.tensors[ti];
      const Node* scoped = v.producer;
      if (!scoped && !v.consumers.empty()) scoped = g.ops[v.consumers.front().first].node;
      if (scoped && scoped->scope && !module_path(*scoped->scope).empty())
        v.label = module_path(*scoped->scope) + "." + v.label;
    }
  }
  by_label.clear();
  for (std::size_t ti = 0; ti < g.tensors.size(); ++ti) by_label[g.tensors[ti].label].push_back(ti);
  for (auto& entry : by_label) {
    if (entry.second.size() < 2) continue;
    std::size_t k = 0;
    for (std::size_t ti : entry.second) g.tensors[ti].label += "#" + std::to_string(++k);
  }
}

Graph collect(const Tensor& root, const char* who) {
  if (!root.defined()) throw Error(std::string(who) + ": the root tensor is undefined");
  Graph g;
  std::unordered_map<const void*, std::size_t> tensor_of;
  std::unordered_map<const Node*, std::size_t> op_of;
  // Iterative pre-order DFS: inputs are pushed in reverse so they are visited in input order.
  std::vector<Tensor> stack{root};
  while (!stack.empty()) {
    Tensor t = std::move(stack.back());
    stack.pop_back();
    const void* key = key_of(t);
    if (tensor_of.count(key)) continue;
    tensor_of.emplace(key, g.tensors.size());
    TensorVertex v;
    v.t = t;
    v.producer = t.impl()->grad_fn.get();
    v.kind = v.producer ? Kind::Intermediate
                        : (t.requires_grad() ? Kind::Parameter : Kind::Constant);
    g.tensors.push_back(std::move(v));
    if (Node* n = g.tensors.back().producer) {
      op_of.emplace(n, g.ops.size());
      OpVertex o;
      o.node = n;
      o.out = g.tensors.size() - 1;
      g.ops.push_back(std::move(o));
      for (std::size_t i = n->inputs.size(); i-- > 0;)
        if (n->inputs[i].defined()) stack.push_back(n->input_tensor(i));
    }
  }

  g.forward.resize(g.ops.size());
  for (std::size_t i = 0; i < g.ops.size(); ++i) g.forward[i] = i;
  std::sort(g.forward.begin(), g.forward.end(), [&](std::size_t a, std::size_t b) {
    return g.ops[a].node->seq < g.ops[b].node->seq;
  });

  // Edges, and consumers in forward order.
  for (std::size_t oi : g.forward) {
    OpVertex& o = g.ops[oi];
    const Node* n = o.node;
    o.in.assign(n->inputs.size(), -1);
    for (std::size_t i = 0; i < n->inputs.size(); ++i) {
      if (!n->inputs[i].defined()) continue;
      const std::size_t ti = tensor_of.at(key_of(n->input_tensor(i)));
      o.in[i] = static_cast<std::ptrdiff_t>(ti);
      g.tensors[ti].consumers.emplace_back(oi, i);
    }
  }

  // Labels: ops by name and count in forward order; tensors by name, else a stable default.
  std::map<std::string, std::size_t> per_name;
  for (std::size_t oi : g.forward) {
    OpVertex& o = g.ops[oi];
    const std::string name = o.node->op ? o.node->op->name : "op";
    o.label = name + "#" + std::to_string(++per_name[name]);
  }
  // Leaves numbered in the order the forward pass first used them.
  std::vector<std::size_t> leaves;
  for (std::size_t ti = 0; ti < g.tensors.size(); ++ti)
    if (!g.tensors[ti].producer) leaves.push_back(ti);
  auto first_use = [&](std::size_t ti) {
    const auto& c = g.tensors[ti].consumers;
    if (c.empty()) return std::make_pair(std::uint64_t(0), std::size_t(0));
    return std::make_pair(g.ops[c.front().first].node->seq, c.front().second);
  };
  std::stable_sort(leaves.begin(), leaves.end(),
                   [&](std::size_t a, std::size_t b) { return first_use(a) < first_use(b); });
  std::size_t params = 0, consts = 0;
  for (std::size_t ti : leaves) {
    TensorVertex& v = g.tensors[ti];
    if (!v.t.name().empty())
      v.label = v.t.name();
    else if (ti == 0)
      v.label = "L";
    else if (v.kind == Kind::Parameter)
      v.label = "param#" + std::to_string(++params);
    else
      v.label = "const#" + std::to_string(++consts);
  }
  for (const OpVertex& o : g.ops) {
    TensorVertex& v = g.tensors[o.out];
    if (!v.t.name().empty())
      v.label = v.t.name();
    else if (o.out == 0)
      v.label = "L";  // the unnamed root: the conventional name of what is differentiated
    else
      v.label = o.label;
  }

  disambiguate(g);

  for (const OpVertex& o : g.ops)
    if (o.node->grad.defined() || o.node->released) g.backward_ran = true;
  if (g.ops.empty() && root.grad().defined()) g.backward_ran = true;
  return g;
}

// The value of a tensor vertex (its live handle; an op's saved result as a fallback).
Tensor value_of(const Graph& g, std::size_t ti) {
  const TensorVertex& v = g.tensors[ti];
  if (v.t.defined() && v.t.impl()->storage) return v.t;
  if (v.producer) return v.producer->result();
  return {};
}

// The gradient of the root with respect to a tensor vertex, as the engine left it.
Tensor stored_grad(const Graph& g, std::size_t ti) {
  const TensorVertex& v = g.tensors[ti];
  if (v.producer) return v.producer->grad;
  return v.t.grad();
}

// ---------------------------------------------------------------------------------------------
// DOT

std::string tensor_record(const Graph& g, std::size_t ti, const DotOptions& o) {
  const TensorVertex& v = g.tensors[ti];
  std::vector<std::string> fields;
  fields.push_back(record_escape(v.label));
  fields.push_back(record_escape(shape_text(v.t.shape()) + " " + dtype_name(v.t.dtype())));
  if (o.values) {
    Tensor val = value_of(g, ti);
    std::string text;
    if (!val.defined())
      text = "(freed)";
    else if (small(val, o))
      text = values_text(val, o.precision, "\n");
    else
      text = summary_text(val, o.precision);
    fields.push_back(record_escape("value " + text));
  }
  if (o.grads) {
    std::string text;
    if (v.kind == Kind::Constant) {
      text = "no grad (constant)";
    } else {
      Tensor gr = stored_grad(g, ti);
      if (!gr.defined())
        text = "grad none";
      else if (small(gr, o))
        text = "grad " + values_text(gr, o.precision, "\n");
      else
        text = "grad " + summary_text(gr, o.precision);
    }
    fields.push_back(record_escape(text));
  }
  // Records lay fields across the rank direction; braces turn them: one row in either layout.
  const bool across = o.rankdir == "LR" || o.rankdir == "RL";
  std::string label = across ? "{ " : "";
  for (std::size_t i = 0; i < fields.size(); ++i) label += (i ? " | " : "") + fields[i];
  label += across ? " }" : "";

  std::string style, fill;
  switch (v.kind) {
    case Kind::Parameter: style = "filled"; fill = "#cfe2ff"; break;
    case Kind::Constant: style = "filled,dashed"; fill = "#eeeeee"; break;
    case Kind::Intermediate: style = "filled"; fill = "#ffffff"; break;
  }
  if (ti == 0) {
    style += ",bold";
    fill = "#ffe8a3";
  }
  return "t" + std::to_string(ti) + " [shape=record, style=\"" + style + "\", fillcolor=\"" + fill +
         "\", label=\"" + label + "\"];";
}

// A named attribute from the op's entry (OpDef::attributes), as a number; 0 when it has none.
double attr_value(const Node& n, const char* key) {
  if (!n.op || !n.op->attributes) return 0;
  for (const auto& [name, text] : n.op->attributes(n))
    if (name == key) return text == "true" ? 1 : std::strtod(text.c_str(), nullptr);
  return 0;
}

// The scalar an op was given, in a second line under its name: "div_scalar" then "/ 2".
std::string op_attribute(const Node& n, int precision) {
  const std::string op = n.op ? n.op->name : "";
  auto text = [&](const char* key) { return num(attr_value(n, key), precision); };
  const double c = attr_value(n, "c");
  if (op == "add_scalar") return c < 0 ? "- " + num(-c, precision) : "+ " + text("c");
  if (op == "rsub_scalar") return text("c") + " -";
  if (op == "mul_scalar") return "* " + text("c");
  if (op == "div_scalar") return "/ " + text("c");
  if (op == "rdiv_scalar") return text("c") + " /";
  if (op == "pow") return "^" + text("p");
  if (op == "leaky_relu") return "slope " + text("slope");
  if (op == "clamp") return "[" + text("lo") + ", " + text("hi") + "]";
  return "";
}

std::string op_node(const Graph& g, std::size_t oi, const DotOptions& o) {
  const Node* n = g.ops[oi].node;
  std::string name = n->op ? n->op->name : "op";
  const std::string attribute = op_attribute(*n, o.precision);
  if (!attribute.empty()) name += "\n" + attribute;
  return "op" + std::to_string(oi) +
         " [shape=ellipse, style=filled, fillcolor=\"#d8f0d8\", label=\"" + quote_escape(name) +
         "\"];";
}

}  // namespace

std::string to_dot(const Tensor& root, DotOptions options) {
  const Graph g = collect(root, "to_dot");

  // Clusters: an op and its output go in the scope the op was recorded in; a parameter goes in
  // its consumers' scope when they all share one (a layer's weight and bias sit in the layer).
  std::vector<std::string> clusters;  // in first-seen walk order
  std::unordered_map<std::string, std::size_t> cluster_index;
  std::vector<std::ptrdiff_t> tensor_cluster(g.tensors.size(), -1), op_cluster(g.ops.size(), -1);
  auto cluster_of = [&](const std::string& s) {
    auto it = cluster_index.find(s);
    if (it != cluster_index.end()) return static_cast<std::ptrdiff_t>(it->second);
    cluster_index.emplace(s, clusters.size());
    clusters.push_back(s);
    return static_cast<std::ptrdiff_t>(clusters.size() - 1);
  };
  for (std::size_t oi = 0; oi < g.ops.size(); ++oi) {
    const Node* n = g.ops[oi].node;
    if (!n->scope) continue;
    op_cluster[oi] = cluster_of(*n->scope);
    tensor_cluster[g.ops[oi].out] = op_cluster[oi];
  }
  for (std::size_t ti = 0; ti < g.tensors.size(); ++ti) {
    const TensorVertex& v = g.tensors[ti];
    if (v.kind != Kind::Parameter || v.consumers.empty()) continue;
    const auto& scope0 = g.ops[v.consumers.front().first].node->scope;
    if (!scope0) continue;
    bool same = true;
    for (const auto& c : v.consumers) {
      const auto& s = g.ops[c.first].node->scope;
      if (!s || *s != *scope0) same = false;
    }
    if (same) tensor_cluster[ti] = cluster_of(*scope0);
  }

  const std::string& root_label = g.tensors[0].label;
  std::string title = "graph of " + root_label + ": " + std::to_string(g.ops.size()) +
                      (g.ops.size() == 1 ? " op, " : " ops, ") + std::to_string(g.tensors.size()) +
                      " tensors\n";
  title += g.backward_ran ? "backward has run: grad = d" + diff_symbol(root_label) + "/d(tensor)"
                          : "backward has not run yet: no gradients";
  title += "\nblue: parameters, grey dashed: constants, white: intermediates, green: ops";

  if (options.rankdir != "LR" && options.rankdir != "RL" && options.rankdir != "TB" &&
      options.rankdir != "BT")
    throw Error("to_dot: rankdir must be \"LR\", \"RL\", \"TB\" or \"BT\", got \"" +
                options.rankdir + "\"");
  std::ostringstream out;
  out << "digraph ag {\n"
      << "  graph [rankdir=" << options.rankdir << ", labelloc=t, fontname=\"Helvetica\", fontsize=12, label=\""
      << quote_escape(title) << "\"];\n"
      << "  node [fontname=\"Helvetica\", fontsize=10];\n"
      << "  edge [color=\"#555555\"];\n";
  for (std::size_t ti = 0; ti < g.tensors.size(); ++ti)
    if (tensor_cluster[ti] < 0) out << "  " << tensor_record(g, ti, options) << "\n";
  for (std::size_t oi = 0; oi < g.ops.size(); ++oi)
    if (op_cluster[oi] < 0) out << "  " << op_node(g, oi, options) << "\n";
  for (std::size_t c = 0; c < clusters.size(); ++c) {
    out << "  subgraph cluster_" << c << " {\n"
        << "    label=\"" << quote_escape(clusters[c]) << "\";\n"
        << "    style=\"rounded,dashed\"; color=\"#7a7a7a\"; fontname=\"Helvetica\";\n";
    for (std::size_t ti = 0; ti < g.tensors.size(); ++ti)
      if (tensor_cluster[ti] == static_cast<std::ptrdiff_t>(c))
        out << "    " << tensor_record(g, ti, options) << "\n";
    for (std::size_t oi = 0; oi < g.ops.size(); ++oi)
      if (op_cluster[oi] == static_cast<std::ptrdiff_t>(c)) out << "    " << op_node(g, oi, options) << "\n";
    out << "  }\n";
  }
  // Data flow: each op's inputs into it, in slot order, then the op into its output.
  for (std::size_t oi : g.forward) {
    const OpVertex& o = g.ops[oi];
    for (std::ptrdiff_t ti : o.in)
      if (ti >= 0) out << "  t" << ti << " -> op" << oi << ";\n";
    out << "  op" << oi << " -> t" << o.out << ";\n";
  }
  out << "}\n";
  return out.str();
}

// ---------------------------------------------------------------------------------------------
// save_graph

namespace {

std::string find_in_path(const std::string& program) {
  const char* path = std::getenv("PATH");
  if (!path) return {};
  std::string dirs = path;
  std::size_t start = 0;
  while (start <= dirs.size()) {
    std::size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    std::string dir = dirs.substr(start, end - start);
    if (dir.empty()) dir = ".";
    const std::string candidate = dir + "/" + program;
    struct stat st;
    if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
        ::access(candidate.c_str(), X_OK) == 0)
      return candidate;
    start = end + 1;
  }
  return {};
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  if (!f) throw Error("save_graph: cannot open '" + path + "' for writing: " + std::strerror(errno));
  f << text;
  f.close();
  if (!f) throw Error("save_graph: writing '" + path + "' failed");
}

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

// Write next to the destination, then rename: a reader never sees a half-written file.
std::string temp_name(const std::string& path, const std::string& what) {
  return path + "." + what + "." + std::to_string(::getpid()) + ".tmp";
}

void commit_file(const std::string& tmp, const std::string& path) {
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    std::remove(tmp.c_str());
    throw Error("save_graph: cannot move the rendered file to '" + path + "': " + why);
  }
}

}  // namespace

void save_graph(const Tensor& root, const std::string& path, DotOptions options) {
  const std::size_t dot_pos = path.rfind('.');
  std::string ext = dot_pos == std::string::npos || path.find('/', dot_pos) != std::string::npos
                        ? ""
                        : path.substr(dot_pos + 1);
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (ext != "dot" && ext != "svg" && ext != "png")
    throw Error("save_graph: unknown file extension in '" + path +
                "' (use .dot for DOT text, .svg or .png to render with Graphviz)");

  const std::string text = to_dot(root, options);
  if (ext == "dot") {
    const std::string tmp = temp_name(path, "dot");
    write_file(tmp, text);
    commit_file(tmp, path);
    return;
  }

  const std::string dot = find_in_path("dot");
  if (dot.empty())
    throw Error("save_graph: Graphviz's `dot` was not found in PATH, so '" + path +
                "' cannot be rendered; install Graphviz (Debian: apt-get install graphviz) or "
                "save to a .dot file instead");

  const std::string dot_tmp = temp_name(path, "in.dot");
  const std::string out_tmp = temp_name(path, "out");
  const std::string err_tmp = temp_name(path, "err");
  write_file(dot_tmp, text);

  // posix_spawn rather than system(): no shell, so paths need no quoting.
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err_tmp.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  const std::string format = "-T" + ext;
  std::vector<std::string> args{dot, format, "-o", out_tmp, dot_tmp};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int spawn_rc = posix_spawn(&pid, dot.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  int status = 0;
  if (spawn_rc == 0) {
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
  }
  const std::string errors = read_file(err_tmp);
  std::remove(dot_tmp.c_str());
  std::remove(err_tmp.c_str());
  if (spawn_rc != 0) {
    std::remove(out_tmp.c_str());
    throw Error("save_graph: could not start Graphviz's `" + dot + "`: " + std::strerror(spawn_rc));
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::remove(out_tmp.c_str());
    const std::string how = WIFEXITED(status)
                                ? "exit status " + std::to_string(WEXITSTATUS(status))
                                : "signal " + std::to_string(WTERMSIG(status));
    throw Error("save_graph: Graphviz's `dot " + format + "` failed (" + how + ") rendering '" +
                path + "'" + (errors.empty() ? "" : ": " + errors));
  }
  commit_file(out_tmp, path);
}

// ---------------------------------------------------------------------------------------------
// chain_rule_trace

namespace {

const char* infix_of(const std::string& op) {
  if (op == "add") return " + ";
  if (op == "sub") return " - ";
  if (op == "mul") return " * ";
  if (op == "div") return " / ";
  return nullptr;
}

// The scalar attributes an op's rule names ("dx = dy * c", "dx = dy * p * x^(p-1)").
std::vector<std::pair<std::string, double>> scalar_attributes(const Node& n) {
  const std::string op = n.op ? n.op->name : "";
  if (op == "add_scalar" || op == "rsub_scalar" || op == "mul_scalar" || op == "div_scalar" ||
      op == "rdiv_scalar")
    return {{"c", attr_value(n, "c")}};
  if (op == "pow") return {{"p", attr_value(n, "p")}};
  if (op == "leaky_relu") return {{"slope", attr_value(n, "slope")}};
  if (op == "clamp") return {{"lo", attr_value(n, "lo")}, {"hi", attr_value(n, "hi")}};
  return {};
}

std::string trim(const std::string& s) {
  std::size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

// Replaces whole identifiers found in `table`; numbers such as 1e-5 are left alone.
std::string substitute(const std::string& text, const std::map<std::string, std::string>& table) {
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (std::isdigit(c)) {
      std::size_t j = i;
      while (j < text.size() && (std::isalnum(static_cast<unsigned char>(text[j])) ||
                                 text[j] == '.'))
        ++j;
      out += text.substr(i, j - i);
      i = j;
    } else if (std::isalpha(c) || c == '_') {
      std::size_t j = i;
      while (j < text.size() &&
             (std::isalnum(static_cast<unsigned char>(text[j])) || text[j] == '_'))
        ++j;
      const std::string word = text.substr(i, j - i);
      auto it = table.find(word);
      out += it == table.end() ? word : it->second;
      i = j;
    } else {
      out += text[i++];
    }
  }
  return out;
}

// An op's rule "da = dy * b; db = dy * a" split into its parts: the symbol each part defines
// ("a", "b") and its right-hand side.
struct RulePart {
  std::string symbol, rhs;
};

// Parts are separated by ',' or ';' outside brackets, where the next part starts "dX =";
// each is "dX = right-hand side" (which may itself be a chain: "dx = dy * exp(x) = dy * y").
// A comma inside a right-hand side ("dx = dy at the maximum, 0 elsewhere") stays in it.
bool starts_part(const std::string& piece) {
  const std::string t = trim(piece);
  const std::size_t eq = t.find('=');
  if (eq == std::string::npos || t.size() < 2 || t[0] != 'd') return false;
  const std::string lhs = trim(t.substr(0, eq));
  if (lhs.size() < 2) return false;
  for (char c : lhs)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  return true;
}

std::vector<RulePart> parse_rule(const char* rule) {
  std::vector<RulePart> parts;
  if (!rule) return parts;
  std::vector<std::string> pieces(1);
  std::vector<char> separators;
  int depth = 0;
  for (const char* c = rule; *c; ++c) {
    if (*c == '(' || *c == '[') ++depth;
    if (*c == ')' || *c == ']') --depth;
    if (depth == 0 && (*c == ',' || *c == ';')) {
      pieces.emplace_back();
      separators.push_back(*c);
    } else {
      pieces.back() += *c;
    }
  }
  std::vector<std::string> merged;
  for (std::size_t k = 0; k < pieces.size(); ++k) {
    if (k == 0 || starts_part(pieces[k]))
      merged.push_back(pieces[k]);
    else
      merged.back() += separators[k - 1] + pieces[k];
  }
  for (const std::string& piece : merged) {
    if (!starts_part(piece)) continue;
    const std::string t = trim(piece);
    const std::size_t eq = t.find('=');
    parts.push_back({trim(t.substr(1, eq - 1)), trim(t.substr(eq + 1))});
  }
  return parts;
}

bool has_token(const std::string& text, const std::string& token) {
  std::size_t pos = 0;
  auto ident = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  while ((pos = text.find(token, pos)) != std::string::npos) {
    const bool left = pos == 0 || !ident(text[pos - 1]);
    const bool right = pos + token.size() >= text.size() || !ident(text[pos + token.size()]);
    if (left && right) return true;
    pos += token.size();
  }
  return false;
}

// Sums a gradient over the axes an input was broadcast along, back to the input's shape.
Tensor reduce_to(const Tensor& grad, const Shape& shape, bool* reduced) {
  *reduced = false;
  if (!grad.defined() || grad.shape() == shape) return grad;
  *reduced = true;
  Tensor out = grad;
  const std::size_t lead = out.dim() > shape.size() ? out.dim() - shape.size() : 0;
  if (lead > 0) {
    Axes axes;
    for (std::size_t a = 0; a < lead; ++a) axes.push_back(static_cast<std::ptrdiff_t>(a));
    out = sum(out, axes, false);
  }
  Axes ones;
  for (std::size_t a = 0; a < shape.size() && a < out.dim(); ++a)
    if (shape[a] == 1 && out.shape()[a] != 1) ones.push_back(static_cast<std::ptrdiff_t>(a));
  if (!ones.empty()) out = sum(out, ones, true);
  if (out.numel() == 1 && shape.empty()) return reshape(out, shape);
  return out.shape() == shape ? out : reshape(out, shape);
}

double max_abs_diff(const Tensor& a, const Tensor& b) {
  const auto x = a.to_vector(), y = b.to_vector();
  if (x.size() != y.size()) return INFINITY;
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

struct Contribution {
  std::size_t op, slot;
  Tensor value;  // undefined when the numbers could not be recomputed
};

class Tracer {
 public:
  Tracer(const Graph& g, const DotOptions& o) : g_(g), o_(o), contributions_(g.tensors.size()) {}

  std::string run() {
    const std::string& L = g_.tensors[0].label;
    out_ << "Chain rule for " << L << ", step by step\n"
         << "  d" << diff_symbol(L) << "/dv is the gradient of " << L
         << " with respect to v; @ is a matrix product, ^T a transpose.\n";
    if (g_.ops.empty()) {
      out_ << "  " << L << " is a leaf: no op to differentiate; " << d(0)
           << " = 1.\n";
      return out_.str();
    }
    forward_pass();
    backward_pass();
    leaves();
    return out_.str();
  }

 private:
  const Graph& g_;
  const DotOptions& o_;
  std::ostringstream out_;
  std::vector<std::vector<Contribution>> contributions_;

  std::string d(std::size_t ti) const {
    return "d" + diff_symbol(g_.tensors[0].label) + "/d" + diff_symbol(g_.tensors[ti].label);
  }
  std::string name(std::ptrdiff_t ti) const {
    return ti < 0 ? "(none)" : g_.tensors[static_cast<std::size_t>(ti)].label;
  }

  std::string expression(const OpVertex& o) const {
    const Node& n = *o.node;
    const std::string op = n.op ? n.op->name : "op";
    const int p = o_.precision;
    const char* infix = infix_of(op);
    if (infix && o.in.size() == 2) return name(o.in[0]) + infix + name(o.in[1]);
    if (op == "matmul" && o.in.size() == 2)
      return name(o.in[0]) + (attr_value(n, "trans_a") ? "^T" : "") + " @ " + name(o.in[1]) +
             (attr_value(n, "trans_b") ? "^T" : "");
    if (op == "linear" && o.in.size() == 3)
      return name(o.in[0]) + " @ " + name(o.in[1]) + "^T" +
             (o.in[2] >= 0 ? " + " + name(o.in[2]) : "");
    if (o.in.size() == 1) {
      const std::string x = name(o.in[0]);
      const double c = attr_value(n, op == "pow" ? "p" : "c");
      if (op == "add_scalar")
        return c < 0 ? x + " - " + num(-c, p) : x + " + " + num(c, p);
      if (op == "rsub_scalar") return num(c, p) + " - " + x;
      if (op == "mul_scalar") return x + " * " + num(c, p);
      if (op == "div_scalar") return x + " / " + num(c, p);
      if (op == "rdiv_scalar") return num(c, p) + " / " + x;
      if (op == "pow") return x + "^" + num(c, p);
      if (op == "neg") return "-" + x;
    }
    std::string e = op + "(";
    for (std::size_t i = 0; i < o.in.size(); ++i) e += (i ? ", " : "") + name(o.in[i]);
    return e + ")";
  }

  void forward_pass() {
    out_ << "\nForward pass (the leaves, then each op in the order it ran)\n";
    // Leaves in the order the forward pass first used them.
    std::vector<std::size_t> leaves;
    for (std::size_t oi : g_.forward)
      for (std::ptrdiff_t ti : g_.ops[oi].in)
        if (ti >= 0 && !g_.tensors[ti].producer &&
            std::find(leaves.begin(), leaves.end(), static_cast<std::size_t>(ti)) == leaves.end())
          leaves.push_back(static_cast<std::size_t>(ti));
    for (std::size_t ti : leaves) {
      const TensorVertex& v = g_.tensors[ti];
      out_ << "  " << v.label << " = " << inline_text(value_of(g_, ti), o_) << "   ("
           << (v.kind == Kind::Parameter ? "parameter" : "constant") << ", "
           << shape_text(v.t.shape()) << " " << dtype_name(v.t.dtype()) << ")\n";
    }
    for (std::size_t oi : g_.forward) {
      const OpVertex& o = g_.ops[oi];
      out_ << "  " << g_.tensors[o.out].label << " = " << expression(o) << " = "
           << inline_text(value_of(g_, o.out), o_) << "\n";
    }
  }

  // Runs the op's backward rule again, under no-grad, with `grad_out` as dL/dy. A backward
  // without retain_graph keeps the inputs, the result and the attributes, so every rule re-runs.
  bool rerun(const OpVertex& o, const Tensor& grad_out, std::vector<Tensor>& grad_in,
             std::string& why) const {
    Node* n = o.node;
    grad_in.assign(n->inputs.size(), Tensor());
    if (!n->op || !n->op->backward) {
      why = "the op is not differentiable";
      return false;
    }
    NoGradGuard no_grad;
    try {
      n->op->backward(*n, grad_out, grad_in.data());
      return true;
    } catch (const Error& e) {
      why = e.what();
      return false;
    }
  }

  // The sum of the gradients a tensor received along several paths; returns the total (the
  // engine's stored one where a path's numbers could not be recomputed).
  Tensor print_sum(std::size_t ti, const std::string& indent) {
    const auto& cs = contributions_[ti];
    const std::string lhs = d(ti);
    std::string terms, nums;
    bool all = true, nums_ok = true;
    Tensor total;
    for (std::size_t k = 0; k < cs.size(); ++k) {
      std::size_t same_op = 0;
      for (const Contribution& other : cs) same_op += other.op == cs[k].op;
      std::string via = g_.ops[cs[k].op].label;
      if (same_op > 1) via += ", input " + std::to_string(cs[k].slot + 1);
      terms += (k ? " + " : "") + lhs + " (via " + via + ")";
      if (!cs[k].value.defined()) {
        all = false;
        continue;
      }
      if (!small(cs[k].value, o_)) nums_ok = false;
      nums += (k ? " + " : "") + values_text(cs[k].value, o_.precision);
      NoGradGuard no_grad;
      total = total.defined() ? add(total, cs[k].value) : cs[k].value;
    }
    const Tensor stored = stored_grad(g_, ti);
    if (!all) total = stored;
    out_ << indent << lhs << " arrives along " << cs.size() << " paths, so they add up:\n";
    out_ << indent << "  " << lhs << " = " << terms << "\n";
    const std::string pad(indent.size() + 2 + lhs.size() + 1, ' ');
    if (all && nums_ok) out_ << pad << "= " << nums << "\n";
    if (total.defined()) out_ << pad << "= " << inline_text(total, o_) << "\n";
    return total;
  }

  void backward_pass() {
    const std::string& L = g_.tensors[0].label;
    out_ << "\nBackward pass (each op in reverse order: its local derivative, then the numbers)\n";
    const Tensor seed = stored_grad(g_, 0);
    out_ << "  " << d(0) << " = " << inline_text(seed, o_)
         << "   (the seed: backward starts here)\n";

    for (auto it = g_.forward.rbegin(); it != g_.forward.rend(); ++it) {
      const OpVertex& o = g_.ops[*it];
      const Node* n = o.node;
      const std::string op = n->op ? n->op->name : "op";
      out_ << "\n";
      if (contributions_[o.out].size() > 1) {
        print_sum(o.out, "  ");
        out_ << "\n";
      }
      if (!n->grad.defined()) {
        out_ << "  " << g_.tensors[o.out].label << " = " << expression(o)
             << ": no gradient reached this op (it does not lead to " << L << ")\n";
        continue;
      }
      out_ << "  " << g_.tensors[o.out].label << " = " << expression(o) << "\n";
      if (n->op && n->op->rule) out_ << "    local derivative: " << n->op->rule << "\n";

      std::vector<Tensor> grads;
      std::string why;
      const bool have = rerun(o, n->grad, grads, why);
      // For elementwise ops, the local factor is the rule applied to dL/dy = 1.
      std::vector<Tensor> local;
      std::string why_local;
      const bool have_local = have && n->op && n->op->elementwise &&
                              rerun(o, ones_like(n->grad), local, why_local);

      const std::vector<RulePart> parts = parse_rule(n->op ? n->op->rule : nullptr);
      const std::size_t slots = o.in.size();
      for (std::size_t i = 0; i < slots; ++i) {
        if (o.in[i] < 0 || !n->needs_grad(i)) continue;
        const std::size_t ti = static_cast<std::size_t>(o.in[i]);
        // The rule part for this input: one per input, or one shared by all inputs.
        const RulePart* part = nullptr;
        if (parts.size() == slots) part = &parts[i];
        else if (parts.size() == 1) part = &parts[0];
        std::map<std::string, std::string> names, values;
        auto bind = [&](const std::string& symbol, const Tensor& t, const std::string& label) {
          if (names.count(symbol)) return;
          names.emplace(symbol, label);
          if (t.defined() && small(t, o_)) values.emplace(symbol, values_text(t, o_.precision));
        };
        // The output's symbol: y unless an input is called y (the fused backward ops).
        std::string y = "y";
        for (const char* cand : {"y", "Y", "z"}) {
          bool is_input = false, used = false;
          for (const RulePart& rp : parts) {
            if (rp.symbol == cand) is_input = true;
            if (has_token(rp.rhs, std::string("d") + cand)) used = true;
          }
          if (!is_input && used) {
            y = cand;
            break;
          }
        }
        bind("d" + y, n->grad, d(o.out));
        bind(y, value_of(g_, o.out), g_.tensors[o.out].label);
        if (parts.size() == slots) {
          for (std::size_t k = 0; k < slots; ++k)
            if (o.in[k] >= 0) bind(parts[k].symbol, value_of(g_, o.in[k]), name(o.in[k]));
        } else if (part) {
          bind(part->symbol, value_of(g_, ti), name(o.in[i]));
        }
        const char* defaults[] = {"x", "a", "b"};
        for (std::size_t k = 0; k < 3; ++k) {
          const std::size_t slot = k == 2 ? 1 : 0;
          if (slot < slots && o.in[slot] >= 0)
            bind(defaults[k], value_of(g_, o.in[slot]), name(o.in[slot]));
        }
        for (const auto& attr : scalar_attributes(*n)) {
          names.emplace(attr.first, num(attr.second, o_.precision));
          values.emplace(attr.first, num(attr.second, o_.precision));
        }

        // The numbers line needs a small value for every symbol the rule names.
        bool values_ok = part != nullptr;
        for (const auto& nm : names)
          if (part && has_token(part->rhs, nm.first) && !values.count(nm.first)) values_ok = false;

        const std::string lhs = d(ti);
        const std::string pad(4 + lhs.size() + 1, ' ');
        out_ << "    " << lhs << " = "
             << (part ? substitute(part->rhs, names) : "(rule of " + op + ") applied to " + d(o.out))
             << "\n";
        bool reduced = false;
        Tensor contribution;
        if (have) {
          const Tensor raw = grads[i];
          {
            NoGradGuard no_grad;
            contribution = reduce_to(raw, g_.tensors[ti].t.shape(), &reduced);
          }
          bool shown = false;
          if (have_local && local[i].defined() && raw.defined() && small(raw, o_) &&
              small(n->grad, o_)) {
            // dL/dx = dL/dy * local, element by element; checked before it is shown.
            Tensor product;
            {
              NoGradGuard no_grad;
              product = mul(n->grad, local[i]);
            }
            const bool trivial = close(local[i], ones_like(local[i]));  // add: nothing to show
            if (close(product, raw)) {
              if (!trivial)
                out_ << pad << "= " << values_text(n->grad, o_.precision) << " * "
                     << values_text(local[i], o_.precision) << "\n";
              shown = true;
            }
          }
          if (!shown && part && values_ok) {
            const std::string numbers = substitute(part->rhs, values);
            if (numbers.size() <= 160) out_ << pad << "= " << numbers << "\n";
          }
          if (reduced && raw.defined())
            out_ << pad << "= " << inline_text(raw, o_) << "   (before summing over the broadcast axes)\n";
          out_ << pad << "= " << inline_text(contribution, o_) << "\n";
        } else {
          out_ << pad << "(numbers not recomputed: " << why << ")\n";
        }
        contributions_[ti].push_back({*it, i, contribution});
      }
    }
  }

  void leaves() {
    out_ << "\nGradients of the parameters (what backward accumulates in .grad)\n";
    std::vector<std::size_t> leaves;
    for (std::size_t oi : g_.forward)
      for (std::ptrdiff_t ti : g_.ops[oi].in)
        if (ti >= 0 && g_.tensors[ti].kind == Kind::Parameter &&
            std::find(leaves.begin(), leaves.end(), static_cast<std::size_t>(ti)) == leaves.end())
          leaves.push_back(static_cast<std::size_t>(ti));
    if (leaves.empty()) out_ << "  (none: no leaf of the graph requires grad)\n";
    for (std::size_t ti : leaves) {
      const auto& cs = contributions_[ti];
      Tensor total;
      if (cs.size() >= 2) {
        total = print_sum(ti, "  ");
      } else {
        total = cs.empty() || !cs[0].value.defined() ? stored_grad(g_, ti) : cs[0].value;
        out_ << "  " << d(ti) << " = " << inline_text(total, o_) << "\n";
      }
      // .grad accumulates over backward calls; this trace shows the last one.
      const Tensor stored = stored_grad(g_, ti);
      if (total.defined() && stored.defined() && !close(total, stored))
        out_ << "    (" << g_.tensors[ti].label << ".grad holds " << inline_text(stored, o_)
             << ": it also accumulated earlier backward calls; zero_grad() clears it)\n";
    }
  }
};

}  // namespace

std::string chain_rule_trace(const Tensor& root, DotOptions options) {
  const Graph g = collect(root, "chain_rule_trace");
  if (!g.backward_ran)
    throw Error("chain_rule_trace: no backward gradients are kept for the graph of " +
                describe(root) + "; run backward() (or ag::grad) on it inside an "
                "ag::KeepGradsForDumpsGuard first");
  return Tracer(g, options).run();
}

}  // namespace ag
