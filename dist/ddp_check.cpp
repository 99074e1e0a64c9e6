// DistributedDataParallel's construction: the ranks must hold the same model, then rank 0's
// weights are copied to all. A mismatch must be an error on every rank, not a hang or a silent
// mix of different models, so every rank receives every rank's description and compares them all
// in the same order: each rank reaches the same verdict and the same message.
#include <sstream>
#include <string>
#include <vector>

#include <autograd/detail/impl.hpp>
#include <dist/comm.hpp>
#include <dist/ddp_check.hpp>

namespace ag::dist::detail {
namespace {

// One line per parameter and buffer, "parameter '0.weight' {100, 784} float32", after one line
// of options.
std::vector<std::string> describe_all(const NamedTensors& params, const NamedTensors& buffers,
                                      const DDPOptions& options) {
  std::vector<std::string> lines;
  lines.push_back("options: bucket_bytes " + std::to_string(options.bucket_bytes) +
                  ", in_place_bytes " + std::to_string(options.in_place_bytes) +
                  ", find_unused_parameters " + (options.find_unused_parameters ? "true" : "false"));
  for (const auto& [name, t] : params)
    lines.push_back("parameter '" + name + "' " + shape_str(t.shape()) + " " + dtype_name(t.dtype()) +
                    (t.requires_grad() ? "" : " (requires_grad false)"));
  for (const auto& [name, t] : buffers)
    lines.push_back("buffer '" + name + "' " + shape_str(t.shape()) + " " + dtype_name(t.dtype()));
  return lines;
}

std::string join(const std::vector<std::string>& lines) {
  std::string s;
  for (const std::string& l : lines) s += l + '\n';
  return s;
}

std::vector<std::string> split(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  return lines;
}

// Every rank's text, in rank order (MPI_Allgatherv).
std::vector<std::string> gather_texts(const std::string& mine) {
  const int w = world_size();
  int length = static_cast<int>(mine.size());
  std::vector<int> lengths(static_cast<std::size_t>(w)), offsets(static_cast<std::size_t>(w));
  check(MPI_Allgather(&length, 1, MPI_INT, lengths.data(), 1, MPI_INT, MPI_COMM_WORLD),
        "DistributedDataParallel: MPI_Allgather");
  int total = 0;
  for (int r = 0; r < w; ++r) offsets[r] = total, total += lengths[r];
  std::string all(static_cast<std::size_t>(total), '\0');
  check(MPI_Allgatherv(mine.data(), length, MPI_CHAR, all.data(), lengths.data(), offsets.data(),
                       MPI_CHAR, MPI_COMM_WORLD),
        "DistributedDataParallel: MPI_Allgatherv");
  std::vector<std::string> texts;
  for (int r = 0; r < w; ++r) texts.push_back(all.substr(offsets[r], lengths[r]));
  return texts;
}

std::string mismatch(std::size_t line, const std::vector<std::string>& a, int rank_b,
                     const std::vector<std::string>& b) {
  auto at = [&](const std::vector<std::string>& v) {
    return line < v.size() ? v[line] : std::string("nothing more");
  };
  return "DistributedDataParallel: the ranks do not hold the same model: rank 0 has " + at(a) +
         " where rank " + std::to_string(rank_b) + " has " + at(b);
}

}  // namespace

void check_same_model(const NamedTensors& params, const NamedTensors& buffers,
                      const DDPOptions& options) {
  if (!active()) return;
  std::vector<std::string> texts = gather_texts(join(describe_all(params, buffers, options)));
  const std::vector<std::string> first = split(texts[0]);
  for (std::size_t r = 1; r < texts.size(); ++r) {
    const std::vector<std::string> other = split(texts[r]);
    for (std::size_t line = 0; line < std::max(first.size(), other.size()); ++line)
      if (line >= first.size() || line >= other.size() || first[line] != other[line])
        throw Error(mismatch(line, first, static_cast<int>(r), other));
  }
}

void broadcast_from_rank0(const NamedTensors& tensors) {
  if (!active()) return;
  for (const auto& [name, t] : tensors) {
    check(MPI_Bcast(t.impl()->data(), count(t, "DistributedDataParallel"), mpi_type(t.dtype()), 0,
                    MPI_COMM_WORLD),
          "DistributedDataParallel: MPI_Bcast of the parameters and buffers");
    t.impl()->storage->version++;  // as bump_version(): the values changed under any saved graph
  }
}

}  // namespace ag::dist::detail
