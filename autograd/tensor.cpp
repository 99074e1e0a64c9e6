// ag::Tensor: the handle, creation functions, the global generator and in-place updates.
#include <cmath>
#include <cstring>
#include <functional>
#include <iomanip>
#include <mutex>
#include <random>
#include <sstream>

#include <autograd/detail/checked.hpp>
#include <autograd/detail/impl.hpp>
#include <autograd/engine.hpp>
#include <autograd/kernels/kernels.hpp>
#include <autograd/ops.hpp>

namespace ag {

const char* dtype_name(Dtype d) {
  switch (d) {
    case Dtype::Float32: return "float32";
    case Dtype::Float64: return "float64";
    case Dtype::Int64: return "int64";
  }
  return "?";
}
static inline std::size_t element_size(Dtype d) { return d == Dtype::Float32 ? 4 : 8; }
std::size_t dtype_size(Dtype d) { return element_size(d); }
bool is_floating(Dtype d) { return d != Dtype::Int64; }

std::string shape_str(const Shape& s) {
  std::string out = "{";
  for (std::size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "}";
}

std::string describe(const Tensor& t) {
  if (!t.defined()) return "an undefined tensor";
  std::string s = shape_str(t.shape()) + " " + dtype_name(t.dtype());
  return t.name().empty() ? s : "'" + t.name() + "' " + s;
}

void fail(const std::string& message) { throw Error(message); }

// ---- checked sizes --------------------------------------------------------------------------
static std::string op_prefix(const char* op) { return std::string(op ? op : "make_tensor") + ": "; }

std::size_t checked_numel(const char* op, const Shape& shape) {
  std::size_t nonzero = 1;  // the product of the non-zero dimensions bounds every stride
  bool empty = false;
  for (std::size_t d : shape) {
    if (d == 0) {
      empty = true;
      continue;
    }
    if (!mul_fits(nonzero, d, &nonzero) || nonzero > kMaxElements)
      fail(op_prefix(op) + "shape " + shape_str(shape) + " has too many elements (the sizes "
           "multiply past 2^63 - 1)");
  }
  return empty ? 0 : nonzero;
}

std::size_t checked_nbytes(const char* op, const Shape& shape, Dtype dtype) {
  std::size_t n = checked_numel(op, shape), bytes = 0;
  if (!mul_fits(n, dtype_size(dtype), &bytes) || bytes > kMaxElements)
    fail(op_prefix(op) + "a " + shape_str(shape) + " " + dtype_name(dtype) + " tensor needs " +
         std::to_string(n) + " x " + std::to_string(dtype_size(dtype)) +
         " bytes, more than 2^63 - 1");
  return bytes;
}

std::size_t checked_add(const char* op, std::size_t a, std::size_t b, const char* what) {
  std::size_t r = 0;
  if (!add_fits(a, b, &r))
    fail(op_prefix(op) + what + " overflows (" + std::to_string(a) + " + " + std::to_string(b) + ")");
  return r;
}

std::size_t checked_mul(const char* op, std::size_t a, std::size_t b, const char* what) {
  std::size_t r = 0;
  if (!mul_fits(a, b, &r))
    fail(op_prefix(op) + what + " overflows (" + std::to_string(a) + " x " + std::to_string(b) + ")");
  return r;
}

void check_int64_value(const char* op, double v) {
  if (!fits_int64(v))
    fail(op_prefix(op) + "value " + std::to_string(v) + " cannot be converted to int64 without overflow");
}

void check_int64_values(const char* op, const Tensor& t) {
  if (!is_floating(t.dtype())) return;
  const std::size_t n = t.numel();
  if (t.dtype() == float32) {
    const float* p = static_cast<const float*>(t.impl()->data());
    for (std::size_t i = 0; i < n; ++i)
      if (!fits_int64(p[i])) check_int64_value(op, p[i]);
  } else {
    const double* p = static_cast<const double*>(t.impl()->data());
    for (std::size_t i = 0; i < n; ++i)
      if (!fits_int64(p[i])) check_int64_value(op, p[i]);
  }
}

namespace {
// The per-thread list of shape buffers (see recycle_shape). As for BlockPool, a tensor freed after
// the thread's list is gone (a static Tensor at exit) frees its buffer the ordinary way.
thread_local bool t_shapes_gone = false;
struct ShapeList {
  static constexpr std::size_t kKeep = 1 << 16, kMaxCapacity = 8;
  std::vector<Shape> free;
  ~ShapeList() { t_shapes_gone = true; }
};
ShapeList* shape_list() {
  if (t_shapes_gone) return nullptr;
  thread_local ShapeList l;
  return &l;
}
}  // namespace

void recycle_shape(Shape&& s) {
  if (s.capacity() == 0 || s.capacity() > ShapeList::kMaxCapacity) return;
  ShapeList* l = shape_list();
  if (l && l->free.size() < ShapeList::kKeep) l->free.push_back(std::move(s));
}

Shape copy_shape(const Shape& s) {
  ShapeList* l = shape_list();
  if (!l || l->free.empty() || s.size() > ShapeList::kMaxCapacity) return s;
  Shape out = std::move(l->free.back());
  l->free.pop_back();
  out.clear();
  for (std::size_t d : s) out.push_back(d);  // within capacity; a loop, not a memmove call
  return out;
}

Tensor make_tensor(const Shape& shape, Dtype dtype, const char* op) {
  return make_tensor(copy_shape(shape), dtype, op);
}

// The byte count of a tensor of `shape`, computed inline since every tensor needs it; a zero
// dimension (whose rule is subtler) or an overflow goes to checked_nbytes, which reports it.
static std::size_t nbytes_of(const Shape& shape, Dtype dtype, const char* op) {
  std::size_t n = element_size(dtype);
  for (std::size_t d : shape)
    if (d == 0 || __builtin_mul_overflow(n, d, &n)) return checked_nbytes(op, shape, dtype);
  return n <= kMaxElements ? n : checked_nbytes(op, shape, dtype);
}

// One place allocates every tensor: its size is checked, and running out of memory becomes an
// ag::Error naming the op and the shape (std::bad_alloc names neither).
Tensor make_tensor(Shape&& shape, Dtype dtype, const char* op) {
  const std::size_t nbytes = nbytes_of(shape, dtype, op);
  auto impl = make_pooled<TensorImpl>();
  try {
    impl->storage = make_pooled<Storage>(nbytes);
  } catch (const std::bad_alloc&) {
    fail(op_prefix(op) + "out of memory: cannot allocate a " + shape_str(shape) + " " +
         dtype_name(dtype) + " tensor (" + std::to_string(nbytes) + " bytes)");
  }
  impl->numel = nbytes >> (dtype == float32 ? 2 : 3);  // 4 or 8 bytes: no division
  impl->shape = std::move(shape);
  impl->dtype = dtype;
  return Tensor(std::move(impl));
}

Tensor alias(const Tensor& t, const Shape& shape) { return alias(t, copy_shape(shape)); }

Tensor alias(const Tensor& t, Shape&& shape) {
  auto impl = make_pooled<TensorImpl>();
  impl->storage = t.impl()->storage;
  impl->numel = t.numel();
  impl->shape = std::move(shape);
  impl->dtype = t.dtype();
  return Tensor(std::move(impl));
}

// ---- handle accessors ----------------------------------------------------------------------
// The accessors below run several times per op (kernels, checks, the engine): the test stays
// inline and the message is built out of line, only when it fails.
[[noreturn]] __attribute__((noinline, cold)) static void fail_undefined(const char* what) {
  fail(std::string(what) + ": the tensor is undefined");
}
static inline TensorImpl& checked(const Tensor& t, const char* what) {
  if (__builtin_expect(!t.defined(), 0)) fail_undefined(what);
  return *t.impl();
}

Dtype Tensor::dtype() const { return checked(*this, "dtype").dtype; }
const Shape& Tensor::shape() const { return checked(*this, "shape").shape; }
std::size_t Tensor::dim() const { return shape().size(); }
std::size_t Tensor::numel() const { return checked(*this, "numel").numel; }
std::size_t Tensor::size(std::ptrdiff_t axis) const {
  std::ptrdiff_t d = static_cast<std::ptrdiff_t>(dim());
  std::ptrdiff_t a = axis < 0 ? axis + d : axis;
  if (a < 0 || a >= d)
    fail("size: axis " + std::to_string(axis) + " is out of range for " + describe(*this));
  return shape()[static_cast<std::size_t>(a)];
}

bool Tensor::requires_grad() const { return impl_ && impl_->requires_grad; }
Tensor& Tensor::requires_grad_(bool on) {
  TensorImpl& t = checked(*this, "requires_grad_");
  if (on && !is_floating(t.dtype))
    fail("requires_grad_: only float32 and float64 tensors can require gradients, got " +
         describe(*this));
  if (t.grad_fn)
    fail("requires_grad_: " + describe(*this) + " is the result of '" + t.grad_fn->op->name +
         "', not a leaf; use detach() to make a leaf");
  t.requires_grad = on;
  return *this;
}
bool Tensor::is_leaf() const { return !checked(*this, "is_leaf").grad_fn; }
Tensor Tensor::grad() const { return checked(*this, "grad").grad; }
void Tensor::zero_grad() { checked(*this, "zero_grad").grad = Tensor(); }

Tensor Tensor::detach() const { return alias(*this, shape()); }

const std::string& Tensor::name() const { return checked(*this, "name").name; }
Tensor& Tensor::set_name(std::string n) {
  checked(*this, "set_name").name = std::move(n);
  return *this;
}

template <class T>
constexpr Dtype dtype_of = std::is_same_v<T, float> ? float32 : std::is_same_v<T, double> ? float64 : int64;
[[noreturn]] __attribute__((noinline, cold)) static void fail_ptr_type(const Tensor& t, Dtype want) {
  checked(t, "data_ptr");
  fail(std::string("data_ptr: asked for ") + dtype_name(want) + " data of " + describe(t));
}
template <class T> T* Tensor::data_ptr() {
  if (__builtin_expect(!impl_ || impl_->dtype != dtype_of<T>, 0)) fail_ptr_type(*this, dtype_of<T>);
  return static_cast<T*>(impl_->data());
}
template <class T> const T* Tensor::data_ptr() const {
  if (__builtin_expect(!impl_ || impl_->dtype != dtype_of<T>, 0)) fail_ptr_type(*this, dtype_of<T>);
  return static_cast<const T*>(impl_->data());
}
template float* Tensor::data_ptr<float>();
template double* Tensor::data_ptr<double>();
template std::int64_t* Tensor::data_ptr<std::int64_t>();
template const float* Tensor::data_ptr<float>() const;
template const double* Tensor::data_ptr<double>() const;
template const std::int64_t* Tensor::data_ptr<std::int64_t>() const;

static double element(const Tensor& t, std::size_t i) {
  const void* p = t.impl()->data();
  switch (t.dtype()) {
    case Dtype::Float32: return static_cast<const float*>(p)[i];
    case Dtype::Float64: return static_cast<const double*>(p)[i];
    case Dtype::Int64: return static_cast<double>(static_cast<const std::int64_t*>(p)[i]);
  }
  return 0;
}

double Tensor::item() const {
  if (numel() != 1)
    fail("item: needs a one-element tensor, got " + describe(*this) + " (" +
         std::to_string(numel()) + " elements)");
  return element(*this, 0);
}

std::vector<double> Tensor::to_vector() const {
  std::vector<double> v(numel());
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = element(*this, i);
  return v;
}

template <class T> T Tensor::item() const { return static_cast<T>(item()); }
template <class T> std::vector<T> Tensor::to_vector() const {
  checked(*this, "to_vector");
  std::vector<T> v(numel());
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<T>(element(*this, i));
  return v;
}
template float Tensor::item<float>() const;
template double Tensor::item<double>() const;
template std::int64_t Tensor::item<std::int64_t>() const;
template std::vector<float> Tensor::to_vector<float>() const;
template std::vector<double> Tensor::to_vector<double>() const;
template std::vector<std::int64_t> Tensor::to_vector<std::int64_t>() const;

namespace {
// Nested brackets, one level per dimension, continuation rows aligned under the first one (as
// PyTorch prints them: one newline between rows, two between matrices). More than 8 entries
// along an axis show the first and last 3: "..." inline within a row, on its own line between
// rows.
struct Printer {
  const std::vector<double>& v;
  const Shape& s;
  int precision;
  std::size_t indent;  // the width of "tensor("
  std::vector<std::size_t> stride = std::vector<std::size_t>(s.size(), 1);
  std::string out;

  void rec(std::size_t d, std::size_t off) {
    if (d == s.size()) {
      std::ostringstream e;
      e << std::setprecision(precision) << v[off];
      out += e.str();
      return;
    }
    bool innermost = d + 1 == s.size();
    std::string sep = innermost ? ", "
                                : "," + std::string(s.size() - d - 1, '\n') +
                                      std::string(indent + d + 1, ' ');
    out += "[";
    std::size_t n = s[d];
    for (std::size_t i = 0; i < n; ++i) {
      if (n > 8 && i == 3) {
        out += "..." + sep;
        i = n - 3;
      }
      rec(d + 1, off + i * stride[d]);
      if (i + 1 < n) out += sep;
    }
    out += "]";
  }
};
}  // namespace

std::string Tensor::str() const {
  if (!defined()) return "tensor(undefined)";
  const Shape& s = shape();
  std::vector<double> v = to_vector();
  Printer p{v, s, dtype() == float32 ? 6 : 10, std::string("tensor(").size(),
            std::vector<std::size_t>(s.size(), 1), std::string()};
  for (std::size_t k = s.size(); k-- > 1;) p.stride[k - 1] = p.stride[k] * s[k];
  p.rec(0, 0);
  std::ostringstream os;
  os << "tensor(" << p.out << ", shape=" << shape_str(s) << ", dtype=" << dtype_name(dtype());
  if (requires_grad()) os << ", requires_grad";
  if (!name().empty()) os << ", name='" << name() << "'";
  os << ")";
  return os.str();
}

std::ostream& operator<<(std::ostream& os, const Tensor& t) { return os << t.str(); }

// ---- in-place updates ----------------------------------------------------------------------
std::uint64_t Tensor::version() const { return checked(*this, "version").storage->version; }
void Tensor::bump_version() { ++checked(*this, "bump_version").storage->version; }

static void check_inplace(const Tensor& t, const char* op) {
  TensorImpl& impl = checked(t, op);
  if (impl.requires_grad && is_grad_enabled())
    fail(std::string(op) + ": " + describe(t) +
         " requires grad; in-place updates of it must run under ag::NoGradGuard");
  if (!is_floating(impl.dtype) && std::string(op) != "copy_" && std::string(op) != "fill_")
    fail(std::string(op) + ": arithmetic on int64 tensors is not supported, got " + describe(t));
}

static void check_same_numel(const Tensor& t, const Tensor& o, const char* op) {
  checked(o, op);
  if (t.shape() != o.shape())
    fail(std::string(op) + ": shapes " + shape_str(t.shape()) + " and " + shape_str(o.shape()) +
         " differ (" + describe(t) + ", " + describe(o) + ")");
}

Tensor& Tensor::add_(const Tensor& other, double alpha) {
  check_inplace(*this, "add_");
  check_same_numel(*this, other, "add_");
  Tensor src = other.dtype() == dtype() ? other : other.detach().to(dtype());
  kernels::axpy(alpha, src, *this);
  bump_version();
  return *this;
}
Tensor& Tensor::mul_(const Tensor& other) {
  check_inplace(*this, "mul_");
  check_same_numel(*this, other, "mul_");
  Tensor src = other.dtype() == dtype() ? other : other.detach().to(dtype());
  kernels::binary(kernels::Binary::Mul, *this, src, *this);
  bump_version();
  return *this;
}
Tensor& Tensor::add_(double value) {
  check_inplace(*this, "add_");
  kernels::unary(kernels::Unary::AddScalar, *this, *this, value);
  bump_version();
  return *this;
}
Tensor& Tensor::mul_(double value) {
  check_inplace(*this, "mul_");
  kernels::scale(*this, value);
  bump_version();
  return *this;
}
Tensor& Tensor::copy_(const Tensor& src) {
  check_inplace(*this, "copy_");
  check_same_numel(*this, src, "copy_");
  if (dtype() == int64) check_int64_values("copy_", src);
  if (src.dtype() == dtype())
    std::memcpy(impl_->data(), src.impl()->data(), numel() * dtype_size(dtype()));
  else
    kernels::cast(src, *this);
  bump_version();
  return *this;
}
Tensor& Tensor::fill_(double value) {
  check_inplace(*this, "fill_");
  if (dtype() == int64) check_int64_value("fill_", value);
  kernels::fill(*this, value);
  bump_version();
  return *this;
}

// ---- creation ------------------------------------------------------------------------------
Tensor empty(Shape shape, Dtype dtype) { return make_tensor(std::move(shape), dtype, "empty"); }

static Tensor filled(const char* op, Shape shape, double value, Dtype dtype) {
  if (dtype == int64) check_int64_value(op, value);
  Tensor t = make_tensor(std::move(shape), dtype, op);
  kernels::fill(t, value);
  return t;
}
Tensor full(Shape shape, double value, Dtype dtype) { return filled("full", std::move(shape), value, dtype); }
Tensor zeros(Shape shape, Dtype dtype) { return filled("zeros", std::move(shape), 0, dtype); }
Tensor ones(Shape shape, Dtype dtype) { return filled("ones", std::move(shape), 1, dtype); }
Tensor zeros_like(const Tensor& t) { return zeros(t.shape(), t.dtype()); }
Tensor ones_like(const Tensor& t) { return ones(t.shape(), t.dtype()); }
Tensor scalar(double value, Dtype dtype) { return filled("scalar", {}, value, dtype); }

static void store(Tensor& t, std::size_t i, double v) {
  void* p = t.impl()->data();
  switch (t.dtype()) {
    case Dtype::Float32: static_cast<float*>(p)[i] = static_cast<float>(v); break;
    case Dtype::Float64: static_cast<double*>(p)[i] = v; break;
    case Dtype::Int64: static_cast<std::int64_t*>(p)[i] = static_cast<std::int64_t>(v); break;
  }
}

Tensor tensor(std::vector<double> values, Shape shape, Dtype dtype) {
  const std::size_t n = checked_numel("tensor", shape);
  if (n != values.size())
    fail("tensor: " + std::to_string(values.size()) + " values do not fill shape " +
         shape_str(shape) + " (" + std::to_string(n) + " elements)");
  if (dtype == int64)
    for (double v : values) check_int64_value("tensor", v);
  Tensor t = make_tensor(std::move(shape), dtype, "tensor");
  for (std::size_t i = 0; i < values.size(); ++i) store(t, i, values[i]);
  return t;
}
template <class T, std::enable_if_t<std::is_same_v<T, float> || std::is_same_v<T, std::int64_t>,
                                    int>>
Tensor tensor(const std::vector<T>& values, Shape shape) {
  Dtype dtype = std::is_same_v<T, float> ? float32 : int64;
  const std::size_t n = checked_numel("tensor", shape);
  if (n != values.size())
    fail("tensor: " + std::to_string(values.size()) + " values do not fill shape " +
         shape_str(shape) + " (" + std::to_string(n) + " elements)");
  Tensor t = make_tensor(std::move(shape), dtype, "tensor");
  if (!values.empty()) std::memcpy(t.impl()->data(), values.data(), values.size() * sizeof(T));
  return t;
}
template Tensor tensor<float>(const std::vector<float>&, Shape);
template Tensor tensor<std::int64_t>(const std::vector<std::int64_t>&, Shape);

Tensor tensor(std::initializer_list<double> values) {
  return tensor(std::vector<double>(values), Shape{values.size()});
}
Tensor tensor(std::initializer_list<std::initializer_list<double>> rows) {
  std::vector<double> v;
  std::size_t cols = rows.size() ? rows.begin()->size() : 0, r = 0;
  for (const auto& row : rows) {
    if (row.size() != cols)
      fail("tensor: row " + std::to_string(r) + " has " + std::to_string(row.size()) +
           " values, row 0 has " + std::to_string(cols));
    v.insert(v.end(), row.begin(), row.end());
    ++r;
  }
  return tensor(std::move(v), Shape{rows.size(), cols});
}

Tensor arange(double start, double stop, double step, Dtype dtype) {
  if (step == 0 || !std::isfinite(start) || !std::isfinite(stop) || !std::isfinite(step))
    fail("arange: needs finite start, stop and a non-zero step, got " + std::to_string(start) +
         ", " + std::to_string(stop) + ", " + std::to_string(step));
  // (stop - start) / step may overflow to inf, and a count past 2^63 cannot be converted.
  const double count = std::ceil((stop - start) / step);
  if (!(count < 0x1p63))
    fail("arange: [" + std::to_string(start) + ", " + std::to_string(stop) + ") in steps of " +
         std::to_string(step) + " has too many elements (" + std::to_string(count) + ")");
  std::size_t n = count > 0 ? static_cast<std::size_t>(count) : 0;
  if (dtype == int64 && n > 0) {  // the values run monotonically from the first to the last
    check_int64_value("arange", start);
    check_int64_value("arange", start + static_cast<double>(n - 1) * step);
  }
  Tensor t = make_tensor({n}, dtype, "arange");
  for (std::size_t i = 0; i < n; ++i) store(t, i, start + static_cast<double>(i) * step);
  return t;
}

Tensor eye(std::size_t n, Dtype dtype) {
  Tensor t = filled("eye", {n, n}, 0, dtype);
  for (std::size_t i = 0; i < n; ++i) store(t, i * n + i, 1);
  return t;
}

// ---- the global generator ------------------------------------------------------------------
namespace {
struct Generator {
  std::mutex mutex;
  std::mt19937_64 engine{5489u};
};
Generator& generator() {
  static Generator g;
  return g;
}
}  // namespace

void manual_seed(std::uint64_t seed) {
  std::lock_guard<std::mutex> lock(generator().mutex);
  generator().engine.seed(seed);
}
std::uint64_t random_u64() {
  std::lock_guard<std::mutex> lock(generator().mutex);
  return generator().engine();
}
// 53 random bits: uniform on [0, 1), the same numbers on every platform (unlike
// std::uniform_real_distribution, whose algorithm is implementation-defined).
static double uniform_locked(std::mt19937_64& e) { return static_cast<double>(e() >> 11) * 0x1.0p-53; }
double random_uniform() {
  std::lock_guard<std::mutex> lock(generator().mutex);
  return uniform_locked(generator().engine);
}
// Box-Muller, one value per call: portable and repeatable.
static double normal_locked(std::mt19937_64& e) {
  double u1 = uniform_locked(e), u2 = uniform_locked(e);
  return std::sqrt(-2.0 * std::log1p(-u1)) * std::cos(6.283185307179586 * u2);
}
double random_normal() {
  std::lock_guard<std::mutex> lock(generator().mutex);
  return normal_locked(generator().engine);
}

static void check_float(Dtype dtype, const char* op) {
  if (!is_floating(dtype))
    fail(std::string(op) + ": needs a float dtype (float32 or float64), got int64");
}
Tensor rand(Shape shape, Dtype dtype) {
  check_float(dtype, "rand");
  Tensor t = make_tensor(std::move(shape), dtype, "rand");
  std::lock_guard<std::mutex> lock(generator().mutex);
  for (std::size_t i = 0; i < t.numel(); ++i) store(t, i, uniform_locked(generator().engine));
  return t;
}
Tensor randn(Shape shape, Dtype dtype) {
  check_float(dtype, "randn");
  Tensor t = make_tensor(std::move(shape), dtype, "randn");
  std::lock_guard<std::mutex> lock(generator().mutex);
  for (std::size_t i = 0; i < t.numel(); ++i) store(t, i, normal_locked(generator().engine));
  return t;
}

// ---- methods that mirror the free functions ------------------------------------------------
Tensor Tensor::add(const Tensor& o) const { return ag::add(*this, o); }
Tensor Tensor::sub(const Tensor& o) const { return ag::sub(*this, o); }
Tensor Tensor::mul(const Tensor& o) const { return ag::mul(*this, o); }
Tensor Tensor::div(const Tensor& o) const { return ag::div(*this, o); }
Tensor Tensor::neg() const { return ag::neg(*this); }
Tensor Tensor::pow(double p) const { return ag::pow(*this, p); }
Tensor Tensor::exp() const { return ag::exp(*this); }
Tensor Tensor::log() const { return ag::log(*this); }
Tensor Tensor::sqrt() const { return ag::sqrt(*this); }
Tensor Tensor::abs() const { return ag::abs(*this); }
Tensor Tensor::sin() const { return ag::sin(*this); }
Tensor Tensor::cos() const { return ag::cos(*this); }
Tensor Tensor::tanh() const { return ag::tanh(*this); }
Tensor Tensor::sigmoid() const { return ag::sigmoid(*this); }
Tensor Tensor::relu() const { return ag::relu(*this); }
Tensor Tensor::leaky_relu(double slope) const { return ag::leaky_relu(*this, slope); }
Tensor Tensor::softplus() const { return ag::softplus(*this); }
Tensor Tensor::clamp(double lo, double hi) const { return ag::clamp(*this, lo, hi); }
Tensor Tensor::maximum(const Tensor& o) const { return ag::maximum(*this, o); }
Tensor Tensor::minimum(const Tensor& o) const { return ag::minimum(*this, o); }
Tensor Tensor::step() const { return ag::step(*this); }
Tensor Tensor::sum() const { return ag::sum(*this); }
Tensor Tensor::sum(const Axes& axes, bool keepdim) const { return ag::sum(*this, axes, keepdim); }
Tensor Tensor::mean() const { return ag::mean(*this); }
Tensor Tensor::mean(const Axes& axes, bool keepdim) const { return ag::mean(*this, axes, keepdim); }
Tensor Tensor::max(std::ptrdiff_t axis, bool keepdim) const { return ag::max(*this, axis, keepdim); }
Tensor Tensor::norm(double p) const { return ag::norm(*this, p); }
Tensor Tensor::norm(double p, const Axes& axes, bool keepdim) const {
  return ag::norm(*this, p, axes, keepdim);
}
Tensor Tensor::where(const Tensor& cond, const Tensor& other) const {
  return ag::where(cond, *this, other);
}
Tensor Tensor::min(std::ptrdiff_t axis, bool keepdim) const { return ag::min(*this, axis, keepdim); }
Tensor Tensor::logsumexp(std::ptrdiff_t axis, bool keepdim) const {
  return ag::logsumexp(*this, axis, keepdim);
}
Tensor Tensor::argmax(std::ptrdiff_t axis) const { return ag::argmax(*this, axis); }
Tensor Tensor::matmul(const Tensor& o) const { return ag::matmul(*this, o); }
Tensor Tensor::t() const { return ag::t(*this); }
Tensor Tensor::transpose(std::ptrdiff_t a0, std::ptrdiff_t a1) const {
  return ag::transpose(*this, a0, a1);
}
Tensor Tensor::reshape(const Shape& s) const { return ag::reshape(*this, s); }
Tensor Tensor::flatten() const { return ag::flatten(*this); }
Tensor Tensor::squeeze(std::ptrdiff_t axis) const { return ag::squeeze(*this, axis); }
Tensor Tensor::unsqueeze(std::ptrdiff_t axis) const { return ag::unsqueeze(*this, axis); }
Tensor Tensor::broadcast_to(const Shape& s) const { return ag::broadcast_to(*this, s); }
Tensor Tensor::slice(std::ptrdiff_t axis, std::size_t start, std::size_t stop) const {
  return ag::slice(*this, axis, start, stop);
}
Tensor Tensor::select(std::ptrdiff_t axis, std::int64_t index) const {
  return ag::select(*this, axis, index);
}
Tensor Tensor::index_select(std::ptrdiff_t axis, const std::vector<std::size_t>& index) const {
  return ag::index_select(*this, axis, index);
}
Tensor Tensor::var(const Axes& axes, std::int64_t correction, bool keepdim) const {
  return ag::var(*this, axes, correction, keepdim);
}
Tensor Tensor::stddev(const Axes& axes, std::int64_t correction, bool keepdim) const {
  return ag::stddev(*this, axes, correction, keepdim);
}
Tensor Tensor::softmax(std::ptrdiff_t axis) const { return ag::softmax(*this, axis); }
Tensor Tensor::log_softmax(std::ptrdiff_t axis) const { return ag::log_softmax(*this, axis); }

}  // namespace ag
