#!/usr/bin/env bash
# The CI run of real-process chaos (docs/chaos.md), three parts:
#   1. a short run on a fresh seed (CREMA_SEED pins it) with every fault kind: must PASS;
#   2. its schedule file replayed in the simulator (//tools:sim --scenario=cache --schedule=FILE):
#      the same nemesis actions drive the simulated cluster, which must PASS too;
#   3. the planted bug (crema_server --testonly_plant=follower_reads: linearizable reads served
#      by any replica without ReadIndex) under partitions: the checker must report violations.
# Needs root (network namespaces, iptables, tmpfs); fails loudly without it.
set -uo pipefail
chaos="$1"; server="$2"; sim="$3"
export PATH="/usr/sbin:/sbin:$PATH"
tmp="${TEST_TMPDIR:-$(mktemp -d)}"
seed="${CREMA_SEED:-0}"
fail() { echo "chaos_test: FAIL: $*"; exit 1; }
[ "$(id -u)" -eq 0 ] || fail "needs root (network namespaces, iptables, tmpfs mounts)"
for tool in ip iptables; do command -v "$tool" >/dev/null || fail "$tool is missing (tools/install_deps.sh)"; done

echo "=== 1. real processes, every fault kind"
"$chaos" --server_bin="$server" --seed="$seed" --duration=40s --all_kinds --mean_interval=2s \
  --max_fault_duration=5s --schedule_out="$tmp/run.schedule.json" --history_out="$tmp/run.history.jsonl" \
  > "$tmp/run.log" 2>&1
status=$?
cat "$tmp/run.log"
[ $status -eq 0 ] || fail "the chaos run failed (replay: tools/chaos.sh --schedule=<the file printed above>)"
tail -n 1 "$tmp/run.log" | grep -qE '^seed=[0-9]+ ops=[0-9]+ faults=[0-9]+ violations=0 result=PASS$' \
  || fail "bad last line"
ops=$(tail -n 1 "$tmp/run.log" | sed -E 's/.* ops=([0-9]+).*/\1/')
faults=$(tail -n 1 "$tmp/run.log" | sed -E 's/.* faults=([0-9]+).*/\1/')
[ "$ops" -ge 200 ] || fail "only $ops operations were checked"
[ "$faults" -ge 5 ] || fail "only $faults faults were applied"

echo "=== 2. the same schedule in the simulator"
"$sim" --scenario=cache --faults=none --schedule="$tmp/run.schedule.json" > "$tmp/sim.log" 2>&1
status=$?
tail -n 40 "$tmp/sim.log"
[ $status -eq 0 ] || fail "the simulator's replay of the schedule failed"
# Both printed the nemesis (one action per line); every action that is not a clock step (those are
# clamped by each side when applied) must be the same, in the same order.
grep -E '^  [0-9.]+s ' "$tmp/run.log" | grep -v clock-step > "$tmp/real.actions"
grep -E '^  [0-9.]+s ' "$tmp/sim.log" | grep -v clock-step > "$tmp/sim.actions"
[ -s "$tmp/real.actions" ] || fail "the real run printed no nemesis actions"
diff "$tmp/real.actions" "$tmp/sim.actions" || fail "the simulator ran a different schedule"
echo "the simulator replayed the same $(wc -l < "$tmp/real.actions") actions (plus clock steps)"

echo "=== 3. the planted bug must be caught"
"$chaos" --server_bin="$server" --duration=30s --only_partitions --mean_interval=2s \
  --max_fault_duration=5s --plant=follower_reads --expect_violations > "$tmp/planted.log" 2>&1
status=$?
grep -vE '^  [0-9.]+s ' "$tmp/planted.log" | tail -n 60
[ $status -eq 0 ] || fail "the planted bug (follower reads without ReadIndex) was NOT caught"
echo "chaos_test: PASS"
