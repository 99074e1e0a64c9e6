// The thread count of every kernel. Its own header, below tensor.hpp, so that the kernels
// (which implement it) depend on nothing above them; engine.hpp includes it.
#pragma once

#include <autograd/export.hpp>

AG_API_BEGIN
namespace ag {

// The threads of every kernel: TBB's, which also run large matrix products as parallel blocks
// of single-threaded OpenBLAS calls (so BLAS follows this setting too, never oversubscribing).
// Default: all hardware threads.
void set_num_threads(int n);
int get_num_threads();

}  // namespace ag
AG_API_END
