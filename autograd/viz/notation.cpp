#include <autograd/viz/format.hpp>
#include <autograd/viz/notation.hpp>
#include <cctype>
#include <cstdlib>

namespace ag::viz {
namespace {

bool ident_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// Replaces whole identifiers found in `table`; numbers such as 1e-5 are left alone.
std::string replace_words(const std::string& text,
                          const std::map<std::string, std::string>& table) {
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    const bool digit = std::isdigit(static_cast<unsigned char>(text[i]));
    if (!ident_char(text[i]) && text[i] != '{') {
      out += text[i++];
      continue;
    }
    if (text[i] == '{') {  // a placeholder is copied whole
      const std::size_t close = text.find('}', i);
      const std::size_t end = close == std::string::npos ? text.size() : close + 1;
      out += text.substr(i, end - i);
      i = end;
      continue;
    }
    std::size_t j = i;
    while (j < text.size() && (ident_char(text[j]) || (digit && text[j] == '.'))) ++j;
    const std::string word = text.substr(i, j - i);
    auto it = digit ? table.end() : table.find(word);
    out += it == table.end() ? word : it->second;
    i = j;
  }
  return out;
}

// ---- until every registry entry carries .grads(): the prose rule read as patterns ----------

std::string trim(const std::string& s) {
  std::size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

// "dX = ..." with X an identifier: where one part of a rule starts.
bool starts_part(const std::string& piece) {
  const std::string t = trim(piece);
  const std::size_t eq = t.find('=');
  if (eq == std::string::npos || t.size() < 2 || t[0] != 'd') return false;
  const std::string lhs = trim(t.substr(0, eq));
  if (lhs.size() < 2) return false;
  for (char c : lhs)
    if (!ident_char(c)) return false;
  return true;
}

// "da = dy * b, db = dy * a" -> {("a", "dy * b"), ("b", "dy * a")}. Parts are separated by ','
// or ';' outside brackets where the next part starts "dX ="; a chain "dx = f = g" keeps f.
std::vector<std::pair<std::string, std::string>> split_rule(const std::string& rule) {
  std::vector<std::string> pieces(1);
  int depth = 0;
  for (char c : rule) {
    if (c == '(' || c == '[') ++depth;
    if (c == ')' || c == ']') --depth;
    if (depth == 0 && (c == ',' || c == ';'))
      pieces.emplace_back(1, c);
    else
      pieces.back() += c;
  }
  std::vector<std::pair<std::string, std::string>> parts;
  for (std::size_t k = 0; k < pieces.size(); ++k) {
    std::string piece = k == 0 ? pieces[k] : pieces[k].substr(1);
    if (!starts_part(piece)) {
      if (!parts.empty()) parts.back().second += pieces[k];
      continue;
    }
    const std::string t = trim(piece);
    const std::size_t eq = t.find('=');
    std::string rhs = trim(t.substr(eq + 1));
    const std::size_t chain = rhs.find(" = ");
    if (chain != std::string::npos) rhs = rhs.substr(0, chain);
    parts.push_back({trim(t.substr(1, eq - 1)), rhs});
  }
  return parts;
}

std::vector<std::string> legacy_patterns(const OpVertex& o) {
  const OpInfo* info = info_of(o);
  if (!info || !info->rule) return {};
  const auto parts = split_rule(info->rule);
  const std::size_t slots = o.in.size();
  if (parts.empty() || (parts.size() != slots && parts.size() != 1)) return {};
  std::map<std::string, std::string> table;
  for (const auto& attr : attributes_of(o)) table[attr.first] = "{" + attr.first + "}";
  if (parts.size() == slots)
    for (std::size_t k = 0; k < slots; ++k) table[parts[k].first] = "{" + std::to_string(k) + "}";
  for (const char* first : {"x", "a"}) table.emplace(first, "{0}");
  if (slots > 1) table.emplace("b", "{1}");
  // The output's symbol: y unless an input is called y (the fused backward ops: dz, y).
  for (const char* y : {"y", "Y", "z"}) {
    if (table.count(y) && table[y] != "{y}") continue;
    bool used = false;
    for (const auto& p : parts)
      used = used || replace_words(p.second, {{std::string("d") + y, "!"}}) != p.second;
    if (!used) continue;
    table[std::string("d") + y] = "dy";
    table[y] = "{y}";
    break;
  }
  std::vector<std::string> out;
  for (std::size_t k = 0; k < slots; ++k)
    out.push_back(replace_words(parts[parts.size() == slots ? k : 0].second, table));
  return out;
}

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
  return legacy_patterns(o);
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
