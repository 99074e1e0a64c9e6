// The chain rule on a micrograd-sized expression: L = (a*b + c) * tanh(d).
// Saves the graph before backward (values only) and after (values and gradients), prints the
// chain rule step by step, writes the backward pass as an interactive page
// (chain_rule_scalar_backward.html in --out), and checks every gradient against its derivative
// worked out by hand.
#include <cmath>
#include <iostream>

#include <autograd/autograd.hpp>

#include "common.hpp"

using ag::Tensor;

namespace {

void picture(const Tensor& root, ex::Args& args, const std::string& name) {
  const std::string svg = args.out_path(name + ".svg");
  try {
    ag::save_graph(root, svg);
    std::cout << "graph saved: " << svg << "\n";
  } catch (const ag::Error& err) {  // no Graphviz: keep the DOT text instead
    ag::save_graph(root, args.out_path(name + ".dot"));
    std::cout << err.what() << "\n(saved the DOT text instead)\n";
  }
}

// The backward pass as a page to step through in class; needs Graphviz, like the SVGs.
void page(const Tensor& root, ex::Args& args, const std::string& name) {
  const std::string html = args.out_path(name + "_backward.html");
  try {
    ag::save_backward_html(root, html);
    std::cout << "backward page saved: " << html << " (open it in a browser)\n";
  } catch (const ag::Error& err) {
    std::cout << err.what() << "\n(no backward page)\n";
  }
}

}  // namespace

int main(int argc, char** argv) {
  ex::Args args;
  args.parse(argc, argv);
  args.apply();

  const double av = 2.0, bv = -3.0, cv = 10.0, dv = 0.5;
  Tensor a = ag::scalar(av, ag::float64).set_name("a").requires_grad_();
  Tensor b = ag::scalar(bv, ag::float64).set_name("b").requires_grad_();
  Tensor c = ag::scalar(cv, ag::float64).set_name("c");  // a constant: no gradient wanted
  Tensor d = ag::scalar(dv, ag::float64).set_name("d").requires_grad_();

  Tensor e = (a * b).set_name("e");
  Tensor f = (e + c).set_name("f");
  Tensor t = ag::tanh(d).set_name("t");
  Tensor L = (f * t).set_name("L");
  std::cout << "L = (a*b + c) * tanh(d) = " << ex::fixed(L.item(), 6) << "\n";
  picture(L, args, "chain_rule_scalar_before");

  {
    ag::KeepGradsForDumpsGuard keep;  // keep every interior gradient for the picture and trace
    L.backward();
  }
  picture(L, args, "chain_rule_scalar_after");
  std::cout << "\n" << ag::chain_rule_trace(L) << "\n";
  page(L, args, "chain_rule_scalar");

  // By hand: dL/da = tanh(d) b, dL/db = tanh(d) a, dL/dd = (a b + c) (1 - tanh(d)^2).
  const double th = std::tanh(dv);
  const double da = th * bv, db = th * av, dd = (av * bv + cv) * (1 - th * th);
  std::cout << "by hand: dL/da = tanh(d) * b = " << ex::fixed(da, 6)
            << ", dL/db = tanh(d) * a = " << ex::fixed(db, 6)
            << ", dL/dd = (a*b + c) * (1 - tanh(d)^2) = " << ex::fixed(dd, 6) << "\n";
  ex::expect(std::fabs(a.grad().item() - da) < 1e-12, "dL/da = tanh(d) * b");
  ex::expect(std::fabs(b.grad().item() - db) < 1e-12, "dL/db = tanh(d) * a");
  ex::expect(std::fabs(d.grad().item() - dd) < 1e-12, "dL/dd = (a*b + c) * (1 - tanh(d)^2)");
  ex::expect(!c.grad().defined(), "the constant c gets no gradient");

  // The whole expression through gradcheck (central differences) as a second opinion.
  auto expr = [&](const std::vector<Tensor>& in) { return (in[0] * in[1] + c) * ag::tanh(in[2]); };
  ag::GradcheckResult r = ag::gradcheck(expr, {a, b, d});
  std::cout << "\n" << r.report();
  ex::expect(r.ok, "gradcheck agrees with backward");
  return ex::exit_code();
}
