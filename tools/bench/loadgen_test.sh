#!/usr/bin/env bash
# The load generator against a real redis-server and a real single-member etcd on loopback, for
# one second each: both protocols produce operations and no errors.
set -euo pipefail
LOADGEN="$1"
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
echo PASS
