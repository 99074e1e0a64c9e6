// dlib's side of issue 15's peer comparison: the mlp workload of ag_bench (784-100-10 sigmoid,
// softmax cross-entropy, plain SGD lr 0.1, random MNIST-shaped data) at batch 32 and 256, in
// dlib 19.24 (Debian's libdlib-dev). Each step runs on the calling thread:
// compute_parameter_gradients (forward, loss, backward) then update_parameters, as dnn_trainer's
// worker thread would run them. bench/run.sh runs it alternately with ag_bench and torch_bench;
// aggregate.py prints ag's ratio over it. Prints the same lines as the other programs:
//   impl=dlib threads=1 workload=mlp_b32 metric=samples_per_s value=...
#include <dlib/dnn.h>

#include <random>

#include "bench_common.hpp"

// OpenBLAS's own control, declared here: cblas.h would clash with the CBLAS declarations dlib's
// BLAS bindings make. dlib's matrix products run in OpenBLAS (Debian's libblas.so.3).
extern "C" void openblas_set_num_threads(int);

namespace {

using Net = dlib::loss_multiclass_log<
    dlib::fc<bench::kClasses, dlib::sig<dlib::fc<100, dlib::input<dlib::matrix<float>>>>>>;

// kSamples / batch batches of {784} samples in [0, 1) with labels, converted to dlib's input
// tensors once, so that neither sampling nor conversion is timed (as in ag_bench).
struct Batches {
  std::vector<dlib::resizable_tensor> inputs;
  std::vector<std::vector<unsigned long>> labels;
};

Batches make_batches(Net& net, std::size_t batch) {
  std::mt19937_64 rng(42);
  std::uniform_real_distribution<float> unit(0.f, 1.f);
  Batches b;
  for (std::size_t i = 0; i < bench::kSamples / batch; ++i) {
    std::vector<dlib::matrix<float>> samples(batch, dlib::matrix<float>(bench::kMnistFeatures, 1));
    std::vector<unsigned long> labels(batch);
    for (std::size_t s = 0; s < batch; ++s) {
      for (long r = 0; r < samples[s].nr(); ++r) samples[s](r, 0) = unit(rng);
      labels[s] = static_cast<unsigned long>(rng() % bench::kClasses);
    }
    b.inputs.emplace_back();
    net.to_tensor(samples.begin(), samples.end(), b.inputs.back());
    b.labels.push_back(std::move(labels));
  }
  return b;
}

void run_mlp(const bench::Options& o, const bench::Reporter& report) {
  for (std::size_t batch : {32, 256}) {
    Net net;
    Batches data = make_batches(net, batch);
    // Plain SGD as in ag_bench: dlib's sgd(weight_decay, momentum) with both 0.
    std::vector<dlib::sgd> solvers(Net::num_computational_layers, dlib::sgd(0, 0));
    std::size_t next = 0;
    volatile double sink = 0;  // keeps the loss computed
    double s = bench::seconds_per_call(o, [&] {
      std::size_t i = next++ % data.inputs.size();
      sink = net.compute_parameter_gradients(data.inputs[i], data.labels[i].begin());
      net.update_parameters(solvers, bench::kLr);
    });
    (void)sink;
    report("mlp_b" + std::to_string(batch), "samples_per_s", double(batch) / s);
  }
}

}  // namespace

int main(int argc, char** argv) {
  bench::Options o = bench::parse_options(argc, argv, {"mlp"});
  openblas_set_num_threads(o.threads);
  bench::Reporter report{"dlib", o.threads};
  try {
    if (bench::selected(o, "mlp")) run_mlp(o, report);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dlib_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
