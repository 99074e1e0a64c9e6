// ag::Tensor: a cheap shared handle to an n-d array that may record the ops applied to it.
// This header is free of xtensor on purpose: it is included by every user program.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <iosfwd>
#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include <autograd/export.hpp>

AG_API_BEGIN
namespace ag {

enum class Dtype : std::uint8_t { Float32, Float64, Int64 };
inline constexpr Dtype float32 = Dtype::Float32;
inline constexpr Dtype float64 = Dtype::Float64;
inline constexpr Dtype int64 = Dtype::Int64;

using Shape = std::vector<std::size_t>;
using Axes = std::vector<std::ptrdiff_t>;  // negative axes count from the end

// reshape(x, {ag::infer, 2}): the one dimension given as infer is computed from the others. (A
// reshape overload taking int64 -1 would make every braced call such as reshape(x, {n, 1})
// ambiguous.)
inline constexpr std::size_t infer = std::size_t(-1);

// Every bad input ends here: the message names the op, the shapes, dtypes and tensor names.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

const char* dtype_name(Dtype);
std::size_t dtype_size(Dtype);
bool is_floating(Dtype);
std::string shape_str(const Shape&);  // "{3, 4}"

struct TensorImpl;  // internal to the library (autograd/detail/impl.hpp is not installed)
class Tensor;

// A gradient hook: sees the gradient flowing into a tensor during backward; a defined result
// replaces it. A post-accumulate hook sees a leaf after backward has updated its .grad().
using TensorHook = std::function<Tensor(const Tensor& grad)>;
using PostAccumulateHook = std::function<void(Tensor& leaf)>;

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  bool defined() const { return impl_ != nullptr; }
  Dtype dtype() const;
  const Shape& shape() const;
  std::size_t dim() const;
  std::size_t numel() const;
  std::size_t size(std::ptrdiff_t axis) const;

  bool requires_grad() const;
  Tensor& requires_grad_(bool on = true);  // leaves of a float dtype only
  bool is_leaf() const;
  Tensor grad() const;  // undefined until a backward reaches this leaf
  void zero_grad();     // drops the accumulated gradient
  void backward(const Tensor& grad_output = {}, bool retain_graph = false,
                bool create_graph = false) const;

  // Hooks, as PyTorch's Tensor.register_hook: each runs once per backward pass on the summed
  // gradient of this tensor, in registration order; a defined result replaces the gradient that
  // flows on (into the tensor's producer, or on a leaf into .grad(): hooks run before
  // accumulation). With create_graph a hook built from ag ops is differentiated too. ag::grad
  // runs them as well, and returns the hooked gradient. Returns a handle for remove_hook.
  // The hook may also return void (it then only observes).
  template <class F>
  std::size_t register_hook(F&& hook);
  void remove_hook(std::size_t handle);
  // Runs after backward (not ag::grad) has accumulated into this leaf's .grad(): the point at
  // which a data-parallel reducer knows the gradient is ready.
  std::size_t register_post_accumulate_grad_hook(PostAccumulateHook hook);
  // An interior tensor keeps its gradient in .grad() after backward (accumulated over backward
  // calls like a leaf's, after its hooks ran). No effect on leaves, which keep theirs anyway.
  Tensor& retain_grad();
  bool retains_grad() const;

  Tensor detach() const;  // shares data, records nothing
  Tensor clone() const;   // copies data, differentiable
  Tensor to(Dtype) const; // differentiable between float dtypes

  const std::string& name() const;
  Tensor& set_name(std::string);
  double item() const;
  std::vector<double> to_vector() const;
  template <class T> T item() const;                // T: float, double or std::int64_t
  template <class T> std::vector<T> to_vector() const;  // converted from the dtype
  std::string str() const;  // values, shape and dtype, for printing

  // Raw, contiguous row-major data. T must match dtype(): float, double or int64_t.
  template <class T> T* data_ptr();
  template <class T> const T* data_ptr() const;

  // In-place updates (optimizers, initialisers). They bump the version counter, so a graph
  // that saved this tensor refuses to run backward with the changed values. On a leaf that
  // requires grad they are allowed only under NoGradGuard.
  Tensor& add_(const Tensor& other, double alpha = 1);
  Tensor& sub_(const Tensor& other) { return add_(other, -1); }
  Tensor& mul_(const Tensor& other);
  Tensor& add_(double value);
  Tensor& mul_(double value);
  Tensor& copy_(const Tensor& src);  // same shape; converts dtype
  Tensor& fill_(double value);
  Tensor& zero_() { return fill_(0); }
  std::uint64_t version() const;
  void bump_version();  // after writing through data_ptr()

  // Methods mirroring the free functions of ops.hpp that take a Tensor first.
  Tensor add(const Tensor& o) const;
  Tensor sub(const Tensor& o) const;
  Tensor mul(const Tensor& o) const;
  Tensor div(const Tensor& o) const;
  Tensor neg() const;
  Tensor pow(double p) const;
  Tensor exp() const;
  Tensor log() const;
  Tensor sqrt() const;
  Tensor abs() const;
  Tensor sin() const;
  Tensor cos() const;
  Tensor tanh() const;
  Tensor sigmoid() const;
  Tensor relu() const;
  Tensor leaky_relu(double slope = 0.01) const;
  Tensor softplus() const;
  Tensor clamp(double lo, double hi) const;
  Tensor maximum(const Tensor& o) const;
  Tensor minimum(const Tensor& o) const;
  Tensor step() const;
  Tensor sum() const;
  Tensor sum(const Axes& axes, bool keepdim = false) const;
  Tensor mean() const;
  Tensor mean(const Axes& axes, bool keepdim = false) const;
  Tensor max(std::ptrdiff_t axis, bool keepdim = false) const;
  Tensor min(std::ptrdiff_t axis, bool keepdim = false) const;
  Tensor logsumexp(std::ptrdiff_t axis, bool keepdim = false) const;
  Tensor argmax(std::ptrdiff_t axis) const;
  Tensor norm(double p = 2) const;
  Tensor norm(double p, const Axes& axes, bool keepdim = false) const;
  Tensor where(const Tensor& cond, const Tensor& other) const;  // *this where cond, else other
  Tensor matmul(const Tensor& o) const;
  Tensor t() const;
  Tensor transpose(std::ptrdiff_t a0, std::ptrdiff_t a1) const;
  Tensor reshape(const Shape& s) const;
  Tensor flatten() const;
  Tensor squeeze(std::ptrdiff_t axis) const;
  Tensor unsqueeze(std::ptrdiff_t axis) const;
  Tensor broadcast_to(const Shape& s) const;
  Tensor slice(std::ptrdiff_t axis, std::size_t start, std::size_t stop) const;
  Tensor select(std::ptrdiff_t axis, std::int64_t index) const;
  Tensor operator[](std::int64_t index) const { return select(0, index); }  // differentiable
  Tensor index_select(std::ptrdiff_t axis, const std::vector<std::size_t>& index) const;
  Tensor softmax(std::ptrdiff_t axis) const;
  Tensor log_softmax(std::ptrdiff_t axis) const;

  TensorImpl* impl() const { return impl_.get(); }
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }

 private:
  std::size_t add_hook(TensorHook hook);
  std::shared_ptr<TensorImpl> impl_;
};

template <class F>
std::size_t Tensor::register_hook(F&& hook) {
  if constexpr (std::is_void_v<std::invoke_result_t<F&, const Tensor&>>)
    return add_hook([h = std::forward<F>(hook)](const Tensor& g) mutable {
      h(g);
      return Tensor();
    });
  else
    return add_hook(TensorHook(std::forward<F>(hook)));
}

std::ostream& operator<<(std::ostream& os, const Tensor& t);  // the text of str()

// Creation. Floating values are rounded to the dtype; int64 truncates toward zero.
Tensor tensor(std::vector<double> values, Shape shape, Dtype dtype = float32);
// A std::vector<float> gives float32, a std::vector<std::int64_t> int64. Templates, so that a
// braced list such as tensor({1, 2}, {2}) still means the std::vector<double> overload.
template <class T, std::enable_if_t<std::is_same_v<T, float> || std::is_same_v<T, std::int64_t>,
                                    int> = 0>
Tensor tensor(const std::vector<T>& values, Shape shape);
Tensor tensor(std::initializer_list<double> values);                              // 1-D
Tensor tensor(std::initializer_list<std::initializer_list<double>> rows);         // 2-D
Tensor scalar(double value, Dtype dtype = float32);
Tensor zeros(Shape shape, Dtype dtype = float32);
Tensor ones(Shape shape, Dtype dtype = float32);
Tensor full(Shape shape, double value, Dtype dtype = float32);
Tensor empty(Shape shape, Dtype dtype = float32);  // uninitialised
Tensor arange(double start, double stop, double step = 1, Dtype dtype = float32);
Tensor eye(std::size_t n, Dtype dtype = float32);
Tensor rand(Shape shape, Dtype dtype = float32);   // uniform [0, 1), global generator
Tensor randn(Shape shape, Dtype dtype = float32);  // standard normal, global generator
Tensor zeros_like(const Tensor& t);
Tensor ones_like(const Tensor& t);

// The global generator (a 64-bit Mersenne twister) behind rand, randn, init and shuffling.
void manual_seed(std::uint64_t seed);
std::uint64_t random_u64();
double random_uniform();  // [0, 1)
double random_normal();

}  // namespace ag
AG_API_END
