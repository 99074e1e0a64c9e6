// Tensor hooks and retain_grad: the Tensor side. The engine (engine.cpp, BackwardPass) runs
// them: an interior tensor's hooks live on its producing node, a leaf's on the leaf itself.
#include <atomic>

#include <autograd/detail/impl.hpp>

namespace ag {
namespace {
std::atomic<std::size_t> g_next_handle{0};

TensorImpl& hookable(const Tensor& t, const char* op) {
  if (!t.defined()) fail(std::string(op) + ": the tensor is undefined");
  if (!t.requires_grad())
    fail(std::string(op) + ": " + describe(t) + " does not require grad, so no gradient ever "
         "flows into it (call requires_grad_() on a leaf, or use a tensor computed from one)");
  return *t.impl();
}

// Where this tensor's hooks are kept: on its node (interior) or on itself (leaf).
std::unique_ptr<HookList>& hook_list(TensorImpl& impl) {
  std::unique_ptr<HookList>& list = impl.grad_fn ? impl.grad_fn->hooks : impl.hooks;
  if (!list) list = std::make_unique<HookList>();
  return list;
}
}  // namespace

std::size_t Tensor::add_hook(TensorHook hook) {
  TensorImpl& impl = hookable(*this, "register_hook");
  if (!hook) fail("register_hook: got an empty hook for " + describe(*this));
  std::size_t handle = ++g_next_handle;
  hook_list(impl)->hooks.emplace_back(handle, std::move(hook));
  return handle;
}

std::size_t Tensor::register_post_accumulate_grad_hook(PostAccumulateHook hook) {
  TensorImpl& impl = hookable(*this, "register_post_accumulate_grad_hook");
  if (impl.grad_fn)
    fail("register_post_accumulate_grad_hook: " + describe(*this) + " is the result of '" +
         impl.grad_fn->op->name + "', not a leaf; only leaves accumulate into .grad()");
  if (!hook) fail("register_post_accumulate_grad_hook: got an empty hook for " + describe(*this));
  std::size_t handle = ++g_next_handle;
  hook_list(impl)->post.emplace_back(handle, std::move(hook));
  return handle;
}

void Tensor::remove_hook(std::size_t handle) {
  if (!defined()) fail("remove_hook: the tensor is undefined");
  std::unique_ptr<HookList>& list = impl_->grad_fn ? impl_->grad_fn->hooks : impl_->hooks;
  if (list) {
    auto drop = [handle](auto& v) {
      for (auto it = v.begin(); it != v.end(); ++it)
        if (it->first == handle) {
          v.erase(it);
          return true;
        }
      return false;
    };
    if (drop(list->hooks) || drop(list->post)) return;
  }
  fail("remove_hook: " + describe(*this) + " has no hook with handle " + std::to_string(handle) +
       " (removed already, or registered on another tensor)");
}

Tensor& Tensor::retain_grad() {
  TensorImpl& impl = hookable(*this, "retain_grad");
  if (impl.grad_fn) hook_list(impl)->retain_grad = true;  // leaves keep .grad anyway
  return *this;
}

bool Tensor::retains_grad() const {
  return defined() && impl_->grad_fn && impl_->grad_fn->hooks && impl_->grad_fn->hooks->retain_grad;
}

}  // namespace ag
