#!/usr/bin/env bash
# Eventual writes at W=1 and W=QUORUM against strong writes: one local 3-node cluster
# (tools/cluster.sh) with keyspace 0 strong and keyspace 1 eventual (N=3), the same load
# generator (loadgen, closed loop) against all three nodes, one run after the other.
#   tools/bench/eventual_vs_strong.sh [duration_s=10] [clients=16]
# Prints one loadgen line per mode; docs/dynamo.md has a recorded run.
set -euo pipefail
cd "$(dirname "$0")/../.."
duration="${1:-10}"; clients="${2:-16}"
# CREMA_BENCH_MODE=fastbuild reuses the test suite's build (-O2 as well, but with assertions on).
mode="${CREMA_BENCH_MODE:-opt}"
bazel build -c "$mode" //transport/server:crema_server //tools/bench:loadgen >&2
bin="$(bazel info -c "$mode" bazel-bin 2>/dev/null)"
export CREMA_SERVER_BIN="$bin/transport/server/crema_server"
export CREMA_CLUSTER_DIR="$(mktemp -d)/cluster"
export CREMA_SERVER_FLAGS="--keyspaces=1:ev:eventual --eventual_new_cluster"
trap 'tools/cluster.sh down >/dev/null 2>&1 || true' EXIT
tools/cluster.sh up 3 > "$CREMA_CLUSTER_DIR.up"
targets=$(sed -E 's/.*resp=([0-9.:]+).*/\1/' "$CREMA_CLUSTER_DIR.up" | paste -sd,)
for _ in $(seq 100); do redis-cli -p "${targets##*:}" -n 1 SET probe x 2>/dev/null | grep -q OK && break; sleep 0.2; done
lg="$bin/tools/bench/loadgen"
common=(--protocol=resp --targets="$targets" --clients="$clients" --duration="$duration" --op=set --keys=100000 --value_bytes=100)
echo "strong        $("$lg" "${common[@]}" --db=0)"
echo "eventual W=1  $("$lg" "${common[@]}" --db=1 --consistency=one)"
echo "eventual W=Q  $("$lg" "${common[@]}" --db=1 --consistency=quorum)"
