#!/usr/bin/env bash
# The load generator against a real redis-server and a real single-member etcd on loopback, for
# one second each: both protocols produce operations and no errors. Then its failover measurement
# against stall_server.py: a write answered 2.6 s late is a 2.6 s gap (not cut at a receive
# timeout and hidden by the next, quick, write), and clients of a server that dies move to the
# other target instead of failing until the end.
set -euo pipefail
LOADGEN="$1"
STALL_SERVER="$2"
WORK="${TEST_TMPDIR:-$(mktemp -d)}/loadgen"; mkdir -p "$WORK"
for t in redis-server etcd; do command -v $t >/dev/null || { echo "$t missing (tools/install_deps.sh)"; exit 1; }; done
RPORT=$((20000 + RANDOM % 10000)); EPORT=$((RPORT + 1)); EPEER=$((RPORT + 2))
redis-server --port "$RPORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$WORK" --daemonize no >"$WORK/redis.log" 2>&1 &
RPID=$!
etcd --name t --data-dir "$WORK/etcd" --listen-client-urls "http://127.0.0.1:$EPORT" \
  --advertise-client-urls "http://127.0.0.1:$EPORT" --listen-peer-urls "http://127.0.0.1:$EPEER" \
  --initial-advertise-peer-urls "http://127.0.0.1:$EPEER" --initial-cluster "t=http://127.0.0.1:$EPEER" \
  >"$WORK/etcd.log" 2>&1 &
EPID=$!
trap 'kill $RPID $EPID 2>/dev/null || true; wait 2>/dev/null || true' EXIT
for _ in $(seq 100); do redis-cli -p "$RPORT" PING >/dev/null 2>&1 && curl -sf "http://127.0.0.1:$EPORT/health" >/dev/null 2>&1 && break; sleep 0.1; done
r=$("$LOADGEN" --protocol=resp --targets=127.0.0.1:$RPORT --clients=4 --duration=1 --op=mix --keys=100 --preload)
echo "$r"
echo "$r" | grep " errors=0 " >/dev/null || { echo "FAIL: redis errors"; exit 1; }
echo "$r" | grep -E " ops=[1-9]" >/dev/null || { echo "FAIL: no redis ops"; exit 1; }
e=$("$LOADGEN" --protocol=etcd --targets=127.0.0.1:$EPORT --clients=4 --duration=1 --op=mix --keys=100 --preload)
echo "$e"
echo "$e" | grep " errors=0 " >/dev/null || { echo "FAIL: etcd errors"; cat "$WORK/etcd.log" | tail -5; exit 1; }
echo "$e" | grep -E " ops=[1-9]" >/dev/null || { echo "FAIL: no etcd ops"; exit 1; }
gap() { echo "$1" | grep -o 'max_gap_ms=[0-9.]*' | cut -d= -f2; }
errors() { echo "$1" | grep -o 'errors=[0-9]*' | cut -d= -f2; }
start_fake() {  # name, mode args...
  local name=$1; shift
  rm -f "$WORK/$name.port"
  python3 "$STALL_SERVER" "$WORK/$name.port" "$@" &
  FAKE_PIDS+=($!)
  for _ in $(seq 100); do [ -f "$WORK/$name.port" ] && return; sleep 0.05; done
  echo "FAIL: stall_server $name did not start"; exit 1
}
FAKE_PIDS=()
trap 'kill $RPID $EPID "${FAKE_PIDS[@]}" 2>/dev/null || true; wait 2>/dev/null || true' EXIT
start_fake stall stall 2.6
s=$("$LOADGEN" --protocol=resp --targets=127.0.0.1:$(cat "$WORK/stall.port") --clients=2 --duration=4 --op=set --keys=100)
echo "stall: $s"
awk -v g="$(gap "$s")" 'BEGIN { exit !(g >= 2550 && g <= 3500) }' || { echo "FAIL: a 2.6 s stall measured as $(gap "$s") ms"; exit 1; }
[ "$(errors "$s")" = 0 ] || { echo "FAIL: the stalled write was abandoned"; exit 1; }
start_fake live stall 0
start_fake dead die
d=$("$LOADGEN" --protocol=resp --targets=127.0.0.1:$(cat "$WORK/dead.port"),127.0.0.1:$(cat "$WORK/live.port") --clients=4 --duration=2 --op=set --keys=100)
echo "die: $d"
[ "$(errors "$d")" -le 8 ] || { echo "FAIL: clients of the dead server kept failing ($(errors "$d") errors)"; exit 1; }
awk -v g="$(gap "$d")" 'BEGIN { exit !(g < 1000) }' || { echo "FAIL: gap $(gap "$d") ms after a server died"; exit 1; }
echo PASS
