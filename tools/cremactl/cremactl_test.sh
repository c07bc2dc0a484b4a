#!/usr/bin/env bash
# cremactl against crema_server_fake_node (the in-memory test double): every command, its output
# format, admin token handling and exit codes.
set -euo pipefail
CTL="$1"; SRV="$2"
WORK="${TEST_TMPDIR:-$(mktemp -d)}/ctl"; mkdir -p "$WORK"
export CREMA_CLUSTER_SECRET="0123456789abcdef-test-secret"
fail() { echo "FAIL: $*" >&2; exit 1; }
CREMA_ADMIN_TOKEN=tok "$SRV" --node_id=1 --peer_address=127.0.0.1:0 --resp_address=127.0.0.1:0 \
  --http_address=127.0.0.1:0 --data_dir="$WORK/d" --log_file="$WORK/log" &
PID=$!
trap 'kill $PID 2>/dev/null || true' EXIT
for _ in $(seq 100); do grep -q event=serving "$WORK/log" 2>/dev/null && break; sleep 0.1; done
HTTP=$(grep -o 'http=[0-9.:]*' "$WORK/log" | head -1 | cut -d= -f2)
ctl() { "$CTL" --server="$HTTP" "$@"; }
ctl put "a key/x" "v 1" --ttl=30s || fail "put"
[ "$(ctl get "a key/x")" = "v 1" ] || fail "get"
[ "$(ctl get "a key/x" --consistency=linearizable)" = "v 1" ] || fail "get linearizable"
set +e
ctl get nokey; [ $? -eq 1 ] || fail "absent key must exit 1"
ctl del nokey; [ $? -eq 1 ] || fail "del absent must exit 1"
ctl nodes admit 4 2>"$WORK/err"; [ $? -eq 2 ] || fail "admin without token must exit 2"
CREMA_ADMIN_TOKEN=wrong ctl nodes admit 4 2>"$WORK/err"; [ $? -eq 1 ] || fail "wrong token must exit 1"
grep -q "HTTP 403: wrong admin token" "$WORK/err" || fail "wrong token message: $(cat "$WORK/err")"
ctl frobnicate 2>/dev/null; [ $? -eq 2 ] || fail "unknown command must exit 2"
"$CTL" --server=127.0.0.1:1 status 2>/dev/null; [ $? -eq 3 ] || fail "unreachable must exit 3"
set -e
CREMA_ADMIN_TOKEN=tok ctl nodes admit 4 | grep "ok: admit node 4" >/dev/null || fail "admit"
echo tok > "$WORK/token"
ctl --token_file="$WORK/token" nodes drain 2 | grep "ok: drain node 2" >/dev/null || fail "drain"
ctl status | grep "^self=1 ready=true" >/dev/null || fail "status: $(ctl status)"
[ "$(ctl members)" = "node=1 address=127.0.0.1:0 state=active gossip=alive phi=0.00 replicas=1 leaders=1" ] || fail "members: $(ctl members)"
[ "$(ctl shards)" = "shard=0 leader=1 voters=1 learners=- commit=1 lag=0 entries=0" ] || fail "shards: $(ctl shards)"
ctl del "a key/x" || fail "del"
echo PASS
