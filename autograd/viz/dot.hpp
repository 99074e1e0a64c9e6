// Internal to the teaching tools: the DOT text of a collected graph, shared by to_dot,
// save_graph and the backward page.
#pragma once

#include <string>

#include <autograd/graph.hpp>
#include <autograd/viz/collect.hpp>

namespace ag::viz {

// Nodes are named t<tensor id> and op<op id> (the backward page finds them by these names).
std::string dot_text(const Graph& g, const DotOptions& o);
// "LR" or "TB" from the graph's shape (long chains top to bottom), unless `o.rankdir` forces
// one; throws ag::Error naming `who` for an unknown direction.
std::string layout_direction(const Graph& g, const DotOptions& o, const char* who);

}  // namespace ag::viz
