// The op registry: one entry per differentiable primitive, written next to its forward in
// autograd/ops/*.cpp with register_op(OpDef(...)...). Registration follows from the entry: there
// is no list to keep in sync, and since record() takes only a registered OpInfo, an op that
// records without being registered does not compile. Tests walk op_registry() and gradcheck each
// entry's own cases, so no op can skip the checks. See docs/adding_an_op.md.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <autograd/export.hpp>

AG_API_BEGIN
namespace ag {

struct Node;
class Tensor;
using Shape = std::vector<std::size_t>;  ///< a tensor's shape (as in autograd/tensor.hpp)

/// Fills grad_in[i] with dL/d(input i) given dL/d(output). Written with ag ops, so that a
/// backward run with create_graph records it and gradients of gradients come for free.
using BackwardFn = void (*)(const Node& node, const Tensor& grad_out, Tensor* grad_in);

/// A gradcheck case, stored with the op it checks: input shapes with the domain their random
/// values are drawn from, and the function of those inputs to check. Shorthands for writing them
/// (A, P, U, binary_cases, unary_cases) are in autograd/ops/cases.hpp.
enum class Domain { Any, Positive, Unit };  ///< normal; in [0.5, 1.5); in (0.05, 0.95)
/// One input of a gradcheck case: its shape and where its random float64 values come from.
struct CaseInput {
  Shape shape;                  ///< the input's shape
  Domain domain = Domain::Any;  ///< the range its values are drawn from
};
/// One gradcheck case of an op: f applied to random inputs, checked at these tolerances.
struct OpCase {
  std::string what;               ///< the case's description in test output
  std::vector<CaseInput> inputs;  ///< the inputs f takes
  std::function<Tensor(const std::vector<Tensor>&)> f;  ///< the function checked
  double eps = 1e-6;   ///< gradcheck's finite-difference step for this case
  double atol = 1e-5;  ///< gradcheck's absolute tolerance for this case
  double rtol = 1e-3;  ///< gradcheck's relative tolerance for this case
};
using CasesFn = std::vector<OpCase> (*)();  ///< returns an op's gradcheck cases

/// A node's attributes as text, for graph dumps and traces: {{"p", "3"}, {"axis", "1"}}.
using AttrList = std::vector<std::pair<std::string, std::string>>;
using AttrsFn = AttrList (*)(const Node& node);  ///< a node's attributes as text
/// The int64 tensor an op reads besides its inputs (gather's indices), for dumps to draw it.
using IndexFn = Tensor (*)(const Node& node);

/// One registered op: its name, backward, formulas and the gradcheck cases every op must have.
class OpInfo {
 public:
  const char* name = nullptr;     ///< unique, as shown in dumps and error messages ("mul")
  BackwardFn backward = nullptr;  ///< computes the inputs' gradients
  /// The local derivative, one formula per input, in placeholders the teaching tools fill with
  /// the tensors' own names: {0}, {1}, ... the inputs; {y} the output; dy the incoming gradient;
  /// {name} an attribute from `attributes`. mul: {"dy * {1}", "dy * {0}"}. An op taking any
  /// number of inputs (concat) gives one formula for all of them, with {i} for the input.
  std::vector<std::string> grads;
  const char* rule = "";        ///< the same rule in words, for tooltips and the trace's headline
  bool saves_inputs = false;    ///< backward reads the inputs' values (guarded by version counters)
  bool smooth = false;          ///< twice differentiable where tests sample: gets gradgradcheck
  bool elementwise = false;     ///< dx = dy * f'(...) element by element: traces multiply it out
  CasesFn cases = nullptr;      ///< gradcheck cases (tests/autograd/test_registry.cpp runs them)
  AttrsFn attributes = nullptr; ///< named attributes for dumps; nullptr: none
  IndexFn index = nullptr;      ///< an int64 tensor the op reads, drawn as a constant; or none
  const void* attrs_tag = nullptr;  ///< the attribute struct's type (Node::attrs checks it)

 private:
  OpInfo() {}  ///< user-provided, so OpInfo is no aggregate: only OpDef makes one
  friend class OpDef;
};

/// Builder for an entry. Chain the parts, then pass it to register_op:
///   const OpInfo& op_mul = register_op(OpDef("mul").backward(mul_backward)
///       .grads({"dy * {1}", "dy * {0}"}).saves_inputs().smooth().elementwise().cases(...));
class OpDef {
 public:
  explicit OpDef(const char* name) { info_.name = name; }  ///< an entry for the op `name`
  /// Setters of the OpInfo field of the same name; each returns *this, for chaining.
  ///@{
  OpDef& backward(BackwardFn f) { info_.backward = f; return *this; }
  OpDef& grads(std::vector<std::string> per_input) { info_.grads = std::move(per_input); return *this; }
  OpDef& rule(const char* words) { info_.rule = words; return *this; }
  OpDef& saves_inputs() { info_.saves_inputs = true; return *this; }
  OpDef& smooth() { info_.smooth = true; return *this; }
  OpDef& elementwise() { info_.elementwise = true; return *this; }
  OpDef& cases(CasesFn f) { info_.cases = f; return *this; }
  OpDef& attributes(AttrsFn f) { info_.attributes = f; return *this; }
  OpDef& index(IndexFn f) { info_.index = f; return *this; }
  ///@}
  template <class Attrs> OpDef& attrs();  ///< declares the attribute struct (detail/impl.hpp)
  const OpInfo& info() const { return info_; }  ///< the entry as built so far
  OpInfo& info() { return info_; }              ///< the entry as built so far, to change

 private:
  OpInfo info_;
};

/// Stores the entry for the life of the program and returns it. Called once per op, during
/// static initialisation of the op's file; a second entry with the same name throws.
const OpInfo& register_op(OpDef def);

/// The same storage for the ops of ag::Function subclasses, one per function name: they record
/// like built-in ops but are not listed in op_registry(), whose entries the tests gradcheck.
/// Registering a name again returns the existing entry.
const OpInfo& register_custom_op(OpDef def);

/// Every registered op, in registration order. A program linked against the static library holds
/// the entries of the op files it links (the tests link all of them: WHOLE_ARCHIVE).
const std::vector<const OpInfo*>& op_registry();

}  // namespace ag
AG_API_END
