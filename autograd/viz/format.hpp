// Internal to the teaching tools: numbers, tensors and labels as text, and the escaping each
// output format (DOT records, DOT strings, HTML, JSON) needs.
#pragma once

#include <autograd/graph.hpp>
#include <autograd/tensor.hpp>
#include <string>

namespace ag::viz {

// One number with `precision` significant digits; int64 values as integers; -0 as 0.
std::string num(double v, int precision, Dtype dtype = float64);
// Nested brackets, NumPy style. `row_break` separates the rows of a matrix (a newline for DOT
// records, nothing for one-line traces).
std::string values_text(const Tensor& t, int precision, const std::string& row_break = "");
// "min -1, max 2, norm 3.1": what a tensor beyond max_elements shows instead of its values.
std::string summary_text(const Tensor& t, int precision);
// "{2, 3}", and "scalar" for a 0-d tensor (clearer to a learner than "{}").
std::string shape_text(const Shape& s);
bool small(const Tensor& t, const DotOptions& o);
// A tensor in one line: in full when small, else its shape and a summary; "(freed)" if gone.
std::string inline_text(const Tensor& t, const DotOptions& o);
// A label as it follows the "d" of a derivative: "dL/dz1", but "d(df/dx)/dx".
std::string diff_symbol(const std::string& label);

std::string record_escape(const std::string& s);  // Graphviz record labels: | { } < > " \ and \n
std::string quote_escape(const std::string& s);   // a DOT "string"
std::string html_escape(const std::string& s);    // text and attribute values in HTML
std::string json_string(const std::string& s);    // a quoted JSON string, safe inside <script>

}  // namespace ag::viz
