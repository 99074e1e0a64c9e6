// Custom differentiable functions with a hand-written backward, shaped like LibTorch's
// torch::autograd::Function so that code written for it ports by renaming:
//
//   struct Cube : ag::Function<Cube> {
//     static Tensor forward(ag::AutogradContext* ctx, Tensor x) {
//       ctx->save_for_backward({x});
//       return x * x * x;                       // ops inside forward are not recorded
//     }
//     static std::vector<Tensor> backward(ag::AutogradContext* ctx, std::vector<Tensor> grads) {
//       Tensor x = ctx->get_saved_variables()[0];
//       return {grads[0] * 3.0 * x * x};         // ag ops: create_graph differentiates this too
//     }
//   };
//   Tensor y = Cube::apply(x);
//
// apply runs forward with grad mode off, then (when grad mode is on and a Tensor argument
// requires grad) records one node whose backward calls T::backward. The node goes through the
// engine like a built-in op, so retain_graph, ag::grad, create_graph, anomaly mode, hooks and
// graph dumps work unchanged; dumps and traces show the function's name and "custom backward".
//
// - forward takes the context, then any mix of Tensors and plain values (double, int, bool,
//   Shape, strings, ...), and returns one Tensor or a std::vector<Tensor>.
// - backward gets one gradient per output (zeros for outputs that received none, and for
//   non-differentiable outputs: PyTorch's materialized gradients) and returns one entry per
//   forward argument: an undefined Tensor() for plain values and for inputs that need none.
//   Each gradient must have its input's shape and dtype; anything else throws ag::Error naming
//   the function, the argument and both shapes.
// - The name is `static constexpr const char* name` of T if it has one, else T's type name.
// - Several differentiable outputs must share one dtype: they are recorded as views of one
//   packed tensor, so dumps show them as slices of the function's node.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <type_traits>
#include <typeinfo>
#include <utility>
#include <variant>
#include <vector>

#include <autograd/export.hpp>
#include <autograd/engine.hpp>
#include <autograd/export.hpp>
#include <autograd/tensor.hpp>

AG_API_BEGIN
namespace ag {

/// A plain value kept for backward in AutogradContext::saved_data: double, int64, bool, string,
/// Shape or a vector of doubles. Reading it as another type throws ag::Error.
class SavedValue {
 public:
  SavedValue() = default;  ///< empty: defined() is false
  /// Any floating-point value, kept as a double.
  template <class F, std::enable_if_t<std::is_floating_point_v<F>, int> = 0>
  SavedValue(F v) : v_(static_cast<double>(v)) {}
  /// Any integer but bool, kept as an int64.
  template <class I, std::enable_if_t<std::is_integral_v<I> && !std::is_same_v<I, bool>, int> = 0>
  SavedValue(I v) : v_(static_cast<std::int64_t>(v)) {}
  SavedValue(bool v) : v_(v) {}                                ///< a bool
  SavedValue(std::string v) : v_(std::move(v)) {}              ///< a string
  SavedValue(const char* v) : v_(std::string(v)) {}            ///< a string (copied)
  SavedValue(Shape v) : v_(std::move(v)) {}                    ///< a Shape
  SavedValue(std::vector<double> v) : v_(std::move(v)) {}      ///< a vector of doubles

  bool defined() const { return v_.index() != 0; }  ///< whether it holds a value
  double to_double() const;  ///< also reads an int64
  std::int64_t to_int() const;                    ///< the int64 (Error for another type)
  bool to_bool() const;                           ///< the bool (Error for another type)
  const std::string& to_string() const;           ///< the string (Error for another type)
  const Shape& to_shape() const;                  ///< the Shape (Error for another type)
  const std::vector<double>& to_doubles() const;  ///< the doubles (Error for another type)
  /// LibTorch's IValue spellings.
  double toDouble() const { return to_double(); }
  std::int64_t toInt() const { return to_int(); }                  ///< to_int()
  bool toBool() const { return to_bool(); }                        ///< to_bool()
  const std::string& toStringRef() const { return to_string(); }  ///< to_string()

 private:
  std::variant<std::monostate, double, std::int64_t, bool, std::string, Shape, std::vector<double>>
      v_;
};

class AutogradContext;
/// The type-erased backward a custom node calls (Function<T> passes T::backward's wrapper).
using CustomBackwardFn = std::vector<Tensor> (*)(AutogradContext*, std::vector<Tensor>);
namespace detail {
struct CustomAccess;  ///< autograd/function.cpp: apply's second half and the node's backward
}

/// What a custom Function's forward hands to its backward: saved tensors (version-checked),
/// plain values in saved_data, and which inputs need a gradient.
class AutogradContext {
 public:
  /// Tensors backward needs. Each is checked against its version counter when read back, so an
  /// in-place change after the forward throws, with the message built-in ops give.
  void save_for_backward(std::vector<Tensor> tensors);
  std::vector<Tensor> get_saved_variables() const;  ///< what save_for_backward got, checked
  std::map<std::string, SavedValue> saved_data;     ///< plain values for backward, by name
  /// These outputs get no gradient (and do not require grad); int64 outputs never do.
  void mark_non_differentiable(const std::vector<Tensor>& outputs);
  /// Whether forward argument i is a Tensor that requires grad (with grad mode on).
  bool needs_input_grad(std::size_t i) const;
  const std::string& name() const { return name_; }  ///< the Function's display name

 private:
  friend struct detail::CustomAccess;
  struct Saved {
    Tensor value;                  ///< detached alias when it is a differentiable output
    std::uint64_t version = 0;
    std::weak_ptr<TensorImpl> live;  ///< the recorded output it stands for, if any
  };
  struct Output {
    Shape shape;
    Dtype dtype = float32;
    std::size_t offset = 0;  ///< in the packed tensor, when there are several
    bool differentiable = false;
  };
  std::string name_;
  CustomBackwardFn backward_ = nullptr;
  std::vector<bool> is_tensor_, needs_grad_;
  std::vector<Saved> saved_;
  std::vector<const TensorImpl*> non_differentiable_;
  std::vector<Output> outputs_;
  bool packed_ = false, released_ = false;
};

namespace detail {
std::string demangle(const char* mangled);
[[noreturn]] void rethrow_in_forward(const std::string& name, const Error& e);
std::shared_ptr<AutogradContext> begin_custom(const std::string& name, CustomBackwardFn backward,
                                              std::vector<Tensor>& tensors,
                                              std::vector<bool> is_tensor);
std::vector<Tensor> finish_custom(const std::shared_ptr<AutogradContext>& ctx,
                                  const std::vector<Tensor>& tensors, std::vector<Tensor> outputs);

template <class T, class = void>
struct has_name : std::false_type {};
template <class T>
struct has_name<T, std::void_t<decltype(T::name)>> : std::true_type {};

template <class T>
std::string function_name() {
  if constexpr (has_name<T>::value)
    return T::name;
  else
    return demangle(typeid(T).name());
}

inline void note_arg(std::vector<Tensor>& tensors, std::vector<bool>& is_tensor, const Tensor& t) {
  tensors.push_back(t);
  is_tensor.push_back(true);
}
template <class A>
void note_arg(std::vector<Tensor>&, std::vector<bool>& is_tensor, const A&) {
  static_assert(!std::is_same_v<std::decay_t<A>, std::vector<Tensor>>,
                "ag::Function: pass tensors as separate Tensor arguments, not a std::vector");
  is_tensor.push_back(false);
}
}  // namespace detail

/// The base of a custom differentiable function T with static forward and backward (CRTP, as
/// LibTorch's torch::autograd::Function; the file's comment has an example).
template <class T>
struct Function {
  /// Runs T::forward(ctx, args...) without recording and records one node calling T::backward.
  template <class... Args>
  static auto apply(Args&&... args) {
    using Out = decltype(T::forward(std::declval<AutogradContext*>(), std::forward<Args>(args)...));
    static_assert(std::is_same_v<Out, Tensor> || std::is_same_v<Out, std::vector<Tensor>>,
                  "ag::Function: forward must return a Tensor or a std::vector<Tensor>");
    std::vector<Tensor> tensors;
    std::vector<bool> is_tensor;
    (detail::note_arg(tensors, is_tensor, args), ...);
    std::shared_ptr<AutogradContext> ctx =
        detail::begin_custom(display_name(), &call_backward, tensors, std::move(is_tensor));
    std::vector<Tensor> outputs;
    try {
      NoGradGuard no_grad;
      if constexpr (std::is_same_v<Out, Tensor>)
        outputs.push_back(T::forward(ctx.get(), std::forward<Args>(args)...));
      else
        outputs = T::forward(ctx.get(), std::forward<Args>(args)...);
    } catch (const Error& e) {
      detail::rethrow_in_forward(display_name(), e);
    }
    outputs = detail::finish_custom(ctx, tensors, std::move(outputs));
    if constexpr (std::is_same_v<Out, Tensor>)
      return outputs[0];
    else
      return outputs;
  }

  /// T::name if T defines it, else T's type name (not called `name`: T may define that).
  static const std::string& display_name() {
    static const std::string n = detail::function_name<T>();
    return n;
  }

 private:
  static std::vector<Tensor> call_backward(AutogradContext* ctx, std::vector<Tensor> grads) {
    using R = decltype(T::backward(ctx, std::move(grads)));
    if constexpr (std::is_same_v<R, Tensor>)
      return {T::backward(ctx, std::move(grads))};
    else
      return T::backward(ctx, std::move(grads));
  }
};

}  // namespace ag
AG_API_END
