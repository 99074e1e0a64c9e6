// DistributedDataParallel at the world size the test runs with. The central check: W ranks at
// per-rank batch b end, after 50 steps of SGD with momentum, with the weights that one process
// gets at batch W * b on the same samples. Every rank computes that single-process reference
// itself (no communication), from the same samplers it would have used, and compares.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include <autograd/autograd.hpp>
#include <autograd/detail/impl.hpp>
#include <data/data.hpp>
#include <dist/dist.hpp>
#include <nn/nn.hpp>
#include <optim/optim.hpp>

using ag::Tensor;
namespace dist = ag::dist;
namespace F = ag::nn::functional;

namespace {

constexpr std::size_t kSamples = 61;  // divisible by neither 2 nor 3: the sampler pads
constexpr std::size_t kBatch = 4;     // per rank
constexpr int kSteps = 50;

ag::data::TensorDataset make_data(ag::Dtype dtype) {
  ag::manual_seed(123);
  Tensor x = ag::randn({kSamples, 5}, dtype);
  Tensor y = ag::argmax(ag::matmul(x, ag::randn({5, 3}, dtype)), 1);
  return {x, y};
}

std::shared_ptr<ag::nn::Sequential> make_model(ag::Dtype dtype, std::uint64_t seed) {
  ag::manual_seed(seed);
  auto model = ag::nn::mlp({5, 8, 3}, "tanh");
  model->to(dtype);
  return model;
}

std::vector<Tensor> snapshot(const ag::nn::Module& m) {
  std::vector<Tensor> out;
  for (const Tensor& p : m.parameters()) out.push_back(p.detach().clone());
  return out;
}

ag::optim::SGD make_sgd(const ag::nn::Module& m) {
  ag::optim::SGDOptions o{0.1};
  o.momentum = 0.9;
  return ag::optim::SGD(m.parameters(), o);
}

// kSteps steps on this rank's share, through DDP (each rank's model starts from its own seed:
// DDP must copy rank 0's weights).
std::vector<Tensor> train_distributed(ag::Dtype dtype, dist::DDPOptions options) {
  ag::data::TensorDataset data = make_data(dtype);
  auto model = make_model(dtype, 7 + static_cast<std::uint64_t>(dist::rank()));
  dist::DistributedDataParallel ddp(model, options);
  ag::optim::SGD sgd = make_sgd(*model);
  dist::DistributedSampler sampler(kSamples, true, 11);
  ag::data::DataLoader loader(data, kBatch, sampler);
  int step = 0;
  for (std::size_t epoch = 0; step < kSteps; ++epoch) {
    sampler.set_epoch(epoch);
    for (const ag::data::Batch& b : loader) {
      if (step++ == kSteps) break;
      sgd.zero_grad();
      F::cross_entropy(ddp(b.inputs), b.targets).backward();
      sgd.step();
    }
  }
  return snapshot(*model);
}

// The same steps in one process: each global batch is the union of the ranks' batches.
std::vector<Tensor> train_single(ag::Dtype dtype, int world) {
  ag::data::TensorDataset data = make_data(dtype);
  auto model = make_model(dtype, 7);  // rank 0's seed
  ag::optim::SGD sgd = make_sgd(*model);
  std::vector<dist::DistributedSampler> samplers;
  for (int r = 0; r < world; ++r)
    samplers.push_back(dist::DistributedSampler::for_rank(kSamples, world, r, true, 11));
  int step = 0;
  for (std::size_t epoch = 0; step < kSteps; ++epoch) {
    std::vector<std::vector<std::size_t>> shares;
    for (auto& s : samplers) s.set_epoch(epoch), shares.push_back(s.indices());
    for (std::size_t start = 0; start < shares[0].size() && step < kSteps; start += kBatch, ++step) {
      std::vector<std::size_t> batch;
      for (const auto& share : shares)
        for (std::size_t k = start; k < std::min(start + kBatch, share.size()); ++k)
          batch.push_back(share[k]);
      Tensor x = ag::data::gather_rows(data.inputs(), batch);
      Tensor y = ag::data::gather_rows(data.targets(), batch);
      sgd.zero_grad();
      F::cross_entropy((*model)(x), y).backward();
      sgd.step();
    }
  }
  return snapshot(*model);
}

double max_relative_error(const std::vector<Tensor>& a, const std::vector<Tensor>& b) {
  double worst = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    std::vector<double> x = a[i].to_vector(), y = b[i].to_vector();
    double scale = 0, diff = 0;
    for (std::size_t k = 0; k < x.size(); ++k)
      scale = std::max(scale, std::abs(y[k])), diff = std::max(diff, std::abs(x[k] - y[k]));
    worst = std::max(worst, diff / scale);
  }
  return worst;
}

bool bitwise_equal(const std::vector<Tensor>& a, const std::vector<Tensor>& b) {
  for (std::size_t i = 0; i < a.size(); ++i)
    if (a[i].to_vector() != b[i].to_vector()) return false;
  return a.size() == b.size();
}

// Every rank holds exactly the same values (max over ranks of t and of -t give t and -t back).
bool same_on_every_rank(const std::vector<Tensor>& ts) {
  bool same = true;
  for (const Tensor& t : ts) {
    Tensor hi = t.to(ag::float64).detach().clone(), lo = (-t.to(ag::float64)).detach().clone();
    dist::all_reduce(hi, dist::ReduceOp::Max);
    dist::all_reduce(lo, dist::ReduceOp::Max);
    std::vector<double> v = t.to_vector(), h = hi.to_vector(), l = lo.to_vector();
    for (std::size_t k = 0; k < v.size(); ++k) same = same && h[k] == v[k] && l[k] == -v[k];
  }
  return same;
}

}  // namespace

TEST_CASE("DDP: W ranks at batch b equal one process at batch W*b after 50 SGD-momentum steps") {
  const int w = dist::world_size();
  for (ag::Dtype dtype : {ag::float32, ag::float64}) {
    const double tolerance = dtype == ag::float32 ? 1e-5 : 1e-12;
    const std::vector<Tensor> reference = train_single(dtype, w);
    // One bucket for everything; a bucket per parameter (4 all-reduces in flight); every
    // gradient reduced in place in its .grad; the weights in place and the biases in buckets.
    const std::vector<std::pair<const char*, dist::DDPOptions>> settings = {
        {"one bucket", dist::DDPOptions()},
        {"bucket per parameter", dist::DDPOptions().set_bucket_bytes(16)},
        {"all in place", dist::DDPOptions().set_in_place_bytes(0)},
        {"weights in place", dist::DDPOptions().set_in_place_bytes(96)}};
    for (const auto& [name, options] : settings) {
      CAPTURE(ag::dtype_name(dtype), w, name);
      std::vector<Tensor> got = train_distributed(dtype, options);
      double error = max_relative_error(got, reference);
      CAPTURE(error);
      CHECK(error <= tolerance);
      CHECK(same_on_every_rank(got));
      // Deterministic: the same run again gives the same bits.
      CHECK(bitwise_equal(train_distributed(dtype, options), got));
    }
  }
}

TEST_CASE("DDP: buckets hold parameters in reverse registration order") {
  auto model = make_model(ag::float32, 1);  // 0.weight {8, 5}, 0.bias {8}, 2.weight {3, 8}, 2.bias {3}
  dist::DistributedDataParallel one(model);
  CHECK(one.bucket_names() ==
        std::vector<std::vector<std::string>>{{"2.bias", "2.weight", "0.bias", "0.weight"}});
  dist::DistributedDataParallel small(model, dist::DDPOptions().set_bucket_bytes(100));
  CHECK(small.bucket_names() ==  // 12 + 96 bytes > 100: 2.weight starts a bucket
        std::vector<std::vector<std::string>>{{"2.bias"}, {"2.weight"}, {"0.bias"}, {"0.weight"}});
  dist::DistributedDataParallel mid(model, dist::DDPOptions().set_bucket_bytes(140));
  CHECK(mid.bucket_names() ==
        std::vector<std::vector<std::string>>{{"2.bias", "2.weight", "0.bias"}, {"0.weight"}});
  // Gradients of in_place_bytes or more are buckets of their own, and close the bucket before.
  dist::DistributedDataParallel large(model, dist::DDPOptions().set_in_place_bytes(160));
  CHECK(large.bucket_names() ==
        std::vector<std::vector<std::string>>{{"2.bias", "2.weight", "0.bias"}, {"0.weight"}});
  dist::DistributedDataParallel weights(model, dist::DDPOptions().set_in_place_bytes(96));
  CHECK(weights.bucket_names() ==
        std::vector<std::vector<std::string>>{{"2.bias"}, {"2.weight"}, {"0.bias"}, {"0.weight"}});
}

TEST_CASE("DDP: construction copies rank 0's parameters to every rank") {
  auto model = make_model(ag::float64, 100 + static_cast<std::uint64_t>(dist::rank()));
  dist::DistributedDataParallel ddp(model);
  CHECK(bitwise_equal(snapshot(*model), snapshot(*make_model(ag::float64, 100))));
  CHECK(same_on_every_rank(snapshot(*model)));
}

TEST_CASE("DDP: gradients are the mean over the ranks of the local gradients") {
  const bool in_place = GENERATE(false, true);
  CAPTURE(in_place);
  auto model = make_model(ag::float64, 5);
  dist::DistributedDataParallel ddp(
      model, dist::DDPOptions().set_bucket_bytes(64).set_in_place_bytes(in_place ? 0 : 1 << 20));
  ag::manual_seed(50 + static_cast<std::uint64_t>(dist::rank()));  // different data per rank
  Tensor x = ag::randn({6, 5}, ag::float64);
  // The local gradients, through the module itself (DDP is not armed by it) ...
  F::mse_loss((*model)(x), ag::zeros({6, 3}, ag::float64)).backward();
  std::vector<Tensor> expected;
  for (Tensor& p : model->parameters()) {
    Tensor g = p.grad().clone();
    dist::all_reduce(g, dist::ReduceOp::Mean);
    expected.push_back(g);
  }
  model->zero_grad();
  // ... then through DDP, twice without zero_grad: the mean of the sums.
  for (int pass = 0; pass < 2; ++pass)
    F::mse_loss(ddp(x), ag::zeros({6, 3}, ag::float64)).backward();
  std::vector<Tensor> params = model->parameters();
  for (std::size_t i = 0; i < params.size(); ++i) {
    CHECK(max_relative_error({params[i].grad()}, {expected[i] * 2.0}) <= 1e-14);
    // DDP keeps no reference to a .grad it reduced in place: the next backward accumulates
    // into it as into any other gradient.
    CHECK(params[i].impl()->grad.impl_ptr().use_count() == 1);
  }
  CHECK(ddp.wait_seconds() >= 0);
}

namespace {

// Uses `a` everywhere, `b` on rank 0 only, `c` nowhere.
struct Branchy : ag::nn::Module {
  std::shared_ptr<ag::nn::Linear> a, b, c;
  Branchy() {
    a = register_module("a", std::make_shared<ag::nn::Linear>(3, 2));
    b = register_module("b", std::make_shared<ag::nn::Linear>(3, 2));
    c = register_module("c", std::make_shared<ag::nn::Linear>(3, 2));
  }
  Tensor forward(const Tensor& x) override {
    return dist::rank() == 0 ? (*a)(x) + (*b)(x) : (*a)(x);
  }
};

}  // namespace

TEST_CASE("DDP: find_unused_parameters averages in zeros and leaves unused ones undefined") {
  const bool in_place = GENERATE(false, true);
  CAPTURE(in_place);
  ag::manual_seed(3);
  auto model = std::make_shared<Branchy>();
  dist::DistributedDataParallel ddp(
      model, dist::DDPOptions().set_find_unused_parameters(true).set_in_place_bytes(in_place ? 0 : 1 << 20));
  Tensor x = ag::ones({4, 3});
  (*model)(x).sum().backward();  // local gradients first
  Tensor b_rank0 = model->b->parameters()[0].grad().defined()
                       ? model->b->parameters()[0].grad().clone() : ag::zeros({2, 3});
  dist::broadcast(b_rank0, 0);
  model->zero_grad();
  for (int step = 0; step < 2; ++step) {  // twice: the state resets between steps
    model->zero_grad();
    ddp(x).sum().backward();
    Tensor gb = model->b->parameters()[0].grad();
    REQUIRE(gb.defined());
    CHECK(max_relative_error({gb}, {b_rank0 * (1.0 / dist::world_size())}) <= 1e-6);
    for (const Tensor& p : model->c->parameters()) CHECK_FALSE(p.grad().defined());
    CHECK(same_on_every_rank({gb, model->a->parameters()[0].grad()}));
  }
}

TEST_CASE("DDP: a parameter without gradient is reported by the next forward") {
  ag::manual_seed(3);
  auto model = std::make_shared<Branchy>();
  dist::DistributedDataParallel ddp(model);
  Tensor x = ag::ones({4, 3});
  ddp(x).sum().backward();  // c never gets a gradient (b only on rank 0)
  CHECK_THROWS_WITH(ddp(x), Catch::Contains("'c.weight'") && Catch::Contains("find_unused_parameters"));
}

TEST_CASE("DDP: different models on different ranks are an error on every rank") {
  const int w = dist::world_size();
  ag::manual_seed(1);
  std::size_t hidden = dist::rank() == w - 1 && w > 1 ? 9 : 8;
  auto model = ag::nn::mlp({5, hidden, 3}, "tanh");
  if (w == 1) {
    CHECK_NOTHROW(dist::DistributedDataParallel(model));
    return;
  }
  CHECK_THROWS_WITH(dist::DistributedDataParallel(model),
                    Catch::Contains("rank 0 has parameter '0.weight' {8, 5} float32 where rank " +
                                    std::to_string(w - 1) + " has parameter '0.weight' {9, 5} float32"));
  // Options must agree too (they decide the buckets).
  auto same = ag::nn::mlp({5, 8, 3}, "tanh");
  CHECK_THROWS_WITH(dist::DistributedDataParallel(
                        same, dist::DDPOptions().set_bucket_bytes(1000 + dist::rank())),
                    Catch::Contains("rank 0 has options: bucket_bytes 1000"));
}

TEST_CASE("DDP: construction copies rank 0's buffers and checks them across ranks") {
  ag::manual_seed(4);
  auto bn = std::make_shared<ag::nn::BatchNorm1d>(3);
  auto model = std::make_shared<ag::nn::Sequential>(std::make_shared<ag::nn::Linear>(2, 3), bn);
  {
    ag::NoGradGuard no_grad;
    bn->running_mean.fill_(1.0 + dist::rank());
    bn->num_batches_tracked.fill_(5.0 + dist::rank());
  }
  dist::DistributedDataParallel ddp(model);
  CHECK(bn->running_mean.to_vector() == std::vector<double>(3, 1.0));
  CHECK(bn->num_batches_tracked.item() == 5.0);
  CHECK(same_on_every_rank({bn->running_var, bn->running_mean}));
  if (dist::world_size() == 1) return;
  auto other = std::make_shared<ag::nn::Sequential>(
      std::make_shared<ag::nn::Linear>(2, 3),
      std::make_shared<ag::nn::BatchNorm1d>(3, 1e-5, 0.1, true, dist::rank() == 0));
  CHECK_THROWS_WITH(dist::DistributedDataParallel(other),
                    Catch::Contains("rank 0 has buffer '1.running_mean' {3} float32 where rank 1 "
                                    "has nothing more"));
}
