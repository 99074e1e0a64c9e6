// Catch2's main, plus deferred registrations: a test file whose test cases depend on other files'
// static initialisers (test_registry's one case per registered op) cannot make them in its own
// static initialiser, since the order across files is unspecified; it adds a function to
// deferred_registrations() instead, and main runs those once every initialiser has run.
#define CATCH_CONFIG_RUNNER
#include <vector>

#include <catch2/catch.hpp>

namespace ag_tests {
std::vector<void (*)()>& deferred_registrations() {
  static std::vector<void (*)()> fns;
  return fns;
}
}  // namespace ag_tests

int main(int argc, char* argv[]) {
  for (void (*f)() : ag_tests::deferred_registrations()) f();
  return Catch::Session().run(argc, argv);
}
