// Tracer: lets node code add its own events to the run's trace.
//
// In simulation every recorded event joins the determinism hash and the `--trace_out` file, which
// makes protocol decisions (elections, commits) visible and checkable across runs; in production it
// goes to the log at a verbose level or nowhere. Keep `kind` a short constant ("raft.leader") and
// `detail` small and deterministic (no pointers, no hash-map iteration order).
#ifndef CREMA_NODE_TRACER_H_
#define CREMA_NODE_TRACER_H_

#include <string_view>

namespace crema {

class Tracer {
 public:
  virtual ~Tracer() = default;
  virtual void Record(std::string_view kind, std::string_view detail) = 0;
};

class NullTracer final : public Tracer {
 public:
  void Record(std::string_view, std::string_view) override {}
};

}  // namespace crema

#endif  // CREMA_NODE_TRACER_H_
