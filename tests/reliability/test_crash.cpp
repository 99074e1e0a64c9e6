// Crash consistency: a child process saves a model in a loop and is killed with SIGKILL at a
// random moment, again and again. Each time the file on disk must load as one complete version
// (every value the same version number, no mix), never older than the last one seen, and the
// temp files of killed saves must not accumulate: the next successful save removes them.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <random>
#include <thread>

#include <autograd/detail/io.hpp>
#include <nn/nn.hpp>

using namespace ag;

namespace {

void set_version(nn::Linear& m, double v) {
  NoGradGuard no_grad;
  for (auto& p : m.parameters()) p.fill_(v);
}

// The version every value of m holds, or -1 when they differ (a torn or mixed file).
double version_of(const nn::Linear& m) {
  double v = m.weight.to_vector().at(0);
  for (const auto& p : m.parameters())
    for (double x : p.to_vector())
      if (x != v) return -1;
  return v;
}

[[noreturn]] void save_forever(const std::string& path, int round) {
  nn::Linear m(96, 96);
  for (int k = 1;; ++k) {
    set_version(m, round * 100000.0 + k);
    m.save(path);
  }
}

}  // namespace

TEST_CASE("crash consistency: SIGKILL during saves never leaves a torn or stale-temp file", "[crash]") {
  const auto dir = std::filesystem::temp_directory_path() / ("ag_crash_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "model.npz").string();
  nn::Linear m(96, 96);
  set_version(m, 0);
  m.save(path);

  std::mt19937 rng(12345);
  std::uniform_int_distribution<int> delay_us(0, 40000);
  constexpr int kRounds = 60;
  double last = 0;
  int loaded_new = 0;
  std::size_t temps = 0;
  for (int round = 1; round <= kRounds; ++round) {
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) save_forever(path, round);
    std::this_thread::sleep_for(std::chrono::microseconds(delay_us(rng)));
    REQUIRE(::kill(child, SIGKILL) == 0);
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    REQUIRE(WIFSIGNALED(status));

    nn::Linear loaded(96, 96);
    loaded.load(path);  // throws (fails the test) on a torn file
    const double v = version_of(loaded);
    INFO("round " << round << ": loaded version " << v << ", last " << last);
    REQUIRE(v >= last);                      // complete, and never older than what was seen
    REQUIRE(v < (round + 1) * 100000.0);     // an earlier or the current round's version
    // The killed save may leave its temp file; a save that completed in this round removed every
    // earlier one. (A child killed before its first save completed removed nothing.)
    const std::size_t now = io::count_temp_files(path);
    REQUIRE(now <= (v > last ? 1 : temps + 1));
    temps = now;
    if (v > last) ++loaded_new;
    last = v;
  }
  CHECK(loaded_new > kRounds / 4);  // many kills landed after a save, not all before the first
  m.save(path);
  CHECK(io::count_temp_files(path) == 0);
  std::filesystem::remove_all(dir);
}
