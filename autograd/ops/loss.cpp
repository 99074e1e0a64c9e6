// Fused softmax cross-entropy: mean over rows of logsumexp(x_r) - x_r[label_r], the op under
// nn::functional::cross_entropy. Its composite, -mean(gather(log_softmax(x, 1), labels)), is
// five nodes forward and four backward passes; here one pass per row forward (which keeps the
// softmax) and one pass backward: dx = (softmax(x) - onehot(labels)) * dy / N. The composite
// stays the reference the tests compare with (tests/autograd/test_fused_loss.cpp), and
// create_graph backward uses ag ops so that second derivatives exist.
#include <cstdint>
#include <string>

#include <autograd/ops/cases.hpp>
#include <autograd/ops/common.hpp>
#include <autograd/ops/fused.hpp>

namespace ag {
namespace ops {
namespace {

// The labels (int64 {N}) and the forward's softmax, which the fused backward reads.
struct CrossEntropyAttrs {
  Tensor labels;
  Tensor probs;
};
AttrList cross_entropy_attributes(const Node& n) {
  const CrossEntropyAttrs& a = n.attrs<CrossEntropyAttrs>();
  // The labels by name (their values are drawn as the node's constant input).
  const std::string labels = a.labels.name().empty() ? "labels" : a.labels.name();
  return {{"labels", labels}, {"n", std::to_string(a.labels.numel())}};
}
Tensor cross_entropy_labels(const Node& n) { return n.attrs<CrossEntropyAttrs>().labels; }

// 1 at (r, label_r), 0 elsewhere, in `dtype`: a constant of the create_graph formula.
Tensor label_mask(const Tensor& labels, std::size_t classes, Dtype dtype) {
  const std::size_t n = labels.numel();
  std::vector<double> v(n * classes, 0.0);
  const std::int64_t* l = labels.data_ptr<std::int64_t>();
  for (std::size_t r = 0; r < n; ++r) v[r * classes + static_cast<std::size_t>(l[r])] = 1.0;
  return tensor(std::move(v), {n, classes}, dtype);
}

void cross_entropy_backward(const Node& n, const Tensor& g, Tensor* gi) {
  const CrossEntropyAttrs& a = n.attrs<CrossEntropyAttrs>();
  const Shape& s = n.input_shape(0);
  const double rows = static_cast<double>(s[0]);
  if (is_grad_enabled()) {  // create_graph: the same formula in ag ops, differentiable again
    const Tensor x = n.input(0);
    const Tensor p = exp(log_softmax(x, 1));
    gi[0] = mul(sub(p, label_mask(a.labels, s[1], x.dtype())), div(g, rows));
    return;
  }
  Tensor dx = make_tensor(s, n.input_dtype(0), "cross_entropy");
  kernels::softmax_xent_backward(a.probs, a.labels, g.item() / rows, dx);
  gi[0] = dx;
}

// Labels: int64 {N}, each in [0, C). The messages are the ones nll_loss gives.
void check_labels(const char* fn, const Tensor& logits, const Tensor& labels) {
  const std::size_t n = logits.size(0), classes = logits.size(1);
  if (!labels.defined() || labels.dtype() != int64)
    fail(std::string(fn) + ": labels " + describe(labels) + " must be int64 class indices");
  if (labels.dim() != 1 || labels.size(0) != n)
    fail(std::string(fn) + ": labels " + describe(labels) + " must have shape {" +
         std::to_string(n) + "} to match input " + describe(logits));
  if (n == 0) fail(std::string(fn) + ": empty batch " + describe(logits));
  const std::int64_t* l = labels.data_ptr<std::int64_t>();
  for (std::size_t i = 0; i < n; ++i)
    if (l[i] < 0 || static_cast<std::size_t>(l[i]) >= classes)
      fail(std::string(fn) + ": label " + std::to_string(l[i]) + " at index " +
           std::to_string(i) + " is out of range for " + std::to_string(classes) + " classes");
}

Tensor labels_of(std::vector<double> v) {
  const std::size_t n = v.size();
  return tensor(std::move(v), {n}, int64);
}

}  // namespace

using namespace cases;

const OpInfo& op_cross_entropy = register_op(OpDef("cross_entropy").backward(cross_entropy_backward)
    .rule("dx = (softmax(x) - onehot(labels)) * dy / N")
    .grads({"(softmax({0}) - onehot({labels})) * dy / {n}"})
    .saves_inputs().smooth().attrs<CrossEntropyAttrs>().attributes(cross_entropy_attributes)
    .index(cross_entropy_labels)
    .cases([] {
      const Tensor l3 = labels_of({2, 0, 3}), l1 = labels_of({0, 0});
      return std::vector<OpCase>{
          {"3 rows, 4 classes", {A({3, 4})}, [l3](auto& x) { return cross_entropy(x[0], l3); }},
          {"one class", {A({2, 1})}, [l1](auto& x) { return cross_entropy(x[0], l1); }},
          {"shifted by 50", {A({3, 4})},
           [l3](auto& x) { return cross_entropy(x[0] + 50.0, l3); }}};
    }));

Tensor cross_entropy(const Tensor& logits, const Tensor& labels) {
  if (!logits.defined() || logits.dim() != 2 || !is_floating(logits.dtype()))
    fail("cross_entropy: logits " + (logits.defined() ? describe(logits) : "undefined") +
         " must be a float {N, C} tensor");
  check_labels("cross_entropy", logits, labels);
  Tensor probs = make_tensor(logits.shape(), logits.dtype(), "cross_entropy");
  const double rows = static_cast<double>(logits.size(0));
  const double loss = kernels::softmax_xent(logits, labels, probs) / rows;
  Tensor out = make_tensor({}, logits.dtype(), "cross_entropy");
  if (logits.dtype() == float32)
    out.data_ptr<float>()[0] = static_cast<float>(loss);
  else
    out.data_ptr<double>()[0] = loss;
  record(op_cross_entropy, out, {&logits}, CrossEntropyAttrs{labels, probs});
  return out;
}

}  // namespace ops
}  // namespace ag
