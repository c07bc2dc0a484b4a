#include "sim/partitions.h"

#include <cassert>

namespace crema::sim {
namespace {

// A deterministic Fisher-Yates shuffle.
std::vector<NodeId> Shuffled(std::vector<NodeId> nodes, Random& random) {
  for (size_t i = nodes.size(); i > 1; --i) std::swap(nodes[i - 1], nodes[random.Uniform(i)]);
  return nodes;
}

void Cut(const std::vector<NodeId>& a, const std::vector<NodeId>& b, bool both_ways,
         std::vector<Link>& out) {
  for (NodeId x : a) {
    for (NodeId y : b) {
      out.push_back({x, y});
      if (both_ways) out.push_back({y, x});
    }
  }
}

// Splits a shuffled copy of `nodes` into the first `k` and the rest.
std::pair<std::vector<NodeId>, std::vector<NodeId>> Split(const std::vector<NodeId>& nodes,
                                                          size_t k, Random& random) {
  std::vector<NodeId> shuffled = Shuffled(nodes, random);
  return {std::vector<NodeId>(shuffled.begin(), shuffled.begin() + k),
          std::vector<NodeId>(shuffled.begin() + k, shuffled.end())};
}

}  // namespace

Partition SymmetricPartition(const std::vector<NodeId>& nodes, Random& random) {
  assert(nodes.size() >= 2);
  auto [a, b] = Split(nodes, 1 + random.Uniform(nodes.size() - 1), random);
  Partition p{"symmetric", {}};
  Cut(a, b, true, p.blocked);
  return p;
}

Partition AsymmetricPartition(const std::vector<NodeId>& nodes, Random& random) {
  assert(nodes.size() >= 2);
  auto [a, b] = Split(nodes, 1 + random.Uniform(nodes.size() - 1), random);
  Partition p{"asymmetric", {}};
  Cut(a, b, false, p.blocked);
  return p;
}

Partition MajorityMinorityPartition(const std::vector<NodeId>& nodes, Random& random) {
  assert(nodes.size() >= 2);
  const size_t minority = std::max<size_t>(1, (nodes.size() - 1) / 2);
  auto [a, b] = Split(nodes, minority, random);
  Partition p{"majority", {}};
  Cut(a, b, true, p.blocked);
  return p;
}

Partition BridgePartition(const std::vector<NodeId>& nodes, Random& random) {
  assert(nodes.size() >= 3);
  std::vector<NodeId> shuffled = Shuffled(nodes, random);
  // shuffled[0] is the bridge; the rest split into two non-empty halves.
  const size_t rest = shuffled.size() - 1;
  const size_t half = 1 + random.Uniform(rest - 1);
  std::vector<NodeId> a(shuffled.begin() + 1, shuffled.begin() + 1 + half);
  std::vector<NodeId> b(shuffled.begin() + 1 + half, shuffled.end());
  Partition p{"bridge", {}};
  Cut(a, b, true, p.blocked);
  return p;
}

Partition IsolateNode(const std::vector<NodeId>& nodes, NodeId isolated) {
  std::vector<NodeId> others;
  for (NodeId n : nodes) {
    if (n != isolated) others.push_back(n);
  }
  Partition p{"isolate", {}};
  Cut({isolated}, others, true, p.blocked);
  return p;
}

Partition RandomPartition(const std::vector<NodeId>& nodes, Random& random) {
  const uint64_t shapes = nodes.size() >= 3 ? 5 : 4;
  switch (random.Uniform(shapes)) {
    case 0:
      return SymmetricPartition(nodes, random);
    case 1:
      return AsymmetricPartition(nodes, random);
    case 2:
      return MajorityMinorityPartition(nodes, random);
    case 3:
      return IsolateNode(nodes, nodes[random.Uniform(nodes.size())]);
    default:
      return BridgePartition(nodes, random);
  }
}

}  // namespace crema::sim
