#!/usr/bin/env bash
# The CI run of real-process chaos (docs/chaos.md), three parts, about 2 minutes in all:
#   1. a short run on a fresh seed (CREMA_SEED pins it) with every fault kind: must PASS;
#   2. its schedule file replayed in the simulator (//tools:sim --scenario=cache --schedule=FILE):
#      the same nemesis actions drive the simulated cluster, which must PASS too;
#   3. the planted bug (crema_server --testonly_plant=follower_reads: linearizable reads served
#      by any replica without ReadIndex) under partitions: the checker must report violations.
# Needs root, network namespaces, iptables, tmpfs mounts and libfaketime. Where the machine lacks
# one of them the test is SKIPPED: it says so on its first line of output and in its test.xml
# (a <skipped/> test case) and exits 0 — Bazel 4 has no skipped status. Anything else that goes
# wrong is a failure.
set -uo pipefail
chaos="$1"; server="$2"; sim="$3"
export PATH="/usr/sbin:/sbin:$PATH"
tmp="${TEST_TMPDIR:-$(mktemp -d)}"
seed="${CREMA_SEED:-0}"
fail() { echo "chaos_test: FAIL: $*"; exit 1; }
skip() {
  echo "chaos_test: SKIPPED (this machine cannot run real-process chaos): $*"
  if [ -n "${XML_OUTPUT_FILE:-}" ]; then
    cat > "$XML_OUTPUT_FILE" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<testsuites><testsuite name="chaos_test" tests="1" failures="0" errors="0" skipped="1">
<testcase name="chaos_test" classname="tools.chaos"><skipped message="$*"/></testcase>
</testsuite></testsuites>
EOF
  fi
  exit 0
}

# --- capabilities (a missing one skips; see above)
[ "$(id -u)" -eq 0 ] || skip "not root (network namespaces, iptables and tmpfs mounts need it)"
for tool in ip iptables mount umount; do
  command -v "$tool" >/dev/null || skip "$tool is missing (tools/install_deps.sh installs it)"
done
faketime_lib=/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1
[ -r "$faketime_lib" ] || skip "$faketime_lib is missing (Debian libfaketime; tools/install_deps.sh)"
probe="ccprobe$$"
ip netns add "$probe" 2>"$tmp/probe.err" || skip "cannot create a network namespace: $(head -c 200 "$tmp/probe.err")"
probe_ok=1
ip netns exec "$probe" iptables -w 5 -N CREMA_PROBE 2>"$tmp/probe.err" || probe_ok=0
ip netns del "$probe"
[ $probe_ok -eq 1 ] || skip "iptables does not work inside a network namespace: $(head -c 200 "$tmp/probe.err")"
mkdir -p "$tmp/probe_mnt"
mount -t tmpfs -o size=1m tmpfs "$tmp/probe_mnt" 2>"$tmp/probe.err" || skip "cannot mount a tmpfs: $(head -c 200 "$tmp/probe.err")"
umount "$tmp/probe_mnt"
rmdir "$tmp/probe_mnt"

echo "=== 1. real processes, every fault kind"
"$chaos" --server_bin="$server" --seed="$seed" --duration=30s --all_kinds --mean_interval=1500ms \
  --max_fault_duration=4s --schedule_out="$tmp/run.schedule.json" --history_out="$tmp/run.history.jsonl" \
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

echo "=== 3. the planted bug must be caught (within 3 runs of 20 s, each on a fresh seed)"
# Whether a stale follower read lands inside a partition window is timing: a 20 s run missed it
# once in CI (docs/chaos.md). Like the simulator's planted-bug tests (caught within N seeds), the
# bug must be caught by one of a few runs; every attempt is printed.
status=1
for attempt in 1 2 3; do
  "$chaos" --server_bin="$server" --duration=20s --only_partitions --mean_interval=1500ms \
    --max_fault_duration=4s --plant=follower_reads --expect_violations \
    --schedule_out="$tmp/planted.schedule.json" > "$tmp/planted.log" 2>&1
  status=$?
  echo "--- attempt $attempt: exit $status"
  grep -vE '^  [0-9.]+s ' "$tmp/planted.log" | tail -n 60
  [ $status -eq 0 ] && break
done
[ $status -eq 0 ] || fail "the planted bug (follower reads without ReadIndex) was NOT caught in 3 runs"

echo "=== 4. interrupted runs: SIGINT (the run's own teardown), SIGKILL (servers die with the harness; --cleanup_stale removes the rest)"
interrupt() {  # $1 = signal; starts a run, sends the signal once the fault phase is under way
  "$chaos" --server_bin="$server" --duration=60s --all_kinds --mean_interval=1s --max_fault_duration=20s \
    --schedule_out="$tmp/int.schedule.json" > "$tmp/int.log" 2>&1 &
  local pid=$! waited=0
  until grep -q "cluster serving" "$tmp/int.log" || [ $waited -ge 120 ]; do sleep 1; waited=$((waited + 1)); done
  grep -q "cluster serving" "$tmp/int.log" || {
    # Where it is stuck (a CI run saw this with an empty log: not even the seed line printed).
    echo "--- the harness (pid $pid) after ${waited}s, its state, kernel stack and children:"
    ps -o pid,stat,wchan:32,etime,time,cmd -p "$pid" 2>&1 || true
    cat "/proc/$pid/stack" 2>&1 | head -n 20 || true
    ps -o pid,stat,wchan:32,etime,cmd --ppid "$pid" 2>&1 | head -n 20 || true
    kill -KILL $pid
    tail -n 40 "$tmp/int.log"
    fail "the run to interrupt never got going (its log's tail is above)"
  }
  sleep 4  # into the fault phase: servers paused, disks full, delays and rules in place
  kill "-$1" $pid
  wait $pid
  echo "SIG$1: exit status $?; $(grep -cE '^  [0-9.]+s ' "$tmp/int.log") actions planned, $(grep -o 'faults=[0-9]*' "$tmp/int.log" | tail -n 1) applied"
}
interrupt INT
tail -n 1 "$tmp/int.log" | grep -q 'result=FAIL$' || fail "an interrupted run must end with result=FAIL"
interrupt KILL
sleep 1
"$chaos" --cleanup_stale

echo "=== 5. nothing left behind"
# Namespaces cc<pid>n<i>, bridges cc<pid>b, mounts under /tmp/crema-chaos/<pid>/ of a harness that
# has exited (other runs on the machine may be alive), and servers still running.
leftovers=""
for pid in $( { ip netns list; ip -o link show type bridge; mount; } | grep -oE 'cc[0-9]+[nb]|crema-chaos/[0-9]+' \
               | grep -oE '[0-9]+' | sort -u); do
  [ -d "/proc/$pid" ] || leftovers="$leftovers run-$pid"
done
pgrep -f -- "^$server " >/dev/null && leftovers="$leftovers crema_server-processes"
[ -z "$leftovers" ] || fail "the runs left behind:$leftovers"
echo "chaos_test: PASS"
