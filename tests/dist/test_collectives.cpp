// ag::dist's process group and collectives, at whatever world size the test runs with (1 without
// mpirun; ctest also runs this binary under mpirun -np 2 and -np 3).
#include <catch2/catch.hpp>

#include <cstdint>
#include <vector>

#include <autograd/autograd.hpp>
#include <dist/dist.hpp>

using ag::Tensor;
namespace dist = ag::dist;

TEST_CASE("dist: init found the world") {
  REQUIRE(dist::is_initialized());
  REQUIRE(dist::world_size() >= 1);
  REQUIRE(dist::rank() >= 0);
  REQUIRE(dist::rank() < dist::world_size());
}

TEST_CASE("dist: all_reduce sums, averages and takes the max in every dtype") {
  const double w = dist::world_size(), r = dist::rank();
  for (ag::Dtype dtype : {ag::float32, ag::float64, ag::int64}) {
    CAPTURE(ag::dtype_name(dtype));
    auto mine = [&] { return ag::tensor({r + 1, 2 * (r + 1), -r, 7}, {2, 2}, dtype); };
    Tensor sum = mine(), mean = mine(), max = mine();
    dist::all_reduce(sum);
    dist::all_reduce(mean, dist::ReduceOp::Mean);
    dist::all_reduce(max, dist::ReduceOp::Max);
    const double s = w * (w + 1) / 2;  // 1 + 2 + ... + w
    CHECK(sum.to_vector() == std::vector<double>{s, 2 * s, -(s - w), 7 * w});
    CHECK(max.to_vector() == std::vector<double>{w, 2 * w, 0, 7});
    if (dtype == ag::int64) {  // rounds toward zero, as integer division does
      const auto n = static_cast<std::int64_t>(w), t = static_cast<std::int64_t>(s);
      CHECK(mean.to_vector() == std::vector<double>{double(t / n), double(2 * t / n),
                                                    double(-(t - n) / n), 7});
    } else {
      CHECK(mean.to_vector() == std::vector<double>{s / w, 2 * s / w, -(s - w) / w, 7});
    }
    CHECK(sum.shape() == ag::Shape{2, 2});
    CHECK(sum.dtype() == dtype);
  }
}

TEST_CASE("dist: all_reduce of one number") {
  const double w = dist::world_size(), r = dist::rank();
  CHECK(dist::all_reduce(r + 0.5) == Approx(w * w / 2));
  CHECK(dist::all_reduce(r, dist::ReduceOp::Max) == w - 1);
  CHECK(dist::all_reduce(2.0, dist::ReduceOp::Mean) == 2.0);
}

TEST_CASE("dist: broadcast copies the root's tensor to every rank") {
  for (int root = 0; root < dist::world_size(); ++root) {
    Tensor t = ag::full({3}, dist::rank() * 10.0 + 1, ag::float64);
    dist::broadcast(t, root);
    CHECK(t.to_vector() == std::vector<double>(3, root * 10.0 + 1));
  }
  Tensor t = ag::zeros({2});
  CHECK_THROWS_WITH(dist::broadcast(t, dist::world_size()), Catch::Contains("is not a rank"));
  dist::barrier();
}

TEST_CASE("dist: tensors that differ between the ranks are an error on every rank") {
  Tensor undefined;
  CHECK_THROWS_WITH(dist::all_reduce(undefined), Catch::Contains("undefined"));
  if (dist::world_size() == 1) {
    Tensor t = ag::ones({dist::rank() + 2u});
    dist::all_reduce(t);  // nothing to differ from
    CHECK(t.to_vector() == std::vector<double>{1, 1});
    return;
  }
  Tensor by_shape = ag::ones({dist::rank() + 1u});
  CHECK_THROWS_WITH(dist::all_reduce(by_shape), Catch::Contains("different shapes") &&
                                                    Catch::Contains("rank " + std::to_string(dist::rank())));
  Tensor by_dtype = ag::ones({2}, dist::rank() == 0 ? ag::float32 : ag::float64);
  CHECK_THROWS_WITH(dist::broadcast(by_dtype), Catch::Contains("different dtypes"));
  Tensor fine = ag::ones({2});
  dist::all_reduce(fine);  // the failed calls left nothing behind
  CHECK(fine.to_vector() == std::vector<double>(2, dist::world_size()));
}
