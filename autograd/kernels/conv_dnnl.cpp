// float32 convolution on oneDNN (libdnnl), when the build found it: the AVX-512 direct
// convolutions LibTorch uses, about twice the rate of im2col + OpenBLAS's AVX2 GEMM here.
//
// Layouts: ag's tensors are plain NCHW / OIHW. Each primitive is created with format `any`, so
// oneDNN picks its blocked layouts (nChw16c, ...); inputs are reordered into them and outputs
// back, into per-thread buffers. Primitives and their reorders are made once per geometry and
// cached. Geometries oneDNN rejects (it throws when creating the primitive) fall back to im2col.
//
// Threads: Debian builds oneDNN on OpenMP, a second thread pool beside TBB's. It never starts:
// every call sets OpenMP's thread count to 1 on the calling thread (onednn::run_inline: oneDNN
// then runs inline, without a parallel region), and the batch is split over TBB's threads as on
// the im2col path, one sub-batch per task. So oneDNN uses exactly ag's thread count and no
// OpenMP thread ever spins beside a TBB worker: nothing to wait for, passively or not. The weight
// gradient sums one partial result per chunk, in chunk order (deterministic for a given thread
// count).
#include <string>
#include <vector>

#include <autograd/conv_backend.hpp>
#include <autograd/kernels/conv_dnnl.hpp>
#include <autograd/kernels/onednn.hpp>
#include <autograd/tensor.hpp>

#ifdef AG_HAVE_DNNL
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include <tbb/parallel_for.h>
#include <oneapi/dnnl/dnnl.hpp>

#include <autograd/kernels/parallel.hpp>
#endif

namespace ag {
namespace {
kernels::onednn::BackendSwitch& conv_switch() {
  static kernels::onednn::BackendSwitch s("dnnl", "im2col", "convolution", "set_conv_backend");
  return s;
}
}  // namespace

std::string conv_backend() { return conv_switch().current(); }
std::vector<std::string> conv_backends_available() { return conv_switch().available(); }
void set_conv_backend(const std::string& name) { conv_switch().set(name); }

}  // namespace ag

#ifndef AG_HAVE_DNNL
namespace ag::kernels::dnnl_conv {
bool forward(const float*, const float*, const float*, const ConvGeom&, float*) { return false; }
bool input_grad(const float*, const float*, const ConvGeom&, float*) { return false; }
bool weight_grad(const float*, const float*, const ConvGeom&, float*) { return false; }
}  // namespace ag::kernels::dnnl_conv
#else
namespace ag::kernels::dnnl_conv {
namespace {

using dnnl::memory;
using Dims = memory::dims;
using Tag = memory::format_tag;
enum Kind { kForwardBias, kForward, kInputGrad, kWeightGrad };

// Same threshold as the im2col path: below it, one thread does the whole batch.
constexpr std::size_t kParallelFlops = std::size_t(1) << 21;

const dnnl::engine& engine() {
  static const dnnl::engine e(dnnl::engine::kind::cpu, 0);
  return e;
}

// One tensor argument of a primitive: its plain layout, the layout the primitive wants, and the
// reorder between the two (into the primitive for inputs, out of it for the output).
struct Role {
  int arg;
  memory::desc plain, inner;
  dnnl::reorder convert;
  bool output;
  bool converts() const { return plain != inner; }
};
struct Entry {
  dnnl::primitive primitive;
  std::vector<Role> roles;
  std::size_t scratch_bytes = 0;
};

// The plain descriptors of a sub-batch of nb samples.
struct Plain {
  memory::desc x, w, b, y;
  Dims strides, dilates, pad_l, pad_r;
};
Plain plain_descs(const ConvGeom& g, std::size_t nb) {
  auto d = [](std::size_t v) { return static_cast<memory::dim>(v); };
  Plain p;
  p.x = memory::desc({d(nb), d(g.c), d(g.h), d(g.w)}, memory::data_type::f32, Tag::nchw);
  p.y = memory::desc({d(nb), d(g.o), d(g.oh), d(g.ow)}, memory::data_type::f32, Tag::nchw);
  p.b = memory::desc({d(g.o)}, memory::data_type::f32, Tag::x);
  if (g.groups == 1)
    p.w = memory::desc({d(g.o), d(g.c), d(g.kh), d(g.kw)}, memory::data_type::f32, Tag::oihw);
  else
    p.w = memory::desc({d(g.groups), d(g.o / g.groups), d(g.c / g.groups), d(g.kh), d(g.kw)},
                       memory::data_type::f32, Tag::goihw);
  p.strides = {d(g.sh), d(g.sw)};
  p.dilates = {d(g.dh) - 1, d(g.dw) - 1};
  p.pad_l = {d(g.ph), d(g.pw)};
  // The right padding that makes oneDNN's output size ag's (floor division drops the rest).
  p.pad_r = {d((g.oh - 1) * g.sh + (g.kh - 1) * g.dh + 1) - d(g.h) - d(g.ph),
             d((g.ow - 1) * g.sw + (g.kw - 1) * g.dw + 1) - d(g.w) - d(g.pw)};
  return p;
}

memory::desc any_of(const memory::desc& d) {
  return memory::desc(d.dims(), memory::data_type::f32, Tag::any);
}

Role role(int arg, const memory::desc& plain, const memory::desc& inner, bool output) {
  Role r{arg, plain, inner, {}, output};
  if (r.converts())
    r.convert =
        output ? dnnl::reorder(dnnl::reorder::primitive_desc(engine(), inner, engine(), plain))
               : dnnl::reorder(dnnl::reorder::primitive_desc(engine(), plain, engine(), inner));
  return r;
}

dnnl::convolution_forward::primitive_desc forward_pd(const Plain& p, bool bias,
                                                     const dnnl::primitive_attr& attr) {
  using F = dnnl::convolution_forward;
  F::desc d =
      bias ? F::desc(dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct,
                     any_of(p.x), any_of(p.w), p.b, any_of(p.y), p.strides, p.dilates, p.pad_l,
                     p.pad_r)
           : F::desc(dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct,
                     any_of(p.x), any_of(p.w), any_of(p.y), p.strides, p.dilates, p.pad_l, p.pad_r);
  return F::primitive_desc(d, attr, engine());
}

// Creates the primitive of one kind for a sub-batch of nb samples; throws dnnl::error when
// oneDNN has no implementation.
Entry make_entry(const ConvGeom& g, std::size_t nb, Kind kind) {
  Plain p = plain_descs(g, nb);
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);  // per-thread buffers: safe in parallel
  auto fwd = forward_pd(p, kind == kForwardBias, attr);
  Entry e;
  if (kind == kForwardBias || kind == kForward) {
    e.primitive = dnnl::convolution_forward(fwd);
    e.roles = {role(DNNL_ARG_SRC, p.x, fwd.src_desc(), false),
               role(DNNL_ARG_WEIGHTS, p.w, fwd.weights_desc(), false),
               role(DNNL_ARG_DST, p.y, fwd.dst_desc(), true)};
    if (kind == kForwardBias) e.roles.push_back(role(DNNL_ARG_BIAS, p.b, p.b, false));
    e.scratch_bytes = fwd.scratchpad_desc().get_size();
  } else if (kind == kInputGrad) {
    using B = dnnl::convolution_backward_data;
    B::primitive_desc pd(B::desc(dnnl::algorithm::convolution_direct, any_of(p.x), any_of(p.w),
                                 any_of(p.y), p.strides, p.dilates, p.pad_l, p.pad_r),
                         attr, engine(), fwd);
    e.primitive = B(pd);
    e.roles = {role(DNNL_ARG_DIFF_DST, p.y, pd.diff_dst_desc(), false),
               role(DNNL_ARG_WEIGHTS, p.w, pd.weights_desc(), false),
               role(DNNL_ARG_DIFF_SRC, p.x, pd.diff_src_desc(), true)};
    e.scratch_bytes = pd.scratchpad_desc().get_size();
  } else {
    using B = dnnl::convolution_backward_weights;
    B::primitive_desc pd(B::desc(dnnl::algorithm::convolution_direct, any_of(p.x), any_of(p.w),
                                 any_of(p.y), p.strides, p.dilates, p.pad_l, p.pad_r),
                         attr, engine(), fwd);
    e.primitive = B(pd);
    e.roles = {role(DNNL_ARG_SRC, p.x, pd.src_desc(), false),
               role(DNNL_ARG_DIFF_DST, p.y, pd.diff_dst_desc(), false),
               role(DNNL_ARG_DIFF_WEIGHTS, p.w, pd.diff_weights_desc(), true)};
    e.scratch_bytes = pd.scratchpad_desc().get_size();
  }
  return e;
}

// The cached primitive for (geometry, sub-batch, kind), or null where oneDNN has none (then the
// caller runs im2col; the refusal is cached too). A program that cycles through many shapes
// would grow the cache without end: past kMaxEntries it starts over (entries in use stay alive
// through their shared_ptr).
using EntryPtr = std::shared_ptr<const Entry>;
constexpr std::size_t kMaxEntries = 256;

EntryPtr entry(const ConvGeom& g, std::size_t nb, Kind kind) {
  using Key = std::tuple<std::size_t, std::size_t, std::size_t, std::size_t, std::size_t,
                         std::size_t, std::size_t, std::size_t, std::size_t, std::size_t,
                         std::size_t, std::size_t, std::size_t, std::size_t, int>;
  static std::mutex mutex;
  static std::map<Key, EntryPtr> cache;
  Key key{nb, g.c, g.h, g.w, g.o, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, g.dh, g.dw, g.groups, kind};
  std::lock_guard<std::mutex> lock(mutex);
  auto it = cache.find(key);
  if (it != cache.end()) return it->second;
  EntryPtr made;
  try {
    made = std::make_shared<const Entry>(make_entry(g, nb, kind));
  } catch (const dnnl::error&) {
    // No oneDNN implementation for this geometry: im2col runs it (made stays null).
  }
  if (cache.size() >= kMaxEntries) cache.clear();
  return cache.emplace(key, made).first->second;
}

// Per-thread, 64-byte aligned buffers that only grow: one slot per role, one for scratch.
void* buffer(std::size_t slot, std::size_t bytes) {
  struct Free {
    void operator()(void* p) const { std::free(p); }
  };
  struct Slot {
    std::unique_ptr<void, Free> data;
    std::size_t size = 0;
  };
  thread_local std::vector<Slot> slots(5);
  Slot& s = slots[slot];
  if (s.size < bytes) {
    std::size_t rounded = (bytes + 63) / 64 * 64;
    s.data.reset(std::aligned_alloc(64, rounded));
    if (!s.data)
      throw Error("conv2d (oneDNN): out of memory for a " + std::to_string(rounded) +
                  "-byte buffer");
    s.size = rounded;
  }
  return s.data.get();
}

// Runs the primitive on plain buffers (one per role, in role order).
void execute(const Entry& e, const std::vector<void*>& plain) {
  thread_local dnnl::stream stream(engine());
  std::unordered_map<int, memory> args;
  std::vector<std::pair<const Role*, memory> > outputs;
  for (std::size_t i = 0; i < e.roles.size(); ++i) {
    const Role& r = e.roles[i];
    memory user(r.plain, engine(), plain[i]);
    if (!r.converts()) {
      args.emplace(r.arg, user);
      continue;
    }
    memory inner(r.inner, engine(), buffer(i, r.inner.get_size()));
    if (!r.output)
      r.convert.execute(stream, user, inner);
    else
      outputs.emplace_back(&r, user);
    args.emplace(r.arg, inner);
  }
  if (e.scratch_bytes)
    args.emplace(DNNL_ARG_SCRATCHPAD,
                 memory(memory::desc({memory::dim(e.scratch_bytes)}, memory::data_type::u8, Tag::x),
                        engine(), buffer(4, e.scratch_bytes)));
  e.primitive.execute(stream, args);
  for (auto& [r, user] : outputs) r->convert.execute(stream, args.at(r->arg), user);
  stream.wait();
}

// The sub-batches: as many as threads (1 below the parallel threshold), sizes nb and the rest.
struct Split {
  std::size_t chunks, per;
};
Split split(const ConvGeom& g) {
  if (g.n == 0) return {1, 0};  // over_batch declines an empty batch; im2col has nothing to do
  std::size_t flops = g.n * g.o * g.oh * g.ow * g.c * g.kh * g.kw / g.groups;
  std::size_t threads = static_cast<std::size_t>(parallel::num_threads());
  std::size_t chunks = flops < kParallelFlops ? 1 : std::min(threads, g.n);
  std::size_t per = (g.n + chunks - 1) / chunks;
  return {(g.n + per - 1) / per, per};
}

// Runs fn(chunk, lo, hi, entry) over the sub-batches; false (nothing run) when oneDNN lacks a
// primitive for one of them.
template <class F> bool over_batch(const ConvGeom& g, Kind kind, F&& fn) {
  if (!conv_switch().on_onednn() || g.n == 0) return false;
  Split s = split(g);
  onednn::run_inline();
  EntryPtr full = entry(g, s.per, kind);
  std::size_t rest = g.n - (s.chunks - 1) * s.per;
  EntryPtr last = rest == s.per ? full : entry(g, rest, kind);
  if (!full || !last) return false;
  if (s.chunks == 1) {
    fn(0, 0, g.n, *full);
    return true;
  }
  tbb::parallel_for(std::size_t(0), s.chunks, [&](std::size_t i) {
    onednn::run_inline();  // this TBB thread's OpenMP count (each thread has its own)
    std::size_t lo = i * s.per, hi = std::min(g.n, lo + s.per);
    fn(i, lo, hi, hi - lo == s.per ? *full : *last);
  });
  return true;
}

}  // namespace

bool forward(const float* x, const float* w, const float* b, const ConvGeom& g, float* y) {
  std::size_t xs = g.c * g.h * g.w, ys = g.o * g.oh * g.ow;
  return over_batch(g, b ? kForwardBias : kForward,
                    [&](std::size_t, std::size_t lo, std::size_t, const Entry& e) {
                      std::vector<void*> ptrs{const_cast<float*>(x + lo * xs),
                                              const_cast<float*>(w), y + lo * ys};
                      if (b) ptrs.push_back(const_cast<float*>(b));
                      execute(e, ptrs);
                    });
}

bool input_grad(const float* gy, const float* w, const ConvGeom& g, float* dx) {
  std::size_t xs = g.c * g.h * g.w, ys = g.o * g.oh * g.ow;
  return over_batch(g, kInputGrad, [&](std::size_t, std::size_t lo, std::size_t, const Entry& e) {
    execute(e, {const_cast<float*>(gy + lo * ys), const_cast<float*>(w), dx + lo * xs});
  });
}

bool weight_grad(const float* x, const float* gy, const ConvGeom& g, float* dw) {
  std::size_t xs = g.c * g.h * g.w, ys = g.o * g.oh * g.ow,
              ws = g.o * (g.c / g.groups) * g.kh * g.kw;
  std::size_t chunks = split(g).chunks;  // the split over_batch makes
  std::vector<float> partial((chunks - 1) * ws);
  bool done = over_batch(
      g, kWeightGrad, [&](std::size_t chunk, std::size_t lo, std::size_t, const Entry& e) {
        float* out = chunk == 0 ? dw : partial.data() + (chunk - 1) * ws;
        execute(e, {const_cast<float*>(x + lo * xs), const_cast<float*>(gy + lo * ys), out});
      });
  for (std::size_t c = 1; done && c < chunks; ++c)
    for (std::size_t i = 0; i < ws; ++i) dw[i] += partial[(c - 1) * ws + i];
  return done;
}

}  // namespace ag::kernels::dnnl_conv
#endif
