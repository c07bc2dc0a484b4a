#!/usr/bin/env bash
# Integration test: with --membership=etcd the STRONG mode's placement takes its health from etcd,
# not from SWIM. A real etcd 3.4 (Debian's etcd-server) and four crema_server processes
# (tools/cluster.sh: founders 1..3, node 4 admitted, replication 3) with only the strong keyspace,
# --replace_dead_after=1s and a long etcd lease (24 s):
#   1. node 4 is admitted (auto-admit follows etcd's view) and gets replicas;
#   2. a replica holder is SIGKILLed. SWIM declares it dead within seconds (/cluster's "gossip"
#      column), yet the placement does not react — no "removed", its replicas stay — for as long
#      as its etcd key lives: with health from SWIM it would be removed 1 s after SWIM's verdict;
#   3. its lease expires, etcd deletes its key, and the same reaction SWIM's death used to drive
#      follows: it is removed and every shard is re-placed on the three survivors (3 voters each,
#      none on the dead node); a linearizable write and read go through.
# Every process it starts (etcd, four servers) is stopped at the end; traffic only on loopback.
# Usage: etcd_placement_test.sh CREMA_SERVER CLUSTER_SH
set -euo pipefail
export CREMA_SERVER_BIN="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
CLUSTER="$2"
WORK="${TEST_TMPDIR:-$(mktemp -d)}/pl"; mkdir -p "$WORK"
export CREMA_CLUSTER_DIR="$WORK/cluster"
export CREMA_BASE_PORT=$((20000 + RANDOM % 4000)) CREMA_RESP_BASE=$((24000 + RANDOM % 4000)) \
  CREMA_HTTP_BASE=$((28000 + RANDOM % 4000))
ETCD_CLIENT=$((16000 + RANDOM % 2000)); ETCD_PEER=$((ETCD_CLIENT + 2000))  # below the ephemeral range
LEASE_S=24
ETCD_PID=""
cleanup() {
  "$CLUSTER" down >/dev/null 2>&1 || true
  if [ -n "$ETCD_PID" ]; then kill -KILL "$ETCD_PID" 2>/dev/null || true; wait "$ETCD_PID" 2>/dev/null || true; fi
}
fail() { echo "FAIL: $*" >&2; cluster_json 1 >&2 || true; "$CLUSTER" logs >&2 || true; tail -20 "$WORK/etcd.log" >&2 || true; cleanup; exit 1; }
trap cleanup EXIT
etcdctl_() { ETCDCTL_API=3 etcdctl --endpoints="http://127.0.0.1:$ETCD_CLIENT" "$@"; }
http_of() { echo "127.0.0.1:$((CREMA_HTTP_BASE + $1))"; }
cluster_json() { curl -sf -m 2 "http://$(http_of "$1")/cluster"; }
# q NODE PYTHON_EXPR: evaluates EXPR with `c` = node NODE's /cluster document, `n(id)` its node entry.
q() {
  cluster_json "$1" 2>/dev/null | python3 -c "
import json, sys
c = json.load(sys.stdin)
def n(i): return next((x for x in c['nodes'] if x['id'] == i), {})
print($2)" 2>/dev/null || echo ""
}
# (Not `etcdctl | grep -q`: grep's early exit can fail etcdctl with SIGPIPE under pipefail.)
has_key() { local keys; keys=$(etcdctl_ get --prefix --keys-only /crema-pl/); grep -qx "/crema-pl/$1" <<< "$keys"; }

/usr/bin/etcd --name=crema-pl --data-dir="$WORK/etcd" \
  --listen-client-urls="http://127.0.0.1:$ETCD_CLIENT" --advertise-client-urls="http://127.0.0.1:$ETCD_CLIENT" \
  --listen-peer-urls="http://127.0.0.1:$ETCD_PEER" --initial-advertise-peer-urls="http://127.0.0.1:$ETCD_PEER" \
  --initial-cluster="crema-pl=http://127.0.0.1:$ETCD_PEER" > "$WORK/etcd.log" 2>&1 &
ETCD_PID=$!
for _ in $(seq 100); do etcdctl_ endpoint health >/dev/null 2>&1 && break; sleep 0.2; done
etcdctl_ endpoint health >/dev/null 2>&1 || fail "etcd did not start"

export CREMA_SERVER_FLAGS="--membership=etcd --etcd_endpoint=127.0.0.1:$ETCD_CLIENT \
--etcd_prefix=/crema-pl/ --etcd_lease_ttl=${LEASE_S}s --replace_dead_after=1s --shards=16"
"$CLUSTER" up 4 > "$WORK/up.txt" || fail "cluster did not come up: $(cat "$WORK/up.txt")"
R1=$(sed -n 1p "$WORK/up.txt" | sed -E 's/.*resp=127.0.0.1:([0-9]+).*/\1/')

# 1. node 4 admitted (through etcd's view) and holding replicas; every node has its etcd key.
ok=""
for _ in $(seq 300); do
  if [ "$(q 1 "n(4).get('state') == 'active' and n(4).get('replicas', 0) > 0")" = "True" ]; then ok=1; break; fi
  sleep 0.2
done
[ -n "$ok" ] || fail "node 4 was never admitted with replicas"
for i in 1 2 3 4; do has_key "$i" || fail "node $i has no etcd key"; done
[ "$(redis-cli -p "$R1" SET before:k v)" = "OK" ] || fail "SET before the kill"

# 2. kill a replica holder that is not node 1 (node 1 answers /cluster): the highest-numbered one.
VICTIM=""
for i in 4 3 2; do
  if [ "$(q 1 "n($i).get('replicas', 0) > 0")" = "True" ]; then VICTIM=$i; break; fi
done
[ -n "$VICTIM" ] || fail "no replica holder besides node 1"
"$CLUSTER" kill "$VICTIM" >/dev/null
KILLED_AT=$SECONDS
dead=""
for _ in $(seq 150); do
  if [ "$(q 1 "n($VICTIM).get('gossip')")" = "dead" ]; then dead=1; break; fi
  sleep 0.2
done
[ -n "$dead" ] || fail "SWIM never declared node $VICTIM dead"
SWIM_DEAD_AFTER=$((SECONDS - KILLED_AT))
# Well past replace_dead_after since SWIM's verdict, while etcd still holds the key: no reaction.
sleep 5
[ "$(q 1 "n($VICTIM).get('state')")" = "active" ] ||
  fail "node $VICTIM left the placement on SWIM's word ($(q 1 "n($VICTIM).get('state')")) while its etcd key lived"
[ "$(q 1 "n($VICTIM).get('replicas', 0) > 0")" = "True" ] || fail "node $VICTIM's replicas moved while its etcd key lived"
has_key "$VICTIM" || fail "node $VICTIM's key went before the check ($((SECONDS - KILLED_AT)) s after the kill): the check proved nothing"
echo "SWIM declared node $VICTIM dead ${SWIM_DEAD_AFTER}s after the kill; placement unchanged $((SECONDS - KILLED_AT))s after it"

# 3. the lease expires: removed, and every shard re-placed on the survivors.
gone=""
for _ in $(seq $((LEASE_S * 5 + 20))); do
  if ! has_key "$VICTIM"; then gone=1; break; fi
  sleep 0.2
done
[ -n "$gone" ] || fail "node $VICTIM's etcd key outlived its lease"
KEY_GONE_AFTER=$((SECONDS - KILLED_AT))
replaced=""
for _ in $(seq 300); do
  if [ "$(q 1 "n($VICTIM).get('state') == 'removed' and all(len(s['voters']) == 3 and $VICTIM not in s['voters'] and not s['learners'] for s in c['shards'])")" = "True" ]; then
    replaced=1; break
  fi
  sleep 0.2
done
[ -n "$replaced" ] || fail "node $VICTIM was not removed and re-placed after its lease expired"
echo "etcd key gone ${KEY_GONE_AFTER}s after the kill; re-placed $((SECONDS - KILLED_AT))s after it"
[ "$(redis-cli -p "$R1" SET after:k v)" = "OK" ] || fail "SET after the re-placement"
got=$(printf 'CREMA.CONSISTENCY linearizable\nGET before:k\n' | redis-cli -p "$R1" | tail -1)
[ "$got" = "v" ] || fail "linearizable GET of a write from before the kill: '$got'"
echo "PASS"
