// save_graph: .dot text, .svg and .png through Graphviz, and clear errors for an unknown
// extension, a missing `dot`, a failing `dot` and an unwritable path.
#include <cstdlib>
#include <sys/stat.h>

#include <autograd/autograd.hpp>

#include "util.hpp"

using namespace ag;
using graph_test::read_text;
using graph_test::scratch_dir;

namespace {

Tensor small_graph() {
  Tensor w = tensor({0.5, -1.0}).set_name("w").requires_grad_();
  Tensor x = tensor({2.0, 3.0}).set_name("x");
  Tensor y = sigmoid(w * x).sum().set_name("y");
  y.backward();
  return y;
}

// Sets PATH for the scope of one test and puts it back afterwards.
class PathGuard {
 public:
  explicit PathGuard(const std::string& path) {
    const char* old = std::getenv("PATH");
    had_ = old != nullptr;
    if (had_) old_ = old;
    ::setenv("PATH", path.c_str(), 1);
  }
  ~PathGuard() {
    if (had_)
      ::setenv("PATH", old_.c_str(), 1);
    else
      ::unsetenv("PATH");
  }

 private:
  bool had_ = false;
  std::string old_;
};

bool exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

}  // namespace

TEST_CASE("save_graph writes DOT text for .dot", "[graph][save]") {
  Tensor y = small_graph();
  const std::string path = scratch_dir() + "/g.dot";
  save_graph(y, path);
  CHECK(read_text(path) == to_dot(y));
  DotOptions bare;
  bare.values = false;
  save_graph(y, path, bare);  // overwrites
  CHECK(read_text(path) == to_dot(y, bare));
}

TEST_CASE("save_graph renders .svg and .png through Graphviz", "[graph][save]") {
  Tensor y = small_graph();
  const std::string svg = scratch_dir() + "/g.svg", png = scratch_dir() + "/g.png";
  save_graph(y, svg);
  const std::string text = read_text(svg);
  CHECK(text.find("<svg") != std::string::npos);
  CHECK(text.find("sigmoid") != std::string::npos);
  save_graph(y, png);
  CHECK(read_text(png).substr(0, 8) == std::string("\x89PNG\r\n\x1a\n", 8));
  // The upper-case spelling works too.
  save_graph(y, scratch_dir() + "/G.SVG");
  CHECK(read_text(scratch_dir() + "/G.SVG").find("<svg") != std::string::npos);
}

TEST_CASE("save_graph rejects an unknown extension", "[graph][save]") {
  Tensor y = small_graph();
  CHECK_THROWS_AS(save_graph(y, scratch_dir() + "/g.pdf"), Error);
  CHECK_THROWS_WITH(save_graph(y, scratch_dir() + "/g.pdf"),
                    Catch::Contains("save_graph") && Catch::Contains("g.pdf") &&
                        Catch::Contains(".svg"));
  CHECK_THROWS_AS(save_graph(y, scratch_dir() + "/no_extension"), Error);
  CHECK_THROWS_AS(save_graph(y, scratch_dir() + ".d/graph"), Error);  // the dot is in a folder
  CHECK_FALSE(exists(scratch_dir() + "/g.pdf"));
}

TEST_CASE("save_graph says so when Graphviz's dot is not in PATH", "[graph][save]") {
  Tensor y = small_graph();
  const std::string empty_dir = scratch_dir() + "/empty_bin";
  REQUIRE(std::system(("mkdir -p '" + empty_dir + "'").c_str()) == 0);
  {
    PathGuard guard(empty_dir);
    CHECK_THROWS_AS(save_graph(y, scratch_dir() + "/missing.svg"), Error);
    CHECK_THROWS_WITH(save_graph(y, scratch_dir() + "/missing.png"),
                      Catch::Contains("Graphviz's `dot` was not found") &&
                          Catch::Contains("missing.png"));
    // .dot needs no Graphviz.
    CHECK_NOTHROW(save_graph(y, scratch_dir() + "/still_fine.dot"));
  }
  CHECK_FALSE(exists(scratch_dir() + "/missing.svg"));
  CHECK(exists(scratch_dir() + "/still_fine.dot"));
  CHECK_NOTHROW(save_graph(y, scratch_dir() + "/back.svg"));  // PATH restored
}

TEST_CASE("save_graph reports a failing dot with its exit status", "[graph][save]") {
  Tensor y = small_graph();
  const std::string bin = scratch_dir() + "/failing_bin";
  REQUIRE(std::system(("mkdir -p '" + bin + "'").c_str()) == 0);
  graph_test::write_text(bin + "/dot", "#!/bin/sh\necho 'syntax error in line 1' >&2\nexit 3\n");
  REQUIRE(std::system(("chmod +x '" + bin + "/dot'").c_str()) == 0);
  const std::string out = scratch_dir() + "/failed.svg";
  {
    PathGuard guard(bin);
    CHECK_THROWS_WITH(save_graph(y, out), Catch::Contains("exit status 3") &&
                                              Catch::Contains("syntax error in line 1") &&
                                              Catch::Contains("failed.svg"));
  }
  CHECK_FALSE(exists(out));
}

TEST_CASE("save_graph reports a path it cannot write", "[graph][save]") {
  Tensor y = small_graph();
  // The message names the path the user gave, never a scratch file next to it.
  for (const char* name : {"g.dot", "g.svg"}) {
    const std::string path = scratch_dir() + "/no/such/dir/" + name;
    const std::string message = graph_test::error_of([&] { save_graph(y, path); });
    INFO(message);
    CHECK(message.find("save_graph") != std::string::npos);
    CHECK(message.find("'" + path + "'") != std::string::npos);
    CHECK(message.find(".tmp") == std::string::npos);
  }
}

TEST_CASE("save_graph chooses the layout direction from the graph's shape", "[graph][save]") {
  // A chain of six ops, as the issue measured (2755 x 175 pt left to right), and a wide,
  // shallow graph: eight inputs added in one step.
  Tensor x = scalar(0.5).set_name("x").requires_grad_();
  Tensor chain = exp(sin(tanh(sigmoid(x * 2.0) + 1.0))).sum().set_name("L");
  std::vector<Tensor> many;
  for (int i = 0; i < 8; ++i) many.push_back(scalar(i).set_name("v" + std::to_string(i)).requires_grad_());
  Tensor wide = stack(many, 0).sum().set_name("S");
  auto size_of = [](const Tensor& root, DotOptions o, const std::string& name) {
    const std::string path = scratch_dir() + "/" + name + ".svg";
    save_graph(root, path, o);
    const std::string svg = read_text(path);
    const auto w = svg.find("width=\""), h = svg.find("height=\"");
    REQUIRE(w != std::string::npos);
    return std::make_pair(std::atof(svg.c_str() + w + 7), std::atof(svg.c_str() + h + 8));
  };
  const auto tall = size_of(chain, {}, "chain_auto");
  INFO("chain: " << tall.first << " x " << tall.second << " pt");
  CHECK(to_dot(chain).find("rankdir=TB") != std::string::npos);
  CHECK(tall.first < 1.5 * tall.second);  // fits a slide: not a long thin strip
  CHECK(to_dot(wide).find("rankdir=LR") != std::string::npos);
  // DotOptions::rankdir still forces a direction, and rejects an unknown one.
  DotOptions lr;
  lr.rankdir = "LR";
  const auto forced = size_of(chain, lr, "chain_lr");
  CHECK(forced.first > 4 * forced.second);
  lr.rankdir = "diagonal";
  CHECK_THROWS_WITH(to_dot(chain, lr), Catch::Contains("rankdir") && Catch::Contains("diagonal"));
}
