// Internal to the teaching tools: an op's forward expression and its local derivative written in
// the tensors' own names ("e = a * b", "da = de * b"), from the op's registry entry.
#pragma once

#include <autograd/viz/collect.hpp>
#include <map>
#include <string>
#include <vector>

namespace ag::viz {

// What fills a pattern's placeholders: {0}, {1}, ... the inputs, {y} the output, {name} an
// attribute, and the identifier dy the incoming gradient. A missing entry leaves the
// placeholder's name ("{3}" stays "3"), which never happens for a registered op.
struct Fill {
  std::vector<std::string> inputs;
  std::string output, dy;
  std::map<std::string, std::string> attributes;
};
std::string fill(const std::string& pattern, const Fill& f);

// The op's local derivative, one pattern per input (empty when the entry gives none).
std::vector<std::string> grad_patterns(const OpVertex& o);
// The forward expression as a pattern: "{0} * {1}", "{0}^{p}", or "name({0}, {1})".
std::string forward_pattern(const OpVertex& o);
// The op's attributes, numbers shown with `precision` significant digits.
std::map<std::string, std::string> attribute_texts(const OpVertex& o, int precision);
// A second line for the op's node in a picture: "p = 3", "c = 2" (empty when none).
std::string attribute_line(const OpVertex& o, int precision);

}  // namespace ag::viz
