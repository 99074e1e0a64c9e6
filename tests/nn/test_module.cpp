#include "helpers.hpp"

#include <array>

#include <nn/nn.hpp>

using namespace ag;
using Catch::Matchers::Contains;

namespace {

// A user-defined module with a nested child, a parameter of its own and a shared Linear.
struct Net : nn::Module {
  Net() {
    fc1 = register_module("fc1", std::make_shared<nn::Linear>(4, 3));
    body = register_module("body", nn::mlp({3, 5, 2}, "tanh"));
    scale = register_parameter("scale", ones({2}));
  }
  Tensor forward(const Tensor& x) override { return (*body)(sigmoid((*fc1)(x))) * scale; }
  std::shared_ptr<nn::Linear> fc1;
  std::shared_ptr<nn::Sequential> body;
  Tensor scale;
};

std::vector<std::string> names_of(const nn::Module& m) {
  std::vector<std::string> out;
  for (auto& [name, t] : m.named_parameters()) out.push_back(name);
  return out;
}

}  // namespace

TEST_CASE("Linear registers weight {out, in} and bias {out}", "[nn][module]") {
  nn::Linear lin(5, 3);
  REQUIRE(names_of(lin) == std::vector<std::string>{"weight", "bias"});
  REQUIRE(lin.weight.shape() == Shape{3, 5});
  REQUIRE(lin.bias.shape() == Shape{3});
  REQUIRE(lin.weight.requires_grad());
  REQUIRE(lin.num_parameters() == 18);
  REQUIRE(lin.type_name() == "Linear");

  nn::Linear no_bias(5, 3, false);
  REQUIRE(names_of(no_bias) == std::vector<std::string>{"weight"});
  REQUIRE_FALSE(no_bias.bias.defined());
  REQUIRE(no_bias(zeros({2, 5})).shape() == Shape{2, 3});
}

TEST_CASE("Linear's default init is LibTorch's: U(+-1/sqrt(in)) for weight and bias", "[nn][module]") {
  manual_seed(7);
  nn::Linear lin(16, 64);
  const double bound = 1.0 / std::sqrt(16.0);
  for (const Tensor& t : {lin.weight, lin.bias}) {
    const auto v = t.to_vector();
    double lo = 1, hi = -1;
    for (double x : v) {
      lo = std::min(lo, x);
      hi = std::max(hi, x);
    }
    REQUIRE(lo >= -bound);
    REQUIRE(hi <= bound);
    // The draws spread over the interval rather than sitting at one value.
    REQUIRE(lo < -0.75 * bound);
    REQUIRE(hi > 0.75 * bound);
  }
  // Same seed, same weights.
  manual_seed(7);
  nn::Linear again(16, 64);
  REQUIRE(again.weight.to_vector() == lin.weight.to_vector());
}

TEST_CASE("Linear computes x W^T + b", "[nn][module]") {
  nn::Linear lin(2, 3);
  {
    NoGradGuard no_grad;
    lin.weight.copy_(tensor({{1, 2}, {3, 4}, {5, 6}}));
    lin.bias.copy_(tensor({0.5, -1, 2}));
  }
  const Tensor y = lin(tensor({{1, -1}, {2, 0.5}}));
  REQUIRE(y.shape() == Shape{2, 3});
  testing::require_close(y, {-0.5, -2, 1, 3.5, 7, 15});
  REQUIRE_THROWS_WITH(lin(zeros({2, 3})), Contains("Linear(2, 3)") && Contains("{2, 3}"));
}

TEST_CASE("nested modules give dotted names in registration order", "[nn][module]") {
  Net net;
  REQUIRE(names_of(net) == std::vector<std::string>{"scale", "fc1.weight", "fc1.bias", "body.0.weight",
                                                    "body.0.bias", "body.2.weight", "body.2.bias"});
  REQUIRE(net.parameters().size() == 7);
  REQUIRE(net.num_parameters() == 2 + (4 * 3 + 3) + (3 * 5 + 5) + (5 * 2 + 2));
  REQUIRE(net.type_name() == "Net");
  REQUIRE(net.named_children().size() == 2);
  REQUIRE(net.named_children()[1].first == "body");

  const Tensor out = net(rand({6, 4}));
  REQUIRE(out.shape() == Shape{6, 2});
  sum(out).backward();
  for (auto& [name, p] : net.named_parameters()) {
    INFO(name);
    REQUIRE(p.grad().defined());
  }
  net.zero_grad();
  for (auto& p : net.parameters()) REQUIRE_FALSE(p.grad().defined());
}

TEST_CASE("a parameter shared between modules is listed once", "[nn][module]") {
  auto a = std::make_shared<nn::Linear>(3, 3);
  nn::Sequential seq{a, std::make_shared<nn::Tanh>(), a};
  REQUIRE(names_of(seq) == std::vector<std::string>{"0.weight", "0.bias"});
}

TEST_CASE("registration errors name the module and the name", "[nn][module]") {
  struct Bad : nn::Module {
    void dup() {
      register_parameter("w", zeros({2}));
      register_parameter("w", zeros({2}));
    }
    void dotted() { register_parameter("a.b", zeros({2})); }
    void integer() { register_parameter("i", zeros({2}, int64)); }
    void child_dup() {
      register_module("c", std::make_shared<nn::ReLU>());
      register_module("c", std::make_shared<nn::ReLU>());
    }
  };
  REQUIRE_THROWS_WITH(Bad().dup(), Contains("already has a parameter 'w'"));
  REQUIRE_THROWS_WITH(Bad().dotted(), Contains("'a.b'"));
  REQUIRE_THROWS_WITH(Bad().integer(), Contains("int64"));
  REQUIRE_THROWS_WITH(Bad().child_dup(), Contains("already has a child 'c'"));
  REQUIRE_THROWS_WITH(nn::Module()(zeros({1})), Contains("does not define forward"));
}

TEST_CASE("Sequential and mlp", "[nn][module]") {
  auto net = nn::mlp({784, 100, 10});
  REQUIRE(net->size() == 3);  // Linear, Sigmoid, Linear: no activation after the last layer
  REQUIRE((*net)[0]->type_name() == "Linear");
  REQUIRE((*net)[1]->type_name() == "Sigmoid");
  REQUIRE((*net)[2]->type_name() == "Linear");
  REQUIRE(net->num_parameters() == 784 * 100 + 100 + 100 * 10 + 10);
  REQUIRE((*net)(zeros({3, 784})).shape() == Shape{3, 10});
  REQUIRE_THROWS_WITH((*net)[3], Contains("index 3"));

  auto deep = nn::mlp({2, 4, 4, 1}, "relu");
  REQUIRE(deep->size() == 5);
  REQUIRE((*deep)[3]->type_name() == "ReLU");
  REQUIRE_THROWS_WITH(nn::mlp({2, 3}, "swish"), Contains("unknown activation 'swish'"));
  REQUIRE_THROWS_WITH(nn::mlp({2}), Contains("at least two sizes"));

  nn::Sequential seq(std::make_shared<nn::Linear>(2, 2), std::make_shared<nn::ReLU>());
  seq.push_back(std::make_shared<nn::Identity>());
  REQUIRE(seq.size() == 3);
  REQUIRE(names_of(seq) == std::vector<std::string>{"0.weight", "0.bias"});
}

TEST_CASE("activation modules match their ops", "[nn][module]") {
  const Tensor x = tensor({{-2, -0.5, 0, 1.5}, {3, -1, 0.25, 2}});
  auto same = [&](nn::Module& m, const Tensor& expected) { REQUIRE(m(x).to_vector() == expected.to_vector()); };
  nn::Sigmoid sig;
  same(sig, sigmoid(x));
  nn::Tanh th;
  same(th, tanh(x));
  nn::ReLU re;
  same(re, relu(x));
  nn::LeakyReLU lr(0.2);
  same(lr, leaky_relu(x, 0.2));
  nn::Softplus sp;
  same(sp, softplus(x));
  nn::Softmax sm(1);
  same(sm, softmax(x, 1));
  nn::LogSoftmax lsm(-1);
  same(lsm, log_softmax(x, -1));
  nn::Identity id;
  same(id, x);
}

TEST_CASE("train/eval reaches every child; Dropout is active only in training", "[nn][module]") {
  auto drop = std::make_shared<nn::Dropout>(0.25);
  nn::Sequential seq{std::make_shared<nn::Linear>(4, 4), drop};
  REQUIRE(seq.is_training());
  REQUIRE(drop->is_training());

  manual_seed(3);
  const Tensor x = ones({200, 50});
  const auto y = (*drop)(x).to_vector();
  std::size_t zeros_count = 0;
  for (double v : y) {
    if (v == 0) ++zeros_count;
    else REQUIRE(v == Approx(1 / 0.75));  // survivors are scaled so the expectation is unchanged
  }
  const double frac = static_cast<double>(zeros_count) / y.size();
  REQUIRE(frac > 0.22);
  REQUIRE(frac < 0.28);
  // A new mask on every call.
  REQUIRE((*drop)(x).to_vector() != y);

  seq.eval();
  REQUIRE_FALSE(seq.is_training());
  REQUIRE_FALSE(drop->is_training());
  REQUIRE((*drop)(x).to_vector() == x.to_vector());
  seq.train();
  REQUIRE(drop->is_training());

  nn::Dropout all(1.0);
  REQUIRE(all(x).to_vector() == zeros({200, 50}).to_vector());
  REQUIRE_THROWS_WITH(nn::Dropout(1.5), Contains("[0, 1]"));
}

TEST_CASE("Dropout's gradient is the mask", "[nn][module]") {
  manual_seed(11);
  nn::Dropout drop(0.5);
  const Tensor x = ones({10, 10}).requires_grad_();
  const Tensor y = drop(x);
  sum(y).backward();
  REQUIRE(x.grad().to_vector() == y.detach().to_vector());
}

TEST_CASE("Module::to converts parameters in place", "[nn][module]") {
  nn::Linear lin(3, 2);
  const Tensor w = lin.weight;  // a handle held elsewhere, as an optimizer would
  const auto before = w.to_vector();
  lin.to(float64);
  REQUIRE(w.dtype() == float64);
  REQUIRE(lin.weight.dtype() == float64);
  REQUIRE(lin.bias.dtype() == float64);
  REQUIRE(w.to_vector() == before);  // float32 -> float64 is exact
  const Tensor y = lin(ones({1, 3}, float64));
  REQUIRE(y.dtype() == float64);
  REQUIRE_THROWS_WITH(lin.to(int64), Contains("int64"));
}

TEST_CASE("forward runs in a scope named after the module, for graph dumps", "[nn][module]") {
  auto net = nn::mlp({2, 3, 1});
  const Tensor y = (*net)(ones({1, 2}));
  const std::string dot = to_dot(y);
  INFO(dot);
  // The root is known by its type; children by "<registered name> (<type>)", joined with '.'.
  REQUIRE_THAT(dot, Contains("Sequential.0 (Linear)") && Contains("Sequential.1 (Sigmoid)") &&
                        Contains("Sequential.2 (Linear)"));
  REQUIRE_THAT(dot, Contains("0.weight") && Contains("2.bias"));
}

TEST_CASE("init functions fill in place with PyTorch's bounds and spreads", "[nn][init]") {
  manual_seed(21);
  auto stats = [](const Tensor& t) {
    const auto v = t.to_vector();
    double mean = 0, sq = 0, lo = v[0], hi = v[0];
    for (double x : v) {
      mean += x;
      lo = std::min(lo, x);
      hi = std::max(hi, x);
    }
    mean /= v.size();
    for (double x : v) sq += (x - mean) * (x - mean);
    return std::array<double, 4>{mean, std::sqrt(sq / v.size()), lo, hi};
  };
  Tensor w = zeros({200, 300}).requires_grad_();  // fan_out 200, fan_in 300
  const auto v0 = w.version();
  REQUIRE(nn::init::xavier_uniform_(w).impl() == w.impl());
  REQUIRE(w.version() > v0);
  auto s = stats(w);
  const double xb = std::sqrt(6.0 / 500);
  REQUIRE(s[2] >= -xb);
  REQUIRE(s[3] <= xb);
  REQUIRE(s[1] == Approx(xb / std::sqrt(3.0)).epsilon(0.03));

  nn::init::xavier_normal_(w, 2.0);
  REQUIRE(stats(w)[1] == Approx(2.0 * std::sqrt(2.0 / 500)).epsilon(0.03));
  nn::init::kaiming_normal_(w, 0, "fan_in", "relu");
  REQUIRE(stats(w)[1] == Approx(std::sqrt(2.0 / 300)).epsilon(0.03));
  nn::init::kaiming_uniform_(w, 0, "fan_out", "relu");
  s = stats(w);
  REQUIRE(s[3] <= std::sqrt(6.0 / 200));
  REQUIRE(s[1] == Approx(std::sqrt(2.0 / 200)).epsilon(0.03));
  nn::init::normal_(w, 3, 0.5);
  s = stats(w);
  REQUIRE(s[0] == Approx(3).epsilon(0.01));
  REQUIRE(s[1] == Approx(0.5).epsilon(0.03));
  nn::init::uniform_(w, -2, -1);
  s = stats(w);
  REQUIRE(s[2] >= -2);
  REQUIRE(s[3] <= -1);
  nn::init::ones_(w);
  REQUIRE(stats(w)[0] == 1);
  nn::init::zeros_(w);
  REQUIRE(stats(w)[3] == 0);
  REQUIRE_FALSE(w.grad().defined());  // nothing was recorded

  REQUIRE(nn::init::calculate_gain("tanh") == Approx(5.0 / 3));
  REQUIRE(nn::init::calculate_gain("leaky_relu", std::sqrt(5.0)) == Approx(std::sqrt(1.0 / 3)));
  REQUIRE_THROWS_WITH(nn::init::calculate_gain("gelu"), Contains("unknown nonlinearity 'gelu'"));
  REQUIRE_THROWS_WITH(nn::init::xavier_uniform_(zeros({5})), Contains("at least 2 dimensions") && Contains("{5}"));
  REQUIRE_THROWS_WITH(nn::init::kaiming_uniform_(zeros({2, 2}), 0, "fan_avg"), Contains("fan_avg"));
  REQUIRE_THROWS_WITH(nn::init::uniform_(zeros({2}, int64)), Contains("int64"));
}

namespace {

// An attention-style block: two tensors in, two out, with a child module.
struct Attention : nn::TypedModule<Attention> {
  Attention() { proj = register_module("proj", std::make_shared<nn::Linear>(4, 4)); }
  std::pair<Tensor, Tensor> forward(const Tensor& x, const Tensor& mask) {
    const Tensor q = (*proj)(x);                                 // {T, 4}
    const Tensor scores = matmul(q, t(x)) + (mask - 1.0) * 1e9;  // {T, T}, masked to -1e9
    const Tensor weights = softmax(scores, 1);
    return {matmul(weights, x), weights};
  }
  Tensor forward(const Tensor& x) override {
    return forward(x, ones({x.size(0), x.size(0)})).first;
  }
  std::shared_ptr<nn::Linear> proj;
};

// A module with its own buffer and a child that has buffers.
struct Stats : nn::Module {
  Stats() {
    bn = register_module("bn", std::make_shared<nn::BatchNorm1d>(2));
    count = register_buffer("count", zeros({1}, float64));
    register_parameter("w", ones({2}));
  }
  std::shared_ptr<nn::BatchNorm1d> bn;
  Tensor count;
};

}  // namespace

TEST_CASE("a TypedModule's forward takes and returns several tensors inside its scope",
          "[nn][module]") {
  manual_seed(4);
  auto net = std::make_shared<nn::Sequential>();
  auto attention = std::make_shared<Attention>();
  net->push_back(attention);
  const Tensor x = randn({3, 4}).set_name("x");
  const Tensor mask = tensor({{1, 0, 0}, {1, 1, 0}, {1, 1, 1}});
  auto [y, weights] = (*attention)(x, mask);
  REQUIRE(y.shape() == Shape{3, 4});
  const auto w = weights.to_vector();
  REQUIRE(w[1] == 0);  // masked: row 0 attends to itself only
  REQUIRE(w[0] == Approx(1));
  const std::string dot = to_dot(sum(y));
  INFO(dot);
  REQUIRE_THAT(dot, Contains("0 (Attention).proj (Linear)"));  // registered name, nested child
  // The one-tensor forward still runs inside Sequential.
  REQUIRE_THAT(to_dot(sum((*net)(x))), Contains("Sequential.0 (Attention).proj (Linear)"));
  sum(y).backward();
  REQUIRE(attention->proj->weight.grad().defined());
}

TEST_CASE("buffers are named like parameters, saved, loaded and converted, never trained",
          "[nn][module]") {
  Stats m;
  auto names = [](const std::vector<std::pair<std::string, Tensor>>& named) {
    std::vector<std::string> out;
    for (auto& [name, t] : named) out.push_back(name);
    return out;
  };
  REQUIRE(names(m.named_buffers()) == std::vector<std::string>{"count", "bn.running_mean",
                                                               "bn.running_var",
                                                               "bn.num_batches_tracked"});
  REQUIRE(names(m.named_parameters()) == std::vector<std::string>{"w", "bn.weight", "bn.bias"});
  REQUIRE(m.buffers().size() == 4);

  m.to(float64);
  REQUIRE(m.bn->running_mean.dtype() == float64);
  REQUIRE(m.bn->num_batches_tracked.dtype() == int64);  // integer buffers keep their dtype

  m.bn->train();
  (*m.bn)(tensor({1, 2, 3, 5}, {2, 2}, float64));
  {
    NoGradGuard no_grad;
    m.count.fill_(7);
  }
  testing::TempDir dir;
  const std::string path = dir.file("stats.npz");
  m.save(path);
  Stats fresh;
  fresh.to(float64);
  fresh.load(path);
  for (std::size_t i = 0; i < 4; ++i)
    REQUIRE(fresh.buffers()[i].to_vector() == m.buffers()[i].to_vector());
  REQUIRE(fresh.bn->num_batches_tracked.item() == 1);
  REQUIRE(fresh.count.item() == 7);

  // A file without the buffers (a plain parameter file) is refused, naming the missing buffer.
  nn::Linear lin(2, 2);
  lin.save(path);
  nn::BatchNorm1d bn(2);
  REQUIRE_THROWS_WITH(bn.load(path),
                      Contains("buffer 'running_mean'") || Contains("parameter 'weight'"));

  struct Bad : nn::Module {
    void add(const std::string& name, Tensor t) { register_buffer(name, std::move(t)); }
    void param(const std::string& name) { register_parameter(name, ones({1})); }
  } bad;
  bad.add("b", zeros({1}));
  REQUIRE_THROWS_WITH(bad.add("b", zeros({1})), Contains("already has a buffer 'b'"));
  REQUIRE_THROWS_WITH(bad.param("b"), Contains("already has a buffer 'b'"));
  REQUIRE_THROWS_WITH(bad.add("x.y", zeros({1})), Contains("no '.'"));
  REQUIRE_THROWS_WITH(bad.add("g", ones({1}).requires_grad_()), Contains("requires grad"));
  REQUIRE_THROWS_WITH(bad.add("u", Tensor()), Contains("undefined"));
}

TEST_CASE("ModuleList registers its modules as 0, 1, ... and iterates them", "[nn][module]") {
  nn::ModuleList list{std::make_shared<nn::Linear>(2, 3), std::make_shared<nn::ReLU>()};
  list.push_back(std::make_shared<nn::Linear>(3, 1));
  REQUIRE(list.size() == 3);
  REQUIRE(names_of(list) == std::vector<std::string>{"0.weight", "0.bias", "2.weight", "2.bias"});
  Tensor h = ones({4, 2});
  std::size_t n = 0;
  for (const auto& m : list) {
    h = (*m)(h);
    ++n;
  }
  REQUIRE(n == 3);
  REQUIRE(h.shape() == Shape{4, 1});
  REQUIRE(list.at<nn::Linear>(2)->in_features == 3);
  REQUIRE(list[1]->type_name() == "ReLU");
  REQUIRE_THROWS_WITH(list.at<nn::Linear>(1), Contains("ReLU"));
  REQUIRE_THROWS_WITH(list[3], Contains("index 3 out of range"));
  REQUIRE_THROWS_WITH(list(h), Contains("does not define forward"));
}
