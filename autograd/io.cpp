// Checked whole-file reads and atomic, crash-safe writes (autograd/detail/io.hpp).
#include <autograd/detail/io.hpp>

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <new>
#include <thread>

#include <autograd/tensor.hpp>

namespace ag::io {
namespace {

[[noreturn]] void fail_errno(const char* op, const std::string& what, int err) {
  throw Error(std::string(op) + ": " + what + ": " + std::strerror(err));
}

struct Fd {  // closes on every exit path
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

std::string dir_of(const std::string& path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}
std::string base_of(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}
std::string temp_prefix(const std::string& path) { return base_of(path) + ".tmp."; }

// The pid in "<base>.tmp.<pid>.<thread>.<counter>", or 0 when the name is not ours.
long temp_owner(const std::string& name, const std::string& prefix) {
  if (name.compare(0, prefix.size(), prefix) != 0) return 0;
  char* end = nullptr;
  const long pid = std::strtol(name.c_str() + prefix.size(), &end, 10);
  return end && *end == '.' && pid > 0 ? pid : 0;
}

template <class F>
void for_each_temp(const std::string& path, F f) {
  DIR* dir = ::opendir(dir_of(path).c_str());
  if (!dir) return;
  const std::string prefix = temp_prefix(path);
  while (dirent* e = ::readdir(dir)) {
    const std::string name = e->d_name;
    if (long pid = temp_owner(name, prefix)) f(name, pid);
  }
  ::closedir(dir);
}

// Removes temp files whose process is gone: a save killed between create and rename.
void remove_stale_temps(const std::string& path) {
  const std::string dir = dir_of(path);
  for_each_temp(path, [&](const std::string& name, long pid) {
    if (pid == static_cast<long>(::getpid())) return;  // this process's saves clean up after themselves
    if (::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) return;  // still alive (or not ours)
    ::unlink((dir + "/" + name).c_str());
  });
}

std::string unique_temp_name(const std::string& path) {
  static std::atomic<std::uint64_t> counter{0};
  const std::size_t tid = std::hash<std::thread::id>()(std::this_thread::get_id());
  return path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(tid % 1000000007) +
         "." + std::to_string(++counter);
}

void write_all(int fd, const std::string& bytes, const std::function<void(const char*)>& fail) {
  const char* p = bytes.data();
  std::size_t left = bytes.size();
  while (left > 0) {
    const ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("cannot write");
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
}

}  // namespace

std::string read_file(const char* op, const std::string& path, std::size_t max_bytes) {
  Fd f;
  f.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);  // a FIFO must not block open
  if (f.fd < 0) fail_errno(op, "cannot open " + path, errno);
  struct stat st{};
  if (::fstat(f.fd, &st) != 0) fail_errno(op, "cannot stat " + path, errno);
  if (S_ISDIR(st.st_mode)) throw Error(std::string(op) + ": " + path + " is a directory, not a file");
  if (!S_ISREG(st.st_mode))
    throw Error(std::string(op) + ": " + path + " is not a regular file (a device, pipe or socket)");
  const auto size = static_cast<std::size_t>(st.st_size);
  if (size > max_bytes)
    throw Error(std::string(op) + ": " + path + " has " + std::to_string(size) +
                " bytes, more than the " + std::to_string(max_bytes) + " this reader accepts");
  std::string out;
  try {
    out.resize(size);
  } catch (const std::bad_alloc&) {
    throw Error(std::string(op) + ": out of memory reading " + path + " (" + std::to_string(size) + " bytes)");
  }
  std::size_t got = 0;
  while (got < size) {  // a file that shrinks meanwhile gives what is there; one that grows, its first `size` bytes
    const ssize_t n = ::read(f.fd, &out[got], size - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail_errno(op, "cannot read " + path, errno);
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  out.resize(got);
  return out;
}

void write_file_atomically(const char* op, const std::string& path, const std::string& bytes) {
  const std::string tmp = unique_temp_name(path);
  Fd f;
  f.fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (f.fd < 0) fail_errno(op, "cannot create " + tmp, errno);
  auto fail = [&](const char* what) {
    const int err = errno;
    ::close(f.fd);
    f.fd = -1;
    ::unlink(tmp.c_str());
    throw Error(std::string(op) + ": " + what + " " + tmp + ": " + std::strerror(err) + " (" + path +
                " is unchanged)");
  };
  write_all(f.fd, bytes, fail);
  if (::fsync(f.fd) != 0) fail("cannot fsync");
  const int fd = f.fd;
  f.fd = -1;
  if (::close(fd) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    fail_errno(op, "cannot close " + tmp + " (" + path + " is unchanged)", err);
  }
  // Before the rename, so that once the new file is visible the stale temps are already gone.
  remove_stale_temps(path);
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    fail_errno(op, "cannot rename " + tmp + " to " + path + " (" + path + " is unchanged)", err);
  }
  // The rename lives in the directory: without this fsync a crash may bring the old file back.
  Fd dir;
  dir.fd = ::open(dir_of(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  // (Some file systems cannot fsync a directory at all: EINVAL. Nothing more can be done there.)
  if ((dir.fd < 0 || ::fsync(dir.fd) != 0) && errno != EINVAL)
    fail_errno(op, "saved " + path + ", but cannot fsync its directory", errno);
}

std::size_t count_temp_files(const std::string& path) {
  std::size_t n = 0;
  for_each_temp(path, [&](const std::string&, long) { ++n; });
  return n;
}

}  // namespace ag::io
