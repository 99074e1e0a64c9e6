// The smallest real use of ag: build a graph, run backward, check the gradient by hand.
// Exits non-zero when the numbers are wrong, so the consumer tests check linking and behaviour.
#include <cmath>
#include <cstdio>
#include <utility>

#include <autograd/autograd.hpp>

std::pair<double, double> one_sgd_step();  // umbrella.cpp

int main() {
  ag::Tensor w = ag::tensor({0.5, -1.0, 2.0}, {3}, ag::float64);
  w.requires_grad_().set_name("w");
  ag::Tensor x = ag::tensor({{1.0, 2.0, 3.0}, {-1.0, 0.5, 0.25}}).to(ag::float64);

  // loss = sum_n sigmoid(x_n . w); dloss/dw = sum_n s_n (1 - s_n) x_n
  ag::Tensor loss = ag::sigmoid(ag::matmul(x, w)).sum();
  loss.backward();

  const double xv[2][3] = {{1.0, 2.0, 3.0}, {-1.0, 0.5, 0.25}};
  const double wv[3] = {0.5, -1.0, 2.0};
  double want[3] = {0, 0, 0};
  for (const auto& row : xv) {
    double z = row[0] * wv[0] + row[1] * wv[1] + row[2] * wv[2];
    double s = 1 / (1 + std::exp(-z));
    for (int i = 0; i < 3; ++i) want[i] += s * (1 - s) * row[i];
  }
  std::vector<double> got = w.grad().to_vector();
  std::printf("loss = %.6f\n", loss.item());
  for (int i = 0; i < 3; ++i) {
    std::printf("dloss/dw[%d] = %.9f (by hand %.9f)\n", i, got[i], want[i]);
    if (std::fabs(got[i] - want[i]) > 1e-12) {
      std::printf("consumer: gradient mismatch\n");
      return 1;
    }
  }
  try {
    ag::matmul(ag::zeros({3, 4}), ag::zeros({5, 2}));
    std::printf("consumer: expected ag::Error for mismatched matmul\n");
    return 1;
  } catch (const ag::Error& e) {
    std::printf("ag::Error as expected: %s\n", e.what());
  }
  // Every row of ones gives s = b + sum w, so the loss is s^2 and each of the 4 parameters has
  // gradient 2s: one SGD step of 0.1 turns s into s - 4 * 0.2 s = 0.2 s, the loss into 0.04 s^2.
  auto [before, after] = one_sgd_step();
  std::printf("umbrella: mse %.9f -> %.9f after one SGD step\n", before, after);
  if (!(before > 0) || std::fabs(after - 0.04 * before) > 1e-6 * before) {
    std::printf("consumer: SGD step through <ag/ag.hpp> gave the wrong loss\n");
    return 1;
  }
  std::printf("consumer ok\n");
  return 0;
}
