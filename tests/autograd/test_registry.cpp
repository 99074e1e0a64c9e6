// Gradient checks generated from the op registry: one Catch2 test per registered op and float
// dtype ("gradcheck/<op>/float64", "gradcheck/<op>/float32"), from the cases in the op's own
// entry (OpDef::cases in autograd/ops/*.cpp), plus the composite ops below, which have no entry.
//  - float64: gradcheck against central differences over every case (broadcasting, size-1
//    dimensions, negative axes), and gradgradcheck for ops the registry marks smooth.
//  - float32: the float32 forward and backward against the float64 analytic results.
// An entry without cases fails its test, so no op can skip the checks. The test links the whole
// ag library (tests/autograd/CMakeLists.txt), so every op file's entries are registered here.
#include <cctype>
#include <deque>
#include <functional>
#include <map>

#include <catch2/catch.hpp>

#include <autograd/autograd.hpp>
#include <autograd/detail/node.hpp>  // to find an entry's node and read its attributes

using namespace ag;

namespace ag_tests {
std::vector<void (*)()>& deferred_registrations();  // tests/main.cpp
}

namespace {

CaseInput A(Shape s) { return {std::move(s), Domain::Any}; }
Tensor idx(std::vector<double> v, Shape s) { return tensor(std::move(v), std::move(s), int64); }

// Composite ops: built from registered ones, so they have no entry of their own. They are
// checked the same way, because each composes its parts in its own way (shifts, keepdims).
std::map<std::string, std::vector<OpCase>> make_composite_cases() {
  std::map<std::string, std::vector<OpCase>> c;
  c["mean"] = {{"all", {A({2, 3})}, [](auto& x) { return mean(x[0]); }},
               {"axis -1 keepdim", {A({2, 3})}, [](auto& x) { return mean(x[0], {-1}, true); }}};
  c["logsumexp"] = {{"axis 1", {A({3, 4})}, [](auto& x) { return logsumexp(x[0], 1); }},
                    {"axis 0 keepdim", {A({3, 4})}, [](auto& x) { return logsumexp(x[0], 0, true); }}};
  c["softmax"] = {{"axis -1", {A({3, 4})}, [](auto& x) { return softmax(x[0], -1); }},
                  {"axis 0", {A({3, 4})}, [](auto& x) { return softmax(x[0], 0); }}};
  c["stack"] = {{"axis 1", {A({2, 3}), A({2, 3})}, [](auto& x) { return stack({x[0], x[1]}, 1); }}};
  c["cross_entropy"] = {{"log_softmax + gather", {A({3, 4})}, [](auto& x) {
    return -mean(gather(log_softmax(x[0], 1), 1, idx({2, 0, 3}, {3, 1})));
  }}};
  c["mlp"] = {{"linear-sigmoid-linear", {A({4, 3}), A({5, 3}), A({5}), A({2, 5}), A({2})}, [](auto& x) {
    return sum(tanh(linear(sigmoid(linear(x[0], x[1], x[2])), x[3], x[4])));
  }}};
  return c;
}

const std::map<std::string, std::vector<OpCase>>& composite_cases() {
  static const auto c = make_composite_cases();
  return c;
}

const OpInfo* find_entry(const std::string& name) {
  for (const OpInfo* op : op_registry())
    if (name == op->name) return op;
  return nullptr;
}

// An op's cases: its entry's, or a composite's ("composite:softmax").
std::vector<OpCase> cases_of(const std::string& op) {
  const std::string prefix = "composite:";
  if (op.rfind(prefix, 0) == 0) return composite_cases().at(op.substr(prefix.size()));
  const OpInfo* entry = find_entry(op);
  REQUIRE(entry != nullptr);
  REQUIRE(entry->cases != nullptr);  // every registry op needs cases
  return entry->cases();
}

GradcheckOptions options_of(const OpCase& k) { return {k.eps, k.atol, k.rtol}; }

std::vector<Tensor> make_inputs(const OpCase& k, Dtype dtype, std::uint64_t seed) {
  manual_seed(seed);
  std::vector<Tensor> xs;
  for (const CaseInput& in : k.inputs) {
    Tensor r = in.domain == Domain::Any ? randn(in.shape, float64) : rand(in.shape, float64);
    if (in.domain == Domain::Positive) r = r + 0.5;
    if (in.domain == Domain::Unit) r = r * 0.9 + 0.05;
    Tensor x = r.to(dtype).detach();
    x.requires_grad_();
    xs.push_back(x);
  }
  return xs;
}

void check_float64(const std::string& op, bool smooth) {
  const std::vector<OpCase> cases = cases_of(op);
  REQUIRE_FALSE(cases.empty());
  std::uint64_t seed = 1;
  for (const OpCase& k : cases) {
    INFO(op << ": " << k.what);
    std::vector<Tensor> xs = make_inputs(k, float64, seed++);
    GradcheckResult r = gradcheck(k.f, xs, options_of(k));
    INFO(r.report());
    CHECK(r.ok);
    CHECK(r.warnings.empty());
    if (smooth) {
      GradcheckResult rr = gradgradcheck(k.f, xs, options_of(k));
      INFO(rr.report());
      CHECK(rr.ok);
    }
  }
}

void check_float32(const std::string& op) {
  const std::vector<OpCase> cases = cases_of(op);
  REQUIRE_FALSE(cases.empty());
  std::uint64_t seed = 1;
  for (const OpCase& k : cases) {
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

// Catch2 test cases, one per (op, dtype).
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

void register_op_tests() {
  std::vector<std::pair<std::string, bool>> ops;
  for (const OpInfo* op : op_registry()) ops.emplace_back(op->name, op->smooth);
  for (const auto& kv : composite_cases()) ops.emplace_back("composite:" + kv.first, true);
  for (const auto& [op, smooth] : ops)
    for (Dtype d : {float64, float32}) {
      names().push_back("gradcheck/" + op + "/" + dtype_name(d));
      Catch::AutoReg(new OpTest(op, smooth, d), CATCH_INTERNAL_LINEINFO, Catch::StringRef(),
                     Catch::NameAndTags{names().back(), "[gradcheck]"});
    }
}

// The op entries register themselves from the library's static initialisers, in no fixed order
// relative to this file's: the tests are made in main (tests/main.cpp), once all have run.
const bool deferred = (ag_tests::deferred_registrations().push_back(&register_op_tests), true);

}  // namespace

TEST_CASE("every registered op has cases, a backward, a rule and one formula per input", "[gradcheck]") {
  for (const OpInfo* op : op_registry()) {
    INFO(op->name);
    CHECK(op->cases != nullptr);
    CHECK(op->backward != nullptr);
    CHECK(std::string(op->rule).size() > 0);
    REQUIRE_FALSE(op->grads.empty());
    if (op->cases == nullptr) continue;
    for (const OpCase& k : op->cases()) {
      INFO(k.what);
      // concat takes any number of inputs: its one formula is written with {i}.
      if (op->grads.size() == 1 && op->grads[0].find("{i}") != std::string::npos) continue;
      CHECK(op->grads.size() >= k.inputs.size());
    }
  }
  // The registry is filled by the op files' static initialisers: with the whole library linked,
  // it holds every entry of every file (a file the linker dropped would be missing here).
  for (const char* name : {"add", "tanh", "sum", "matmul", "slice", "log_softmax", "where", "norm"})
    CHECK(find_entry(name) != nullptr);
  CHECK(op_registry().size() >= 45);
}

// The nearest node of `op` in the graph behind y (the cases build small graphs).
const Node* find_node(const Tensor& y, const OpInfo* op) {
  std::vector<const Node*> stack{y.impl()->grad_fn.get()};
  while (!stack.empty()) {
    const Node* n = stack.back();
    stack.pop_back();
    if (!n) continue;
    if (n->op == op) return n;
    for (std::size_t i = 0; i < n->num_inputs(); ++i)
      if (n->inputs[i].defined()) stack.push_back(n->inputs[i].impl()->grad_fn.get());
  }
  return nullptr;
}

TEST_CASE("a formula's placeholders name inputs, the output and the entry's attributes", "[gradcheck]") {
  for (const OpInfo* op : op_registry()) {
    INFO(op->name);
    REQUIRE(op->cases != nullptr);
    OpCase k = op->cases().front();
    std::vector<Tensor> xs = make_inputs(k, float64, 1);
    Tensor y = k.f(xs);
    const Node* n = find_node(y, op);
    REQUIRE(n != nullptr);  // an entry's first case records the entry's own op
    AttrList attrs = op->attributes ? op->attributes(*n) : AttrList{};
    for (const auto& [name, text] : attrs) CHECK_FALSE(text.empty());
    for (const std::string& g : op->grads) {
      INFO(g);
      for (std::size_t at = g.find('{'); at != std::string::npos; at = g.find('{', at + 1)) {
        std::size_t end = g.find('}', at);
        REQUIRE(end != std::string::npos);
        std::string key = g.substr(at + 1, end - at - 1);
        INFO(key);
        bool known = key == "y" || key == "i" ||
                     (!key.empty() && std::isdigit(static_cast<unsigned char>(key[0])) &&
                      std::stoul(key) < n->num_inputs());
        for (const auto& attr : attrs) known = known || attr.first == key;
        CHECK(known);
      }
    }
  }
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
