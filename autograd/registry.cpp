// The op registry: every differentiable primitive, in one table. Each entry is defined next to
// its forward in ops/*.cpp; tests walk this list, so a new op cannot skip gradcheck.
// Composite ops (mean, logsumexp, softmax, stack, matmul of vectors, squeeze, ...)
// are built from these and need no entry of their own.
#include <autograd/registry.hpp>
#include <cstring>

namespace ag {
namespace ops {
extern const OpInfo op_add, op_sub, op_mul, op_div, op_maximum, op_minimum, op_neg, op_exp, op_log,
    op_sqrt, op_abs, op_sin, op_cos, op_tanh, op_sigmoid, op_relu, op_leaky_relu, op_softplus,
    op_clamp, op_pow, op_step, op_add_scalar, op_rsub_scalar, op_mul_scalar, op_div_scalar,
    op_rdiv_scalar, op_sigmoid_backward, op_tanh_backward, op_sum, op_max, op_min, op_log_softmax,
    op_matmul, op_linear, op_transpose, op_reshape, op_broadcast_to, op_slice, op_pad_slice,
    op_index_select, op_index_add, op_gather, op_scatter_add, op_concat, op_clone, op_to;
}  // namespace ops

const std::vector<const OpInfo*>& op_registry() {
  using namespace ops;
  static const std::vector<const OpInfo*> table = {
      &op_add,           &op_sub,         &op_mul,
      &op_div,           &op_maximum,     &op_minimum,
      &op_neg,           &op_exp,         &op_log,
      &op_sqrt,          &op_abs,         &op_sin,
      &op_cos,           &op_tanh,        &op_sigmoid,
      &op_relu,          &op_leaky_relu,  &op_softplus,
      &op_clamp,         &op_pow,         &op_step,
      &op_add_scalar,    &op_rsub_scalar, &op_mul_scalar,
      &op_div_scalar,    &op_rdiv_scalar, &op_sigmoid_backward,
      &op_tanh_backward, &op_sum,         &op_max,
      &op_min,           &op_matmul,      &op_linear,
      &op_transpose,     &op_reshape,     &op_broadcast_to,
      &op_slice,         &op_pad_slice,   &op_index_select,
      &op_index_add,     &op_gather,      &op_scatter_add,
      &op_concat,        &op_clone,       &op_to,
      &op_log_softmax,
  };
  return table;
}

const OpInfo* find_op(const char* name) {
  for (const OpInfo* op : op_registry())
    if (std::strcmp(op->name, name) == 0) return op;
  return nullptr;
}

}  // namespace ag
