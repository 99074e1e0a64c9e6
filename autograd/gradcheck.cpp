// Gradient checks. Everything runs in float64: float32 inputs are converted (with a warning),
// because central differences in float32 carry errors near 1e-3 that hide real bugs.
// gradcheck compares the full Jacobian (one backward per output element, two forwards per input
// element); gradgradcheck applies gradcheck to x -> (df/dx)^T v built with create_graph.
#include <algorithm>
#include <cmath>
#include <iomanip>
#include <random>
#include <sstream>

#include <autograd/detail/impl.hpp>
#include <autograd/engine.hpp>
#include <autograd/gradcheck.hpp>
#include <autograd/ops.hpp>

namespace ag {
namespace {

std::string input_label(const Tensor& t, std::size_t i) {
  return t.name().empty() ? "input " + std::to_string(i) : "'" + t.name() + "'";
}

std::vector<std::size_t> unravel(std::size_t flat, const Shape& shape) {
  std::vector<std::size_t> idx(shape.size());
  for (std::size_t k = shape.size(); k-- > 0;) {
    idx[k] = shape[k] ? flat % shape[k] : 0;
    flat = shape[k] ? flat / shape[k] : 0;
  }
  return idx;
}

struct Prepared {
  std::vector<Tensor> inputs;   // float64 leaves (int64 inputs unchanged)
  std::vector<std::size_t> checked;  // which inputs get a gradient
  std::vector<std::string> warnings;
};

Prepared prepare(const std::vector<Tensor>& inputs, const char* what) {
  Prepared p;
  bool any_requires = false;
  for (const Tensor& t : inputs) any_requires = any_requires || (t.defined() && t.requires_grad());
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const Tensor& t = inputs[i];
    if (!t.defined()) fail(std::string(what) + ": input " + std::to_string(i) + " is undefined");
    if (!is_floating(t.dtype())) {
      p.inputs.push_back(t);
      continue;
    }
    if (t.dtype() == float32)
      p.warnings.push_back(input_label(t, i) + " is float32: checked in float64 (converted), since "
                           "float32 finite differences are too coarse to trust");
    Tensor x = t.detach().to(float64).clone();
    x.set_name(t.name());
    if (t.requires_grad() || !any_requires) {
      x.requires_grad_();
      p.checked.push_back(i);
    }
    p.inputs.push_back(x);
  }
  return p;
}

Tensor eval64(const CheckFunction& f, const std::vector<Tensor>& xs, const char* what) {
  Tensor y = f(xs);
  if (!y.defined()) fail(std::string(what) + ": the function returned an undefined tensor");
  if (!is_floating(y.dtype()))
    fail(std::string(what) + ": the function must return a float tensor, got " + describe(y));
  return y.dtype() == float64 ? y : y.to(float64);
}

bool close(double a, double b, const GradcheckOptions& o) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  return std::abs(a - b) <= o.atol + o.rtol * std::abs(b);
}

void consider(GradcheckEntry& e, double analytic, double reference, std::size_t out_index,
              std::size_t in_index, const Shape& shape, const GradcheckOptions& o) {
  double abs_err = std::abs(analytic - reference);
  double rel_err = abs_err == 0 ? 0 : abs_err / std::abs(reference);  // inf when reference is 0
  bool ok = close(analytic, reference, o);
  // The worst element: any failure beats any pass; then the larger error beyond tolerance.
  double badness = abs_err - (o.atol + o.rtol * std::abs(reference));
  double current = e.abs_error - (o.atol + o.rtol * std::abs(e.reference));
  bool first = e.index.empty() && e.output_index == 0 && e.abs_error == 0 && e.analytic == 0 &&
               e.reference == 0;
  if (first || (!ok && e.ok) || (ok == e.ok && badness > current) || std::isnan(abs_err)) {
    e.analytic = analytic;
    e.reference = reference;
    e.abs_error = abs_err;
    e.rel_error = rel_err;
    e.output_index = out_index;
    e.index = unravel(in_index, shape);
  }
  e.ok = e.ok && ok;
  ++e.compared;
  if (!ok) ++e.mismatched;
  // The ratio over the values that are clearly nonzero (numeric zeros carry noise near eps^2).
  if (std::abs(reference) > o.atol) {
    e.ratio_lo = std::min(e.ratio_lo, analytic / reference);
    e.ratio_hi = std::max(e.ratio_hi, analytic / reference);
  } else if (std::abs(analytic) > o.atol) {
    e.ratio_defined = false;
  }
}

struct EnableGrad {  // f needs its graph in every pass (it may call ag::grad itself)
  bool previous = is_grad_enabled();
  EnableGrad() { set_grad_enabled(true); }
  ~EnableGrad() { set_grad_enabled(previous); }
};

}  // namespace

GradcheckResult gradcheck(CheckFunction f, const std::vector<Tensor>& inputs,
                          GradcheckOptions o) {
  EnableGrad enable_grad;
  GradcheckResult result;
  result.what = "gradcheck";
  result.reference_name = "numeric";
  Prepared p = prepare(inputs, "gradcheck");
  result.warnings = p.warnings;

  std::vector<Tensor> wrt;
  for (std::size_t i : p.checked) wrt.push_back(p.inputs[i]);
  Tensor y = eval64(f, p.inputs, "gradcheck");
  std::size_t n_out = y.numel();

  // Analytic Jacobian rows: one backward per output element.
  std::vector<std::vector<double>> analytic(wrt.size());
  for (std::size_t k = 0; k < wrt.size(); ++k) analytic[k].assign(n_out * wrt[k].numel(), 0.0);
  if (y.requires_grad()) {
    for (std::size_t j = 0; j < n_out; ++j) {
      Tensor seed = zeros(y.shape(), float64);
      seed.data_ptr<double>()[j] = 1;
      std::vector<Tensor> g = grad({y}, wrt, {seed}, /*retain_graph=*/true, false, /*allow_unused=*/true);
      for (std::size_t k = 0; k < wrt.size(); ++k) {
        if (!g[k].defined()) continue;
        if (g[k].shape() != wrt[k].shape())
          fail("gradcheck: the gradient of " + input_label(inputs[p.checked[k]], p.checked[k]) +
               " has shape " + shape_str(g[k].shape()) + ", the input " + shape_str(wrt[k].shape()));
        std::vector<double> v = g[k].to_vector();
        std::copy(v.begin(), v.end(), analytic[k].begin() + static_cast<std::ptrdiff_t>(j * v.size()));
      }
    }
  }

  // Numeric Jacobian columns: central differences, one input element at a time. Grad mode stays
  // on: a function that calls ag::grad needs its graph here too (each one is dropped at once).
  for (std::size_t k = 0; k < wrt.size(); ++k) {
    GradcheckEntry e;
    std::size_t i = p.checked[k];
    e.input = input_label(inputs[i], i);
    e.shape = wrt[k].shape();
    double* x = wrt[k].data_ptr<double>();
    std::size_t n_in = wrt[k].numel();
    for (std::size_t m = 0; m < n_in; ++m) {
      double saved = x[m];
      x[m] = saved + o.eps;
      std::vector<double> plus = eval64(f, p.inputs, "gradcheck").to_vector();
      x[m] = saved - o.eps;
      std::vector<double> minus = eval64(f, p.inputs, "gradcheck").to_vector();
      x[m] = saved;
      for (std::size_t j = 0; j < n_out; ++j)
        consider(e, analytic[k][j * n_in + m], (plus[j] - minus[j]) / (2 * o.eps), j, m, e.shape, o);
    }
    result.ok = result.ok && e.ok;
    result.entries.push_back(e);
  }
  return result;
}

GradcheckResult gradgradcheck(CheckFunction f, const std::vector<Tensor>& inputs,
                              GradcheckOptions o) {
  EnableGrad enable_grad;
  Prepared p = prepare(inputs, "gradgradcheck");
  std::vector<std::size_t> checked = p.checked;
  // A fixed random direction v for the output (its own generator: the user's seed stays put).
  Tensor y = eval64(f, p.inputs, "gradgradcheck");
  std::mt19937_64 rng(0x5eed);
  std::uniform_real_distribution<double> unif(-1.0, 1.0);
  std::vector<double> vv(y.numel());
  for (double& v : vv) v = unif(rng);
  Tensor v = tensor(vv, y.shape(), float64);

  // g(x) = (df/dx)^T v for every checked input, flattened and joined: its Jacobian is the
  // Hessian-vector structure that create_graph must get right.
  CheckFunction first_order = [f, checked, v](const std::vector<Tensor>& xs) {
    std::vector<Tensor> wrt;
    for (std::size_t i : checked) wrt.push_back(xs[i]);
    Tensor out = f(xs);
    if (out.dtype() != float64) out = out.to(float64);
    std::vector<Tensor> parts;
    if (!out.requires_grad()) {
      for (const Tensor& w : wrt) parts.push_back(zeros({w.numel()}, float64));
      return concat(parts, 0);
    }
    std::vector<Tensor> g = grad({out}, wrt, {v}, true, /*create_graph=*/true, /*allow_unused=*/true);
    for (std::size_t k = 0; k < wrt.size(); ++k)
      parts.push_back(g[k].defined() ? flatten(g[k]) : zeros({wrt[k].numel()}, float64));
    return concat(parts, 0);
  };
  GradcheckResult r = gradcheck(first_order, p.inputs, o);
  r.what = "gradgradcheck";
  r.warnings.insert(r.warnings.begin(), p.warnings.begin(), p.warnings.end());
  for (std::size_t k = 0; k < r.entries.size() && k < checked.size(); ++k)
    r.entries[k].input = input_label(inputs[checked[k]], checked[k]);
  return r;
}

GradcheckResult compare_gradients(CheckFunction f, const std::vector<Tensor>& inputs,
                                  const std::vector<Tensor>& hand_derived, GradcheckOptions o) {
  if (hand_derived.size() != inputs.size())
    fail("compare_gradients: got " + std::to_string(hand_derived.size()) +
         " hand-derived gradients for " + std::to_string(inputs.size()) +
         " inputs (pass an undefined Tensor() for inputs you do not check)");
  EnableGrad enable_grad;
  GradcheckResult result;
  result.what = "compare_gradients";
  result.reference_name = "hand-derived";
  Prepared p = prepare(inputs, "compare_gradients");  // gradcheck's rule: which inputs count
  result.warnings = p.warnings;
  std::vector<Tensor> wrt;
  std::vector<std::size_t> idx;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    if (!hand_derived[i].defined()) continue;
    if (!is_floating(p.inputs[i].dtype()))
      fail("compare_gradients: " + input_label(inputs[i], i) + " is " + describe(inputs[i]) +
           "; only float inputs have gradients");
    if (hand_derived[i].shape() != inputs[i].shape())
      fail("compare_gradients: the hand-derived gradient for " + input_label(inputs[i], i) +
           " has shape " + shape_str(hand_derived[i].shape()) + ", the input " +
           shape_str(inputs[i].shape()));
    if (!p.inputs[i].requires_grad()) {
      result.warnings.push_back(input_label(inputs[i], i) + " does not require grad while other "
                                "inputs do: its hand-derived gradient was not compared (the rule "
                                "of gradcheck; call requires_grad_() on it to check it)");
      continue;
    }
    wrt.push_back(p.inputs[i]);
    idx.push_back(i);
  }
  Tensor y = eval64(f, p.inputs, "compare_gradients");
  std::vector<Tensor> g;
  if (y.requires_grad())
    g = grad({sum(y)}, wrt, {}, false, false, /*allow_unused=*/true);
  else
    g.resize(wrt.size());
  for (std::size_t k = 0; k < wrt.size(); ++k) {
    std::size_t i = idx[k];
    GradcheckEntry e;
    e.input = input_label(inputs[i], i);
    e.shape = inputs[i].shape();
    std::vector<double> a = g[k].defined() ? g[k].to_vector() : std::vector<double>(wrt[k].numel(), 0.0);
    std::vector<double> h = hand_derived[i].to_vector();
    for (std::size_t m = 0; m < a.size(); ++m) consider(e, a[m], h[m], 0, m, e.shape, o);
    result.ok = result.ok && e.ok;
    result.entries.push_back(e);
  }
  return result;
}

bool GradcheckEntry::constant_ratio() const {
  if (!ratio_defined || !(ratio_lo <= ratio_hi)) return false;
  return ratio_hi - ratio_lo <= 1e-6 * std::max(std::abs(ratio_lo), std::abs(ratio_hi));
}

std::string GradcheckResult::report() const {
  std::ostringstream os;
  os << what << ": " << (ok ? "passed" : "FAILED") << " (autograd against " << reference_name
     << " gradients, float64)\n";
  auto idx = [](const std::vector<std::size_t>& v) {
    std::string s = "[";
    for (std::size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
    return s + "]";
  };
  os << std::left << std::setw(14) << "input" << std::setw(14) << "shape" << std::setw(12)
     << "worst at" << std::setw(9) << "output" << std::setw(17) << "autograd" << std::setw(17)
     << reference_name << std::setw(11) << "abs err" << std::setw(11) << "rel err"
     << "ok\n";
  for (const GradcheckEntry& e : entries) {
    std::ostringstream a, r, ae, re;
    a << std::setprecision(9) << e.analytic;
    r << std::setprecision(9) << e.reference;
    ae << std::setprecision(2) << std::scientific << e.abs_error;
    re << std::setprecision(2) << std::scientific << e.rel_error;
    os << std::left << std::setw(14) << e.input << std::setw(14) << shape_str(e.shape)
       << std::setw(12) << idx(e.index) << std::setw(9) << e.output_index << std::setw(17)
       << a.str() << std::setw(17) << r.str() << std::setw(11) << ae.str() << std::setw(11)
       << re.str() << (e.ok ? "ok" : "MISMATCH") << "\n";
  }
  const char* unit = what == "compare_gradients" ? "elements" : "Jacobian entries";
  for (const GradcheckEntry& e : entries) {
    if (e.ok) continue;
    os << "  " << e.input << ": " << e.mismatched << " of " << e.compared << " " << unit << " off";
    if (e.constant_ratio())
      os << "; autograd/" << reference_name << " ratio " << std::fixed << std::setprecision(2)
         << e.ratio_lo << std::defaultfloat << " everywhere";
    os << "\n";
  }
  for (const std::string& w : warnings) os << "warning: " << w << "\n";
  return os.str();
}

}  // namespace ag
