// LibTorch's side of the issue-5 benchmarks: the workloads of ag_bench.cpp (groups mlp,
// mlp_relu, ops, matmul, sigx, conv, cnn), written the way LibTorch's C++ frontend documents them.
// Built only where Debian's libtorch-dev is installed (see bench/CMakeLists.txt).
#include <torch/torch.h>

#include <ATen/Parallel.h>

#include "bench_common.hpp"

// torch::set_num_threads bounds ATen's OpenMP pool, not OpenBLAS's threads, which run
// LibTorch's GEMMs on Debian: without this the "one thread" figures use every core.
extern "C" void openblas_set_num_threads(int);

namespace {

using bench::Options;
using bench::Reporter;

const std::vector<std::string> kGroups = {"mlp", "mlp_relu", "ops", "matmul", "sigx", "conv", "cnn"};

struct Batches {
  std::vector<torch::Tensor> inputs;  // float32 {batch, 784} in [0, 1)
  std::vector<torch::Tensor> labels;  // int64 {batch}
};

Batches make_batches(std::int64_t batch) {
  Batches b;
  std::int64_t count = std::int64_t(bench::kSamples) / batch;
  for (std::int64_t i = 0; i < count; ++i) {
    b.inputs.push_back(torch::rand({batch, std::int64_t(bench::kMnistFeatures)}));
    b.labels.push_back(torch::randint(0, std::int64_t(bench::kClasses), {batch}, torch::kLong));
  }
  return b;
}

torch::nn::Sequential make_mlp(const std::vector<std::int64_t>& sizes, bool relu) {
  torch::nn::Sequential seq;
  for (std::size_t i = 0; i + 1 < sizes.size(); ++i) {
    seq->push_back(torch::nn::Linear(sizes[i], sizes[i + 1]));
    if (i + 2 < sizes.size()) {
      if (relu)
        seq->push_back(torch::nn::ReLU());
      else
        seq->push_back(torch::nn::Sigmoid());
    }
  }
  return seq;
}

double train_step_seconds(const Options& o, torch::nn::Sequential& model, const Batches& data) {
  torch::optim::SGD opt(model->parameters(), torch::optim::SGDOptions(bench::kLr));
  std::size_t next = 0;
  return bench::seconds_per_call(o, [&] {
    std::size_t i = next++ % data.inputs.size();
    opt.zero_grad();
    torch::Tensor loss =
        torch::nn::functional::cross_entropy(model->forward(data.inputs[i]), data.labels[i]);
    loss.backward();
    opt.step();
  });
}

void run_mlp(const Options& o, const Reporter& report) {
  for (std::int64_t batch : {1, 32, 256}) {
    Batches data = make_batches(batch);
    auto model = make_mlp({std::int64_t(bench::kMnistFeatures), 100, std::int64_t(bench::kClasses)},
                          false);
    double s = train_step_seconds(o, model, data);
    report("mlp_b" + std::to_string(batch), "samples_per_s", double(batch) / s);
  }
}

void run_mlp_relu(const Options& o, const Reporter& report) {
  Batches data = make_batches(256);
  auto model =
      make_mlp({std::int64_t(bench::kMnistFeatures), 256, 256, std::int64_t(bench::kClasses)}, true);
  report("mlp_relu_b256", "samples_per_s", 256.0 / train_step_seconds(o, model, data));
}

void drop_grad(torch::Tensor& t) { t.mutable_grad() = torch::Tensor(); }

void run_ops(const Options& o, const Reporter& report) {
  for (std::int64_t n : {std::int64_t(1), std::int64_t(1000)}) {
    torch::Tensor x = torch::full({n}, 0.5).requires_grad_();
    torch::Tensor b = torch::full({n}, 0.001).requires_grad_();
    torch::Tensor c = torch::full({n}, 0.999).requires_grad_();
    torch::Tensor seed = torch::ones({n});
    auto chain = [&] {
      torch::Tensor y = x;
      for (std::size_t i = 0; i < bench::kChainOps; ++i) {
        switch (i % 3) {
          case 0: y = y + b; break;
          case 1: y = y * c; break;
          default: y = torch::tanh(y); break;
        }
      }
      return y;
    };
    std::vector<double> fwd, bwd, release, nograd;
    const double per_op = 1e6 / double(bench::kChainOps);
    for (int r = 0; r < o.reps + 1; ++r) {  // the first round warms up and is dropped
      drop_grad(x);
      drop_grad(b);
      drop_grad(c);
      double t0 = bench::now();
      torch::Tensor y = chain();
      double tf = bench::seconds_since(t0);
      t0 = bench::now();
      y.backward(seed);
      double tb = bench::seconds_since(t0);
      t0 = bench::now();
      y = torch::Tensor();
      double tr = bench::seconds_since(t0);
      double tn;
      {
        torch::NoGradGuard guard;
        t0 = bench::now();
        torch::Tensor z = chain();
        tn = bench::seconds_since(t0);
      }
      if (r == 0) continue;
      fwd.push_back(tf * per_op);
      bwd.push_back(tb * per_op);
      release.push_back(tr * per_op);
      nograd.push_back(tn * per_op);
    }
    std::string w = "ops" + std::to_string(n);
    report(w + "_fwd", "us_per_op", bench::median(fwd));
    report(w + "_bwd", "us_per_op", bench::median(bwd));
    report(w + "_release", "us_per_op", bench::median(release));
    report(w + "_nograd", "us_per_op", bench::median(nograd));
  }
}

void run_matmul(const Options& o, const Reporter& report) {
  const std::int64_t n = std::int64_t(bench::kMatmulN);
  const double flops = 2.0 * double(n) * double(n) * double(n);
  torch::Tensor a = torch::randn({n, n}).requires_grad_();
  torch::Tensor b = torch::randn({n, n}).requires_grad_();
  torch::Tensor g = torch::randn({n, n});
  torch::Tensor c;
  double tf = bench::seconds_per_call(o, [&] { c = torch::matmul(a, b); });
  double tb = bench::seconds_with_setup(
      o,
      [&] {
        drop_grad(a);
        drop_grad(b);
        c = torch::matmul(a, b);
      },
      [&] { c.backward(g); });
  report("matmul_fwd", "gflop_per_s", flops / tf * 1e-9);
  report("matmul_bwd", "gflop_per_s", 2 * flops / tb * 1e-9);
  report("matmul_fwdbwd", "gflop_per_s", 3 * flops / (tf + tb) * 1e-9);
}

void run_sigx(const Options& o, const Reporter& report) {
  const std::int64_t n = std::int64_t(bench::kSigxElements);
  torch::Tensor x = torch::randn({n}).requires_grad_();
  torch::Tensor seed = torch::ones({n});
  torch::Tensor y;
  auto f = [&] { y = torch::sigmoid(x) * x + x; };
  double tf = bench::seconds_per_call(o, f);
  double tb = bench::seconds_with_setup(
      o,
      [&] {
        drop_grad(x);
        f();
      },
      [&] { y.backward(seed); });
  y = torch::Tensor();
  report("sigx_fwd", "ns_per_elem", tf / double(n) * 1e9);
  report("sigx_bwd", "ns_per_elem", tb / double(n) * 1e9);
  report("sigx_fwdbwd", "ns_per_elem", (tf + tb) / double(n) * 1e9);
}

void run_conv(const Options& o, const Reporter& report) {
  const bench::ConvShape c;
  auto i64 = [](std::size_t v) { return std::int64_t(v); };
  torch::Tensor x = torch::randn({i64(c.n), i64(c.in), i64(c.h), i64(c.w)}).requires_grad_();
  torch::nn::Conv2d conv(torch::nn::Conv2dOptions(i64(c.in), i64(c.out), i64(c.k)).padding(i64(c.pad)));
  torch::Tensor gy = torch::randn({i64(c.n), i64(c.out), i64(c.h), i64(c.w)});
  torch::Tensor y;
  double tf = bench::seconds_per_call(o, [&] { y = conv->forward(x); });
  double tb = bench::seconds_with_setup(
      o,
      [&] {
        drop_grad(x);
        for (auto& p : conv->parameters()) drop_grad(p);
        y = conv->forward(x);
      },
      [&] { y.backward(gy); });
  report("conv_fwd", "ms", tf * 1e3);
  report("conv_fwdbwd", "ms", (tf + tb) * 1e3);
  report("conv_fwdbwd_rate", "gflop_per_s", 3 * c.gemm_flops() / (tf + tb) * 1e-9);
}

struct LeNetImpl : torch::nn::Module {
  LeNetImpl()
      : conv1(register_module("conv1", torch::nn::Conv2d(torch::nn::Conv2dOptions(1, 6, 5).padding(2)))),
        conv2(register_module("conv2", torch::nn::Conv2d(6, 16, 5))),
        fc1(register_module("fc1", torch::nn::Linear(400, 120))),
        fc2(register_module("fc2", torch::nn::Linear(120, 84))),
        fc3(register_module("fc3", torch::nn::Linear(84, 10))) {}
  torch::Tensor forward(torch::Tensor x) {
    namespace F = torch::nn::functional;
    x = F::max_pool2d(torch::relu(conv1->forward(x)), F::MaxPool2dFuncOptions(2));
    x = F::max_pool2d(torch::relu(conv2->forward(x)), F::MaxPool2dFuncOptions(2));
    x = x.reshape({x.size(0), 400});
    return fc3->forward(torch::relu(fc2->forward(torch::relu(fc1->forward(x)))));
  }
  torch::nn::Conv2d conv1, conv2;
  torch::nn::Linear fc1, fc2, fc3;
};

void run_cnn(const Options& o, const Reporter& report) {
  const std::int64_t batch = std::int64_t(bench::kCnnBatch);
  Batches data = make_batches(batch);
  for (auto& in : data.inputs) in = in.reshape({batch, 1, 28, 28});
  LeNetImpl model;
  torch::optim::SGD opt(model.parameters(), torch::optim::SGDOptions(bench::kCnnLr).momentum(0.9));
  std::size_t next = 0;
  double s = bench::seconds_per_call(o, [&] {
    std::size_t i = next++ % data.inputs.size();
    opt.zero_grad();
    torch::Tensor loss = torch::nn::functional::cross_entropy(model.forward(data.inputs[i]), data.labels[i]);
    loss.backward();
    opt.step();
  });
  report("cnn_b64", "samples_per_s", double(batch) / s);
}

}  // namespace

int main(int argc, char** argv) {
  Options o = bench::parse_options(argc, argv, kGroups);
  // Interop threads can be set once, before any parallel work; intra-op and OpenBLAS threads
  // to the same count as ag's.
  at::set_num_interop_threads(o.threads);
  torch::set_num_threads(o.threads);
  openblas_set_num_threads(o.threads);
  torch::manual_seed(42);
  Reporter report{"torch", o.threads};
  try {
    if (bench::selected(o, "mlp")) run_mlp(o, report);
    if (bench::selected(o, "mlp_relu")) run_mlp_relu(o, report);
    if (bench::selected(o, "ops")) run_ops(o, report);
    if (bench::selected(o, "matmul")) run_matmul(o, report);
    if (bench::selected(o, "sigx")) run_sigx(o, report);
    if (bench::selected(o, "conv")) run_conv(o, report);
    if (bench::selected(o, "cnn")) run_cnn(o, report);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "torch_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
