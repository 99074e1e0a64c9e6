// Catch2's main, plus deferred registrations: a test file whose test cases depend on other files'
// static initialisers (test_registry's one case per registered op) cannot make them in its own
// static initialiser, since the order across files is unspecified; it adds a function to
// deferred_registrations() instead, and main runs those once every initialiser has run.
//
// A run with AG_SIMD naming an instruction set this CPU cannot run (ctest's per-ISA entries,
// tests/autograd/CMakeLists.txt) is skipped with exit code 77 instead of failing every test.
#define CATCH_CONFIG_RUNNER
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <autograd/simd.hpp>

namespace ag_tests {
std::vector<void (*)()>& deferred_registrations() {
  static std::vector<void (*)()> fns;
  return fns;
}
}  // namespace ag_tests

namespace {

// True where AG_SIMD forces a known x86-64 instruction set that the CPU (or this build) lacks.
// Unknown names are left to fail in the tests, so that a typo is not skipped.
bool forced_isa_unavailable() {
  const char* forced = std::getenv("AG_SIMD");
  if (!forced) return false;
  std::string want = forced;
  if (want != "avx2" && want != "avx512") return false;
  std::vector<std::string> have = ag::simd_isas_available();
  if (have.size() == 1 && have[0] == "native") return false;  // one copy: AG_SIMD is ignored
  return std::find(have.begin(), have.end(), want) == have.end();
}

}  // namespace

int main(int argc, char* argv[]) {
  if (forced_isa_unavailable()) {
    std::printf("AG_SIMD=%s: this CPU cannot run it; skipped\n", std::getenv("AG_SIMD"));
    return 77;
  }
  for (void (*f)() : ag_tests::deferred_registrations()) f();
  return Catch::Session().run(argc, argv);
}
