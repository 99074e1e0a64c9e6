// Recording: what every op's forward calls to add its node to the graph (when grad mode is on and
// an input requires grad), and the anomaly check of its output.
#include <atomic>

#include <autograd/detail/node.hpp>
#include <autograd/engine.hpp>
#include <autograd/kernels/kernels.hpp>

namespace ag {
namespace {
std::atomic<std::uint64_t> g_seq{0};

// A plain node for ops without attributes.
std::shared_ptr<Node> make_plain_node(void*) { return make_pooled<Node>(); }
}  // namespace

Node* record_with(const OpInfo& op, Tensor& out, const Tensor* const* in, std::size_t n,
                  NodeMaker make, void* attrs, const void* tag) {
  if (is_anomaly_enabled() && !in_backward() && !kernels::all_finite(out)) {
    std::string ins;
    for (std::size_t i = 0; i < n; ++i) ins += (i ? ", " : "") + describe(*in[i]);
    fail(std::string(op.name) + ": produced NaN or Inf (anomaly mode) in its output " +
         describe(out) + " from " + ins);
  }
  if (!is_grad_enabled()) return nullptr;
  bool any = false;
  for (std::size_t i = 0; i < n; ++i) any = any || (in[i]->defined() && in[i]->requires_grad());
  if (!any) return nullptr;
  if (tag != op.attrs_tag)
    fail(std::string("internal: op '") + op.name + "' recorded with attributes of another type "
         "than its registry entry declares (OpDef::attrs)");

  std::shared_ptr<Node> node = make(attrs);
  node->op = &op;
  node->inputs.assign(in, n);
  node->output_ref = out.impl_ptr();
  node->result_version = out.version();
  node->scope = current_scope();
  node->seq = ++g_seq;
  Node* raw = node.get();
  out.impl()->grad_fn = std::move(node);
  out.impl()->requires_grad = true;
  return raw;
}

Node* record(const OpInfo& op, Tensor& out, std::initializer_list<const Tensor*> inputs) {
  return record_with(op, out, inputs.begin(), inputs.size(), &make_plain_node, nullptr, nullptr);
}
Node* record(const OpInfo& op, Tensor& out, const std::vector<Tensor>& inputs) {
  std::vector<const Tensor*> ptrs;
  ptrs.reserve(inputs.size());
  for (const Tensor& t : inputs) ptrs.push_back(&t);
  return record_with(op, out, ptrs.data(), ptrs.size(), &make_plain_node, nullptr, nullptr);
}

}  // namespace ag
