// Internal to ag::dist: what its .cpp files share about MPI. Never included by dist.hpp, so
// users' programs do not see <mpi.h>.
#pragma once

#include <mpi.h>

#include <autograd/tensor.hpp>

namespace ag::dist::detail {

MPI_Datatype mpi_type(Dtype d);
// Throws ag::Error naming `what`, the rank and MPI's text for a code other than MPI_SUCCESS.
void check(int code, const char* what);
// MPI is running with more than one rank: collectives have work to do.
bool active();
// An element count as MPI's int count; throws naming `what` beyond 2^31 - 1 elements.
int count(std::size_t numel, const char* what);
inline int count(const Tensor& t, const char* what) { return count(t.numel(), what); }

}  // namespace ag::dist::detail
