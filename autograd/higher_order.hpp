// Functional higher-order helpers, as PyTorch's torch.autograd.functional (which LibTorch lacks).
// Each evaluates f on a fresh tensor standing for x (a detached leaf; under create_graph, when x
// requires grad, a differentiable copy of x, so that the result can be differentiated further),
// with grad mode on even when the caller is under NoGradGuard. Results are detached unless
// create_graph is true. Outputs that do not depend on x give zeros, never an error.
#pragma once

#include <functional>
#include <utility>

#include <autograd/export.hpp>
#include <autograd/tensor.hpp>

AG_API_BEGIN
namespace ag {

/// A function of one tensor, as the functions below differentiate it.
using UnaryFunction = std::function<Tensor(const Tensor&)>;

/// The full Jacobian, shape f(x).shape ++ x.shape: one reverse pass per output element.
Tensor jacobian(const UnaryFunction& f, const Tensor& x, bool create_graph = false);
/// f(x) must have one element; shape x.shape ++ x.shape. The Jacobian of x -> df/dx.
Tensor hessian(const UnaryFunction& f, const Tensor& x, bool create_graph = false);
/// (f(x), v^T J) with v shaped like f(x): one reverse pass.
std::pair<Tensor, Tensor> vjp(const UnaryFunction& f, const Tensor& x, const Tensor& v);
/// (f(x), J v) with v shaped like x, by the double-vjp trick (ag has no forward mode): with a
/// dummy u shaped like f(x), g(u) = J^T u is linear in u, and J v = d(g . v)/du. Two reverse
/// passes, the second through the graph of the first (create_graph).
std::pair<Tensor, Tensor> jvp(const UnaryFunction& f, const Tensor& x, const Tensor& v);
/// (f(x), H v) with f(x) one element and v shaped like x: the gradient of (df/dx . v), i.e.
/// double backward; H is symmetric, so this is also v^T H.
std::pair<Tensor, Tensor> hvp(const UnaryFunction& f, const Tensor& x, const Tensor& v);

}  // namespace ag
AG_API_END
