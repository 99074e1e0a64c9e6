// Data-parallel benchmarks (issue 11); bench/dist.sh (bench/run.sh --distributed) runs them.
//   dist_bench train [--batch B] [--steps N] [--warmup W] [--bucket-bytes N] [--plain]
//       784-100-10 sigmoid MLP, cross-entropy, SGD, on random MNIST-shaped data; B samples per
//       rank and step. Prints one line: global samples/s, ms per step, and per step the time
//       spent waiting for all-reduces that backward did not hide (DDP's wait) next to the time
//       one blocking MPI_Allreduce of all the gradients takes on its own. --plain trains without
//       DistributedDataParallel (the one-process baseline).
//   dist_bench allreduce [--max-bytes N]
//       MPI_Allreduce (float sum, in place) latency at sizes 4 B .. N: median of many calls.
// Run under mpirun for more than one rank; every rank must get the same flags.
// AG_BENCH_MATMUL=openblas (or onednn) runs the float32 products on that library, as in ag_bench;
// the line printed says which (matmul=...).
#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <autograd/autograd.hpp>
#include <dist/dist.hpp>
#include <nn/nn.hpp>
#include <optim/optim.hpp>

namespace {

namespace F = ag::nn::functional;
namespace dist = ag::dist;
using Clock = std::chrono::steady_clock;

double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// CPU seconds of this process (all its threads): on a loaded machine the compute part of a step
// is steadier in CPU time than in wall time (MPI's busy waiting counts too).
double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

struct Flags {
  std::string mode = "train";
  std::size_t batch = 256, steps = 60, warmup = 10, bucket_bytes = 1 << 20, max_bytes = 16 << 20;
  bool plain = false;
};

Flags parse(int argc, char** argv) {
  Flags f;
  if (argc > 1) f.mode = argv[1];
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&] {
      if (i + 1 >= argc) dist::abort("dist_bench: " + a + " needs a value", 2);
      return static_cast<std::size_t>(std::strtoull(argv[++i], nullptr, 10));
    };
    if (a == "--batch") f.batch = next();
    else if (a == "--steps") f.steps = next();
    else if (a == "--warmup") f.warmup = next();
    else if (a == "--bucket-bytes") f.bucket_bytes = next();
    else if (a == "--max-bytes") f.max_bytes = next();
    else if (a == "--plain") f.plain = true;
    else dist::abort("dist_bench: unknown flag " + a, 2);
  }
  return f;
}

// Milliseconds of one blocking all-reduce of n floats: the median of `reps` calls.
double allreduce_ms(std::size_t n, int reps) {
  std::vector<float> buffer(std::max<std::size_t>(n, 1), 1.0f);
  std::vector<double> times;
  for (int r = 0; r < reps; ++r) {
    MPI_Barrier(MPI_COMM_WORLD);
    auto start = Clock::now();
    MPI_Allreduce(MPI_IN_PLACE, buffer.data(), static_cast<int>(n), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
    times.push_back(since(start) * 1e3);
  }
  std::nth_element(times.begin(), times.begin() + reps / 2, times.end());
  return times[reps / 2];
}

void train(const Flags& f) {
  ag::manual_seed(0);
  auto model = ag::nn::mlp({784, 100, 10}, "sigmoid");
  std::unique_ptr<dist::DistributedDataParallel> ddp;
  if (!f.plain) ddp = std::make_unique<dist::DistributedDataParallel>(
      model, dist::DDPOptions().set_bucket_bytes(f.bucket_bytes));
  ag::optim::SGD sgd(model->parameters(), {0.1});
  std::vector<ag::Tensor> xs, ys;
  for (int i = 0; i < 8; ++i) {
    xs.push_back(ag::rand({f.batch, 784}));
    ys.push_back(ag::argmax(ag::rand({f.batch, 10}), 1));
  }
  auto step = [&](std::size_t i) {
    sgd.zero_grad();
    const ag::Tensor& x = xs[i % xs.size()];
    F::cross_entropy(ddp ? (*ddp)(x) : (*model)(x), ys[i % ys.size()]).backward();
    sgd.step();
  };
  for (std::size_t i = 0; i < f.warmup; ++i) step(i);
  dist::barrier();
  const double wait_before = ddp ? ddp->wait_seconds() : 0;
  auto start = Clock::now();
  const double cpu_start = cpu_seconds();
  for (std::size_t i = 0; i < f.steps; ++i) step(i);
  const double local = since(start);
  const double cpu = dist::all_reduce(cpu_seconds() - cpu_start, dist::ReduceOp::Max);
  const double seconds = dist::all_reduce(local, dist::ReduceOp::Max);  // the slowest rank
  const double wait = dist::all_reduce((ddp ? ddp->wait_seconds() : 0) - wait_before,
                                       dist::ReduceOp::Mean);
  const double ar = dist::world_size() > 1 ? allreduce_ms(model->num_parameters(), 50) : 0;
  const double samples = static_cast<double>(f.batch * f.steps) * dist::world_size();
  if (dist::rank() == 0)
    std::printf("dist_bench train ranks=%d threads=%d batch=%zu ddp=%d samples_per_s=%.1f "
                "step_ms=%.4f cpu_ms=%.4f wait_ms=%.4f allreduce_ms=%.4f buckets=%zu matmul=%s\n",
                dist::world_size(), ag::get_num_threads(), f.batch, ddp ? 1 : 0, samples / seconds,
                seconds / f.steps * 1e3, cpu / f.steps * 1e3, wait / f.steps * 1e3, ar,
                ddp ? ddp->bucket_names().size() : 0, ag::matmul_backend().c_str());
}

void allreduce_sweep(const Flags& f) {
  for (std::size_t bytes = 4; bytes <= f.max_bytes; bytes *= 4) {
    const std::size_t n = bytes / 4;
    const int reps = bytes <= (64 << 10) ? 400 : bytes <= (1 << 20) ? 100 : 20;
    allreduce_ms(n, 5);  // warm up the path for this size
    const double ms = allreduce_ms(n, reps);
    if (dist::rank() == 0)
      std::printf("dist_bench allreduce ranks=%d bytes=%zu us=%.3f algbw_GBps=%.4f\n",
                  dist::world_size(), bytes, ms * 1e3, bytes / (ms * 1e-3) / 1e9);
  }
}

}  // namespace

int main(int argc, char** argv) {
  dist::init(&argc, &argv);
  Flags f = parse(argc, argv);
  try {
    if (const char* backend = std::getenv("AG_BENCH_MATMUL")) ag::set_matmul_backend(backend);
  } catch (const std::exception& e) {
    dist::abort(std::string("dist_bench: AG_BENCH_MATMUL: ") + e.what(), 2);
  }
  if (f.mode == "train") {
    train(f);
  } else if (f.mode == "allreduce") {
    if (!dist::using_mpi()) dist::abort("dist_bench allreduce: run it under mpirun", 2);
    allreduce_sweep(f);
  } else {
    dist::abort("dist_bench: unknown mode '" + f.mode + "' (train or allreduce)", 2);
  }
  dist::finalize();
  return 0;
}
