#!/usr/bin/env bash
# Side-by-side benchmarks: Crema against redis-server and a 3-member etcd 3.4 (Debian packages),
# each run in the same invocation on this machine, printing a table with ratios.
#
#   tools/bench/bench.sh [all|redis|durable|etcd|reads|failover]   (default: all)
#
# 1. redis:    one node, redis-benchmark -t get,set -c 50 -n 200000 -r 100000, -P 1 and -P 16,
#              vs redis-server without persistence.            target: GET >= 1.0x Redis
# 2. durable:  one node (fsync before reply) vs redis-server appendonly yes, appendfsync always.
#              target >= 1.0x
# 3. etcd:     three nodes, linearizable writes at 1, 16, 64 clients (loadgen for both) vs a
#              3-member etcd.                                  target >= 5x throughput, lower p99
# 4. reads:    linearizable and local reads on three nodes (loadgen).
# 5. failover: SIGKILL the leader of a shard under write load, time until writes succeed again,
#              20 kills (loadgen's longest gap: a request is waited for up to 10 s, so the gap
#              is measured, not cut at a timeout).             target < 2x election timeout
# Rows 1 and 2 run $CREMA_BENCH_ROUNDS rounds (default 3), Crema and its peer alternating within
# each, and print every round's ratio and then their median: one 200,000-request run of GET -P 16
# lasts ~0.2 s, so a single pair says little on a shared machine.
# Results append to $CREMA_BENCH_OUT (default /tmp/crema-bench/results.txt). Heavy: run alone,
# not in CI. Everything listens on 127.0.0.1 only. $BAZEL is the bazel command (e.g.
# "bazel --output_base=..."); $CREMA_BENCH_REDIS_PORT (default 16999) and the next port below it
# are redis-server's; cluster.sh's port variables move Crema's.
set -euo pipefail
cd "$(dirname "$0")/../.."
WHAT="${1:-all}"
OUT_DIR="${CREMA_BENCH_DIR:-/tmp/crema-bench}"
OUT="${CREMA_BENCH_OUT:-$OUT_DIR/results.txt}"
mkdir -p "$OUT_DIR"
tools/install_deps.sh
BAZEL="${BAZEL:-bazel}"
$BAZEL build //transport/server:crema_server //tools/bench:loadgen >&2
BIN_DIR="$($BAZEL info bazel-bin 2>/dev/null)"
REDIS_PORT="${CREMA_BENCH_REDIS_PORT:-16999}"
LOADGEN="$BIN_DIR/tools/bench/loadgen"
export CREMA_SERVER_BIN="$BIN_DIR/transport/server/crema_server"
export CREMA_CLUSTER_DIR="$OUT_DIR/cluster"
PIDS=()
cleanup() {
  tools/cluster.sh down >/dev/null 2>&1 || true
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT
say() { echo "$*" | tee -a "$OUT"; }
# redis-benchmark -q prints "SET: 12345.67 requests per second, p50=..." (the non-quiet output has no
# such line); a missing figure prints n/a instead of ending the run.
rps() { tr '\r' '\n' | grep -E "^$1: [0-9.]+ requests per second" | tail -1 | awk '{print $2}' || echo n/a; }
field() { echo "$1" | tr ' ' '\n' | grep "^$2=" | cut -d= -f2; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }

start_redis() {  # port, extra args...
  local port=$1; shift
  rm -rf "$OUT_DIR/redis$port"; mkdir -p "$OUT_DIR/redis$port"
  redis-server --port "$port" --bind 127.0.0.1 --dir "$OUT_DIR/redis$port" --save '' "$@" \
    >"$OUT_DIR/redis$port.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 50); do redis-cli -p "$port" PING >/dev/null 2>&1 && return; sleep 0.1; done
  echo "redis-server did not start" >&2; exit 1
}

crema_up() {  # nodes, extra server flags
  tools/cluster.sh down >/dev/null 2>&1 || true
  rm -rf "$CREMA_CLUSTER_DIR"
  CREMA_SERVER_FLAGS="${2:-}" tools/cluster.sh up "$1" >&2
}
crema_resp() { tools/cluster.sh status | sed -n "${1}p" | sed -E 's/.*resp=([0-9.:]+).*/\1/'; }

median() { tr ' ' '\n' | grep -E '^[0-9.]+$' | sort -g | awk '{v[NR] = $1} END { if (NR == 0) print "n/a"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

redis_benchmark_pair() {  # label, crema port, redis port
  local rounds="${CREMA_BENCH_ROUNDS:-3}"
  declare -A ratios=()
  for round in $(seq "$rounds"); do
    for P in 1 16; do
      local c r
      c=$(redis-benchmark -p "$2" -q -t get,set -c 50 -n 200000 -r 100000 -P $P 2>&1)
      r=$(redis-benchmark -p "$3" -q -t get,set -c 50 -n 200000 -r 100000 -P $P 2>&1)
      for op in SET GET; do
        local cv rv q; cv=$(echo "$c" | rps $op); rv=$(echo "$r" | rps $op); q=$(ratio "$cv" "$rv")
        ratios[$op$P]="${ratios[$op$P]:-} $q"
        say "$(printf '%-10s %-4s P=%-3s crema=%-12s redis=%-12s ratio=%s round=%s' "$1" "$op" "$P" "$cv" "$rv" "$q" "$round")"
      done
    done
  done
  for P in 1 16; do
    for op in SET GET; do
      say "$(printf '%-10s %-4s P=%-3s median_ratio=%s over %s rounds:%s' "$1" "$op" "$P" "$(echo ${ratios[$op$P]} | median)" "$rounds" "${ratios[$op$P]}")"
    done
  done
}

bench_redis() {
  crema_up 1 "--replication_factor=1"
  start_redis "$REDIS_PORT" --appendonly no
  redis_benchmark_pair "1node" "$(crema_resp 1 | cut -d: -f2)" "$REDIS_PORT"
}

bench_durable() {
  crema_up 1 "--replication_factor=1"
  start_redis "$((REDIS_PORT - 1))" --appendonly yes --appendfsync always
  redis_benchmark_pair "durable" "$(crema_resp 1 | cut -d: -f2)" "$((REDIS_PORT - 1))"
}

start_etcd3() {
  rm -rf "$OUT_DIR/etcd"; mkdir -p "$OUT_DIR/etcd"
  local cluster="e1=http://127.0.0.1:23801,e2=http://127.0.0.1:23802,e3=http://127.0.0.1:23803"
  for i in 1 2 3; do
    etcd --name e$i --data-dir "$OUT_DIR/etcd/e$i" \
      --listen-client-urls "http://127.0.0.1:2379$i" --advertise-client-urls "http://127.0.0.1:2379$i" \
      --listen-peer-urls "http://127.0.0.1:2380$i" --initial-advertise-peer-urls "http://127.0.0.1:2380$i" \
      --initial-cluster "$cluster" --initial-cluster-state new >"$OUT_DIR/etcd/e$i.log" 2>&1 &
    PIDS+=($!)
  done
  for _ in $(seq 100); do curl -sf http://127.0.0.1:23791/health 2>/dev/null | grep -q true && return; sleep 0.2; done
  echo "etcd did not start" >&2; exit 1
}

bench_etcd() {
  crema_up 3
  start_etcd3
  local ct="$(crema_resp 1),$(crema_resp 2),$(crema_resp 3)"
  local et="127.0.0.1:23791,127.0.0.1:23792,127.0.0.1:23793"
  for n in 1 16 64; do
    local c e
    c=$("$LOADGEN" --protocol=resp --targets="$ct" --clients=$n --duration=10 --op=set)
    e=$("$LOADGEN" --protocol=etcd --targets="$et" --clients=$n --duration=10 --op=set)
    say "$(printf '3node-writes clients=%-3s crema_ops=%-10s crema_p99=%-8s etcd_ops=%-10s etcd_p99=%-8s ratio=%s' \
      $n "$(field "$c" ops_per_sec)" "$(field "$c" p99_ms)" "$(field "$e" ops_per_sec)" "$(field "$e" p99_ms)" \
      "$(ratio "$(field "$c" ops_per_sec)" "$(field "$e" ops_per_sec)")")"
  done
}

bench_reads() {
  crema_up 3
  local ct="$(crema_resp 1),$(crema_resp 2),$(crema_resp 3)"
  "$LOADGEN" --protocol=resp --targets="$(crema_resp 1)" --clients=4 --duration=1 --keys=10000 --preload >/dev/null
  for mode in local linearizable; do
    local r; r=$("$LOADGEN" --protocol=resp --targets="$ct" --clients=64 --duration=10 --op=get --keys=10000 --consistency=$mode)
    say "3node-reads $mode ops_per_sec=$(field "$r" ops_per_sec) p50_ms=$(field "$r" p50_ms) p99_ms=$(field "$r" p99_ms)"
  done
}

bench_failover() {
  crema_up 3
  local ct="$(crema_resp 1),$(crema_resp 2),$(crema_resp 3)"
  local http; http=$(tools/cluster.sh status | sed -n 1p | sed -E 's/.*http=([0-9.:]+).*/\1/')
  for k in $(seq 20); do
    "$LOADGEN" --protocol=resp --targets="$ct" --clients=16 --duration=8 --op=set > "$OUT_DIR/fo.txt" &
    local lg=$!
    sleep 3
    # Kill the node that leads shard 0, then restart it.
    local leader; leader=$(curl -s "http://$http/cluster" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["shards"][0]["leader"])')
    tools/cluster.sh kill "$leader" >/dev/null
    wait $lg || true
    say "failover kill=$k leader=$leader $(grep -o 'max_gap_ms=[0-9.]*' "$OUT_DIR/fo.txt") $(grep -o 'errors=[0-9]*' "$OUT_DIR/fo.txt")"
    tools/cluster.sh restart "$leader" >/dev/null   # recovers from its data directory
    http=$(tools/cluster.sh status | grep state=ready | head -1 | sed -E 's/.*http=([0-9.:]+).*/\1/')
  done
}

say "# $(date -u +%FT%TZ) $(nproc) cores; crema $(git rev-parse --short HEAD)"
case "$WHAT" in
  redis) bench_redis ;;
  durable) bench_durable ;;
  etcd) bench_etcd ;;
  reads) bench_reads ;;
  failover) bench_failover ;;
  all) bench_redis; bench_durable; bench_etcd; bench_reads; bench_failover ;;
  *) echo "usage: tools/bench/bench.sh [all|redis|durable|etcd|reads|failover]" >&2; exit 2 ;;
esac
