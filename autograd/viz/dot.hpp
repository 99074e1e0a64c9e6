// Internal to the teaching tools: the DOT text of a collected graph, shared by to_dot,
// save_graph and the backward page.
#pragma once

#include <autograd/graph.hpp>
#include <autograd/viz/collect.hpp>
#include <string>

namespace ag::viz {

// Nodes are named t<tensor id> and op<op id> (the backward page finds them by these names).
// How the records look: to_dot's one row of fields, or (the backward page) fields stacked in a
// narrow box that stays legible when the drawing is scaled to a window.
struct DotStyle {
  int fontsize = 10;  // records and ops; the title is 2 points more
  bool stacked = false;
};
std::string dot_text(const Graph& g, const DotOptions& o, DotStyle style = {});
// "LR" or "TB" from the graph's shape (long chains top to bottom), unless `o.rankdir` forces
// one; throws ag::Error naming `who` for an unknown direction.
std::string layout_direction(const Graph& g, const DotOptions& o, const DotStyle& style,
                             const char* who);

}  // namespace ag::viz
