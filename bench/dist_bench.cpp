// Data-parallel benchmarks (issue 11); bench/dist.sh (bench/run.sh --distributed) runs them.
//   dist_bench train [--batch B] [--steps N] [--warmup W] [--bucket-bytes N] [--in-place-bytes N]
//                    [--plain | --sync-only | --alternate N] [--trace]
//       784-100-10 sigmoid MLP, cross-entropy, SGD, on random MNIST-shaped data; B samples per
//       rank and step. Prints one line: global samples/s, ms per step, and per step the time
//       spent waiting for all-reduces that backward did not hide (DDP's wait) next to the time
//       one blocking MPI_Allreduce of all the gradients takes on its own. --plain trains without
//       DistributedDataParallel (the one-process baseline). --sync-only trains without it too,
//       but every rank meets the others at an MPI_Barrier after each backward: what synchronous
//       data parallelism costs with an all-reduce that takes no time. --trace adds a line per
//       rank: each phase's median and mean ms per step (forward, backward without the wait,
//       the wait, the optimizer step) and percentiles of the compute, which show how unevenly
//       the ranks run. --alternate N runs blocks of N steps through DDP and blocks of N steps as
//       --sync-only in turn, in the same processes, and traces each kind on its own: what DDP
//       costs over the lock-step floor, with the machine's slow and fast periods shared alike.
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
  std::size_t in_place_bytes = dist::DDPOptions().in_place_bytes, alternate = 0;
  bool plain = false, sync_only = false, trace = false;
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
    else if (a == "--in-place-bytes") f.in_place_bytes = next();
    else if (a == "--plain") f.plain = true;
    else if (a == "--sync-only") f.sync_only = true;
    else if (a == "--trace") f.trace = true;
    else if (a == "--alternate") f.alternate = next(), f.trace = true;
    else dist::abort("dist_bench: unknown flag " + a, 2);
  }
  if (f.alternate && (f.plain || f.sync_only))
    dist::abort("dist_bench: --alternate needs DDP (not --plain, --sync-only)", 2);
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

// Per-step milliseconds of each phase on this rank (--trace).
struct PhaseTrace {
  std::vector<double> forward, backward, wait, optimizer;

  static double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0.0 : v[v.size() / 2];
  }
  static double mean(const std::vector<double>& v) {
    double sum = 0;
    for (double x : v) sum += x;
    return v.empty() ? 0.0 : sum / static_cast<double>(v.size());
  }
  // Rank 0 prints one line per rank, in rank order.
  void report(const char* label) const {
    std::vector<double> compute;
    for (std::size_t k = 0; k < forward.size(); ++k)
      compute.push_back(forward[k] + backward[k] + optimizer[k]);
    std::sort(compute.begin(), compute.end());
    auto pct = [&](double q) {
      return compute.empty() ? 0.0 : compute[static_cast<std::size_t>(q * (compute.size() - 1))];
    };
    const double mine[] = {median(forward), mean(forward), median(backward), mean(backward),
                           median(wait), mean(wait), median(optimizer), mean(optimizer),
                           pct(0.1), pct(0.5), pct(0.9), pct(0.99)};
    constexpr int n = sizeof mine / sizeof mine[0];
    std::vector<double> all(static_cast<std::size_t>(n * dist::world_size()));
    if (dist::using_mpi())
      MPI_Gather(mine, n, MPI_DOUBLE, all.data(), n, MPI_DOUBLE, 0, MPI_COMM_WORLD);
    else
      std::copy(mine, mine + n, all.begin());
    if (dist::rank() != 0) return;
    for (int r = 0; r < dist::world_size(); ++r) {
      const double* v = all.data() + r * n;
      std::printf("trace%s rank=%d forward=%.4f/%.4f backward=%.4f/%.4f wait=%.4f/%.4f "
                  "optimizer=%.4f/%.4f (median/mean ms) compute p10=%.3f p50=%.3f p90=%.3f "
                  "p99=%.3f\n", label, r, v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9],
                  v[10], v[11]);
    }
  }
};

double ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count() * 1e3;
}

// 8 batches of MNIST-shaped random inputs and labels, made once so that making them is not timed.
struct Batches {
  std::vector<ag::Tensor> xs, ys;
};
Batches random_batches(std::size_t batch) {
  Batches b;
  for (int i = 0; i < 8; ++i) {
    b.xs.push_back(ag::rand({batch, 784}));
    b.ys.push_back(ag::argmax(ag::rand({batch, 10}), 1));
  }
  return b;
}

void train(const Flags& f) {
  ag::manual_seed(0);
  auto model = ag::nn::mlp({784, 100, 10}, "sigmoid");
  std::unique_ptr<dist::DistributedDataParallel> ddp;
  if (!f.plain && !f.sync_only)
    ddp = std::make_unique<dist::DistributedDataParallel>(
        model,
        dist::DDPOptions().set_bucket_bytes(f.bucket_bytes).set_in_place_bytes(f.in_place_bytes));
  ag::optim::SGD sgd(model->parameters(), {0.1});
  const Batches data = random_batches(f.batch);
  const std::vector<ag::Tensor>& xs = data.xs;
  const std::vector<ag::Tensor>& ys = data.ys;
  PhaseTrace trace, trace_sync;  // --alternate: the DDP steps, the barrier steps
  double sync_seconds = 0;  // in the barrier
  auto step = [&](std::size_t i) {
    const bool through_ddp = ddp && (f.alternate == 0 || (i / f.alternate) % 2 == 0);
    const auto t0 = Clock::now();
    sgd.zero_grad();
    const ag::Tensor& x = xs[i % xs.size()];
    ag::Tensor loss = F::cross_entropy(through_ddp ? (*ddp)(x) : (*model)(x), ys[i % ys.size()]);
    const auto t1 = Clock::now();
    const double ddp_wait = ddp ? ddp->wait_seconds() : 0;
    loss.backward();
    const auto t2 = Clock::now();
    if (!through_ddp && !f.plain) dist::barrier();
    const auto t3 = Clock::now();
    sync_seconds += ms_between(t2, t3) * 1e-3;
    sgd.step();
    if (!f.trace) return;
    PhaseTrace& t = through_ddp || !f.alternate ? trace : trace_sync;
    const double wait = through_ddp ? (ddp->wait_seconds() - ddp_wait) * 1e3 : ms_between(t2, t3);
    t.forward.push_back(ms_between(t0, t1));
    t.backward.push_back(ms_between(t1, t3) - wait);
    t.wait.push_back(wait);
    t.optimizer.push_back(ms_between(t3, Clock::now()));
  };
  for (std::size_t i = 0; i < f.warmup; ++i) step(i);
  trace = trace_sync = PhaseTrace{};
  dist::barrier();
  const double wait_before = ddp ? ddp->wait_seconds() : sync_seconds;
  auto start = Clock::now();
  const double cpu_start = cpu_seconds();
  for (std::size_t i = 0; i < f.steps; ++i) step(i);
  const double local = since(start);
  const double cpu = dist::all_reduce(cpu_seconds() - cpu_start, dist::ReduceOp::Max);
  const double seconds = dist::all_reduce(local, dist::ReduceOp::Max);  // the slowest rank
  const double wait = dist::all_reduce((ddp ? ddp->wait_seconds() : sync_seconds) - wait_before,
                                       dist::ReduceOp::Mean);
  if (f.trace) trace.report(f.alternate ? "_ddp" : "");
  if (f.alternate) trace_sync.report("_barrier");
  const double ar = dist::world_size() > 1 ? allreduce_ms(model->num_parameters(), 50) : 0;
  const double samples = static_cast<double>(f.batch * f.steps) * dist::world_size();
  if (dist::rank() == 0)
    std::printf("dist_bench train ranks=%d threads=%d batch=%zu ddp=%d samples_per_s=%.1f "
                "step_ms=%.4f cpu_ms=%.4f wait_ms=%.4f allreduce_ms=%.4f buckets=%zu matmul=%s%s\n",
                dist::world_size(), ag::get_num_threads(), f.batch, ddp ? 1 : 0, samples / seconds,
                seconds / f.steps * 1e3, cpu / f.steps * 1e3, wait / f.steps * 1e3, ar,
                ddp ? ddp->bucket_names().size() : 0, ag::matmul_backend().c_str(),
                f.sync_only ? " sync_only=1" : "");
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
