// ag::Function: the untemplated half of apply, and the node backward that calls the user's.
// A custom function is recorded as one ordinary node whose op entry is made per function name
// (rule text "custom backward") and whose backward, custom_backward below, reads the node's
// AutogradContext. The engine needs nothing else: it only frees the saved tensors on release.
#include <cxxabi.h>

#include <algorithm>
#include <cstdlib>
#include <mutex>

#include <autograd/detail/impl.hpp>
#include <autograd/function.hpp>
#include <autograd/kernels/kernels.hpp>
#include <autograd/ops.hpp>

namespace ag {

// ---- SavedValue ------------------------------------------------------------------------------
namespace {
const char* kind_names[] = {"nothing", "double", "int64", "bool", "string", "Shape", "doubles"};
}

#define AG_SAVED_GET(T, what)                                                                 \
  if (const T* p = std::get_if<T>(&v_)) return *p;                                            \
  fail(std::string("saved_data: asked for ") + what + ", but the value holds " +              \
       kind_names[v_.index()]);

double SavedValue::to_double() const {
  if (const std::int64_t* i = std::get_if<std::int64_t>(&v_)) return static_cast<double>(*i);
  AG_SAVED_GET(double, "a double")
}
std::int64_t SavedValue::to_int() const { AG_SAVED_GET(std::int64_t, "an int64") }
bool SavedValue::to_bool() const { AG_SAVED_GET(bool, "a bool") }
const std::string& SavedValue::to_string() const { AG_SAVED_GET(std::string, "a string") }
const Shape& SavedValue::to_shape() const { AG_SAVED_GET(Shape, "a Shape") }
const std::vector<double>& SavedValue::to_doubles() const {
  AG_SAVED_GET(std::vector<double>, "a vector of doubles")
}
#undef AG_SAVED_GET

// ---- AutogradContext -------------------------------------------------------------------------
void AutogradContext::save_for_backward(std::vector<Tensor> tensors) {
  saved_.clear();
  for (Tensor& t : tensors) saved_.push_back({t, t.defined() ? t.version() : 0, {}});
}

std::vector<Tensor> AutogradContext::get_saved_variables() const {
  if (released_)
    fail("backward of '" + name_ + "': its saved tensors were freed by an earlier backward; pass "
         "retain_graph=true to that backward to run backward through it again");
  std::vector<Tensor> out;
  for (std::size_t i = 0; i < saved_.size(); ++i) {
    const Saved& s = saved_[i];
    std::shared_ptr<TensorImpl> live = s.live.lock();
    Tensor t = live ? Tensor(std::move(live)) : s.value;
    if (t.defined() && t.version() != s.version)  // the words of Node::input's check
      fail("backward of '" + name_ + "': its saved tensor " + std::to_string(i) + " " +
           describe(t) + " was modified in place after the forward (version " +
           std::to_string(t.version()) + ", saved at version " + std::to_string(s.version) +
           "), so its gradient would be wrong. Modify a clone() instead, or redo the forward.");
    out.push_back(std::move(t));
  }
  return out;
}

void AutogradContext::mark_non_differentiable(const std::vector<Tensor>& outputs) {
  for (const Tensor& t : outputs)
    if (t.defined()) non_differentiable_.push_back(t.impl());
}

bool AutogradContext::needs_input_grad(std::size_t i) const {
  if (i >= is_tensor_.size())
    fail(name_ + ": needs_input_grad(" + std::to_string(i) + ") is out of range: forward takes " +
         std::to_string(is_tensor_.size()) + " arguments");
  return needs_grad_[i];
}

namespace detail {

const OpInfo* custom_op(const std::string& name);

std::string demangle(const char* mangled) {
  int status = 0;
  char* d = abi::__cxa_demangle(mangled, nullptr, nullptr, &status);
  std::string name = status == 0 && d ? d : mangled;
  std::free(d);
  // Drop namespaces (and "(anonymous namespace)::"), keep template arguments.
  std::size_t angle = name.find('<');
  std::size_t colon = name.rfind("::", angle);
  return colon == std::string::npos ? name : name.substr(colon + 2);
}

struct CustomAccess {
  static void release(AutogradContext& c) {
    c.saved_.clear();
    c.released_ = true;
  }
  static std::shared_ptr<AutogradContext> begin(const std::string& name, CustomBackwardFn fn,
                                                const std::vector<Tensor>& tensors,
                                                std::vector<bool> is_tensor);
  static std::vector<Tensor> finish(const std::shared_ptr<AutogradContext>& ctx,
                                    const std::vector<Tensor>& tensors,
                                    std::vector<Tensor> outputs);
  static void backward(const Node& node, const Tensor& grad_out, Tensor* grad_in);

 private:
  static void own_handles(const AutogradContext& c, const std::vector<Tensor>& tensors,
                          std::vector<Tensor>& outputs);
  static void pack(const std::shared_ptr<AutogradContext>& ctx, const std::vector<Tensor>& tensors,
                   std::vector<Tensor>& outputs);
  static void link_saved_outputs(AutogradContext& c, const std::vector<const TensorImpl*>& original,
                                 const std::vector<Tensor>& outputs);
  static std::vector<Tensor> grad_outputs(const AutogradContext& c, const Tensor& g);
  static void check_grads(const AutogradContext& c, const Node& node,
                          const std::vector<Tensor>& grads, Tensor* grad_in);
};

std::shared_ptr<AutogradContext> CustomAccess::begin(const std::string& name, CustomBackwardFn fn,
                                                     const std::vector<Tensor>& tensors,
                                                     std::vector<bool> is_tensor) {
  auto ctx = std::make_shared<AutogradContext>();
  ctx->name_ = name;
  ctx->backward_ = fn;
  bool grad_on = is_grad_enabled();
  std::size_t t = 0;
  for (bool is_t : is_tensor) {
    bool needs = is_t && grad_on && tensors[t].defined() && tensors[t].requires_grad();
    ctx->needs_grad_.push_back(needs);
    if (is_t) ++t;
  }
  ctx->is_tensor_ = std::move(is_tensor);
  return ctx;
}

// An output that is an input, that forward returned twice, or that already has a producer gets
// a handle of its own: the node must become the producer of a tensor nobody else holds.
void CustomAccess::own_handles(const AutogradContext& c, const std::vector<Tensor>& tensors,
                               std::vector<Tensor>& outputs) {
  for (std::size_t k = 0; k < outputs.size(); ++k) {
    Tensor& o = outputs[k];
    if (!o.defined())
      fail(c.name_ + ": forward returned an undefined tensor as output " + std::to_string(k));
    bool shared = o.impl()->grad_fn != nullptr;
    for (const Tensor& in : tensors) shared = shared || in.impl() == o.impl();
    for (std::size_t j = 0; j < k; ++j) shared = shared || outputs[j].impl() == o.impl();
    if (shared) {
      std::string name = o.name();
      o = o.detach();
      o.set_name(std::move(name));
    }
    if (is_anomaly_enabled() && is_floating(o.dtype()) && !kernels::all_finite(o))
      fail(c.name_ + ": produced NaN or Inf (anomaly mode) in its output " + std::to_string(k) +
           " " + describe(o) + " (the forward of a custom function)");
  }
}

// Several differentiable outputs: one node produces them packed in one flat tensor; each output
// is a slice of it, so the engine sums their gradients into one buffer (zeros where none came).
void CustomAccess::pack(const std::shared_ptr<AutogradContext>& ctx,
                        const std::vector<Tensor>& tensors, std::vector<Tensor>& outputs) {
  AutogradContext& c = *ctx;
  std::vector<Tensor> flat;
  std::size_t offset = 0;
  const AutogradContext::Output* first = nullptr;
  for (std::size_t k = 0; k < outputs.size(); ++k) {
    AutogradContext::Output& o = c.outputs_[k];
    if (!o.differentiable) continue;
    if (first && o.dtype != first->dtype)
      fail(c.name_ + ": differentiable outputs must share one dtype, got " +
           dtype_name(first->dtype) + " and output " + std::to_string(k) + " " +
           describe(outputs[k]) + "; convert it in forward, or mark_non_differentiable it");
    first = first ? first : &o;
    o.offset = offset;
    offset += outputs[k].numel();
    flat.push_back(outputs[k].reshape({outputs[k].numel()}));
  }
  Tensor packed = concat(flat, 0);  // grad mode is on here, but nothing in flat requires grad
  record(*custom_op(c.name_), packed, tensors)->custom = ctx;
  c.packed_ = true;
  for (std::size_t k = 0; k < outputs.size(); ++k) {
    const AutogradContext::Output& o = c.outputs_[k];
    if (!o.differentiable) continue;
    std::string name = outputs[k].name();
    outputs[k] = reshape(slice(packed, 0, o.offset, o.offset + outputs[k].numel()), o.shape);
    outputs[k].set_name(std::move(name));
  }
}

// A saved output is held weakly (a strong reference would be a cycle output -> node -> context
// -> output); backward gets the live output, whose producer is this node, so that under
// create_graph a backward that reads it is differentiated through the function again.
void CustomAccess::link_saved_outputs(AutogradContext& c,
                                      const std::vector<const TensorImpl*>& original,
                                      const std::vector<Tensor>& outputs) {
  for (AutogradContext::Saved& s : c.saved_)
    for (std::size_t k = 0; k < outputs.size(); ++k)
      if (s.value.defined() && s.value.impl() == original[k] && c.outputs_[k].differentiable) {
        s.live = outputs[k].impl_ptr();
        s.value = outputs[k].detach();
        s.version = outputs[k].version();
      }
}

std::vector<Tensor> CustomAccess::finish(const std::shared_ptr<AutogradContext>& ctx,
                                         const std::vector<Tensor>& tensors,
                                         std::vector<Tensor> outputs) {
  AutogradContext& c = *ctx;
  if (outputs.empty()) fail(c.name_ + ": forward returned no tensors");
  std::vector<const TensorImpl*> original;
  for (const Tensor& o : outputs) original.push_back(o.impl());
  own_handles(c, tensors, outputs);
  bool record_on = false;
  for (bool n : c.needs_grad_) record_on = record_on || n;
  std::vector<std::size_t> diff;
  for (std::size_t k = 0; k < outputs.size(); ++k) {
    const Tensor& o = outputs[k];
    bool marked = std::find(c.non_differentiable_.begin(), c.non_differentiable_.end(),
                            original[k]) != c.non_differentiable_.end();
    bool d = record_on && is_floating(o.dtype()) && !marked;
    c.outputs_.push_back({o.shape(), o.dtype(), 0, d});
    if (d) diff.push_back(k);
  }
  if (diff.size() == 1)
    record(*custom_op(c.name_), outputs[diff[0]], tensors)->custom = ctx;
  else if (diff.size() > 1)
    pack(ctx, tensors, outputs);
  link_saved_outputs(c, original, outputs);
  return outputs;
}

// The gradient of each output: from the node's (packed) gradient, zeros where there is none.
std::vector<Tensor> CustomAccess::grad_outputs(const AutogradContext& c, const Tensor& g) {
  std::vector<Tensor> out;
  for (const AutogradContext::Output& o : c.outputs_) {
    std::size_t n = 1;
    for (std::size_t d : o.shape) n *= d;
    if (!o.differentiable)
      out.push_back(zeros(o.shape, o.dtype));
    else if (!c.packed_)
      out.push_back(g);
    else
      out.push_back(reshape(slice(g, 0, o.offset, o.offset + n), o.shape));
  }
  return out;
}

void CustomAccess::check_grads(const AutogradContext& c, const Node& node,
                               const std::vector<Tensor>& grads, Tensor* grad_in) {
  std::size_t n_args = c.is_tensor_.size();
  bool extra = false;
  for (std::size_t i = n_args; i < grads.size(); ++i) extra = extra || grads[i].defined();
  if (grads.size() < n_args || extra)
    fail(c.name_ + ": backward returned " + std::to_string(grads.size()) + " gradients, but "
         "forward takes " + std::to_string(n_args) + " arguments; return one entry per argument "
         "(an undefined Tensor() for plain values and for inputs that need no gradient)");
  for (std::size_t i = 0, slot = 0; i < n_args; ++i) {
    const Tensor& g = grads[i];
    if (!c.is_tensor_[i]) {
      if (g.defined())
        fail(c.name_ + ": backward returned a gradient " + describe(g) + " for argument " +
             std::to_string(i) + ", which is not a Tensor; return an undefined Tensor() there");
      continue;
    }
    std::size_t s = slot++;
    if (!g.defined() || !node.needs_grad(s)) continue;
    const Tensor& in = node.inputs[s];
    if (g.shape() != in.shape() || g.dtype() != in.dtype())
      fail(c.name_ + ": backward returned a gradient " + describe(g) + " for argument " +
           std::to_string(i) + ", whose input is " + describe(in) + "; a gradient must have its "
           "input's shape " + shape_str(in.shape()) + " and dtype " + dtype_name(in.dtype()));
    grad_in[s] = g;
  }
}

void CustomAccess::backward(const Node& node, const Tensor& grad_out, Tensor* grad_in) {
  AutogradContext& c = *node.custom;
  std::vector<Tensor> grads = c.backward_(&c, grad_outputs(c, grad_out));
  check_grads(c, node, grads, grad_in);
}

void rethrow_in_forward(const std::string& name, const Error& e) {
  throw Error("in the forward of custom function '" + name + "': " + e.what());
}

// One op entry per function name, alive for the program (nodes point at it). Not part of
// op_registry(): that lists the built-in ops, each of which the tests gradcheck.
const OpInfo* custom_op(const std::string& name) {
  static std::mutex mutex;
  static std::map<std::string, const OpInfo*> ops;  // the keys own the names the entries show
  std::lock_guard<std::mutex> lock(mutex);
  auto it = ops.find(name);
  if (it == ops.end()) {
    it = ops.emplace(name, nullptr).first;
    it->second = &register_custom_op(
        OpDef(it->first.c_str()).backward(&CustomAccess::backward).rule("custom backward"));
  }
  return it->second;
}

std::shared_ptr<AutogradContext> begin_custom(const std::string& name, CustomBackwardFn backward,
                                              std::vector<Tensor>& tensors,
                                              std::vector<bool> is_tensor) {
  return CustomAccess::begin(name, backward, tensors, std::move(is_tensor));
}
std::vector<Tensor> finish_custom(const std::shared_ptr<AutogradContext>& ctx,
                                  const std::vector<Tensor>& tensors, std::vector<Tensor> outputs) {
  return CustomAccess::finish(ctx, tensors, std::move(outputs));
}

}  // namespace detail

void release_saved(AutogradContext& ctx) { detail::CustomAccess::release(ctx); }

}  // namespace ag
