#include <nn/module.hpp>

#include <cxxabi.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <typeinfo>

#include <autograd/detail/impl.hpp>
#include <autograd/engine.hpp>

namespace ag::nn {

namespace {

void check_name(const std::string& what, const std::string& owner, const std::string& name) {
  if (name.empty() || name.find('.') != std::string::npos)
    throw Error(what + ": name '" + name + "' in " + owner +
                " must be non-empty and contain no '.' (dots join nested names)");
}

}  // namespace

Tensor Module::forward(const Tensor&) {
  throw Error("Module::forward: " + type_name() + " does not define forward()");
}

std::string Module::scope_label() const {
  return scope_name_.empty() ? type_name() : scope_name_ + " (" + type_name() + ")";
}

Tensor Module::operator()(const Tensor& x) {
  ScopeGuard guard(scope_label());
  return forward(x);
}

std::string Module::type_name() const {
  const char* mangled = typeid(*this).name();
  int status = 0;
  char* demangled = abi::__cxa_demangle(mangled, nullptr, nullptr, &status);
  std::string name = status == 0 && demangled ? demangled : mangled;
  std::free(demangled);
  // "ns::Net" -> "Net"; template arguments (rare here) are kept whole.
  const auto angle = name.find('<');
  const auto colon = name.rfind("::", angle);
  if (colon != std::string::npos) name = name.substr(colon + 2);
  return name;
}

Tensor Module::register_parameter(std::string name, Tensor t) {
  check_name("register_parameter", type_name(), name);
  if (!t.defined())
    throw Error("register_parameter: tensor '" + name + "' in " + type_name() + " is undefined");
  if (!is_floating(t.dtype()))
    throw Error("register_parameter: '" + name + "' in " + type_name() + " has dtype " +
                dtype_name(t.dtype()) + "; parameters must be float32 or float64");
  if (!t.is_leaf())
    throw Error("register_parameter: '" + name + "' in " + type_name() +
                " is the result of an op; register a leaf (use detach())");
  check_new_name("register_parameter", name);
  if (!t.requires_grad()) t.requires_grad_(true);
  if (t.name().empty()) t.set_name(name);
  params_.emplace_back(std::move(name), t);
  return t;
}

// Parameters and buffers share one namespace per module: both become "<name>.npy" in a file.
void Module::check_new_name(const char* what, const std::string& name) const {
  auto taken = [&](const Named& list, const char* kind) {
    for (const auto& entry : list)
      if (entry.first == name)
        throw Error(std::string(what) + ": " + type_name() + " already has a " + kind + " '" +
                    name + "'");
  };
  taken(params_, "parameter");
  taken(buffers_, "buffer");
}

Tensor Module::register_buffer(std::string name, Tensor t) {
  check_name("register_buffer", type_name(), name);
  if (!t.defined())
    throw Error("register_buffer: tensor '" + name + "' in " + type_name() + " is undefined");
  if (t.requires_grad())
    throw Error("register_buffer: '" + name + "' in " + type_name() +
                " requires grad; buffers are not trained (register a parameter, or detach())");
  check_new_name("register_buffer", name);
  if (t.name().empty()) t.set_name(name);
  buffers_.emplace_back(std::move(name), t);
  return t;
}

void Module::register_child(std::string name, std::shared_ptr<Module> module) {
  check_name("register_module", type_name(), name);
  if (!module) throw Error("register_module: module '" + name + "' in " + type_name() + " is null");
  if (module.get() == this) throw Error("register_module: " + type_name() + " cannot contain itself");
  for (const auto& c : children_)
    if (c.first == name)
      throw Error("register_module: " + type_name() + " already has a child '" + name + "'");
  module->scope_name_ = name;
  // Parameters still named by their place in the child ("weight", "fc.bias") take their full
  // path from here ("fc1.weight"), as named_parameters() spells it, so that graph dumps and
  // gradcheck reports tell the two layers' weights apart. Names a user set stay.
  for (auto& [path, t] : module->named_parameters())
    if (t.name() == path) t.set_name(name + "." + path);
  children_.emplace_back(std::move(name), std::move(module));
}

void Module::collect(Named Module::*which, const std::string& prefix, Named& out,
                     std::vector<const void*>& seen) const {
  for (const auto& [name, t] : this->*which) {
    const void* key = t.impl();
    if (std::find(seen.begin(), seen.end(), key) != seen.end()) continue;
    seen.push_back(key);
    out.emplace_back(prefix + name, t);
  }
  for (const auto& [name, child] : children_) child->collect(which, prefix + name + ".", out, seen);
}

std::vector<std::pair<std::string, Tensor>> Module::named_parameters() const {
  Named out;
  std::vector<const void*> seen;
  collect(&Module::params_, "", out, seen);
  return out;
}

std::vector<std::pair<std::string, Tensor>> Module::named_buffers() const {
  Named out;
  std::vector<const void*> seen;
  collect(&Module::buffers_, "", out, seen);
  return out;
}

std::vector<Tensor> Module::buffers() const {
  std::vector<Tensor> out;
  for (auto& [name, t] : named_buffers()) out.push_back(t);
  return out;
}

std::vector<Tensor> Module::parameters() const {
  std::vector<Tensor> out;
  for (auto& [name, t] : named_parameters()) out.push_back(t);
  return out;
}

std::size_t Module::num_parameters() const {
  std::size_t n = 0;
  for (const auto& t : parameters()) n += t.numel();
  return n;
}

void Module::zero_grad() {
  for (auto& t : parameters()) t.zero_grad();
}

void Module::train(bool on) {
  training_ = on;
  for (auto& c : children_) c.second->train(on);
}

void Module::to(Dtype dtype) {
  if (!is_floating(dtype))
    throw Error(std::string("Module::to: parameters must stay floating point, got ") + dtype_name(dtype));
  NoGradGuard no_grad;
  std::vector<Tensor> targets = parameters();
  for (auto& b : buffers())
    if (is_floating(b.dtype())) targets.push_back(b);
  for (auto& t : targets) {
    t.zero_grad();
    if (t.dtype() == dtype) continue;
    // Swap the storage under the existing handle, as PyTorch's Module.to swaps param.data:
    // every holder of this parameter sees the converted values.
    Tensor converted = t.detach().to(dtype);
    TensorImpl* impl = t.impl();
    // The new storage continues the old version count: a graph recorded before to() saved the
    // old version and must refuse backward, even after to(float64) then to(float32).
    converted.impl()->storage->version = impl->storage->version;
    impl->storage = converted.impl()->storage;
    impl->dtype = dtype;
    t.bump_version();
  }
}

}  // namespace ag::nn
