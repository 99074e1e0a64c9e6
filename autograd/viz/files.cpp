#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <autograd/tensor.hpp>
#include <autograd/viz/files.hpp>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

extern char** environ;

namespace ag::viz {
namespace {

std::string find_in_path(const std::string& program) {
  const char* path = std::getenv("PATH");
  if (!path) return {};
  const std::string dirs = path;
  for (std::size_t start = 0; start <= dirs.size();) {
    std::size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    std::string dir = dirs.substr(start, end - start);
    if (dir.empty()) dir = ".";
    const std::string candidate = dir + "/" + program;
    struct stat st;
    if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
        ::access(candidate.c_str(), X_OK) == 0)
      return candidate;
    start = end + 1;
  }
  return {};
}

std::string temp_name(const std::string& path, const std::string& what) {
  return path + "." + what + "." + std::to_string(::getpid()) + ".tmp";
}

// `shown` is the name errors use.
void write_file(const std::string& path, const std::string& bytes, const std::string& shown,
                const char* who) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  if (!f)
    throw Error(std::string(who) + ": cannot open '" + shown +
                "' for writing: " + std::strerror(errno));
  f << bytes;
  f.close();
  if (!f) {
    std::remove(path.c_str());
    throw Error(std::string(who) + ": writing '" + shown + "' failed");
  }
}

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

// posix_spawn rather than system(): no shell, so paths need no quoting. Returns the wait
// status; stdout and stderr go to the given files.
int run_program(std::vector<std::string> args, const std::string& out, const std::string& err,
                const char* who) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, args[0].c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0)
    throw Error(std::string(who) + ": could not start `" + args[0] + "`: " + std::strerror(rc));
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

}  // namespace

void write_atomically(const std::string& path, const std::string& bytes, const char* who) {
  const std::string tmp = temp_name(path, "part");
  write_file(tmp, bytes, path, who);
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    std::remove(tmp.c_str());
    throw Error(std::string(who) + ": cannot write '" + path + "': " + why);
  }
}

std::string render_with_graphviz(const std::string& dot_text, const std::string& format,
                                 const std::string& for_path, const char* who) {
  const std::string dot = find_in_path("dot");
  if (dot.empty())
    throw Error(std::string(who) + ": Graphviz's `dot` was not found in PATH, so '" + for_path +
                "' cannot be rendered; install Graphviz (Debian: apt-get install graphviz) or "
                "save to a .dot file instead");
  const std::string in = temp_name(for_path, "in"), out = temp_name(for_path, "out"),
                    err = temp_name(for_path, "err");
  write_file(in, dot_text, for_path, who);
  int status = 0;
  try {
    status = run_program({dot, "-T" + format, in}, out, err, who);
  } catch (...) {
    std::remove(in.c_str());
    throw;
  }
  const std::string output = read_file(out), errors = read_file(err);
  for (const std::string* f : {&in, &out, &err}) std::remove(f->c_str());
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    const std::string how = WIFEXITED(status) ? "exit status " + std::to_string(WEXITSTATUS(status))
                                              : "signal " + std::to_string(WTERMSIG(status));
    throw Error(std::string(who) + ": Graphviz's `dot -T" + format + "` failed (" + how +
                ") rendering '" + for_path + "'" + (errors.empty() ? "" : ": " + errors));
  }
  return output;
}

}  // namespace ag::viz
