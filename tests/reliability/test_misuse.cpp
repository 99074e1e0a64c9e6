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
  FAILS(zeros({1ull << 62}), "zeros", "{4611686018427387904}", "bytes");
  FAILS(zeros({1ull << 32, 1ull << 32}), "zeros", "{4294967296, 4294967296}", "too many elements");
  FAILS(ones({1ull << 31, 1ull << 31}, float64), "ones", "{2147483648, 2147483648}");
  FAILS(full({3, 0xAAAAAAAAAAAAAAABull}, 1.0), "full", "too many elements");
  FAILS(empty({kMax}), "empty", "too many elements");
  FAILS(empty({0, kMax}), "empty", "too many elements");
  FAILS(rand({1ull << 40, 1ull << 40}), "rand", "too many elements");
  FAILS(randn({1ull << 40, 1ull << 40}), "randn", "too many elements");
  FAILS(eye(1ull << 32), "eye", "{4294967296, 4294967296}");
  FAILS(arange(0, 1e30), "arange", "too many elements");
  FAILS(arange(-1e308, 1e308, 1e-300), "arange", "too many elements");
  FAILS(arange(0, 1, 0), "arange", "non-zero step");
  FAILS(arange(0, kNaN), "arange", "finite");
  FAILS(arange(0, kInf), "arange", "finite");
  GIVES(arange(0, 3, 1, int64), Shape{3}, {0, 1, 2});
  GIVES(arange(5, 0), Shape{0}, {});
  FAILS(tensor({1.0}, {1ull << 32, 1ull << 32}), "tensor", "too many elements");
  FAILS(tensor({1.0, 2.0}, {3}), "tensor", "2 values do not fill shape {3}");
  FAILS(reshape(ones({1}), {3, 0xAAAAAAAAAAAAAAABull}), "reshape", "too many elements");
  FAILS(reshape(ones({1}), {0, kMax - 1}), "reshape", "too many elements");
  FAILS(reshape(ones({1}), {0, ag::infer}), "reshape", "cannot infer");  // kMax is ag::infer
  FAILS(reshape(ones({4}), {2, 3}), "reshape", "4 elements", "{2, 3}");
  GIVES(reshape(z({0}), {0, 1ull << 62}), (Shape{0, 1ull << 62}), {});
  FAILS(broadcast_to(ones({1}), {1ull << 33, 1ull << 33}), "broadcast_to", "too many elements");
  FAILS(broadcast_to(ones({1}), {0, 1ull << 63}), "broadcast_to", "too many elements");
  FAILS(z({1ull << 40, 1, 0}) + z({1, 1ull << 40, 0}), "add", "too many elements");
  FAILS(z({1ull << 40, 1, 0}) * z({1, 1ull << 40, 0}), "mul", "too many elements");
  FAILS(maximum(z({1ull << 40, 1, 0}), z({1, 1ull << 40, 0})), "maximum", "too many elements");
  FAILS(matmul(z({1ull << 40, 0}), z({0, 1ull << 40})), "matmul", "too many elements");
  FAILS(matmul(z({1ull << 20, 0}), z({0, 1ull << 20})), "matmul", "out of memory", "{1048576, 1048576}");
  FAILS(zeros({1ull << 40}), "zeros", "out of memory", "{1099511627776} float32");
  FAILS(ones({1ull << 39}, float64), "ones", "out of memory");
  FAILS(concat({z({0, 1ull << 62}), z({0, 1ull << 62})}, 1), "concat", "too many elements");
  FAILS(concat({z({0, 1ull << 62}), z({0, 1ull << 62}), z({0, 1ull << 62}), z({0, 1ull << 62})}, 1),
    "concat", "overflows");
  FAILS(stack({z({0, 1ull << 62}), z({0, 1ull << 62})}, 0), "concat", "too many elements");
  FAILS(pad_slice(ones({2}), 0, kMax, {4}), "pad_slice", "does not fit", "18446744073709551615");
  FAILS(pad_slice(ones({2}), 0, kMax - 1, {4}), "pad_slice", "does not fit");
  FAILS(pad_slice(ones({2}), 0, 3, {4}), "pad_slice", "does not fit");
  FAILS(pad_slice(ones({5}), 0, 0, {4}), "pad_slice", "does not fit");
  GIVES(pad_slice(ones({2}), 0, 2, {4}), Shape{4}, {0, 0, 1, 1});
  FAILS(pad_slice(ones({2}), 0, 0, {1ull << 62}), "pad_slice", "bytes");
  FAILS(slice(ones({4}), 0, 3, kMax), "slice", "out of range");
  FAILS(slice(ones({4}), 0, kMax, kMax), "slice", "out of range");
  FAILS(slice(ones({4}), 0, 3, 2), "slice", "[3, 2)");
  FAILS(index_select(ones({3}), 0, {kMax}), "index_select", "18446744073709551615");
  FAILS(index_add(ones({1}), 0, {0}, {1ull << 62}), "index_add", "bytes");
  FAILS(index_add(ones({1}), 0, {kMax}, {2}), "index_add", "out of range");
  FAILS(scatter_add(ones({1}), 0, labels({0}), {1ull << 62}), "scatter_add", "bytes");
  FAILS(one_hot(labels({0, 1}), 1ull << 62), "one_hot", "too many elements");
  FAILS(one_hot(labels({0, 1}), kMax), "one_hot", "too many elements");
  FAILS(nn::Linear(1ull << 31, 1ull << 31), "Linear(2147483648, 2147483648)", "bytes");
  FAILS(nn::Linear(1ull << 20, 1ull << 20), "Linear(1048576, 1048576)", "out of memory");
  FAILS(nn::Linear(kMax, 2), "Linear", "too many elements");
  FAILS(nn::mlp({1ull << 31, 1ull << 31}), "Linear", "bytes");
  FAILS(nn::Linear(0, 3), "Linear", "positive");
}

TEST_CASE("misuse: zero-size tensors through every op family", "[misuse]") {
  // elementwise, unary
  GIVES(neg(z({0})), Shape{0}, {});
  GIVES(exp(z({0})), Shape{0}, {});
  GIVES(log(z({2, 0})), (Shape{2, 0}), {});
  GIVES(sqrt(z({0, 2})), (Shape{0, 2}), {});
  GIVES(abs(z({0})), Shape{0}, {});
  GIVES(sin(z({0})), Shape{0}, {});
  GIVES(cos(z({0})), Shape{0}, {});
  GIVES(tanh(z({0})), Shape{0}, {});
  GIVES(sigmoid(z({0})), Shape{0}, {});
  GIVES(relu(z({0})), Shape{0}, {});
  GIVES(leaky_relu(z({0}), 0.1), Shape{0}, {});
  GIVES(softplus(z({0})), Shape{0}, {});
  GIVES(clamp(z({0}), -1, 1), Shape{0}, {});
  GIVES(pow(z({0}), 3), Shape{0}, {});
  GIVES(step(z({0})), Shape{0}, {});
  GIVES(sign(z({0})), Shape{0}, {});
  GIVES(z({0}) + 1.0, Shape{0}, {});
  GIVES(2.0 / z({0}), Shape{0}, {});
  // elementwise, binary with broadcasting
  GIVES(z({0, 3}) + ones({3}), (Shape{0, 3}), {});
  GIVES(z({0, 3}) - ones({1, 3}), (Shape{0, 3}), {});
  GIVES(z({2, 0}) * ones({2, 1}), (Shape{2, 0}), {});
  GIVES(z({2, 0}) / ones({1}), (Shape{2, 0}), {});
  GIVES(maximum(z({0}), ones({1})), Shape{0}, {});
  GIVES(minimum(z({3, 0}), ones({3, 1})), (Shape{3, 0}), {});
  FAILS(z({0}) + ones({2}), "add", "do not broadcast", "{0}", "{2}");
  GIVES(gt(z({0}), z({0})), Shape{0}, {});
  // reductions
  GIVES(sum(z({0})), Shape{}, {0});
  GIVES(sum(z({2, 0}), {1}), Shape{2}, {0, 0});
  GIVES(sum(z({2, 0}), {0}), Shape{0}, {});
  GIVES(sum(z({2, 0}), {1}, true), (Shape{2, 1}), {0, 0});
  GIVES(mean(z({0})), Shape{}, {kNaN});
  GIVES(mean(z({2, 0}), {1}), Shape{2}, {kNaN, kNaN});
  FAILS(max(z({2, 0}), 1), "max", "is empty");
  FAILS(min(z({2, 0}), 1), "min", "is empty");
  FAILS(argmax(z({2, 0}), 1), "argmax", "is empty");
  GIVES(max(z({0, 3}), 1), Shape{0}, {});
  GIVES(argmax(z({0, 3}), 1), Shape{0}, {});
  GIVES(logsumexp(z({2, 0}), 1), Shape{2}, {-kInf, -kInf});
  GIVES(logsumexp(z({2, 0}), 1, true), (Shape{2, 1}), {-kInf, -kInf});
  GIVES(softmax(z({2, 0}), 1), (Shape{2, 0}), {});
  GIVES(softmax(z({0, 3}), 1), (Shape{0, 3}), {});
  GIVES(log_softmax(z({2, 0}), 1), (Shape{2, 0}), {});
  GIVES(log_softmax(z({0, 3}), 0), (Shape{0, 3}), {});
  // linear algebra
  GIVES(matmul(z({0, 3}), ones({3, 2})), (Shape{0, 2}), {});
  GIVES(matmul(ones({2, 0}), ones({0, 3})), (Shape{2, 3}), {0, 0, 0, 0, 0, 0});
  GIVES(matmul(z({2, 0, 3}), ones({3, 4})), (Shape{2, 0, 4}), {});
  GIVES(matmul(z({0}), z({0})), Shape{}, {0});
  GIVES(t(z({0, 3})), (Shape{3, 0}), {});
  GIVES(transpose(z({2, 0, 3}), 0, 2), (Shape{3, 0, 2}), {});
  GIVES(linear(z({0, 3}), ones({2, 3}), ones({2})), (Shape{0, 2}), {});
  // shape and data movement
  GIVES(reshape(z({0, 3}), {3, 0}), (Shape{3, 0}), {});
  GIVES(flatten(z({2, 0})), Shape{0}, {});
  GIVES(squeeze(z({1, 0}), 0), Shape{0}, {});
  GIVES(unsqueeze(z({0}), 0), (Shape{1, 0}), {});
  GIVES(broadcast_to(z({1}), {0}), Shape{0}, {});
  GIVES(broadcast_to(z({0}), {3, 0}), (Shape{3, 0}), {});
  GIVES(slice(ones({3}), 0, 1, 1), Shape{0}, {});
  GIVES(index_select(ones({3}), 0, {}), Shape{0}, {});
  GIVES(index_select(z({0, 2}), 1, {1, 0}), (Shape{0, 2}), {});
  GIVES(concat({z({0, 2}), ones({1, 2})}, 0), (Shape{1, 2}), {1, 1});
  GIVES(concat({z({0}), z({0})}, 0), Shape{0}, {});
  GIVES(stack({z({0}), z({0})}, 0), (Shape{2, 0}), {});
  GIVES(gather(z({2, 0}), 1, zeros({2, 0}, int64)), (Shape{2, 0}), {});
  GIVES(scatter_add(z({2, 0}), 1, zeros({2, 0}, int64), {2, 3}), (Shape{2, 3}), {0, 0, 0, 0, 0, 0});
  GIVES(index_add(z({0}), 0, {}, {3}), Shape{3}, {0, 0, 0});
  GIVES(pad_slice(z({0}), 0, 2, {2}), Shape{2}, {0, 0});
  GIVES(one_hot(zeros({0}, int64), 3), (Shape{0, 3}), {});
  FAILS(one_hot(labels({1}), 0), "one_hot", "out of range");
  GIVES(z({0}).to(float64), Shape{0}, {});
  GIVES(z({0}).clone(), Shape{0}, {});
  FAILS(z({0}).item(), "item", "0 elements");
  HOLDS(!zeros({0, 1ull << 40}).str().empty());
  HOLDS(zeros({0}).to_vector().empty());
  // autograd and nn
  HOLDS(([] {
    Tensor x = zeros({0, 2}).requires_grad_();
    sum(x * 2.0).backward();
    return x.grad().shape() == Shape{0, 2};
  }()));
  HOLDS(([] {
    Tensor x = zeros({0}).requires_grad_();
    Tensor w = ones({0}).requires_grad_();
    sum(x * w + exp(x)).backward();
    return x.grad().shape() == Shape{0} && w.grad().shape() == Shape{0};
  }()));
  GIVES(nn::Linear(3, 2)(z({0, 3})), (Shape{0, 2}), {});
  // Losses of an empty batch are errors by design (PyTorch returns NaN): a mean over nothing is
  // never what a training loop meant.
  FAILS(nn::functional::mse_loss(z({0}), z({0})), "mse_loss", "empty");
  FAILS(nn::functional::cross_entropy(z({0, 3}), zeros({0}, int64)), "cross_entropy", "empty batch");
  FAILS(nn::functional::nll_loss(z({0, 3}), zeros({0}, int64)), "nll_loss", "empty batch");
  GIVES((*nn::mlp({2, 3, 1}))(z({0, 2})), (Shape{0, 1}), {});
  GIVES(nn::Softmax(1)(z({2, 0})), (Shape{2, 0}), {});
}

TEST_CASE("misuse: axes and indices out of range", "[misuse]") {
  const Tensor x = ones({2, 3});
  FAILS(x.size(2), "size", "out of range");
  FAILS(x.size(-3), "size", "out of range");
  FAILS(x.size(kPMin), "size", "out of range");
  FAILS(x.size(kPMax), "size", "out of range");
  FAILS(sum(x, {2}), "sum", "axis 2", "out of range");
  FAILS(sum(x, {-3}), "sum", "axis -3");
  FAILS(sum(x, {kPMin}), "sum", "out of range");
  FAILS(sum(x, {0, 0}), "sum", "appears twice");
  FAILS(sum(x, {1, -1}), "sum", "appears twice");
  FAILS(mean(x, {5}), "mean", "out of range");
  FAILS(max(x, 2), "max", "out of range");
  FAILS(min(x, -3), "min", "out of range");
  FAILS(argmax(x, 9), "argmax", "out of range");
  FAILS(logsumexp(x, 2), "logsumexp", "out of range");
  FAILS(logsumexp(x, kPMin), "logsumexp", "out of range");
  FAILS(softmax(x, 2), "softmax", "out of range");
  FAILS(softmax(x, kPMax), "softmax", "out of range");
  FAILS(log_softmax(x, -3), "log_softmax", "out of range");
  FAILS(transpose(x, 0, 2), "transpose", "out of range");
  FAILS(transpose(x, kPMin, 0), "transpose", "out of range");
  FAILS(squeeze(x, 0), "squeeze", "not 1");
  FAILS(squeeze(x, 2), "squeeze", "out of range");
  FAILS(unsqueeze(x, 3), "unsqueeze", "out of range");
  FAILS(unsqueeze(x, kPMax), "unsqueeze", "out of range");
  GIVES(unsqueeze(x, -1), (Shape{2, 3, 1}), {1, 1, 1, 1, 1, 1});
  FAILS(slice(x, 2, 0, 1), "slice", "out of range");
  FAILS(slice(x, 1, 0, 4), "slice", "out of range");
  FAILS(index_select(x, 1, {3}), "index_select", "index 3");
  FAILS(index_select(x, 2, {0}), "index_select", "out of range");
  FAILS(gather(x, 1, tensor({3, 0, 0, 0, 0, 0}, {2, 3}, int64)), "gather", "index value 3");
  FAILS(gather(x, 1, tensor({-1, 0, 0, 0, 0, 0}, {2, 3}, int64)), "gather", "index value -1");
  FAILS(gather(x, 1, tensor({0, 0}, {2}, int64)), "gather", "must have the shape");
  FAILS(gather(x, 1, tensor({0, 0, 0, 0, 0, 0}, {2, 3})), "gather", "int64");
  FAILS(scatter_add(x, 1, tensor({0, 0, 5, 0, 0, 0}, {2, 3}, int64), {2, 3}), "scatter_add", "out of range");
  FAILS(scatter_add(x, 0, zeros({2, 3}, int64), {2}), "scatter_add", "rank");
  FAILS(one_hot(labels({0, 3}), 3), "one_hot", "index value 3");
  FAILS(one_hot(labels({-1}), 3), "one_hot", "index value -1");
  FAILS(one_hot(tensor({0, 1}, {1, 2}, int64), 3), "one_hot", "1-D int64");
  FAILS(concat({}, 0), "concat", "at least one");
  FAILS(concat({x, ones({2, 2})}, 0), "concat", "does not match");
  FAILS(concat({x}, 2), "concat", "out of range");
  FAILS(stack({x, ones({3, 2})}, 0), "stack", "shapes differ");
  FAILS(stack({x}, 3), "stack", "out of range");
  FAILS(matmul(x, ones({2, 3})), "matmul", "do not line up");
  FAILS(matmul(ones({2, 3, 4}), ones({3, 4, 2})), "matmul", "batch sizes");
  FAILS(matmul(ones({2, 2, 2, 2}), ones({2, 2})), "matmul", "operands");
  FAILS(t(ones({2, 2, 2})), "t", "at most 2");
  FAILS(broadcast_to(x, {3, 3}), "broadcast_to", "cannot broadcast");
  FAILS(broadcast_to(x, {3}), "broadcast_to", "cannot broadcast");
  FAILS(x + ones({2}), "add", "do not broadcast");
  FAILS(nn::functional::cross_entropy(x, labels({0, 3})), "3");
  FAILS(nn::functional::nll_loss(x, labels({-1, 0})), "-1");
  FAILS(nn::Linear(3, 2)(ones({2, 4})), "Linear(3, 2)", "3 features");
  FAILS(nn::Sequential()[0], "Sequential", "out of range");
}

TEST_CASE("misuse: dtype mixes", "[misuse]") {
  const Tensor f = ones({2}), d = ones({2}, float64), i = ones({2}, int64);
  FAILS(f + d, "add", "dtypes differ", "float32", "float64");
  FAILS(d - f, "sub", "dtypes differ");
  FAILS(f * i, "mul", "int64");
  FAILS(i / f, "div", "int64");
  FAILS(maximum(f, d), "maximum", "dtypes differ");
  FAILS(matmul(ones({2, 2}), ones({2, 2}, float64)), "matmul", "dtypes differ");
  FAILS(exp(i), "exp", "int64");
  FAILS(relu(i), "relu", "int64");
  FAILS(sum(i), "sum", "int64");
  FAILS(softmax(i, 0), "softmax", "int64");
  FAILS(log_softmax(i, 0), "log_softmax", "int64");
  FAILS(i + 1.0, "int64");
  FAILS(gt(i, f), "gt", "int64", "float32");
  FAILS(ge(f, i), "ge", "float32", "int64");
  FAILS(eq(d, f), "eq", "float64", "float32");
  GIVES(gt(i, i), Shape{2}, {0, 0});
  GIVES(gt(i, 0.5), Shape{2}, {1, 1});
  HOLDS(gt(i, 0.5).dtype() == int64);
  FAILS(Tensor(i).requires_grad_(), "requires_grad_", "int64");
  FAILS(Tensor(f).data_ptr<double>(), "data_ptr", "float64", "float32");
  FAILS(Tensor(i).add_(1.0), "add_", "int64");
  GIVES(tensor({1.9, -1.9}, {2}).to(int64), Shape{2}, {1, -1});
  GIVES(tensor({3, 4}, {2}, int64).to(float32), Shape{2}, {3, 4});
  // Converting NaN, Inf or |x| >= 2^63 to int64 is undefined behaviour in C++: an error instead.
  FAILS(full({2}, kNaN, int64), "full", "cannot be converted to int64");
  FAILS(full({2}, kInf, int64), "full", "cannot be converted to int64");
  FAILS(ones({2}, int64).fill_(1e19), "fill_", "cannot be converted to int64");
  FAILS(tensor({1.0, 1e30}, {2}, int64), "tensor", "cannot be converted to int64");
  FAILS(tensor({kNaN, 1.0}, {2}).to(int64), "to", "cannot be converted to int64");
  FAILS(tensor({1e19}, {1}, float64).to(int64), "to", "cannot be converted to int64");
  FAILS(ones({2}, int64).copy_(tensor({kInf, 0.0}, {2})), "copy_", "cannot be converted to int64");
  FAILS(arange(0, 1e20, 1e19, int64), "arange", "cannot be converted to int64");
  GIVES(arange(0, 9e18, 3e18, int64), Shape{3}, {0, 3e18, 6e18});
  GIVES(tensor({-0x1p63}, {1}, float64).to(int64), Shape{1}, {-0x1p63});
  GIVES(full({1}, -2.5, int64), Shape{1}, {-2});
  FAILS(nn::functional::cross_entropy(ones({2, 3}), ones({2})), "cross_entropy", "int64");
  FAILS(nn::functional::mse_loss(f, d), "float");
  FAILS(nn::Linear(2, 1)(ones({1, 2}, float64)), "float");
  FAILS(one_hot(f, 2), "one_hot", "int64");
  FAILS(Tensor().shape(), "shape", "undefined");
  FAILS(exp(Tensor()), "exp", "undefined");
  FAILS(f + Tensor(), "add", "undefined");
}

TEST_CASE("misuse: NaN and Inf, with and without anomaly mode", "[misuse]") {
  const Tensor nan = tensor({kNaN, 1.0, -1.0}, {3});
  GIVES(relu(nan), Shape{3}, {kNaN, 1, 0});
  GIVES(leaky_relu(nan, 0.1), Shape{3}, {kNaN, 1, -0.1});
  GIVES(sigmoid(nan), Shape{3}, {kNaN, 0.7310586, 0.2689414});
  GIVES(tanh(nan), Shape{3}, {kNaN, 0.7615942, -0.7615942});
  GIVES(softplus(nan), Shape{3}, {kNaN, 1.3132616, 0.3132617});
  GIVES(clamp(nan, 0, 0.5), Shape{3}, {kNaN, 0.5, 0});
  GIVES(clamp(nan, -2, 2), Shape{3}, {kNaN, 1, -1});
  GIVES(maximum(nan, zeros({3})), Shape{3}, {kNaN, 1, 0});
  GIVES(maximum(zeros({3}), nan), Shape{3}, {kNaN, 1, 0});
  GIVES(minimum(nan, zeros({3})), Shape{3}, {kNaN, 0, -1});
  GIVES(minimum(zeros({3}), nan), Shape{3}, {kNaN, 0, -1});
  GIVES(abs(nan), Shape{3}, {kNaN, 1, 1});
  GIVES(sign(nan), Shape{3}, {kNaN, 1, -1});
  GIVES(step(nan), Shape{3}, {kNaN, 1, 0});
  GIVES(max(nan, 0), Shape{}, {kNaN});
  GIVES(min(nan, 0), Shape{}, {kNaN});
  GIVES(argmax(nan, 0), Shape{}, {0});
  GIVES(sum(nan), Shape{}, {kNaN});
  GIVES(softmax(nan, 0), Shape{3}, {kNaN, kNaN, kNaN});
  GIVES(relu(ones({17}) * kNaN), Shape{17}, std::vector<double>(17, kNaN));  // the SIMD body, too
  GIVES(clamp(ones({17}, float64) * kNaN, 0, 1), Shape{17}, std::vector<double>(17, kNaN));
  GIVES(maximum(zeros({17}), ones({17}) * kNaN), Shape{17}, std::vector<double>(17, kNaN));
  GIVES(log(zeros({1})), Shape{1}, {-kInf});
  GIVES(sqrt(tensor({-1.0})), Shape{1}, {kNaN});
  GIVES(tensor({1.0}) / zeros({1}), Shape{1}, {kInf});
  GIVES(exp(tensor({1000.0})), Shape{1}, {kInf});
  GIVES(sum(tensor({kInf, -kInf})), Shape{}, {kNaN});
  GIVES(logsumexp(tensor({-kInf, -kInf}), 0), Shape{}, {-kInf});
  GIVES(logsumexp(tensor({kInf, 1.0}), 0), Shape{}, {kInf});
  GIVES(log_softmax(tensor({-kInf, 0.0}), 0), Shape{2}, {-kInf, 0});
  GIVES(nn::ReLU()(nan), Shape{3}, {kNaN, 1, 0});
  {
    AnomalyModeGuard anomaly;
    FAILS(relu(nan), "relu", "NaN or Inf");
    FAILS(clamp(nan, 0, 1), "clamp", "NaN or Inf");
    FAILS(maximum(nan, zeros({3})), "maximum", "NaN or Inf");
    FAILS(log(zeros({1})), "log", "NaN or Inf");
    FAILS(sqrt(tensor({-1.0})), "sqrt", "NaN or Inf");
    FAILS(tensor({1.0}) / zeros({1}), "div", "NaN or Inf");
    FAILS(exp(tensor({1000.0})), "exp", "NaN or Inf");
    FAILS(sum(tensor({kInf, -kInf})), "sum", "NaN or Inf");
    FAILS(nn::ReLU()(nan), "relu", "NaN or Inf");
    GIVES(relu(tensor({-1.0, 2.0})), Shape{2}, {0, 2});
    FAILS(([] {
        Tensor x = tensor({0.0}).requires_grad_();
        sqrt(x).backward();
        return x;
      }()),
      "backward of 'sqrt'", "NaN or Inf");
    FAILS(([] {
        Tensor x = tensor({0.0}).requires_grad_();
        sum(log(x + 1.0) / x).backward();
        return x;
      }()),
      "div", "NaN or Inf");
  }
  HOLDS(([] {  // without anomaly mode, the NaN reaches the gradient
    Tensor x = tensor({0.0}).requires_grad_();
    sqrt(x).backward();
    return std::isinf(x.grad().item());
  }()));
  HOLDS(([] {
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
  FAILS(sgd({kNaN}), "learning rate", "nan");
  FAILS(sgd({-0.1}), "learning rate", "-0.1");
  FAILS(sgd({kInf}), "learning rate", "inf");
  FAILS(sgd(with([](SGDOptions& o) { o.momentum = kNaN; })), "SGD", "momentum");
  FAILS(sgd(with([](SGDOptions& o) { o.momentum = -0.5; })), "SGD", "momentum");
  FAILS(sgd(with([](SGDOptions& o) { o.momentum = kInf; })), "SGD", "momentum");
  FAILS(sgd(with([](SGDOptions& o) { o.dampening = kNaN; })), "SGD", "dampening", "nan");
  FAILS(sgd(with([](SGDOptions& o) { o.dampening = kInf; })), "SGD", "dampening");
  FAILS(sgd(with([](SGDOptions& o) { o.dampening = -kInf; })), "SGD", "dampening");
  FAILS(sgd(with([](SGDOptions& o) { o.weight_decay = kNaN; })), "SGD", "weight_decay");
  FAILS(sgd(with([](SGDOptions& o) { o.weight_decay = -1; })), "SGD", "weight_decay");
  FAILS(sgd(with([](SGDOptions& o) { o.weight_decay = kInf; })), "SGD", "weight_decay");
  FAILS(sgd(with([](SGDOptions& o) { o.nesterov = true; })), "SGD", "nesterov");
  FAILS(sgd(with([](SGDOptions& o) {
      o.nesterov = true;
      o.momentum = 0.9;
      o.dampening = 0.1;
    })),
    "SGD", "nesterov");
  HOLDS((sgd(with([](SGDOptions& o) { o.momentum = 0.9; o.dampening = 0.5; })).lr() == 0.1));
  FAILS(SGD({}, base), "optimizer", "empty");
  FAILS(SGD({ones({2}, int64)}, base), "optimizer", "int64");
  FAILS(SGD({Tensor()}, base), "optimizer", "undefined");
  FAILS(([&] { Tensor p = ones({2}).requires_grad_(); return SGD({p, p}, base); }()), "optimizer", "same tensor");
  FAILS(([&] { Tensor p = ones({2}).requires_grad_(); return SGD({p * 2.0}, base); }()), "optimizer", "not a leaf");
  FAILS(([&] { SGD o = sgd(base); o.set_lr(kNaN); return 0; }()), "learning rate");
  FAILS(([&] { SGD o = sgd(base); o.set_lr(-1); return 0; }()), "learning rate");

  using optim::Adam;
  using optim::AdamOptions;
  auto adam = [&](auto f) {
    AdamOptions o;
    f(o);
    return Adam(params(), o);
  };
  FAILS(adam([](AdamOptions& o) { o.lr = kNaN; }), "learning rate");
  FAILS(adam([](AdamOptions& o) { o.lr = -1e-3; }), "learning rate");
  FAILS(adam([](AdamOptions& o) { o.beta1 = 1.0; }), "Adam", "beta1");
  FAILS(adam([](AdamOptions& o) { o.beta1 = kNaN; }), "Adam", "beta1");
  FAILS(adam([](AdamOptions& o) { o.beta1 = -0.1; }), "Adam", "beta1");
  FAILS(adam([](AdamOptions& o) { o.beta2 = 1.5; }), "Adam", "beta2");
  FAILS(adam([](AdamOptions& o) { o.beta2 = kNaN; }), "Adam", "beta2");
  FAILS(adam([](AdamOptions& o) { o.eps = kNaN; }), "Adam", "eps");
  FAILS(adam([](AdamOptions& o) { o.eps = -1e-8; }), "Adam", "eps");
  FAILS(adam([](AdamOptions& o) { o.eps = kInf; }), "Adam", "eps");
  FAILS(adam([](AdamOptions& o) { o.weight_decay = kNaN; }), "Adam", "weight_decay");
  FAILS(adam([](AdamOptions& o) { o.weight_decay = -0.01; }), "Adam", "weight_decay");
  HOLDS((adam([](AdamOptions& o) { o.beta1 = 0; o.eps = 0; }).lr() == 1e-3));
  FAILS(([&] { optim::AdamWOptions o; o.weight_decay = kNaN; return optim::AdamW(params(), o); }()), "Adam", "weight_decay");
  FAILS(([&] { optim::AdamWOptions o; o.lr = kInf; return optim::AdamW(params(), o); }()), "learning rate");

  using optim::RMSprop;
  using optim::RMSpropOptions;
  FAILS(RMSprop(params(), RMSpropOptions(kNaN)), "learning rate");
  FAILS(RMSprop(params(), RMSpropOptions(0.01, kNaN)), "RMSprop", "alpha");
  FAILS(RMSprop(params(), RMSpropOptions(0.01, 1.5)), "RMSprop", "alpha");
  FAILS(RMSprop(params(), RMSpropOptions(0.01, 0.99, kNaN)), "RMSprop", "eps");
  FAILS(RMSprop(params(), RMSpropOptions(0.01, 0.99, -1e-8)), "RMSprop", "eps");
  FAILS(RMSprop(params(), RMSpropOptions(0.01, 0.99, 1e-8, kInf)), "RMSprop", "weight_decay");
  FAILS(RMSprop(params(), RMSpropOptions(0.01, 0.99, 1e-8, 0, -0.9)), "RMSprop", "momentum");
  FAILS(RMSprop(params(), RMSpropOptions(0.01, 0.99, 1e-8, 0, kNaN)), "RMSprop", "momentum");
  using optim::Adagrad;
  using optim::AdagradOptions;
  FAILS(Adagrad(params(), AdagradOptions(-1)), "learning rate");
  FAILS(Adagrad(params(), AdagradOptions(0.01, kNaN)), "Adagrad", "lr_decay");
  FAILS(Adagrad(params(), AdagradOptions(0.01, -1)), "Adagrad", "lr_decay");
  FAILS(Adagrad(params(), AdagradOptions(0.01, 0, kNaN)), "Adagrad", "weight_decay");
  FAILS(Adagrad(params(), AdagradOptions(0.01, 0, 0, 0)), "Adagrad", "eps");
  FAILS(Adagrad(params(), AdagradOptions(0.01, 0, 0, kInf)), "Adagrad", "eps");
  FAILS(Adagrad(params(), AdagradOptions(0.01, 0, 0, 1e-10, kNaN)), "Adagrad", "initial_accumulator_value");

  SGD opt = sgd(base);
  FAILS(optim::CosineAnnealingLR(opt, 0), "CosineAnnealingLR", "T_max");
  FAILS(optim::ReduceLROnPlateau(opt, 1.5), "ReduceLROnPlateau", "factor");
  FAILS(optim::ReduceLROnPlateau(opt, kNaN), "ReduceLROnPlateau", "factor");
  FAILS(([&] { optim::ReduceLROnPlateau r(opt); r.step(kNaN); return 0; }()), "ReduceLROnPlateau", "NaN");
  FAILS(([&] { optim::LambdaLR l(opt, [](std::size_t) { return kNaN; }); l.step(); return 0; }()), "LambdaLR");
  FAILS(optim::StepLR(opt, 0), "StepLR", "step_size");
  FAILS(optim::StepLR(opt, 1, kNaN), "StepLR", "gamma");
  FAILS(optim::StepLR(opt, 1, -0.5), "StepLR", "gamma");
  FAILS(optim::ExponentialLR(opt, kInf), "ExponentialLR", "gamma");
  FAILS(optim::ExponentialLR(opt, kNaN), "ExponentialLR", "gamma");
  FAILS(optim::clip_grad_norm_(params(), kNaN), "clip_grad_norm_", "max_norm");
  FAILS(optim::clip_grad_norm_(params(), -1), "clip_grad_norm_", "max_norm");
  HOLDS(optim::clip_grad_norm_(params(), kInf) == 0);
  HOLDS(([&] {  // dampening 0.5 halves the momentum's new gradient from the second step on
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
  HOLDS(data::DataLoader(ds, kMax, false).num_batches() == 1);
  HOLDS(data::DataLoader(ds, kMax - 1, false).num_batches() == 1);
  HOLDS(data::DataLoader(ds, kMax, false, true).num_batches() == 0);
  HOLDS(data::DataLoader(ds, 11, false).num_batches() == 1);
  HOLDS(data::DataLoader(ds, 10, false, true).num_batches() == 1);
  HOLDS(data::DataLoader(ds, 3, false).num_batches() == 4);
  HOLDS(data::DataLoader(ds, 3, false, true).num_batches() == 3);
  HOLDS(data::DataLoader(ds, 1, false).num_batches() == 10);
  FAILS(data::DataLoader(ds, 0), "DataLoader", "batch_size");
  GIVES(data::DataLoader(ds, kMax, false).batch(0).targets, Shape{10}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
  GIVES(data::DataLoader(ds, 3, false).batch(3).targets, Shape{1}, {9});
  FAILS(data::DataLoader(ds, kMax, false).batch(1), "DataLoader", "out of range");
  FAILS(data::DataLoader(ds, 3, false, true).batch(3), "DataLoader", "out of range");
  FAILS(data::DataLoader(ds, 3, false).batch(kMax), "DataLoader", "out of range");
  HOLDS(([&] {
    std::size_t rows = 0, batches = 0;
    for (const auto& b : data::DataLoader(ds, kMax)) rows += b.inputs.size(0), ++batches;
    return rows == 10 && batches == 1;
  }()));
  const data::TensorDataset empty_ds(zeros({0, 3}), zeros({0}));
  HOLDS(data::DataLoader(empty_ds, 4).num_batches() == 0);
  HOLDS(data::DataLoader(empty_ds, kMax).num_batches() == 0);
  FAILS(data::TensorDataset(zeros({3, 2}), zeros({2})), "TensorDataset", "same number of rows");
  FAILS(data::TensorDataset(zeros({}), zeros({})), "TensorDataset");
  FAILS(data::TensorDataset(Tensor(), zeros({2})), "TensorDataset", "defined");
  FAILS(data::gather_rows(ones({3, 2}), {3}), "gather_rows", "out of range");
  FAILS(data::gather_rows(ones({3, 2}), {kMax}), "gather_rows", "out of range");
}

TEST_CASE("misuse: graphs and versions", "[misuse]") {
  // Module::to must not reset the version counter: the graph recorded before it refuses backward.
  FAILS(([] {
      nn::Linear lin(2, 1);
      Tensor x = tensor({{1.0, 2.0}}).requires_grad_();
      Tensor loss = sum(lin(x));
      lin.to(float64);
      lin.to(float32);
      loss.backward();
      return 0;
    }()),
    "backward of 'linear'", "modified in place");
  HOLDS(([] {
    nn::Linear lin(2, 1);
    const std::uint64_t v = lin.weight.version();
    lin.to(float64);
    lin.to(float32);
    return lin.weight.version() > v + 1;
  }()));
  FAILS(([] {
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
  FAILS(([] {
      Tensor w = ones({2}).requires_grad_();
      Tensor y = sum(w * 3.0);
      y.backward();
      y.backward();
      return 0;
    }()),
    "retain_graph");
  FAILS(([] { Tensor w = ones({2}).requires_grad_(); w.add_(1.0); return 0; }()), "add_", "NoGradGuard");
  FAILS(ones({2}).backward(), "backward", "does not require grad");
  FAILS(([] { Tensor w = ones({2}).requires_grad_(); sum(w).backward(ones({3})); return 0; }()), "backward", "grad_output");
  FAILS(([] { Tensor w = ones({2}).requires_grad_(); (w * 2.0).backward(); return 0; }()), "backward", "one-element");
  FAILS(grad({sum(ones({2}).requires_grad_())}, {ones({2})}), "grad", "does not require grad");
  FAILS(([] { Tensor w = ones({2}).requires_grad_(); Tensor u = ones({2}).requires_grad_(); return grad({sum(w)}, {u}); }()),
    "grad", "allow_unused");
  FAILS(([] { Tensor w = ones({2}).requires_grad_(); return (w * 2.0).requires_grad_(false); }()), "requires_grad_", "not a leaf");
  FAILS(nn::Linear(2, 2).to(int64), "Module::to", "int64");
}

TEST_CASE("misuse: zero-size tensors with huge other dimensions finish at once", "[misuse]") {
  // {2^40, 3, 0} has no element; a kernel looping over its outer 2^40 rows would hang.
  const std::size_t big = 1ull << 40;
  const Tensor x = z({big, 3, 0});
  GIVES(slice(x, 1, 1, 3), (Shape{big, 2, 0}), {});
  GIVES(pad_slice(x, 1, 1, {big, 5, 0}), (Shape{big, 5, 0}), {});
  GIVES(index_select(x, 1, {2, 0}), (Shape{big, 2, 0}), {});
  GIVES(index_add(x, 1, {0, 1, 1}, {big, 2, 0}), (Shape{big, 2, 0}), {});
  GIVES(gather(x, 1, zeros({big, 3, 0}, int64)), (Shape{big, 3, 0}), {});
  GIVES(scatter_add(x, 1, zeros({big, 3, 0}, int64), {big, 4, 0}), (Shape{big, 4, 0}), {});
  GIVES(concat({x, x}, 1), (Shape{big, 6, 0}), {});
  GIVES(transpose(x, 0, 2), (Shape{0, 3, big}), {});
  GIVES(broadcast_to(z({1, 3, 0}), {big, 3, 0}), (Shape{big, 3, 0}), {});
  GIVES(sum(x, {0}), (Shape{3, 0}), {});
  GIVES(x * 2.0, (Shape{big, 3, 0}), {});
  GIVES(x + z({3, 0}), (Shape{big, 3, 0}), {});
  GIVES(matmul(z({big, 0, 3}), ones({3, 2})), (Shape{big, 0, 2}), {});
  GIVES(softmax(x, 1), (Shape{big, 3, 0}), {});
  GIVES(log_softmax(x, 0), (Shape{big, 3, 0}), {});
  GIVES(max(x, 1), (Shape{big, 0}), {});
  FAILS(sum(x, {2}), "sum", "out of memory");
  HOLDS(([&] {
    Tensor w = z({big, 3, 0}).requires_grad_();
    sum(slice(w, 1, 0, 2) * 3.0).backward();
    return w.grad().shape() == Shape{big, 3, 0};
  }()));
}

namespace {
struct UnaryCase {
  const char* name;
  Tensor (*f)(const Tensor&);
  bool nan_to_nan;  // NaN in gives NaN out
};
const UnaryCase kUnary[] = {
    {"neg", [](const Tensor& x) { return neg(x); }, true},
    {"exp", [](const Tensor& x) { return exp(x); }, true},
    {"log", [](const Tensor& x) { return log(x); }, true},
    {"sqrt", [](const Tensor& x) { return sqrt(x); }, true},
    {"abs", [](const Tensor& x) { return abs(x); }, true},
    {"sin", [](const Tensor& x) { return sin(x); }, true},
    {"cos", [](const Tensor& x) { return cos(x); }, true},
    {"tanh", [](const Tensor& x) { return tanh(x); }, true},
    {"sigmoid", [](const Tensor& x) { return sigmoid(x); }, true},
    {"relu", [](const Tensor& x) { return relu(x); }, true},
    {"leaky_relu", [](const Tensor& x) { return leaky_relu(x, 0.2); }, true},
    {"softplus", [](const Tensor& x) { return softplus(x); }, true},
    {"clamp", [](const Tensor& x) { return clamp(x, -0.5, 0.5); }, true},
    {"pow", [](const Tensor& x) { return pow(x, 3); }, true},
    {"step", [](const Tensor& x) { return step(x); }, true},
    {"sign", [](const Tensor& x) { return sign(x); }, true},
    {"add", [](const Tensor& x) { return x + 1.0; }, true},
    {"mul", [](const Tensor& x) { return x * 2.0; }, true},
};
struct BinaryCase {
  const char* name;
  Tensor (*f)(const Tensor&, const Tensor&);
};
const BinaryCase kBinary[] = {
    {"add", [](const Tensor& a, const Tensor& b) { return a + b; }},
    {"sub", [](const Tensor& a, const Tensor& b) { return a - b; }},
    {"mul", [](const Tensor& a, const Tensor& b) { return a * b; }},
    {"div", [](const Tensor& a, const Tensor& b) { return a / b; }},
    {"maximum", [](const Tensor& a, const Tensor& b) { return maximum(a, b); }},
    {"minimum", [](const Tensor& a, const Tensor& b) { return minimum(a, b); }},
};
}  // namespace

TEST_CASE("misuse: table sweep of every elementwise op over dtypes, empty shapes and NaN", "[misuse]") {
  const Shape empties[] = {{0}, {2, 0}, {0, 3}, {3, 0, 2}};
  for (const auto& op : kUnary)
    for (Dtype d : {float32, float64}) {
      const std::string tag = std::string(op.name) + " " + dtype_name(d);
      for (const Shape& s : empties)
        ::misuse::expect_value((tag + " of zeros" + shape_str(s)).c_str(), [&] { return op.f(zeros(s, d)); }, s, {});
      // NaN through the scalar tail (3 elements) and the SIMD body (19 elements).
      for (std::size_t n : {3u, 19u}) {
        const Tensor x = full({n}, kNaN, d);
        ::misuse::expect_value((tag + " of NaN x" + std::to_string(n)).c_str(), [&] { return op.f(x); },
                               Shape{n}, std::vector<double>(n, kNaN));
      }
      ::misuse::expect_error((tag + " of int64").c_str(), [&] { op.f(ones({2}, int64)); }, {"int64"});
      ::misuse::expect_error((tag + " of an undefined tensor").c_str(), [&] { op.f(Tensor()); }, {"undefined"});
      AnomalyModeGuard anomaly;
      ::misuse::expect_error((tag + " of NaN under anomaly mode").c_str(), [&] { op.f(full({2}, kNaN, d)); },
                             {op.name, "NaN or Inf"});
    }
  const std::pair<Shape, Shape> broadcasts[] = {
      {{0}, {1}}, {{0, 3}, {3}}, {{2, 0}, {2, 1}}, {{1, 0}, {4, 1}}, {{0, 1}, {1, 0}}};
  for (const auto& op : kBinary)
    for (Dtype d : {float32, float64}) {
      const std::string tag = std::string(op.name) + " " + dtype_name(d);
      for (const auto& shapes : broadcasts) {
        const Shape& a = shapes.first;  // not a structured binding: clang 14 cannot capture one
        const Shape& b = shapes.second;
        Shape out = a.size() >= b.size() ? a : b;
        if (a == Shape{1, 0}) out = {4, 0};
        if (a == Shape{0, 1}) out = {0, 0};
        ::misuse::expect_value((tag + " " + shape_str(a) + " with " + shape_str(b)).c_str(),
                               [&] { return op.f(zeros(a, d), ones(b, d)); }, out, {});
      }
      ::misuse::expect_value((tag + " NaN on the left").c_str(),
                             [&] { return op.f(full({19}, kNaN, d), ones({19}, d)); }, Shape{19},
                             std::vector<double>(19, kNaN));
      ::misuse::expect_value((tag + " NaN on the right").c_str(),
                             [&] { return op.f(ones({19}, d), full({19}, kNaN, d)); }, Shape{19},
                             std::vector<double>(19, kNaN));
      ::misuse::expect_error((tag + " shapes that do not broadcast").c_str(),
                             [&] { op.f(zeros({2, 3}, d), zeros({4}, d)); }, {op.name, "do not broadcast"});
      ::misuse::expect_error((tag + " mixed with the other float dtype").c_str(),
                             [&] { op.f(zeros({2}, d), zeros({2}, d == float32 ? float64 : float32)); },
                             {op.name, "dtypes differ"});
      ::misuse::expect_error((tag + " product of sizes past 2^63").c_str(),
                             [&] { op.f(zeros({1ull << 40, 1, 0}, d), zeros({1, 1ull << 40, 0}, d)); },
                             {op.name, "too many elements"});
    }
}
