// ag::dist: data-parallel training over MPI (Open MPI's mpirun, Slurm's srun).
//
//   int main(int argc, char** argv) {
//     ag::dist::init(&argc, &argv);             // MPI_Init under mpirun; a plain run is 1 rank
//     auto model = ag::nn::mlp({784, 100, 10});
//     ag::dist::DistributedDataParallel ddp(model);   // every rank now holds rank 0's weights
//     ag::dist::DistributedSampler sampler(train.size(), true, /*seed=*/0);
//     ag::data::DataLoader loader(train, 32, sampler);  // 32 samples per rank and step
//     ag::optim::SGD sgd(model->parameters(), {0.1});
//     for (epoch ...) {
//       sampler.set_epoch(epoch);
//       for (const auto& b : loader) {
//         sgd.zero_grad();
//         F::cross_entropy(ddp(b.inputs), b.targets).backward();  // averages gradients
//         sgd.step();                                              // identical on every rank
//       }
//     }
//     ag::dist::finalize();
//   }
//
// Everything here also works without mpirun: world size 1, every call a local no-op. MPI is a
// private dependency of the ag::dist target; this header does not include <mpi.h>.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <autograd/export.hpp>
#include <autograd/tensor.hpp>
#include <nn/module.hpp>

AG_API_BEGIN
namespace ag::dist {

enum class ReduceOp { Sum, Mean, Max };

/// Under a launcher (mpirun, srun: detected from its environment variables) initialises MPI and
/// installs a std::terminate handler that prints the rank and the exception's message and calls
/// MPI_Abort, so that an exception escaping main on one rank ends the whole job instead of
/// leaving the other ranks waiting forever. Without a launcher MPI is not touched at all.
/// Also gives each rank its share of the cores (ag::set_num_threads(cores / ranks on this
/// machine), at least 1), or AG_NUM_THREADS threads when that environment variable is set (also
/// in a plain run); call ag::set_num_threads after init to choose yourself. A second call does
/// nothing.
void init(int* argc = nullptr, char*** argv = nullptr);
/// Collective: every rank must call it before returning from main. A rank that exits without it
/// is treated by Open MPI as failed, and the job ends.
void finalize();
bool is_initialized();  ///< init ran (with or without MPI) and finalize did not
bool using_mpi();       ///< init found a launcher and MPI is running

/// Before init: rank 0 of 1 in a plain run; under a launcher they throw (init first).
int rank();
int world_size();

/// In place on every rank: t becomes the element-wise sum, mean or max over the ranks. float32,
/// float64 and int64 (an int64 mean rounds toward zero). Every rank must pass the same shape and
/// dtype: a mismatch throws ag::Error on every rank (one small extra all-reduce checks it).
void all_reduce(Tensor& t, ReduceOp op = ReduceOp::Sum);
/// One number (a loss, a count of right answers) reduced over the ranks.
double all_reduce(double value, ReduceOp op = ReduceOp::Sum);
/// t becomes root's t on every rank; shapes and dtypes are checked as in all_reduce.
void broadcast(Tensor& t, int root = 0);
void barrier();

/// Prints "ag::dist: rank R of W: <message>" to stderr and ends the whole job (MPI_Abort) with
/// exit code `code`; in a plain run it exits the process.
[[noreturn]] void abort(const std::string& message, int code = 1);

/// DistributedDataParallel's settings (PyTorch's names).
struct DDPOptions {
  /// Gradients are averaged in buckets of about this many bytes, filled in reverse registration
  /// order (the order backward produces them); a bucket's all-reduce starts as soon as all of
  /// its gradients are ready, while backward goes on with the earlier layers.
  std::size_t bucket_bytes = 1 << 20;
  /// A gradient of at least this many bytes is averaged where it is, in the parameter's .grad,
  /// as a bucket of its own: a bucket saves the per-call latency of small tensors, and copying a
  /// large gradient into a bucket and the mean back out costs more than one more call. (With
  /// the 784-100-10 MLP's 314 kB first-layer gradient, those two copies took 0.027 ms of a
  /// 0.85-1 ms step on 2 ranks of the Xeon VM in bench/RESULTS.md.) 0 puts every parameter in
  /// a bucket of its own, in place. Until backward returns, such a .grad belongs to MPI: a
  /// post-accumulate hook registered after DDP's own must not read or write it (the packed
  /// buckets leave .grad alone until the means are written).
  std::size_t in_place_bytes = 256 << 10;
  /// When on, each forward walks the output's graph to find the parameters it does not use; their
  /// local gradient counts as zero, and a parameter that no rank used keeps an undefined .grad
  /// (as in a single process). When off, every parameter must get a gradient in every backward:
  /// one that did not is reported (ag::Error) by the next forward.
  bool find_unused_parameters = false;

  /// Sets bucket_bytes; returns *this, for chaining.
  DDPOptions& set_bucket_bytes(std::size_t b) { bucket_bytes = b; return *this; }
  /// Sets in_place_bytes; returns *this, for chaining.
  DDPOptions& set_in_place_bytes(std::size_t b) { in_place_bytes = b; return *this; }
  /// Sets find_unused_parameters; returns *this, for chaining.
  DDPOptions& set_find_unused_parameters(bool on) { find_unused_parameters = on; return *this; }
};

/// Wraps a module for data-parallel training. Construction is collective: it checks that every
/// rank has the same parameter and buffer names, shapes and dtypes (otherwise ag::Error on every
/// rank naming the first one that differs) and copies rank 0's parameters and buffers to every
/// rank. Buffers are not synchronised after that: BatchNorm's running statistics follow each
/// rank's own batches (rank 0's are the ones a rank-0 checkpoint saves).
///
/// A backward pass from the output of operator() averages the gradients over the ranks: when the
/// backward is done, every parameter's .grad holds the mean over the ranks of the local .grad, so
/// any optimizer's step() does the same thing on every rank. (Gradients accumulated over several
/// backward passes without zero_grad are averaged too: the mean of sums is the sum of means.)
/// Only the first backward after each forward is reduced; ranks must run the same number of
/// forward/backward pairs. The results are deterministic at a fixed world size.
class DistributedDataParallel {
 public:
  /// Collective: call it on every rank with the same module structure.
  explicit DistributedDataParallel(std::shared_ptr<nn::Module> module, DDPOptions options = {});
  ~DistributedDataParallel();
  DistributedDataParallel(const DistributedDataParallel&) = delete;
  DistributedDataParallel& operator=(const DistributedDataParallel&) = delete;

  Tensor operator()(const Tensor& x);  ///< the module's forward; arms the gradient reduction
  std::shared_ptr<nn::Module> module() const { return module_; }  ///< the wrapped module

  /// The buckets, as parameter names in launch order (for tests and tuning).
  std::vector<std::vector<std::string>> bucket_names() const;
  /// Seconds spent inside MPI waiting for all-reduces that the backward pass did not hide,
  /// summed over the backward passes since construction (for benchmarks).
  double wait_seconds() const;

  class Reducer;  ///< dist/ddp.cpp

 private:
  std::shared_ptr<nn::Module> module_;
  std::unique_ptr<Reducer> reducer_;
};

/// Each rank's share of a dataset of `dataset_size` samples, as PyTorch's DistributedSampler:
/// every epoch a permutation of 0..N-1 (the same on every rank: drawn from `seed` and the epoch),
/// or 0..N-1 in order without shuffle; padded by repeating its first indices to a multiple of the
/// world size (drop_last = false) or cut down to one (drop_last = true); then rank r takes
/// positions r, r + W, r + 2W, ... So every sample is used once per epoch over all ranks (twice
/// for the few padding ones), and every rank gets the same number of samples.
/// Copies share their state: set_epoch on a copy held by a DataLoader reaches the loader.
class DistributedSampler {
 public:
  DistributedSampler(std::size_t dataset_size, bool shuffle = true, std::uint64_t seed = 0,
                     bool drop_last = false);  ///< rank and world size from ag::dist
  /// An explicit rank among num_replicas (tests, or one process preparing every rank's share).
  static DistributedSampler for_rank(std::size_t dataset_size, int num_replicas, int rank,
                                     bool shuffle = true, std::uint64_t seed = 0,
                                     bool drop_last = false);

  void set_epoch(std::size_t epoch);       ///< reshuffles, the same on every rank
  std::vector<std::size_t> indices() const;  ///< this rank's sample indices, this epoch
  std::vector<std::size_t> operator()() const { return indices(); }  ///< for data::DataLoader
  std::size_t size() const;        ///< samples per rank per epoch
  std::size_t total_size() const;  ///< samples per epoch over all ranks (size() * num_replicas)
  int num_replicas() const;  ///< the world size W it splits for
  int rank() const;          ///< the rank whose share this is

 private:
  struct State;
  DistributedSampler(std::size_t dataset_size, int num_replicas, int rank, bool shuffle,
                     std::uint64_t seed, bool drop_last);
  std::shared_ptr<State> state_;
};

}  // namespace ag::dist
AG_API_END
