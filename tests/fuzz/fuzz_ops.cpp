// libFuzzer harness: random small graphs from bytes. A tiny stack machine reads opcodes and
// arguments (shapes with sizes 0-3 or huge, axes, indices, dtypes, values including NaN and
// Inf), runs each op forward, and finally backward from every tensor that requires grad. The
// only outcomes allowed are a result or an ag::Error; anything else is a finding.
#include <cmath>
#include <cstring>
#include <limits>

#include <autograd/autograd.hpp>

#include "fuzz_common.hpp"

namespace {

using ag::Shape;
using ag::Tensor;

class Bytes {
 public:
  Bytes(const std::uint8_t* p, std::size_t n) : p_(p), n_(n) {}
  bool empty() const { return i_ >= n_; }
  std::uint8_t u8() { return i_ < n_ ? p_[i_++] : 0; }
  std::int64_t small_int() { return static_cast<std::int8_t>(u8()) % 6; }  // axes -5..5
  // Mostly 0-3; sometimes a size that overflows, or runs out of memory at once: at least 2^40
  // elements (4 TiB), which no allocator grants, so a huge dimension never allocates for real.
  std::size_t dim() {
    static const std::size_t huge[] = {std::size_t(1) << 40, std::size_t(1) << 62,
                                       std::numeric_limits<std::size_t>::max(),
                                       0xAAAAAAAAAAAAAAABull, (std::size_t(1) << 41) + 1};
    const std::uint8_t b = u8();
    return b < 240 ? b % 4 : huge[b % 5];
  }
  Shape shape() {
    Shape s(u8() % 4);
    for (auto& d : s) d = dim();
    return s;
  }
  double value() {
    const std::uint8_t b = u8();
    if (b == 255) return std::numeric_limits<double>::quiet_NaN();
    if (b == 254) return std::numeric_limits<double>::infinity();
    if (b == 253) return -std::numeric_limits<double>::infinity();
    return (static_cast<int>(b) - 128) / 16.0;
  }
  ag::Dtype dtype() {
    const std::uint8_t b = u8() % 8;
    return b < 4 ? ag::float32 : b < 7 ? ag::float64 : ag::int64;
  }

 private:
  const std::uint8_t* p_;
  std::size_t n_, i_ = 0;
};

Tensor make(Bytes& in) {
  const Shape s = in.shape();
  const ag::Dtype d = in.dtype();
  const std::uint8_t how = in.u8();
  Tensor t = how % 3 == 0 ? ag::full(s, in.value(), d) : how % 3 == 1 ? ag::rand(s, d == ag::int64 ? ag::float32 : d)
                                                                    : ag::arange(0, static_cast<double>(in.u8() % 13), 1, d);
  if (how & 8 && ag::is_floating(t.dtype())) t.requires_grad_();
  return t;
}

Tensor unary(Bytes& in, const Tensor& x) {
  switch (in.u8() % 20) {
    case 0: return ag::neg(x);
    case 1: return ag::exp(x);
    case 2: return ag::log(x);
    case 3: return ag::sqrt(x);
    case 4: return ag::abs(x);
    case 5: return ag::sin(x);
    case 6: return ag::tanh(x);
    case 7: return ag::sigmoid(x);
    case 8: return ag::relu(x);
    case 9: return ag::leaky_relu(x, in.value());
    case 10: return ag::softplus(x);
    case 11: { double a = in.value(), b = in.value(); return ag::clamp(x, a, b); }
    case 12: return ag::pow(x, in.value());
    case 13: return ag::step(x);
    case 14: return x + in.value();
    case 15: return in.value() / x;
    case 16: return x.to(in.dtype());
    case 17: return x.clone();
    case 18: return x.detach();
    default: return ag::sign(x);
  }
}

Tensor binary(Bytes& in, const Tensor& a, const Tensor& b) {
  switch (in.u8() % 12) {
    case 0: return a + b;
    case 1: return a - b;
    case 2: return a * b;
    case 3: return a / b;
    case 4: return ag::maximum(a, b);
    case 5: return ag::minimum(a, b);
    case 6: return ag::matmul(a, b);
    case 7: return ag::concat({a, b}, in.small_int());
    case 8: return ag::stack({a, b}, in.small_int());
    case 9: return ag::gt(a, b);
    case 10: return ag::gather(a, in.small_int(), b);
    default: return ag::linear(a, b, Tensor());
  }
}

std::vector<std::size_t> indices(Bytes& in) {
  std::vector<std::size_t> idx(in.u8() % 4);
  for (auto& i : idx) i = in.dim();
  return idx;
}

Tensor reduce_or_shape(Bytes& in, const Tensor& x) {
  const std::int64_t axis = in.small_int();
  switch (in.u8() % 22) {
    case 0: return ag::sum(x);
    case 1: return ag::sum(x, {axis}, in.u8() & 1);
    case 2: return ag::mean(x, {axis, in.small_int()});
    case 3: return ag::max(x, axis, in.u8() & 1);
    case 4: return ag::min(x, axis);
    case 5: return ag::argmax(x, axis);
    case 6: return ag::logsumexp(x, axis, in.u8() & 1);
    case 7: return ag::softmax(x, axis);
    case 8: return ag::log_softmax(x, axis);
    case 9: return ag::reshape(x, in.shape());
    case 10: return ag::transpose(x, axis, in.small_int());
    case 11: return ag::t(x);
    case 12: { std::size_t a = in.dim(), b = in.dim(); return ag::slice(x, axis, a, b); }
    case 13: return ag::index_select(x, axis, indices(in));
    case 14: return ag::broadcast_to(x, in.shape());
    case 15: { std::size_t s = in.dim(); return ag::pad_slice(x, axis, s, in.shape()); }
    case 16: return ag::squeeze(x, axis);
    case 17: return ag::unsqueeze(x, axis);
    case 18: return ag::flatten(x);
    case 19: return ag::one_hot(x, in.dim());
    case 20: { auto idx = indices(in); return ag::index_add(x, axis, idx, in.shape()); }
    default: return ag::scatter_add(x, axis, ag::zeros(x.shape(), ag::int64), in.shape());
  }
}

void run(Bytes& in) {
  std::vector<Tensor> stack;
  for (int step = 0; step < 24 && !in.empty(); ++step) {
    const std::uint8_t op = in.u8() % 4;
    try {
      if (op == 0 || stack.empty()) {
        stack.push_back(make(in));
      } else if (op == 1) {
        stack.push_back(unary(in, stack[in.u8() % stack.size()]));
      } else if (op == 2) {
        const Tensor& a = stack[in.u8() % stack.size()];
        stack.push_back(binary(in, a, stack[in.u8() % stack.size()]));
      } else {
        stack.push_back(reduce_or_shape(in, stack[in.u8() % stack.size()]));
      }
    } catch (const ag::Error&) {
    }
    if (stack.size() > 8) stack.erase(stack.begin());
  }
  for (const Tensor& t : stack) {
    (void)t.str();
    try {
      if (t.requires_grad()) ag::sum(t).backward({}, true);
    } catch (const ag::Error&) {
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Bytes in(data, size);
  ag::AnomalyModeGuard anomaly(size > 0 && data[0] == 0xA5);
  run(in);
  return 0;
}
