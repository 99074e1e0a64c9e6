// Internal: what a Tensor handle points to, and the graph node an op records. Included by the
// library's own .cpp files (ops, engine, dumps, nn), never by ag's public headers.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <autograd/registry.hpp>
#include <autograd/tensor.hpp>

namespace ag {

void* alloc_buffer(std::size_t nbytes);
void free_buffer(void* p, std::size_t nbytes);

// A contiguous buffer with a version counter shared by every tensor that views it.
struct Storage {
  void* data = nullptr;
  std::size_t nbytes = 0;
  std::uint64_t version = 0;
  explicit Storage(std::size_t n) : data(alloc_buffer(n)), nbytes(n) {}
  ~Storage() { free_buffer(data, nbytes); }
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
};

struct TensorImpl {
  std::shared_ptr<Storage> storage;
  Shape shape;
  std::size_t numel = 0;
  Dtype dtype = float32;
  bool requires_grad = false;
  std::shared_ptr<Node> grad_fn;  // null for leaves
  Tensor grad;                    // leaves only: accumulated by backward
  std::string name;

  void* data() const { return storage->data; }
};

// One recorded op. It holds its inputs (which keeps the graph walkable for dumps), whatever
// backward reads, and the op's attributes.
struct Node : std::enable_shared_from_this<Node> {
  const OpInfo* op = nullptr;
  std::vector<Tensor> inputs;
  std::vector<std::uint64_t> input_versions;  // when op->saves_inputs
  Tensor result;                              // detached alias of the output (backward and dumps)
  std::uint64_t result_version = 0;
  Tensor saved;                               // one more saved tensor (an index), if any
  Shape out_shape;
  Dtype out_dtype = float32;

  // Attributes: which ones an op uses is written next to the op.
  Axes axes;
  std::vector<std::size_t> index;
  Shape shape;
  double a = 0, b = 0;
  std::ptrdiff_t i0 = 0, i1 = 0;
  bool flag = false, flag2 = false;

  std::shared_ptr<const std::string> scope;  // module path while recorded ("0", "fc1")
  std::uint64_t seq = 0;                      // creation order: deterministic dumps
  Tensor grad;     // the gradient that reached this node in the last backward (detached): dumps
  bool released = false;  // saved tensors freed by a backward without retain_graph
  std::size_t topo = 0;   // engine scratch: index in the current backward's node list
  std::uint64_t visit = 0;  // engine scratch: which backward last visited this node

  ~Node();
  bool needs_grad(std::size_t i) const;
  Tensor input(std::size_t i) const;  // checks the version counter
  Tensor output() const;  // the result; differentiable (re-attached to this node) under create_graph
};

// Helpers for op implementations.
Tensor make_tensor(Shape shape, Dtype dtype);  // uninitialised, contiguous
Tensor alias(const Tensor& t, Shape shape);    // shares storage and version; no grad_fn
std::shared_ptr<const std::string> current_scope();

// Records `op` producing `out` from `inputs` when grad mode is on and any input requires grad.
// Returns the node (for attributes) or nullptr. Also runs anomaly checks on `out`.
Node* record(const OpInfo& op, Tensor& out, std::initializer_list<const Tensor*> inputs);
Node* record(const OpInfo& op, Tensor& out, const std::vector<Tensor>& inputs);

std::string describe(const Tensor& t);  // "'x' {3, 4} float32" or "{3, 4} float32"
[[noreturn]] void fail(const std::string& message);

}  // namespace ag
