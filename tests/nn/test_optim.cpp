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
void check_steps(const testing::Fixture& fx, const std::string& name, Options options,
                 Dtype dtype = float64) {
  INFO(name << " in " << dtype_name(dtype));
  const double rtol = dtype == float64 ? 1e-6 : 2e-4, atol = dtype == float64 ? 1e-12 : 2e-5;
  Tensor p = fx.tensor("param0", kShape, dtype).requires_grad_();
  Opt opt({p}, options);
  for (int k = 1; k <= 5; ++k) {
    INFO("step " << k);
    opt.zero_grad();
    set_grad(p, fx.tensor("grad" + std::to_string(k), kShape, dtype));
    const auto version = p.version();
    opt.step();
    REQUIRE(p.version() > version);
    testing::require_close(p, fx[name + ".step" + std::to_string(k)], rtol, atol);
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

optim::RMSpropOptions rmsprop_options(const std::vector<double>& o) {
  return optim::RMSpropOptions(o.at(0))
      .alpha(o.at(1))
      .eps(o.at(2))
      .weight_decay(o.at(3))
      .momentum(o.at(4))
      .centered(o.at(5) != 0);
}

optim::AdagradOptions adagrad_options(const std::vector<double>& o) {
  return {o.at(0), o.at(1), o.at(2), o.at(3), o.at(4)};  // the positional form
}

// The lr after construction and after each of 12 epochs, against PyTorch's.
void check_schedule(optim::Optimizer& opt, optim::LRScheduler& sched,
                    const std::vector<double>& expected) {
  std::vector<double> lrs{opt.lr()};
  for (int e = 0; e < 12; ++e) {
    sched.step();
    lrs.push_back(opt.lr());
  }
  testing::require_close(lrs, expected, 1e-12, 1e-15);
  REQUIRE(sched.last_epoch() == 12);
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
  // The positional form, in the field order.
  const optim::AdamWOptions c{custom[0], custom[1], custom[2], custom[3], custom[4]};
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
  REQUIRE_THROWS_WITH(optim::SGD({p}, optim::SGDOptions(0.1).nesterov(true)), Contains("nesterov"));
  REQUIRE_THROWS_WITH(optim::Adam({p}, optim::AdamOptions().beta1(1)), Contains("beta1"));
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

TEST_CASE("RMSprop and Adagrad match PyTorch step by step, float64 and float32", "[optim]") {
  const testing::Fixture fx("optim.txt");
  for (Dtype dtype : {float64, float32}) {
    for (const char* name :
         {"rmsprop_default", "rmsprop_momentum", "rmsprop_centered", "rmsprop_all"})
      check_steps<optim::RMSprop>(fx, name, rmsprop_options(fx[std::string(name) + ".options"]),
                                  dtype);
    for (const char* name : {"adagrad_default", "adagrad_all"})
      check_steps<optim::Adagrad>(fx, name, adagrad_options(fx[std::string(name) + ".options"]),
                                  dtype);
  }
}

TEST_CASE("new optimizers hold their state in tensors and check their hyperparameters", "[optim]") {
  Tensor p = zeros({2, 3}, float64).requires_grad_();
  optim::RMSprop rms({p}, optim::RMSpropOptions(0.01).momentum(0.9).centered(true));
  REQUIRE(rms.state(0).empty());
  set_grad(p, ones({2, 3}, float64));
  rms.step();
  const auto& s = rms.state(0);
  REQUIRE(s.size() == 4);
  REQUIRE(s.at("step").dtype() == int64);
  REQUIRE(s.at("step").item() == 1);
  REQUIRE(s.at("square_avg").shape() == Shape{2, 3});
  REQUIRE(s.at("square_avg").dtype() == float64);
  testing::require_close(s.at("square_avg"), std::vector<double>(6, 0.01));
  REQUIRE(s.count("momentum_buffer") == 1);
  REQUIRE(s.count("grad_avg") == 1);
  optim::Adagrad ada({p}, optim::AdagradOptions().initial_accumulator_value(0.25));
  REQUIRE(ada.state(0).at("sum").to_vector() == std::vector<double>(6, 0.25));  // filled up front

  using optim::RMSpropOptions, optim::AdagradOptions;
  const double nan = std::nan("");
  REQUIRE_THROWS_WITH(optim::RMSprop({p}, RMSpropOptions(-0.1)), Contains("learning rate"));
  REQUIRE_THROWS_WITH(optim::RMSprop({p}, RMSpropOptions(nan)), Contains("learning rate"));
  REQUIRE_THROWS_WITH(optim::RMSprop({p}, RMSpropOptions().eps(0)), Contains("RMSprop: eps"));
  REQUIRE_THROWS_WITH(optim::RMSprop({p}, RMSpropOptions().alpha(1.5)), Contains("alpha"));
  REQUIRE_THROWS_WITH(optim::RMSprop({p}, RMSpropOptions().alpha(nan)), Contains("alpha"));
  REQUIRE_THROWS_WITH(optim::RMSprop({p}, RMSpropOptions().momentum(-1)), Contains("momentum"));
  REQUIRE_THROWS_WITH(optim::RMSprop({p}, RMSpropOptions().weight_decay(nan)),
                      Contains("weight_decay"));
  REQUIRE_THROWS_WITH(optim::Adagrad({p}, AdagradOptions().eps(-1e-10)), Contains("Adagrad: eps"));
  REQUIRE_THROWS_WITH(optim::Adagrad({p}, AdagradOptions().lr_decay(-1)), Contains("lr_decay"));
  REQUIRE_THROWS_WITH(optim::Adagrad({p}, AdagradOptions().initial_accumulator_value(-1)),
                      Contains("initial_accumulator_value"));
  REQUIRE_THROWS_WITH(optim::Adagrad({p}, AdagradOptions().weight_decay(1.0 / 0.0)),
                      Contains("weight_decay"));
  REQUIRE_THROWS_WITH(rms.state(1), Contains("out of range"));
}

TEST_CASE("options take LibTorch's named setters and keep the positional form", "[optim]") {
  const auto sgd = optim::SGDOptions(0.1).momentum(0.9).nesterov(true);
  REQUIRE(sgd.lr() == 0.1);
  REQUIRE(sgd.momentum() == 0.9);
  REQUIRE(sgd.nesterov());
  const optim::SGDOptions positional{0.1, 0.9};
  REQUIRE(positional.momentum() == 0.9);
  REQUIRE(positional.dampening() == 0);
  const optim::AdamOptions adam = optim::AdamOptions(0.01).betas(0.8, 0.9).weight_decay(0.1);
  REQUIRE(adam.beta1() == 0.8);
  REQUIRE(adam.beta2() == 0.9);
  REQUIRE(adam.eps() == 1e-8);
  REQUIRE(optim::RMSpropOptions().alpha() == 0.99);
  REQUIRE(optim::AdagradOptions().eps() == 1e-10);
  REQUIRE(optim::ReduceLROnPlateauOptions().threshold() == 1e-4);
  Tensor p = zeros({1}).requires_grad_();
  optim::SGD braced({p}, {0.5, 0.9});  // what examples/ write
  REQUIRE(braced.options().momentum() == 0.9);

  // The plain-field spelling of the first API: assign and read like a double.
  optim::SGDOptions fields{0.1};
  fields.momentum = 0.8;
  fields.nesterov = true;
  const double m = fields.momentum;
  REQUIRE(m == 0.8);
  REQUIRE(fields.momentum > 0.5);
  REQUIRE(optim::SGD({p}, fields).options().nesterov());
  optim::AdamOptions adam_fields;
  adam_fields.lr = 0.5;
  REQUIRE(adam_fields.lr() == 0.5);

  // A copy's setters change the copy, never the original, and chain on the copy.
  optim::SGDOptions copy = fields;
  optim::SGDOptions& chained = copy.momentum(0.1).dampening(0.2);
  REQUIRE(&chained == &copy);
  REQUIRE(copy.momentum() == 0.1);
  REQUIRE(fields.momentum() == 0.8);
  REQUIRE(fields.dampening() == 0);
  copy = fields;  // assignment copies values and keeps each object's own setters
  REQUIRE(&copy.weight_decay(0.3) == &copy);
  REQUIRE(copy.momentum() == 0.8);
  REQUIRE(fields.weight_decay() == 0);
  auto plateau = optim::ReduceLROnPlateauOptions(0.5).mode("max");
  auto plateau_copy = plateau;
  REQUIRE(&plateau_copy.cooldown(3) == &plateau_copy);
  REQUIRE(plateau_copy.mode() == "max");
  REQUIRE(plateau.cooldown() == 0);
}

TEST_CASE("CosineAnnealingLR and LambdaLR match PyTorch", "[optim]") {
  const testing::Fixture fx("optim.txt");
  Tensor p = zeros({1}).requires_grad_();
  for (const char* name : {"cosine", "cosine_zero"}) {
    INFO(name);
    const auto o = fx[std::string(name) + ".options"];
    optim::SGD sgd({p}, {o[0]});
    optim::CosineAnnealingLR sched(sgd, static_cast<std::size_t>(o[1]), o[2]);
    check_schedule(sgd, sched, fx[std::string(name) + ".lrs"]);
  }
  optim::Adam adam({p}, {fx.scalar("lambdalr.options")});
  optim::LambdaLR lambda(adam, [](std::size_t e) { return std::pow(0.9, e) / (1.0 + e); });
  check_schedule(adam, lambda, fx["lambdalr.lrs"]);
  REQUIRE(lambda.base_lr() == fx.scalar("lambdalr.options"));

  optim::SGD sgd({p}, {0.1});
  REQUIRE_THROWS_WITH(optim::CosineAnnealingLR(sgd, 0), Contains("T_max"));
  optim::LambdaLR negative(sgd, [](std::size_t e) { return 1.0 - static_cast<double>(e); });
  negative.step();
  REQUIRE_THROWS_WITH(negative.step(), Contains("lr_lambda(2) = -1"));
}

TEST_CASE("ReduceLROnPlateau matches PyTorch in min, max, rel and abs modes", "[optim]") {
  const testing::Fixture fx("optim.txt");
  Tensor p = zeros({1}).requires_grad_();
  for (const char* name :
       {"plateau_default", "plateau_min", "plateau_abs_cooldown", "plateau_max"}) {
    INFO(name);
    const auto o = fx[std::string(name) + ".options"];
    optim::SGD sgd({p}, {0.1});
    auto options = optim::ReduceLROnPlateauOptions(o[0], static_cast<std::size_t>(o[1]))
                       .mode(o[2] == 0 ? "min" : "max")
                       .threshold(o[3])
                       .threshold_mode(o[4] == 0 ? "rel" : "abs")
                       .cooldown(static_cast<std::size_t>(o[5]))
                       .min_lr(o[6]);
    optim::ReduceLROnPlateau sched(sgd, options);
    std::vector<double> lrs;
    for (double m : fx["plateau.metrics"]) {
      sched.step(m);
      lrs.push_back(sgd.lr());
    }
    testing::require_close(lrs, fx[std::string(name) + ".lrs"], 1e-12, 1e-15);
  }
  optim::SGD sgd({p}, {0.1});
  optim::ReduceLROnPlateau defaults(sgd);
  REQUIRE(defaults.options().factor() == 0.1);
  REQUIRE(defaults.options().patience() == 10);
  REQUIRE(defaults.options().mode() == "min");
  REQUIRE_THROWS_WITH(optim::ReduceLROnPlateau(sgd, 1.5), Contains("factor"));
  REQUIRE_THROWS_WITH(optim::ReduceLROnPlateau(sgd, optim::ReduceLROnPlateauOptions().mode("up")),
                      Contains("mode"));
  REQUIRE_THROWS_WITH(defaults.step(std::nan("")), Contains("NaN"));
}
