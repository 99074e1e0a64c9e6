// The reverse-mode engine. One backward pass:
//   1. collect the nodes reachable from the outputs (iterative DFS: graphs may be 1e6 deep);
//   2. count, for each node, how many recorded uses of its output feed back into the pass;
//   3. run nodes whose uses have all delivered their gradient, adding incoming gradients in one
//      buffer per node, summing each gradient down to its input's shape (broadcasting), and
//      accumulating into leaves (backward) or into the requested inputs (ag::grad).
// Backward formulas are ag ops: with create_graph they record, which gives higher order.
#include <algorithm>
#include <atomic>

#include <autograd/detail/impl.hpp>
#include <autograd/engine.hpp>
#include <autograd/kernels/kernels.hpp>
#include <autograd/ops.hpp>

namespace ag {
namespace {
std::atomic<std::uint64_t> g_pass{0};

struct Restore {  // restores grad mode and the in-backward flag on every exit path
  bool grad = is_grad_enabled(), backward = in_backward();
  ~Restore() {
    set_grad_enabled(grad);
    set_in_backward(backward);
  }
};
}  // namespace

// ---- backward --------------------------------------------------------------------------------

Tensor sum_to_shape(const Tensor& g, const Shape& shape, const char* op) {
  if (g.shape() == shape) return g;
  if (g.dim() < shape.size())
    fail("backward of '" + std::string(op) + "': gradient " + describe(g) +
         " cannot be summed to the input shape " + shape_str(shape));
  std::size_t lead = g.dim() - shape.size();
  Axes axes;
  for (std::size_t k = 0; k < lead; ++k) axes.push_back(static_cast<std::ptrdiff_t>(k));
  for (std::size_t k = 0; k < shape.size(); ++k)
    if (shape[k] == 1 && g.shape()[lead + k] != 1) axes.push_back(static_cast<std::ptrdiff_t>(lead + k));
  Tensor s = axes.empty() ? g : sum(g, axes, true);
  if (s.numel() != [&] { std::size_t n = 1; for (auto d : shape) n *= d; return n; }())
    fail("backward of '" + std::string(op) + "': gradient " + describe(g) +
         " does not match the input shape " + shape_str(shape));
  return reshape(s, shape);
}

namespace {

Tensor sum_to(const Tensor& g, const Shape& shape, const Node& node) {
  return sum_to_shape(g, shape, node.op->name);
}

// A leaf's .grad must own its memory: in-place updates of it (clipping, accumulation) must not
// reach another tensor that happens to share the buffer.
Tensor owned(Tensor g) {
  if (g.requires_grad() || (g.impl_ptr().use_count() == 1 && g.impl()->storage.use_count() == 1))
    return g;
  Tensor copy = make_tensor(g.shape(), g.dtype());
  kernels::cast(g, copy);
  return copy;
}

// Returns whether the stored gradient has a graph (create_graph), which may use the leaf itself.
bool accumulate_leaf(TensorImpl& leaf, Tensor g) {
  if (!leaf.grad.defined()) {
    leaf.grad = owned(std::move(g));
  } else if (!g.requires_grad() && !leaf.grad.requires_grad() &&
             leaf.grad.impl_ptr().use_count() == 1 && leaf.grad.impl()->storage.use_count() == 1) {
    kernels::axpy(1.0, g, leaf.grad);
    leaf.grad.bump_version();
  } else {
    leaf.grad = add(leaf.grad, g);
  }
  return leaf.grad.requires_grad();
}

// Under create_graph a leaf's .grad has a graph that uses the leaf (d(x^3)/dx = 3x^2 reads x). A
// strong reference there would make leaf and gradient keep each other alive after the program
// drops both (PyTorch #4661); the nodes hold such leaves weakly instead (Node::weak_leaves).
void hold_leaves_weakly(std::vector<TensorImpl*> leaves) {
  std::sort(leaves.begin(), leaves.end());
  std::uint64_t pass = ++g_pass;
  std::vector<Node*> stack;
  for (TensorImpl* leaf : leaves)
    if (Node* n = leaf->grad.impl()->grad_fn.get(); n && n->visit != pass) {
      n->visit = pass;
      stack.push_back(n);
    }
  while (!stack.empty()) {
    Node* n = stack.back();
    stack.pop_back();
    for (std::size_t i = 0; i < n->inputs.size(); ++i) {
      Tensor& in = n->inputs[i];
      if (!in.defined()) continue;
      if (Node* p = in.impl()->grad_fn.get()) {
        if (p->visit != pass) {
          p->visit = pass;
          stack.push_back(p);
        }
      } else if (std::binary_search(leaves.begin(), leaves.end(), in.impl())) {
        if (n->weak_leaves.empty()) n->weak_leaves.resize(n->inputs.size());
        n->weak_leaves[i] = {true, in.impl_ptr()};
        Tensor stand_in = alias(in, in.shape());
        stand_in.impl()->requires_grad = true;
        stand_in.impl()->name = in.impl()->name;
        in = std::move(stand_in);
      }
    }
  }
}

std::string freed_message(const Node& n) {
  Tensor out = n.result();
  return "backward: the graph through '" + std::string(n.op->name) + "' (output " +
         describe(out) + ") was already used by a backward pass and its saved values were freed. Pass "
         "retain_graph=true to the first backward (x.backward({}, true)) to run backward through "
         "it again, or use ag::grad(outputs, inputs, {}, /*retain_graph=*/true) for repeated "
         "gradients.";
}

struct Wanted {  // what ag::grad asked for; empty for Tensor::backward
  const std::vector<Tensor>* inputs = nullptr;
  std::vector<Tensor> grads;
  int find_leaf(const TensorImpl* impl) const {
    for (std::size_t i = 0; i < inputs->size(); ++i)
      if ((*inputs)[i].impl() == impl) return static_cast<int>(i);
    return -1;
  }
};

void add_into(Tensor& slot, Tensor g) { slot = slot.defined() ? add(slot, g) : std::move(g); }

void run_backward(const std::vector<Tensor>& roots, const std::vector<Tensor>& root_grads,
                  bool retain_graph, bool create_graph, Wanted* wanted) {
  Restore restore;
  set_grad_enabled(create_graph);
  set_in_backward(true);
  std::uint64_t pass = ++g_pass;

  // 1. Collect reachable nodes.
  std::vector<Node*> nodes, stack;
  for (const Tensor& r : roots)
    if (Node* n = r.impl()->grad_fn.get(); n && n->visit != pass) {
      n->visit = pass;
      stack.push_back(n);
    }
  while (!stack.empty()) {
    Node* n = stack.back();
    stack.pop_back();
    n->topo = nodes.size();
    nodes.push_back(n);
    for (const Tensor& in : n->inputs)
      if (Node* p = in.defined() ? in.impl()->grad_fn.get() : nullptr; p && p->visit != pass) {
        p->visit = pass;
        stack.push_back(p);
      }
  }
  // 2. Count the uses of each node's output inside this pass.
  std::vector<std::size_t> deps(nodes.size(), 0);
  for (Node* n : nodes)
    for (const Tensor& in : n->inputs)
      if (Node* p = in.defined() ? in.impl()->grad_fn.get() : nullptr) ++deps[p->topo];

  // 3. Seed the outputs' gradients and run nodes as they become ready.
  std::vector<Tensor> grads(nodes.size());
  std::vector<TensorImpl*> graph_grad_leaves;  // leaves whose .grad now has a graph
  for (std::size_t i = 0; i < roots.size(); ++i) {
    TensorImpl* r = roots[i].impl();
    if (r->grad_fn) {
      add_into(grads[r->grad_fn->topo], root_grads[i]);
    } else if (wanted) {
      int w = wanted->find_leaf(r);
      if (w >= 0) add_into(wanted->grads[w], root_grads[i]);
    } else if (accumulate_leaf(*r, root_grads[i])) {
      graph_grad_leaves.push_back(r);
    }
  }
  for (Node* n : nodes)
    if (deps[n->topo] == 0) stack.push_back(n);

  Tensor small[3];
  std::vector<Tensor> large;
  while (!stack.empty()) {
    Node* node = stack.back();
    stack.pop_back();
    Tensor g = std::move(grads[node->topo]);
    std::size_t n_in = node->inputs.size();
    Tensor* gin = small;
    if (n_in > 3) {
      large.assign(n_in, Tensor());
      gin = large.data();
    }
    if (g.defined()) {
      if (node->released) fail(freed_message(*node));
      if (wanted)  // an interior tensor asked for by ag::grad: its node's full incoming gradient
        for (std::size_t i = 0; i < wanted->inputs->size(); ++i)
          if ((*wanted->inputs)[i].impl()->grad_fn.get() == node) wanted->grads[i] = g;
      node->op->backward(*node, g, gin);
    }
    for (std::size_t i = 0; i < n_in; ++i) {
      Tensor gi = std::move(gin[i]);
      gin[i] = Tensor();
      Tensor held;  // the leaf behind a weakly held input; a gone leaf's gradient has no reader
      const Tensor* input_p = &node->inputs[i];
      if (!node->weak_leaves.empty()) {
        if (node->input_gone(i)) continue;
        held = node->input_tensor(i);
        input_p = &held;
      }
      const Tensor& input = *input_p;
      if (!input.defined()) continue;
      Node* producer = input.impl()->grad_fn.get();
      if (gi.defined() && input.requires_grad()) {
        gi = sum_to(gi, input.shape(), *node);
        if (is_anomaly_enabled() && !kernels::all_finite(gi))
          fail("backward of '" + std::string(node->op->name) + "': produced NaN or Inf (anomaly "
               "mode) in the gradient of input " + std::to_string(i) + " " + describe(input));
        if (producer) {
          add_into(grads[producer->topo], std::move(gi));
        } else if (wanted) {
          int w = wanted->find_leaf(input.impl());
          if (w >= 0) add_into(wanted->grads[w], std::move(gi));
        } else if (accumulate_leaf(*input.impl(), std::move(gi))) {
          graph_grad_leaves.push_back(input.impl());
        }
      }
      if (producer && --deps[producer->topo] == 0) stack.push_back(producer);
    }
    // Keep the gradient that reached this node for graph dumps and chain-rule traces.
    node->grad = g.defined() && g.requires_grad() ? g.detach() : g;
    if (!retain_graph) {
      node->released = true;
      node->saved = Tensor();
    }
  }
  if (!graph_grad_leaves.empty()) hold_leaves_weakly(std::move(graph_grad_leaves));
}

Tensor default_grad(const Tensor& out, const Tensor& given, const char* op) {
  if (given.defined()) {
    if (given.shape() != out.shape() || given.dtype() != out.dtype())
      fail(std::string(op) + ": grad_output " + describe(given) + " must match the output " +
           describe(out));
    return given;
  }
  if (out.numel() != 1)
    fail(std::string(op) + ": a gradient can be created implicitly only for a one-element output, "
         "got " + describe(out) + "; pass grad_output (for example ag::ones_like(y))");
  return ones(out.shape(), out.dtype());
}

void check_root(const Tensor& out, const char* op) {
  if (!out.defined()) fail(std::string(op) + ": got an undefined output tensor");
  if (!out.requires_grad())
    fail(std::string(op) + ": " + describe(out) + " does not require grad: none of the tensors it "
         "was computed from requires grad (call requires_grad_() on the leaves), or it was "
         "computed under NoGradGuard");
}

}  // namespace

void Tensor::backward(const Tensor& grad_output, bool retain_graph, bool create_graph) const {
  check_root(*this, "backward");
  Tensor g = default_grad(*this, grad_output, "backward");
  run_backward({*this}, {g}, retain_graph || create_graph, create_graph, nullptr);
}

std::vector<Tensor> grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                         const std::vector<Tensor>& grad_outputs, bool retain_graph,
                         bool create_graph, bool allow_unused) {
  if (!grad_outputs.empty() && grad_outputs.size() != outputs.size())
    fail("grad: got " + std::to_string(grad_outputs.size()) + " grad_outputs for " +
         std::to_string(outputs.size()) + " outputs");
  std::vector<Tensor> seeds;
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    check_root(outputs[i], "grad");
    seeds.push_back(default_grad(outputs[i], grad_outputs.empty() ? Tensor() : grad_outputs[i], "grad"));
  }
  for (std::size_t i = 0; i < inputs.size(); ++i)
    if (!inputs[i].defined() || !inputs[i].requires_grad())
      fail("grad: input " + std::to_string(i) + " " + describe(inputs[i]) +
           " does not require grad, so no gradient can be computed for it");
  Wanted wanted;
  wanted.inputs = &inputs;
  wanted.grads.resize(inputs.size());
  run_backward(outputs, seeds, retain_graph || create_graph, create_graph, &wanted);
  for (std::size_t i = 0; i < inputs.size(); ++i)
    if (!wanted.grads[i].defined() && !allow_unused)
      fail("grad: input " + std::to_string(i) + " " + describe(inputs[i]) +
           " was not used to compute the outputs; pass allow_unused=true to get an undefined "
           "gradient for it instead");
  return std::move(wanted.grads);
}

}  // namespace ag
