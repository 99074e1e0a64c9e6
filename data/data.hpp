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

/// Row i of inputs goes with row i of targets (the first axis indexes samples).
class TensorDataset {
 public:
  TensorDataset(Tensor inputs, Tensor targets);  ///< Error unless both have as many rows
  std::size_t size() const { return inputs_.size(0); }  ///< the number of samples
  const Tensor& inputs() const { return inputs_; }      ///< all inputs, one row per sample
  const Tensor& targets() const { return targets_; }    ///< all targets, one row per sample

 private:
  Tensor inputs_, targets_;
};

/// One mini-batch: fresh tensors (copies of the dataset's rows), no graph attached.
struct Batch {
  Tensor inputs;   ///< the batch's input rows
  Tensor targets;  ///< the batch's target rows
};

/// Mini-batches over a TensorDataset, for range-for:
///   for (const data::Batch& b : loader) { ... }
/// Each pass (each begin()) draws a new order from the global generator when shuffle is on, so
/// ag::manual_seed makes the sequence of epochs repeatable. The last batch is smaller when the
/// batch size does not divide the dataset, unless drop_last drops it. Large batches are copied
/// row by row in parallel (TBB).
class DataLoader {
 public:
  /// Batches of batch_size (>= 1) over dataset (copied: it holds tensor handles).
  DataLoader(const TensorDataset& dataset, std::size_t batch_size, bool shuffle = true,
             bool drop_last = false);
  /// The sample order of each pass comes from sampler() instead, called by every begin(): it
  /// may return any sample indices, a share of the dataset, repeats (ag::dist::DistributedSampler
  /// converts to this).
  using Sampler = std::function<std::vector<std::size_t>()>;
  /// Batches of batch_size over the samples sampler() picks for each pass.
  DataLoader(const TensorDataset& dataset, std::size_t batch_size, Sampler sampler,
             bool drop_last = false);

  /// An input iterator over the batches of one pass; a batch is assembled when first read.
  class Iterator {
   public:
    using iterator_category = std::input_iterator_tag;  ///< single pass
    using value_type = Batch;                           ///< what it yields
    using difference_type = std::ptrdiff_t;             ///< distance between positions
    using pointer = const Batch*;                       ///< operator->'s result
    using reference = const Batch&;                     ///< operator*'s result

    const Batch& operator*() const;  ///< the current batch
    const Batch* operator->() const { return &**this; }  ///< the current batch's members
    Iterator& operator++();  ///< the next batch
    /// Same loader and position.
    bool operator==(const Iterator& o) const { return loader_ == o.loader_ && index_ == o.index_; }
    bool operator!=(const Iterator& o) const { return !(*this == o); }  ///< !(*this == o)

   private:
    friend class DataLoader;
    Iterator(const DataLoader* loader, std::size_t index) : loader_(loader), index_(index) {}
    const DataLoader* loader_;
    std::size_t index_;
    mutable Batch batch_;          ///< assembled on first dereference
    mutable bool loaded_ = false;
  };

  Iterator begin();  ///< starts a pass: reshuffles when shuffle is on
  Iterator end();  ///< past the last batch

  std::size_t num_batches() const;  ///< batches per pass
  std::size_t batch_size() const { return batch_size_; }  ///< samples per (full) batch
  const TensorDataset& dataset() const { return dataset_; }  ///< the dataset it draws from
  /// Batch i of the current pass (the order drawn by the last begin()).
  Batch batch(std::size_t i) const;
  /// The sample order of the current pass.
  const std::vector<std::size_t>& order() const { return order_; }

 private:
  TensorDataset dataset_;
  std::size_t batch_size_;
  bool shuffle_, drop_last_;
  Sampler sampler_;
  std::vector<std::size_t> order_;
  void next_order();
};

/// Copies rows `index` of t (along the first axis) into a new tensor; parallel for large copies.
Tensor gather_rows(const Tensor& t, const std::vector<std::size_t>& index);

/// (Fashion-)MNIST IDX files, plain or gzip-compressed (detected from the content).
/// inputs: float32 {N, rows * cols}, pixel / 255 in [0, 1]; targets: int64 {N}.
TensorDataset load_idx(const std::string& images_path, const std::string& labels_path);

/// A numeric CSV file: comma-separated, one sample per line. A first line with any non-numeric
/// field is taken as a header and skipped; blank lines are skipped. Columns are numbered from 0
/// in target_columns; errors name the file, the line and the column (both counted from 1).
/// inputs: float32 {N, columns - k} (the other columns, in file order);
/// targets: float32 {N, k} in the order given (convert class ids with .to(ag::int64) if needed).
TensorDataset load_csv(const std::string& path, std::vector<std::size_t> target_columns);

}  // namespace ag::data
AG_API_END
