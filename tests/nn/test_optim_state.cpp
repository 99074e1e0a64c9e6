// Optimizer and scheduler state: save/load checks, and resuming training bit for bit.
#include "helpers.hpp"

#include <nn/nn.hpp>
#include <optim/optim.hpp>

using namespace ag;
using Catch::Matchers::Contains;

namespace {

std::string bytes_of(const Tensor& t) {
  const char* data = t.dtype() == float32 ? reinterpret_cast<const char*>(t.data_ptr<float>())
                                          : reinterpret_cast<const char*>(t.data_ptr<double>());
  return std::string(data, t.numel() * dtype_size(t.dtype()));
}

std::vector<std::string> bytes_of(const nn::Module& m) {
  std::vector<std::string> out;
  for (const auto& p : m.parameters()) out.push_back(bytes_of(p));
  for (const auto& b : m.buffers())
    if (is_floating(b.dtype())) out.push_back(bytes_of(b));
  return out;
}

// Linear -> BatchNorm1d -> ReLU -> Linear: parameters and buffers both have to resume.
std::shared_ptr<nn::Sequential> make_model(std::uint64_t seed) {
  manual_seed(seed);
  return std::make_shared<nn::Sequential>(
      std::make_shared<nn::Linear>(3, 8), std::make_shared<nn::BatchNorm1d>(8),
      std::make_shared<nn::ReLU>(), std::make_shared<nn::Linear>(8, 2));
}

struct Data {
  std::vector<Tensor> inputs, targets;
};

Data make_data() {
  manual_seed(99);
  Data d;
  for (int b = 0; b < 4; ++b) {
    d.inputs.push_back(randn({5, 3}));
    d.targets.push_back(randn({5, 2}));
  }
  return d;
}

void train_epoch(nn::Module& model, optim::Optimizer& opt, optim::LRScheduler& sched,
                 const Data& d) {
  for (std::size_t b = 0; b < d.inputs.size(); ++b) {
    opt.zero_grad();
    nn::functional::mse_loss(model(d.inputs[b]), d.targets[b]).backward();
    opt.step();
  }
  sched.step();
}

using MakeOpt = std::function<std::unique_ptr<optim::Optimizer>(std::vector<Tensor>)>;
using MakeSched = std::function<std::unique_ptr<optim::LRScheduler>(optim::Optimizer&)>;

// 2 epochs straight, against 1 epoch + save + load into fresh objects + 1 epoch.
void check_resume(const MakeOpt& make_opt, const MakeSched& make_sched) {
  const Data data = make_data();
  auto straight = make_model(1);
  auto opt = make_opt(straight->parameters());
  auto sched = make_sched(*opt);
  for (int e = 0; e < 2; ++e) train_epoch(*straight, *opt, *sched, data);

  testing::TempDir dir;
  {
    auto model = make_model(1);
    auto o = make_opt(model->parameters());
    auto s = make_sched(*o);
    train_epoch(*model, *o, *s, data);
    model->save(dir.file("model.npz"));
    o->save(dir.file("optim.npz"));
    s->save(dir.file("sched.npz"));
  }
  auto resumed = make_model(2);  // different initial weights: everything must come from the files
  auto o = make_opt(resumed->parameters());
  auto s = make_sched(*o);
  resumed->load(dir.file("model.npz"));
  o->load(dir.file("optim.npz"));
  s->load(dir.file("sched.npz"));
  train_epoch(*resumed, *o, *s, data);

  REQUIRE(o->lr() == opt->lr());
  REQUIRE(s->last_epoch() == 2);
  REQUIRE(bytes_of(*resumed) == bytes_of(*straight));
}

}  // namespace

TEST_CASE("resuming from model + optimizer + scheduler files continues bit for bit",
          "[optim][state]") {
  SECTION("SGD with momentum and StepLR") {
    check_resume(
        [](std::vector<Tensor> ps) {
          return std::make_unique<optim::SGD>(
              ps, optim::SGDOptions(0.05).momentum(0.9).weight_decay(1e-3));
        },
        [](optim::Optimizer& o) { return std::make_unique<optim::StepLR>(o, 1, 0.5); });
  }
  SECTION("Adam and CosineAnnealingLR") {
    check_resume(
        [](std::vector<Tensor> ps) {
          return std::make_unique<optim::Adam>(ps, optim::AdamOptions(0.01));
        },
        [](optim::Optimizer& o) { return std::make_unique<optim::CosineAnnealingLR>(o, 3); });
  }
  SECTION("RMSprop (centered, momentum) and ExponentialLR") {
    check_resume(
        [](std::vector<Tensor> ps) {
          return std::make_unique<optim::RMSprop>(
              ps, optim::RMSpropOptions(0.01).momentum(0.5).centered(true));
        },
        [](optim::Optimizer& o) { return std::make_unique<optim::ExponentialLR>(o, 0.9); });
  }
  SECTION("Adagrad and LambdaLR") {
    check_resume(
        [](std::vector<Tensor> ps) {
          return std::make_unique<optim::Adagrad>(ps, optim::AdagradOptions(0.05).lr_decay(0.01));
        },
        [](optim::Optimizer& o) {
          return std::make_unique<optim::LambdaLR>(o,
                                                   [](std::size_t e) { return 1.0 / (1.0 + e); });
        });
  }
}

TEST_CASE("a missing load would show: one epoch more without the optimizer state differs",
          "[optim][state]") {
  // Guards check_resume against passing trivially: dropping the momentum buffers changes the bytes.
  const Data data = make_data();
  auto a = make_model(1), b = make_model(1);
  optim::SGD oa(a->parameters(), optim::SGDOptions(0.05).momentum(0.9));
  optim::SGD ob(b->parameters(), optim::SGDOptions(0.05).momentum(0.9));
  optim::StepLR sa(oa, 10), sb(ob, 10);
  train_epoch(*a, oa, sa, data);
  train_epoch(*b, ob, sb, data);
  testing::TempDir dir;
  b->save(dir.file("model.npz"));
  auto c = make_model(2);
  c->load(dir.file("model.npz"));
  optim::SGD oc(c->parameters(), optim::SGDOptions(0.05).momentum(0.9));  // fresh: no momentum
  optim::StepLR sc(oc, 10);
  train_epoch(*a, oa, sa, data);
  train_epoch(*c, oc, sc, data);
  REQUIRE(bytes_of(*a) != bytes_of(*c));
}

TEST_CASE("Optimizer::load checks kind, count, shapes, dtypes and options before changing anything",
          "[optim][state]") {
  testing::TempDir dir;
  const std::string path = dir.file("opt.npz");
  Tensor a = ones({2, 3}).requires_grad_(), b = ones({4}).requires_grad_();
  optim::Adam adam({a, b}, optim::AdamOptions(0.1));
  sum(a * a).backward();  // only a gets a gradient: b has no state yet
  adam.step();
  adam.set_lr(0.025);
  adam.save(path);
  const std::string bytes = testing::read_bytes(path);
  REQUIRE(bytes.find("Adam.0.exp_avg.npy") != std::string::npos);
  REQUIRE(bytes.find("Adam.1.") == std::string::npos);

  Tensor a2 = zeros({2, 3}).requires_grad_(), b2 = zeros({4}).requires_grad_();
  optim::Adam fresh({a2, b2});
  fresh.load(path);
  REQUIRE(fresh.lr() == 0.025);
  REQUIRE(fresh.state(0).at("step").item() == 1);
  REQUIRE(fresh.state(0).at("exp_avg").to_vector() == adam.state(0).at("exp_avg").to_vector());
  REQUIRE(fresh.state(1).empty());

  auto unchanged = [&](optim::Optimizer& o, double lr) {
    REQUIRE(o.lr() == lr);
    REQUIRE(o.state(0).empty());
  };
  optim::SGD sgd({a2, b2}, optim::SGDOptions(0.5).momentum(0.9));
  REQUIRE_THROWS_WITH(sgd.load(path), Contains("Optimizer::load") && Contains("not SGD state"));
  unchanged(sgd, 0.5);
  optim::AdamW adamw({a2, b2}, optim::AdamWOptions(0.5));
  REQUIRE_THROWS_WITH(adamw.load(path), Contains("not AdamW state"));
  optim::Adam one({a2}, optim::AdamOptions(0.5));
  REQUIRE_THROWS_WITH(one.load(path),
                      Contains("state for 2 parameters") && Contains("optimizes 1"));
  unchanged(one, 0.5);
  Tensor wide = zeros({3, 2}).requires_grad_();
  optim::Adam shaped({wide, b2}, optim::AdamOptions(0.5));
  REQUIRE_THROWS_WITH(shaped.load(path),
                      Contains("Adam.0.exp_avg") && Contains("{2, 3}") && Contains("{3, 2}"));
  unchanged(shaped, 0.5);
  Tensor a64 = zeros({2, 3}, float64).requires_grad_();
  optim::Adam typed({a64, b2}, optim::AdamOptions(0.5));
  REQUIRE_THROWS_WITH(typed.load(path), Contains("float32") && Contains("float64"));

  // Options that keep other state: a momentum file cannot load into plain SGD.
  optim::SGD momentum({a, b}, optim::SGDOptions(0.1).momentum(0.9));
  momentum.step();
  momentum.save(path);
  optim::SGD plain({a2, b2}, optim::SGDOptions(0.1));
  REQUIRE_THROWS_WITH(plain.load(path),
                      Contains("SGD.0.momentum_buffer") && Contains("matches no state"));
  optim::RMSprop centered({a2, b2}, optim::RMSpropOptions().centered(true));
  optim::RMSprop rms({a, b});
  rms.step();
  rms.save(path);
  REQUIRE_THROWS_WITH(centered.load(path), Contains("1 of the") || Contains("2 of the 3"));

  REQUIRE_THROWS_WITH(plain.load(dir.file("missing.npz")),
                      Contains("Optimizer::load") && Contains("missing.npz"));
  testing::write_bytes(path, "not a zip");
  REQUIRE_THROWS_WITH(plain.load(path), Contains("Optimizer::load") && Contains("not an .npz"));
}

TEST_CASE("scheduler state saves and loads, checked by kind", "[optim][state]") {
  testing::TempDir dir;
  Tensor p = zeros({1}).requires_grad_();
  optim::SGD sgd({p}, {0.1});
  optim::StepLR step(sgd, 2, 0.5);
  step.step();
  step.step();
  step.save(dir.file("step.npz"));
  optim::StepLR loaded(sgd, 2, 0.5);
  loaded.load(dir.file("step.npz"));
  REQUIRE(loaded.last_epoch() == 2);
  optim::ExponentialLR other(sgd, 0.5);
  REQUIRE_THROWS_WITH(other.load(dir.file("step.npz")), Contains("not ExponentialLR state"));

  optim::ReduceLROnPlateau plateau(sgd, 0.5, 1);
  for (double m : {1.0, 0.5, 0.6}) plateau.step(m);
  plateau.save(dir.file("plateau.npz"));
  optim::ReduceLROnPlateau back(sgd, 0.5, 1);
  back.load(dir.file("plateau.npz"));
  REQUIRE(back.best() == 0.5);
  REQUIRE(back.num_bad_epochs() == 1);
  REQUIRE(back.last_epoch() == 3);
  const double lr = sgd.lr();
  back.step(0.7);  // the second bad epoch in a row: patience 1 is exceeded
  REQUIRE(sgd.lr() == lr * 0.5);
  REQUIRE_THROWS_WITH(back.load(dir.file("step.npz")), Contains("not ReduceLROnPlateau state"));
}

namespace {
// A user-defined optimizer that overrides only step(), as code written before state existed does.
struct SignDescent : optim::Optimizer {
  using Optimizer::Optimizer;
  void step() override {
    NoGradGuard no_grad;
    for (auto& p : params_)
      if (p.grad().defined()) p.add_(sign(p.grad()), -lr());
  }
};
}  // namespace

TEST_CASE("a user-defined optimizer needs only step(); it saves its learning rate under its name",
          "[optim][state]") {
  testing::TempDir dir;
  Tensor p = tensor({1, -2}).requires_grad_();
  SignDescent opt({p}, 0.5);
  REQUIRE(opt.name() == "SignDescent");
  sum(p * p).backward();
  opt.step();
  REQUIRE(p.to_vector() == std::vector<double>{0.5, -1.5});
  opt.set_lr(0.125);
  opt.save(dir.file("sign.npz"));
  SignDescent fresh({p}, 1.0);
  fresh.load(dir.file("sign.npz"));
  REQUIRE(fresh.lr() == 0.125);
  optim::SGD sgd({p}, {0.1});
  REQUIRE_THROWS_WITH(sgd.load(dir.file("sign.npz")), Contains("'SignDescent.lr'"));
}
