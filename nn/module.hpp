// ag::nn::Module: a node in a tree of layers that owns named parameters and named children.
// Modules are held by std::shared_ptr, as in LibTorch's C++ frontend.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <autograd/export.hpp>
#include <autograd/tensor.hpp>

AG_API_BEGIN
namespace ag::nn {

class Module {
 public:
  Module() = default;
  virtual ~Module() = default;
  Module(const Module&) = delete;  // parameters are shared handles: a copy would alias them
  Module& operator=(const Module&) = delete;

  // The computation. The base version throws: a module used as a plain container has none.
  virtual Tensor forward(const Tensor& x);
  // Runs forward inside an ag::ScopeGuard, so graph dumps group this module's ops together.
  // The scope is "<registered name> (<type_name()>)", e.g. "0 (Linear)", or just type_name()
  // for a module that is nobody's child; nested modules join with '.': "1 (Sequential).0 (Linear)".
  Tensor operator()(const Tensor& x);

  // "Linear", "Sequential", ...; for user modules the C++ class name without its namespaces.
  virtual std::string type_name() const;

  // Own parameters first, in registration order, then each child's with "<child>." in front.
  // A tensor registered twice (shared weights) is listed once, under its first name.
  std::vector<Tensor> parameters() const;
  std::vector<std::pair<std::string, Tensor>> named_parameters() const;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> named_children() const { return children_; }
  std::size_t num_parameters() const;  // total element count

  void zero_grad();
  void train(bool on = true);  // recursive, as in PyTorch
  void eval() { train(false); }
  bool is_training() const { return training_; }

  // Converts every parameter to `dtype` in place: handles held elsewhere (an optimizer's, a
  // layer's own members) see the new dtype. Gradients are dropped.
  void to(Dtype dtype);

  // Weights as .npz (see nn/serialize.cpp for the exact format); NumPy's np.load reads them.
  void save(const std::string& path) const;
  // Checks every name, shape and dtype against this module before changing anything.
  void load(const std::string& path);

 protected:
  // Registers `t` under `name` (no '.', unique in this module) and makes it require grad.
  Tensor register_parameter(std::string name, Tensor t);
  template <class M>
  std::shared_ptr<M> register_module(std::string name, std::shared_ptr<M> module) {
    register_child(std::move(name), module);
    return module;
  }

 private:
  void register_child(std::string name, std::shared_ptr<Module> module);
  void collect(const std::string& prefix, std::vector<std::pair<std::string, Tensor>>& out,
               std::vector<const void*>& seen) const;

  std::vector<std::pair<std::string, Tensor>> params_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
  std::string scope_name_;  // the name this module was registered under in its parent
  bool training_ = true;
};

}  // namespace ag::nn
AG_API_END
