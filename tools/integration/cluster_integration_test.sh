#!/usr/bin/env bash
# Integration test with real nodes: three crema_server processes on 127.0.0.1 (tools/cluster.sh),
# driven by real clients — redis-cli (scripted), redis-benchmark, python3-redis, curl, cremactl.
#   1. a SET through node 1 and a linearizable GET through node 2 (and node 3 over HTTP);
#   2. python3-redis pipelines and errors; redis-benchmark runs clean; every node's /metrics
#      passes promtool and shows Raft, fsync and cache series that moved;
#   1b. keyspaces created at run time: CREMA.KEYSPACE CREATE through node 1 (admin), used through
#      node 2 at once, HTTP POST/DELETE /keyspaces through node 3, dropped and refused on every
#      node, re-created under the same index without the old data;
#   3. SIGKILL of shard 0's leader under write load: service continues on the others, the killed
#      node restarts from its data directory (and still knows the keyspace created at run time),
#      and no acknowledged write is lost.
# Usage: cluster_integration_test.sh CREMA_SERVER CREMACTL LOADGEN CLUSTER_SH ALERTS DASHBOARD
set -euo pipefail
export CREMA_SERVER_BIN="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
CTL="$2"; LOADGEN="$3"; CLUSTER="$4"; ALERTS="$5"; DASHBOARD="$6"
WORK="${TEST_TMPDIR:-$(mktemp -d)}/it"; mkdir -p "$WORK"
export CREMA_CLUSTER_DIR="$WORK/cluster"
export CREMA_BASE_PORT=$((20000 + RANDOM % 4000)) CREMA_RESP_BASE=$((24000 + RANDOM % 4000)) \
  CREMA_HTTP_BASE=$((28000 + RANDOM % 4000))
fail() { echo "FAIL: $*" >&2; "$CLUSTER" logs >&2 || true; "$CLUSTER" down >/dev/null 2>&1 || true; exit 1; }
trap '"$CLUSTER" down >/dev/null 2>&1 || true' EXIT

"$CLUSTER" up 3 > "$WORK/up.txt" || fail "cluster did not come up: $(cat "$WORK/up.txt")"
resp() { sed -n "${1}p" "$WORK/up.txt" | sed -E 's/.*resp=127.0.0.1:([0-9]+).*/\1/'; }
http() { sed -n "${1}p" "$WORK/up.txt" | sed -E 's/.*http=([0-9.:]+).*/\1/'; }
R1=$(resp 1); R2=$(resp 2); R3=$(resp 3)
# `up` returns only once every shard has a leader (the first writes must not wait an election out)
curl -sf "http://$(http 2)/cluster" | python3 -c \
  'import json, sys; s = json.load(sys.stdin)["shards"]; sys.exit(0 if s and all(x["leader"] for x in s) else 1)' ||
  fail "up returned before every shard had a leader"

# 1. write through one node, linearizable read through another
[ "$(redis-cli -p "$R1" SET it:k hello)" = "OK" ] || fail "SET via node 1"
got=$(printf 'CREMA.CONSISTENCY linearizable\nGET it:k\n' | redis-cli -p "$R2" | tail -1)
[ "$got" = "hello" ] || fail "linearizable GET via node 2: $got"
[ "$(curl -s "http://$(http 3)/kv/it:k?consistency=linearizable")" = "hello" ] || fail "HTTP GET via node 3"
[ "$("$CTL" --server="$(http 2)" get it:k --consistency=linearizable)" = "hello" ] || fail "cremactl get"
# The production binary runs on tcmalloc (transport/server/allocator.h), and says so like Redis.
redis-cli -p "$R1" INFO memory | grep -q "^mem_allocator:tcmalloc-" || fail "INFO memory: $(redis-cli -p "$R1" INFO memory)"
redis-cli -p "$R1" INFO memory | grep -qE "^used_memory:[1-9][0-9]*" || fail "INFO memory has no used_memory"
"$CTL" --server="$(http 1)" status | grep "ready=true" >/dev/null || fail "cremactl status"
[ "$("$CTL" --server="$(http 1)" shards | wc -l)" -ge 1 ] || fail "cremactl shards"

# 1b. keyspaces created at run time
TOKEN=$(cat "$CREMA_CLUSTER_DIR/admin_token")
/usr/bin/python3 - "$R1" "$R2" "$R3" "$TOKEN" <<'PY' || fail "CREMA.KEYSPACE create and use"
import sys, redis
r1, r2, r3, token = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
admin = redis.Redis(port=r1, decode_responses=True)
try:
    admin.execute_command("CREMA.KEYSPACE", "CREATE", "5:carts:strong:ttl=1h")
    raise AssertionError("CREMA.KEYSPACE without AUTH admin was accepted")
except redis.ResponseError as e:
    assert "admin commands need" in str(e), e
admin.execute_command("AUTH", "admin", token)
assert admin.execute_command("CREMA.KEYSPACE", "CREATE", "5:carts:strong:ttl=1h") == ["5:carts:strong:ttl=1h", 1]
for bad, want in [("5:other:strong", "ALREADY_EXISTS"), ("6:Bad:strong", "name must be"),
                  ("6:x:weak", "mode must be")]:
    try:
        admin.execute_command("CREMA.KEYSPACE", "CREATE", bad)
        raise AssertionError(f"CREATE {bad} was accepted")
    except redis.ResponseError as e:
        assert want in str(e), (bad, e)
# Node 2, at once: the keyspace is there (a catch-up of the map if node 2 had not heard of it).
carts = redis.Redis(port=r2, db=5, decode_responses=True)
carts.set("cart:1", "apples")
assert carts.get("cart:1") == "apples"
assert 3500 < carts.ttl("cart:1") <= 3600, carts.ttl("cart:1")  # the keyspace's default TTL
assert redis.Redis(port=r3, decode_responses=True).get("cart:1") is None  # not in keyspace 0
assert ["5:carts:strong:ttl=1h", 1] in admin.execute_command("CREMA.KEYSPACE", "LIST")
print("keyspace 5 created through node 1 and used through node 2")
PY
H3="http://$(http 3)"
code=$(curl -s -o "$WORK/ks.json" -w '%{http_code}' -X POST --data '7:kept:strong' "$H3/keyspaces")
[ "$code" = 401 ] || fail "POST /keyspaces without the admin token: $code"
code=$(curl -s -o "$WORK/ks.json" -w '%{http_code}' -X POST -H "Authorization: Bearer $TOKEN" \
  --data '7:kept:strong' "$H3/keyspaces")
[ "$code" = 201 ] || fail "POST /keyspaces: $code $(cat "$WORK/ks.json")"
[ "$(curl -s -o /dev/null -w '%{http_code}' -X PUT --data kept "http://$(http 1)/kv/k7?keyspace=kept")" = 204 ] ||
  fail "PUT into the keyspace created over HTTP"
code=$(curl -s -o "$WORK/ks.json" -w '%{http_code}' -X DELETE -H "Authorization: Bearer $TOKEN" "$H3/keyspaces/carts")
[ "$code" = 200 ] || fail "DELETE /keyspaces/carts: $code $(cat "$WORK/ks.json")"
sleep 1  # every node's map has the drop after the metadata leader's next push (250 ms)
/usr/bin/python3 - "$R1" "$R2" "$R3" "$TOKEN" <<'PY' || fail "dropped keyspace refused and re-created empty"
import sys, redis
ports, token = [int(p) for p in sys.argv[1:4]], sys.argv[4]
for port in ports:
    try:
        redis.Redis(port=port, db=5, decode_responses=True).get("cart:1")
        raise AssertionError(f"node on {port} still serves the dropped keyspace")
    except redis.ResponseError as e:
        assert "out of range" in str(e), e
admin = redis.Redis(port=ports[1], decode_responses=True)
admin.execute_command("AUTH", "admin", token)
assert admin.execute_command("CREMA.KEYSPACE", "CREATE", "5:carts:strong") == ["5:carts:strong", 3]
assert redis.Redis(port=ports[2], db=5, decode_responses=True).get("cart:1") is None
print("keyspace 5 dropped, refused on every node, re-created empty (generation 3)")
PY

# 2. real clients
/usr/bin/python3 - "$R1" "$R3" <<'PY' || fail "python3-redis"
import sys, redis
a = redis.Redis(port=int(sys.argv[1]), decode_responses=True)
b = redis.Redis(port=int(sys.argv[2]), decode_responses=True)
p = a.pipeline(transaction=False)
for i in range(200):
    p.set(f"py:{i}", i)
p.execute()
b.execute_command("CREMA.CONSISTENCY", "linearizable")
assert b.mget([f"py:{i}" for i in range(200)]) == [str(i) for i in range(200)]
assert a.incr("py:ctr") == 1 and b.incr("py:ctr") == 2
PY
redis-benchmark -p "$R2" -q -n 20000 -c 20 -P 8 -r 10000 -t set,get > "$WORK/bench.txt" 2>&1 || fail "redis-benchmark"
tr '\r' '\n' < "$WORK/bench.txt" | grep -E "GET: [0-9.]+ requests per second" >/dev/null || fail "redis-benchmark output"

# 2b. node-side metrics on every node's live /metrics: promtool accepts them, and the Raft, disk
# and cache series moved (summed over the nodes: reads are served where the replica is).
for i in 1 2 3; do
  curl -sf "http://$(http $i)/metrics" > "$WORK/metrics$i.txt" || fail "/metrics of node $i"
  promtool check metrics < "$WORK/metrics$i.txt" || fail "promtool check metrics (node $i)"
done
/usr/bin/python3 - "$ALERTS" "$DASHBOARD" "$WORK"/metrics[123].txt <<'PY' || fail "node-side metrics"
import collections, re, sys
sums = collections.Counter()
has_leader = collections.defaultdict(float)
for path in sys.argv[3:]:
    for line in open(path):
        m = re.match(r'^([a-z_]+)(\{[^}]*\})? ([-+0-9.eEInfa]+)$', line.strip())
        if not m:
            continue
        name, labels, value = m.group(1), m.group(2) or "", float(m.group(3))
        sums[name] += value
        if name == "crema_shard_has_leader":
            shard = re.search(r'shard="(\d+)"', labels).group(1)
            has_leader[shard] = max(has_leader[shard], value)
for name in ["crema_raft_proposals_total", "crema_raft_committed_entries_total",
             "crema_raft_elections_total", "crema_raft_leader_changes_total",
             "crema_disk_fsync_duration_seconds_count", "crema_cache_hits_total",
             "crema_cache_entries", "crema_cache_bytes", "crema_raft_groups"]:
    assert sums[name] > 0, f"{name} is {sums[name]} over the nodes"
assert has_leader and all(v == 1 for v in has_leader.values()), f"shards without a leader: {has_leader}"
assert sums["crema_membership_members"] >= 9, sums["crema_membership_members"]
# Every metric the alert rules and the dashboard query is served by a live node.
live = {re.sub(r'_(bucket|sum|count)$', '', n) for n in sums}
for path in sys.argv[1:3]:
    for name in set(re.findall(r'\b(crema_[a-z_]+)\b(?!\.)', open(path).read())):
        base = re.sub(r'_(bucket|sum|count)$', '', name)
        assert base in live or name in sums, f"{path} uses {name}, which no live node exposes"
print(f"metrics: {len(has_leader)} shards with a leader, "
      f"{int(sums['crema_raft_proposals_total'])} proposals, {int(sums['crema_cache_hits_total'])} hits")
PY

# 3. SIGKILL the leader of shard 0 under load; acknowledged writes survive
leader=$(curl -s "http://$(http 1)/cluster" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["shards"][0]["leader"])')
[ "$leader" -ge 1 ] || fail "no leader for shard 0"
/usr/bin/python3 - "$R1" "$R2" "$R3" "$leader" "$WORK/acked.txt" <<'PY' &
import sys, time, redis
ports = [int(p) for p in sys.argv[1:4]]
leader = int(sys.argv[4])
clients = [redis.Redis(port=p, socket_timeout=3) for i, p in enumerate(ports, 1) if i != leader]
acked = open(sys.argv[5], "w")
end = time.time() + 12
i = 0
while time.time() < end:
    c = clients[i % len(clients)]
    try:
        if c.set(f"ack:{i}", i):
            acked.write(f"{i}\n"); acked.flush()
    except redis.RedisError:
        pass
    i += 1
PY
WRITER=$!
sleep 3
"$CLUSTER" kill "$leader" >/dev/null
sleep 4
survivor=$(( leader == 1 ? 2 : 1 ))
[ "$(redis-cli -p "$(resp $survivor)" SET it:after-kill 1)" = "OK" ] || fail "writes stopped after the kill"
"$CLUSTER" restart "$leader" > "$WORK/restart.txt" || fail "restart: $(cat "$WORK/restart.txt")"
wait $WRITER
n=$(wc -l < "$WORK/acked.txt")
[ "$n" -gt 100 ] || fail "only $n writes acknowledged under load"
/usr/bin/python3 - "$(resp "$leader")" "$WORK/acked.txt" <<'PY' || fail "acknowledged writes lost"
import sys, redis
r = redis.Redis(port=int(sys.argv[1]), decode_responses=True)
r.execute_command("CREMA.CONSISTENCY", "linearizable")
acked = [int(l) for l in open(sys.argv[2])]
missing = []
for start in range(0, len(acked), 500):
    chunk = acked[start:start + 500]
    values = r.mget([f"ack:{i}" for i in chunk])
    missing += [i for i, v in zip(chunk, values) if v != str(i)]
assert not missing, f"{len(missing)} acknowledged writes missing, e.g. {missing[:5]}"
print(f"{len(acked)} acknowledged writes all present (read through the restarted node)")
PY
[ "$(curl -s "http://$(http "$leader")/kv/k7?keyspace=kept&consistency=linearizable")" = "kept" ] ||
  fail "the restarted node lost the keyspace created at run time"
"$CLUSTER" down >/dev/null
echo PASS
