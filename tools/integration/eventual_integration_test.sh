#!/usr/bin/env bash
# Integration test of eventual keyspaces with real processes: a real etcd 3.4 (Debian's
# etcd-server) as the membership source and three crema_server processes (tools/cluster.sh) with
# one strong and two eventual keyspaces, driven by redis-cli and curl:
#   1. a write at W=ALL through node 1 (RESP, SELECT 1) is read at R=ONE through node 2 (RESP)
#      and at R=QUORUM through node 3 (HTTP, ?keyspace=sessions); an HTTP write at W=QUORUM on
#      node 3 is read back at QUORUM through node 1;
#   2. keyspaces are disjoint (strong 0, eventual 1 and 2); the keyspace's default TTL applies;
#      operations LWW cannot make atomic are refused; /keyspaces and CREMA.KEYSPACES list them;
#   2b. an eventual keyspace created at run time (CREMA.KEYSPACE CREATE, admin) is written through
#      one node and read through another; dropped, it is refused; re-created, it is empty;
#   3. each node holds its etcd key; after a SIGKILL of node 3 its lease expires and its key
#      goes, while QUORUM writes and reads through nodes 1 and 2 go on.
# Usage: eventual_integration_test.sh CREMA_SERVER CLUSTER_SH
set -euo pipefail
export CREMA_SERVER_BIN="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
CLUSTER="$2"
WORK="${TEST_TMPDIR:-$(mktemp -d)}/ev"; mkdir -p "$WORK"
export CREMA_CLUSTER_DIR="$WORK/cluster"
export CREMA_BASE_PORT=$((20000 + RANDOM % 4000)) CREMA_RESP_BASE=$((24000 + RANDOM % 4000)) \
  CREMA_HTTP_BASE=$((28000 + RANDOM % 4000))
ETCD_CLIENT=$((16000 + RANDOM % 2000)); ETCD_PEER=$((ETCD_CLIENT + 2000))  # below the ephemeral range
ETCD_PID=""
cleanup() {
  "$CLUSTER" down >/dev/null 2>&1 || true
  if [ -n "$ETCD_PID" ]; then kill -KILL "$ETCD_PID" 2>/dev/null || true; wait "$ETCD_PID" 2>/dev/null || true; fi
}
fail() { echo "FAIL: $*" >&2; "$CLUSTER" logs >&2 || true; tail -20 "$WORK/etcd.log" >&2 || true; cleanup; exit 1; }
trap cleanup EXIT
etcdctl_() { ETCDCTL_API=3 etcdctl --endpoints="http://127.0.0.1:$ETCD_CLIENT" "$@"; }

/usr/bin/etcd --name=crema-it --data-dir="$WORK/etcd" \
  --listen-client-urls="http://127.0.0.1:$ETCD_CLIENT" --advertise-client-urls="http://127.0.0.1:$ETCD_CLIENT" \
  --listen-peer-urls="http://127.0.0.1:$ETCD_PEER" --initial-advertise-peer-urls="http://127.0.0.1:$ETCD_PEER" \
  --initial-cluster="crema-it=http://127.0.0.1:$ETCD_PEER" > "$WORK/etcd.log" 2>&1 &
ETCD_PID=$!
for _ in $(seq 100); do etcdctl_ endpoint health >/dev/null 2>&1 && break; sleep 0.2; done
etcdctl_ endpoint health >/dev/null 2>&1 || fail "etcd did not start"

export CREMA_SERVER_FLAGS="--keyspaces=1:sessions:eventual:ttl=1h,2:carts:eventual:read=one:write=one \
--membership=etcd --etcd_endpoint=127.0.0.1:$ETCD_CLIENT --etcd_prefix=/crema-it/ --etcd_lease_ttl=3s \
--eventual_new_cluster --eventual_anti_entropy_interval=2s"
"$CLUSTER" up 3 > "$WORK/up.txt" || fail "cluster did not come up: $(cat "$WORK/up.txt")"
resp() { sed -n "${1}p" "$WORK/up.txt" | sed -E 's/.*resp=127.0.0.1:([0-9]+).*/\1/'; }
http() { sed -n "${1}p" "$WORK/up.txt" | sed -E 's/.*http=([0-9.:]+).*/\1/'; }
R1=$(resp 1); R2=$(resp 2); R3=$(resp 3)

# The eventual node serves once etcd's first listing is in on every node.
ok=""
for _ in $(seq 150); do
  if [ "$(printf 'CREMA.CONSISTENCY WRITE all\nSET probe x\n' | redis-cli -p "$R1" -n 1 | tail -1)" = "OK" ]; then ok=1; break; fi
  sleep 0.2
done
[ -n "$ok" ] || fail "eventual keyspace never accepted a write at ALL"

# 1. across nodes, across levels, across front ends
[ "$(printf 'CREMA.CONSISTENCY WRITE all\nSET ev:k v1\n' | redis-cli -p "$R1" -n 1 | tail -1)" = "OK" ] || fail "SET at ALL via node 1"
got=$(printf 'CREMA.CONSISTENCY READ one\nGET ev:k\n' | redis-cli -p "$R2" -n 1 | tail -1)
[ "$got" = "v1" ] || fail "GET at ONE via node 2: '$got'"
got=$(curl -s "http://$(http 3)/kv/ev:k?keyspace=sessions&r=quorum")
[ "$got" = "v1" ] || fail "HTTP GET at QUORUM via node 3: '$got'"
code=$(curl -s -o /dev/null -w '%{http_code}' -X PUT --data-binary v2 "http://$(http 3)/kv/ev:h?keyspace=1&w=quorum")
[ "$code" = "204" ] || fail "HTTP PUT at QUORUM via node 3: $code"
got=$(printf 'CREMA.CONSISTENCY quorum\nGET ev:h\n' | redis-cli -p "$R1" -n 1 | tail -1)
[ "$got" = "v2" ] || fail "GET at QUORUM via node 1 of the HTTP write: '$got'"

# 2. isolation, TTL, refusals, listings
[ -z "$(redis-cli -p "$R2" -n 0 GET ev:k)" ] || fail "keyspace 0 sees keyspace 1's key"
[ -z "$(redis-cli -p "$R2" -n 2 GET ev:k)" ] || fail "keyspace 2 sees keyspace 1's key"
[ "$(redis-cli -p "$R2" -n 2 SET ev:k other)" = "OK" ] || fail "SET in keyspace 2 (W=ONE)"
[ "$(redis-cli -p "$R3" -n 1 GET ev:k)" = "v1" ] || fail "keyspace 1 changed by keyspace 2's write"
ttl=$(redis-cli -p "$R3" -n 1 TTL ev:k)
[ "$ttl" -gt 3500 ] && [ "$ttl" -le 3600 ] || fail "default TTL of keyspace 1: $ttl"
redis-cli -p "$R1" -n 1 INCR ev:n | grep -q "not available in eventual keyspace" || fail "INCR not refused"
[ "$(redis-cli -p "$R1" SELECT 7)" = "ERR DB index is out of range" ] || fail "SELECT of an undeclared keyspace"
redis-cli -p "$R1" CREMA.KEYSPACES | grep -q "^1:sessions:eventual:ttl=1h" || fail "CREMA.KEYSPACES"
curl -s "http://$(http 2)/keyspaces" | grep -q '"carts"' || fail "/keyspaces"
[ "$(redis-cli -p "$R1" SET strong:k s)" = "OK" ] || fail "SET in strong keyspace 0"
got=$(printf 'CREMA.CONSISTENCY linearizable\nGET strong:k\n' | redis-cli -p "$R2" -n 0 | tail -1)
[ "$got" = "s" ] || fail "linearizable GET in strong keyspace 0: '$got'"

# 2b. an eventual keyspace created at run time
TOKEN=$(cat "$CREMA_CLUSTER_DIR/admin_token")
admin() { printf 'AUTH admin %s\n%s\n' "$TOKEN" "$1" | redis-cli -p "$R1" | tail -n +2; }
[ "$(admin 'CREMA.KEYSPACE CREATE 4:feeds:eventual:read=one:write=all' | head -1)" = "4:feeds:eventual:read=one:write=all" ] ||
  fail "CREMA.KEYSPACE CREATE of an eventual keyspace"
[ "$(redis-cli -p "$R2" -n 4 SET feed:1 news)" = "OK" ] || fail "SET in the created eventual keyspace via node 2"
[ "$(redis-cli -p "$R3" -n 4 GET feed:1)" = "news" ] || fail "GET in the created eventual keyspace via node 3"
[ -z "$(redis-cli -p "$R3" -n 1 GET feed:1)" ] || fail "keyspace 1 sees the created keyspace's key"
[ "$(admin 'CREMA.KEYSPACE DROP feeds')" = "OK" ] || fail "CREMA.KEYSPACE DROP feeds"
sleep 1  # every node's map has the drop after the metadata leader's next push
for r in "$R1" "$R2" "$R3"; do
  [ "$(redis-cli -p "$r" SELECT 4)" = "ERR DB index is out of range" ] || fail "dropped keyspace 4 still served on $r"
done
admin 'CREMA.KEYSPACE CREATE 4:feeds:eventual:read=all:write=all' | grep -q "^4:feeds:eventual" || fail "re-CREATE feeds"
[ -z "$(redis-cli -p "$R2" -n 4 GET feed:1)" ] || fail "the re-created keyspace sees the dropped one's data"

# 3. etcd membership: every node holds a key; a SIGKILLed node's lease expires
keys=$(etcdctl_ get --prefix --keys-only /crema-it/ | grep -c /crema-it/ || true)
[ "$keys" = "3" ] || fail "etcd member keys: $keys"
"$CLUSTER" kill 3 >/dev/null
gone=""
for _ in $(seq 60); do
  if ! etcdctl_ get --prefix --keys-only /crema-it/ | grep -q '/crema-it/3$'; then gone=1; break; fi
  sleep 0.25
done
[ -n "$gone" ] || fail "node 3's etcd key outlived its lease"
for i in $(seq 20); do
  [ "$(printf 'CREMA.CONSISTENCY quorum\nSET after:%s v\n' "$i" | redis-cli -p "$R1" -n 1 | tail -1)" = "OK" ] || fail "QUORUM write $i with node 3 dead"
done
got=$(printf 'CREMA.CONSISTENCY quorum\nGET after:20\n' | redis-cli -p "$R2" -n 1 | tail -1)
[ "$got" = "v" ] || fail "QUORUM read via node 2 with node 3 dead: '$got'"
echo "PASS"
