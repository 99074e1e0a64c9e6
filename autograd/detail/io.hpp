// Internal: the file reading and writing every loader and saver shares, so that each of them
// checks what a path is before trusting it, reports failures as ag::Error naming the op, and
// never leaves a half-written file behind.
#pragma once

#include <cstddef>
#include <string>

namespace ag::io {

// The whole contents of the regular file at `path`. A directory, a device (/dev/zero), a pipe,
// a missing or unreadable file, or one larger than max_bytes throws ag::Error
// "<op>: <path>: ...". Memory is reserved from the file's size as fstat reports it, so nothing
// grows without bound.
std::string read_file(const char* op, const std::string& path,
                      std::size_t max_bytes = static_cast<std::size_t>(PTRDIFF_MAX));

// Replaces `path` with `bytes` atomically: a reader sees the old file or the new one, never a
// mix, and a failed save leaves the old file untouched. The bytes go to a temp file unique to
// this save ("<path>.tmp.<pid>.<thread>.<counter>", so concurrent saves to one path never share
// one), which is fsynced and renamed over `path`; then the directory is fsynced so the rename
// survives a crash. Before the rename, temp files that crashed saves of `path` left behind
// (their process no longer exists) are removed: once a save is visible, they are gone.
void write_file_atomically(const char* op, const std::string& path, const std::string& bytes);

// The temp files of `path` currently in its directory (what write_file_atomically may leave
// while a save is in flight, or after a process was killed mid-save). For tests and tools.
std::size_t count_temp_files(const std::string& path);

}  // namespace ag::io
