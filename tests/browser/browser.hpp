// Driving Debian's chromium headless from a test: the DOM of a page after its scripts ran, and
// screenshots. Each call is a fresh browser with its own profile in a scratch directory.
#pragma once

#include <regex>
#include <string>
#include <vector>

#include "../graph/util.hpp"

namespace browser_test {

// chromium from PATH; fails the test (never skips it) when it is missing.
inline std::string chromium() {
  for (const char* name : {"chromium", "chromium-browser"}) {
    const std::string cmd = std::string("command -v ") + name + " > /dev/null 2>&1";
    if (std::system(cmd.c_str()) == 0) return name;
  }
  FAIL("chromium is not installed: scripts/setup.sh installs it (apt-get install chromium)");
  return {};
}

// --no-sandbox: CI runs as root, where chromium's sandbox cannot start.
inline std::string run_chromium(const std::string& flags, const std::string& url,
                                const std::string& out) {
  const std::string profile = graph_test::scratch_dir() + "/chromium-profile";
  const std::string cmd = chromium() + " --headless --no-sandbox --disable-gpu --no-first-run " +
                          "--disable-extensions --hide-scrollbars --user-data-dir='" + profile +
                          "' " + flags + " '" + url + "' > '" + out + "' 2> '" + out + ".err'";
  const int rc = std::system(cmd.c_str());
  INFO("chromium stderr: " << graph_test::read_text(out + ".err").substr(0, 2000));
  REQUIRE(rc == 0);
  return graph_test::read_text(out);
}

// The page's DOM once its scripts have run, opened at #step=N.
inline std::string dom_at(const std::string& page, int step) {
  const std::string out = graph_test::scratch_dir() + "/dom_" + std::to_string(step) + ".html";
  const std::string dom =
      run_chromium("--dump-dom", "file://" + page + "#step=" + std::to_string(step), out);
  REQUIRE(dom.find("<html") != std::string::npos);
  return dom;
}

inline void screenshot(const std::string& page, int step, const std::string& png) {
  REQUIRE(std::system(("mkdir -p '" + png.substr(0, png.rfind('/')) + "'").c_str()) == 0);
  run_chromium("--window-size=1600,900 --screenshot='" + png + "'",
               "file://" + page + "#step=" + std::to_string(step),
               graph_test::scratch_dir() + "/screenshot.log");
  REQUIRE(graph_test::read_text(png).substr(1, 3) == "PNG");
}

// An attribute of the <html> element ("data-js-errors").
inline std::string root_attribute(const std::string& dom, const std::string& name) {
  std::smatch m;
  const std::string head = dom.substr(0, dom.find('>', dom.find("<html")) + 1);
  if (!std::regex_search(head, m, std::regex(name + "=\"([^\"]*)\""))) return "(absent)";
  return m[1];
}

// The graph nodes the page marked `current`: their data-name (op label) and data-output.
inline std::vector<std::pair<std::string, std::string>> current_nodes(const std::string& dom) {
  std::vector<std::pair<std::string, std::string>> out;
  const std::regex tag("<g[^>]*class=\"node current\"[^>]*>");
  for (auto it = std::sregex_iterator(dom.begin(), dom.end(), tag); it != std::sregex_iterator();
       ++it) {
    const std::string t = it->str();
    std::smatch name, output;
    std::regex_search(t, name, std::regex("data-name=\"([^\"]*)\""));
    std::regex_search(t, output, std::regex("data-output=\"([^\"]*)\""));
    out.emplace_back(name[1], output[1]);
  }
  return out;
}

// The text of the element with this id (no markup inside it).
inline std::string text_of_id(const std::string& dom, const std::string& id) {
  std::smatch m;
  if (!std::regex_search(dom, m, std::regex("id=\"" + id + "\"[^>]*>([^<]*)<"))) return "(absent)";
  return m[1];
}

// The lines of the <div class="math..."> elements in `html`, trimmed.
inline std::vector<std::string> math_lines(const std::string& html) {
  std::vector<std::string> lines;
  const std::regex line("<div class=\"math[^\"]*\"[^>]*>([^<]*)</div>");
  for (auto it = std::sregex_iterator(html.begin(), html.end(), line); it != std::sregex_iterator();
       ++it)
    lines.push_back(graph_test::trim((*it)[1]));
  return lines;
}

// The step panel's lines for one input tensor: "dL/da = dL/de * b", "= 0.4621 * -3", ...
// (twice over when the op uses the tensor twice, as e * e does).
inline std::vector<std::string> panel_lines(const std::string& dom, const std::string& tensor) {
  const std::regex block("<div class=\"input-step\" data-tensor=\"" + tensor +
                         "\">(.*?)</div></div>");
  const std::string numbers = dom.substr(dom.find("id=\"numbers\""));
  std::vector<std::string> lines;
  for (auto it = std::sregex_iterator(numbers.begin(), numbers.end(), block);
       it != std::sregex_iterator(); ++it)
    for (const std::string& l : math_lines((*it)[1].str() + "</div>")) lines.push_back(l);
  return lines;
}

// The lines of the "arriving from above" section.
inline std::vector<std::string> arriving_lines(const std::string& dom) {
  const std::size_t at = dom.find("id=\"arriving\"");
  return math_lines(dom.substr(at, dom.find("</section>", at) - at));
}

// The grad field a tensor's record shows in the picture ("grad -1.386", "grad ?").
inline std::string picture_grad(const std::string& dom, const std::string& tensor) {
  const std::size_t at = dom.find("data-name=\"" + tensor + "\"");
  if (at == std::string::npos) return "(no node)";
  const std::string node = dom.substr(at, dom.find("</g>", at) - at);
  std::smatch m;
  if (!std::regex_search(node, m, std::regex(">(grad [^<]*)</text>"))) return "(no grad field)";
  return m[1];
}

}  // namespace browser_test
