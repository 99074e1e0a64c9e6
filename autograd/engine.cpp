// The reverse-mode engine. One backward pass:
//   1. collect the nodes reachable from the outputs (iterative DFS: graphs may be 1e6 deep);
//   2. in the same walk, count for each node how many recorded uses of its output feed the pass;
//   3. run nodes whose uses have all delivered their gradient, adding incoming gradients in one
//      buffer per node, summing each gradient down to its input's shape (broadcasting), and
//      accumulating into leaves (backward) or into the requested inputs (ag::grad).
// Backward formulas are ag ops: with create_graph they record, which gives higher order.
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <mutex>

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

// Almost every gradient already has its input's shape: that is tested inline, per delivery.
bool same_shape(const Shape& a, const Shape& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t k = 0; k < a.size(); ++k)
    if (a[k] != b[k]) return false;
  return true;
}

Tensor sum_to(Tensor g, const Shape& shape, const Node& node) {
  if (same_shape(g.impl()->shape, shape)) return g;
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

// Several threads may run backward through graphs that share leaves (the README's concurrency
// contract): accumulation into one leaf's .grad is serialised by a lock chosen by the leaf's
// address from a small fixed set. Uncontended, a lock costs ~20 ns per leaf per backward, well
// below one op; striping avoids a mutex in every TensorImpl.
std::mutex& leaf_lock(const TensorImpl* leaf) {
  static std::mutex stripes[64];
  return stripes[(reinterpret_cast<std::uintptr_t>(leaf) >> 6) % 64];
}

// Returns whether the stored gradient has a graph (create_graph), which may use the leaf itself.
bool accumulate_leaf(TensorImpl& leaf, Tensor g) {
  std::lock_guard<std::mutex> lock(leaf_lock(&leaf));
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

// Runs a tensor's hooks in registration order on its summed gradient (grad mode is already
// create_graph's, so hooks made of ag ops are recorded). Each defined result replaces the
// gradient and must keep its shape and dtype.
Tensor run_hooks(const HookList& list, Tensor g, const std::string& owner) {
  for (const auto& entry : list.hooks) {
    Tensor r = entry.second(g);
    if (!r.defined()) continue;
    if (r.shape() != g.shape() || r.dtype() != g.dtype())
      fail("hook " + std::to_string(entry.first) + " on " + owner + ": returned a gradient " +
           describe(r) + " for the gradient " + describe(g) +
           "; a hook may change the values only, not the shape or dtype");
    g = std::move(r);
  }
  return g;
}

// One backward pass over the graph behind the roots. Interior gradients are summed per node;
// a leaf with hooks gets a buffer so that its hooks see its summed gradient, once.
class BackwardPass {
 public:
  BackwardPass(bool retain_graph, Wanted* wanted)
      : retain_(retain_graph), keep_grads_(keep_grads_for_dumps()),
        anomaly_(is_anomaly_enabled()), wanted_(wanted), pass_(++g_pass) {}
  void run(const std::vector<Tensor>& roots, const std::vector<Tensor>& root_grads);

 private:
  struct LeafSlot {  // a hooked leaf: its gradient waits here until every use delivered
    Tensor leaf;
    std::size_t pending = 0;
    Tensor grad;
  };
  void collect(const std::vector<Tensor>& roots);
  void run_node(Node& node);
  const Tensor* resolve(const Node& node, std::size_t i, Tensor& held) const;
  void deliver(const Node& node, std::size_t i, const Tensor& input, Tensor gi);
  LeafSlot* slot_of(const Tensor& leaf);
  void arrive_at_leaf(const Tensor& leaf, Tensor g);
  void to_leaf(TensorImpl* leaf, Tensor g);
  Tensor node_hooks(Node& node, Tensor g);

  bool retain_, keep_grads_;
  bool anomaly_;  // anomaly mode, read once per pass rather than once per gradient
  Wanted* wanted_;
  std::uint64_t pass_;
  std::vector<Node*> nodes_, ready_;
  std::vector<std::size_t> deps_;
  std::vector<Tensor> grads_;
  std::vector<LeafSlot> hooked_;
  std::vector<TensorImpl*> graph_grad_leaves_;  // leaves whose .grad now has a graph
  std::vector<Tensor> large_;
};

// 1 and 2. The nodes reachable from the roots (iterative DFS: graphs may be 1e6 deep), and for
// each node and hooked leaf how many recorded uses feed this pass, counted in the same walk (a
// second walk over every node costs cache misses on large graphs).
void BackwardPass::collect(const std::vector<Tensor>& roots) {
  std::vector<Node*> stack;
  auto discover = [&](Node* n) {
    n->visit = pass_;
    n->topo = nodes_.size();
    nodes_.push_back(n);
    deps_.push_back(0);
    stack.push_back(n);
  };
  for (const Tensor& r : roots) {
    if (Node* n = r.impl()->grad_fn.get()) {
      if (n->visit != pass_) discover(n);
    } else if (r.impl()->hooks) {
      ++slot_of(r)->pending;
    }
  }
  Tensor held;
  while (!stack.empty()) {
    Node* n = stack.back();
    stack.pop_back();
    for (std::size_t i = 0; i < n->inputs.size(); ++i) {
      const Tensor* in = resolve(*n, i, held);
      if (!in || !in->defined()) continue;
      if (Node* p = in->impl()->grad_fn.get()) {
        if (p->visit != pass_) discover(p);
        ++deps_[p->topo];
      } else if (in->impl()->hooks && in->impl()->requires_grad) {
        ++slot_of(*in)->pending;
      }
    }
  }
}

// The tensor input i's gradient goes to: inputs[i], or the leaf a weakly held input stands in
// for; nullptr when that leaf is gone (its gradient has no reader).
const Tensor* BackwardPass::resolve(const Node& node, std::size_t i, Tensor& held) const {
  if (node.weak_leaves.empty()) return &node.inputs[i];
  if (node.input_gone(i)) return nullptr;
  held = node.input_tensor(i);
  return &held;
}

BackwardPass::LeafSlot* BackwardPass::slot_of(const Tensor& leaf) {
  HookList* h = leaf.impl()->hooks.get();
  if (!h) return nullptr;
  if (h->pass != pass_) {
    h->pass = pass_;
    h->slot = hooked_.size();
    hooked_.push_back({leaf, 0, Tensor()});
  }
  return &hooked_[h->slot];
}

// A leaf's gradient, final: into .grad (backward) or into the answer (ag::grad).
void BackwardPass::to_leaf(TensorImpl* leaf, Tensor g) {
  if (wanted_) {
    int w = wanted_->find_leaf(leaf);
    if (w >= 0) add_into(wanted_->grads[w], std::move(g));
  } else if (accumulate_leaf(*leaf, std::move(g))) {
    graph_grad_leaves_.push_back(leaf);
  }
}

// A hooked leaf collects its gradients; after the last use its hooks run once on the sum, the
// result is delivered, and then (backward only) its post-accumulate hooks run.
void BackwardPass::arrive_at_leaf(const Tensor& leaf, Tensor g) {
  LeafSlot* s = slot_of(leaf);
  if (!s) {
    if (g.defined()) to_leaf(leaf.impl(), std::move(g));
    return;
  }
  if (g.defined()) add_into(s->grad, std::move(g));
  if (s->pending == 0) s->pending = 1;  // hooks added during this pass: deliver at once
  if (--s->pending > 0 || !s->grad.defined()) return;
  if (wanted_ && wanted_->find_leaf(leaf.impl()) < 0) return;  // not asked for: no hooks
  Tensor handle = s->leaf;  // s may move when hooks record (hooked_ does not grow here)
  to_leaf(handle.impl(), run_hooks(*handle.impl()->hooks, std::move(s->grad), describe(handle)));
  if (wanted_) return;
  for (const auto& entry : handle.impl()->hooks->post) entry.second(handle);
}

// An interior node's hooks on its summed gradient; then retain_grad keeps the result.
Tensor BackwardPass::node_hooks(Node& node, Tensor g) {
  std::shared_ptr<TensorImpl> out = node.output_ref.lock();
  g = run_hooks(*node.hooks, std::move(g),
                out ? describe(Tensor(out)) : "the output of '" + std::string(node.op->name) + "'");
  if (node.hooks->retain_grad && out && !wanted_)
    out->grad = out->grad.defined() ? add(out->grad, g) : owned(g);
  return g;
}

// A gradient for input i of `node`: summed down to the input's shape, then handed on.
void BackwardPass::deliver(const Node& node, std::size_t i, const Tensor& input, Tensor gi) {
  Node* producer = input.impl()->grad_fn.get();
  if (gi.defined() && input.impl()->requires_grad) {
    gi = sum_to(std::move(gi), input.impl()->shape, node);
    if (anomaly_ && !kernels::all_finite(gi))
      fail("backward of '" + std::string(node.op->name) + "': produced NaN or Inf (anomaly "
           "mode) in the gradient of input " + std::to_string(i) + " " + describe(input));
    if (producer) add_into(grads_[producer->topo], std::move(gi));
  }
  if (producer) {
    if (--deps_[producer->topo] == 0) ready_.push_back(producer);
  } else if (input.impl()->requires_grad) {  // a leaf
    arrive_at_leaf(input, std::move(gi));
  }
}

// 3. One ready node: its hooks, its backward formula, its gradients handed to its inputs.
void BackwardPass::run_node(Node& node) {
  Tensor g = std::move(grads_[node.topo]);
  std::size_t n_in = node.inputs.size();
  Tensor small[3];
  Tensor* gin = small;
  if (n_in > 3) {
    large_.assign(n_in, Tensor());
    gin = large_.data();
  }
  if (g.defined()) {
    if (node.released) fail(freed_message(node));
    if (node.hooks) g = node_hooks(node, std::move(g));
    if (wanted_)  // an interior tensor asked for by ag::grad: its node's full incoming gradient
      for (std::size_t i = 0; i < wanted_->inputs->size(); ++i)
        if ((*wanted_->inputs)[i].impl()->grad_fn.get() == &node) wanted_->grads[i] = g;
    node.op->backward(node, g, gin);
  }
  Tensor held;
  for (std::size_t i = 0; i < n_in; ++i) {
    Tensor gi = std::move(gin[i]);
    const Tensor* input = resolve(node, i, held);
    if (input && input->defined()) deliver(node, i, *input, std::move(gi));
  }
  if (keep_grads_) node.grad = g.defined() && g.requires_grad() ? g.detach() : g;
  if (!retain_) {
    node.released = true;  // a second backward through the node fails either way
    // Dumps and traces re-run the rule: under the guard keep what a custom backward reads.
    if (node.custom && !keep_grads_) release_saved(*node.custom);
  }
}

void BackwardPass::run(const std::vector<Tensor>& roots, const std::vector<Tensor>& root_grads) {
  collect(roots);
  grads_.resize(nodes_.size());
  for (std::size_t i = 0; i < roots.size(); ++i) {
    TensorImpl* r = roots[i].impl();
    if (r->grad_fn)
      add_into(grads_[r->grad_fn->topo], root_grads[i]);
    else
      arrive_at_leaf(roots[i], root_grads[i]);
  }
  for (std::size_t k = 0; k < nodes_.size(); ++k)  // by index: no node is touched again here
    if (deps_[k] == 0) ready_.push_back(nodes_[k]);
  while (!ready_.empty()) {
    Node* node = ready_.back();
    ready_.pop_back();
    run_node(*node);
  }
  if (!graph_grad_leaves_.empty()) hold_leaves_weakly(std::move(graph_grad_leaves_));
}

void run_backward(const std::vector<Tensor>& roots, const std::vector<Tensor>& root_grads,
                  bool retain_graph, bool create_graph, Wanted* wanted) {
  Restore restore;
  set_grad_enabled(create_graph);
  set_in_backward(true);
  BackwardPass(retain_graph, wanted).run(roots, root_grads);
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
