// One Catch2 main for every test executable. Tests generated from the op registry must be made
// after static initialisation: the library's ops register themselves in their own files'
// static initialisers, which run after the test files' (link order), so a test file's static
// registrar would see an empty registry. Such files add a function to late_registrars().
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include "late_registration.hpp"

std::vector<void (*)()>& late_registrars() {
  static std::vector<void (*)()> fns;
  return fns;
}

int main(int argc, char** argv) {
  for (void (*fn)() : late_registrars()) fn();
  return Catch::Session().run(argc, argv);
}
