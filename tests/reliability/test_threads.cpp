// The concurrency contract (README, "Threads"), each case with 4 threads:
//   1. threads building and running independent graphs (models, backward, optimizer steps);
//   2. threads running forward passes on one shared model under NoGradGuard;
//   3. threads running backward through graphs that share leaves, accumulating into the shared
//      leaves' .grad (a lock per leaf; the sum is order-dependent in its rounding only).
// An optimizer step racing a backward on the same parameters is not supported.
// Also: two threads saving one path while a third loads it (each save has its own temp file).
// The CI runs these under ThreadSanitizer (scripts/test.sh).
#include <catch2/catch.hpp>

#include <unistd.h>

#include <atomic>
#include <cmath>
#include <filesystem>
#include <thread>
#include <vector>

#include <autograd/detail/io.hpp>
#include <nn/nn.hpp>
#include <optim/optim.hpp>

using namespace ag;

namespace {

constexpr int kThreads = 4;

template <class F>
void run_threads(F f) {
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) threads.emplace_back(f, t);
  for (auto& th : threads) th.join();
}

std::shared_ptr<nn::Sequential> model(std::uint64_t seed) {
  manual_seed(seed);
  auto m = nn::mlp({4, 16, 3}, "tanh");
  m->to(float64);
  return m;
}

Tensor input(int t) {
  manual_seed(100 + static_cast<std::uint64_t>(t));
  return randn({8, 4}, float64);
}

std::vector<double> flat_params(const nn::Module& m) {
  std::vector<double> out;
  for (const auto& p : m.parameters())
    for (double v : p.to_vector()) out.push_back(v);
  return out;
}

std::vector<double> flat_grads(const nn::Module& m) {
  std::vector<double> out;
  for (const auto& p : m.parameters())
    for (double v : p.grad().to_vector()) out.push_back(v);
  return out;
}

void train(nn::Module& m, const Tensor& x, int steps) {
  optim::SGD opt(m.parameters(), optim::SGDOptions{0.05, 0.9});
  for (int s = 0; s < steps; ++s) {
    opt.zero_grad();
    Tensor loss = mean(m(x) * m(x));
    loss.backward();
    opt.step();
  }
}

}  // namespace

TEST_CASE("threads: independent graphs on 4 threads give the single-threaded results", "[threads]") {
  std::vector<std::shared_ptr<nn::Sequential>> models, reference;
  std::vector<Tensor> inputs;
  for (int t = 0; t < kThreads; ++t) {
    models.push_back(model(7 + t));
    reference.push_back(model(7 + t));
    inputs.push_back(input(t));
  }
  for (int t = 0; t < kThreads; ++t) train(*reference[t], inputs[t], 30);
  run_threads([&](int t) { train(*models[t], inputs[t], 30); });
  for (int t = 0; t < kThreads; ++t) CHECK(flat_params(*models[t]) == flat_params(*reference[t]));
}

TEST_CASE("threads: forward on one shared model under NoGradGuard", "[threads]") {
  auto shared = model(3);
  std::vector<Tensor> inputs, expected;
  for (int t = 0; t < kThreads; ++t) {
    inputs.push_back(input(t));
    NoGradGuard no_grad;
    expected.push_back((*shared)(inputs[t]));
  }
  std::vector<int> matches(kThreads, 0);
  run_threads([&](int t) {
    NoGradGuard no_grad;
    for (int k = 0; k < 50; ++k)
      if ((*shared)(inputs[t]).to_vector() == expected[t].to_vector()) ++matches[t];
  });
  for (int t = 0; t < kThreads; ++t) CHECK(matches[t] == 50);
  for (const auto& p : shared->parameters()) CHECK_FALSE(p.grad().defined());
}

TEST_CASE("threads: backward through graphs sharing leaves accumulates every contribution", "[threads]") {
  constexpr int kRepeats = 25;
  auto shared = model(5);
  std::vector<Tensor> inputs;
  for (int t = 0; t < kThreads; ++t) inputs.push_back(input(t));
  // The reference: the same backward passes, one after another.
  for (int t = 0; t < kThreads; ++t)
    for (int k = 0; k < kRepeats; ++k) sum((*shared)(inputs[t])).backward();
  const std::vector<double> expected = flat_grads(*shared);
  shared->zero_grad();

  run_threads([&](int t) {
    for (int k = 0; k < kRepeats; ++k) sum((*shared)(inputs[t])).backward();
  });
  const std::vector<double> got = flat_grads(*shared);
  REQUIRE(got.size() == expected.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    INFO("gradient element " << i);
    CHECK(std::fabs(got[i] - expected[i]) <= 1e-12 * (1 + std::fabs(expected[i])));
  }
}

TEST_CASE("threads: a shared leaf without a module, many small backward passes", "[threads]") {
  Tensor w = ones({3}, float64).requires_grad_();
  run_threads([&](int t) {
    Tensor x = full({3}, t + 1.0, float64);
    for (int k = 0; k < 200; ++k) sum(w * x).backward();
  });
  // Each thread adds 200 * (t + 1) to every element: 200 * (1 + 2 + 3 + 4) = 2000, exactly.
  CHECK(w.grad().to_vector() == std::vector<double>{2000, 2000, 2000});
}

TEST_CASE("threads: two threads saving to one path while a third loads it", "[threads]") {
  const auto dir = std::filesystem::temp_directory_path() / ("ag_threads_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "model.npz").string();
  auto version = [](double v) {
    auto m = std::make_shared<nn::Linear>(8, 8);
    NoGradGuard no_grad;
    for (auto& p : m->parameters()) p.fill_(v);
    return m;
  };
  version(0)->save(path);
  constexpr int kSaves = 30;
  std::atomic<int> saved{0}, failed{0}, torn{0}, loads{0};
  std::atomic<bool> done{false};
  std::vector<std::thread> savers;
  for (int t = 1; t <= 2; ++t)
    savers.emplace_back([&, t] {
      auto m = version(t);
      for (int k = 0; k < kSaves; ++k) {
        try {
          m->save(path);
          ++saved;
        } catch (const Error&) {
          ++failed;
        }
      }
    });
  std::thread reader([&] {
    while (!done) {
      nn::Linear m(8, 8);
      m.load(path);  // a partial file would throw here (and fail the test)
      const double v = m.weight.to_vector()[0];
      for (const auto& p : m.parameters())
        for (double x : p.to_vector())
          if (x != v) ++torn;
      ++loads;
    }
  });
  for (auto& s : savers) s.join();
  done = true;
  reader.join();
  CHECK(saved == 2 * kSaves);  // each save has its own temp file: none fails
  CHECK(failed == 0);
  CHECK(torn == 0);
  CHECK(loads > 0);
  nn::Linear last(8, 8);
  last.load(path);
  const double v = last.weight.to_vector()[0];
  CHECK((v == 1 || v == 2));
  CHECK(io::count_temp_files(path) == 0);
  std::filesystem::remove_all(dir);
}
