// gradcheck on functions that call ag::grad themselves, compare_gradients' rule for inputs that
// do not require grad, and the mismatch counts of the reports.
#include <catch2/catch.hpp>

#include <memory>
#include <vector>

#include <autograd/autograd.hpp>
#include <nn/nn.hpp>

#include "support.hpp"

using Catch::Matchers::Contains;
using ag::Tensor;

namespace {
Tensor leaf(std::vector<double> v, ag::Shape s) {
  return ag::tensor(std::move(v), std::move(s), ag::float64).requires_grad_();
}
}  // namespace

TEST_CASE("gradcheck: a gradient penalty that calls ag::grad inside f", "[gradcheck]") {
  Tensor x = leaf({0.3, -0.8, 1.1}, {3});
  Tensor w = leaf({0.7, 0.2, -0.5}, {3});
  // WGAN-GP style: the squared norm of d critic / d x, differentiated with respect to x and w.
  auto penalty = [](const std::vector<Tensor>& in) {
    Tensor critic = ag::tanh(in[0] * in[1]).sum();
    Tensor g = ag::grad({critic}, {in[0]}, {}, false, /*create_graph=*/true)[0];
    return (g * g).sum();
  };
  ag::GradcheckResult r = ag::gradcheck(penalty, {x, w});
  INFO(r.report());
  REQUIRE(r.ok);
  REQUIRE(r.entries.size() == 2);
  {
    ag::NoGradGuard no_grad;  // a caller's no-grad scope does not break the check either
    REQUIRE(ag::gradcheck(penalty, {x, w}).ok);
  }
  ag::GradcheckResult r2 = ag::gradgradcheck(penalty, {x, w});
  INFO(r2.report());
  REQUIRE(r2.ok);
}

TEST_CASE("compare_gradients: inputs that do not require grad are not compared", "[gradcheck]") {
  Tensor x = ag::tensor({1.0, 2.0, 3.0}, {3}, ag::float64).set_name("x");  // data
  Tensor w = leaf({0.5, -1.0, 2.0}, {3}).set_name("w");
  auto f = [](const std::vector<Tensor>& in) { return (in[0] * in[1]).sum(); };
  // The gradient given for x is wrong on purpose: x does not require grad, so it is skipped.
  ag::GradcheckResult r = ag::compare_gradients(
      f, {x, w}, {ag::tensor({9.0, 9.0, 9.0}, {3}, ag::float64), x.detach()});
  INFO(r.report());
  REQUIRE(r.ok);
  REQUIRE(r.entries.size() == 1);
  REQUIRE(r.entries[0].input == "'w'");
  CHECK_THAT(r.report(), Contains("'x' does not require grad") && Contains("not compared"));
  // With no input requiring grad, every float input is checked (as gradcheck does).
  Tensor w0 = w.detach();
  ag::GradcheckResult all = ag::compare_gradients(f, {x, w0}, {w0, x});
  REQUIRE(all.entries.size() == 2);
  REQUIRE(all.ok);
}

TEST_CASE("reports: how many elements are off, and a constant ratio", "[gradcheck]") {
  Tensor x = leaf({1, 2, 3, 4, 5}, {5}).set_name("pred");
  auto loss = [](const std::vector<Tensor>& in) { return (in[0] * in[0]).mean(); };
  // A hand gradient that forgot the 1/N of the mean: 2x instead of 2x/5.
  ag::GradcheckResult r = ag::compare_gradients(
      loss, {x}, {ag::tensor({2, 4, 6, 8, 10}, {5}, ag::float64)});
  std::string report = r.report();
  INFO(report);
  REQUIRE_FALSE(r.ok);
  REQUIRE(r.entries[0].mismatched == 5);
  REQUIRE(r.entries[0].compared == 5);
  CHECK_THAT(report, Contains("'pred': 5 of 5 elements off; autograd/hand-derived ratio 0.20 "
                              "everywhere"));
  // One slipped element: counted, no constant ratio claimed.
  ag::GradcheckResult one = ag::compare_gradients(
      loss, {x}, {ag::tensor({0.4, 0.8, -1.2, 1.6, 2.0}, {5}, ag::float64)});
  CHECK_THAT(one.report(), Contains("'pred': 1 of 5 elements off\n"));
  // gradcheck counts Jacobian entries: a backward three times too large.
  struct Triple : ag::Function<Triple> {
    static Tensor forward(ag::AutogradContext*, Tensor t) { return t * 2.0; }
    static std::vector<Tensor> backward(ag::AutogradContext*, std::vector<Tensor> g) {
      return {g[0] * 6.0};
    }
  };
  Tensor v = leaf({1, 2, 3, 4}, {4}).set_name("v");
  ag::GradcheckResult bad = ag::gradcheck(
      [](const std::vector<Tensor>& in) { return Triple::apply(in[0]); }, {v});
  CHECK_THAT(bad.report(), Contains("'v': 4 of 16 Jacobian entries off; autograd/numeric ratio "
                                    "3.00 everywhere"));
}

namespace {
struct TwoLayer : ag::nn::Module {
  TwoLayer() {
    fc1 = register_module("fc1", std::make_shared<ag::nn::Linear>(3, 2));
    fc2 = register_module("fc2", std::make_shared<ag::nn::Linear>(2, 1));
  }
  std::shared_ptr<ag::nn::Linear> fc1, fc2;
};
}  // namespace

TEST_CASE("reports: module parameters appear under their full names", "[gradcheck]") {
  auto net = std::make_shared<TwoLayer>();
  REQUIRE(net->fc1->weight.name() == "fc1.weight");
  REQUIRE(net->fc2->bias.name() == "fc2.bias");
  auto outer = std::make_shared<ag::nn::Sequential>();
  outer->push_back(net);
  REQUIRE(net->fc1->weight.name() == "0.fc1.weight");  // as named_parameters() spells it
  REQUIRE(outer->named_parameters()[0].first == "0.fc1.weight");
  auto lin = std::make_shared<ag::nn::Linear>(2, 2);
  lin->weight.set_name("mine");
  auto holder = std::make_shared<ag::nn::Sequential>();
  holder->push_back(lin);
  REQUIRE(lin->weight.name() == "mine");  // a name the user set stays
  Tensor x = ag::tensor({0.5, -1.0, 2.0}, {3}, ag::float64);
  auto f = [x](const std::vector<Tensor>& p) {
    return ag::matmul(p[1], ag::tanh(ag::matmul(p[0], x))).sum();
  };
  ag::GradcheckResult r = ag::gradcheck(f, {net->fc1->weight, net->fc2->weight});
  CHECK_THAT(r.report(), Contains("'0.fc1.weight'") && Contains("'0.fc2.weight'"));
}
