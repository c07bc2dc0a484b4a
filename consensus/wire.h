// consensus/ uses the project-wide wire helpers (node/wire.h) under its own namespace.
#ifndef CREMA_CONSENSUS_WIRE_H_
#define CREMA_CONSENSUS_WIRE_H_

#include "node/wire.h"

namespace crema::raft {

using ::crema::WireReader;
using ::crema::WireWriter;

}  // namespace crema::raft

#endif  // CREMA_CONSENSUS_WIRE_H_
