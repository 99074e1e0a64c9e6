// ag's side of the issue-5 benchmarks. torch_bench.cpp runs the same workloads on LibTorch;
// bench/run.sh runs both alternately and prints the ratios. Groups (--only):
//   mlp       784-100-10 sigmoid MLP, cross-entropy, SGD: training samples/s at batch 1, 32, 256,
//             and the roofline: the step's own BLAS calls replayed alone (roofline.hpp)
//   mlp_relu  784-256-256-10 ReLU MLP at batch 256, with its roofline
//   ops       per-op overhead: a chain of 10,000 elementwise ops, forward / backward / no-grad
//   matmul    1024x1024 matmul forward and backward in GFLOP/s, and a raw cblas_sgemm
//   sigx      y = sigmoid(x) * x + x on 10M floats, ns per element
//   hand      autograd against hand-written backprop of the mlp workload (ag only)
//   par       large elementwise ops and a reduction against raw TBB loops (ag only; scaling)
//   conv      one conv layer (64x16x28x28, 16->32, 3x3, pad 1) forward+backward in GFLOP/s, and
//             the same three GEMMs per sample on prepared im2col matrices through cblas_sgemm
//   cnn       LeNet-5 (Fashion-MNIST shapes) training, SGD momentum 0.9, batch 64: samples/s
#include <cblas.h>  // OpenBLAS's: also declares openblas_set_num_threads

#include <cstdlib>

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/parallel_reduce.h>

#include <autograd/autograd.hpp>
#include <nn/nn.hpp>
#include <optim/optim.hpp>

#include "bench_common.hpp"
#include "roofline.hpp"

namespace {

using bench::Options;
using bench::Reporter;
namespace F = ag::nn::functional;

const std::vector<std::string> kGroups = {"mlp", "mlp_relu", "ops", "matmul", "sigx",
                                          "hand", "par",  "conv", "cnn"};

// MNIST-shaped random data, cut into batches once so that slicing is not timed.
struct Batches {
  std::vector<ag::Tensor> inputs;  // float32 {batch, 784} in [0, 1)
  std::vector<ag::Tensor> labels;  // int64 {batch}
};

Batches make_batches(std::size_t batch) {
  Batches b;
  std::size_t count = bench::kSamples / batch;
  for (std::size_t i = 0; i < count; ++i) {
    b.inputs.push_back(ag::rand({batch, bench::kMnistFeatures}));
    std::vector<double> labels(batch);
    for (auto& l : labels) l = static_cast<double>(ag::random_u64() % bench::kClasses);
    b.labels.push_back(ag::tensor(labels, {batch}, ag::int64));
  }
  return b;
}

// One SGD training step of `model` (cross-entropy), cycling through the batches.
struct TrainStep {
  std::shared_ptr<ag::nn::Sequential> model;
  const Batches& data;
  ag::optim::SGD opt{model->parameters(), ag::optim::SGDOptions{bench::kLr}};
  std::size_t next = 0;
  void operator()() {
    std::size_t i = next++ % data.inputs.size();
    opt.zero_grad();
    ag::Tensor loss = F::cross_entropy((*model)(data.inputs[i]), data.labels[i]);
    loss.backward();
    opt.step();
  }
};

// The BLAS calls of one step, recorded at one thread so that no product is split into TBB
// blocks (bench/roofline.hpp), with float32 products on `backend` (ag's own choice, or OpenBLAS
// for the literal roofline). The model's weights move by one step: harmless for timing.
bench::Replay record_step(TrainStep& step, int threads, const std::string& backend) {
  const std::string own = ag::matmul_backend();
  ag::set_num_threads(1);
  ag::set_matmul_backend(backend);
  std::vector<bench::BlasCall> calls;
  {
    bench::Recording rec;
    step();
    calls = rec.calls();
  }
  ag::set_matmul_backend(own);
  ag::set_num_threads(threads);
  return bench::Replay(std::move(calls));
}

// Seconds of the recorded products alone: the faster of the libraries at the run's thread count
// and at one thread (ag keeps them at one thread and splits large products over TBB itself). One
// thread last, so that no OpenMP thread of oneDNN still spins when the step is timed next.
double gemm_seconds(const Options& o, bench::Replay& replay) {
  double best = 1e30;
  if (o.threads > 1) {
    bench::Replay::set_library_threads(o.threads);
    best = bench::seconds_per_call(o, [&] { replay.run(); });
  }
  bench::Replay::set_library_threads(1);
  return std::min(best, bench::seconds_per_call(o, [&] { replay.run(); }));
}

// Times the step and then its matrix products alone, alternating within each repetition so that
// load on a shared machine hits both alike. Reports samples/s of each and the roofline fractions
// (products-only time / step time, medians over the repetitions; 1 would be all math):
// `_roofline` for the products as ag ran them (its matmul backend), `_roofline_cblas` for the
// same step's products as ag's OpenBLAS backend makes them (cblas_sgemm / sgemv calls).
void report_step_and_roofline(const Options& o, const Reporter& report, const std::string& name,
                              TrainStep& step, std::size_t batch) {
  bench::Replay own = record_step(step, o.threads, ag::matmul_backend());
  bench::Replay cblas = record_step(step, o.threads, "openblas");
  Options one = o;
  one.reps = 1;
  std::vector<double> ts, tg, tc, fraction, fraction_cblas;
  for (int r = 0; r < o.reps; ++r) {
    ts.push_back(bench::seconds_per_call(one, step));
    tg.push_back(gemm_seconds(one, own));
    tc.push_back(gemm_seconds(one, cblas));
    fraction.push_back(tg.back() / ts.back());
    fraction_cblas.push_back(tc.back() / ts.back());
  }
  report(name, "samples_per_s", double(batch) / bench::median(ts));
  report(name + "_gemms", "samples_per_s", double(batch) / bench::median(tg));
  report(name + "_roofline", "fraction", bench::median(fraction));
  report(name + "_blas_calls", "count", double(own.size()));
  report(name + "_gemms_cblas", "samples_per_s", double(batch) / bench::median(tc));
  report(name + "_roofline_cblas", "fraction", bench::median(fraction_cblas));
}

void run_mlp(const Options& o, const Reporter& report) {
  for (std::size_t batch : {1, 32, 256}) {
    Batches data = make_batches(batch);
    TrainStep step{ag::nn::mlp({bench::kMnistFeatures, 100, bench::kClasses}, "sigmoid"), data};
    report_step_and_roofline(o, report, "mlp_b" + std::to_string(batch), step, batch);
  }
}

void run_mlp_relu(const Options& o, const Reporter& report) {
  Batches data = make_batches(256);
  TrainStep step{ag::nn::mlp({bench::kMnistFeatures, 256, 256, bench::kClasses}, "relu"), data};
  report_step_and_roofline(o, report, "mlp_relu_b256", step, 256);
}

// Workload 3: kChainOps elementwise ops cycling through add, mul (both with a leaf that requires
// grad) and tanh, which keeps the values bounded. Forward, backward and the release of the
// graph are timed separately, per op.
void run_ops(const Options& o, const Reporter& report) {
  for (std::size_t n : {std::size_t(1), std::size_t(1000)}) {
    ag::Tensor x = ag::full({n}, 0.5);
    ag::Tensor b = ag::full({n}, 0.001);
    ag::Tensor c = ag::full({n}, 0.999);
    x.requires_grad_();
    b.requires_grad_();
    c.requires_grad_();
    ag::Tensor seed = ag::ones({n});
    auto chain = [&] {
      ag::Tensor y = x;
      for (std::size_t i = 0; i < bench::kChainOps; ++i) {
        switch (i % 3) {
          case 0: y = y + b; break;
          case 1: y = y * c; break;
          default: y = ag::tanh(y); break;
        }
      }
      return y;
    };
    std::vector<double> fwd, bwd, release, nograd;
    const double per_op = 1e6 / double(bench::kChainOps);  // seconds per chain -> µs per op
    for (int r = 0; r < o.reps + 1; ++r) {  // the first round warms up and is dropped
      x.zero_grad();
      b.zero_grad();
      c.zero_grad();
      double t0 = bench::now();
      ag::Tensor y = chain();
      double tf = bench::seconds_since(t0);
      t0 = bench::now();
      y.backward(seed);
      double tb = bench::seconds_since(t0);
      t0 = bench::now();
      y = ag::Tensor();
      double tr = bench::seconds_since(t0);
      double tn;
      {
        ag::NoGradGuard guard;
        t0 = bench::now();
        ag::Tensor z = chain();
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
  const std::size_t n = bench::kMatmulN;
  const double flops = 2.0 * double(n) * double(n) * double(n);
  ag::Tensor a = ag::randn({n, n});
  ag::Tensor b = ag::randn({n, n});
  ag::Tensor g = ag::randn({n, n});
  a.requires_grad_();
  b.requires_grad_();
  ag::Tensor c;
  double tf = bench::seconds_per_call(o, [&] { c = ag::matmul(a, b); });
  double tb = bench::seconds_with_setup(
      o,
      [&] {
        a.zero_grad();
        b.zero_grad();
        c = ag::matmul(a, b);
      },
      [&] { c.backward(g); });
  report("matmul_fwd", "gflop_per_s", flops / tf * 1e-9);
  report("matmul_bwd", "gflop_per_s", 2 * flops / tb * 1e-9);
  report("matmul_fwdbwd", "gflop_per_s", 3 * flops / (tf + tb) * 1e-9);

  // The reference: one raw sgemm with OpenBLAS's own threads at the same count. ag keeps
  // OpenBLAS single-threaded (it splits large products over TBB), so set it here and put
  // ag's setting back afterwards.
  std::vector<float> ra(n * n, 0.5f), rb(n * n, 0.25f), rc(n * n);
  openblas_set_num_threads(o.threads);
  double ts = bench::seconds_per_call(o, [&] {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(n), int(n), int(n), 1.0f,
                ra.data(), int(n), rb.data(), int(n), 0.0f, rc.data(), int(n));
  });
  openblas_set_num_threads(1);
  report("cblas_sgemm", "gflop_per_s", flops / ts * 1e-9);
}

// Workload 5: y = sigmoid(x) * x + x, forward and backward, per element.
void run_sigx(const Options& o, const Reporter& report) {
  const std::size_t n = bench::kSigxElements;
  ag::Tensor x = ag::randn({n});
  x.requires_grad_();
  ag::Tensor seed = ag::ones({n});
  ag::Tensor y;
  auto f = [&] { y = ag::sigmoid(x) * x + x; };
  double tf = bench::seconds_per_call(o, f);
  double tb = bench::seconds_with_setup(
      o,
      [&] {
        x.zero_grad();
        f();
      },
      [&] { y.backward(seed); });
  y = ag::Tensor();
  report("sigx_fwd", "ns_per_elem", tf / double(n) * 1e9);
  report("sigx_bwd", "ns_per_elem", tb / double(n) * 1e9);
  report("sigx_fwdbwd", "ns_per_elem", (tf + tb) / double(n) * 1e9);
}

// Workload 6: the mlp workload's training step written out by hand, twice: with ag's ops under
// NoGradGuard (the same kernels as autograd, no graph), and with raw cblas and loops.
struct HandMlp {
  static constexpr std::size_t kIn = bench::kMnistFeatures, kHidden = 100, kOut = bench::kClasses;
  ag::Tensor w1, b1, w2, b2;  // plain tensors: nothing requires grad
  // Starts from copies of the autograd model's parameters (weight, bias, weight, bias).
  explicit HandMlp(const std::vector<ag::Tensor>& p)
      : w1(p.at(0).detach().clone()), b1(p.at(1).detach().clone()),
        w2(p.at(2).detach().clone()), b2(p.at(3).detach().clone()) {}

  void step(const ag::Tensor& x, const ag::Tensor& labels) {
    ag::NoGradGuard guard;
    const double inv_batch = 1.0 / double(x.size(0));
    ag::Tensor h = ag::sigmoid(ag::linear(x, w1, b1));
    ag::Tensor log_p = ag::log_softmax(ag::linear(h, w2, b2), 1);
    ag::Tensor loss = -ag::mean(ag::gather(log_p, 1, ag::unsqueeze(labels, 1)));
    // d loss / d logits = (softmax - one_hot) / batch; then back through both layers.
    ag::Tensor d2 = (ag::exp(log_p) - ag::one_hot(labels, kOut)) * inv_batch;
    ag::Tensor dw2 = ag::matmul(ag::t(d2), h);
    ag::Tensor db2 = ag::sum(d2, {0});
    ag::Tensor dz1 = ag::matmul(d2, w2) * h * (1.0 - h);
    ag::Tensor dw1 = ag::matmul(ag::t(dz1), x);
    ag::Tensor db1 = ag::sum(dz1, {0});
    w1.add_(dw1, -bench::kLr);
    b1.add_(db1, -bench::kLr);
    w2.add_(dw2, -bench::kLr);
    b2.add_(db2, -bench::kLr);
  }
};

// The same step on plain buffers: what a careful C++ programmer writes without a library.
struct RawMlp {
  static constexpr int kIn = int(bench::kMnistFeatures), kHidden = 100, kOut = int(bench::kClasses);
  std::vector<float> w1, b1, w2, b2, h, p, dz1, dw1, db1, dw2, db2;
  RawMlp(int batch, const std::vector<ag::Tensor>& params)
      : w1(values(params.at(0))), b1(values(params.at(1))), w2(values(params.at(2))),
        b2(values(params.at(3))), h(std::size_t(batch) * kHidden), p(std::size_t(batch) * kOut),
        dz1(std::size_t(batch) * kHidden), dw1(w1.size()), db1(kHidden), dw2(w2.size()),
        db2(kOut) {}

  static std::vector<float> values(const ag::Tensor& t) {
    const float* d = t.data_ptr<float>();
    return std::vector<float>(d, d + t.numel());
  }

  // out {batch, n} = in {batch, k} w^T + bias
  static void affine(int batch, int n, int k, const float* in, const float* w, const float* bias,
                     float* out) {
    for (int i = 0; i < batch; ++i) std::copy(bias, bias + n, out + std::size_t(i) * n);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, batch, n, k, 1.f, in, k, w, k, 1.f, out,
                n);
  }
  static void column_sums(int batch, int n, const float* d, float* out) {
    std::fill(out, out + n, 0.f);
    for (int i = 0; i < batch; ++i)
      for (int j = 0; j < n; ++j) out[j] += d[std::size_t(i) * n + j];
  }
  static void sgd(std::vector<float>& w, const std::vector<float>& dw) {
    const float lr = float(bench::kLr);
    for (std::size_t i = 0; i < w.size(); ++i) w[i] -= lr * dw[i];
  }

  float step(const ag::Tensor& xt, const ag::Tensor& labels_t) {
    const int batch = int(xt.size(0));
    const float* x = xt.data_ptr<float>();
    const std::int64_t* labels = labels_t.data_ptr<std::int64_t>();
    affine(batch, kHidden, kIn, x, w1.data(), b1.data(), h.data());
    for (float& v : h) v = 1.f / (1.f + std::exp(-v));
    affine(batch, kOut, kHidden, h.data(), w2.data(), b2.data(), p.data());
    // Softmax rows in place, the loss, then p becomes d loss / d logits.
    float loss = 0;
    const float inv_batch = 1.f / float(batch);
    for (int i = 0; i < batch; ++i) {
      float* row = p.data() + std::size_t(i) * kOut;
      float mx = *std::max_element(row, row + kOut), total = 0;
      for (int j = 0; j < kOut; ++j) total += (row[j] = std::exp(row[j] - mx));
      for (int j = 0; j < kOut; ++j) row[j] /= total;
      loss -= std::log(row[labels[i]]) * inv_batch;
      row[labels[i]] -= 1.f;
      for (int j = 0; j < kOut; ++j) row[j] *= inv_batch;
    }
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, kOut, kHidden, batch, 1.f, p.data(),
                kOut, h.data(), kHidden, 0.f, dw2.data(), kHidden);
    column_sums(batch, kOut, p.data(), db2.data());
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, batch, kHidden, kOut, 1.f, p.data(),
                kOut, w2.data(), kHidden, 0.f, dz1.data(), kHidden);
    for (std::size_t i = 0; i < dz1.size(); ++i) dz1[i] *= h[i] * (1.f - h[i]);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, kHidden, kIn, batch, 1.f, dz1.data(),
                kHidden, x, kIn, 0.f, dw1.data(), kIn);
    column_sums(batch, kHidden, dz1.data(), db1.data());
    sgd(w1, dw1);
    sgd(b1, db1);
    sgd(w2, dw2);
    sgd(b2, db2);
    return loss;
  }
};

// Largest |a - b| over two parameter sets, relative to max(1, |a|).
double max_relative_difference(const std::vector<float>& a, const std::vector<float>& b) {
  double worst = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    worst = std::max(worst, std::abs(double(a[i]) - b[i]) / std::max(1.0, std::abs(double(a[i]))));
  return worst;
}

// The comparison means something only if all three compute the same step: run one step of
// each from the same weights on the same batch and compare the updated weights.
void check_same_step(const std::vector<ag::Tensor>& params, const Batches& data, int batch) {
  std::vector<ag::Tensor> copies;
  for (const auto& p : params) {
    copies.push_back(p.detach().clone());
    copies.back().requires_grad_();
  }
  HandMlp hand(copies);
  RawMlp raw(batch, copies);
  ag::optim::SGD opt(copies, ag::optim::SGDOptions{bench::kLr});
  opt.zero_grad();
  F::cross_entropy(ag::nn::functional::linear(
                       ag::sigmoid(ag::nn::functional::linear(data.inputs[0], copies[0], copies[1])),
                       copies[2], copies[3]),
                   data.labels[0])
      .backward();
  opt.step();
  hand.step(data.inputs[0], data.labels[0]);
  raw.step(data.inputs[0], data.labels[0]);
  const ag::Tensor* hand_w[] = {&hand.w1, &hand.b1, &hand.w2, &hand.b2};
  const std::vector<float>* raw_w[] = {&raw.w1, &raw.b1, &raw.w2, &raw.b2};
  for (int i = 0; i < 4; ++i) {
    std::vector<float> ref = RawMlp::values(copies[i]);
    double dh = max_relative_difference(ref, RawMlp::values(*hand_w[i]));
    double dr = max_relative_difference(ref, *raw_w[i]);
    if (dh > 1e-5 || dr > 1e-5)
      throw std::runtime_error("hand-written step differs from autograd's in parameter " +
                               std::to_string(i) + " at batch " + std::to_string(batch) +
                               ": ag ops " + std::to_string(dh) + ", raw " + std::to_string(dr));
  }
}

void run_hand(const Options& o, const Reporter& report) {
  for (std::size_t batch : {1, 32}) {
    Batches data = make_batches(batch);
    auto model = ag::nn::mlp({bench::kMnistFeatures, 100, bench::kClasses}, "sigmoid");
    std::vector<ag::Tensor> params = model->parameters();
    if (params.size() != 4 || params[0].shape() != ag::Shape{100, bench::kMnistFeatures})
      throw std::runtime_error("mlp({784, 100, 10}) should have 4 parameters, W1 {100, 784} first");
    check_same_step(params, data, int(batch));
    ag::optim::SGD opt(params, ag::optim::SGDOptions{bench::kLr});
    HandMlp hand(params);
    RawMlp raw(static_cast<int>(batch), params);
    std::size_t next_auto = 0, next_hand = 0, next_raw = 0;
    auto auto_step = [&] {
      std::size_t i = next_auto++ % data.inputs.size();
      opt.zero_grad();
      F::cross_entropy((*model)(data.inputs[i]), data.labels[i]).backward();
      opt.step();
    };
    auto hand_step = [&] {
      std::size_t i = next_hand++ % data.inputs.size();
      hand.step(data.inputs[i], data.labels[i]);
    };
    volatile float sink = 0;  // keeps the raw loss computed
    auto raw_step = [&] {
      std::size_t i = next_raw++ % data.inputs.size();
      sink = raw.step(data.inputs[i], data.labels[i]);
    };
    // Alternate the three within each repetition, so that a burst of load on this shared
    // machine hits all of them alike; the ratios are taken per repetition.
    Options one = o;
    one.reps = 1;
    std::vector<double> ta, th, tr, a_over_h, a_over_r;
    for (int r = 0; r < o.reps; ++r) {
      double sa = bench::seconds_per_call(one, auto_step);
      double sh = bench::seconds_per_call(one, hand_step);
      double sr = bench::seconds_per_call(one, raw_step);
      ta.push_back(sa);
      th.push_back(sh);
      tr.push_back(sr);
      a_over_h.push_back(sa / sh);
      a_over_r.push_back(sa / sr);
    }
    (void)sink;
    std::string b = "_b" + std::to_string(batch);
    report("auto" + b, "samples_per_s", double(batch) / bench::median(ta));
    report("hand" + b, "samples_per_s", double(batch) / bench::median(th));
    report("raw" + b, "samples_per_s", double(batch) / bench::median(tr));
    report("auto_over_hand" + b, "time_ratio", bench::median(a_over_h));
    report("auto_over_raw" + b, "time_ratio", bench::median(a_over_r));
  }
}

// Scaling: ag's elementwise ops and full reduction on 16M floats against raw TBB loops over
// the same data at the same thread count (bench/run.sh --scaling walks 1..nproc threads).
template <class Body>
void raw_parallel(std::size_t n, Body&& body) {
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, n, 1 << 15),
                    [&](const tbb::blocked_range<std::size_t>& r) { body(r.begin(), r.end()); },
                    tbb::static_partitioner());
}

void run_par(const Options& o, const Reporter& report) {
  const std::size_t n = bench::kParElements;
  ag::NoGradGuard guard;
  ag::Tensor x = ag::rand({n});
  ag::Tensor y = ag::rand({n});
  ag::Tensor z;
  const double ns = 1e9 / double(n);
  report("par_add_ag", "ns_per_elem", bench::seconds_per_call(o, [&] { z = x + y; }) * ns);
  report("par_sigmoid_ag", "ns_per_elem",
         bench::seconds_per_call(o, [&] { z = ag::sigmoid(x); }) * ns);
  volatile double total = 0;
  report("par_sum_ag", "ns_per_elem",
         bench::seconds_per_call(o, [&] { total = ag::sum(x).item(); }) * ns);

  const float* xp = x.data_ptr<float>();
  const float* yp = y.data_ptr<float>();
  std::vector<float> out(n);
  float* op = out.data();
  report("par_add_raw", "ns_per_elem", bench::seconds_per_call(o, [&] {
           raw_parallel(n, [&](std::size_t b, std::size_t e) {
             for (std::size_t i = b; i < e; ++i) op[i] = xp[i] + yp[i];
           });
         }) * ns);
  report("par_sigmoid_raw", "ns_per_elem", bench::seconds_per_call(o, [&] {
           raw_parallel(n, [&](std::size_t b, std::size_t e) {
             for (std::size_t i = b; i < e; ++i) op[i] = 1.f / (1.f + std::exp(-xp[i]));
           });
         }) * ns);
  report("par_sum_raw", "ns_per_elem", bench::seconds_per_call(o, [&] {
           total = tbb::parallel_reduce(
               tbb::blocked_range<std::size_t>(0, n, 1 << 15), 0.0,
               [&](const tbb::blocked_range<std::size_t>& r, double acc) {
                 // Eight float lanes the compiler can vectorise, folded into a double per chunk.
                 float lane[8] = {0, 0, 0, 0, 0, 0, 0, 0};
                 std::size_t i = r.begin();
                 for (; i + 8 <= r.end(); i += 8)
                   for (int k = 0; k < 8; ++k) lane[k] += xp[i + k];
                 for (; i < r.end(); ++i) lane[0] += xp[i];
                 for (float v : lane) acc += v;
                 return acc;
               },
               [](double a, double b) { return a + b; }, tbb::static_partitioner());
         }) * ns);
  (void)total;
}

// Conv layer: forward, and backward to the input, weight and bias, as GFLOP/s of the three
// GEMMs (2 * N * O * L * K multiply-adds each). The reference runs the very GEMMs ag's im2col
// path makes, on prepared column matrices, with OpenBLAS's own threads at the same count.
void run_conv(const Options& o, const Reporter& report) {
  const bench::ConvShape c;
  const double flops = c.gemm_flops();
  ag::Tensor x = ag::randn({c.n, c.in, c.h, c.w}).requires_grad_();
  ag::nn::Conv2d conv(c.in, c.out, c.k, ag::nn::Conv2dOptions{1, c.pad});
  ag::Tensor gy = ag::randn({c.n, c.out, c.h, c.w});
  ag::Tensor y;
  double tf = bench::seconds_per_call(o, [&] { y = conv(x); });
  double tb = bench::seconds_with_setup(
      o,
      [&] {
        x.zero_grad();
        conv.zero_grad();
        y = conv(x);
      },
      [&] { y.backward(gy); });
  report("conv_fwd", "ms", tf * 1e3);
  report("conv_fwdbwd", "ms", (tf + tb) * 1e3);
  report("conv_fwdbwd_rate", "gflop_per_s", 3 * flops / (tf + tb) * 1e-9);

  const int m = int(c.out), l = int(c.h * c.w), k = int(c.in * c.k * c.k);
  std::vector<float> cols(std::size_t(k) * l, 0.5f), w(std::size_t(m) * k, 0.25f),
      out(std::size_t(m) * l), dw(std::size_t(m) * k), dcols(std::size_t(k) * l);
  openblas_set_num_threads(o.threads);
  double ts = bench::seconds_per_call(o, [&] {
    for (std::size_t s = 0; s < c.n; ++s) {
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, l, k, 1.f, w.data(), k, cols.data(), l,
                  0.f, out.data(), l);  // forward
      cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, k, l, m, 1.f, w.data(), k, out.data(), l,
                  0.f, dcols.data(), l);  // input gradient, before col2im
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, k, l, 1.f, out.data(), l, cols.data(), l,
                  1.f, dw.data(), k);  // weight gradient
    }
  });
  openblas_set_num_threads(1);
  report("conv_gemms_cblas", "gflop_per_s", 3 * flops / ts * 1e-9);
  report("conv_fwdbwd_vs_gemms", "ratio", ts / (tf + tb));
}

// LeNet-5 as examples/fashion_cnn.cpp builds it, trained on random Fashion-MNIST-shaped data.
class LeNet : public ag::nn::Module {
 public:
  LeNet()
      : conv1(register_module("conv1", std::make_shared<ag::nn::Conv2d>(1, 6, 5, ag::nn::Conv2dOptions{1, 2}))),
        conv2(register_module("conv2", std::make_shared<ag::nn::Conv2d>(6, 16, 5))),
        fc1(register_module("fc1", std::make_shared<ag::nn::Linear>(400, 120))),
        fc2(register_module("fc2", std::make_shared<ag::nn::Linear>(120, 84))),
        fc3(register_module("fc3", std::make_shared<ag::nn::Linear>(84, 10))) {}
  ag::Tensor forward(const ag::Tensor& x) override {
    ag::Tensor h = F::max_pool2d(ag::relu((*conv1)(x)), 2);
    h = F::max_pool2d(ag::relu((*conv2)(h)), 2);
    h = h.reshape({h.size(0), 400});
    return (*fc3)(ag::relu((*fc2)(ag::relu((*fc1)(h)))));
  }
  std::shared_ptr<ag::nn::Conv2d> conv1, conv2;
  std::shared_ptr<ag::nn::Linear> fc1, fc2, fc3;
};

void run_cnn(const Options& o, const Reporter& report) {
  const std::size_t batch = bench::kCnnBatch;
  Batches data = make_batches(batch);
  for (auto& in : data.inputs) in = in.reshape({batch, 1, 28, 28});
  auto model = std::make_shared<LeNet>();
  ag::optim::SGD opt(model->parameters(), ag::optim::SGDOptions{bench::kCnnLr, 0.9});
  std::size_t next = 0;
  double s = bench::seconds_per_call(o, [&] {
    std::size_t i = next++ % data.inputs.size();
    opt.zero_grad();
    ag::Tensor loss = F::cross_entropy((*model)(data.inputs[i]), data.labels[i]);
    loss.backward();
    opt.step();
  });
  report("cnn_b64", "samples_per_s", double(batch) / s);
}

}  // namespace

int main(int argc, char** argv) {
  Options o = bench::parse_options(argc, argv, kGroups);
  ag::set_num_threads(o.threads);
  // AG_BENCH_MATMUL=openblas (or onednn) runs ag's float32 products on that library; unset, on
  // ag's default. Said on stderr, where aggregate.py does not look.
  try {
    if (const char* backend = std::getenv("AG_BENCH_MATMUL")) ag::set_matmul_backend(backend);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ag_bench: AG_BENCH_MATMUL: %s\n", e.what());
    return 2;
  }
  std::fprintf(stderr, "ag_bench: float32 matrix products on %s\n", ag::matmul_backend().c_str());
  ag::manual_seed(42);
  Reporter report{"ag", o.threads};
  try {
    if (bench::selected(o, "mlp")) run_mlp(o, report);
    if (bench::selected(o, "mlp_relu")) run_mlp_relu(o, report);
    if (bench::selected(o, "ops")) run_ops(o, report);
    if (bench::selected(o, "matmul")) run_matmul(o, report);
    if (bench::selected(o, "sigx")) run_sigx(o, report);
    if (bench::selected(o, "hand")) run_hand(o, report);
    if (bench::selected(o, "par")) run_par(o, report);
    if (bench::selected(o, "conv")) run_conv(o, report);
    if (bench::selected(o, "cnn")) run_cnn(o, report);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ag_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
