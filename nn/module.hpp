// ag::nn::Module: a node in a tree of layers that owns named parameters and named children.
// Modules are held by std::shared_ptr, as in LibTorch's C++ frontend.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <autograd/engine.hpp>
#include <autograd/export.hpp>
#include <autograd/tensor.hpp>

AG_API_BEGIN
namespace ag::nn {

/// The base of every layer: named parameters, buffers and child modules, train/eval mode, dtype
/// conversion and .npz save/load. Subclasses register what they own in their constructor.
class Module {
 public:
  Module() = default;
  virtual ~Module() = default;
  Module(const Module&) = delete;  ///< parameters are shared handles: a copy would alias them
  Module& operator=(const Module&) = delete;

  /// The computation. The base version throws: a module used as a plain container has none.
  virtual Tensor forward(const Tensor& x);
  /// Runs forward inside an ag::ScopeGuard, so graph dumps group this module's ops together.
  /// The scope is "<registered name> (<type_name()>)", e.g. "0 (Linear)", or just type_name()
  /// for a module that is nobody's child; nested modules join with '.': "1 (Sequential).0 (Linear)".
  Tensor operator()(const Tensor& x);

  /// "Linear", "Sequential", ...; for user modules the C++ class name without its namespaces.
  virtual std::string type_name() const;
  /// The graph-dump scope operator() enters: "<registered name> (<type_name()>)" or type_name().
  std::string scope_label() const;

  /// Own parameters first, in registration order, then each child's with "<child>." in front.
  /// A tensor registered twice (shared weights) is listed once, under its first name.
  std::vector<Tensor> parameters() const;
  std::vector<std::pair<std::string, Tensor>> named_parameters() const;  ///< with dotted names
  /// The direct children, in registration order, with the names they were registered under.
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> named_children() const {
    return children_;
  }
  std::size_t num_parameters() const;  ///< total element count

  /// Buffers: state that is saved, loaded and converted by to() with the weights but is not
  /// trained (BatchNorm's running statistics). Any dtype; never requires grad. Named and ordered
  /// like parameters: own first, then each child's with "<child>." in front.
  Tensor register_buffer(std::string name, Tensor t);
  std::vector<Tensor> buffers() const;  ///< own buffers, then each child's
  std::vector<std::pair<std::string, Tensor>> named_buffers() const;  ///< with dotted names

  void zero_grad();  ///< drops the gradient of every parameter, recursively
  void train(bool on = true);  ///< recursive, as in PyTorch
  void eval() { train(false); }  ///< train(false): Dropout off, BatchNorm uses running stats
  bool is_training() const { return training_; }  ///< true unless eval() or train(false)

  /// Converts every parameter and every floating buffer to `dtype` in place (int64 buffers such
  /// as num_batches_tracked stay): handles held elsewhere (an optimizer's, a layer's own members)
  /// see the new dtype. Gradients are dropped.
  void to(Dtype dtype);

  /// Parameters, then buffers, as .npz (see nn/serialize.cpp for the exact format); NumPy's
  /// np.load reads them.
  void save(const std::string& path) const;
  /// Checks every name, shape and dtype against this module before changing anything.
  void load(const std::string& path);

 protected:
  /// Registers `t` under `name` (no '.', unique in this module) and makes it require grad.
  Tensor register_parameter(std::string name, Tensor t);
  /// Registers module as the child `name` (no '.', unique here) and returns it, as LibTorch does.
  template <class M>
  std::shared_ptr<M> register_module(std::string name, std::shared_ptr<M> module) {
    register_child(std::move(name), module);
    return module;
  }

 private:
  void register_child(std::string name, std::shared_ptr<Module> module);
  using Named = std::vector<std::pair<std::string, Tensor>>;
  void collect(Named Module::*which, const std::string& prefix, Named& out,
               std::vector<const void*>& seen) const;
  void check_new_name(const char* what, const std::string& name) const;

  Named params_, buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
  std::string scope_name_;  ///< the name this module was registered under in its parent
  bool training_ = true;
};

/// A module whose forward takes and returns whatever it likes, as in LibTorch:
///   struct Attention : nn::TypedModule<Attention> {
///     Tensor forward(const Tensor& x, const Tensor& mask);
///   };
///   Tensor y = (*attention)(x, mask);
/// operator() forwards every argument to Derived::forward inside the module's graph-dump scope
/// and returns its result (a Tensor, a std::vector<Tensor>, a std::pair ...). A Derived that also
/// overrides the one-Tensor forward works inside Sequential like any other module.
template <class Derived>
class TypedModule : public Module {
 public:
  /// Derived::forward(args...) inside this module's graph-dump scope.
  template <class... Args>
  decltype(auto) operator()(Args&&... args) {
    ScopeGuard guard(scope_label());
    return static_cast<Derived&>(*this).forward(std::forward<Args>(args)...);
  }
};

}  // namespace ag::nn
AG_API_END
