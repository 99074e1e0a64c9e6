// to_dot: golden text, determinism, styles, data-flow edges, escaping, summaries, module
// clusters and deep graphs. Graphviz itself judges every dump these tests produce.
#include <cstdlib>

#include <autograd/autograd.hpp>
#include <nn/nn.hpp>

#include "util.hpp"

using namespace ag;
using graph_test::require_graphviz_accepts;

namespace {

struct Scalars {
  Tensor a, b, c, d, L;
};

// micrograd's example: L = (a*b + c) * tanh(d), with c a constant.
Scalars scalar_graph() {
  Scalars s;
  s.a = scalar(2.0).set_name("a").requires_grad_();
  s.b = scalar(-3.0).set_name("b").requires_grad_();
  s.c = scalar(10.0).set_name("c");
  s.d = scalar(0.5).set_name("d").requires_grad_();
  Tensor e = (s.a * s.b).set_name("e");
  Tensor f = (e + s.c).set_name("f");
  Tensor t = tanh(s.d).set_name("t");
  s.L = (f * t).set_name("L");
  return s;
}

void check_golden(const std::string& text, const std::string& file) {
  const std::string path = std::string(AG_SOURCE_DIR) + "/tests/graph/golden/" + file;
  if (std::getenv("AG_UPDATE_GOLDEN")) {
    graph_test::write_text(path, text);
    WARN("rewrote " << path);
  }
  INFO("golden file " << path << " (AG_UPDATE_GOLDEN=1 rewrites it)");
  REQUIRE(text == graph_test::read_text(path));
}

// Whether a DOT line is the record whose label starts with `name` (left to right the fields
// sit in braces, "{ name | ...", top to bottom they do not).
bool is_record(const std::string& line, const std::string& name) {
  return line.find("label=\"{ " + name + " |") != std::string::npos ||
         line.find("label=\"" + name + " |") != std::string::npos;
}

// The line of the record whose label starts with `name`.
std::string record_line(const std::string& dot, const std::string& name) {
  for (const std::string& line : graph_test::lines_of(dot))
    if (is_record(line, name)) return line;
  FAIL("no record for " << name << " in\n" << dot);
  return {};
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("to_dot matches the golden text before and after backward", "[graph][dot]") {
  ag::KeepGradsForDumpsGuard keep;  // the dump shows every gradient of the backward
  Scalars s = scalar_graph();
  const std::string before = to_dot(s.L);
  check_golden(before, "scalar_before.dot");
  require_graphviz_accepts(before, "golden_before");
  CHECK(before.find("backward has not run yet") != std::string::npos);
  CHECK(before.find("grad none") != std::string::npos);

  s.L.backward();
  const std::string after = to_dot(s.L);
  check_golden(after, "scalar_after.dot");
  require_graphviz_accepts(after, "golden_after");
  CHECK(after.find("backward has run") != std::string::npos);
  CHECK(after.find("grad none") == std::string::npos);
}

TEST_CASE("to_dot is deterministic: the same graph gives the same text", "[graph][dot]") {
  ag::KeepGradsForDumpsGuard keep;  // the dump shows every gradient of the backward
  // A diamond (x feeds two ops) and unnamed tensors, which get generated labels.
  auto build = [] {
    Tensor x = tensor({0.5, -1.0, 2.0}).requires_grad_();
    Tensor w = tensor({{1.0, 2.0, 3.0}, {-1.0, 0.0, 1.0}}).requires_grad_();
    Tensor h = sigmoid(matmul(w, x));
    return sum(h * h + exp(x).sum());
  };
  Tensor first = build();
  // Allocate in between so that the second graph lives at other addresses.
  std::vector<Tensor> noise;
  for (int i = 0; i < 50; ++i) noise.push_back(randn({7}));
  Tensor second = build();
  const std::string a = to_dot(first), b = to_dot(second);
  CHECK(a == b);
  CHECK(to_dot(first) == a);
  first.backward();
  second.backward();
  CHECK(to_dot(first) == to_dot(second));
  require_graphviz_accepts(to_dot(first), "diamond");
  CHECK(a.find("sigmoid#1") != std::string::npos);
  CHECK(a.find("param#1") != std::string::npos);
}

TEST_CASE("to_dot styles parameters, constants, intermediates and ops apart", "[graph][dot]") {
  Scalars s = scalar_graph();
  const std::string dot = to_dot(s.L);
  const std::string param = record_line(dot, "a"), constant = record_line(dot, "c"),
                    inter = record_line(dot, "e"), root = record_line(dot, "L");
  CHECK(param.find("#cfe2ff") != std::string::npos);
  CHECK(constant.find("dashed") != std::string::npos);
  CHECK(constant.find("no grad (constant)") != std::string::npos);
  CHECK(inter.find("#ffffff") != std::string::npos);
  CHECK(root.find("bold") != std::string::npos);
  CHECK(param != constant);
  // One ellipse per op, labelled with the op's name.
  CHECK(count(dot, "shape=ellipse") == 4);
  CHECK(dot.find("label=\"tanh\"") != std::string::npos);
  CHECK(dot.find("label=\"mul\"") != std::string::npos);
}

TEST_CASE("to_dot edges follow the data flow: input -> op -> output", "[graph][dot]") {
  Tensor a = scalar(3.0).set_name("a").requires_grad_();
  Tensor b = scalar(4.0).set_name("b");
  Tensor y = (a - b).set_name("y");
  const std::string dot = to_dot(y);
  // Walk order from the root: y = t0, then its op's inputs in order, a = t1, b = t2.
  CHECK(dot.find("t1 -> op0;\n  t2 -> op0;\n  op0 -> t0;") != std::string::npos);
  CHECK(count(dot, " -> ") == 3);
  CHECK(record_line(dot, "a").find("t1 ") != std::string::npos);
  CHECK(record_line(dot, "y").find("t0 ") != std::string::npos);
  CHECK(dot.find("label=\"sub\"") != std::string::npos);
}

TEST_CASE("to_dot escapes the characters records and strings treat specially", "[graph][dot]") {
  ag::KeepGradsForDumpsGuard keep;  // the dump shows every gradient of the backward
  Tensor x = tensor({1.0, 2.0}).set_name("we|ird {name} <x> \"q\" \\").requires_grad_();
  Tensor y = (x * 2.0).sum().set_name("out{1}");
  y.backward();
  const std::string dot = to_dot(y);
  CHECK(dot.find("we\\|ird \\{name\\} \\<x\\> \\\"q\\\" \\\\") != std::string::npos);
  CHECK(dot.find("out\\{1\\}") != std::string::npos);
  require_graphviz_accepts(dot, "escaping");
}

TEST_CASE("to_dot shows small tensors in full and summarises large ones", "[graph][dot]") {
  ag::KeepGradsForDumpsGuard keep;  // the dump shows every gradient of the backward
  manual_seed(7);
  Tensor big = randn({10, 10}).set_name("big").requires_grad_();
  Tensor small = tensor({{1.5, -2.0}, {0.25, 4.0}}).set_name("small").requires_grad_();
  Tensor y = (big.sum() + small.sum()).set_name("y");
  y.backward();
  const std::string dot = to_dot(y);
  const std::string big_line = record_line(dot, "big"), small_line = record_line(dot, "small");
  CHECK(big_line.find("\\{10, 10\\} float32") != std::string::npos);
  CHECK(big_line.find("value min ") != std::string::npos);
  CHECK(big_line.find("norm ") != std::string::npos);
  CHECK(big_line.find("grad min 1, max 1, norm 10") != std::string::npos);
  CHECK(small_line.find("value [[1.5, -2],\\n [0.25, 4]]") != std::string::npos);
  CHECK(small_line.find("grad [[1, 1],\\n [1, 1]]") != std::string::npos);
  require_graphviz_accepts(dot, "summaries");

  DotOptions tight;
  tight.max_elements = 2;
  CHECK(record_line(to_dot(y, tight), "small").find("value min -2, max 4") != std::string::npos);
  DotOptions bare;
  bare.values = false;
  bare.grads = false;
  const std::string plain = record_line(to_dot(y, bare), "small");
  CHECK(plain.find("value") == std::string::npos);
  CHECK(plain.find("grad") == std::string::npos);
  CHECK(plain.find("small | \\{2, 2\\} float32") != std::string::npos);
  CHECK(count(plain, " | ") == 1);
  DotOptions precise;
  precise.precision = 8;
  Tensor third = (scalar(1.0).requires_grad_() / 3.0).set_name("third");
  CHECK(record_line(to_dot(third, precise), "third").find("0.33333334") != std::string::npos);
}

TEST_CASE("to_dot groups a module's tensors in a cluster named after its path", "[graph][dot]") {
  ag::KeepGradsForDumpsGuard keep;  // the dump shows every gradient of the backward
  manual_seed(1);
  auto net = std::make_shared<nn::Sequential>(std::initializer_list<std::shared_ptr<nn::Module>>{
      std::make_shared<nn::Linear>(3, 2), std::make_shared<nn::Sigmoid>(),
      std::make_shared<nn::Linear>(2, 1)});
  Tensor x = tensor({{1.0, 2.0, 3.0}}).set_name("x");
  Tensor loss = (*net)(x).sum().set_name("loss");
  loss.backward();
  const std::string dot = to_dot(loss);
  require_graphviz_accepts(dot, "module");
  CHECK(count(dot, "subgraph cluster_") >= 3);
  CHECK(dot.find("(Linear)") != std::string::npos);
  CHECK(dot.find("(Sigmoid)") != std::string::npos);
  // The first layer's weight sits inside the first layer's cluster; x and loss stay outside.
  const auto lines = graph_test::lines_of(dot);
  std::string cluster;
  std::string weight_cluster, x_cluster = "none", loss_cluster = "none";
  for (const std::string& line : lines) {
    if (line.find("subgraph cluster_") != std::string::npos) cluster = line;
    if (line == "  }") cluster.clear();
    if (!cluster.empty() && line.find("label=\"") != std::string::npos &&
        line.find("0 (Linear)\";") != std::string::npos)
      cluster += " first-layer";
    if (is_record(line, "0.weight")) weight_cluster = cluster;
    if (is_record(line, "x")) x_cluster = cluster.empty() ? "none" : cluster;
    if (is_record(line, "loss")) loss_cluster = cluster.empty() ? "none" : cluster;
  }
  CHECK(weight_cluster.find("first-layer") != std::string::npos);
  CHECK(x_cluster == "none");
  CHECK(loss_cluster == "none");
  // The two layers' parameters are told apart by their module paths.
  CHECK(dot.find("2.weight |") != std::string::npos);
  CHECK(dot.find("2.bias |") != std::string::npos);
}

TEST_CASE("to_dot walks very deep graphs without recursion", "[graph][dot]") {
  Tensor x = scalar(1.0, float64).set_name("x").requires_grad_();
  Tensor y = x;
  const int depth = 100000;
  for (int i = 0; i < depth; ++i) y = y * 1.0;
  const std::string dot = to_dot(y);
  CHECK(count(dot, " -> ") == 2 * static_cast<std::size_t>(depth));
  CHECK(count(dot, "shape=ellipse") == static_cast<std::size_t>(depth));
}

TEST_CASE("to_dot of a leaf and of an undefined tensor", "[graph][dot]") {
  Tensor w = tensor({1.0, 2.0}).set_name("w").requires_grad_();
  const std::string dot = to_dot(w);
  CHECK(count(dot, "shape=record") == 1);
  CHECK(dot.find(" -> ") == std::string::npos);
  require_graphviz_accepts(dot, "leaf");
  CHECK_THROWS_AS(to_dot(Tensor()), Error);
  CHECK_THROWS_WITH(to_dot(Tensor()), Catch::Contains("to_dot"));
}

TEST_CASE("to_dot draws the int64 indices an op reads as constants", "[graph][dot]") {
  // cross_entropy (one fused node) reads the labels: they reach the picture as a constant.
  Tensor logits = tensor({1.0, 2.0, 0.5, 0.1, -1.0, 2.0}, {2, 3}, float64).set_name("logits")
                      .requires_grad_();
  Tensor labels = tensor({2.0, 0.0}, {2}, int64).set_name("labels");
  Tensor loss = nn::functional::cross_entropy(logits, labels).set_name("loss");
  const std::string dot = to_dot(loss);
  require_graphviz_accepts(dot, "indices");
  std::string index_line;
  for (const std::string& line : graph_test::lines_of(dot))
    if (line.find("int64 | value") != std::string::npos) index_line = line;
  INFO(dot);
  REQUIRE(!index_line.empty());
  CHECK(index_line.find("filled,dashed") != std::string::npos);  // styled as a constant
  CHECK(index_line.find("no grad (constant)") != std::string::npos);
  CHECK(index_line.find("value [2, 0]") != std::string::npos);
  const std::string id = index_line.substr(2, index_line.find(' ', 2) - 2);
  CHECK(dot.find("  " + id + " -> op") != std::string::npos);
  CHECK(count(dot, "[style=dashed, label=\"index\"]") == 1);
}
