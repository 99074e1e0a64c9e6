// The reverse-mode engine's public face: ag::grad and the grad-mode guards (and, through
// threads.hpp, the thread count).
#pragma once

#include <autograd/export.hpp>
#include <autograd/tensor.hpp>
#include <autograd/threads.hpp>  // set_num_threads, get_num_threads

AG_API_BEGIN
namespace ag {

// Gradients of `outputs` with respect to `inputs`, returned rather than accumulated into .grad().
// An input that no output depends on throws, unless allow_unused (then its entry is undefined).
std::vector<Tensor> grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                         const std::vector<Tensor>& grad_outputs = {}, bool retain_graph = false,
                         bool create_graph = false, bool allow_unused = false);

bool is_grad_enabled();
void set_grad_enabled(bool on);

class NoGradGuard {  // while alive, ops record no graph
 public:
  NoGradGuard();
  ~NoGradGuard();
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};

class AnomalyModeGuard {  // while alive, a NaN or Inf from any op, forward or backward, throws
 public:
  explicit AnomalyModeGuard(bool on = true);
  ~AnomalyModeGuard();
  AnomalyModeGuard(const AnomalyModeGuard&) = delete;
  AnomalyModeGuard& operator=(const AnomalyModeGuard&) = delete;

 private:
  bool previous_;
};
bool is_anomaly_enabled();

// Names the module whose forward is running, for the clusters of graph dumps (nn::Module sets it).
class ScopeGuard {
 public:
  explicit ScopeGuard(std::string scope);  // appended to the enclosing scope with '.'
  ~ScopeGuard();
  ScopeGuard(const ScopeGuard&) = delete;
  ScopeGuard& operator=(const ScopeGuard&) = delete;

 private:
  std::shared_ptr<const std::string> previous_;
};

}  // namespace ag
AG_API_END
