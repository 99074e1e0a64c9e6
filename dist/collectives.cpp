// ag::dist's collectives on tensors and numbers. With one rank each is a local no-op (a mean of
// one value is the value), so a plain run needs no MPI at all.
#include <cstdint>
#include <string>
#include <vector>

#include <autograd/detail/impl.hpp>
#include <dist/comm.hpp>
#include <dist/dist.hpp>

namespace ag::dist {
namespace {

MPI_Op mpi_op(ReduceOp op) { return op == ReduceOp::Max ? MPI_MAX : MPI_SUM; }

const char* op_name(ReduceOp op) {
  return op == ReduceOp::Sum ? "sum" : op == ReduceOp::Mean ? "mean" : "max";
}

// Every rank must pass a tensor of the same dtype and shape, or MPI truncates, mixes types or
// waits forever. One all-reduce (MAX) of each property and of its negation gives every rank the
// spread of the property over the ranks: a nonzero spread is a mismatch, seen by all ranks alike.
void check_same_everywhere(const Tensor& t, const char* op) {
  std::uint64_t shape_hash = 1469598103934665603ull;  // FNV-1a over the dimensions
  for (std::size_t d : t.shape()) shape_hash = (shape_hash ^ d) * 1099511628211ull;
  const std::int64_t props[] = {static_cast<std::int64_t>(t.dtype()),
                                static_cast<std::int64_t>(t.dim()),
                                static_cast<std::int64_t>(shape_hash >> 1)};
  std::int64_t both[6];
  for (int i = 0; i < 3; ++i) {
    both[2 * i] = props[i];
    both[2 * i + 1] = -props[i];
  }
  detail::check(MPI_Allreduce(MPI_IN_PLACE, both, 6, MPI_INT64_T, MPI_MAX, MPI_COMM_WORLD), op);
  for (int i = 0; i < 3; ++i)
    if (both[2 * i] != -both[2 * i + 1])
      throw Error(std::string("ag::dist::") + op + ": the ranks pass tensors of different " +
                  (i == 0 ? "dtypes" : "shapes") + "; rank " + std::to_string(rank()) + " has " +
                  describe(t) + " (every rank must pass the same shape and dtype)");
}

void require_defined(const Tensor& t, const char* op) {
  if (!t.defined()) throw Error(std::string("ag::dist::") + op + ": the tensor is undefined");
}

template <class T>
void scale(Tensor& t, double factor) {
  T* p = t.data_ptr<T>();
  for (std::size_t i = 0; i < t.numel(); ++i) p[i] = static_cast<T>(p[i] * factor);
}

template <>
void scale<std::int64_t>(Tensor& t, double) {
  std::int64_t* p = t.data_ptr<std::int64_t>();
  const std::int64_t n = world_size();
  for (std::size_t i = 0; i < t.numel(); ++i) p[i] /= n;
}

}  // namespace

void all_reduce(Tensor& t, ReduceOp op) {
  require_defined(t, "all_reduce");
  if (!detail::active()) return;
  check_same_everywhere(t, "all_reduce");
  detail::check(MPI_Allreduce(MPI_IN_PLACE, t.impl()->data(), detail::count(t, "all_reduce"),
                              detail::mpi_type(t.dtype()), mpi_op(op), MPI_COMM_WORLD),
                op_name(op));
  if (op == ReduceOp::Mean) {
    switch (t.dtype()) {
      case Dtype::Float32: scale<float>(t, 1.0 / world_size()); break;
      case Dtype::Float64: scale<double>(t, 1.0 / world_size()); break;
      case Dtype::Int64: scale<std::int64_t>(t, 0); break;
    }
  }
  t.bump_version();
}

double all_reduce(double value, ReduceOp op) {
  if (!detail::active()) return value;
  detail::check(MPI_Allreduce(MPI_IN_PLACE, &value, 1, MPI_DOUBLE, mpi_op(op), MPI_COMM_WORLD),
                op_name(op));
  return op == ReduceOp::Mean ? value / world_size() : value;
}

void broadcast(Tensor& t, int root) {
  require_defined(t, "broadcast");
  if (root < 0 || root >= world_size())
    throw Error("ag::dist::broadcast: root " + std::to_string(root) + " is not a rank (world size " +
                std::to_string(world_size()) + ")");
  if (!detail::active()) return;
  check_same_everywhere(t, "broadcast");
  detail::check(MPI_Bcast(t.impl()->data(), detail::count(t, "broadcast"), detail::mpi_type(t.dtype()),
                          root, MPI_COMM_WORLD),
                "broadcast");
  t.bump_version();
}

void barrier() {
  if (detail::active()) detail::check(MPI_Barrier(MPI_COMM_WORLD), "barrier");
}

}  // namespace ag::dist
