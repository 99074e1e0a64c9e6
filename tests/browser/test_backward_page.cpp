// save_backward_html in Debian's chromium, headless: at several #step=N, the highlighted node is
// the op the engine ran at that step, and every gradient the page shows is the text
// chain_rule_trace prints for it (and the number backward() left in .grad()); no script error,
// no request to any file or host. Also writes the screenshots docs/teaching.md shows.
#include <cmath>
#include <map>

#include <autograd/autograd.hpp>

#include "browser.hpp"

using namespace ag;
using browser_test::current_nodes;
using browser_test::dom_at;
using browser_test::panel_lines;
using browser_test::picture_grad;
using browser_test::root_attribute;
using browser_test::text_of_id;
using graph_test::numbers_in;
using graph_test::require_close;

namespace {

// The backward section of a trace, one block per op: its expression line ("e = a * b") and, per
// input, the lines "dL/da = dL/de * b", "= 0.4621 * -3", "= -1.386".
struct TraceStep {
  std::string expression;
  std::map<std::string, std::vector<std::string>> inputs;
};

std::vector<TraceStep> trace_steps(const std::string& trace, const std::string& root) {
  std::vector<TraceStep> steps;
  bool in_backward = false;
  std::string current_input;
  for (const std::string& line : graph_test::lines_of(trace)) {
    if (line.rfind("Backward pass", 0) == 0) in_backward = true;
    if (line.rfind("Gradients of the parameters", 0) == 0) break;
    if (!in_backward || line.size() < 3) continue;
    const std::string text = graph_test::trim(line);
    const std::size_t indent = line.size() - text.size();
    if (indent == 2 && text.rfind("d" + root + "/", 0) != 0) {
      steps.push_back({text, {}});
    } else if (indent == 4 && !steps.empty() && text[0] == 'd' && text.find(" = ") != std::string::npos) {
      current_input = text.substr(0, text.find(" = "));
      steps.back().inputs[current_input].push_back(text);
    } else if (text.rfind("= ", 0) == 0 && !steps.empty() && !current_input.empty()) {
      steps.back().inputs[current_input].push_back(text);
    }
  }
  return steps;
}

struct Page {
  std::string path, trace, root;
  std::vector<TraceStep> steps;
};

Page write_page(const Tensor& root, const std::string& name) {
  Page p;
  p.path = graph_test::scratch_dir() + "/" + name + ".html";
  save_backward_html(root, p.path);
  p.trace = chain_rule_trace(root);
  p.root = root.name();
  p.steps = trace_steps(p.trace, p.root);
  return p;
}

// The page at #step=k (1-based) against the trace's k-th step: the highlighted op, its
// expression, and each input's lines. Returns the DOM for more checks.
std::string check_step(const Page& page, std::size_t k, const std::string& op_label) {
  const std::string dom = dom_at(page.path, static_cast<int>(k));
  INFO("page " << page.path << " at #step=" << k);
  CHECK(root_attribute(dom, "data-ready") == "1");
  CHECK(root_attribute(dom, "data-js-errors") == "0");
  CHECK(root_attribute(dom, "data-blocked-requests") == "0");
  CHECK(text_of_id(dom, "step-number") == std::to_string(k));
  const TraceStep& want = page.steps.at(k - 1);
  CHECK(text_of_id(dom, "expression") == want.expression);
  const auto current = current_nodes(dom);
  REQUIRE(current.size() == 1);
  CHECK(current[0].first == op_label);
  CHECK(current[0].second == want.expression.substr(0, want.expression.find(" = ")));
  for (const auto& input : want.inputs) {
    const std::string tensor = input.first.substr(input.first.find("/d") + 2);
    INFO("input " << tensor);
    CHECK(panel_lines(dom, tensor) == input.second);
  }
  return dom;
}

double value_of(const std::string& text) {
  const auto v = numbers_in(text);
  REQUIRE(v.size() == 1);
  return v[0];
}

}  // namespace

TEST_CASE("backward page of L = (a*b + c) * tanh(d), step by step in chromium", "[browser]") {
  Tensor a = scalar(2.0, float64).set_name("a").requires_grad_();
  Tensor b = scalar(-3.0, float64).set_name("b").requires_grad_();
  Tensor c = scalar(10.0, float64).set_name("c");
  Tensor d = scalar(0.5, float64).set_name("d").requires_grad_();
  Tensor L = ((a * b).set_name("e") + c).set_name("f") * tanh(d).set_name("t");
  L.set_name("L");
  L.backward();
  const Page page = write_page(L, "scalar");
  INFO(page.trace);
  // The engine runs L's mul, then the last input it readied (tanh), then add, then a*b.
  REQUIRE(page.steps.size() == 4);
  CHECK(page.steps[0].expression == "L = f * t");
  CHECK(page.steps[1].expression == "t = tanh(d)");
  CHECK(page.steps[3].expression == "e = a * b");

  // Step 0: the forward graph and the seed; no gradient below the root yet.
  const std::string start = dom_at(page.path, 0);
  CHECK(current_nodes(start).empty());
  CHECK(text_of_id(start, "expression") == "dL/dL = 1");
  CHECK(picture_grad(start, "L") == "grad 1");
  CHECK(picture_grad(start, "a") == "grad ?");

  const std::string at2 = check_step(page, 2, "tanh#1");
  CHECK(picture_grad(at2, "d") == "grad " + page.steps[1].inputs.at("dL/dd").back().substr(2));
  CHECK(value_of(picture_grad(at2, "d")) == Approx(d.grad().item()).epsilon(1e-3));
  CHECK(picture_grad(at2, "a") == "grad ?");  // not reached yet
  CHECK(picture_grad(at2, "f") == "grad " + page.steps[0].inputs.at("dL/df").back().substr(2));

  const std::string at4 = check_step(page, 4, "mul#1");
  for (const auto& leaf : {std::make_pair("a", a), std::make_pair("b", b)}) {
    const std::string shown = picture_grad(at4, leaf.first);
    CHECK(shown == "grad " + page.steps[3].inputs.at(std::string("dL/d") + leaf.first).back().substr(2));
    CHECK(value_of(shown) == Approx(leaf.second.grad().item()).epsilon(1e-3));
  }
  // A step past the end shows the last one.
  CHECK(text_of_id(dom_at(page.path, 99), "step-number") == "4");
  browser_test::screenshot(page.path, 4, std::string(AG_PICTURES_DIR) + "/backward_page_scalar.png");
}
