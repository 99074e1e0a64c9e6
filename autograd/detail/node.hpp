// Internal: the graph node an op records, and recording itself (record / record_with). Op
// files and the engine include this; the kernels do not (they see only detail/tensor_impl.hpp).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <autograd/detail/tensor_impl.hpp>
#include <autograd/registry.hpp>

namespace ag {

class AutogradContext;
void release_saved(AutogradContext& ctx);  // a backward without retain_graph frees what it saved
bool keep_grads_for_dumps();               // KeepGradsForDumpsGuard is alive on this thread

// A node's inputs and their version counters at recording time (read when op->saves_inputs).
// Up to three live inside the node (every elementwise op, matmul, linear: no allocation per
// recorded op); more go to the heap. Reads like a std::vector<Tensor>.
class InputList {
 public:
  InputList() = default;
  InputList(const InputList&) = delete;
  InputList& operator=(const InputList&) = delete;
  void assign(const Tensor* const* in, std::size_t n);  // copies the handles and versions
  void clear();
  std::size_t size() const { return n_; }
  bool empty() const { return n_ == 0; }
  Tensor& operator[](std::size_t i) { return data_[i]; }
  const Tensor& operator[](std::size_t i) const { return data_[i]; }
  Tensor* begin() { return data_; }
  Tensor* end() { return data_ + n_; }
  const Tensor* begin() const { return data_; }
  const Tensor* end() const { return data_ + n_; }
  std::uint64_t version(std::size_t i) const { return versions_[i]; }

 private:
  static constexpr std::size_t kInline = 3;
  struct Heap {  // concat, stack, custom functions with more than three inputs
    std::vector<Tensor> tensors;
    std::vector<std::uint64_t> versions;
  };
  Tensor* data_ = inline_;  // first: what a walk over the graph reads, next to the node's flags
  std::uint64_t* versions_ = inline_versions_;
  std::size_t n_ = 0;
  Tensor inline_[kInline];
  std::uint64_t inline_versions_[kInline] = {0, 0, 0};
  std::unique_ptr<Heap> heap_;
};

// One recorded op. It holds its inputs (which keeps the graph walkable for dumps); the op's own
// settings and saved values are its typed attributes (a NodeWith<Attrs>, read with attrs<>()).
struct Node {
  const OpInfo* op = nullptr;
  // What every backward walk reads of every node comes first, so that it shares a cache line or
  // two with the inputs' handles (graphs larger than the cache are walked twice per backward).
  std::size_t topo = 0;     // engine scratch: index in the current backward's node list
  std::uint64_t visit = 0;  // engine scratch: which backward last visited this node
  bool released = false;    // run by a backward without retain_graph: may not run again
  std::unique_ptr<HookList> hooks;  // hooks and retain_grad of this node's output
  // ag::Function nodes: the context the user's backward reads (autograd/function.cpp).
  std::shared_ptr<AutogradContext> custom;
  InputList inputs;
  // The output, held weakly (a strong reference would be a cycle). It is alive whenever the node
  // can run: a node is reached only from a root or from the inputs of a consumer node.
  std::weak_ptr<TensorImpl> output_ref;
  std::uint64_t result_version = 0;
  // Leaves held weakly, per input (empty for almost every node). A gradient stored in a leaf's
  // .grad under create_graph has a graph that uses the leaf: a strong reference there would be a
  // cycle leaf -> .grad -> graph -> leaf. Such an input becomes a stand-in sharing the leaf's
  // storage (its values stay), and gradients go to the leaf for as long as it lives.
  struct WeakLeaf {
    bool held = false;
    std::weak_ptr<TensorImpl> ref;
  };
  std::vector<WeakLeaf> weak_leaves;

  std::shared_ptr<const std::string> scope;  // module path while recorded ("0", "fc1")
  std::uint64_t seq = 0;                      // creation order: deterministic dumps
  // The gradient that reached this node in the last backward (detached), kept only under
  // KeepGradsForDumpsGuard: graph dumps and chain-rule traces show it.
  Tensor grad;

  // The op's typed attributes (SliceAttrs, PowAttrs, ...), set by record<Attrs>(). Throws
  // ag::Error when the node carries no attributes of that type.
  template <class Attrs> const Attrs& attrs() const;
  const void* attrs_ptr = nullptr;
  const void* attrs_tag = nullptr;

  ~Node();
  // What backward code reads. Each checks the index (and input() the version counter).
  std::size_t num_inputs() const { return inputs.size(); }
  bool needs_grad(std::size_t i) const;
  Tensor input(std::size_t i) const;
  const Shape& input_shape(std::size_t i) const;  // no version check: a shape cannot change
  Dtype input_dtype(std::size_t i) const;
  Tensor input_tensor(std::size_t i) const;  // inputs[i], or the leaf it stands in for if alive
  bool input_gone(std::size_t i) const;      // a weakly held leaf that no longer exists
  // The output for backward formulas (checks the version counter). It leads back to this node,
  // so under create_graph a formula that uses it (sigmoid's y * (1 - y)) is differentiated too.
  Tensor output() const;
  Tensor result() const;  // the output's value, detached, for dumps; undefined once it is gone
};

// A node with its op's attribute struct in the same allocation.
template <class Attrs>
struct NodeWith final : Node {
  Attrs value;
  explicit NodeWith(Attrs attrs) : value(std::move(attrs)) {}
};

// One address per attribute type: what Node::attrs and OpDef::attrs compare.
template <class Attrs>
const void* attrs_tag_of() {
  static const char tag = 0;
  return &tag;
}

[[noreturn]] void fail_attrs(const Node& n);

template <class Attrs>
const Attrs& Node::attrs() const {
  if (attrs_tag != attrs_tag_of<Attrs>()) fail_attrs(*this);
  return *static_cast<const Attrs*>(attrs_ptr);
}

template <class Attrs>
OpDef& OpDef::attrs() {
  info().attrs_tag = attrs_tag_of<Attrs>();
  return *this;
}

// Attribute values as text for OpDef::attributes: the shortest text that reads back as the same
// number ("2", "0.1", "1e-05"), so dumps may reformat it without losing anything.
std::string attr_text(double v);
std::string attr_text(const std::vector<std::size_t>& v);  // "{0, 2}"
inline std::string attr_text(bool v) { return v ? "true" : "false"; }

// Thread-local state kept in modes.cpp: the module scope new nodes are tagged with, and whether a
// backward pass is running on this thread (record() leaves its anomaly checks to the engine then).
std::shared_ptr<const std::string> current_scope();
bool in_backward();
void set_in_backward(bool on);

// Sums a gradient over the axes its input was broadcast along, back to the input's shape (what
// the engine does with every gradient an op returns); `op` names the op in errors.
Tensor sum_to_shape(const Tensor& g, const Shape& shape, const char* op);

// Records `op` producing `out` from `inputs` when grad mode is on and any input requires grad.
// Returns the node (for attributes) or nullptr. Also runs anomaly checks on `out`.
Node* record(const OpInfo& op, Tensor& out, std::initializer_list<const Tensor*> inputs);
Node* record(const OpInfo& op, Tensor& out, const std::vector<Tensor>& inputs);

// The same, for an op with attributes: the node is made with them, and backward reads them back
// with node.attrs<Attrs>(). The op's entry must declare the type with OpDef::attrs<Attrs>().
using NodeMaker = std::shared_ptr<Node> (*)(void* attrs);
Node* record_with(const OpInfo& op, Tensor& out, const Tensor* const* inputs, std::size_t n,
                  NodeMaker make, void* attrs, const void* tag);
template <class Attrs>
std::shared_ptr<Node> make_node_with(void* attrs) {
  auto node = make_pooled<NodeWith<Attrs>>(std::move(*static_cast<Attrs*>(attrs)));
  node->attrs_ptr = &node->value;
  node->attrs_tag = attrs_tag_of<Attrs>();
  return node;
}
template <class Attrs>
Node* record(const OpInfo& op, Tensor& out, std::initializer_list<const Tensor*> inputs,
             Attrs attrs) {
  return record_with(op, out, inputs.begin(), inputs.size(), &make_node_with<Attrs>, &attrs,
                     attrs_tag_of<Attrs>());
}
template <class Attrs>
Node* record(const OpInfo& op, Tensor& out, const std::vector<Tensor>& inputs, Attrs attrs) {
  std::vector<const Tensor*> ptrs;
  ptrs.reserve(inputs.size());
  for (const Tensor& t : inputs) ptrs.push_back(&t);
  return record_with(op, out, ptrs.data(), ptrs.size(), &make_node_with<Attrs>, &attrs,
                     attrs_tag_of<Attrs>());
}

}  // namespace ag
