#include <algorithm>
#include <autograd/viz/format.hpp>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <vector>

namespace ag::viz {

std::string num(double v, int precision, Dtype dtype) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  if (v == 0) return "0";  // also turns -0 into 0
  char buf[64];
  if (dtype == int64)
    std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(v));
  else
    std::snprintf(buf, sizeof buf, "%.*g", precision, v);
  return buf;
}

std::string values_text(const Tensor& t, int precision, const std::string& row_break) {
  const std::vector<double> v = t.to_vector();
  const Shape& s = t.shape();
  if (s.empty()) return num(v.at(0), precision, t.dtype());
  if (t.numel() == 0) return "[]";
  // block[d]: how many elements one list at depth d spans; its bracket opens where i is a
  // multiple of it and closes where i + 1 is.
  std::vector<std::size_t> block(s.size(), 1);
  block.back() = s.back();
  for (std::size_t d = s.size() - 1; d > 0; --d) block[d - 1] = block[d] * s[d - 1];
  std::string out;
  for (std::size_t i = 0; i < v.size(); ++i) {
    std::size_t opens = 0, closes = 0;
    for (std::size_t d = 0; d < s.size(); ++d) {
      if (i % block[d] == 0) ++opens;
      if ((i + 1) % block[d] == 0) ++closes;
    }
    if (i > 0) {
      if (opens > 0 && !row_break.empty())
        out += "," + row_break + std::string(s.size() - opens, ' ');
      else
        out += ", ";
    }
    out += std::string(opens, '[');
    out += num(v[i], precision, t.dtype());
    out += std::string(closes, ']');
  }
  return out;
}

std::string summary_text(const Tensor& t, int precision) {
  const std::vector<double> v = t.to_vector();
  if (v.empty()) return "empty";
  double lo = v[0], hi = v[0], sq = 0;
  for (double x : v) {
    lo = std::min(lo, x);
    hi = std::max(hi, x);
    sq += x * x;
  }
  return "min " + num(lo, precision) + ", max " + num(hi, precision) + ", norm " +
         num(std::sqrt(sq), precision);
}

std::string shape_text(const Shape& s) { return s.empty() ? "scalar" : shape_str(s); }

bool small(const Tensor& t, const DotOptions& o) { return t.numel() <= o.max_elements; }

std::string inline_text(const Tensor& t, const DotOptions& o) {
  if (!t.defined()) return "(freed)";
  if (small(t, o)) return values_text(t, o.precision);
  return shape_str(t.shape()) + " tensor: " + summary_text(t, o.precision);
}

std::string diff_symbol(const std::string& label) {
  for (char c : label)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '#' && c != '^' &&
        c != '.')
      return "(" + label + ")";
  return label;
}

std::string record_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '|':
      case '{':
      case '}':
      case '<':
      case '>':
      case '"':
      case '\\':
        out += '\\';
        out += c;
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string quote_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

std::string html_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// '<' is written as \u003c so that no "</script>" can end the script element early.
std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    char buf[8];
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c < 0x20 || c == '<' || c == '>' || c == '&') {
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

}  // namespace ag::viz
