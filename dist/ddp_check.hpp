// Internal to ag::dist: what DistributedDataParallel's constructor does before it buckets.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <autograd/tensor.hpp>
#include <dist/dist.hpp>

namespace ag::dist::detail {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

// Collective. Throws the same ag::Error on every rank when the ranks' parameter or buffer lists
// (names, shapes, dtypes, in order) or bucket options differ, naming the first that differs.
void check_same_model(const NamedTensors& params, const NamedTensors& buffers,
                      const DDPOptions& options);
// Collective: every rank's tensors take rank 0's values.
void broadcast_from_rank0(const NamedTensors& tensors);

}  // namespace ag::dist::detail
