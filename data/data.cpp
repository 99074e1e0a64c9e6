#include <data/data.hpp>

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cstring>
#include <utility>

#include <autograd/engine.hpp>

namespace ag::data {

namespace {

char* raw(Tensor& t) {
  switch (t.dtype()) {
    case Dtype::Float32: return reinterpret_cast<char*>(t.data_ptr<float>());
    case Dtype::Float64: return reinterpret_cast<char*>(t.data_ptr<double>());
    case Dtype::Int64: return reinterpret_cast<char*>(t.data_ptr<std::int64_t>());
  }
  return nullptr;
}

const char* raw(const Tensor& t) {
  switch (t.dtype()) {
    case Dtype::Float32: return reinterpret_cast<const char*>(t.data_ptr<float>());
    case Dtype::Float64: return reinterpret_cast<const char*>(t.data_ptr<double>());
    case Dtype::Int64: return reinterpret_cast<const char*>(t.data_ptr<std::int64_t>());
  }
  return nullptr;
}

}  // namespace

TensorDataset::TensorDataset(Tensor inputs, Tensor targets)
    : inputs_(std::move(inputs)), targets_(std::move(targets)) {
  if (!inputs_.defined() || !targets_.defined())
    throw Error("TensorDataset: inputs and targets must both be defined");
  if (inputs_.dim() == 0 || targets_.dim() == 0 || inputs_.size(0) != targets_.size(0))
    throw Error("TensorDataset: inputs " + shape_str(inputs_.shape()) + " and targets " +
                shape_str(targets_.shape()) + " must have the same number of rows (first axis)");
}

Tensor gather_rows(const Tensor& t, const std::vector<std::size_t>& index) {
  if (!t.defined() || t.dim() == 0) throw Error("gather_rows: need a tensor with at least one axis");
  const std::size_t rows = t.size(0);
  Shape shape = t.shape();
  shape[0] = index.size();
  Tensor out = empty(shape, t.dtype());
  const std::size_t row_bytes = rows == 0 ? 0 : t.numel() / rows * dtype_size(t.dtype());
  for (std::size_t i : index)
    if (i >= rows)
      throw Error("gather_rows: row " + std::to_string(i) + " out of range for " + shape_str(t.shape()));
  if (row_bytes == 0 || index.empty()) return out;
  const char* src = raw(t);
  char* dst = raw(out);
  auto copy = [&](std::size_t begin, std::size_t end) {
    for (std::size_t r = begin; r < end; ++r) std::memcpy(dst + r * row_bytes, src + index[r] * row_bytes, row_bytes);
  };
  // Threads pay off only for big batches: below ~1 MiB the copy takes microseconds.
  constexpr std::size_t kParallelBytes = 1 << 20, kChunkBytes = 64 << 10;
  if (index.size() * row_bytes < kParallelBytes) {
    copy(0, index.size());
  } else {
    const std::size_t grain = std::max<std::size_t>(1, kChunkBytes / row_bytes);
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, index.size(), grain),
                      [&](const tbb::blocked_range<std::size_t>& r) { copy(r.begin(), r.end()); });
  }
  return out;
}

DataLoader::DataLoader(const TensorDataset& dataset, std::size_t batch_size, bool shuffle, bool drop_last)
    : dataset_(dataset), batch_size_(batch_size), shuffle_(shuffle), drop_last_(drop_last) {
  if (batch_size == 0) throw Error("DataLoader: batch_size must be positive");
  order_.resize(dataset_.size());
  for (std::size_t i = 0; i < order_.size(); ++i) order_[i] = i;
}

DataLoader::DataLoader(const TensorDataset& dataset, std::size_t batch_size, Sampler sampler,
                       bool drop_last)
    : DataLoader(dataset, batch_size, false, drop_last) {
  if (!sampler) throw Error("DataLoader: the sampler is empty");
  sampler_ = std::move(sampler);
  next_order();
}

// The sampler's order for the next pass, checked against the dataset.
void DataLoader::next_order() {
  std::vector<std::size_t> order = sampler_();
  for (std::size_t i : order)
    if (i >= dataset_.size())
      throw Error("DataLoader: the sampler gave sample index " + std::to_string(i) +
                  " for a dataset of " + std::to_string(dataset_.size()) + " samples");
  order_ = std::move(order);
}

std::size_t DataLoader::num_batches() const {
  const std::size_t n = order_.size();
  // n + batch_size - 1 would wrap for a batch size near SIZE_MAX.
  return n / batch_size_ + (!drop_last_ && n % batch_size_ != 0 ? 1 : 0);
}

DataLoader::Iterator DataLoader::begin() {
  if (sampler_) {
    next_order();
  } else if (shuffle_) {
    // Fisher-Yates from the global generator. The modulo bias is below 2^-40 for any dataset
    // that fits in memory.
    for (std::size_t i = 0; i < order_.size(); ++i) order_[i] = i;
    for (std::size_t i = order_.size(); i > 1; --i) std::swap(order_[i - 1], order_[random_u64() % i]);
  }
  return Iterator(this, 0);
}

DataLoader::Iterator DataLoader::end() { return Iterator(this, num_batches()); }

Batch DataLoader::batch(std::size_t i) const {
  if (i >= num_batches())
    throw Error("DataLoader: batch " + std::to_string(i) + " out of range (" + std::to_string(num_batches()) +
                " batches)");
  const std::size_t start = i * batch_size_;
  const std::size_t n = order_.size();
  const std::size_t stop = batch_size_ >= n - start ? n : start + batch_size_;  // no wrap
  const std::vector<std::size_t> index(order_.begin() + static_cast<std::ptrdiff_t>(start),
                                       order_.begin() + static_cast<std::ptrdiff_t>(stop));
  NoGradGuard no_grad;
  return Batch{gather_rows(dataset_.inputs(), index), gather_rows(dataset_.targets(), index)};
}

const Batch& DataLoader::Iterator::operator*() const {
  if (!loaded_) {
    batch_ = loader_->batch(index_);
    loaded_ = true;
  }
  return batch_;
}

DataLoader::Iterator& DataLoader::Iterator::operator++() {
  ++index_;
  loaded_ = false;
  batch_ = Batch{};
  return *this;
}

}  // namespace ag::data
