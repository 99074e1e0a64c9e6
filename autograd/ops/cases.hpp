// Internal: shorthands for the gradcheck cases each op entry carries (OpDef::cases). A case is
// input shapes with the domain their random values come from, and the function to check;
// tests/autograd/test_registry.cpp runs every entry's cases in float64 and float32.
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <autograd/ops.hpp>
#include <autograd/registry.hpp>

namespace ag::ops::cases {

inline CaseInput A(Shape s) { return {std::move(s), Domain::Any}; }       // normal values
inline CaseInput P(Shape s) { return {std::move(s), Domain::Positive}; }  // in [0.5, 1.5)
inline CaseInput U(Shape s) { return {std::move(s), Domain::Unit}; }      // in (0.05, 0.95)

// An int64 index tensor (gather, scatter_add): never differentiated, so not a case input.
inline Tensor idx(std::vector<double> v, Shape s) {
  return tensor(std::move(v), std::move(s), int64);
}

// A binary op over the broadcasting patterns that matter; `b` is the domain of its second input.
inline std::vector<OpCase> binary_cases(std::function<Tensor(const Tensor&, const Tensor&)> op,
                                        Domain b = Domain::Any) {
  auto f = [op](const std::vector<Tensor>& x) { return op(x[0], x[1]); };
  return {{"same shape", {A({2, 3}), {{2, 3}, b}}, f},
          {"row broadcast", {A({2, 3}), {{3}, b}}, f},
          {"both broadcast", {A({2, 1, 3}), {{4, 1}, b}}, f},
          {"0-d with matrix", {A({}), {{2, 2}, b}}, f},
          {"size-1 dims", {A({1, 3, 1}), {{1, 1, 2}, b}}, f}};
}

// A unary op on a matrix, on size-1 dimensions and on a 0-d tensor.
inline std::vector<OpCase> unary_cases(std::function<Tensor(const Tensor&)> op,
                                       Domain d = Domain::Any) {
  auto f = [op](const std::vector<Tensor>& x) { return op(x[0]); };
  return {{"matrix", {{{2, 3}, d}}, f}, {"size-1 dims", {{{1, 4, 1}, d}}, f}, {"0-d", {{{}, d}}, f}};
}

// The cases above plus more of the same op.
inline std::vector<OpCase> with(std::vector<OpCase> cs, std::vector<OpCase> more) {
  for (OpCase& c : more) cs.push_back(std::move(c));
  return cs;
}

}  // namespace ag::ops::cases
