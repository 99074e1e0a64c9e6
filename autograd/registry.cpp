// The op registry's storage. Entries register themselves from their own files (register_op in
// autograd/ops/*.cpp); this file only keeps them, in registration order.
#include <autograd/registry.hpp>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <mutex>

#include <autograd/detail/impl.hpp>

namespace ag {
namespace {
// Function-local statics: registration runs during other files' static initialisation.
std::deque<OpInfo>& entries() {
  static std::deque<OpInfo> e;  // a deque never moves its elements: references stay valid
  return e;
}
std::vector<const OpInfo*>& table() {
  static std::vector<const OpInfo*> t;
  return t;
}
}  // namespace

const OpInfo& register_op(OpDef def) {
  const OpInfo& info = def.info();
  if (!info.name || !*info.name) fail("register_op: an op needs a name");
  for (const OpInfo* op : table())
    if (std::strcmp(op->name, info.name) == 0)
      fail(std::string("register_op: '") + info.name + "' is registered twice");
  entries().push_back(info);
  table().push_back(&entries().back());
  return entries().back();
}

const OpInfo& register_custom_op(OpDef def) {
  static std::mutex mutex;  // custom functions are first applied on any thread
  static std::deque<OpInfo> custom;
  std::lock_guard<std::mutex> lock(mutex);
  for (const OpInfo& op : custom)
    if (std::strcmp(op.name, def.info().name) == 0) return op;
  custom.push_back(def.info());
  return custom.back();
}

const std::vector<const OpInfo*>& op_registry() { return table(); }

std::string attr_text(double v) {
  char buf[32];
  for (int digits = 1; digits <= 17; ++digits) {
    std::snprintf(buf, sizeof buf, "%.*g", digits, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  return buf;
}

std::string attr_text(const std::vector<std::size_t>& v) {
  std::string s = "{";
  for (std::size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s + "}";
}

}  // namespace ag
