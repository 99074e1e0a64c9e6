// The misuse catalogue: what a careful user's worst day throws at ag, each case with its exact
// outcome (misuse.hpp). Families: sizes that overflow, zero-size tensors through every op
// family, out-of-range axes and indices, dtype mixes, NaN/Inf with and without anomaly mode,
// optimizer hyperparameters, data loader sizes. Files are in test_misuse_files.cpp.
#include "misuse.hpp"

#include <cstdint>
#include <limits>

#include <data/data.hpp>
#include <nn/nn.hpp>
#include <optim/optim.hpp>

// Out-of-memory cases allocate terabytes on purpose: ASan must report failure as null (which
// ag turns into an ag::Error), not abort.
extern "C" const char* __asan_default_options() { return "allocator_may_return_null=1"; }

using namespace ag;

namespace {
constexpr std::size_t kMax = std::numeric_limits<std::size_t>::max();
constexpr std::ptrdiff_t kPMin = std::numeric_limits<std::ptrdiff_t>::min();
constexpr std::ptrdiff_t kPMax = std::numeric_limits<std::ptrdiff_t>::max();
const double kNaN = std::numeric_limits<double>::quiet_NaN();
const double kInf = std::numeric_limits<double>::infinity();
Tensor labels(std::vector<double> v) {
  const std::size_t n = v.size();
  return tensor(std::move(v), {n}, int64);
}
Tensor z(Shape s) { return zeros(std::move(s)); }
}  // namespace

TEST_CASE("misuse: element and byte counts that overflow", "[misuse]") {
  E(zeros({1ull << 62}), "zeros", "{4611686018427387904}", "bytes");
  E(zeros({1ull << 32, 1ull << 32}), "zeros", "{4294967296, 4294967296}", "too many elements");
  E(ones({1ull << 31, 1ull << 31}, float64), "ones", "{2147483648, 2147483648}");
  E(full({3, 0xAAAAAAAAAAAAAAABull}, 1.0), "full", "too many elements");
  E(empty({kMax}), "empty", "too many elements");
  E(empty({0, kMax}), "empty", "too many elements");
  E(rand({1ull << 40, 1ull << 40}), "rand", "too many elements");
  E(randn({1ull << 40, 1ull << 40}), "randn", "too many elements");
  E(eye(1ull << 32), "eye", "{4294967296, 4294967296}");
  E(arange(0, 1e30), "arange", "too many elements");
  E(arange(-1e308, 1e308, 1e-300), "arange", "too many elements");
  E(arange(0, 1, 0), "arange", "non-zero step");
  E(arange(0, kNaN), "arange", "finite");
  E(arange(0, kInf), "arange", "finite");
  V(arange(0, 3, 1, int64), Shape{3}, {0, 1, 2});
  V(arange(5, 0), Shape{0}, {});
  E(tensor({1.0}, {1ull << 32, 1ull << 32}), "tensor", "too many elements");
  E(tensor({1.0, 2.0}, {3}), "tensor", "2 values do not fill shape {3}");
  E(reshape(ones({1}), {3, 0xAAAAAAAAAAAAAAABull}), "reshape", "too many elements");
  E(reshape(ones({1}), {0, kMax}), "reshape", "too many elements");
  E(reshape(ones({4}), {2, 3}), "reshape", "4 elements", "{2, 3}");
  V(reshape(z({0}), {0, 1ull << 62}), (Shape{0, 1ull << 62}), {});
  E(broadcast_to(ones({1}), {1ull << 33, 1ull << 33}), "broadcast_to", "too many elements");
  E(broadcast_to(ones({1}), {0, 1ull << 63}), "broadcast_to", "too many elements");
  E(z({1ull << 40, 1, 0}) + z({1, 1ull << 40, 0}), "add", "too many elements");
  E(z({1ull << 40, 1, 0}) * z({1, 1ull << 40, 0}), "mul", "too many elements");
  E(maximum(z({1ull << 40, 1, 0}), z({1, 1ull << 40, 0})), "maximum", "too many elements");
  E(matmul(z({1ull << 40, 0}), z({0, 1ull << 40})), "matmul", "too many elements");
  E(matmul(z({1ull << 20, 0}), z({0, 1ull << 20})), "matmul", "out of memory", "{1048576, 1048576}");
  E(zeros({1ull << 40}), "zeros", "out of memory", "{1099511627776} float32");
  E(ones({1ull << 39}, float64), "ones", "out of memory");
  E(concat({z({0, 1ull << 62}), z({0, 1ull << 62})}, 1), "concat", "too many elements");
  E(concat({z({0, 1ull << 62}), z({0, 1ull << 62}), z({0, 1ull << 62}), z({0, 1ull << 62})}, 1),
    "concat", "overflows");
  E(stack({z({0, 1ull << 62}), z({0, 1ull << 62})}, 0), "concat", "too many elements");
  E(pad_slice(ones({2}), 0, kMax, {4}), "pad_slice", "does not fit", "18446744073709551615");
  E(pad_slice(ones({2}), 0, kMax - 1, {4}), "pad_slice", "does not fit");
  E(pad_slice(ones({2}), 0, 3, {4}), "pad_slice", "does not fit");
  E(pad_slice(ones({5}), 0, 0, {4}), "pad_slice", "does not fit");
  V(pad_slice(ones({2}), 0, 2, {4}), Shape{4}, {0, 0, 1, 1});
  E(pad_slice(ones({2}), 0, 0, {1ull << 62}), "pad_slice", "bytes");
  E(slice(ones({4}), 0, 3, kMax), "slice", "out of range");
  E(slice(ones({4}), 0, kMax, kMax), "slice", "out of range");
  E(slice(ones({4}), 0, 3, 2), "slice", "[3, 2)");
  E(index_select(ones({3}), 0, {kMax}), "index_select", "18446744073709551615");
  E(index_add(ones({1}), 0, {0}, {1ull << 62}), "index_add", "bytes");
  E(index_add(ones({1}), 0, {kMax}, {2}), "index_add", "out of range");
  E(scatter_add(ones({1}), 0, labels({0}), {1ull << 62}), "scatter_add", "bytes");
  E(one_hot(labels({0, 1}), 1ull << 62), "one_hot", "too many elements");
  E(one_hot(labels({0, 1}), kMax), "one_hot", "too many elements");
  E(nn::Linear(1ull << 31, 1ull << 31), "Linear(2147483648, 2147483648)", "bytes");
  E(nn::Linear(1ull << 20, 1ull << 20), "Linear(1048576, 1048576)", "out of memory");
  E(nn::Linear(kMax, 2), "Linear", "too many elements");
  E(nn::mlp({1ull << 31, 1ull << 31}), "Linear", "bytes");
  E(nn::Linear(0, 3), "Linear", "positive");
}

TEST_CASE("misuse: zero-size tensors through every op family", "[misuse]") {
  // elementwise, unary
  V(neg(z({0})), Shape{0}, {});
  V(exp(z({0})), Shape{0}, {});
  V(log(z({2, 0})), (Shape{2, 0}), {});
  V(sqrt(z({0, 2})), (Shape{0, 2}), {});
  V(abs(z({0})), Shape{0}, {});
  V(sin(z({0})), Shape{0}, {});
  V(cos(z({0})), Shape{0}, {});
  V(tanh(z({0})), Shape{0}, {});
  V(sigmoid(z({0})), Shape{0}, {});
  V(relu(z({0})), Shape{0}, {});
  V(leaky_relu(z({0}), 0.1), Shape{0}, {});
  V(softplus(z({0})), Shape{0}, {});
  V(clamp(z({0}), -1, 1), Shape{0}, {});
  V(pow(z({0}), 3), Shape{0}, {});
  V(step(z({0})), Shape{0}, {});
  V(sign(z({0})), Shape{0}, {});
  V(z({0}) + 1.0, Shape{0}, {});
  V(2.0 / z({0}), Shape{0}, {});
  // elementwise, binary with broadcasting
  V(z({0, 3}) + ones({3}), (Shape{0, 3}), {});
  V(z({0, 3}) - ones({1, 3}), (Shape{0, 3}), {});
  V(z({2, 0}) * ones({2, 1}), (Shape{2, 0}), {});
  V(z({2, 0}) / ones({1}), (Shape{2, 0}), {});
  V(maximum(z({0}), ones({1})), Shape{0}, {});
  V(minimum(z({3, 0}), ones({3, 1})), (Shape{3, 0}), {});
  E(z({0}) + ones({2}), "add", "do not broadcast", "{0}", "{2}");
  V(gt(z({0}), z({0})), Shape{0}, {});
  // reductions
  V(sum(z({0})), Shape{}, {0});
  V(sum(z({2, 0}), {1}), Shape{2}, {0, 0});
  V(sum(z({2, 0}), {0}), Shape{0}, {});
  V(sum(z({2, 0}), {1}, true), (Shape{2, 1}), {0, 0});
  V(mean(z({0})), Shape{}, {kNaN});
  V(mean(z({2, 0}), {1}), Shape{2}, {kNaN, kNaN});
  E(max(z({2, 0}), 1), "max", "is empty");
  E(min(z({2, 0}), 1), "min", "is empty");
  E(argmax(z({2, 0}), 1), "argmax", "is empty");
  V(max(z({0, 3}), 1), Shape{0}, {});
  V(argmax(z({0, 3}), 1), Shape{0}, {});
  V(logsumexp(z({2, 0}), 1), Shape{2}, {-kInf, -kInf});
  V(logsumexp(z({2, 0}), 1, true), (Shape{2, 1}), {-kInf, -kInf});
  V(softmax(z({2, 0}), 1), (Shape{2, 0}), {});
  V(softmax(z({0, 3}), 1), (Shape{0, 3}), {});
  V(log_softmax(z({2, 0}), 1), (Shape{2, 0}), {});
  V(log_softmax(z({0, 3}), 0), (Shape{0, 3}), {});
  // linear algebra
  V(matmul(z({0, 3}), ones({3, 2})), (Shape{0, 2}), {});
  V(matmul(ones({2, 0}), ones({0, 3})), (Shape{2, 3}), {0, 0, 0, 0, 0, 0});
  V(matmul(z({2, 0, 3}), ones({3, 4})), (Shape{2, 0, 4}), {});
  V(matmul(z({0}), z({0})), Shape{}, {0});
  V(t(z({0, 3})), (Shape{3, 0}), {});
  V(transpose(z({2, 0, 3}), 0, 2), (Shape{3, 0, 2}), {});
  V(linear(z({0, 3}), ones({2, 3}), ones({2})), (Shape{0, 2}), {});
  // shape and data movement
  V(reshape(z({0, 3}), {3, 0}), (Shape{3, 0}), {});
  V(flatten(z({2, 0})), Shape{0}, {});
  V(squeeze(z({1, 0}), 0), Shape{0}, {});
  V(unsqueeze(z({0}), 0), (Shape{1, 0}), {});
  V(broadcast_to(z({1}), {0}), Shape{0}, {});
  V(broadcast_to(z({0}), {3, 0}), (Shape{3, 0}), {});
  V(slice(ones({3}), 0, 1, 1), Shape{0}, {});
  V(index_select(ones({3}), 0, {}), Shape{0}, {});
  V(index_select(z({0, 2}), 1, {1, 0}), (Shape{0, 2}), {});
  V(concat({z({0, 2}), ones({1, 2})}, 0), (Shape{1, 2}), {1, 1});
  V(concat({z({0}), z({0})}, 0), Shape{0}, {});
  V(stack({z({0}), z({0})}, 0), (Shape{2, 0}), {});
  V(gather(z({2, 0}), 1, zeros({2, 0}, int64)), (Shape{2, 0}), {});
  V(scatter_add(z({2, 0}), 1, zeros({2, 0}, int64), {2, 3}), (Shape{2, 3}), {0, 0, 0, 0, 0, 0});
  V(index_add(z({0}), 0, {}, {3}), Shape{3}, {0, 0, 0});
  V(pad_slice(z({0}), 0, 2, {2}), Shape{2}, {0, 0});
  V(one_hot(zeros({0}, int64), 3), (Shape{0, 3}), {});
  E(one_hot(labels({1}), 0), "one_hot", "out of range");
  V(z({0}).to(float64), Shape{0}, {});
  V(z({0}).clone(), Shape{0}, {});
  E(z({0}).item(), "item", "0 elements");
  T(!zeros({0, 1ull << 40}).str().empty());
  T(zeros({0}).to_vector().empty());
  // autograd and nn
  T(([] {
    Tensor x = zeros({0, 2}).requires_grad_();
    sum(x * 2.0).backward();
    return x.grad().shape() == Shape{0, 2};
  }()));
  T(([] {
    Tensor x = zeros({0}).requires_grad_();
    Tensor w = ones({0}).requires_grad_();
    sum(x * w + exp(x)).backward();
    return x.grad().shape() == Shape{0} && w.grad().shape() == Shape{0};
  }()));
  V(nn::Linear(3, 2)(z({0, 3})), (Shape{0, 2}), {});
  // Losses of an empty batch are errors by design (PyTorch returns NaN): a mean over nothing is
  // never what a training loop meant.
  E(nn::functional::mse_loss(z({0}), z({0})), "mse_loss", "empty");
  E(nn::functional::cross_entropy(z({0, 3}), zeros({0}, int64)), "cross_entropy", "empty batch");
  E(nn::functional::nll_loss(z({0, 3}), zeros({0}, int64)), "nll_loss", "empty batch");
  V((*nn::mlp({2, 3, 1}))(z({0, 2})), (Shape{0, 1}), {});
  V(nn::Softmax(1)(z({2, 0})), (Shape{2, 0}), {});
}

TEST_CASE("misuse: axes and indices out of range", "[misuse]") {
  const Tensor x = ones({2, 3});
  E(x.size(2), "size", "out of range");
  E(x.size(-3), "size", "out of range");
  E(x.size(kPMin), "size", "out of range");
  E(x.size(kPMax), "size", "out of range");
  E(sum(x, {2}), "sum", "axis 2", "out of range");
  E(sum(x, {-3}), "sum", "axis -3");
  E(sum(x, {kPMin}), "sum", "out of range");
  E(sum(x, {0, 0}), "sum", "appears twice");
  E(sum(x, {1, -1}), "sum", "appears twice");
  E(mean(x, {5}), "mean", "out of range");
  E(max(x, 2), "max", "out of range");
  E(min(x, -3), "min", "out of range");
  E(argmax(x, 9), "argmax", "out of range");
  E(logsumexp(x, 2), "logsumexp", "out of range");
  E(logsumexp(x, kPMin), "logsumexp", "out of range");
  E(softmax(x, 2), "softmax", "out of range");
  E(softmax(x, kPMax), "softmax", "out of range");
  E(log_softmax(x, -3), "log_softmax", "out of range");
  E(transpose(x, 0, 2), "transpose", "out of range");
  E(transpose(x, kPMin, 0), "transpose", "out of range");
  E(squeeze(x, 0), "squeeze", "not 1");
  E(squeeze(x, 2), "squeeze", "out of range");
  E(unsqueeze(x, 3), "unsqueeze", "out of range");
  E(unsqueeze(x, kPMax), "unsqueeze", "out of range");
  V(unsqueeze(x, -1), (Shape{2, 3, 1}), {1, 1, 1, 1, 1, 1});
  E(slice(x, 2, 0, 1), "slice", "out of range");
  E(slice(x, 1, 0, 4), "slice", "out of range");
  E(index_select(x, 1, {3}), "index_select", "index 3");
  E(index_select(x, 2, {0}), "index_select", "out of range");
  E(gather(x, 1, tensor({3, 0, 0, 0, 0, 0}, {2, 3}, int64)), "gather", "index value 3");
  E(gather(x, 1, tensor({-1, 0, 0, 0, 0, 0}, {2, 3}, int64)), "gather", "index value -1");
  E(gather(x, 1, tensor({0, 0}, {2}, int64)), "gather", "must have the shape");
  E(gather(x, 1, tensor({0, 0, 0, 0, 0, 0}, {2, 3})), "gather", "int64");
  E(scatter_add(x, 1, tensor({0, 0, 5, 0, 0, 0}, {2, 3}, int64), {2, 3}), "scatter_add", "out of range");
  E(scatter_add(x, 0, zeros({2, 3}, int64), {2}), "scatter_add", "rank");
  E(one_hot(labels({0, 3}), 3), "one_hot", "index value 3");
  E(one_hot(labels({-1}), 3), "one_hot", "index value -1");
  E(one_hot(tensor({0, 1}, {1, 2}, int64), 3), "one_hot", "1-D int64");
  E(concat({}, 0), "concat", "at least one");
  E(concat({x, ones({2, 2})}, 0), "concat", "does not match");
  E(concat({x}, 2), "concat", "out of range");
  E(stack({x, ones({3, 2})}, 0), "stack", "shapes differ");
  E(stack({x}, 3), "stack", "out of range");
  E(matmul(x, ones({2, 3})), "matmul", "do not line up");
  E(matmul(ones({2, 3, 4}), ones({3, 4, 2})), "matmul", "batch sizes");
  E(matmul(ones({2, 2, 2, 2}), ones({2, 2})), "matmul", "operands");
  E(t(ones({2, 2, 2})), "t", "at most 2");
  E(broadcast_to(x, {3, 3}), "broadcast_to", "cannot broadcast");
  E(broadcast_to(x, {3}), "broadcast_to", "cannot broadcast");
  E(x + ones({2}), "add", "do not broadcast");
  E(nn::functional::cross_entropy(x, labels({0, 3})), "3");
  E(nn::functional::nll_loss(x, labels({-1, 0})), "-1");
  E(nn::Linear(3, 2)(ones({2, 4})), "Linear(3, 2)", "3 features");
  E(nn::Sequential()[0], "Sequential", "out of range");
}

TEST_CASE("misuse: dtype mixes", "[misuse]") {
  const Tensor f = ones({2}), d = ones({2}, float64), i = ones({2}, int64);
  E(f + d, "add", "dtypes differ", "float32", "float64");
  E(d - f, "sub", "dtypes differ");
  E(f * i, "mul", "int64");
  E(i / f, "div", "int64");
  E(maximum(f, d), "maximum", "dtypes differ");
  E(matmul(ones({2, 2}), ones({2, 2}, float64)), "matmul", "dtypes differ");
  E(exp(i), "exp", "int64");
  E(relu(i), "relu", "int64");
  E(sum(i), "sum", "int64");
  E(softmax(i, 0), "softmax", "int64");
  E(log_softmax(i, 0), "log_softmax", "int64");
  E(i + 1.0, "int64");
  E(gt(i, f), "gt", "int64", "float32");
  E(ge(f, i), "ge", "float32", "int64");
  E(eq(d, f), "eq", "float64", "float32");
  V(gt(i, i), Shape{2}, {0, 0});
  V(gt(i, 0.5), Shape{2}, {1, 1});
  T(gt(i, 0.5).dtype() == int64);
  E(Tensor(i).requires_grad_(), "requires_grad_", "int64");
  E(Tensor(f).data_ptr<double>(), "data_ptr", "float64", "float32");
  E(Tensor(i).add_(1.0), "add_", "int64");
  V(tensor({1.9, -1.9}, {2}).to(int64), Shape{2}, {1, -1});
  V(tensor({3, 4}, {2}, int64).to(float32), Shape{2}, {3, 4});
  // Converting NaN, Inf or |x| >= 2^63 to int64 is undefined behaviour in C++: an error instead.
  E(full({2}, kNaN, int64), "full", "cannot be converted to int64");
  E(full({2}, kInf, int64), "full", "cannot be converted to int64");
  E(ones({2}, int64).fill_(1e19), "fill_", "cannot be converted to int64");
  E(tensor({1.0, 1e30}, {2}, int64), "tensor", "cannot be converted to int64");
  E(tensor({kNaN, 1.0}, {2}).to(int64), "to", "cannot be converted to int64");
  E(tensor({1e19}, {1}, float64).to(int64), "to", "cannot be converted to int64");
  E(ones({2}, int64).copy_(tensor({kInf, 0.0}, {2})), "copy_", "cannot be converted to int64");
  E(arange(0, 1e20, 1e19, int64), "arange", "cannot be converted to int64");
  V(arange(0, 9e18, 3e18, int64), Shape{3}, {0, 3e18, 6e18});
  V(tensor({-0x1p63}, {1}, float64).to(int64), Shape{1}, {-0x1p63});
  V(full({1}, -2.5, int64), Shape{1}, {-2});
  E(nn::functional::cross_entropy(ones({2, 3}), ones({2})), "cross_entropy", "int64");
  E(nn::functional::mse_loss(f, d), "float");
  E(nn::Linear(2, 1)(ones({1, 2}, float64)), "float");
  E(one_hot(f, 2), "one_hot", "int64");
  E(Tensor().shape(), "shape", "undefined");
  E(exp(Tensor()), "exp", "undefined");
  E(f + Tensor(), "add", "undefined");
}

TEST_CASE("misuse: NaN and Inf, with and without anomaly mode", "[misuse]") {
  const Tensor nan = tensor({kNaN, 1.0, -1.0}, {3});
  V(relu(nan), Shape{3}, {kNaN, 1, 0});
  V(leaky_relu(nan, 0.1), Shape{3}, {kNaN, 1, -0.1});
  V(sigmoid(nan), Shape{3}, {kNaN, 0.7310586, 0.2689414});
  V(tanh(nan), Shape{3}, {kNaN, 0.7615942, -0.7615942});
  V(softplus(nan), Shape{3}, {kNaN, 1.3132616, 0.3132617});
  V(clamp(nan, 0, 0.5), Shape{3}, {kNaN, 0.5, 0});
  V(clamp(nan, -2, 2), Shape{3}, {kNaN, 1, -1});
  V(maximum(nan, zeros({3})), Shape{3}, {kNaN, 1, 0});
  V(maximum(zeros({3}), nan), Shape{3}, {kNaN, 1, 0});
  V(minimum(nan, zeros({3})), Shape{3}, {kNaN, 0, -1});
  V(minimum(zeros({3}), nan), Shape{3}, {kNaN, 0, -1});
  V(abs(nan), Shape{3}, {kNaN, 1, 1});
  V(sign(nan), Shape{3}, {kNaN, 1, -1});
  V(step(nan), Shape{3}, {kNaN, 1, 0});
  V(max(nan, 0), Shape{}, {kNaN});
  V(min(nan, 0), Shape{}, {kNaN});
  V(argmax(nan, 0), Shape{}, {0});
  V(sum(nan), Shape{}, {kNaN});
  V(softmax(nan, 0), Shape{3}, {kNaN, kNaN, kNaN});
  V(relu(ones({17}) * kNaN), Shape{17}, std::vector<double>(17, kNaN));  // the SIMD body, too
  V(clamp(ones({17}, float64) * kNaN, 0, 1), Shape{17}, std::vector<double>(17, kNaN));
  V(maximum(zeros({17}), ones({17}) * kNaN), Shape{17}, std::vector<double>(17, kNaN));
  V(log(zeros({1})), Shape{1}, {-kInf});
  V(sqrt(tensor({-1.0})), Shape{1}, {kNaN});
  V(tensor({1.0}) / zeros({1}), Shape{1}, {kInf});
  V(exp(tensor({1000.0})), Shape{1}, {kInf});
  V(sum(tensor({kInf, -kInf})), Shape{}, {kNaN});
  V(logsumexp(tensor({-kInf, -kInf}), 0), Shape{}, {-kInf});
  V(logsumexp(tensor({kInf, 1.0}), 0), Shape{}, {kInf});
  V(log_softmax(tensor({-kInf, 0.0}), 0), Shape{2}, {-kInf, 0});
  V(nn::ReLU()(nan), Shape{3}, {kNaN, 1, 0});
  {
    AnomalyModeGuard anomaly;
    E(relu(nan), "relu", "NaN or Inf");
    E(clamp(nan, 0, 1), "clamp", "NaN or Inf");
    E(maximum(nan, zeros({3})), "maximum", "NaN or Inf");
    E(log(zeros({1})), "log", "NaN or Inf");
    E(sqrt(tensor({-1.0})), "sqrt", "NaN or Inf");
    E(tensor({1.0}) / zeros({1}), "div", "NaN or Inf");
    E(exp(tensor({1000.0})), "exp", "NaN or Inf");
    E(sum(tensor({kInf, -kInf})), "sum", "NaN or Inf");
    E(nn::ReLU()(nan), "relu", "NaN or Inf");
    V(relu(tensor({-1.0, 2.0})), Shape{2}, {0, 2});
    E(([] {
        Tensor x = tensor({0.0}).requires_grad_();
        sqrt(x).backward();
        return x;
      }()),
      "backward of 'sqrt'", "NaN or Inf");
    E(([] {
        Tensor x = tensor({0.0}).requires_grad_();
        sum(log(x + 1.0) / x).backward();
        return x;
      }()),
      "div", "NaN or Inf");
  }
  T(([] {  // without anomaly mode, the NaN reaches the gradient
    Tensor x = tensor({0.0}).requires_grad_();
    sqrt(x).backward();
    return std::isinf(x.grad().item());
  }()));
  T(([] {
    Tensor x = tensor({kNaN, 2.0}).requires_grad_();
    sum(relu(x)).backward();
    auto g = x.grad().to_vector();
    return g[0] == 0 && g[1] == 1;  // PyTorch's relu backward: grad where the result is > 0
  }()));
}

TEST_CASE("misuse: optimizer hyperparameters", "[misuse]") {
  auto params = [] { return std::vector<Tensor>{ones({2}).requires_grad_()}; };
  using optim::SGD;
  using optim::SGDOptions;
  auto sgd = [&](SGDOptions o) { return SGD(params(), o); };
  SGDOptions base{0.1};
  auto with = [&](auto f) {
    SGDOptions o = base;
    f(o);
    return o;
  };
  E(sgd({kNaN}), "learning rate", "nan");
  E(sgd({-0.1}), "learning rate", "-0.1");
  E(sgd({kInf}), "learning rate", "inf");
  E(sgd(with([](SGDOptions& o) { o.momentum = kNaN; })), "SGD", "momentum");
  E(sgd(with([](SGDOptions& o) { o.momentum = -0.5; })), "SGD", "momentum");
  E(sgd(with([](SGDOptions& o) { o.momentum = kInf; })), "SGD", "momentum");
  E(sgd(with([](SGDOptions& o) { o.dampening = kNaN; })), "SGD", "dampening", "nan");
  E(sgd(with([](SGDOptions& o) { o.dampening = kInf; })), "SGD", "dampening");
  E(sgd(with([](SGDOptions& o) { o.dampening = -kInf; })), "SGD", "dampening");
  E(sgd(with([](SGDOptions& o) { o.weight_decay = kNaN; })), "SGD", "weight_decay");
  E(sgd(with([](SGDOptions& o) { o.weight_decay = -1; })), "SGD", "weight_decay");
  E(sgd(with([](SGDOptions& o) { o.weight_decay = kInf; })), "SGD", "weight_decay");
  E(sgd(with([](SGDOptions& o) { o.nesterov = true; })), "SGD", "nesterov");
  E(sgd(with([](SGDOptions& o) {
      o.nesterov = true;
      o.momentum = 0.9;
      o.dampening = 0.1;
    })),
    "SGD", "nesterov");
  T((sgd(with([](SGDOptions& o) { o.momentum = 0.9; o.dampening = 0.5; })).lr() == 0.1));
  E(SGD({}, base), "optimizer", "empty");
  E(SGD({ones({2}, int64)}, base), "optimizer", "int64");
  E(SGD({Tensor()}, base), "optimizer", "undefined");
  E(([&] { Tensor p = ones({2}).requires_grad_(); return SGD({p, p}, base); }()), "optimizer", "same tensor");
  E(([&] { Tensor p = ones({2}).requires_grad_(); return SGD({p * 2.0}, base); }()), "optimizer", "not a leaf");
  E(([&] { SGD o = sgd(base); o.set_lr(kNaN); return 0; }()), "learning rate");
  E(([&] { SGD o = sgd(base); o.set_lr(-1); return 0; }()), "learning rate");

  using optim::Adam;
  using optim::AdamOptions;
  auto adam = [&](auto f) {
    AdamOptions o;
    f(o);
    return Adam(params(), o);
  };
  E(adam([](AdamOptions& o) { o.lr = kNaN; }), "learning rate");
  E(adam([](AdamOptions& o) { o.lr = -1e-3; }), "learning rate");
  E(adam([](AdamOptions& o) { o.beta1 = 1.0; }), "Adam", "beta1");
  E(adam([](AdamOptions& o) { o.beta1 = kNaN; }), "Adam", "beta1");
  E(adam([](AdamOptions& o) { o.beta1 = -0.1; }), "Adam", "beta1");
  E(adam([](AdamOptions& o) { o.beta2 = 1.5; }), "Adam", "beta2");
  E(adam([](AdamOptions& o) { o.beta2 = kNaN; }), "Adam", "beta2");
  E(adam([](AdamOptions& o) { o.eps = kNaN; }), "Adam", "eps");
  E(adam([](AdamOptions& o) { o.eps = -1e-8; }), "Adam", "eps");
  E(adam([](AdamOptions& o) { o.eps = kInf; }), "Adam", "eps");
  E(adam([](AdamOptions& o) { o.weight_decay = kNaN; }), "Adam", "weight_decay");
  E(adam([](AdamOptions& o) { o.weight_decay = -0.01; }), "Adam", "weight_decay");
  T((adam([](AdamOptions& o) { o.beta1 = 0; o.eps = 0; }).lr() == 1e-3));
  E(([&] { optim::AdamWOptions o; o.weight_decay = kNaN; return optim::AdamW(params(), o); }()), "Adam", "weight_decay");
  E(([&] { optim::AdamWOptions o; o.lr = kInf; return optim::AdamW(params(), o); }()), "learning rate");

  SGD opt = sgd(base);
  E(optim::StepLR(opt, 0), "StepLR", "step_size");
  E(optim::StepLR(opt, 1, kNaN), "StepLR", "gamma");
  E(optim::StepLR(opt, 1, -0.5), "StepLR", "gamma");
  E(optim::ExponentialLR(opt, kInf), "ExponentialLR", "gamma");
  E(optim::ExponentialLR(opt, kNaN), "ExponentialLR", "gamma");
  E(optim::clip_grad_norm_(params(), kNaN), "clip_grad_norm_", "max_norm");
  E(optim::clip_grad_norm_(params(), -1), "clip_grad_norm_", "max_norm");
  T(optim::clip_grad_norm_(params(), kInf) == 0);
  T(([&] {  // dampening 0.5 halves the momentum's new gradient from the second step on
    Tensor p = tensor({1.0}).requires_grad_();
    SGD o({p}, with([](SGDOptions& s) { s.momentum = 1; s.dampening = 0.5; }));
    for (int k = 0; k < 2; ++k) {
      o.zero_grad();
      sum(p).backward();
      o.step();
    }
    return std::fabs(p.item() - (1.0 - 0.1 * 1 - 0.1 * 1.5)) < 1e-6;
  }()));
}

TEST_CASE("misuse: data loader sizes", "[misuse]") {
  const data::TensorDataset ds(arange(0, 10).reshape({10, 1}), arange(0, 10));
  T(data::DataLoader(ds, kMax, false).num_batches() == 1);
  T(data::DataLoader(ds, kMax - 1, false).num_batches() == 1);
  T(data::DataLoader(ds, kMax, false, true).num_batches() == 0);
  T(data::DataLoader(ds, 11, false).num_batches() == 1);
  T(data::DataLoader(ds, 10, false, true).num_batches() == 1);
  T(data::DataLoader(ds, 3, false).num_batches() == 4);
  T(data::DataLoader(ds, 3, false, true).num_batches() == 3);
  T(data::DataLoader(ds, 1, false).num_batches() == 10);
  E(data::DataLoader(ds, 0), "DataLoader", "batch_size");
  V(data::DataLoader(ds, kMax, false).batch(0).targets, Shape{10}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
  V(data::DataLoader(ds, 3, false).batch(3).targets, Shape{1}, {9});
  E(data::DataLoader(ds, kMax, false).batch(1), "DataLoader", "out of range");
  E(data::DataLoader(ds, 3, false, true).batch(3), "DataLoader", "out of range");
  E(data::DataLoader(ds, 3, false).batch(kMax), "DataLoader", "out of range");
  T(([&] {
    std::size_t rows = 0, batches = 0;
    for (const auto& b : data::DataLoader(ds, kMax)) rows += b.inputs.size(0), ++batches;
    return rows == 10 && batches == 1;
  }()));
  const data::TensorDataset empty_ds(zeros({0, 3}), zeros({0}));
  T(data::DataLoader(empty_ds, 4).num_batches() == 0);
  T(data::DataLoader(empty_ds, kMax).num_batches() == 0);
  E(data::TensorDataset(zeros({3, 2}), zeros({2})), "TensorDataset", "same number of rows");
  E(data::TensorDataset(zeros({}), zeros({})), "TensorDataset");
  E(data::TensorDataset(Tensor(), zeros({2})), "TensorDataset", "defined");
  E(data::gather_rows(ones({3, 2}), {3}), "gather_rows", "out of range");
  E(data::gather_rows(ones({3, 2}), {kMax}), "gather_rows", "out of range");
}

TEST_CASE("misuse: graphs and versions", "[misuse]") {
  // Module::to must not reset the version counter: the graph recorded before it refuses backward.
  E(([] {
      nn::Linear lin(2, 1);
      Tensor x = tensor({{1.0, 2.0}}).requires_grad_();
      Tensor loss = sum(lin(x));
      lin.to(float64);
      lin.to(float32);
      loss.backward();
      return 0;
    }()),
    "backward of 'linear'", "modified in place");
  T(([] {
    nn::Linear lin(2, 1);
    const std::uint64_t v = lin.weight.version();
    lin.to(float64);
    lin.to(float32);
    return lin.weight.version() > v + 1;
  }()));
  E(([] {
      Tensor w = ones({2}).requires_grad_();
      Tensor y = sum(w * w);
      {
        NoGradGuard g;
        w.add_(1.0);
      }
      y.backward();
      return 0;
    }()),
    "backward of 'mul'", "modified in place");
  E(([] {
      Tensor w = ones({2}).requires_grad_();
      Tensor y = sum(w * 3.0);
      y.backward();
      y.backward();
      return 0;
    }()),
    "retain_graph");
  E(([] { Tensor w = ones({2}).requires_grad_(); w.add_(1.0); return 0; }()), "add_", "NoGradGuard");
  E(ones({2}).backward(), "backward", "does not require grad");
  E(([] { Tensor w = ones({2}).requires_grad_(); sum(w).backward(ones({3})); return 0; }()), "backward", "grad_output");
  E(([] { Tensor w = ones({2}).requires_grad_(); (w * 2.0).backward(); return 0; }()), "backward", "one-element");
  E(grad({sum(ones({2}).requires_grad_())}, {ones({2})}), "grad", "does not require grad");
  E(([] { Tensor w = ones({2}).requires_grad_(); Tensor u = ones({2}).requires_grad_(); return grad({sum(w)}, {u}); }()),
    "grad", "allow_unused");
  E(([] { Tensor w = ones({2}).requires_grad_(); return (w * 2.0).requires_grad_(false); }()), "requires_grad_", "not a leaf");
  E(nn::Linear(2, 2).to(int64), "Module::to", "int64");
}

TEST_CASE("misuse: zero-size tensors with huge other dimensions finish at once", "[misuse]") {
  // {2^40, 3, 0} has no element; a kernel looping over its outer 2^40 rows would hang.
  const std::size_t big = 1ull << 40;
  const Tensor x = z({big, 3, 0});
  V(slice(x, 1, 1, 3), (Shape{big, 2, 0}), {});
  V(pad_slice(x, 1, 1, {big, 5, 0}), (Shape{big, 5, 0}), {});
  V(index_select(x, 1, {2, 0}), (Shape{big, 2, 0}), {});
  V(index_add(x, 1, {0, 1, 1}, {big, 2, 0}), (Shape{big, 2, 0}), {});
  V(gather(x, 1, zeros({big, 3, 0}, int64)), (Shape{big, 3, 0}), {});
  V(scatter_add(x, 1, zeros({big, 3, 0}, int64), {big, 4, 0}), (Shape{big, 4, 0}), {});
  V(concat({x, x}, 1), (Shape{big, 6, 0}), {});
  V(transpose(x, 0, 2), (Shape{0, 3, big}), {});
  V(broadcast_to(z({1, 3, 0}), {big, 3, 0}), (Shape{big, 3, 0}), {});
  V(sum(x, {0}), (Shape{3, 0}), {});
  V(x * 2.0, (Shape{big, 3, 0}), {});
  V(x + z({3, 0}), (Shape{big, 3, 0}), {});
  V(matmul(z({big, 0, 3}), ones({3, 2})), (Shape{big, 0, 2}), {});
  V(softmax(x, 1), (Shape{big, 3, 0}), {});
  V(log_softmax(x, 0), (Shape{big, 3, 0}), {});
  V(max(x, 1), (Shape{big, 0}), {});
  E(sum(x, {2}), "sum", "out of memory");
  T(([&] {
    Tensor w = z({big, 3, 0}).requires_grad_();
    sum(slice(w, 1, 0, 2) * 3.0).backward();
    return w.grad().shape() == Shape{big, 3, 0};
  }()));
}
