// Walks the graph reachable from a root iteratively (graphs can be thousands of ops deep) and
// numbers everything by walk order or by creation order, never by pointer, so the same graph
// always gives the same text.
#include <algorithm>
#include <autograd/detail/impl.hpp>
#include <autograd/viz/collect.hpp>
#include <map>
#include <sstream>
#include <unordered_map>

namespace ag::viz {
namespace {

const void* key_of(const Tensor& t) {
  Node* n = t.impl()->grad_fn.get();
  return n ? static_cast<const void*>(n) : static_cast<const void*>(t.impl());
}

// An int64 tensor an op reads besides its inputs (gather's indices, the labels of a
// cross-entropy): drawn as a constant input so that the picture shows where it comes from.
Tensor index_tensor(const Node& n) {
  return n.op && n.op->index ? n.op->index(n) : Tensor();
}

class Walker {
 public:
  explicit Walker(Graph& g) : g_(g) {}

  // Iterative pre-order DFS: inputs are pushed in reverse so they are visited in input order.
  void walk(const Tensor& root) {
    std::vector<Tensor> stack{root};
    while (!stack.empty()) {
      Tensor t = std::move(stack.back());
      stack.pop_back();
      if (!add_tensor(t)) continue;
      Node* n = g_.tensors.back().producer;
      if (!n) continue;
      op_of_.emplace(n, g_.ops.size());
      OpVertex o;
      o.node = n;
      o.name = n->op && n->op->name ? n->op->name : "op";
      o.out = g_.tensors.size() - 1;
      g_.ops.push_back(std::move(o));
      if (Tensor index = index_tensor(*n); index.defined()) stack.push_back(index);
      for (std::size_t i = n->inputs.size(); i-- > 0;)
        if (n->inputs[i].defined()) stack.push_back(n->input_tensor(i));
    }
  }

  // Edges, and consumers in forward order.
  void connect() {
    for (std::size_t oi : g_.forward) {
      OpVertex& o = g_.ops[oi];
      const Node* n = o.node;
      o.in.assign(n->inputs.size(), -1);
      for (std::size_t i = 0; i < n->inputs.size(); ++i) {
        if (!n->inputs[i].defined()) continue;
        const std::size_t ti = tensor_of_.at(key_of(n->input_tensor(i)));
        o.in[i] = static_cast<std::ptrdiff_t>(ti);
        g_.tensors[ti].consumers.emplace_back(oi, i);
      }
      if (Tensor index = index_tensor(*n); index.defined())
        o.index = static_cast<std::ptrdiff_t>(tensor_of_.at(key_of(index)));
    }
  }

  std::size_t op_id(const Node* n) const { return op_of_.at(n); }
  bool has_op(const Node* n) const { return op_of_.count(n) != 0; }

 private:
  bool add_tensor(const Tensor& t) {
    const void* key = key_of(t);
    if (tensor_of_.count(key)) return false;
    tensor_of_.emplace(key, g_.tensors.size());
    TensorVertex v;
    v.t = t;
    v.producer = t.impl()->grad_fn.get();
    v.kind =
        v.producer ? Kind::Intermediate : (t.requires_grad() ? Kind::Parameter : Kind::Constant);
    g_.tensors.push_back(std::move(v));
    return true;
  }

  Graph& g_;
  std::unordered_map<const void*, std::size_t> tensor_of_;
  std::unordered_map<const Node*, std::size_t> op_of_;
};

// The order the engine runs the nodes in (engine.cpp, run_backward): nodes collected by a DFS
// from the root, each run once every use of its output has delivered its gradient, the ready
// ones kept on a stack.
std::vector<std::size_t> engine_order(const Graph& g, const Walker& w) {
  if (g.ops.empty()) return {};
  std::vector<std::size_t> nodes, stack{w.op_id(g.tensors[0].producer)}, topo(g.ops.size());
  std::vector<bool> seen(g.ops.size(), false);
  seen[stack[0]] = true;
  while (!stack.empty()) {
    const std::size_t oi = stack.back();
    stack.pop_back();
    topo[oi] = nodes.size();
    nodes.push_back(oi);
    for (std::ptrdiff_t ti : g.ops[oi].in)
      if (ti >= 0 && g.tensors[ti].producer) {
        const std::size_t p = w.op_id(g.tensors[ti].producer);
        if (!seen[p]) stack.push_back(p);
        seen[p] = true;
      }
  }
  std::vector<std::size_t> deps(g.ops.size(), 0), order;
  for (std::size_t oi : nodes)
    for (std::ptrdiff_t ti : g.ops[oi].in)
      if (ti >= 0 && g.tensors[ti].producer) ++deps[w.op_id(g.tensors[ti].producer)];
  for (std::size_t oi : nodes)
    if (deps[oi] == 0) stack.push_back(oi);
  while (!stack.empty()) {
    const std::size_t oi = stack.back();
    stack.pop_back();
    order.push_back(oi);
    for (std::ptrdiff_t ti : g.ops[oi].in)
      if (ti >= 0 && g.tensors[ti].producer) {
        const std::size_t p = w.op_id(g.tensors[ti].producer);
        if (--deps[p] == 0) stack.push_back(p);
      }
  }
  return order;
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

// The first use of a leaf in the forward pass: (op creation order, input slot).
std::pair<std::uint64_t, std::size_t> first_use(const Graph& g, std::size_t ti) {
  const auto& c = g.tensors[ti].consumers;
  if (c.empty()) {
    for (std::size_t oi : g.forward)  // only read as an op's indices
      if (g.ops[oi].index == static_cast<std::ptrdiff_t>(ti))
        return {g.ops[oi].node->seq, g.ops[oi].in.size()};
    return {0, 0};
  }
  return {g.ops[c.front().first].node->seq, c.front().second};
}

// Leaves numbered in the order the forward pass first used them.
void label_leaves(Graph& g) {
  std::vector<std::size_t> leaves;
  for (std::size_t ti = 0; ti < g.tensors.size(); ++ti)
    if (!g.tensors[ti].producer) leaves.push_back(ti);
  std::stable_sort(leaves.begin(), leaves.end(),
                   [&](std::size_t a, std::size_t b) { return first_use(g, a) < first_use(g, b); });
  std::size_t params = 0, consts = 0, indices = 0;
  for (std::size_t ti : leaves) {
    TensorVertex& v = g.tensors[ti];
    if (!v.t.name().empty())
      v.label = v.t.name();
    else if (ti == 0)
      v.label = "L";
    else if (v.kind == Kind::Parameter)
      v.label = "param#" + std::to_string(++params);
    else if (v.t.dtype() == int64)
      v.label = "index#" + std::to_string(++indices);
    else
      v.label = "const#" + std::to_string(++consts);
  }
}

// Ops by name and count in forward order; their outputs by name, else the op's label.
void label_ops(Graph& g) {
  std::map<std::string, std::size_t> per_name;
  for (std::size_t oi : g.forward) {
    OpVertex& o = g.ops[oi];
    o.label = o.name + "#" + std::to_string(++per_name[o.name]);
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
}

}  // namespace

Graph collect(const Tensor& root, const char* who) {
  if (!root.defined()) throw Error(std::string(who) + ": the root tensor is undefined");
  Graph g;
  Walker w(g);
  w.walk(root);
  g.forward.resize(g.ops.size());
  for (std::size_t i = 0; i < g.ops.size(); ++i) g.forward[i] = i;
  std::sort(g.forward.begin(), g.forward.end(),
            [&](std::size_t a, std::size_t b) { return g.ops[a].node->seq < g.ops[b].node->seq; });
  w.connect();
  g.backward = engine_order(g, w);
  label_leaves(g);
  label_ops(g);
  disambiguate(g);
  for (const OpVertex& o : g.ops) {
    g.grads_kept = g.grads_kept || o.node->grad.defined();
    g.backward_ran = g.backward_ran || o.node->grad.defined() || o.node->released;
  }
  if (g.ops.empty() && root.grad().defined()) g.backward_ran = g.grads_kept = true;
  return g;
}

void require_kept_grads(const Graph& g, const Tensor& root, const char* who) {
  if (g.grads_kept) return;
  throw Error(std::string(who) + ": no backward gradients are kept for the graph of " +
              describe(root) +
              "; run backward() (or ag::grad) on it inside an "
              "ag::KeepGradsForDumpsGuard first");
}

Tensor value_of(const Graph& g, std::size_t ti) {
  const TensorVertex& v = g.tensors[ti];
  if (v.t.defined() && v.t.impl()->storage) return v.t;
  if (v.producer) return v.producer->result();
  return {};
}

Tensor stored_grad(const Graph& g, std::size_t ti) {
  const TensorVertex& v = g.tensors[ti];
  if (v.producer) return v.producer->grad;
  return v.t.grad();
}

Tensor op_grad(const OpVertex& o) { return o.node->grad; }

const OpInfo* info_of(const OpVertex& o) { return o.node->op; }

const std::string* scope_of(const OpVertex& o) { return o.node->scope.get(); }

AttrList attributes_of(const OpVertex& o) {
  const Node& n = *o.node;
  return n.op && n.op->attributes ? n.op->attributes(n) : AttrList();
}

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

}  // namespace ag::viz
