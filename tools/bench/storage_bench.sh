#!/bin/bash
# Single-node crema_server SET throughput with redis-benchmark for the four storage layouts, in
# one run: Raft log per group vs the node's shared log (--raft_log), fsync on the event loop vs
# on a worker thread (--fsync_on_worker). Prints SET/s per layout and pipeline depth, and the
# ratio to the first layout (per_group + inline: one fsync per group per cycle on the loop).
#
#   bazel build //transport/server:crema_server
#   tools/bench/storage_bench.sh [requests for -P 1] [requests for -P 16]
#
# Results: docs/cache-node.md, "Storage". Uses its own ports and directory (not cluster.sh's
# defaults), so it does not disturb a local cluster.
set -euo pipefail
cd "$(dirname "$0")/../.."
N1="${1:-4000}"
N16="${2:-40000}"
export CREMA_SERVER_BIN="${CREMA_SERVER_BIN:-$PWD/bazel-bin/transport/server/crema_server}"
export CREMA_CLUSTER_DIR="${CREMA_CLUSTER_DIR:-/tmp/crema-storage-bench}"
export CREMA_BASE_PORT=27000 CREMA_RESP_BASE=26379 CREMA_HTTP_BASE=28080
RESP_PORT=$((CREMA_RESP_BASE + 1))
trap 'tools/cluster.sh down >/dev/null 2>&1 || true' EXIT

rps() { grep -E "^(\"?)SET" | grep -oE '[0-9]+(\.[0-9]+)? requests per second' | head -1 | cut -d' ' -f1; }
declare -A base
echo "# $(date -u +%FT%TZ) $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg); crema $(git rev-parse --short HEAD)"
for layout in "per_group false" "per_group true" "shared false" "shared true"; do
  set -- $layout
  tools/cluster.sh down >/dev/null 2>&1 || true
  rm -rf "$CREMA_CLUSTER_DIR"
  CREMA_SERVER_FLAGS="--replication_factor=1 --raft_log=$1 --fsync_on_worker=$2" \
    tools/cluster.sh up 1 >/dev/null
  for P in 1 16; do
    n=$N1; [ "$P" = 16 ] && n=$N16
    out=$(redis-benchmark -p "$RESP_PORT" -t set -c 50 -n "$n" -r 100000 -P "$P" -q 2>&1 | tr '\r' '\n')
    v=$(echo "$out" | rps)
    key="$P"
    [ -z "${base[$key]:-}" ] && base[$key]="$v"
    printf 'raft_log=%-9s fsync_on_worker=%-5s -P %-2s SET/s=%-10s ratio=%s\n' "$1" "$2" "$P" "$v" \
      "$(awk -v a="$v" -v b="${base[$key]}" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')"
  done
done
