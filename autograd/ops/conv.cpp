// Convolution and pooling (NCHW). Three primitives close under differentiation: with
// T(x, w, g) = <g, conv(x, w)>, conv2d is dT/dg, conv2d_input_grad (a transposed convolution)
// is dT/dx and conv2d_weight_grad is dT/dw. Each one's backward is made of the other two, so
// gradients of any order are again these three ops. avg_pool2d and its adjoint are a pair the
// same way; max_pool2d's backward is a scatter_add of the gradient to the saved maxima.
#include <autograd/ops/common.hpp>

namespace ag {
namespace ops {
namespace {

using kernels::ConvGeom;
using kernels::PoolGeom;

struct ConvAttrs {
  ConvGeom geom;
};
struct PoolAttrs {
  PoolGeom geom;
  Shape input_shape;
  Tensor indices;  // max_pool2d: int64, each output's position in its input plane
};

Tensor conv_forward(const Tensor& x, const Tensor& w, const Tensor& b, const ConvGeom& g);
Tensor conv_input_grad(const Tensor& gy, const Tensor& w, const ConvGeom& g);
Tensor conv_weight_grad(const Tensor& x, const Tensor& gy, const ConvGeom& g);

void conv_backward(const Node& n, const Tensor& g, Tensor* gi) {
  const ConvGeom& geom = n.attrs<ConvAttrs>().geom;
  if (n.needs_grad(0)) gi[0] = conv_input_grad(g, n.input(1), geom);
  if (n.needs_grad(1)) gi[1] = conv_weight_grad(n.input(0), g, geom);
  if (n.needs_grad(2)) gi[2] = sum(g, Axes{0, 2, 3});
}
// z = input_grad(gy, w) with <dz, z> = T(dz, w, gy): d gy = conv(dz, w), d w = weight_grad(dz, gy).
void input_grad_backward(const Node& n, const Tensor& dz, Tensor* gi) {
  const ConvGeom& geom = n.attrs<ConvAttrs>().geom;
  if (n.needs_grad(0)) gi[0] = conv_forward(dz, n.input(1), Tensor(), geom);
  if (n.needs_grad(1)) gi[1] = conv_weight_grad(dz, n.input(0), geom);
}
// v = weight_grad(x, gy) with <dv, v> = T(x, dv, gy): d x = input_grad(gy, dv), d gy = conv(x, dv).
void weight_grad_backward(const Node& n, const Tensor& dv, Tensor* gi) {
  const ConvGeom& geom = n.attrs<ConvAttrs>().geom;
  if (n.needs_grad(0)) gi[0] = conv_input_grad(n.input(1), dv, geom);
  if (n.needs_grad(1)) gi[1] = conv_forward(n.input(0), dv, Tensor(), geom);
}

Tensor avg_pool_forward(const Tensor& x, const PoolAttrs& a);
Tensor avg_pool_adjoint(const Tensor& gy, const PoolAttrs& a);
void avg_pool_backward(const Node& n, const Tensor& g, Tensor* gi) {
  gi[0] = avg_pool_adjoint(g, n.attrs<PoolAttrs>());
}
void avg_pool_adjoint_backward(const Node& n, const Tensor& g, Tensor* gi) {
  gi[0] = avg_pool_forward(g, n.attrs<PoolAttrs>());
}
// The gradient goes to each window's maximum: a scatter_add over the flattened planes.
void max_pool_backward(const Node& n, const Tensor& g, Tensor* gi) {
  const PoolAttrs& a = n.attrs<PoolAttrs>();
  const Shape& s = a.input_shape;
  std::size_t planes = a.geom.planes, out = a.geom.oh * a.geom.ow;
  Tensor flat = scatter_add(reshape(g, {planes, out}), 1, a.indices.reshape({planes, out}),
                            {planes, a.geom.h * a.geom.w});
  gi[0] = reshape(flat, s);
}

std::vector<OpCase> conv_cases();
std::vector<OpCase> input_grad_cases();
std::vector<OpCase> weight_grad_cases();
std::vector<OpCase> max_pool_cases();
std::vector<OpCase> avg_pool_cases();
std::vector<OpCase> avg_pool_adjoint_cases();

}  // namespace

const OpInfo& op_conv2d = register_op(
    OpDef("conv2d").backward(conv_backward)
        .grads({"conv2d_input_grad(dy, {1})", "conv2d_weight_grad({0}, dy)", "sum of dy over N, H, W"})
        .rule("dx = dy convolved back through W (transposed convolution), dW = dy * x, db = sum(dy)")
        .saves_inputs().smooth().cases(conv_cases).attrs<ConvAttrs>());
const OpInfo& op_conv2d_input_grad = register_op(
    OpDef("conv2d_input_grad").backward(input_grad_backward)
        .grads({"conv2d(dy, {1})", "conv2d_weight_grad(dy, {0})"})
        .rule("d dy = conv2d(dz, W), dW = conv2d_weight_grad(dz, dy)")
        .saves_inputs().smooth().cases(input_grad_cases).attrs<ConvAttrs>());
const OpInfo& op_conv2d_weight_grad = register_op(
    OpDef("conv2d_weight_grad").backward(weight_grad_backward)
        .grads({"conv2d_input_grad({1}, dy)", "conv2d({0}, dy)"})
        .rule("dx = conv2d_input_grad(dy, dv), d dy = conv2d(x, dv)")
        .saves_inputs().smooth().cases(weight_grad_cases).attrs<ConvAttrs>());
const OpInfo& op_max_pool2d = register_op(
    OpDef("max_pool2d").backward(max_pool_backward)
        .grads({"dy at each window's maximum of {0}, 0 elsewhere"})
        .rule("dx = dy at each window's maximum, 0 elsewhere")
        .smooth().cases(max_pool_cases).attrs<PoolAttrs>());
const OpInfo& op_avg_pool2d = register_op(
    OpDef("avg_pool2d").backward(avg_pool_backward)
        .grads({"avg_pool2d_adjoint(dy)"})
        .rule("dx = dy / (kh kw) spread over each window")
        .smooth().cases(avg_pool_cases).attrs<PoolAttrs>());
const OpInfo& op_avg_pool2d_adjoint = register_op(
    OpDef("avg_pool2d_adjoint").backward(avg_pool_adjoint_backward)
        .grads({"avg_pool2d(dy)"})
        .rule("d dy = avg_pool2d(dz)")
        .smooth().cases(avg_pool_adjoint_cases).attrs<PoolAttrs>());

namespace {

Tensor conv_forward(const Tensor& x, const Tensor& w, const Tensor& b, const ConvGeom& g) {
  Tensor y = make_tensor({g.n, g.o, g.oh, g.ow}, x.dtype());
  kernels::conv2d_forward(x, w, b, g, y);
  record(op_conv2d, y, {&x, &w, &b}, ConvAttrs{g});
  return y;
}
Tensor conv_input_grad(const Tensor& gy, const Tensor& w, const ConvGeom& g) {
  Tensor dx = make_tensor({g.n, g.c, g.h, g.w}, gy.dtype());
  kernels::conv2d_input_grad(gy, w, g, dx);
  record(op_conv2d_input_grad, dx, {&gy, &w}, ConvAttrs{g});
  return dx;
}
Tensor conv_weight_grad(const Tensor& x, const Tensor& gy, const ConvGeom& g) {
  Tensor dw = make_tensor({g.o, g.c / g.groups, g.kh, g.kw}, x.dtype());
  kernels::conv2d_weight_grad(x, gy, g, dw);
  record(op_conv2d_weight_grad, dw, {&x, &gy}, ConvAttrs{g});
  return dw;
}
Tensor avg_pool_forward(const Tensor& x, const PoolAttrs& a) {
  Shape s = a.input_shape;
  s[s.size() - 2] = a.geom.oh;
  s[s.size() - 1] = a.geom.ow;
  Tensor y = make_tensor(s, x.dtype());
  kernels::avg_pool2d(x, a.geom, y);
  record(op_avg_pool2d, y, {&x}, a);
  return y;
}
Tensor avg_pool_adjoint(const Tensor& gy, const PoolAttrs& a) {
  Tensor dx = make_tensor(a.input_shape, gy.dtype());
  kernels::avg_pool2d_backward(gy, a.geom, dx);
  record(op_avg_pool2d_adjoint, dx, {&gy}, a);
  return dx;
}

// Output extent of one spatial axis, or 0 when the (dilated) kernel does not fit.
std::size_t out_extent(std::size_t in, std::size_t k, std::size_t s, std::size_t p, std::size_t d) {
  std::size_t span = d * (k - 1) + 1;
  return in + 2 * p < span ? 0 : (in + 2 * p - span) / s + 1;
}

std::string geom_str(Size2 s) { return "{" + std::to_string(s.h) + ", " + std::to_string(s.w) + "}"; }

void check_conv_args(const Tensor& x, const Tensor& w, const Tensor& b, Size2 stride,
                     std::size_t groups) {
  check_same_dtype("conv2d", x, w);
  if (b.defined()) check_same_dtype("conv2d", x, b);
  auto why = [&](const std::string& what) {
    fail("conv2d: " + what + " (input " + describe(x) + ", weight " + describe(w) + ", bias " +
         (b.defined() ? describe(b) : std::string("none")) + ", groups " + std::to_string(groups) + ")");
  };
  if (x.dim() != 4) why("needs a 4-D input {N, C, H, W}");
  if (w.dim() != 4) why("needs a 4-D weight {out, in / groups, kh, kw}");
  if (groups == 0 || stride.h == 0 || stride.w == 0) why("groups and stride must be at least 1");
  if (x.shape()[1] % groups || w.shape()[0] % groups) why("channels must divide into the groups");
  if (w.shape()[1] * groups != x.shape()[1])
    why("the weight's in-channels times groups (" + std::to_string(w.shape()[1] * groups) +
        ") must equal the input's channels (" + std::to_string(x.shape()[1]) + ")");
  if (b.defined() && (b.dim() != 1 || b.shape()[0] != w.shape()[0]))
    why("the bias must be {" + std::to_string(w.shape()[0]) + "}");
}

ConvGeom conv_geom(const Tensor& x, const Tensor& w, Size2 stride, Size2 padding, Size2 dilation,
                   std::size_t groups) {
  const Shape& xs = x.shape();
  const Shape& ws = w.shape();
  if (dilation.h == 0 || dilation.w == 0) fail("conv2d: dilation must be at least 1, got " + geom_str(dilation));
  ConvGeom g{xs[0], xs[1], xs[2], xs[3], ws[0], ws[2], ws[3],
             out_extent(xs[2], ws[2], stride.h, padding.h, dilation.h),
             out_extent(xs[3], ws[3], stride.w, padding.w, dilation.w),
             stride.h, stride.w, padding.h, padding.w, dilation.h, dilation.w, groups};
  if (g.oh == 0 || g.ow == 0 || g.kh == 0 || g.kw == 0)
    fail("conv2d: kernel " + shape_str({g.kh, g.kw}) + " with dilation " + geom_str(dilation) +
         " does not fit input " + describe(x) + " padded by " + geom_str(padding));
  return g;
}

// A 3-D {C, H, W} input is one sample: run it as a batch of one.
template <class F>
Tensor batched(const Tensor& x, F&& f) {
  if (x.defined() && x.dim() == 3) return squeeze(f(unsqueeze(x, 0)), 0);
  return f(x);
}

PoolAttrs pool_attrs(const char* op, const Tensor& x, Size2 kernel, Size2 stride, Size2 padding) {
  check_float(op, x);
  if (x.dim() != 4) fail(std::string(op) + ": needs a {N, C, H, W} or {C, H, W} input, got " + describe(x));
  if (stride.h == 0 && stride.w == 0) stride = kernel;
  if (kernel.h == 0 || kernel.w == 0 || stride.h == 0 || stride.w == 0)
    fail(std::string(op) + ": kernel " + geom_str(kernel) + " and stride " + geom_str(stride) +
         " must be at least 1 (input " + describe(x) + ")");
  if (2 * padding.h > kernel.h || 2 * padding.w > kernel.w)
    fail(std::string(op) + ": padding " + geom_str(padding) + " must be at most half the kernel " +
         geom_str(kernel) + " (input " + describe(x) + ")");
  const Shape& s = x.shape();
  PoolGeom g{s[0] * s[1], s[2], s[3], kernel.h, kernel.w,
             out_extent(s[2], kernel.h, stride.h, padding.h, 1),
             out_extent(s[3], kernel.w, stride.w, padding.w, 1),
             stride.h, stride.w, padding.h, padding.w};
  if (g.oh == 0 || g.ow == 0)
    fail(std::string(op) + ": kernel " + geom_str(kernel) + " does not fit input " + describe(x) +
         " padded by " + geom_str(padding));
  return {g, s, Tensor()};
}

}  // namespace
}  // namespace ops

using namespace ops;

Tensor conv2d(const Tensor& x, const Tensor& w, const Tensor& b, Size2 stride, Size2 padding,
              Size2 dilation, std::size_t groups) {
  return batched(x, [&](const Tensor& x4) {
    check_conv_args(x4, w, b, stride, groups);
    return conv_forward(x4, w, b, conv_geom(x4, w, stride, padding, dilation, groups));
  });
}

Tensor max_pool2d(const Tensor& x, Size2 kernel, Size2 stride, Size2 padding) {
  return batched(x, [&](const Tensor& x4) {
    PoolAttrs a = pool_attrs("max_pool2d", x4, kernel, stride, padding);
    Shape s = a.input_shape;
    s[2] = a.geom.oh;
    s[3] = a.geom.ow;
    Tensor y = make_tensor(s, x4.dtype());
    Tensor indices = make_tensor(s, int64);
    kernels::max_pool2d(x4, a.geom, y, indices);
    a.indices = indices;
    record(op_max_pool2d, y, {&x4}, std::move(a));
    return y;
  });
}

Tensor avg_pool2d(const Tensor& x, Size2 kernel, Size2 stride, Size2 padding) {
  return batched(x, [&](const Tensor& x4) {
    return avg_pool_forward(x4, pool_attrs("avg_pool2d", x4, kernel, stride, padding));
  });
}

namespace ops {
namespace {

// Gradcheck cases: stride, padding, dilation and groups, alone and together.
std::vector<OpCase> conv_cases() {
  auto f = [](Size2 s, Size2 p, Size2 d, std::size_t g) {
    return [=](const std::vector<Tensor>& v) {
      return conv2d(v[0], v[1], v.size() > 2 ? v[2] : Tensor(), s, p, d, g);
    };
  };
  return {{"3x3 with bias", {{{2, 2, 5, 5}}, {{3, 2, 3, 3}}, {{3}}}, f(1, 0, 1, 1)},
          {"stride 2, padding 1", {{{1, 2, 6, 5}}, {{2, 2, 3, 2}}}, f(2, 1, 1, 1)},
          {"dilation 2, asymmetric stride", {{{1, 1, 7, 6}}, {{2, 1, 2, 3}}, {{2}}}, f({1, 2}, {1, 0}, 2, 1)},
          {"groups 2", {{{2, 4, 4, 4}}, {{4, 2, 3, 3}}, {{4}}}, f(1, 1, 1, 2)},
          {"1x1 kernel", {{{2, 3, 3, 3}}, {{2, 3, 1, 1}}}, f(1, 0, 1, 1)},
          {"everything", {{{1, 4, 7, 7}}, {{6, 2, 3, 2}}, {{6}}}, f({2, 1}, {1, 2}, {2, 1}, 2)},
          {"one sample {C, H, W}", {{{2, 4, 4}}, {{3, 2, 2, 2}}}, f(1, 1, 1, 1)}};
}
ConvGeom case_geom(Shape x, Shape w, Size2 s, Size2 p, Size2 d, std::size_t g) {
  return conv_geom(zeros(x, float64), zeros(w, float64), s, p, d, g);
}
std::vector<OpCase> input_grad_cases() {
  ConvGeom a = case_geom({2, 4, 5, 5}, {4, 2, 3, 3}, 2, 1, 1, 2);
  ConvGeom b = case_geom({1, 2, 6, 6}, {3, 2, 2, 3}, 1, {0, 1}, 2, 1);
  return {{"stride 2, groups 2", {{{2, 4, a.oh, a.ow}}, {{4, 2, 3, 3}}},
           [a](const std::vector<Tensor>& v) { return conv_input_grad(v[0], v[1], a); }},
          {"dilation 2", {{{1, 3, b.oh, b.ow}}, {{3, 2, 2, 3}}},
           [b](const std::vector<Tensor>& v) { return conv_input_grad(v[0], v[1], b); }}};
}
std::vector<OpCase> weight_grad_cases() {
  ConvGeom a = case_geom({2, 4, 5, 5}, {4, 2, 3, 3}, 2, 1, 1, 2);
  ConvGeom b = case_geom({2, 2, 6, 6}, {3, 2, 2, 3}, 1, {0, 1}, 2, 1);
  return {{"stride 2, groups 2", {{{2, 4, 5, 5}}, {{2, 4, a.oh, a.ow}}},
           [a](const std::vector<Tensor>& v) { return conv_weight_grad(v[0], v[1], a); }},
          {"dilation 2", {{{2, 2, 6, 6}}, {{2, 3, b.oh, b.ow}}},
           [b](const std::vector<Tensor>& v) { return conv_weight_grad(v[0], v[1], b); }}};
}
std::vector<OpCase> max_pool_cases() {
  auto f = [](Size2 k, Size2 s, Size2 p) {
    return [=](const std::vector<Tensor>& v) { return max_pool2d(v[0], k, s, p); };
  };
  return {{"2x2", {{{2, 2, 4, 6}}}, f(2, 0, 0)},
          {"3x3 stride 2 padding 1 (overlapping)", {{{1, 2, 5, 5}}}, f(3, 2, 1)},
          {"2x3, odd size, {C, H, W}", {{{3, 5, 7}}}, f({2, 3}, {1, 2}, 0)}};
}
std::vector<OpCase> avg_pool_cases() {
  auto f = [](Size2 k, Size2 s, Size2 p) {
    return [=](const std::vector<Tensor>& v) { return avg_pool2d(v[0], k, s, p); };
  };
  return {{"2x2", {{{2, 2, 4, 6}}}, f(2, 0, 0)},
          {"3x3 stride 2 padding 1", {{{1, 2, 5, 5}}}, f(3, 2, 1)},
          {"2x3 stride {1, 2}, {C, H, W}", {{{3, 5, 7}}}, f({2, 3}, {1, 2}, {1, 1})}};
}
std::vector<OpCase> avg_pool_adjoint_cases() {
  PoolAttrs a = pool_attrs("avg_pool2d", zeros({1, 2, 5, 5}, float64), 3, 2, 1);
  return {{"3x3 stride 2 padding 1", {{{1, 2, a.geom.oh, a.geom.ow}}},
           [a](const std::vector<Tensor>& v) { return avg_pool_adjoint(v[0], a); }}};
}

}  // namespace
}  // namespace ops
}  // namespace ag
