// ag::data: in-memory datasets, a mini-batch loader, and readers for IDX (MNIST, Fashion-MNIST)
// and numeric CSV files.
#pragma once

#include <cstddef>
#include <functional>
#include <iterator>
#include <string>
#include <vector>

#include <autograd/export.hpp>
#include <autograd/tensor.hpp>

AG_API_BEGIN
namespace ag::data {

// Row i of inputs goes with row i of targets (the first axis indexes samples).
class TensorDataset {
 public:
  TensorDataset(Tensor inputs, Tensor targets);
  std::size_t size() const { return inputs_.size(0); }
  const Tensor& inputs() const { return inputs_; }
  const Tensor& targets() const { return targets_; }

 private:
  Tensor inputs_, targets_;
};

struct Batch {
  Tensor inputs, targets;  // fresh tensors (copies of the dataset's rows), no graph attached
};

// Mini-batches over a TensorDataset, for range-for:
//   for (const data::Batch& b : loader) { ... }
// Each pass (each begin()) draws a new order from the global generator when shuffle is on, so
// ag::manual_seed makes the sequence of epochs repeatable. The last batch is smaller when the
// batch size does not divide the dataset, unless drop_last drops it. Large batches are copied
// row by row in parallel (TBB).
class DataLoader {
 public:
  DataLoader(const TensorDataset& dataset, std::size_t batch_size, bool shuffle = true,
             bool drop_last = false);
  // The sample order of each pass comes from sampler() instead, called by every begin(): it
  // may return any sample indices, a share of the dataset, repeats (ag::dist::DistributedSampler
  // converts to this).
  using Sampler = std::function<std::vector<std::size_t>()>;
  DataLoader(const TensorDataset& dataset, std::size_t batch_size, Sampler sampler,
             bool drop_last = false);

  class Iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = Batch;
    using difference_type = std::ptrdiff_t;
    using pointer = const Batch*;
    using reference = const Batch&;

    const Batch& operator*() const;
    const Batch* operator->() const { return &**this; }
    Iterator& operator++();
    bool operator==(const Iterator& o) const { return loader_ == o.loader_ && index_ == o.index_; }
    bool operator!=(const Iterator& o) const { return !(*this == o); }

   private:
    friend class DataLoader;
    Iterator(const DataLoader* loader, std::size_t index) : loader_(loader), index_(index) {}
    const DataLoader* loader_;
    std::size_t index_;
    mutable Batch batch_;          // assembled on first dereference
    mutable bool loaded_ = false;
  };

  Iterator begin();  // starts a pass: reshuffles when shuffle is on
  Iterator end();

  std::size_t num_batches() const;
  std::size_t batch_size() const { return batch_size_; }
  const TensorDataset& dataset() const { return dataset_; }
  // Batch i of the current pass (the order drawn by the last begin()).
  Batch batch(std::size_t i) const;
  // The sample order of the current pass.
  const std::vector<std::size_t>& order() const { return order_; }

 private:
  TensorDataset dataset_;
  std::size_t batch_size_;
  bool shuffle_, drop_last_;
  Sampler sampler_;
  std::vector<std::size_t> order_;
  void next_order();
};

// Copies rows `index` of t (along the first axis) into a new tensor; parallel for large copies.
Tensor gather_rows(const Tensor& t, const std::vector<std::size_t>& index);

// (Fashion-)MNIST IDX files, plain or gzip-compressed (detected from the content).
// inputs: float32 {N, rows * cols}, pixel / 255 in [0, 1]; targets: int64 {N}.
TensorDataset load_idx(const std::string& images_path, const std::string& labels_path);

// A numeric CSV file: comma-separated, one sample per line. A first line with any non-numeric
// field is taken as a header and skipped; blank lines are skipped. Columns are numbered from 0
// in target_columns; errors name the file, the line and the column (both counted from 1).
// inputs: float32 {N, columns - k} (the other columns, in file order);
// targets: float32 {N, k} in the order given (convert class ids with .to(ag::int64) if needed).
TensorDataset load_csv(const std::string& path, std::vector<std::size_t> target_columns);

}  // namespace ag::data
AG_API_END
