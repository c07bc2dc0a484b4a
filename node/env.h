// Env: everything a node's logic may use to reach the outside world. The one seam.
//
// Node logic (consensus/, cache/, node/, chaos/) receives an `Env` and never touches the machine
// directly: no system clock, sockets, files, threads or unseeded randomness (a tidy test enforces
// this). The simulator (sim/) builds an Env per simulated node over virtual time, a faulty network
// and a faulty disk; the production adapter (transport/) builds one over the real clock, TCP
// sockets and files. The same node code runs on both.
//
// All pointers are non-null and outlive the node's code; they belong to one node and its single
// event-loop thread.
#ifndef CREMA_NODE_ENV_H_
#define CREMA_NODE_ENV_H_

#include "node/buggify.h"
#include "node/clock.h"
#include "node/disk.h"
#include "node/executor.h"
#include "node/network.h"
#include "node/random.h"
#include "node/tracer.h"

namespace crema {

struct Env {
  NodeId self = kNoNode;
  Clock* clock = nullptr;
  Network* network = nullptr;
  Disk* disk = nullptr;
  Random* random = nullptr;
  Executor* executor = nullptr;
  Buggify* buggify = nullptr;
  Tracer* tracer = nullptr;
};

}  // namespace crema

#endif  // CREMA_NODE_ENV_H_
