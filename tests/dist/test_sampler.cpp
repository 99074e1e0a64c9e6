// DistributedSampler's shares (any world size, computed in one process through for_rank) and its
// use by DataLoader.
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <set>
#include <vector>

#include <autograd/autograd.hpp>
#include <data/data.hpp>
#include <dist/dist.hpp>

using ag::dist::DistributedSampler;
using Indices = std::vector<std::size_t>;

namespace {

std::vector<Indices> shares(std::size_t n, int w, bool shuffle, bool drop_last, std::size_t epoch = 0,
                            std::uint64_t seed = 3) {
  std::vector<Indices> out;
  for (int r = 0; r < w; ++r) {
    auto s = DistributedSampler::for_rank(n, w, r, shuffle, seed, drop_last);
    s.set_epoch(epoch);
    out.push_back(s.indices());
  }
  return out;
}

}  // namespace

TEST_CASE("DistributedSampler: padding gives every rank the same count and uses every sample") {
  for (bool shuffle : {false, true}) {
    for (auto [n, w] : std::vector<std::pair<std::size_t, int>>{{10, 3}, {11, 2}, {12, 4}, {2, 3}}) {
      CAPTURE(shuffle, n, w);
      std::vector<Indices> s = shares(n, w, shuffle, false);
      const std::size_t per_rank = (n + w - 1) / w;
      std::map<std::size_t, int> uses;
      for (const Indices& share : s) {
        CHECK(share.size() == per_rank);
        for (std::size_t i : share) ++uses[i];
      }
      CHECK(uses.size() == n);  // every sample, at most twice (the padding)
      std::size_t extra = 0;
      for (auto [i, k] : uses) {
        CHECK(i < n);
        extra += static_cast<std::size_t>(k - 1);
      }
      CHECK(extra == per_rank * w - n);
    }
  }
}

TEST_CASE("DistributedSampler: in order without shuffle, as PyTorch's") {
  std::vector<Indices> s = shares(10, 3, false, false);
  CHECK(s[0] == Indices{0, 3, 6, 9});
  CHECK(s[1] == Indices{1, 4, 7, 0});  // padded with the first indices
  CHECK(s[2] == Indices{2, 5, 8, 1});
  std::vector<Indices> d = shares(10, 3, false, true);
  CHECK(d[0] == Indices{0, 3, 6});
  CHECK(d[2] == Indices{2, 5, 8});
}

TEST_CASE("DistributedSampler: drop_last gives disjoint shares") {
  std::vector<Indices> s = shares(11, 3, true, true);
  std::set<std::size_t> all;
  for (const Indices& share : s) {
    CHECK(share.size() == 3);
    all.insert(share.begin(), share.end());
  }
  CHECK(all.size() == 9);
  CHECK(DistributedSampler::for_rank(11, 3, 0, true, 0, true).total_size() == 9);
}

TEST_CASE("DistributedSampler: one permutation per seed and epoch, the same for every rank") {
  CHECK(shares(50, 2, true, false, 0) == shares(50, 2, true, false, 0));
  CHECK(shares(50, 2, true, false, 1) != shares(50, 2, true, false, 0));
  CHECK(shares(50, 2, true, false, 0, 4) != shares(50, 2, true, false, 0, 3));
  // The shares interleave one permutation: together they hold each index once.
  std::vector<Indices> s = shares(50, 2, true, false, 5);
  Indices merged;
  for (std::size_t k = 0; k < 25; ++k) merged.push_back(s[0][k]), merged.push_back(s[1][k]);
  Indices sorted = merged;
  std::sort(sorted.begin(), sorted.end());
  for (std::size_t i = 0; i < 50; ++i) CHECK(sorted[i] == i);
  CHECK(merged != sorted);  // and it is shuffled
}

TEST_CASE("DistributedSampler: copies share the epoch; bad arguments throw") {
  auto a = DistributedSampler::for_rank(20, 2, 1, true, 9);
  DistributedSampler b = a;
  Indices before = b.indices();
  a.set_epoch(3);
  CHECK(b.indices() != before);
  CHECK(b.indices() == a.indices());
  CHECK_THROWS_WITH(DistributedSampler::for_rank(20, 2, 2), Catch::Contains("rank must be in"));
  CHECK_THROWS_WITH(DistributedSampler::for_rank(20, 0, 0), Catch::Contains("num_replicas"));
  CHECK_THROWS_WITH(DistributedSampler::for_rank(2, 3, 0, true, 0, true),
                    Catch::Contains("fewer samples than ranks"));
  CHECK_THROWS_WITH(DistributedSampler::for_rank(0, 1, 0), Catch::Contains("empty"));
}

TEST_CASE("DistributedSampler: the default rank and world size come from ag::dist") {
  DistributedSampler s(30);
  CHECK(s.rank() == ag::dist::rank());
  CHECK(s.num_replicas() == ag::dist::world_size());
}

TEST_CASE("DataLoader: batches follow a DistributedSampler, reshuffled by set_epoch") {
  const std::size_t n = 10;
  ag::Tensor x = ag::arange(0, n, 1, ag::float64).reshape({n, 1});
  ag::data::TensorDataset set(x, ag::arange(0, n, 1, ag::int64));
  auto sampler = DistributedSampler::for_rank(n, 3, 1, true, 7);
  ag::data::DataLoader loader(set, 3, sampler);
  CHECK(loader.num_batches() == 2);  // 4 samples: 3 + 1
  auto pass = [&] {
    Indices seen;
    for (const ag::data::Batch& b : loader)
      for (double v : b.inputs.to_vector()) seen.push_back(static_cast<std::size_t>(v));
    return seen;
  };
  CHECK(pass() == sampler.indices());
  sampler.set_epoch(1);
  Indices second = pass();
  CHECK(second == sampler.indices());
  sampler.set_epoch(0);
  CHECK(pass() != second);
  ag::data::DataLoader dropping(set, 3, sampler, /*drop_last=*/true);
  CHECK(dropping.num_batches() == 1);
  ag::data::DataLoader::Sampler bad = [] { return Indices{3, 10}; };
  CHECK_THROWS_WITH(ag::data::DataLoader(set, 2, bad), Catch::Contains("sample index 10"));
}
