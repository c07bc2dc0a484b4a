#!/usr/bin/env bash
# Real-process chaos (docs/chaos.md): a 5-node crema_server cluster, each node in its own network
# namespace, under partitions, packet loss, crashes, pauses, clock steps, full disks and membership
# changes, with concurrent RESP clients whose history is checked (linearizability with the cache
# model, local-read and TTL oracles, convergence). Needs root.
#
#   tools/chaos.sh --minutes=N [--seed=S] [any flag of tools/chaos/chaos_main.cc]
#   tools/chaos.sh --schedule=FILE          # replay a run's schedule on real processes
#   tools/chaos.sh --cleanup_stale          # remove leftovers of a run that was killed
#
# Prints the seed and how to replay it first, a progress line every 10 s, and last
#   seed=<S> ops=<checked> faults=<applied> violations=<n> result=PASS|FAIL
set -euo pipefail
cd "$(dirname "$0")/.."
args=()
for a in "$@"; do
  case "$a" in
    --minutes=*)
      m="${a#--minutes=}"
      [[ "$m" =~ ^[0-9]+$ ]] && [ "$m" -ge 1 ] || { echo "chaos.sh: --minutes takes a positive integer" >&2; exit 2; }
      args+=("--duration=${m}m") ;;
    *) args+=("$a") ;;
  esac
done
if [ "$(id -u)" -ne 0 ]; then echo "chaos.sh: needs root (network namespaces, iptables, mounts)" >&2; exit 2; fi
tools/install_deps.sh
bazel build //transport/server:crema_server //tools/chaos:chaos >&2
bin="$(bazel info bazel-bin 2>/dev/null)"
exec "$bin/tools/chaos/chaos" --server_bin="$bin/transport/server/crema_server" "${args[@]}"
