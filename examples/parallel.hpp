// The data-parallel side of the training examples, in one place. Built with ag::dist (CMake
// found MPI: AG_EXAMPLE_DIST is 1) the examples run unchanged under mpirun, one process per rank;
// built without it, or started without mpirun, they are one process and these calls are trivial.
#pragma once

#include <memory>
#include <optional>

#include <autograd/autograd.hpp>
#include <data/data.hpp>
#include <nn/nn.hpp>

#if AG_EXAMPLE_DIST
#include <dist/dist.hpp>
#endif

namespace ex::par {

#if AG_EXAMPLE_DIST
inline void init(int* argc, char*** argv) { ag::dist::init(argc, argv); }
inline void finalize() { ag::dist::finalize(); }
inline int rank() { return ag::dist::rank(); }
inline int world() { return ag::dist::world_size(); }
inline double sum(double v) { return ag::dist::all_reduce(v); }
inline void barrier() { ag::dist::barrier(); }
#else
inline void init(int*, char***) {}
inline void finalize() {}
inline int rank() { return 0; }
inline int world() { return 1; }
inline double sum(double v) { return v; }
inline void barrier() {}
#endif

// A model trained on several ranks: forward goes through DistributedDataParallel (gradients
// averaged over the ranks during backward), batches come from this rank's share of the data.
// With one rank it is the plain model and the usual shuffled loader, exactly as before.
class Trainer {
 public:
  Trainer(std::shared_ptr<ag::nn::Module> model, const ag::data::TensorDataset& train,
          std::size_t rank_batch, std::uint64_t seed)
      : model_(std::move(model)) {
#if AG_EXAMPLE_DIST
    if (world() > 1) {
      ddp_ = std::make_unique<ag::dist::DistributedDataParallel>(model_);
      sampler_.emplace(train.size(), true, seed);
      loader_.emplace(train, rank_batch, *sampler_);
      return;
    }
#endif
    (void)seed;
    loader_.emplace(train, rank_batch);
  }

  ag::Tensor operator()(const ag::Tensor& x) {
#if AG_EXAMPLE_DIST
    if (ddp_) return (*ddp_)(x);
#endif
    return (*model_)(x);
  }
  // Call before each epoch's pass: a new permutation, the same on every rank.
  ag::data::DataLoader& epoch(int e) {
#if AG_EXAMPLE_DIST
    if (sampler_) sampler_->set_epoch(static_cast<std::size_t>(e));
#endif
    (void)e;
    return *loader_;
  }

 private:
  std::shared_ptr<ag::nn::Module> model_;
#if AG_EXAMPLE_DIST
  std::unique_ptr<ag::dist::DistributedDataParallel> ddp_;
  std::optional<ag::dist::DistributedSampler> sampler_;
#endif
  std::optional<ag::data::DataLoader> loader_;
};

}  // namespace ex::par
