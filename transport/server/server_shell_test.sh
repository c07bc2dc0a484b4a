#!/usr/bin/env bash
# End-to-end test of crema_server's shell — flags, exit codes, logs, RESP with real Redis clients
# (redis-cli, python3-redis, redis-benchmark), HTTP with curl, promtool on a live /metrics, and
# SIGTERM — using crema_server_fake_node, which serves the in-memory test double instead of a
# cache node. The 3-node integration test with real nodes is tools/integration/.
set -euo pipefail

BIN="$1"            # crema_server_fake_node
WORK="${TEST_TMPDIR:-$(mktemp -d)}/shell"
mkdir -p "$WORK"
export CREMA_CLUSTER_SECRET="0123456789abcdef-test-secret"
export CREMA_ADMIN_TOKEN="admin-token-for-tests"
fail() { echo "FAIL: $*" >&2; [ -f "$WORK/server.log" ] && tail -20 "$WORK/server.log" >&2; exit 1; }
for tool in redis-cli redis-benchmark curl promtool /usr/bin/python3; do
  command -v "$tool" >/dev/null || fail "$tool missing (tools/install_deps.sh installs it)"
done

# --- flags and exit codes ---
"$BIN" --help > "$WORK/help.txt" || fail "--help must exit 0"
grep -q -- "--node_id" "$WORK/help.txt" || fail "--help does not list --node_id"
grep -q -- "--cluster_secret_file" "$WORK/help.txt" || fail "--help does not list the secret file"
set +e
"$BIN" --bogus=1 2> "$WORK/err.txt"; rc=$?
[ $rc -eq 2 ] || fail "unknown flag: rc=$rc, want 2"
grep -q "unknown flag '--bogus'" "$WORK/err.txt" || fail "unknown flag message: $(cat "$WORK/err.txt")"
"$BIN" --node_id=1 --peer_address=127.0.0.1:0 --data_dir="$WORK/d" --default_ttl=soon 2> "$WORK/err.txt"; rc=$?
[ $rc -eq 2 ] || fail "bad duration: rc=$rc"
grep -q -- "--default_ttl" "$WORK/err.txt" || fail "bad duration message: $(cat "$WORK/err.txt")"
CREMA_CLUSTER_SECRET= "$BIN" --node_id=1 --peer_address=127.0.0.1:0 --data_dir="$WORK/d" 2> "$WORK/err.txt"; rc=$?
[ $rc -eq 2 ] || fail "missing secret: rc=$rc"
"$BIN" --node_id=1 --peer_address=127.0.0.1:0 --data_dir="$WORK/d" --node_id 2> /dev/null; rc=$?
[ $rc -eq 2 ] || fail "flag without value: rc=$rc"
set -e

# --- start ---
"$BIN" --node_id=1 --peer_address=127.0.0.1:0 --resp_address=127.0.0.1:0 \
  --http_address=127.0.0.1:0 --data_dir="$WORK/d1" --log_file="$WORK/server.log" &
PID=$!
trap 'kill -9 $PID 2>/dev/null || true' EXIT
for _ in $(seq 100); do grep -q "event=serving" "$WORK/server.log" 2>/dev/null && break; sleep 0.1; done
grep -q "event=serving" "$WORK/server.log" || fail "server did not start"
RESP=$(grep -o 'resp=[0-9.:]*' "$WORK/server.log" | head -1 | cut -d= -f2)
HTTP=$(grep -o 'http=[0-9.:]*' "$WORK/server.log" | head -1 | cut -d= -f2)
RPORT=${RESP##*:}
grep -q "level=info node=1 event=serving" "$WORK/server.log" || fail "log line lacks level/node"

# --- redis-cli, scripted ---
cli() { redis-cli -h 127.0.0.1 -p "$RPORT" "$@"; }
[ "$(cli PING)" = "PONG" ] || fail "PING"
[ "$(cli SET k1 hello EX 100)" = "OK" ] || fail "SET"
[ "$(cli GET k1)" = "hello" ] || fail "GET"
[ "$(cli TTL k1)" = "100" ] || fail "TTL"
[ "$(cli INCRBY n 5)" = "5" ] || fail "INCRBY"
[ "$(cli CREMA.CONSISTENCY)" = "local" ] || fail "CREMA.CONSISTENCY"
cli INFO crema | grep "node_id:1" >/dev/null || fail "INFO crema"
[ "$(cli FOO bar)" = "ERR unknown command 'FOO', with args beginning with: 'bar' " ] || fail "unknown: $(cli FOO bar)"
printf 'SET p1 a\nSET p2 b\nMGET p1 p2\nDBSIZE\n' | cli > "$WORK/pipe.txt"
[ "$(tr '\n' ' ' < "$WORK/pipe.txt")" = "OK OK a b 4 " ] || fail "pipelined script: $(cat "$WORK/pipe.txt")"
[ "$(cli -3 HELLO 3 | head -1)" = "server redis" ] || fail "HELLO 3: $(cli -3 HELLO 3)"

# --- python3-redis ---
/usr/bin/python3 - "$RPORT" <<'PY' || fail "python3-redis"
import sys, redis
r = redis.Redis(host="127.0.0.1", port=int(sys.argv[1]), decode_responses=True)
assert r.ping()
assert r.set("py", "1", ex=50)
assert r.get("py") == "1"
assert r.incr("py") == 2
p = r.pipeline(transaction=False)
for i in range(100):
    p.set(f"pk{i}", i)
p.mget([f"pk{i}" for i in range(100)])
out = p.execute()
assert out[-1] == [str(i) for i in range(100)], out[-1]
assert r.expire("py", 10) and 0 < r.ttl("py") <= 10
assert r.delete("py", "nokey") == 1
try:
    r.execute_command("GET")
    raise SystemExit("wrong arity accepted")
except redis.ResponseError as e:
    assert "wrong number of arguments for 'get' command" in str(e), e
PY

# --- redis-benchmark (compatibility only; benchmarks against real nodes are in tools/bench/) ---
redis-benchmark -h 127.0.0.1 -p "$RPORT" -q -n 2000 -c 4 -P 8 -t set,get > "$WORK/bench.txt" 2>&1 \
  || fail "redis-benchmark: $(cat "$WORK/bench.txt")"
grep -q "SET: [0-9.]* requests per second" "$WORK/bench.txt" && grep -q "GET: [0-9.]* requests per second" "$WORK/bench.txt" || fail "redis-benchmark output: $(cat "$WORK/bench.txt")"

# --- HTTP ---
code=$(curl -s -o /dev/null -w '%{http_code}' -X PUT --data-binary 'v1' "http://$HTTP/kv/h1?ttl=30s")
[ "$code" = "204" ] || fail "PUT /kv: $code"
[ "$(curl -s "http://$HTTP/kv/h1")" = "v1" ] || fail "GET /kv"
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://$HTTP/kv/nokey")" = "404" ] || fail "404"
[ "$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://$HTTP/admin/nodes/4/admit")" = "401" ] || fail "admin without token"
[ "$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $CREMA_ADMIN_TOKEN" "http://$HTTP/admin/nodes/4/admit")" = "200" ] || fail "admin with token"
curl -s "http://$HTTP/cluster" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["self"]==1' || fail "/cluster"
[ "$(curl -s "http://$HTTP/readyz")" = "ready" ] || fail "/readyz"
curl -s "http://$HTTP/metrics" > "$WORK/metrics.txt"
promtool check metrics < "$WORK/metrics.txt" || fail "promtool check metrics"
grep -q 'crema_requests_total{command="set",outcome="ok",protocol="resp"}' "$WORK/metrics.txt" || fail "request metrics"
grep -q 'crema_data_dir_free_bytes' "$WORK/metrics.txt" || fail "disk metrics"

# --- a second server on the same RESP port cannot start: exit 1 ---
set +e
"$BIN" --node_id=2 --peer_address=127.0.0.1:0 --resp_address="$RESP" --http_address=127.0.0.1:0 \
  --data_dir="$WORK/d2" 2> "$WORK/err2.txt"; rc=$?
set -e
[ $rc -eq 1 ] || fail "port taken: rc=$rc"
grep -q "cannot listen for RESP" "$WORK/err2.txt" || fail "port taken message: $(cat "$WORK/err2.txt")"

# --- SIGTERM: graceful stop, exit 0 ---
kill -TERM $PID
for _ in $(seq 50); do kill -0 $PID 2>/dev/null || break; sleep 0.1; done
set +e; wait $PID; rc=$?; set -e
trap - EXIT
[ $rc -eq 0 ] || fail "SIGTERM: rc=$rc"
grep -q "event=stopping" "$WORK/server.log" || fail "no stopping line"
echo "PASS"
