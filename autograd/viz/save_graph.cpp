// save_graph: DOT text, or a picture rendered by Graphviz.
#include <autograd/graph.hpp>
#include <autograd/viz/collect.hpp>
#include <autograd/viz/dot.hpp>
#include <autograd/viz/files.hpp>
#include <cctype>

namespace ag {

void save_graph(const Tensor& root, const std::string& path, DotOptions options) {
  const std::size_t dot_pos = path.rfind('.');
  std::string ext = dot_pos == std::string::npos || path.find('/', dot_pos) != std::string::npos
                        ? ""
                        : path.substr(dot_pos + 1);
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (ext != "dot" && ext != "svg" && ext != "png")
    throw Error("save_graph: unknown file extension in '" + path +
                "' (use .dot for DOT text, .svg or .png to render with Graphviz)");
  const std::string text = viz::dot_text(viz::collect(root, "save_graph"), options);
  if (ext == "dot")
    viz::write_atomically(path, text, "save_graph");
  else
    viz::write_atomically(path, viz::render_with_graphviz(text, ext, path, "save_graph"),
                          "save_graph");
}

}  // namespace ag
