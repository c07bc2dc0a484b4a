// Fuzz target: the metadata group's codecs — the cluster map (metadata checkpoints, map fetches a
// peer answers, the bootstrap command), metadata commands (the metadata Raft log, map deltas a
// peer pushes), and the small payloads of placement (reconcile results, replica lists, outcomes).
//
// Modes (first byte):
//   0  DecodeClusterMap;  1  DecodeMetaCommand;  2  DecodeReconcileResult / DecodeReplicaList /
//   DecodeOutcome;  3  a metadata state machine: Restore from fuzz bytes, then apply fuzz
//   commands (bytes, as its Raft log would hand them over).
// Oracles: no crash or sanitizer report; memory proportional to the input (MemoryBudget); whatever
// decodes re-encodes to bytes that decode to the same value; applying commands moves the map
// version by at most one each and the map's checkpoint restores to the same map; every
// DeltasSince answer replays onto the older map to give the current one.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "node/cluster/cluster_map.h"
#include "node/cluster/meta_command.h"
#include "node/cluster/meta_state_machine.h"
#include "node/cluster/placement_controller.h"
#include "tools/fuzz/fuzz_input.h"
#include "tools/fuzz/memory_budget.h"

namespace crema::cluster {
namespace {

[[noreturn]] void Fail(const char* what) {
  std::fprintf(stderr, "cluster_codec_fuzzer: %s\n", what);
  std::abort();
}

void Map(std::string_view bytes) {
  absl::StatusOr<ClusterMap> map = DecodeClusterMap(bytes);
  if (!map.ok()) return;
  absl::StatusOr<ClusterMap> again = DecodeClusterMap(EncodeClusterMap(*map));
  if (!again.ok() || !(*again == *map)) Fail("a cluster map does not survive re-encoding");
  (void)DescribeClusterMap(*map);
}

void Command(std::string_view bytes) {
  absl::StatusOr<MetaCommand> c = DecodeMetaCommand(bytes);
  if (!c.ok()) return;
  absl::StatusOr<MetaCommand> again = DecodeMetaCommand(EncodeMetaCommand(*c));
  if (!again.ok() || !(*again == *c)) Fail("a metadata command does not survive re-encoding");
  (void)FormatMetaCommand(*c);
}

void Small(fuzz::FuzzInput& in) {
  const uint8_t which = in.U8() % 3;
  const std::string_view bytes = in.Rest();
  if (which == 0) {
    absl::StatusOr<ReconcileResult> r = DecodeReconcileResult(bytes);
    if (!r.ok()) return;
    absl::StatusOr<ReconcileResult> again = DecodeReconcileResult(EncodeReconcileResult(*r));
    if (!again.ok() || again->voters != r->voters || again->learners != r->learners ||
        again->conf_index != r->conf_index || again->done != r->done || again->step != r->step) {
      Fail("a reconcile result does not survive re-encoding");
    }
  } else if (which == 1) {
    absl::StatusOr<std::vector<ReplicaId>> r = DecodeReplicaList(bytes);
    if (!r.ok()) return;
    absl::StatusOr<std::vector<ReplicaId>> again = DecodeReplicaList(EncodeReplicaList(*r));
    if (!again.ok() || *again != *r) Fail("a replica list does not survive re-encoding");
  } else {
    absl::StatusOr<MetaStateMachine::Outcome> o = MetaStateMachine::DecodeOutcome(bytes);
    if (!o.ok()) return;
    absl::StatusOr<MetaStateMachine::Outcome> again =
        MetaStateMachine::DecodeOutcome(MetaStateMachine::EncodeOutcome(*o));
    if (!again.ok() || again->changed != o->changed || again->version != o->version) {
      Fail("an outcome does not survive re-encoding");
    }
  }
}

void StateMachine(fuzz::FuzzInput& in) {
  MetaStateMachine machine;
  if (in.Bool()) (void)machine.Restore(in.Bytes(2048));
  std::vector<ClusterMap> history{machine.map()};
  raft::Index index = 1;
  while (!in.empty()) {
    const uint64_t before = machine.map().version;
    (void)machine.ApplyWithResult(index++, in.Bytes(512));
    const uint64_t after = machine.map().version;
    if (after != before && after != before + 1)
      Fail("one command moved the version by more than one");
    if (after != before) history.push_back(machine.map());
  }
  MetaStateMachine restored;
  if (!restored.Restore(machine.Checkpoint()).ok() || !(restored.map() == machine.map())) {
    Fail("a checkpoint does not restore the same map");
  }
  for (const ClusterMap& old : history) {
    std::optional<std::vector<std::string>> deltas = machine.DeltasSince(old.version);
    if (!deltas) continue;
    ClusterMap replay = old;
    for (const std::string& d : *deltas) {
      absl::StatusOr<MetaCommand> c = DecodeMetaCommand(d);
      if (!c.ok()) Fail("a kept delta does not decode");
      ApplyMetaCommand(replay, *c);
    }
    if (!(replay == machine.map())) Fail("replaying DeltasSince does not give the current map");
  }
}

}  // namespace
}  // namespace crema::cluster

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace crema::cluster;
  crema::fuzz::MemoryBudget budget(size, /*per_input_byte=*/256, /*fixed_bytes=*/1 << 20);
  crema::fuzz::FuzzInput in(data, size);
  switch (in.U8() % 4) {
    case 0:
      Map(in.Rest());
      break;
    case 1:
      Command(in.Rest());
      break;
    case 2:
      Small(in);
      break;
    default:
      StateMachine(in);
      break;
  }
  return 0;
}
