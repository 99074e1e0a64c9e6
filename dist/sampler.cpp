// ag::dist::DistributedSampler: each rank's share of a dataset, as PyTorch's DistributedSampler
// (torch/utils/data/distributed.py) computes it.
#include <random>
#include <string>

#include <dist/dist.hpp>

namespace ag::dist {

struct DistributedSampler::State {
  std::size_t dataset_size;
  int num_replicas, rank;
  bool shuffle, drop_last;
  std::uint64_t seed;
  std::size_t epoch = 0;
  std::size_t per_rank;  // samples per rank per epoch
};

DistributedSampler::DistributedSampler(std::size_t dataset_size, bool shuffle, std::uint64_t seed,
                                       bool drop_last)
    : DistributedSampler(dataset_size, world_size(), dist::rank(), shuffle, seed, drop_last) {}

DistributedSampler DistributedSampler::for_rank(std::size_t dataset_size, int num_replicas, int rank,
                                                bool shuffle, std::uint64_t seed, bool drop_last) {
  return DistributedSampler(dataset_size, num_replicas, rank, shuffle, seed, drop_last);
}

DistributedSampler::DistributedSampler(std::size_t dataset_size, int num_replicas, int rank,
                                       bool shuffle, std::uint64_t seed, bool drop_last) {
  const std::string where = "DistributedSampler(dataset_size " + std::to_string(dataset_size) +
                            ", num_replicas " + std::to_string(num_replicas) + ", rank " +
                            std::to_string(rank) + ")";
  if (num_replicas < 1) throw Error(where + ": num_replicas must be at least 1");
  if (rank < 0 || rank >= num_replicas) throw Error(where + ": rank must be in [0, num_replicas)");
  const auto w = static_cast<std::size_t>(num_replicas);
  if (drop_last && dataset_size < w)
    throw Error(where + ": with drop_last every rank needs a sample, but there are fewer samples "
                "than ranks");
  if (dataset_size == 0) throw Error(where + ": the dataset is empty");
  std::size_t per_rank = drop_last ? dataset_size / w : (dataset_size + w - 1) / w;
  state_ = std::make_shared<State>(
      State{dataset_size, num_replicas, rank, shuffle, drop_last, seed, 0, per_rank});
}

void DistributedSampler::set_epoch(std::size_t epoch) { state_->epoch = epoch; }

std::vector<std::size_t> DistributedSampler::indices() const {
  const State& s = *state_;
  std::vector<std::size_t> order(s.dataset_size);
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  if (s.shuffle) {
    // Fisher-Yates from a generator that depends on nothing but the seed and the epoch (the C++
    // standard fixes mt19937_64's sequence), so every rank draws the same permutation.
    std::mt19937_64 gen(s.seed + 0x9e3779b97f4a7c15ull * (s.epoch + 1));
    for (std::size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[gen() % i]);
  }
  const std::size_t w = static_cast<std::size_t>(s.num_replicas), total = s.per_rank * w;
  // Pad by repeating the order from its start (more than once when the dataset is tiny).
  for (std::size_t i = 0; order.size() < total; ++i) order.push_back(order[i]);
  std::vector<std::size_t> mine;
  mine.reserve(s.per_rank);
  for (std::size_t p = static_cast<std::size_t>(s.rank); p < total; p += w) mine.push_back(order[p]);
  return mine;
}

std::size_t DistributedSampler::size() const { return state_->per_rank; }
std::size_t DistributedSampler::total_size() const {
  return state_->per_rank * static_cast<std::size_t>(state_->num_replicas);
}
int DistributedSampler::num_replicas() const { return state_->num_replicas; }
int DistributedSampler::rank() const { return state_->rank; }

}  // namespace ag::dist
