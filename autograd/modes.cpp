// Thread-local modes: grad mode, anomaly mode, the module scope, and whether a backward pass is
// running on this thread (anomalies inside a backward are reported per node by the engine).
#include <autograd/detail/node.hpp>
#include <autograd/engine.hpp>
#include <autograd/graph.hpp>

namespace ag {
namespace {
thread_local bool t_grad_enabled = true;
thread_local bool t_anomaly = false;
thread_local bool t_in_backward = false;
thread_local bool t_keep_grads = false;  // KeepGradsForDumpsGuard
thread_local std::shared_ptr<const std::string> t_scope;
}  // namespace

bool is_grad_enabled() { return t_grad_enabled; }
void set_grad_enabled(bool on) { t_grad_enabled = on; }
NoGradGuard::NoGradGuard() : previous_(t_grad_enabled) { t_grad_enabled = false; }
NoGradGuard::~NoGradGuard() { t_grad_enabled = previous_; }
AnomalyModeGuard::AnomalyModeGuard(bool on) : previous_(t_anomaly) { t_anomaly = on; }
AnomalyModeGuard::~AnomalyModeGuard() { t_anomaly = previous_; }
bool is_anomaly_enabled() { return t_anomaly; }
KeepGradsForDumpsGuard::KeepGradsForDumpsGuard(bool on) : previous_(t_keep_grads) {
  t_keep_grads = on;
}
KeepGradsForDumpsGuard::~KeepGradsForDumpsGuard() { t_keep_grads = previous_; }
bool keep_grads_for_dumps() { return t_keep_grads; }

bool in_backward() { return t_in_backward; }
void set_in_backward(bool on) { t_in_backward = on; }

ScopeGuard::ScopeGuard(std::string scope) : previous_(t_scope) {
  t_scope = std::make_shared<const std::string>(previous_ ? *previous_ + "." + scope : scope);
}
ScopeGuard::~ScopeGuard() { t_scope = previous_; }
std::shared_ptr<const std::string> current_scope() { return t_scope; }

}  // namespace ag
