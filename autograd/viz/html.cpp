// save_backward_html: one self-contained page. Graphviz lays the graph out as SVG when the file is
// written; the steps of viz/steps.cpp travel as JSON; a small script (page_assets.cpp) moves the
// highlight along them. Nothing is fetched: a Content-Security-Policy forbids every request.
#include <algorithm>
#include <autograd/detail/impl.hpp>
#include <autograd/engine.hpp>
#include <autograd/graph.hpp>
#include <autograd/ops.hpp>
#include <autograd/viz/collect.hpp>
#include <autograd/viz/dot.hpp>
#include <autograd/viz/files.hpp>
#include <autograd/viz/format.hpp>
#include <autograd/viz/page_assets.hpp>
#include <autograd/viz/steps.hpp>
#include <cstdlib>
#include <cstring>
#include <sstream>

namespace ag {
namespace {

using namespace viz;

// The graph's labels on the page: legible from the back of a classroom once the drawing is
// scaled to the window, in narrow boxes of stacked fields.
constexpr DotStyle kPageStyle{16, true};

// A JSON object written field by field: {"a": 1, "b": "x"}.
class Json {
 public:
  Json& field(const std::string& key, const std::string& raw_value) {
    text_ += (text_.empty() ? "{" : ", ") + json_string(key) + ": " + raw_value;
    return *this;
  }
  Json& str(const std::string& key, const std::string& value) {
    return field(key, json_string(value));
  }
  std::string done() const { return text_.empty() ? "{}" : text_ + "}"; }

 private:
  std::string text_;
};

std::string array(const std::vector<std::string>& items) {
  std::string out = "[";
  for (std::size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + items[i];
  return out + "]";
}

std::string strings(const std::vector<std::string>& items) {
  std::vector<std::string> quoted;
  for (const std::string& s : items) quoted.push_back(json_string(s));
  return array(quoted);
}

std::string tid(std::size_t ti) { return "t" + std::to_string(ti); }

const char* kind_name(Kind k) {
  return k == Kind::Parameter ? "parameter" : k == Kind::Constant ? "constant" : "intermediate";
}

std::string tensor_json(const Graph& g, std::size_t ti, const DotOptions& o) {
  const TensorVertex& v = g.tensors[ti];
  const Tensor grad = stored_grad(g, ti);
  return Json()
      .str("id", tid(ti))
      .str("label", v.label)
      .str("kind", kind_name(v.kind))
      .str("shape", shape_text(v.t.shape()))
      .str("dtype", dtype_name(v.t.dtype()))
      .str("value", inline_text(value_of(g, ti), o))
      .str("grad", v.kind == Kind::Constant ? "no grad (constant)"
                   : grad.defined()         ? inline_text(grad, o)
                                            : "none")
      .done();
}

std::string sum_json(const PathSum& s) {
  return Json()
      .str("lhs", s.lhs)
      .field("paths", std::to_string(s.paths))
      .str("terms", s.terms)
      .field("lines", strings(s.lines))
      .done();
}

std::string input_json(const InputStep& in) {
  return Json()
      .str("tensor", tid(in.tensor))
      .str("lhs", in.lhs)
      .str("formula", in.formula)
      .field("lines", strings(in.lines))
      .str("missing", in.missing)
      .done();
}

// What the picture shows as each tensor's gradient after a step: the sum of the contributions
// so far, and whether every contribution has arrived.
class GradState {
 public:
  GradState(const Graph& g, const Steps& steps)
      : g_(g), seen_(g.tensors.size(), 0), total_(g.tensors.size(), 0), sum_(g.tensors.size()) {
    for (const OpStep& s : steps.ops)
      for (const InputStep& in : s.inputs) ++total_[in.tensor];
  }

  std::string after(const OpStep& s, const DotOptions& o) {
    std::vector<std::string> changed;
    for (const InputStep& in : s.inputs) {
      ++seen_[in.tensor];
      NoGradGuard no_grad;
      Tensor& sum = sum_[in.tensor];
      if (in.value.defined()) sum = sum.defined() ? add(sum, in.value) : in.value;
      const bool complete = seen_[in.tensor] == total_[in.tensor];
      const Tensor shown = complete ? stored_grad(g_, in.tensor) : sum;
      changed.push_back(Json()
                            .str("tensor", tid(in.tensor))
                            .str("text", shown.defined() ? inline_text(shown, o) : "?")
                            .field("complete", complete ? "true" : "false")
                            .str("of", std::to_string(seen_[in.tensor]) + " of " +
                                           std::to_string(total_[in.tensor]) + " paths")
                            .done());
    }
    return array(changed);
  }

 private:
  const Graph& g_;
  std::vector<std::size_t> seen_, total_;
  std::vector<Tensor> sum_;
};

std::string step_json(const Graph& g, const OpStep& s, GradState& state, const DotOptions& o) {
  const OpVertex& op = g.ops[s.op];
  std::vector<std::string> sums, inputs;
  for (const PathSum& p : s.sum) sums.push_back(sum_json(p));
  for (const InputStep& in : s.inputs) inputs.push_back(input_json(in));
  return Json()
      .str("op", "op" + std::to_string(s.op))
      .str("label", op.label)
      .str("name", op.name)
      .str("output", tid(op.out))
      .str("expression", s.expression)
      .str("rule", s.local_rule)
      .str("words", s.words)
      .field("sum", array(sums))
      .str("incoming_lhs", d_of(g, op.out))
      .str("incoming", s.reached ? inline_text(s.incoming, o) : "")
      .field("inputs", array(inputs))
      .field("grads", state.after(s, o))
      .done();
}

std::string page_data(const Graph& g, const Steps& steps, const DotOptions& o) {
  std::vector<std::string> tensors, ops, step_items;
  for (std::size_t ti = 0; ti < g.tensors.size(); ++ti) tensors.push_back(tensor_json(g, ti, o));
  for (std::size_t oi = 0; oi < g.ops.size(); ++oi)
    ops.push_back(Json()
                      .str("id", "op" + std::to_string(oi))
                      .str("label", g.ops[oi].label)
                      .str("output", tid(g.ops[oi].out))
                      .done());
  GradState state(g, steps);
  for (const OpStep& s : steps.ops) step_items.push_back(step_json(g, s, state, o));
  return Json()
      .str("root", g.tensors[0].label)
      .str("seed_lhs", d_of(g, 0))
      .str("seed", inline_text(stored_grad(g, 0), o))
      .field("tensors", array(tensors))
      .field("ops", array(ops))
      .field("steps", array(step_items))
      .done();
}

// Graphviz's SVG without its XML prolog.
std::string inline_svg(const std::string& svg) {
  return svg.substr(std::min(svg.find("<svg"), svg.size()));
}

// The drawing's size in points, from the <svg width="..pt" height="..pt"> Graphviz writes.
std::pair<double, double> svg_size(const std::string& svg) {
  auto attribute = [&](const char* name) {
    const std::size_t at = svg.find(name);
    return at == std::string::npos ? 1e9 : std::atof(svg.c_str() + at + std::strlen(name));
  };
  return {attribute(" width=\""), attribute(" height=\"")};
}

// The page shows the graph at its own size (its labels stay as large as they were drawn) in a
// column of about 675 x 560 points that scrolls. Unless DotOptions::rankdir forces a direction,
// both are drawn and the one that needs less scrolling wins.
std::string page_svg(const Graph& g, DotOptions o, const std::string& path) {
  auto render = [&](const DotOptions& with) {
    return render_with_graphviz(dot_text(g, with, kPageStyle), "svg", path, "save_backward_html");
  };
  if (!o.rankdir.empty()) return render(o);
  o.rankdir = "LR";
  const std::string lr = render(o);
  o.rankdir = "TB";
  const std::string tb = render(o);
  auto scroll = [](const std::pair<double, double>& s) {
    return std::max(s.first / 675, 1.0) * std::max(s.second / 560, 1.0);
  };
  return scroll(svg_size(lr)) <= scroll(svg_size(tb)) ? lr : tb;
}

}  // namespace

void save_backward_html(const Tensor& root, const std::string& path, DotOptions options) {
  const Graph g = collect(root, "save_backward_html");
  require_kept_grads(g, root, "save_backward_html");
  const Steps steps = backward_steps(g, options);
  layout_direction(g, options, kPageStyle, "save_backward_html");  // rejects a bad rankdir
  const std::string svg = page_svg(g, options, path);
  std::ostringstream page;
  page << page_head("Backward pass of " + g.tensors[0].label) << "<div id=\"graph\">"
       << inline_svg(svg) << "</div>\n"
       << page_panel() << "<script type=\"application/json\" id=\"ag-data\">"
       << page_data(g, steps, options) << "</script>\n"
       << page_tail();
  write_atomically(path, page.str(), "save_backward_html");
}

}  // namespace ag
