// save_backward_html in Debian's chromium, headless: at several #step=N, the highlighted node is
// the op the engine ran at that step, and every gradient the page shows is the text
// chain_rule_trace prints for it (and the number backward() left in .grad()); no script error,
// no request to any file or host; the controls work as a teacher uses them. Also writes the
// screenshots docs/teaching.md shows.
#include <autograd/autograd.hpp>
#include <cmath>
#include <cstdlib>
#include <map>

#include "browser.hpp"

using namespace ag;
using browser_test::arriving_lines;
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
  bool in_backward = false, in_sum = false;
  std::string current_input;
  for (const std::string& line : graph_test::lines_of(trace)) {
    if (line.rfind("Backward pass", 0) == 0) in_backward = true;
    if (line.rfind("Gradients of the parameters", 0) == 0) break;
    if (!in_backward || line.size() < 3) continue;
    const std::string text = graph_test::trim(line);
    const std::size_t indent = line.size() - text.size();
    if (indent == 2) current_input.clear();  // an op, or a sum over paths: a new block
    if (indent == 2) in_sum = text.find(" arrives along ") != std::string::npos;
    if (in_sum) continue;
    if (indent == 2 && text.rfind("d" + root + "/", 0) != 0) {
      steps.push_back({text, {}});
    } else if (indent == 4 && !steps.empty() && text[0] == 'd' &&
               text.find(" = ") != std::string::npos) {
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

// A copy of the page with `extra` inserted at `at`.
std::string scratch_copy(std::string html, std::size_t at, const std::string& extra,
                         const std::string& name) {
  const std::string path = graph_test::scratch_dir() + "/" + name + ".html";
  graph_test::write_text(path, html.insert(at, extra));
  return path;
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
  {
    KeepGradsForDumpsGuard keep;
    L.backward();
  }
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
    CHECK(shown ==
          "grad " + page.steps[3].inputs.at(std::string("dL/d") + leaf.first).back().substr(2));
    CHECK(value_of(shown) == Approx(leaf.second.grad().item()).epsilon(1e-3));
  }
  browser_test::screenshot(page.path, 4,
                           std::string(AG_PICTURES_DIR) + "/backward_page_scalar.png");
}

namespace {

// The course's 3-2-2 network (examples/backprop_by_hand): 3 inputs, 2 sigmoid hidden units,
// 2 linear outputs, mean squared error.
struct Net322 {
  Tensor x, t, W1, b1, W2, b2, loss;
};

Net322 net_322() {
  Net322 n;
  n.x = tensor({1.0, 0.5, -1.0}, {1, 3}, float64).set_name("x");
  n.t = tensor({0.8, -0.4}, {1, 2}, float64).set_name("t");
  n.W1 = tensor({0.1, 0.4, -0.2, 0.3, 0.5, -0.1}, {3, 2}, float64).set_name("W1").requires_grad_();
  n.b1 = tensor({0.1, -0.1}, {2}, float64).set_name("b1").requires_grad_();
  n.W2 = tensor({0.6, -0.3, 0.2, 0.7}, {2, 2}, float64).set_name("W2").requires_grad_();
  n.b2 = tensor({0.05, -0.05}, {2}, float64).set_name("b2").requires_grad_();
  Tensor z1 = (matmul(n.x, n.W1) + n.b1).set_name("z1");
  Tensor h = sigmoid(z1).set_name("h");
  Tensor y = (matmul(h, n.W2) + n.b2).set_name("y");
  Tensor e = (y - n.t).set_name("e");
  n.loss = mean((e * e).set_name("e^2")).set_name("loss");
  KeepGradsForDumpsGuard keep;
  n.loss.backward();
  return n;
}

}  // namespace

TEST_CASE("backward page of the 3-2-2 network, step by step in chromium", "[browser]") {
  Net322 n = net_322();
  const Page page = write_page(n.loss, "net322");
  INFO(page.trace);
  // mean is sum, then / 2; the engine's order is the chain from the loss down to x @ W1.
  REQUIRE(page.steps.size() == 9);
  CHECK(page.steps[0].expression == "loss = sum#1 / 2");
  CHECK(page.steps[2].expression == "e^2 = e * e");
  CHECK(page.steps[8].expression == "matmul#1 = x @ W1");

  // e * e sends e two gradients; the next step adds them up before going on.
  const std::string at4 = check_step(page, 4, "sub#1");
  const auto sum = graph_test::step(page.trace, "dloss/de", 2);
  CHECK(arriving_lines(at4) ==
        std::vector<std::string>{"dloss/de = " + sum[0], "= " + sum[1], "= " + sum[2]});

  // The parameters' gradients, as the trace prints them and as backward() left them.
  const std::string at6 = check_step(page, 6, "matmul#2");
  require_close(numbers_in(panel_lines(at6, "W2").back()), n.W2.grad().to_vector());
  const std::string at9 = check_step(page, 9, "matmul#1");
  require_close(numbers_in(panel_lines(at9, "W1").back()), n.W1.grad().to_vector());
  CHECK(picture_grad(at9, "W1").rfind("grad [[-0.1037, 0.09164],", 0) == 0);
  CHECK(picture_grad(at6, "W1") == "grad ?");
  browser_test::screenshot(page.path, 4, std::string(AG_PICTURES_DIR) + "/backward_page_322.png");
}

TEST_CASE("backward page: the browser test sees script errors and blocked requests", "[browser]") {
  // The page counts both on <html>; two spoiled copies show that the counts are real.
  Tensor w = scalar(1.5, float64).set_name("w").requires_grad_();
  Tensor L = (w * w).set_name("L");
  {
    KeepGradsForDumpsGuard keep;
    L.backward();
  }
  const Page page = write_page(L, "small");
  const std::string html = graph_test::read_text(page.path);
  for (const char* fetches :
       {" src=", "<link", "url(", "@import", "<iframe", "fetch(", "XMLHttpRequest"})
    CHECK(html.find(fetches) == std::string::npos);
  const std::string dom = dom_at(page.path, 1);
  CHECK(root_attribute(dom, "data-js-errors") == "0");
  CHECK(root_attribute(dom, "data-blocked-requests") == "0");

  // One spoiled copy that fetches an image and calls a function that does not exist.
  const std::size_t body = html.find("<body>") + 6;
  const std::string spoiled = scratch_copy(
      html, body, "<img src=\"http://127.0.0.1:9/x.png\"><script>no_such_function();</script>",
      "spoiled");
  const std::string seen = dom_at(spoiled, 1);
  CHECK(root_attribute(seen, "data-blocked-requests") != "0");
  CHECK(root_attribute(seen, "data-js-errors") == "1");
}

TEST_CASE("backward page controls: keys, buttons, reload, hover and play in chromium",
          "[browser]") {
  // drive_page.js talks to chromium over the DevTools protocol (a pipe; node only, no package)
  // and reports what the page showed after each action.
  REQUIRE(std::system("command -v node > /dev/null 2>&1") == 0);  // scripts/setup.sh: nodejs
  Tensor a = scalar(2.0, float64).set_name("a").requires_grad_();
  Tensor b = scalar(-3.0, float64).set_name("b").requires_grad_();
  Tensor L = ((a * b).set_name("e") + 10.0).set_name("f") * tanh(a).set_name("t");
  L.set_name("L");
  {
    KeepGradsForDumpsGuard keep;
    L.backward();
  }
  const Page page = write_page(L, "controls");
  REQUIRE(page.steps.size() == 4);
  const std::string out = graph_test::scratch_dir() + "/drive.txt";
  const std::string cmd = "node '" + std::string(AG_SOURCE_DIR) + "/tests/browser/drive_page.js' " +
                          browser_test::chromium() + " '" + page.path + "' '" +
                          graph_test::scratch_dir() + "/drive-profile' > '" + out + "' 2>&1";
  REQUIRE(std::system(cmd.c_str()) == 0);
  std::map<std::string, std::string> seen;
  for (const std::string& line : graph_test::lines_of(graph_test::read_text(out)))
    if (line.find('=') != std::string::npos)
      seen[line.substr(0, line.find('='))] = line.substr(line.find('=') + 1);
  INFO(graph_test::read_text(out));
  CHECK(seen.count("error") == 0);
  CHECK(seen["start"] == "2");
  CHECK(seen["after-right"] == "3");             // the right arrow: next step
  CHECK(seen["hash-after-right"] == "#step=3");  // the URL names the step...
  CHECK(seen["after-prev-twice"] == "1");        // the previous button, twice
  CHECK(seen["after-reload"] == "1");            // ...so reloading keeps it
  CHECK(seen["after-end"] == "4");
  CHECK(seen["after-home"] == "0");
  CHECK(seen["past-the-end"] == "4");  // #step=99 shows the last step
  // Hovering a's box shows it in full; its gradient is the trace's (a is used twice: the sum).
  const std::string info = seen["info-a"];
  const std::string da = graph_test::step(page.trace, "dL/da", 2).back();
  CHECK(info ==
        "name: a  (parameter) | shape: scalar | dtype: float64 | value: 2 | gradient: " + da);
  CHECK(value_of(da) == Approx(a.grad().item()).epsilon(1e-3));
  CHECK(seen["play-reached-last"] == "true");  // play walks to the end and stops
  CHECK(seen["play-button-after"].find("play") != std::string::npos);
  // The loads of the page itself (open, reload, #step=99) and nothing else; no script error.
  const std::string self = " file://" + page.path;
  CHECK(seen["requests"] == "3" + self + self + self);
  CHECK(seen["exceptions"] == "0 ");
}
