// chain_rule_trace: every number it prints is checked against a value worked out by hand here.
#include <cmath>

#include <autograd/autograd.hpp>
#include <nn/nn.hpp>

#include "util.hpp"

using namespace ag;
using graph_test::numbers_in;
using graph_test::require_close;
using graph_test::step;
using graph_test::step_result;

namespace {

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("trace of (a*b + c) * tanh(d) matches the hand derivation", "[graph][trace]") {
  ag::KeepGradsForDumpsGuard keep;  // the dump shows every gradient of the backward
  Tensor a = scalar(2.0).set_name("a").requires_grad_();
  Tensor b = scalar(-3.0).set_name("b").requires_grad_();
  Tensor c = scalar(10.0).set_name("c");
  Tensor d = scalar(0.5).set_name("d").requires_grad_();
  Tensor e = (a * b).set_name("e");
  Tensor f = (e + c).set_name("f");
  Tensor t = tanh(d).set_name("t");
  Tensor L = (f * t).set_name("L");
  CHECK_THROWS_WITH(chain_rule_trace(L), Catch::Contains("chain_rule_trace") &&
                                             Catch::Contains("backward"));
  L.backward();
  const std::string trace = chain_rule_trace(L);
  INFO(trace);

  // By hand: e = -6, f = 4, t = tanh(0.5), L = f t.
  const double tv = std::tanh(0.5), fv = 4.0;
  CHECK(trace.find("t = tanh(d) = 0.4621") != std::string::npos);
  CHECK(trace.find("e = a * b = -6") != std::string::npos);
  CHECK(trace.find("L = f * t = 1.848") != std::string::npos);
  CHECK(trace.find("dL/dL = 1") != std::string::npos);

  // L = f * t: dL/df = t, dL/dt = f.
  CHECK(step(trace, "dL/df")[0] == "dL/dL * t");
  require_close(step_result(trace, "dL/df"), {tv});
  require_close(step_result(trace, "dL/dt"), {fv});
  // t = tanh(d): the local rule, then dL/dt times the local factor 1 - t^2, multiplied out.
  CHECK(trace.find("local derivative: dd = dt * (1 - t^2)") != std::string::npos);
  const auto dd = step(trace, "dL/dd");
  REQUIRE(dd.size() == 3);
  CHECK(dd[0] == "dL/dt * (1 - t^2)");
  require_close(numbers_in(dd[1]), {fv, 1 - tv * tv});
  require_close(numbers_in(dd[2]), {fv * (1 - tv * tv)});
  // f = e + c: c is a constant, so only e gets a gradient.
  require_close(step_result(trace, "dL/de"), {tv});
  CHECK(trace.find("dL/dc") == std::string::npos);
  // e = a * b.
  CHECK(step(trace, "dL/da")[0] == "dL/de * b");
  require_close(step_result(trace, "dL/da"), {tv * -3.0});
  require_close(step_result(trace, "dL/db"), {tv * 2.0});
  // The summary of the parameters agrees with the engine's .grad.
  require_close(step_result(trace, "dL/da", 1), {a.grad().item()});
  require_close(step_result(trace, "dL/dd", 1), {d.grad().item()});

  // More digits on request.
  DotOptions precise;
  precise.precision = 8;
  const std::string fine = chain_rule_trace(L, precise);
  CHECK(step(fine, "dL/dd").back().size() >= 9);  // "3.1457909": 8 significant digits
  require_close(step_result(fine, "dL/dd"), {fv * (1 - tv * tv)}, 1e-6);
}

TEST_CASE("trace writes each rule in the tensors' own names", "[graph][trace]") {
  ag::KeepGradsForDumpsGuard keep;
  // The generic rule of mul is "da = dy * b"; here b is the user's bias elsewhere.
  Tensor x = scalar(2.0).set_name("x").requires_grad_();
  Tensor w = scalar(-0.5).set_name("w").requires_grad_();
  Tensor b = scalar(1.0).set_name("b").requires_grad_();
  Tensor y = (x * w).set_name("y");
  Tensor L = sigmoid(y + b).set_name("L");
  L.backward();
  const std::string trace = chain_rule_trace(L);
  INFO(trace);
  CHECK(trace.find("local derivative: dx = dy * w; dw = dy * x\n") != std::string::npos);
  CHECK(trace.find("local derivative: dy = dadd#1; db = dadd#1\n") != std::string::npos);
  CHECK(step(trace, "dL/dx")[0] == "dL/dy * w");
  CHECK(step(trace, "dL/dw")[0] == "dL/dy * x");
  const double s = 1 / (1 + std::exp(0.0)), ds = s * (1 - s);  // y + b = 0
  require_close(step_result(trace, "dL/dx"), {ds * -0.5});
  require_close(step_result(trace, "dL/dw"), {ds * 2.0});
}

TEST_CASE("trace adds up a gradient that arrives along several paths", "[graph][trace]") {
  ag::KeepGradsForDumpsGuard keep;  // the dump shows every gradient of the backward
  // L = x * sigmoid(x): x reaches L directly and through the sigmoid.
  Tensor x = scalar(0.5, float64).set_name("x").requires_grad_();
  Tensor s = sigmoid(x).set_name("s");
  Tensor L = (x * s).set_name("L");
  L.backward();
  const std::string trace = chain_rule_trace(L);
  INFO(trace);
  const double sv = 1 / (1 + std::exp(-0.5));
  const double direct = sv, through = 0.5 * sv * (1 - sv);
  CHECK(trace.find("dL/dx arrives along 2 paths") != std::string::npos);
  // Occurrences of "dL/dx = ": in the mul step, in the sigmoid step, then the sum.
  require_close(step_result(trace, "dL/dx", 0), {direct});
  const auto via_sigmoid = step(trace, "dL/dx", 1);
  CHECK(via_sigmoid[0] == "dL/ds * s * (1 - s)");
  require_close(numbers_in(via_sigmoid[1]), {0.5, sv * (1 - sv)});
  require_close(step_result(trace, "dL/dx", 1), {through});
  const auto sum = step(trace, "dL/dx", 2);
  CHECK(sum[0] == "dL/dx (via mul#1) + dL/dx (via sigmoid#1)");
  require_close(numbers_in(sum[1]), {direct, through});
  require_close(step_result(trace, "dL/dx", 2), {direct + through});
  CHECK(x.grad().item() == Approx(direct + through));
}

TEST_CASE("trace sums an interior tensor's paths before going on", "[graph][trace]") {
  ag::KeepGradsForDumpsGuard keep;  // the dump shows every gradient of the backward
  // u = 3x is used twice by one op: L = u * u, so dL/du = u + u, then dL/dx = 3 dL/du.
  Tensor x = scalar(2.0).set_name("x").requires_grad_();
  Tensor u = (x * 3.0).set_name("u");
  Tensor L = (u * u).set_name("L");
  L.backward();
  const std::string trace = chain_rule_trace(L);
  INFO(trace);
  CHECK(trace.find("u = x * 3 = 6") != std::string::npos);
  CHECK(step(trace, "dL/du", 2)[0] == "dL/du (via mul#1, input 1) + dL/du (via mul#1, input 2)");
  require_close(numbers_in(step(trace, "dL/du", 2)[1]), {6, 6});
  require_close(step_result(trace, "dL/du", 2), {12});
  // The sum comes before the step that uses it.
  CHECK(trace.find("dL/du arrives along 2 paths") < trace.find("u = x * 3\n"));
  const auto dx = step(trace, "dL/dx");
  CHECK(dx[0] == "dL/du * 3");
  require_close(numbers_in(dx[1]), {12, 3});
  require_close(step_result(trace, "dL/dx"), {36});
}

TEST_CASE("trace of a small layer: vectors and matrices in full", "[graph][trace]") {
  ag::KeepGradsForDumpsGuard keep;  // the dump shows every gradient of the backward
  const std::vector<double> W_values{0.1, -0.2, 0.3, 0.4, 0.5, -0.6}, xv{1.0, 2.0, -1.0};
  Tensor W = tensor(W_values, {2, 3}, float64).set_name("W").requires_grad_();
  Tensor x = tensor(xv, {3}, float64).set_name("x");
  Tensor z = matmul(W, x).set_name("z");
  Tensor h = sigmoid(z).set_name("h");
  Tensor L = sum(h).set_name("L");
  L.backward();
  const std::string trace = chain_rule_trace(L);
  INFO(trace);
  // By hand: z = W x, h = sigmoid(z), dL/dh = 1, dL/dz = h (1 - h), dL/dW = dL/dz x^T.
  double zv[2], hv[2], dz[2];
  for (int i = 0; i < 2; ++i) {
    zv[i] = 0;
    for (int j = 0; j < 3; ++j) zv[i] += W_values[3 * i + j] * xv[j];
    hv[i] = 1 / (1 + std::exp(-zv[i]));
    dz[i] = hv[i] * (1 - hv[i]);
  }
  require_close(step_result(trace, "dL/dh"), {1, 1});
  const auto dzs = step(trace, "dL/dz");
  CHECK(dzs[0] == "dL/dh * h * (1 - h)");
  require_close(numbers_in(dzs[1]), {1, 1, dz[0], dz[1]});
  require_close(step_result(trace, "dL/dz"), {dz[0], dz[1]});
  std::vector<double> dW;
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j) dW.push_back(dz[i] * xv[j]);
  require_close(step_result(trace, "dL/dW", 1), dW);  // the parameters' summary
  // The rule in the tensors' own names (x as matmul reshaped it); the constant gets no rule.
  CHECK(trace.find("local derivative: dW = dmatmul#1 @ const#1^T\n") != std::string::npos);
}

TEST_CASE("trace shows a broadcast gradient summed back to its input's shape", "[graph][trace]") {
  ag::KeepGradsForDumpsGuard keep;  // the dump shows every gradient of the backward
  Tensor x = tensor({1.0, 2.0, 3.0, 4.0, 5.0, 6.0}, {3, 2}, float64).set_name("x");
  Tensor b = tensor({0.5, -1.0}, {2}, float64).set_name("b").requires_grad_();
  Tensor y = (x + b).set_name("y");
  Tensor L = sum(y * y).set_name("L");
  L.backward();
  const std::string trace = chain_rule_trace(L);
  INFO(trace);
  // dL/db_j = sum_i 2 (x_ij + b_j)
  const double db0 = 2 * ((1 + 0.5) + (3 + 0.5) + (5 + 0.5));
  const double db1 = 2 * ((2 - 1.0) + (4 - 1.0) + (6 - 1.0));
  CHECK(trace.find("(before summing over the broadcast axes)") != std::string::npos);
  require_close(step_result(trace, "dL/db"), {db0, db1});
}

TEST_CASE("trace re-runs rules that read saved indices after a plain backward", "[graph][trace]") {
  // max keeps the index of the maximum; backward without retain_graph frees it, except under
  // KeepGradsForDumpsGuard, which keeps what the trace re-runs.
  Tensor x = tensor({1.0, 5.0, 2.0}).set_name("x").requires_grad_();
  Tensor m = max(x, 0).set_name("m");
  Tensor L = (m * 2.0).set_name("L");
  {
    ag::KeepGradsForDumpsGuard keep;
    L.backward();
  }
  const std::string trace = chain_rule_trace(L);
  INFO(trace);
  CHECK(trace.find("not recomputed") == std::string::npos);
  require_close(step_result(trace, "dL/dm"), {2});
  require_close(step_result(trace, "dL/dx"), {0, 2, 0});  // the max's step itself
  // The graph is still released: a second backward through it fails as without the guard.
  CHECK_THROWS_WITH(L.backward(), Catch::Contains("retain_graph"));
}

TEST_CASE("trace needs the gradients KeepGradsForDumpsGuard keeps", "[graph][trace]") {
  Tensor w = scalar(3.0).set_name("w").requires_grad_();
  Tensor L = sigmoid(w * w).set_name("L");
  L.backward();
  CHECK_THROWS_WITH(chain_rule_trace(L), Catch::Contains("chain_rule_trace") &&
                                             Catch::Contains("KeepGradsForDumpsGuard"));
  CHECK(to_dot(L).find("interior gradients were not kept") != std::string::npos);
}

TEST_CASE("trace notes a .grad that accumulated over several backward calls", "[graph][trace]") {
  ag::KeepGradsForDumpsGuard keep;  // the dump shows every gradient of the backward
  Tensor w = scalar(3.0).set_name("w").requires_grad_();
  Tensor L = (w * w).set_name("L");
  L.backward({}, true);
  L.backward({}, true);
  const std::string trace = chain_rule_trace(L);
  INFO(trace);
  require_close(step_result(trace, "dL/dw", 2), {6});  // this backward's gradient: 3 + 3
  CHECK(trace.find("w.grad holds 12") != std::string::npos);
}

TEST_CASE("trace of ag::grad and of very deep graphs", "[graph][trace]") {
  ag::KeepGradsForDumpsGuard keep;  // the dump shows every gradient of the backward
  Tensor x = scalar(1.5, float64).set_name("x").requires_grad_();
  Tensor y = x;
  const int depth = 20000;
  for (int i = 0; i < depth; ++i) y = y * 1.0;
  y.set_name("y");
  auto g = ag::grad({y}, {x}, {}, /*retain_graph=*/true);
  REQUIRE(g[0].item() == Approx(1.0));
  const std::string trace = chain_rule_trace(y);
  CHECK(count(trace, "local derivative: ") == static_cast<std::size_t>(depth));
  CHECK(trace.find("local derivative: dx = dmul_scalar#1 * 1\n") != std::string::npos);
  require_close(step_result(trace, "dy/dx", 1), {1.0});  // ag::grad leaves .grad alone
  CHECK_FALSE(x.grad().defined());
}

TEST_CASE("trace of cross_entropy: every step has its numbers", "[graph][trace]") {
  Tensor logits = tensor({1.0, 2.0, 0.5, 0.1, -1.0, 2.0}, {2, 3}, float64).set_name("logits")
                      .requires_grad_();
  Tensor labels = tensor({2.0, 0.0}, {2}, int64).set_name("labels");
  Tensor loss = nn::functional::cross_entropy(logits, labels).set_name("loss");
  {
    ag::KeepGradsForDumpsGuard keep;  // also keeps the labels gather reads
    loss.backward();
  }
  const std::string trace = chain_rule_trace(loss);
  INFO(trace);
  CHECK(trace.find("numbers not recomputed") == std::string::npos);
  // One fused node: its value, and its rule with the tensors' own names.
  CHECK(trace.find("loss = cross_entropy(logits, labels) = 2.023") != std::string::npos);
  CHECK(trace.find("dlogits = (softmax(logits) - onehot(labels)) * dloss / 2") !=
        std::string::npos);
  require_close(step_result(trace, "dloss/dlogits", 1), logits.grad().to_vector());
}

TEST_CASE("trace of the composite nll_loss(log_softmax): every step has its numbers",
          "[graph][trace]") {
  // What cross_entropy computes, spelled out as its parts: the steps a teacher can unfold.
  Tensor logits = tensor({1.0, 2.0, 0.5, 0.1, -1.0, 2.0}, {2, 3}, float64).set_name("logits")
                      .requires_grad_();
  Tensor labels = tensor({2.0, 0.0}, {2}, int64).set_name("labels");
  Tensor loss = nn::functional::nll_loss(log_softmax(logits, 1), labels).set_name("loss");
  {
    ag::KeepGradsForDumpsGuard keep;  // also keeps the labels gather reads
    loss.backward();
  }
  const std::string trace = chain_rule_trace(loss);
  INFO(trace);
  CHECK(trace.find("numbers not recomputed") == std::string::npos);
  CHECK(trace.find("gather#1 = gather(log_softmax#1, index#1) = [[-1.964], [-2.082]]") !=
        std::string::npos);
  CHECK(loss.item() == Approx(nn::functional::cross_entropy(logits, labels).item()));
  require_close(step_result(trace, "dloss/dlogits", 1), logits.grad().to_vector());
}

TEST_CASE("trace steps follow the order the engine runs the nodes", "[graph][trace]") {
  // A hook on an op's output runs just before the engine runs that op: the hooks' order is the
  // engine's, which the trace must follow (it is not the reverse of creation order here).
  Tensor a = scalar(2.0).set_name("a").requires_grad_();
  Tensor b = scalar(-3.0).set_name("b").requires_grad_();
  Tensor d = scalar(0.5).set_name("d").requires_grad_();
  Tensor t = tanh(d).set_name("t");
  Tensor u = (t * 3.0).set_name("u");
  Tensor e = (a * b).set_name("e");
  Tensor f = (e + 10.0).set_name("f");
  Tensor L = (f * u).set_name("L");
  std::vector<std::string> ran;
  for (Tensor* x : {&e, &f, &t, &u, &L}) {
    const std::string name = x->name();
    x->register_hook([&ran, name](const Tensor&) {
      ran.push_back(name);
      return Tensor();
    });
  }
  {
    ag::KeepGradsForDumpsGuard keep;
    L.backward();
  }
  const std::string trace = chain_rule_trace(L);
  INFO(trace);
  std::vector<std::string> steps;
  bool backward = false;
  for (const std::string& line : graph_test::lines_of(trace)) {
    if (line.rfind("Backward pass", 0) == 0) backward = true;
    if (backward && line.rfind("  ", 0) == 0 && line[2] != ' ' && line.rfind("  dL/", 0) != 0)
      steps.push_back(line.substr(2, line.find(" = ") - 2));
  }
  CHECK(steps == ran);
  CHECK(steps != std::vector<std::string>{"L", "f", "e", "u", "t"});  // not creation order reversed
}

namespace {

struct Cube : ag::Function<Cube> {
  static constexpr const char* name = "Cube";
  static Tensor forward(ag::AutogradContext* ctx, Tensor x) {
    ctx->save_for_backward({x});
    return x * x * x;
  }
  static std::vector<Tensor> backward(ag::AutogradContext* ctx, std::vector<Tensor> grad_outputs) {
    Tensor x = ctx->get_saved_variables()[0];
    return {grad_outputs[0] * 3.0 * x * x};
  }
};

}  // namespace

TEST_CASE("dumps and traces show a custom function's name and its custom backward", "[graph][trace]") {
  Tensor x = scalar(2.0, float64).set_name("x").requires_grad_();
  Tensor y = Cube::apply(x).set_name("y");
  Tensor L = (y * 0.5).set_name("L");
  {
    ag::KeepGradsForDumpsGuard keep;  // also keeps Cube's saved x for the trace
    L.backward();
  }
  const std::string dot = to_dot(L);
  CHECK(dot.find("label=\"Cube\\ncustom backward\"") != std::string::npos);
  const std::string trace = chain_rule_trace(L);
  INFO(trace);
  CHECK(trace.find("y = Cube(x) = 8") != std::string::npos);
  CHECK(trace.find("local derivative: custom backward") != std::string::npos);
  CHECK(trace.find("not recomputed") == std::string::npos);
  require_close(step_result(trace, "dL/dx"), {0.5 * 3 * 4});  // re-run: 0.5 * 3 x^2
}
