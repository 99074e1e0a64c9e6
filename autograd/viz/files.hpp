// Internal to the teaching tools: files written whole or not at all, and Graphviz's `dot` run as
// a child process (the only place the library starts a program).
#pragma once

#include <string>

namespace ag::viz {

// Writes next to `path`, then renames: a reader never sees a half-written file. Errors name
// `who` and `path` (the user's, never the temporary one).
void write_atomically(const std::string& path, const std::string& bytes, const char* who);

// Renders DOT text with `dot -T<format>` and returns the output. `for_path` is the file the
// user asked for: errors name it, and the scratch files sit next to it.
std::string render_with_graphviz(const std::string& dot_text, const std::string& format,
                                 const std::string& for_path, const char* who);

}  // namespace ag::viz
