// Pipeline: the order in which one connection's pipelined commands may run, and the order their
// replies leave in. Pure bookkeeping (no fibers, no sockets), so it is tested on its own.
//
// Rules (Redis clients expect replies in request order; Crema also keeps per-key order):
//   * Replies leave strictly in arrival order (PopReply).
//   * A command may start once no earlier unfinished command is a barrier or shares a key with
//     it; a barrier (a connection-state command such as AUTH, HELLO, SELECT, CREMA.CONSISTENCY,
//     admin commands) starts only when every earlier command has finished, and blocks every later
//     one until it finishes. So commands on the same key take effect in order, state changes are
//     seen by exactly the commands after them, and independent keys proceed concurrently (each is
//     linearizable on its own; pipelined commands are concurrent from the client's point of view).
//   * At most `window` commands are held (started, waiting or with unsent replies).
//
// Thread safety: none.
#ifndef CREMA_TRANSPORT_RESP_PIPELINE_H_
#define CREMA_TRANSPORT_RESP_PIPELINE_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

namespace crema::resp {

class Pipeline {
 public:
  struct Item {
    uint64_t seq = 0;
    std::vector<std::string> args;
    std::vector<std::string> keys;
    bool barrier = false;
    bool started = false;
    bool done = false;
    std::string reply;
    const void* spec = nullptr;  // the caller's command spec (null: reply is already known)
    std::string error;           // a reply known at parse time (unknown command, arity)
    std::string name;            // lower-case command name (metrics)
    int64_t arrival_ns = 0;      // monotonic arrival time (latency metrics)
  };

  explicit Pipeline(size_t window) : window_(window) {}

  bool full() const { return items_.size() >= window_; }
  bool empty() const { return items_.empty(); }
  size_t size() const { return items_.size(); }
  size_t running() const { return running_; }

  // REQUIRES: !full(). Returns the command's sequence number.
  uint64_t Add(Item item);

  // The earliest command allowed to start now, marked started; null if none.
  Item* NextRunnable();

  // The command NextRunnable() would return, not started; null if none.
  Item* PeekRunnable();
  // Marks a command returned by PeekRunnable() started. REQUIRES: not started.
  void Start(uint64_t seq);

  // Whether NextRunnable() would return a command (without starting it).
  bool HasRunnable() const;

  // Records a started command's reply. REQUIRES: started, not done.
  void Complete(uint64_t seq, std::string reply);

  // Appends the replies of finished commands at the head, in order, and drops them.
  // Returns how many were popped.
  size_t PopReplies(std::string* out);

  Item* Find(uint64_t seq);

  // Drops every command after `seq` (QUIT: they never run). REQUIRES: none of them started.
  void TruncateAfter(uint64_t seq);

 private:
  bool CanStart(size_t index) const;

  size_t window_;
  uint64_t next_seq_ = 1;
  size_t running_ = 0;
  std::deque<Item> items_;  // arrival order
};

}  // namespace crema::resp

#endif  // CREMA_TRANSPORT_RESP_PIPELINE_H_
