// Internal: everything an op implementation needs: tensor internals (detail/tensor_impl.hpp)
// and the recorded graph node (detail/node.hpp).
#pragma once

#include <autograd/detail/node.hpp>
#include <autograd/detail/tensor_impl.hpp>
