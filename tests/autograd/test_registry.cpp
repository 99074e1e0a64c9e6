// Gradient checks generated from the op registry: one Catch2 test per registered op and float
// dtype ("gradcheck/<op>/float64", "gradcheck/<op>/float32"), plus the composite ops.
//  - float64: gradcheck against central differences over every case (broadcasting, size-1
//    dimensions, negative axes), and gradgradcheck for ops the registry marks smooth.
//  - float32: the float32 forward and backward against the float64 analytic results.
// An op in the registry without cases here fails its test, so no op can skip the checks.
#include <deque>
#include <functional>
#include <map>

#include <catch2/catch.hpp>

#include <autograd/autograd.hpp>

using namespace ag;

namespace {

enum class Kind { Any, Positive, Unit };  // values: normal, in [0.5, 1.5], in (0.05, 0.95)
struct In {
  Shape shape;
  Kind kind = Kind::Any;
};
struct Case {
  std::string what;
  std::vector<In> inputs;
  ag::CheckFunction f;
  GradcheckOptions options{};
};

Tensor idx(std::vector<double> v, Shape s) { return tensor(std::move(v), std::move(s), int64); }
In P(Shape s) { return {std::move(s), Kind::Positive}; }
In U(Shape s) { return {std::move(s), Kind::Unit}; }
In A(Shape s) { return {std::move(s), Kind::Any}; }

// Cases of one binary op over the broadcasting patterns that matter.
std::vector<Case> binary_cases(std::function<Tensor(const Tensor&, const Tensor&)> op, Kind kb) {
  auto f = [op](const std::vector<Tensor>& x) { return op(x[0], x[1]); };
  return {{"same shape", {A({2, 3}), {{2, 3}, kb}}, f},
          {"row broadcast", {A({2, 3}), {{3}, kb}}, f},
          {"both broadcast", {A({2, 1, 3}), {{4, 1}, kb}}, f},
          {"0-d with matrix", {A({}), {{2, 2}, kb}}, f},
          {"size-1 dims", {A({1, 3, 1}), {{1, 1, 2}, kb}}, f}};
}

std::vector<Case> unary_cases(std::function<Tensor(const Tensor&)> op, Kind k = Kind::Any) {
  auto f = [op](const std::vector<Tensor>& x) { return op(x[0]); };
  return {{"matrix", {{{2, 3}, k}}, f}, {"size-1 dims", {{{1, 4, 1}, k}}, f}, {"0-d", {{{}, k}}, f}};
}

std::map<std::string, std::vector<Case>> make_cases() {
  std::map<std::string, std::vector<Case>> c;
  c["add"] = binary_cases([](auto& a, auto& b) { return a + b; }, Kind::Any);
  c["sub"] = binary_cases([](auto& a, auto& b) { return a - b; }, Kind::Any);
  c["mul"] = binary_cases([](auto& a, auto& b) { return a * b; }, Kind::Any);
  c["div"] = binary_cases([](auto& a, auto& b) { return a / b; }, Kind::Positive);
  c["maximum"] = binary_cases([](auto& a, auto& b) { return maximum(a, b); }, Kind::Any);
  c["minimum"] = binary_cases([](auto& a, auto& b) { return minimum(a, b); }, Kind::Any);
  c["maximum"].push_back({"tie splits the gradient", {A({3})}, [](auto& x) { return maximum(x[0], x[0]) * 3.0; }});

  c["neg"] = unary_cases([](auto& x) { return -x; });
  c["exp"] = unary_cases([](auto& x) { return exp(x); });
  c["log"] = unary_cases([](auto& x) { return log(x); }, Kind::Positive);
  c["sqrt"] = unary_cases([](auto& x) { return sqrt(x); }, Kind::Positive);
  c["abs"] = unary_cases([](auto& x) { return abs(x); });
  c["sin"] = unary_cases([](auto& x) { return sin(x); });
  c["cos"] = unary_cases([](auto& x) { return cos(x); });
  c["tanh"] = unary_cases([](auto& x) { return tanh(x); });
  c["sigmoid"] = unary_cases([](auto& x) { return sigmoid(x); });
  c["relu"] = unary_cases([](auto& x) { return relu(x); });
  c["leaky_relu"] = unary_cases([](auto& x) { return leaky_relu(x, 0.1); });
  c["softplus"] = unary_cases([](auto& x) { return softplus(x); });
  c["softplus"].push_back({"beyond the threshold", {A({3})}, [](auto& x) { return softplus(x[0] + 25.0); }});
  c["clamp"] = unary_cases([](auto& x) { return clamp(x, -0.5, 0.5); });
  c["pow"] = unary_cases([](auto& x) { return pow(x, 3); });
  for (double p : {2.5, -1.5, 0.0, 1.0})
    c["pow"].push_back({"p = " + std::to_string(p), {P({2, 3})}, [p](auto& x) { return pow(x[0], p); }});
  c["step"] = unary_cases([](auto& x) { return step(x) * x; });
  c["add_scalar"] = unary_cases([](auto& x) { return x + 2.0; });
  c["add_scalar"].push_back({"sub scalar", {A({2, 3})}, [](auto& x) { return x[0] - 2.0; }});
  c["rsub_scalar"] = unary_cases([](auto& x) { return 2.0 - x; });
  c["mul_scalar"] = unary_cases([](auto& x) { return 3.0 * x; });
  c["div_scalar"] = unary_cases([](auto& x) { return x / 4.0; });
  c["rdiv_scalar"] = unary_cases([](auto& x) { return 3.0 / x; }, Kind::Positive);
  c["sigmoid_backward"] = {{"g and y", {A({2, 3}), U({2, 3})}, [](auto& x) { return sigmoid_backward(x[0], x[1]); }},
                           {"broadcast y", {A({2, 3}), U({3})}, [](auto& x) { return sigmoid_backward(x[0], x[1]); }}};
  c["tanh_backward"] = {{"g and y", {A({2, 3}), U({2, 3})}, [](auto& x) { return tanh_backward(x[0], x[1]); }},
                        {"broadcast g", {A({1, 3}), U({2, 3})}, [](auto& x) { return tanh_backward(x[0], x[1]); }}};

  c["sum"] = {{"all", {A({2, 3, 4})}, [](auto& x) { return sum(x[0]); }},
              {"axis 1", {A({2, 3, 4})}, [](auto& x) { return sum(x[0], {1}); }},
              {"axis -1 keepdim", {A({2, 3, 4})}, [](auto& x) { return sum(x[0], {-1}, true); }},
              {"axes 0 and 2", {A({2, 3, 4})}, [](auto& x) { return sum(x[0], {0, 2}); }},
              {"size-1 axis", {A({3, 1})}, [](auto& x) { return sum(x[0], {1}); }}};
  c["max"] = {{"axis 1", {A({3, 4})}, [](auto& x) { return max(x[0], 1); }},
              {"axis -1 keepdim", {A({2, 3, 4})}, [](auto& x) { return max(x[0], -1, true); }},
              {"axis 0", {A({3, 4})}, [](auto& x) { return max(x[0], 0); }}};
  c["min"] = {{"axis 1", {A({3, 4})}, [](auto& x) { return min(x[0], 1); }},
              {"axis -2 keepdim", {A({2, 3, 4})}, [](auto& x) { return min(x[0], -2, true); }}};

  auto mm = [](auto& x) { return matmul(x[0], x[1]); };
  c["matmul"] = {{"2-D", {A({2, 3}), A({3, 4})}, mm},
                 {"vector-matrix", {A({3}), A({3, 2})}, mm},
                 {"matrix-vector", {A({2, 3}), A({3})}, mm},
                 {"vector-vector", {A({3}), A({3})}, mm},
                 {"batched", {A({2, 2, 3}), A({2, 3, 2})}, mm},
                 {"batched with 2-D", {A({2, 2, 3}), A({3, 2})}, mm},
                 {"2-D with batched", {A({2, 3}), A({2, 3, 2})}, mm},
                 {"batch of 1 broadcasts", {A({1, 2, 3}), A({3, 3, 2})}, mm},
                 {"transposed flags", {A({3, 2}), A({4, 3})}, [](auto& x) { return matmul_flags(x[0], x[1], true, true); }}};
  c["linear"] = {{"with bias", {A({4, 3}), A({2, 3}), A({2})}, [](auto& x) { return linear(x[0], x[1], x[2]); }},
                 {"without bias", {A({4, 3}), A({2, 3})}, [](auto& x) { return linear(x[0], x[1], Tensor()); }},
                 {"one sample", {A({1, 3}), A({5, 3}), A({5})}, [](auto& x) { return linear(x[0], x[1], x[2]); }}};
  c["transpose"] = {{"axes 0, 2", {A({2, 3, 4})}, [](auto& x) { return transpose(x[0], 0, 2); }},
                    {"t", {A({2, 3})}, [](auto& x) { return t(x[0]); }},
                    {"negative axes", {A({2, 3, 4})}, [](auto& x) { return transpose(x[0], -1, -2); }}};
  c["reshape"] = {{"2x3 to 3x2", {A({2, 3})}, [](auto& x) { return reshape(x[0], {3, 2}) * x[0].reshape({3, 2}); }},
                  {"flatten", {A({2, 3})}, [](auto& x) { return flatten(x[0]); }},
                  {"squeeze", {A({2, 1, 3})}, [](auto& x) { return squeeze(x[0], -2); }},
                  {"unsqueeze", {A({2, 3})}, [](auto& x) { return unsqueeze(x[0], -1) * 2.0; }}};
  c["broadcast_to"] = {{"to 3-D", {A({3, 1})}, [](auto& x) { return broadcast_to(x[0], {2, 3, 4}); }},
                       {"from 0-d", {A({})}, [](auto& x) { return broadcast_to(x[0], {2, 2}); }}};
  c["slice"] = {{"axis 0", {A({4, 3})}, [](auto& x) { return slice(x[0], 0, 1, 3); }},
                {"axis -1", {A({2, 4})}, [](auto& x) { return slice(x[0], -1, 0, 2); }}};
  c["pad_slice"] = {{"axis 0", {A({2, 3})}, [](auto& x) { return pad_slice(x[0], 0, 1, {5, 3}); }},
                    {"axis -1", {A({2, 1})}, [](auto& x) { return pad_slice(x[0], -1, 2, {2, 3}); }}};
  c["index_select"] = {{"repeated rows", {A({4, 3})}, [](auto& x) { return index_select(x[0], 0, {3, 0, 3}); }},
                       {"axis -1", {A({2, 3})}, [](auto& x) { return index_select(x[0], -1, {2, 0}); }}};
  c["index_add"] = {{"repeated rows", {A({3, 2})}, [](auto& x) { return index_add(x[0], 0, {1, 1, 0}, {4, 2}); }}};
  Tensor gi = idx({1, 3, 0, 0, 2, 1}, {3, 2});
  c["gather"] = {{"axis 1", {A({3, 4})}, [gi](auto& x) { return gather(x[0], 1, gi); }},
                 {"axis 0", {A({4, 2})}, [](auto& x) { return gather(x[0], 0, idx({3, 0, 1, 1}, {2, 2})); }}};
  c["scatter_add"] = {{"axis 1", {A({3, 2})}, [gi](auto& x) { return scatter_add(x[0], 1, gi, {3, 4}); }},
                      {"collisions", {A({2, 2})}, [](auto& x) { return scatter_add(x[0], -1, idx({1, 1, 0, 0}, {2, 2}), {2, 3}); }}};
  c["concat"] = {{"axis 0", {A({2, 3}), A({1, 3})}, [](auto& x) { return concat({x[0], x[1]}, 0); }},
                 {"axis -1, three", {A({2, 1}), A({2, 2}), A({2, 3})}, [](auto& x) { return concat({x[0], x[1], x[2]}, -1); }}};
  c["clone"] = unary_cases([](auto& x) { return x.clone() * x; });
  // float64 -> float32 -> float64 rounds to float32: differences need a coarser step.
  c["to"] = {{"through float32", {A({2, 3})}, [](auto& x) { return x[0].to(float32).to(float64); }, {1e-2, 1e-4, 1e-3}}};

  // Composite ops: no registry entry of their own, checked the same way.
  c["composite:mean"] = {{"all", {A({2, 3})}, [](auto& x) { return mean(x[0]); }},
                         {"axis -1 keepdim", {A({2, 3})}, [](auto& x) { return mean(x[0], {-1}, true); }}};
  c["composite:logsumexp"] = {{"axis 1", {A({3, 4})}, [](auto& x) { return logsumexp(x[0], 1); }},
                              {"axis 0 keepdim", {A({3, 4})}, [](auto& x) { return logsumexp(x[0], 0, true); }}};
  c["composite:softmax"] = {{"axis -1", {A({3, 4})}, [](auto& x) { return softmax(x[0], -1); }},
                            {"axis 0", {A({3, 4})}, [](auto& x) { return softmax(x[0], 0); }}};
  c["log_softmax"] = {{"axis 1", {A({3, 4})}, [](auto& x) { return log_softmax(x[0], 1); }},
                      {"axis 0", {A({3, 4})}, [](auto& x) { return log_softmax(x[0], 0); }},
                      {"middle axis of 3-d", {A({2, 3, 4})}, [](auto& x) { return log_softmax(x[0], 1); }},
                      {"axis -1, a size-1 row", {A({3, 1})}, [](auto& x) { return log_softmax(x[0], -1); }},
                      {"shifted by 50", {A({2, 3})}, [](auto& x) { return log_softmax(x[0] + 50.0, 1); }}};
  c["composite:stack"] = {{"axis 1", {A({2, 3}), A({2, 3})}, [](auto& x) { return stack({x[0], x[1]}, 1); }}};
  c["composite:cross_entropy"] = {{"log_softmax + gather", {A({3, 4})}, [](auto& x) {
    return -mean(gather(log_softmax(x[0], 1), 1, idx({2, 0, 3}, {3, 1})));
  }}};
  c["composite:mlp"] = {{"linear-sigmoid-linear", {A({4, 3}), A({5, 3}), A({5}), A({2, 5}), A({2})}, [](auto& x) {
    return sum(tanh(linear(sigmoid(linear(x[0], x[1], x[2])), x[3], x[4])));
  }}};
  return c;
}

const std::map<std::string, std::vector<Case>>& cases() {
  static const auto c = make_cases();
  return c;
}

std::vector<Tensor> make_inputs(const Case& k, Dtype dtype, std::uint64_t seed) {
  manual_seed(seed);
  std::vector<Tensor> xs;
  for (const In& in : k.inputs) {
    Tensor r = in.kind == Kind::Any ? randn(in.shape, float64) : rand(in.shape, float64);
    if (in.kind == Kind::Positive) r = r + 0.5;
    if (in.kind == Kind::Unit) r = r * 0.9 + 0.05;
    Tensor x = r.to(dtype).detach();
    x.requires_grad_();
    xs.push_back(x);
  }
  return xs;
}

void check_float64(const std::string& op, bool smooth) {
  const auto& all = cases();
  auto it = all.find(op);
  REQUIRE(it != all.end());  // every registry op needs cases
  REQUIRE_FALSE(it->second.empty());
  std::uint64_t seed = 1;
  for (const Case& k : it->second) {
    INFO(op << ": " << k.what);
    std::vector<Tensor> xs = make_inputs(k, float64, seed++);
    GradcheckResult r = gradcheck(k.f, xs, k.options);
    INFO(r.report());
    CHECK(r.ok);
    CHECK(r.warnings.empty());
    if (smooth) {
      GradcheckResult rr = gradgradcheck(k.f, xs, k.options);
      INFO(rr.report());
      CHECK(rr.ok);
    }
  }
}

void check_float32(const std::string& op) {
  const auto& all = cases();
  auto it = all.find(op);
  REQUIRE(it != all.end());
  std::uint64_t seed = 1;
  for (const Case& k : it->second) {
    INFO(op << ": " << k.what);
    std::vector<Tensor> x32 = make_inputs(k, float32, seed++);
    Tensor y32 = k.f(x32);
    // float32 in, float32 out (except where the op itself converts).
    if (op != "to") CHECK(y32.dtype() == float32);
    std::vector<Tensor> g32 = grad({sum(y32)}, x32, {}, false, false, /*allow_unused=*/true);
    for (std::size_t i = 0; i < g32.size(); ++i) {
      if (!g32[i].defined()) g32[i] = zeros(x32[i].shape(), float32);
      CHECK(g32[i].dtype() == float32);
    }
    // The same values as the float64 computation, to float32 accuracy.
    std::vector<Tensor> x64;
    for (const Tensor& x : x32) x64.push_back(x.detach().to(float64).requires_grad_());
    std::vector<double> a = y32.to_vector(), b = k.f(x64).to_vector();
    REQUIRE(a.size() == b.size());
    for (std::size_t i = 0; i < a.size(); ++i) CHECK(a[i] == Approx(b[i]).epsilon(1e-4).margin(1e-5));
    GradcheckResult r = compare_gradients(k.f, x32, g32, {1e-6, 1e-4, 1e-3});
    INFO(r.report());
    CHECK(r.ok);
    CHECK_FALSE(r.warnings.empty());  // float32 inputs are reported as converted
  }
}

// Catch2 test cases made at start-up, one per (op, dtype).
struct OpTest : Catch::ITestInvoker {
  std::string op;
  bool smooth;
  Dtype dtype;
  OpTest(std::string o, bool s, Dtype d) : op(std::move(o)), smooth(s), dtype(d) {}
  void invoke() const override {
    if (dtype == float64)
      check_float64(op, smooth);
    else
      check_float32(op);
  }
};

std::deque<std::string>& names() {
  static std::deque<std::string> n;  // Catch keeps StringRefs to these
  return n;
}

struct Registrar {
  Registrar() {
    std::vector<std::pair<std::string, bool>> ops;
    for (const OpInfo* op : op_registry()) ops.emplace_back(op->name, op->smooth);
    for (const auto& kv : cases())
      if (kv.first.rfind("composite:", 0) == 0) ops.emplace_back(kv.first, true);
    for (const auto& [op, smooth] : ops)
      for (Dtype d : {float64, float32}) {
        names().push_back("gradcheck/" + op + "/" + dtype_name(d));
        Catch::AutoReg(new OpTest(op, smooth, d), CATCH_INTERNAL_LINEINFO, Catch::StringRef(),
                       Catch::NameAndTags{names().back(), "[gradcheck]"});
      }
  }
} registrar;

}  // namespace

TEST_CASE("every registered op has gradcheck cases", "[gradcheck]") {
  for (const OpInfo* op : op_registry()) {
    INFO(op->name);
    CHECK(cases().count(op->name) == 1);
    CHECK(op->backward != nullptr);
    CHECK(std::string(op->rule).size() > 0);
  }
  CHECK(op_registry().size() >= 40);
}

TEST_CASE("gradcheck catches a wrong derivative", "[gradcheck]") {
  // Value x^2, but a derivative of 1.5x instead of 2x: the detached terms cancel in value only.
  ag::CheckFunction wrong = [](const std::vector<Tensor>& x) {
    return (x[0] * x[0]).detach() + 1.5 * x[0] * x[0].detach() - (1.5 * x[0] * x[0]).detach();
  };
  Tensor x = tensor({0.5, -1.0, 2.0}, {3}, float64).requires_grad_();
  GradcheckResult r = gradcheck(wrong, {x});
  CHECK_FALSE(r.ok);
  REQUIRE(r.entries.size() == 1);
  CHECK(r.entries[0].index == std::vector<std::size_t>{2});  // worst at x = 2: 3 vs 4
  CHECK(r.entries[0].analytic == Approx(3.0));
  CHECK(r.entries[0].reference == Approx(4.0));
}
