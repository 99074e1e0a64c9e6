// The .npz reader and writer behind Module::save/load (format described in nn/serialize.cpp),
// shared with Optimizer::save/load. Not part of the public API.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <autograd/tensor.hpp>

namespace ag::nn::detail {

// Writes the entries, in order, as "<name>.npy" members; atomically (temp file, fsync, rename).
void write_npz(const std::string& path, const std::vector<std::pair<std::string, Tensor>>& entries);
// Every member, in archive order, with its CRC-32 and NPY header checked. Errors name the file.
std::vector<std::pair<std::string, Tensor>> read_npz(const std::string& path);

}  // namespace ag::nn::detail
