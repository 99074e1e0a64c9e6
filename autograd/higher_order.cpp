// jacobian, hessian, vjp, jvp, hvp: compositions of ag::grad (see higher_order.hpp).
#include <autograd/detail/impl.hpp>
#include <autograd/engine.hpp>
#include <autograd/higher_order.hpp>
#include <autograd/ops.hpp>

namespace ag {
namespace {

struct EnableGrad {  // the helpers need a graph even when called under NoGradGuard
  bool previous = is_grad_enabled();
  EnableGrad() { set_grad_enabled(true); }
  ~EnableGrad() { set_grad_enabled(previous); }
};

// The tensor f is evaluated at: a differentiable copy of x when the result must stay
// differentiable with respect to x, else a fresh leaf sharing x's values.
Tensor stand_in(const char* op, const Tensor& x, bool create_graph) {
  if (!x.defined()) fail(std::string(op) + ": x is undefined");
  if (!is_floating(x.dtype()))
    fail(std::string(op) + ": x must be float32 or float64, got " + describe(x));
  if (create_graph && x.requires_grad()) return x.clone();
  Tensor leaf = x.detach();
  leaf.set_name(x.name());
  return leaf.requires_grad_();
}

Tensor call(const char* op, const UnaryFunction& f, const Tensor& x) {
  Tensor y = f(x);
  if (!y.defined()) fail(std::string(op) + ": f returned an undefined tensor");
  if (!is_floating(y.dtype()))
    fail(std::string(op) + ": f must return a float tensor, got " + describe(y));
  return y;
}

// d(y . seed)/dx, zeros where y does not depend on x.
Tensor vjp_of(const Tensor& y, const Tensor& x, const Tensor& seed, bool create_graph) {
  if (!y.requires_grad()) return zeros(x.shape(), x.dtype());
  Tensor g = grad({y}, {x}, {seed}, /*retain_graph=*/true, create_graph, /*allow_unused=*/true)[0];
  return g.defined() ? g : zeros(x.shape(), x.dtype());
}

void check_shape(const char* op, const Tensor& v, const Tensor& like, const char* what) {
  if (!v.defined() || v.shape() != like.shape() || v.dtype() != like.dtype())
    fail(std::string(op) + ": v " + describe(v) + " must have the shape and dtype of " + what +
         " " + describe(like));
}

Tensor result(Tensor t, bool create_graph) { return create_graph ? t : t.detach(); }

Shape joined(const Shape& a, const Shape& b) {
  Shape s = a;
  s.insert(s.end(), b.begin(), b.end());
  return s;
}

// Rows of the Jacobian of y with respect to xi, one reverse pass each (seeded with a one-hot
// vector), stacked: recorded ops under create_graph, so the Jacobian is differentiable.
Tensor jacobian_of(const Tensor& y, const Tensor& xi, bool create_graph) {
  Shape shape = joined(y.shape(), xi.shape());
  if (y.numel() == 0 || xi.numel() == 0) return zeros(shape, xi.dtype());
  std::vector<Tensor> rows;
  for (std::size_t j = 0; j < y.numel(); ++j) {
    std::vector<double> one_hot(y.numel(), 0.0);
    one_hot[j] = 1;
    Tensor seed = tensor(std::move(one_hot), y.shape(), y.dtype());
    rows.push_back(reshape(vjp_of(y, xi, seed, create_graph), {xi.numel()}));
  }
  return reshape(stack(rows, 0), shape);
}

}  // namespace

Tensor jacobian(const UnaryFunction& f, const Tensor& x, bool create_graph) {
  EnableGrad enable;
  Tensor xi = stand_in("jacobian", x, create_graph);
  Tensor y = call("jacobian", f, xi);
  return result(jacobian_of(y, xi, create_graph), create_graph);
}

Tensor hessian(const UnaryFunction& f, const Tensor& x, bool create_graph) {
  EnableGrad enable;
  Tensor xi = stand_in("hessian", x, create_graph);
  Tensor y = call("hessian", f, xi);
  if (y.numel() != 1)
    fail("hessian: f must return one element, got " + describe(y) + "; use jacobian for "
         "vector-valued functions");
  Tensor g = vjp_of(y, xi, ones(y.shape(), y.dtype()), /*create_graph=*/true);
  return result(jacobian_of(g, xi, create_graph), create_graph);
}

std::pair<Tensor, Tensor> vjp(const UnaryFunction& f, const Tensor& x, const Tensor& v) {
  EnableGrad enable;
  Tensor xi = stand_in("vjp", x, false);
  Tensor y = call("vjp", f, xi);
  check_shape("vjp", v, y, "f(x)");
  return {y.detach(), vjp_of(y, xi, v.detach(), false).detach()};
}

std::pair<Tensor, Tensor> jvp(const UnaryFunction& f, const Tensor& x, const Tensor& v) {
  EnableGrad enable;
  Tensor xi = stand_in("jvp", x, false);
  check_shape("jvp", v, xi, "x");
  Tensor y = call("jvp", f, xi);
  Tensor u = zeros(y.shape(), y.dtype()).requires_grad_();
  Tensor g = vjp_of(y, xi, u, /*create_graph=*/true);  // J^T u, linear in u
  Tensor jv = vjp_of(g, u, v.detach(), false);
  return {y.detach(), jv.detach()};
}

std::pair<Tensor, Tensor> hvp(const UnaryFunction& f, const Tensor& x, const Tensor& v) {
  EnableGrad enable;
  Tensor xi = stand_in("hvp", x, false);
  check_shape("hvp", v, xi, "x");
  Tensor y = call("hvp", f, xi);
  if (y.numel() != 1) fail("hvp: f must return one element, got " + describe(y));
  Tensor g = vjp_of(y, xi, ones(y.shape(), y.dtype()), /*create_graph=*/true);
  return {y.detach(), vjp_of(g, xi, v.detach(), false).detach()};
}

}  // namespace ag
