// Internal to the teaching tools: the graph reachable from a root, walked once, with stable
// labels, and read back by the DOT dump, the chain-rule trace and the backward page.
#pragma once

#include <autograd/registry.hpp>
#include <autograd/tensor.hpp>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace ag {
struct Node;
}

namespace ag::viz {

enum class Kind { Parameter, Constant, Intermediate };

struct TensorVertex {
  Tensor t;                  // a live handle: the root, a leaf, or a consumer's input
  Node* producer = nullptr;  // null for leaves
  Kind kind = Kind::Constant;
  std::string label;
  std::vector<std::pair<std::size_t, std::size_t>> consumers;  // (op, input slot), forward order
};

struct OpVertex {
  Node* node = nullptr;
  std::string name;                // the op's name ("mul", or a custom function's)
  std::string label;               // "sigmoid#2": op name and its count in forward order
  std::size_t out = 0;             // tensor id of its output
  std::vector<std::ptrdiff_t> in;  // tensor id per input slot; -1 for an undefined input
  std::ptrdiff_t index = -1;       // an int64 tensor the op reads (gathered indices), if any
};

struct Graph {
  std::vector<TensorVertex> tensors;  // index = id, in first-visit order (root is 0)
  std::vector<OpVertex> ops;          // index = id, in first-visit order
  std::vector<std::size_t> forward;   // op ids in creation order (a topological order)
  std::vector<std::size_t> backward;  // op ids in the order the engine runs them
  bool backward_ran = false;          // some node ran (or the root is a leaf with a .grad)
  bool grads_kept = false;            // the nodes kept their gradients (KeepGradsForDumpsGuard)
};

// Throws ag::Error naming `who` unless backward ran with the nodes' gradients kept.
void require_kept_grads(const Graph& g, const Tensor& root, const char* who);

// Throws ag::Error naming `who` for an undefined root.
Graph collect(const Tensor& root, const char* who);

// The value of a tensor vertex (its live handle; an op's saved result as a fallback).
Tensor value_of(const Graph& g, std::size_t ti);
// The gradient of the root with respect to a tensor vertex, as the engine left it.
Tensor stored_grad(const Graph& g, std::size_t ti);
// The gradient that reached an op's output in the last backward (undefined if none).
Tensor op_grad(const OpVertex& o);
// The op's attributes as text ({"p", "3"}), from its registry entry.
AttrList attributes_of(const OpVertex& o);
const OpInfo* info_of(const OpVertex& o);

// "1 (Sequential).0 (Linear)" -> "1.0": the module path as named_parameters() writes it.
std::string module_path(const std::string& scope);
// The module scope an op was recorded in, or nullptr.
const std::string* scope_of(const OpVertex& o);

}  // namespace ag::viz
