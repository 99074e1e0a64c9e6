#include <autograd/viz/format.hpp>
#include <autograd/viz/page_assets.hpp>

namespace ag::viz {
namespace {

// Nothing may be fetched: no file, no host. A blocked attempt is counted on <html> (the browser
// test reads it), as is every script error.
const char* kHeadStart = R"HTML(<!DOCTYPE html>
<html lang="en" data-js-errors="0" data-blocked-requests="0" data-ready="0">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<script>
(function () {
  var root = document.documentElement, errors = [];
  window.addEventListener('error', function (e) {
    errors.push(String(e.message));
    root.setAttribute('data-js-errors', String(errors.length));
    root.setAttribute('data-js-error-text', errors.join(' | '));
  });
  document.addEventListener('securitypolicyviolation', function (e) {
    root.setAttribute('data-blocked-requests', String(Number(root.getAttribute('data-blocked-requests')) + 1));
    root.setAttribute('data-blocked-url', String(e.blockedURI));
  });
})();
</script>
)HTML";

// Projector colours: dark text on white, one strong accent per role, thick outlines; text as
// large as the graph's labels (16 pt, about 21 px) or larger.
const char* kStyle = R"CSS(<style>
html { font-family: "DejaVu Sans", Verdana, Arial, sans-serif; font-size: 22px; color: #111; background: #fff; }
body { margin: 0; }
header { display: flex; flex-wrap: wrap; align-items: center; gap: 0.6em; padding: 0.4em 0.8em; background: #1a237e; color: #fff; }
header h1 { font-size: 1.2em; margin: 0 1em 0 0; }
button, select { font-size: 1em; padding: 0.2em 0.6em; border: 2px solid #fff; border-radius: 6px; background: #283593; color: #fff; cursor: pointer; }
button:disabled { opacity: 0.4; cursor: default; }
#position { font-weight: bold; min-width: 8em; }
main { display: flex; flex-wrap: wrap; align-items: flex-start; }
#graph { flex: 3 1 600px; padding: 0.5em; overflow: auto; max-height: calc(100vh - 4.5em); }
#graph.fit svg { width: 100%; height: auto; max-height: calc(100vh - 5.5em); }
#panel { flex: 2 1 420px; padding: 0.5em 1em; border-left: 4px solid #1a237e; }
#panel h2 { font-size: 1.25em; margin: 0.2em 0; font-family: "DejaVu Sans Mono", monospace; }
#panel section { margin: 0.6em 0; }
.caption { font-weight: bold; color: #1a237e; }
.math { font-family: "DejaVu Sans Mono", "Courier New", monospace; font-size: 1em; white-space: pre-wrap; overflow-wrap: anywhere; }
.grad-result { color: #0d47a1; font-weight: bold; }
.missing { color: #b71c1c; }
.words { font-style: italic; }
#info { border: 3px solid #555; border-radius: 8px; padding: 0.4em 0.6em; background: #fffde7; }
#graph g.node { cursor: pointer; }
#graph g.node.current > ellipse, #graph g.node.current > polygon { fill: #ffd54f; stroke: #c62828; stroke-width: 5px; }
#graph g.node.done > ellipse { fill: #a5d6a7; stroke: #1b5e20; stroke-width: 2px; }
#graph g.node.arriving > polygon { stroke: #c62828; stroke-width: 4px; }
#graph g.node.fresh > polygon { stroke: #0d47a1; stroke-width: 5px; }
#graph g.node.selected > polygon { stroke-dasharray: 6 3; stroke-width: 4px; }
#graph text.grad-pending { fill: #9e9e9e; }
#graph text.grad-partial { fill: #e65100; font-style: italic; }
</style>
)CSS";

const char* kControls = R"HTML(<nav id="controls">
<button id="first" title="first step (Home)">&#9664;&#9664; first</button>
<button id="prev" title="previous step (left arrow)">&#9664; previous</button>
<span id="position">step <span id="step-number">0</span> of <span id="step-count">0</span></span>
<button id="next" title="next step (right arrow, space)">next &#9654;</button>
<button id="last" title="last step (End)">last &#9654;&#9654;</button>
<button id="play" title="play the steps (p)">&#9654; play</button>
<button id="fit" title="the whole graph at once, or at its own size (f)">fit</button>
<label>speed <select id="speed"><option value="4000">slow</option><option value="2000" selected>normal</option><option value="1000">fast</option></select></label>
</nav>
</header>
<main>
)HTML";

const char* kPanel = R"HTML(<aside id="panel">
<div id="step-title" class="caption"></div>
<h2 id="expression"></h2>
<section id="arriving"></section>
<section id="rule"></section>
<section id="numbers"></section>
<section id="on-inputs"></section>
<section id="info">Click or hover a tensor for its name, shape, dtype, value and gradient.</section>
</aside>
</main>
)HTML";

}  // namespace

std::string page_head(const std::string& title) {
  return std::string(kHeadStart) + "<title>" + html_escape(title) + "</title>\n" + kStyle +
         "</head>\n<body>\n<header>\n<h1>" + html_escape(title) + "</h1>\n" + kControls;
}

std::string page_panel() { return kPanel; }

std::string page_tail() {
  return std::string("<script>\n") + page_script() + "</script>\n</body>\n</html>\n";
}

}  // namespace ag::viz
