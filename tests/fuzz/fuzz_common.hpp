// Shared by the libFuzzer harnesses: a per-process temp file for readers that take paths, and
// the rule every harness enforces: an input gives a result or an ag::Error. Any other exception
// escapes LLVMFuzzerTestOneInput and aborts, which libFuzzer reports as a finding, as it does
// every sanitizer report and every allocation past -malloc_limit_mb.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>

// Out-of-memory paths are part of what is fuzzed: ASan must return null (ag turns that into an
// ag::Error), not abort, for allocations past its maximum.
extern "C" const char* __asan_default_options() { return "allocator_may_return_null=1"; }

namespace fuzz {

// A file name unique to this process (libFuzzer's -fork/-jobs run several at once).
inline std::string temp_path(const char* tag) {
  return "/tmp/ag_fuzz_" + std::to_string(::getpid()) + "_" + tag;
}

inline void write_file(const std::string& path, const std::uint8_t* data, std::size_t size) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) __builtin_trap();
  if (size) std::fwrite(data, 1, size, f);
  std::fclose(f);
}

}  // namespace fuzz
