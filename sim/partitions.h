// Partition shapes as sets of blocked directed links, for NetworkFabric::SetPartition.
//
//   Symmetric        a random non-empty proper subset A and the rest B; A<->B cut both ways.
//   Asymmetric       like Symmetric, but only A->B is cut (B's messages still reach A).
//   MajorityMinority a minority of floor((n-1)/2) nodes (at least 1) cut off from the majority.
//   Bridge           two halves that cannot talk to each other, plus one bridge node that talks to
//                    both (the classic "split brain with a go-between" shape).
//   Isolate          one node cut off from everyone.
// All choices come from the given Random; nodes are taken in the order given (callers pass them
// sorted). REQUIRES: at least 2 nodes (3 for Bridge).
// Thread safety: pure functions.
#ifndef CREMA_SIM_PARTITIONS_H_
#define CREMA_SIM_PARTITIONS_H_

#include <string>
#include <vector>

#include "node/random.h"
#include "sim/network_fabric.h"

namespace crema::sim {

struct Partition {
  std::string kind;  // "symmetric", "asymmetric", "majority", "bridge", "isolate"
  std::vector<Link> blocked;
};

Partition SymmetricPartition(const std::vector<NodeId>& nodes, Random& random);
Partition AsymmetricPartition(const std::vector<NodeId>& nodes, Random& random);
Partition MajorityMinorityPartition(const std::vector<NodeId>& nodes, Random& random);
Partition BridgePartition(const std::vector<NodeId>& nodes, Random& random);
Partition IsolateNode(const std::vector<NodeId>& nodes, NodeId isolated);
// One of the above shapes, chosen at random (Bridge only with >= 3 nodes).
Partition RandomPartition(const std::vector<NodeId>& nodes, Random& random);

}  // namespace crema::sim

#endif  // CREMA_SIM_PARTITIONS_H_
