// Internal to the teaching tools: the backward pass worked out step by step with its numbers,
// once, for the chain-rule trace (as text) and the backward page (as data), so that both always
// show the same numbers.
#pragma once

#include <autograd/graph.hpp>
#include <autograd/viz/collect.hpp>
#include <string>
#include <vector>

namespace ag::viz {

// A gradient that arrived along several paths, added up.
struct PathSum {
  std::size_t tensor = 0;
  std::size_t paths = 0;
  std::string lhs;                 // "dL/dx"
  std::string terms;               // "dL/dx (via mul#1) + dL/dx (via sigmoid#1)"
  std::vector<std::string> lines;  // "0.6225 + 0.1175", then the total
  Tensor total;                    // undefined when a path's numbers are unknown
};

// What one op's backward sent to one input.
struct InputStep {
  std::size_t slot = 0, tensor = 0;
  std::string lhs;                 // "dL/da"
  std::string formula;             // "dL/de * b": the local rule in the tensors' own names
  std::vector<std::string> lines;  // the numbers multiplied out, ..., the result
  Tensor value;                    // the contribution; undefined when not recomputed
  std::string missing;             // why the numbers could not be recomputed
};

// One node of the backward pass, in the order the engine ran it.
struct OpStep {
  std::size_t op = 0;
  std::string expression;    // "e = a * b"
  std::string local_rule;    // "da = de * b; db = de * a"
  std::string words;         // the entry's rule in words ("custom backward" for a Function)
  std::vector<PathSum> sum;  // empty, or the sum of the output's gradient over its paths
  Tensor incoming;           // the gradient that arrived from above
  bool reached = false;      // false: the op does not lead to the root
  std::vector<InputStep> inputs;
};

// A parameter's gradient at the end: one contribution, or the sum of several.
struct LeafTotal {
  std::size_t tensor = 0;
  std::vector<PathSum> sum;  // empty when one path
  Tensor total;
  std::string accumulated;  // set when .grad also holds earlier backward calls
};

struct Steps {
  std::vector<OpStep> ops;
  std::vector<LeafTotal> leaves;
};

// `g` must have run backward. Re-runs each op's backward rule under no-grad with the gradient
// the engine stored, so the numbers are the engine's own.
Steps backward_steps(const Graph& g, const DotOptions& o);

// "dL/dv": the gradient of the root with respect to tensor ti.
std::string d_of(const Graph& g, std::size_t ti);
// "e = a * b" (values not included).
std::string expression_of(const Graph& g, std::size_t oi, int precision);

}  // namespace ag::viz
