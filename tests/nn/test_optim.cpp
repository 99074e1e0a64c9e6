#include "helpers.hpp"

#include <optim/optim.hpp>

using namespace ag;
using Catch::Matchers::Contains;

namespace {

const Shape kShape{2, 3};

// Gives p the gradient g exactly: d/dp sum(p * g) = g.
void set_grad(const Tensor& p, const Tensor& g) { sum(p * g).backward(); }

// Runs 5 steps from the fixture's start and compares the parameter after each with PyTorch's.
template <class Opt, class Options>
void check_steps(const testing::Fixture& fx, const std::string& name, Options options) {
  INFO(name);
  Tensor p = fx.tensor("param0", kShape).requires_grad_();
  Opt opt({p}, options);
  for (int k = 1; k <= 5; ++k) {
    INFO("step " << k);
    opt.zero_grad();
    set_grad(p, fx.tensor("grad" + std::to_string(k), kShape));
    const auto version = p.version();
    opt.step();
    REQUIRE(p.version() > version);
    testing::require_close(p, fx[name + ".step" + std::to_string(k)]);
  }
}

optim::SGDOptions sgd_options(const std::vector<double>& o) {
  optim::SGDOptions s{o.at(0)};
  s.momentum = o.at(1);
  s.dampening = o.at(2);
  s.weight_decay = o.at(3);
  s.nesterov = o.at(4) != 0;
  return s;
}

optim::AdamOptions adam_options(const std::vector<double>& o) {
  optim::AdamOptions a;
  a.lr = o.at(0);
  a.beta1 = o.at(1);
  a.beta2 = o.at(2);
  a.eps = o.at(3);
  a.weight_decay = o.at(4);
  a.decoupled = o.at(5) != 0;
  return a;
}

}  // namespace

TEST_CASE("SGD matches PyTorch step by step for every option", "[optim]") {
  const testing::Fixture fx("optim.txt");
  for (const char* name : {"sgd_plain", "sgd_momentum", "sgd_dampening", "sgd_nesterov", "sgd_weight_decay",
                           "sgd_all", "sgd_momentum_decay_dampening"})
    check_steps<optim::SGD>(fx, name, sgd_options(fx[std::string(name) + ".options"]));
}

TEST_CASE("Adam and AdamW match PyTorch step by step", "[optim]") {
  const testing::Fixture fx("optim.txt");
  for (const char* name : {"adam_default", "adam_lr", "adam_weight_decay", "adamw_default", "adamw_custom"})
    check_steps<optim::Adam>(fx, name, adam_options(fx[std::string(name) + ".options"]));

  // The AdamW class: decoupled decay with PyTorch's default weight_decay of 1e-2.
  optim::AdamWOptions w;
  w.lr = fx.scalar("adamw_torch_defaults.options");
  REQUIRE(w.weight_decay == 1e-2);
  check_steps<optim::AdamW>(fx, "adamw_torch_defaults", w);
  const auto custom = fx["adamw_custom.options"];
  optim::AdamWOptions c;
  c.lr = custom[0];
  c.beta1 = custom[1];
  c.beta2 = custom[2];
  c.eps = custom[3];
  c.weight_decay = custom[4];
  check_steps<optim::AdamW>(fx, "adamw_custom", c);
}

TEST_CASE("optimizers skip parameters without a gradient and work in float32", "[optim]") {
  Tensor a = ones({3}).requires_grad_();
  Tensor b = ones({2}).requires_grad_();
  optim::SGD sgd({a, b}, {0.5});
  set_grad(a, tensor({1, 2, 3}));
  const auto b_version = b.version();
  sgd.step();
  testing::require_close(a, {0.5, 0, -0.5});
  REQUIRE(b.to_vector() == std::vector<double>{1, 1});
  REQUIRE(b.version() == b_version);
  sgd.zero_grad();
  REQUIRE_FALSE(a.grad().defined());

  optim::Adam adam({a, b}, {0.1});
  set_grad(b, tensor({1, -1}));
  adam.step();
  // Adam's first step moves each coordinate by lr against the gradient's sign.
  testing::require_close(b, {0.9, 1.1}, 1e-6);
  testing::require_close(a, {0.5, 0, -0.5});
}

TEST_CASE("a graph that saved a parameter refuses backward after the update", "[optim]") {
  Tensor w = tensor({2, 3}).requires_grad_();
  const Tensor loss = sum(w * w);
  optim::SGD sgd({w}, {0.1});
  set_grad(w, ones({2}));
  sgd.step();
  REQUIRE_THROWS_AS(loss.backward(), Error);
}

TEST_CASE("optimizer options are checked", "[optim]") {
  Tensor p = zeros({2}).requires_grad_();
  REQUIRE_THROWS_WITH(optim::SGD({}, {0.1}), Contains("empty parameter list"));
  REQUIRE_THROWS_WITH(optim::SGD({p, p}, {0.1}), Contains("same tensor"));
  REQUIRE_THROWS_WITH(optim::SGD({p}, {-1}), Contains("learning rate"));
  optim::SGDOptions nesterov{0.1};
  nesterov.nesterov = true;
  REQUIRE_THROWS_WITH(optim::SGD({p}, nesterov), Contains("nesterov"));
  optim::AdamOptions bad_beta;
  bad_beta.beta1 = 1;
  REQUIRE_THROWS_WITH(optim::Adam({p}, bad_beta), Contains("beta1"));
  REQUIRE_THROWS_WITH(optim::SGD({p * 2}, {0.1}), Contains("not a leaf"));
  REQUIRE_THROWS_WITH(optim::SGD({zeros({2}, int64)}, {0.1}), Contains("int64"));

  optim::SGD sgd({p}, {0.1});
  sgd.set_lr(0.25);
  REQUIRE(sgd.lr() == 0.25);
  REQUIRE_THROWS_WITH(sgd.set_lr(std::nan("")), Contains("learning rate"));
}

TEST_CASE("StepLR and ExponentialLR match PyTorch", "[optim]") {
  const testing::Fixture fx("optim.txt");
  Tensor p = zeros({1}).requires_grad_();
  {
    const auto o = fx["steplr.options"];
    optim::SGD sgd({p}, {o[0]});
    optim::StepLR sched(sgd, static_cast<std::size_t>(o[1]), o[2]);
    std::vector<double> lrs;
    for (int e = 0; e < 10; ++e) {
      sgd.step();
      sched.step();
      lrs.push_back(sgd.lr());
    }
    testing::require_close(lrs, fx["steplr.lrs"], 1e-12);
    REQUIRE(sched.last_epoch() == 10);
    REQUIRE(sched.get_last_lr() == sgd.lr());
  }
  {
    const auto o = fx["exponentiallr.options"];
    optim::Adam adam({p}, {o[0]});
    optim::ExponentialLR sched(adam, o[1]);
    std::vector<double> lrs;
    for (int e = 0; e < 10; ++e) {
      sched.step();
      lrs.push_back(adam.lr());
    }
    testing::require_close(lrs, fx["exponentiallr.lrs"], 1e-12);
  }
  optim::SGD sgd({p}, {0.1});
  REQUIRE_THROWS_WITH(optim::StepLR(sgd, 0), Contains("step_size"));
}

TEST_CASE("clip_grad_norm_ matches PyTorch", "[optim]") {
  const testing::Fixture fx("optim.txt");
  for (const char* name : {"clip_small", "clip_large"}) {
    INFO(name);
    const std::string n = name;
    Tensor a = zeros({2, 3}, float64).requires_grad_();
    Tensor b = zeros({4}, float64).requires_grad_();
    Tensor unused = zeros({5}, float64).requires_grad_();  // no gradient: ignored
    set_grad(a, fx.tensor("clip.grad_a", {2, 3}));
    set_grad(b, fx.tensor("clip.grad_b", {4}));
    const double total = optim::clip_grad_norm_({a, unused, b}, fx.scalar(n + ".max_norm"));
    REQUIRE(total == Approx(fx.scalar(n + ".total_norm")).epsilon(1e-12));
    testing::require_close(a.grad(), fx[n + ".grad_a"]);
    testing::require_close(b.grad(), fx[n + ".grad_b"]);
  }
}
