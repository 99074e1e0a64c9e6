#include <autograd/viz/format.hpp>
#include <autograd/viz/notation.hpp>
#include <cctype>
#include <cstdlib>

namespace ag::viz {
namespace {

bool ident_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

}  // namespace

std::string fill(const std::string& pattern, const Fill& f) {
  std::string out;
  for (std::size_t i = 0; i < pattern.size();) {
    const bool word_start = i == 0 || !ident_char(pattern[i - 1]);
    if (pattern[i] == '{') {
      const std::size_t close = pattern.find('}', i);
      if (close == std::string::npos) {
        out += pattern.substr(i);
        break;
      }
      const std::string key = pattern.substr(i + 1, close - i - 1);
      char* end = nullptr;
      const unsigned long k = std::strtoul(key.c_str(), &end, 10);
      if (!key.empty() && *end == '\0' && k < f.inputs.size())
        out += f.inputs[k];
      else if (key == "y")
        out += f.output;
      else if (f.attributes.count(key))
        out += f.attributes.at(key);
      else
        out += key;
      i = close + 1;
    } else if (word_start && pattern.compare(i, 2, "dy") == 0 &&
               (i + 2 == pattern.size() || !ident_char(pattern[i + 2]))) {
      out += f.dy;
      i += 2;
    } else {
      out += pattern[i++];
    }
  }
  return out;
}

std::vector<std::string> grad_patterns(const OpVertex& o) {
  const OpInfo* info = info_of(o);
  if (info && info->grads.size() == o.in.size()) return info->grads;
  return {};  // a custom function: its backward is code, not a formula
}

std::string forward_pattern(const OpVertex& o) {
  static const std::map<std::string, std::string> infix = {{"add", "{0} + {1}"},
                                                           {"sub", "{0} - {1}"},
                                                           {"mul", "{0} * {1}"},
                                                           {"div", "{0} / {1}"},
                                                           {"add_scalar", "{0} + {c}"},
                                                           {"rsub_scalar", "{c} - {0}"},
                                                           {"mul_scalar", "{0} * {c}"},
                                                           {"div_scalar", "{0} / {c}"},
                                                           {"rdiv_scalar", "{c} / {0}"},
                                                           {"pow", "{0}^{p}"},
                                                           {"neg", "-{0}"},
                                                           {"linear", "{0} @ {1}^T + {2}"}};
  auto it = infix.find(o.name);
  if (it != infix.end() && !(o.name == "linear" && (o.in.size() < 3 || o.in[2] < 0)))
    return it->second;
  if (o.name == "matmul" && o.in.size() == 2) {
    const auto attrs = attributes_of(o);
    auto flag = [&](const char* key) {
      for (const auto& a : attrs)
        if (a.first == key) return a.second == "1" || a.second == "true";
      return false;
    };
    return std::string("{0}") + (flag("trans_a") ? "^T" : "") + " @ {1}" +
           (flag("trans_b") ? "^T" : "");
  }
  std::string e = o.name + "(";
  for (std::size_t i = 0; i < o.in.size(); ++i) e += (i ? ", {" : "{") + std::to_string(i) + "}";
  return e + ")";
}

std::map<std::string, std::string> attribute_texts(const OpVertex& o, int precision) {
  std::map<std::string, std::string> out;
  for (const auto& attr : attributes_of(o)) {
    char* end = nullptr;
    const double v = std::strtod(attr.second.c_str(), &end);
    const bool number = !attr.second.empty() && *end == '\0';
    out[attr.first] = number ? num(v, precision) : attr.second;
  }
  return out;
}

std::string attribute_line(const OpVertex& o, int precision) {
  if (o.name == "matmul") return "";  // its transposes show in the expression
  std::string line;
  const auto texts = attribute_texts(o, precision);
  for (const auto& attr : attributes_of(o))
    line += (line.empty() ? "" : ", ") + attr.first + " = " + texts.at(attr.first);
  return line;
}

}  // namespace ag::viz
