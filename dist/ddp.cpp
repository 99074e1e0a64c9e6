// ag::dist::DistributedDataParallel: gradient averaging in buckets that overlaps backward, in the
// way PyTorch's reducer (torch/csrc/distributed/c10d/reducer.cpp) does it.
//
// Parameters are grouped into buckets in reverse registration order, which is about the order
// backward produces their gradients. Each parameter has a post-accumulate hook (it runs as soon
// as backward has updated that parameter's .grad, while the rest of backward is still to come).
// The hook copies .grad into its bucket's flat buffer (a large gradient is its own bucket and is
// reduced where it is, in .grad, with no copy: DDPOptions::in_place_bytes). When a bucket is
// complete it is divided by the world size, and its non-blocking MPI_Iallreduce (a sum) starts
// while backward goes on with the layers below (the last bucket, complete only when backward is,
// uses the faster blocking MPI_Allreduce). Buckets start strictly in index order on every rank
// (MPI requires one order of collectives), so one finished early waits for its predecessors. The
// hook of the last gradient waits for every bucket and writes the means back into each .grad.
#include <algorithm>
#include <chrono>
#include <cstring>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include <autograd/detail/impl.hpp>
#include <autograd/engine.hpp>
#include <dist/comm.hpp>
#include <dist/ddp_check.hpp>
#include <dist/dist.hpp>

namespace ag::dist {

class DistributedDataParallel::Reducer {
 public:
  Reducer(std::vector<std::pair<std::string, Tensor>> params, const DDPOptions& options);
  ~Reducer();
  Reducer(const Reducer&) = delete;
  Reducer& operator=(const Reducer&) = delete;

  void arm(const Tensor& output);  // after each forward
  std::vector<std::vector<std::string>> bucket_names() const;
  double wait_seconds() const { return wait_seconds_; }

 private:
  struct Param {
    std::string name;
    Tensor tensor;
    std::size_t numel = 0;
    std::size_t bucket = 0, offset = 0;  // element offset in the bucket's buffer
    std::size_t hook = 0;
    bool ready = false, used = true;
  };
  struct Bucket {
    Dtype dtype = float32;
    std::vector<std::size_t> params;
    bool in_place = false;  // one parameter, reduced in its own .grad
    Tensor buffer;          // packed: flat, one slot per parameter
    Tensor target;          // what the all-reduce runs on: the buffer, or the one gradient
    std::size_t pending = 0;
    MPI_Request request = MPI_REQUEST_NULL;
  };

  void build_buckets(std::size_t bucket_bytes, std::size_t in_place_bytes);
  void on_gradient(std::size_t i);
  void mark_ready(std::size_t i);
  void launch_ready_buckets();
  void mark_unused(const Tensor& output);
  void wait_all();
  void write_means();
  void reset();
  std::string unready_names() const;

  std::vector<Param> params_;
  std::vector<Bucket> buckets_;
  bool find_unused_;
  bool armed_ = false;
  std::size_t ready_ = 0, next_launch_ = 0;
  std::size_t gradients_ = 0;  // hooks run since arm()
  std::vector<int> used_flags_;  // find_unused_parameters: OR over the ranks
  MPI_Request used_request_ = MPI_REQUEST_NULL;
  double wait_seconds_ = 0;
};

namespace {

std::size_t bytes_of(const Tensor& t) { return t.numel() * dtype_size(t.dtype()); }

void mpi_iallreduce(Tensor& buffer, MPI_Request* request) {
  detail::check(MPI_Iallreduce(MPI_IN_PLACE, buffer.impl()->data(),
                               detail::count(buffer, "DistributedDataParallel bucket"),
                               detail::mpi_type(buffer.dtype()), MPI_SUM, MPI_COMM_WORLD, request),
                "DistributedDataParallel: MPI_Iallreduce");
}

// A bucket's sum over the ranks is their mean when each rank divides first, as PyTorch's reducer
// does. Dividing here, while backward or the copy into the bucket has just written the lines,
// is one pass through ag's vectorised kernels. Dividing the sum after the all-reduce took twice
// as long (about 0.025 against 0.013 ms of a 1 ms MLP step on 2 ranks of the Xeon VM in
// bench/RESULTS.md), because the other rank had just read those lines and each write had to
// take them back. By a power of two the result is the same to the bit; otherwise it differs from
// (sum) / W by float rounding, the same on every run and rank.
void divide_by_world_size(Tensor& t) {
  NoGradGuard no_grad;  // bookkeeping, even under create_graph
  t.mul_(1.0 / world_size());
}

void mpi_allreduce(Tensor& buffer) {
  detail::check(MPI_Allreduce(MPI_IN_PLACE, buffer.impl()->data(),
                              detail::count(buffer, "DistributedDataParallel bucket"),
                              detail::mpi_type(buffer.dtype()), MPI_SUM, MPI_COMM_WORLD),
                "DistributedDataParallel: MPI_Allreduce");
}

}  // namespace

DistributedDataParallel::Reducer::Reducer(std::vector<std::pair<std::string, Tensor>> params,
                                          const DDPOptions& options)
    : find_unused_(options.find_unused_parameters) {
  for (auto& [name, t] : params)
    if (t.requires_grad()) params_.push_back(Param{name, t, t.numel()});
  build_buckets(options.bucket_bytes, options.in_place_bytes);
  used_flags_.assign(params_.size(), 1);
  for (std::size_t i = 0; i < params_.size(); ++i)
    params_[i].hook = params_[i].tensor.register_post_accumulate_grad_hook(
        [this, i](Tensor&) { on_gradient(i); });
}

DistributedDataParallel::Reducer::~Reducer() {
  for (Param& p : params_) {
    try {
      p.tensor.remove_hook(p.hook);
    } catch (const Error&) {  // the module replaced the tensor (Module::to): nothing to remove
    }
  }
  // A reduction cut short by an exception leaves requests behind: complete them, as MPI asks.
  for (Bucket& b : buckets_)
    if (b.request != MPI_REQUEST_NULL) MPI_Wait(&b.request, MPI_STATUS_IGNORE);
  if (used_request_ != MPI_REQUEST_NULL) MPI_Wait(&used_request_, MPI_STATUS_IGNORE);
}

// Reverse registration order; a bucket holds one dtype and closes when the next parameter
// would take it past bucket_bytes (a larger parameter gets a bucket of its own). A gradient of
// in_place_bytes or more gets a bucket of its own without a buffer.
void DistributedDataParallel::Reducer::build_buckets(std::size_t bucket_bytes,
                                                     std::size_t in_place_bytes) {
  std::size_t bytes = 0;
  for (std::size_t k = params_.size(); k-- > 0;) {
    Param& p = params_[k];
    const std::size_t b = bytes_of(p.tensor);
    const bool alone = b >= in_place_bytes;
    if (alone || buckets_.empty() || buckets_.back().in_place ||
        buckets_.back().dtype != p.tensor.dtype() || (bytes + b > bucket_bytes && bytes > 0)) {
      buckets_.emplace_back();
      buckets_.back().dtype = p.tensor.dtype();
      buckets_.back().in_place = alone;
      bytes = 0;
    }
    Bucket& bucket = buckets_.back();
    p.bucket = buckets_.size() - 1;
    p.offset = 0;
    for (std::size_t q : bucket.params) p.offset += params_[q].tensor.numel();
    bucket.params.push_back(k);
    bytes += b;
  }
  for (Bucket& bucket : buckets_) {
    std::size_t n = 0;
    for (std::size_t q : bucket.params) n += params_[q].tensor.numel();
    detail::count(n, "DistributedDataParallel bucket");  // fits one MPI call
    if (!bucket.in_place) bucket.buffer = bucket.target = ag::empty({n}, bucket.dtype);
    bucket.pending = bucket.params.size();
  }
}

std::vector<std::vector<std::string>> DistributedDataParallel::Reducer::bucket_names() const {
  std::vector<std::vector<std::string>> out;
  for (const Bucket& b : buckets_) {
    out.emplace_back();
    for (std::size_t q : b.params) out.back().push_back(params_[q].name);
  }
  return out;
}

std::string DistributedDataParallel::Reducer::unready_names() const {
  std::string names;
  for (const Param& p : params_)
    if (!p.ready) names += (names.empty() ? "'" : ", '") + p.name + "'";
  return names;
}

void DistributedDataParallel::Reducer::arm(const Tensor& output) {
  if (armed_ && gradients_ > 0)
    throw Error("DistributedDataParallel: the last backward gave no gradient to parameter(s) " +
                unready_names() + ", so their average over the ranks never started. Construct it "
                "with DDPOptions().set_find_unused_parameters(true) when the forward does not use "
                "every parameter");
  if (armed_) wait_all();  // a forward without backward: only find_unused_parameters started any
  reset();
  if (!output.defined() || !output.requires_grad() || !is_grad_enabled()) return;  // no backward
  armed_ = true;
  if (find_unused_) mark_unused(output);
}

void DistributedDataParallel::Reducer::reset() {
  for (Param& p : params_) p.ready = false, p.used = true;
  for (Bucket& b : buckets_) {
    b.pending = b.params.size();
    if (b.in_place) b.target = Tensor();  // .grad is the user's again (and owned by .grad alone)
  }
  ready_ = next_launch_ = gradients_ = 0;
  armed_ = false;
}

// The parameters the output's graph does not reach get no gradient in backward: they count as
// ready now with a zero slot. Which ones some rank used is OR-ed over the ranks, so that a
// parameter nobody used keeps an undefined .grad everywhere.
void DistributedDataParallel::Reducer::mark_unused(const Tensor& output) {
  std::unordered_set<const TensorImpl*> reached;
  std::unordered_set<const Node*> seen;
  std::vector<const Node*> stack;
  if (const Node* n = output.impl()->grad_fn.get()) stack.push_back(n);
  while (!stack.empty()) {
    const Node* n = stack.back();
    stack.pop_back();
    if (!seen.insert(n).second) continue;
    for (std::size_t i = 0; i < n->inputs.size(); ++i) {
      const Tensor in = n->input_tensor(i);
      if (!in.defined()) continue;
      if (const Node* p = in.impl()->grad_fn.get()) stack.push_back(p);
      else reached.insert(in.impl());
    }
  }
  reached.insert(output.impl());  // the output itself may be a parameter
  for (std::size_t i = 0; i < params_.size(); ++i) {
    used_flags_[i] = reached.count(params_[i].tensor.impl()) ? 1 : 0;
    if (used_flags_[i]) continue;
    Param& p = params_[i];
    p.used = false;
    Bucket& b = buckets_[p.bucket];
    if (b.in_place)
      b.target = ag::zeros(p.tensor.shape(), b.dtype);  // .grad, if another rank used it
    else
      std::memset(static_cast<char*>(b.buffer.impl()->data()) + p.offset * dtype_size(b.dtype), 0,
                  bytes_of(p.tensor));
    mark_ready(i);
  }
  if (detail::active())
    detail::check(MPI_Iallreduce(MPI_IN_PLACE, used_flags_.data(), static_cast<int>(used_flags_.size()),
                                 MPI_INT, MPI_MAX, MPI_COMM_WORLD, &used_request_),
                  "DistributedDataParallel: MPI_Iallreduce of the used parameters");
  launch_ready_buckets();
  if (ready_ == params_.size()) {  // the output uses no parameter: no hook will run
    wait_all();
    write_means();
    reset();
  }
}

void DistributedDataParallel::Reducer::mark_ready(std::size_t i) {
  params_[i].ready = true;
  --buckets_[params_[i].bucket].pending;
  ++ready_;
}

// Starts the complete buckets that are next in line; tests the ones in flight, because MPI
// moves a non-blocking collective on only inside MPI calls.
void DistributedDataParallel::Reducer::launch_ready_buckets() {
  if (!detail::active()) {
    while (next_launch_ < buckets_.size() && buckets_[next_launch_].pending == 0) ++next_launch_;
    return;
  }
  // The last bucket by index starts last on every rank, once every gradient is in: nothing is
  // left to overlap, and Open MPI's blocking all-reduce is about twice as fast as its
  // non-blocking one (libnbc) at these sizes. Every rank makes the same choice, as MPI requires.
  for (; next_launch_ < buckets_.size() && buckets_[next_launch_].pending == 0; ++next_launch_) {
    Bucket& b = buckets_[next_launch_];
    divide_by_world_size(b.target);
    if (next_launch_ + 1 < buckets_.size()) {
      mpi_iallreduce(b.target, &b.request);
      continue;
    }
    auto start = std::chrono::steady_clock::now();
    mpi_allreduce(b.target);
    wait_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  for (std::size_t k = 0; k < next_launch_; ++k) {
    int done = 0;
    if (buckets_[k].request != MPI_REQUEST_NULL)
      detail::check(MPI_Test(&buckets_[k].request, &done, MPI_STATUS_IGNORE),
                    "DistributedDataParallel: MPI_Test");
  }
}

void DistributedDataParallel::Reducer::on_gradient(std::size_t i) {
  if (!armed_) return;  // a backward that no DDP forward armed: left alone
  Param& p = params_[i];
  if (p.ready)
    throw Error("DistributedDataParallel: parameter '" + p.name + "' got a second gradient in "
                "one backward pass (or find_unused_parameters judged it unused)");
  const Tensor grad = p.tensor.grad();
  Bucket& b = buckets_[p.bucket];
  if (!grad.defined() || grad.dtype() != b.dtype || grad.numel() != p.numel)
    throw Error("DistributedDataParallel: parameter '" + p.name + "' now has the gradient " +
                (grad.defined() ? describe(grad) : std::string("(undefined)")) + ", but was " +
                shape_str(p.tensor.shape()) + " " + dtype_name(b.dtype) + " when the buckets were "
                "made; construct DistributedDataParallel after Module::to");
  if (b.in_place)
    b.target = grad;
  else
    std::memcpy(static_cast<char*>(b.buffer.impl()->data()) + p.offset * dtype_size(b.dtype),
                grad.impl()->data(), bytes_of(p.tensor));
  mark_ready(i);
  ++gradients_;
  launch_ready_buckets();
  if (ready_ < params_.size()) return;
  wait_all();  // the last gradient is in
  write_means();
  reset();
}

// Completes every all-reduce in flight; the time it takes is what backward did not hide.
void DistributedDataParallel::Reducer::wait_all() {
  if (!detail::active()) return;
  auto start = std::chrono::steady_clock::now();
  std::vector<MPI_Request> requests;
  for (Bucket& b : buckets_) requests.push_back(b.request);
  requests.push_back(used_request_);
  detail::check(MPI_Waitall(static_cast<int>(requests.size()), requests.data(), MPI_STATUSES_IGNORE),
                "DistributedDataParallel: MPI_Waitall");
  for (Bucket& b : buckets_) b.request = MPI_REQUEST_NULL;
  used_request_ = MPI_REQUEST_NULL;
  wait_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Puts the means in each .grad: each slot of a packed bucket is copied out; an in-place bucket
// is .grad already.
void DistributedDataParallel::Reducer::write_means() {
  for (Bucket& b : buckets_) {
    for (std::size_t q : b.params) {
      Param& p = params_[q];
      if (!used_flags_[q]) continue;  // no rank used it: .grad stays undefined
      Tensor target = p.tensor.grad();
      if (b.in_place) {
        if (!target.defined()) p.tensor.impl()->grad = b.target;  // unused here, used elsewhere
        else target.bump_version();
        continue;
      }
      if (!target.defined()) {  // unused here, used elsewhere
        target = ag::empty(p.tensor.shape(), p.tensor.dtype());
        p.tensor.impl()->grad = target;
      }
      const std::size_t width = dtype_size(b.dtype);
      std::memcpy(target.impl()->data(),
                  static_cast<const char*>(b.buffer.impl()->data()) + p.offset * width,
                  p.numel * width);
      target.bump_version();
    }
  }
  std::fill(used_flags_.begin(), used_flags_.end(), 1);
}

DistributedDataParallel::DistributedDataParallel(std::shared_ptr<nn::Module> module,
                                                 DDPOptions options)
    : module_(std::move(module)) {
  if (!module_) throw Error("DistributedDataParallel: the module is null");
  if (!is_initialized()) init();
  std::vector<std::pair<std::string, Tensor>> params = module_->named_parameters();
  const std::vector<std::pair<std::string, Tensor>> buffers = module_->named_buffers();
  detail::check_same_model(params, buffers, options);
  detail::broadcast_from_rank0(params);
  detail::broadcast_from_rank0(buffers);  // running statistics start equal (then stay per rank)
  reducer_ = std::make_unique<Reducer>(std::move(params), options);
}

DistributedDataParallel::~DistributedDataParallel() = default;

Tensor DistributedDataParallel::operator()(const Tensor& x) {
  Tensor out = (*module_)(x);
  reducer_->arm(out);
  return out;
}

std::vector<std::vector<std::string>> DistributedDataParallel::bucket_names() const {
  return reducer_->bucket_names();
}

double DistributedDataParallel::wait_seconds() const { return reducer_->wait_seconds(); }

}  // namespace ag::dist
