// Helpers shared by the graph tests: Graphviz as the judge of DOT text, and readers for the
// numbers a chain-rule trace prints.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <unistd.h>
#include <vector>

#include <catch2/catch.hpp>

namespace graph_test {

// A scratch directory for this test process.
inline std::string scratch_dir() {
  static const std::string dir = [] {
    std::string d = "/tmp/ag_test_graph_" + std::to_string(::getpid());
    std::string cmd = "mkdir -p '" + d + "'";
    REQUIRE(std::system(cmd.c_str()) == 0);
    return d;
  }();
  return dir;
}

inline void write_text(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary);
  f << text;
  REQUIRE(f.good());
}

inline std::string read_text(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

// Graphviz must accept the text: `dot -Tsvg` exits 0 and writes an SVG.
inline void require_graphviz_accepts(const std::string& dot_text, const std::string& tag) {
  REQUIRE(std::system("command -v dot > /dev/null 2>&1") == 0);  // Graphviz is part of the set-up
  const std::string in = scratch_dir() + "/" + tag + ".dot";
  const std::string out = scratch_dir() + "/" + tag + ".svg";
  write_text(in, dot_text);
  const std::string cmd = "dot -Tsvg '" + in + "' -o '" + out + "' 2> '" + out + ".err'";
  const int rc = std::system(cmd.c_str());
  INFO("dot stderr: " << read_text(out + ".err"));
  INFO("dot input: " << dot_text.substr(0, 4000));
  REQUIRE(rc == 0);
  REQUIRE(read_text(out).find("<svg") != std::string::npos);
}

inline std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::stringstream s(text);
  std::string line;
  while (std::getline(s, line)) lines.push_back(line);
  return lines;
}

inline std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(' ');
  return b == std::string::npos ? "" : s.substr(b);
}

// Numbers in "[[1, 2], [3, 4]]", "0.5987" or "-1.386": every number, row-major.
inline std::vector<double> numbers_in(const std::string& text) {
  std::vector<double> out;
  const char* p = text.c_str();
  while (*p) {
    char* end = nullptr;
    if ((*p >= '0' && *p <= '9') || ((*p == '-' || *p == '.') && p[1] >= '0' && p[1] <= '9')) {
      out.push_back(std::strtod(p, &end));
      p = end;
    } else {
      ++p;
    }
  }
  return out;
}

// The step that starts with `lhs = ` (e.g. "dL/dz1 = ") and the "= ..." lines under it: each
// line's right-hand side, in order. The last one is the step's result.
inline std::vector<std::string> step(const std::string& trace, const std::string& lhs,
                                     std::size_t occurrence = 0) {
  const auto lines = lines_of(trace);
  std::size_t seen = 0;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::string t = trim(lines[i]);
    if (t.rfind(lhs + " = ", 0) != 0) continue;
    if (seen++ != occurrence) continue;
    std::vector<std::string> rhs{t.substr(lhs.size() + 3)};
    for (std::size_t j = i + 1; j < lines.size(); ++j) {
      const std::string u = trim(lines[j]);
      if (u.rfind("= ", 0) != 0) break;
      rhs.push_back(u.substr(2));
    }
    return rhs;
  }
  FAIL("no step '" << lhs << " = ...' in the trace:\n" << trace);
  return {};
}

// The numbers of a step's result (its last "= ..." line, without a trailing remark).
inline std::vector<double> step_result(const std::string& trace, const std::string& lhs,
                                       std::size_t occurrence = 0) {
  std::string last = step(trace, lhs, occurrence).back();
  const auto remark = last.find("   (");
  if (remark != std::string::npos) last = last.substr(0, remark);
  return numbers_in(last);
}

// The message of the error that `f` throws; fails the test when it throws nothing.
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  FAIL("expected ag::Error, nothing was thrown");
  return {};
}

// Printed numbers carry 4 significant digits.
inline void require_close(const std::vector<double>& got, const std::vector<double>& want,
                          double rel = 1e-3) {
  INFO("got " << ::Catch::Detail::stringify(got) << ", want " << ::Catch::Detail::stringify(want));
  REQUIRE(got.size() == want.size());
  for (std::size_t i = 0; i < got.size(); ++i)
    REQUIRE(got[i] == Approx(want[i]).epsilon(rel).margin(1e-6));
}

}  // namespace graph_test
