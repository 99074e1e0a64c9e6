// Internal to the teaching tools: the fixed parts of the backward page (HTML frame, CSS, script).
#pragma once

#include <string>

namespace ag::viz {

// <!DOCTYPE> to the opening of the graph column: the policy that forbids every request, the
// error recorder, the styles, the title and the controls.
std::string page_head(const std::string& title);
// The step panel beside the graph.
std::string page_panel();
// The script that runs the steps, and the end of the document.
std::string page_tail();
// The script alone (page_script.cpp).
const char* page_script();

}  // namespace ag::viz
