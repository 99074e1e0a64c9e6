// The Catch2 main of the distributed tests: MPI is started before and stopped after the cases.
// Under mpirun every rank runs every case in the same order, so the collectives inside them line
// up; without mpirun they run as one rank.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <dist/dist.hpp>

int main(int argc, char** argv) {
  ag::dist::init(&argc, &argv);
  int failed = Catch::Session().run(argc, argv);
  ag::dist::finalize();
  return failed == 0 ? 0 : 1;
}
