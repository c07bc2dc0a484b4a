#!/usr/bin/env bash
# tools/cluster.sh's mechanics (up, status lines, logs, down, refusing a second up) with
# CREMA_SERVER_BIN pointing at crema_server_fake_node (in-memory test double: each node stands
# alone, so this checks the launcher, not a cluster).
set -euo pipefail
SCRIPT="$1"; export CREMA_SERVER_BIN="$(cd "$(dirname "$2")" && pwd)/$(basename "$2")"
export CREMA_CLUSTER_DIR="${TEST_TMPDIR:-$(mktemp -d)}/cluster"
# Below the kernel's ephemeral range (from 32768): a listen port chosen there can already be the
# source port of some outgoing connection (a node then exits: "port taken").
export CREMA_BASE_PORT=$((20000 + RANDOM % 4000)) CREMA_RESP_BASE=$((24000 + RANDOM % 4000)) \
  CREMA_HTTP_BASE=$((28000 + RANDOM % 4000))
fail() { echo "FAIL: $*" >&2; "$SCRIPT" down >/dev/null 2>&1 || true; exit 1; }
out=$("$SCRIPT" up 3) || fail "up: $out"
[ "$(echo "$out" | wc -l)" -eq 3 ] || fail "up printed: $out"
echo "$out" | grep -E '^node=1 resp=127\.0\.0\.1:[0-9]+ http=127\.0\.0\.1:[0-9]+ state=ready$' >/dev/null || fail "line format: $out"
status=$("$SCRIPT" status)
[ "$status" = "$out" ] || fail "status differs from up: $status"
port=$(echo "$out" | sed -n 2p | sed -E 's/.*resp=127.0.0.1:([0-9]+).*/\1/')
[ "$(redis-cli -p "$port" PING)" = "PONG" ] || fail "redis-cli at node 2"
"$SCRIPT" up 3 >/dev/null 2>&1 && fail "a second up must refuse"
"$SCRIPT" logs 1 | grep event=serving >/dev/null || fail "logs"
"$SCRIPT" kill 2 | grep "node=2 killed" >/dev/null || fail "kill"
"$SCRIPT" status | grep "^node=2 .* state=down$" >/dev/null || fail "status after kill: $("$SCRIPT" status)"
"$SCRIPT" restart 2 | grep "^node=2 .* state=ready$" >/dev/null || fail "restart"
[ "$(stat -c %a "$CREMA_CLUSTER_DIR/secret")" = "600" ] || fail "secret file mode"
"$SCRIPT" down | grep "stopped 3 node" >/dev/null || fail "down"
[ -z "$("$SCRIPT" status)" ] || fail "status after down: $("$SCRIPT" status)"
echo PASS
