// Node: the checked accessors backward code reads its inputs and output through, and the
// destructor that frees long chains without recursion.
#include <autograd/detail/node.hpp>

namespace ag {

void InputList::assign(const Tensor* const* in, std::size_t n) {
  if (n_ != 0) clear();
  if (n > kInline) {
    heap_ = std::make_unique<Heap>();
    heap_->tensors.resize(n);
    heap_->versions.resize(n);
    data_ = heap_->tensors.data();
    versions_ = heap_->versions.data();
  }
  for (std::size_t i = 0; i < n; ++i) {
    data_[i] = *in[i];
    const TensorImpl* impl = in[i]->impl();
    versions_[i] = impl ? impl->storage->version : 0;
  }
  n_ = n;
}

void InputList::clear() {
  for (std::size_t i = 0; i < n_ && i < kInline; ++i) inline_[i] = Tensor();
  heap_.reset();
  data_ = inline_;
  versions_ = inline_versions_;
  n_ = 0;
}

bool Node::needs_grad(std::size_t i) const {
  return i < inputs.size() && inputs[i].defined() && inputs[i].requires_grad();
}

void fail_attrs(const Node& n) {
  fail(std::string("internal: backward of '") + n.op->name +
       "' asked for attributes of another type than the node was recorded with");
}

static std::string modified_message(const Node& n, const std::string& what, const Tensor& t,
                                    std::uint64_t saved, std::uint64_t now) {
  return "backward of '" + std::string(n.op->name) + "': its saved " + what + " " + describe(t) +
         " was modified in place after the forward (version " + std::to_string(now) +
         ", saved at version " + std::to_string(saved) +
         "), so its gradient would be wrong. Modify a clone() instead, or redo the forward.";
}

Tensor Node::input_tensor(std::size_t i) const {
  if (i < weak_leaves.size() && weak_leaves[i].held)
    if (std::shared_ptr<TensorImpl> leaf = weak_leaves[i].ref.lock()) return Tensor(std::move(leaf));
  return inputs[i];
}

bool Node::input_gone(std::size_t i) const {
  return i < weak_leaves.size() && weak_leaves[i].held && weak_leaves[i].ref.expired();
}

static void check_index(const Node& n, std::size_t i) {
  if (i >= n.inputs.size() || !n.inputs[i].defined())
    fail("internal: backward of '" + std::string(n.op->name) + "' asked for input " +
         std::to_string(i) + " of " + std::to_string(n.inputs.size()) +
         (i < n.inputs.size() ? ", which is undefined" : ""));
}

const Shape& Node::input_shape(std::size_t i) const {
  check_index(*this, i);
  return inputs[i].shape();
}

Dtype Node::input_dtype(std::size_t i) const {
  check_index(*this, i);
  return inputs[i].dtype();
}

Tensor Node::input(std::size_t i) const {
  if (i >= inputs.size()) check_index(*this, i);
  Tensor t = input_tensor(i);
  if (op->saves_inputs && t.defined() && t.version() != inputs.version(i))
    fail(modified_message(*this, "input " + std::to_string(i), t, inputs.version(i), t.version()));
  return t;
}

Tensor Node::output() const {
  std::shared_ptr<TensorImpl> impl = output_ref.lock();
  if (!impl) fail("backward of '" + std::string(op->name) + "': its output no longer exists");
  Tensor out(std::move(impl));
  if (out.version() != result_version)
    fail(modified_message(*this, "output", out, result_version, out.version()));
  return out;
}

Tensor Node::result() const {
  std::shared_ptr<TensorImpl> impl = output_ref.lock();
  return impl ? Tensor(std::move(impl)).detach() : Tensor();
}

// Dropping the last handle of a long chain would destroy node after node recursively and
// overflow the stack; instead each destructor hands the producers it would free to the list of
// the outermost destructor on this thread, which frees them one by one. The list lives on that
// destructor's stack, so a node freed after the thread's own objects are gone (a static Tensor
// at exit) is handled the same way.
namespace {
thread_local std::vector<std::shared_ptr<Node>>* t_pending = nullptr;
}  // namespace

Node::~Node() {
  std::vector<std::shared_ptr<Node>> own;
  std::vector<std::shared_ptr<Node>>& pending = t_pending ? *t_pending : own;
  for (Tensor& t : inputs) {
    TensorImpl* impl = t.impl();
    if (impl && impl->grad_fn && t.impl_ptr().use_count() == 1 && impl->grad_fn.use_count() == 1)
      pending.push_back(std::move(impl->grad_fn));
  }
  inputs.clear();
  if (t_pending) return;
  t_pending = &own;
  while (!own.empty()) {
    std::shared_ptr<Node> next = std::move(own.back());
    own.pop_back();
    next.reset();
  }
  t_pending = nullptr;
}

}  // namespace ag
