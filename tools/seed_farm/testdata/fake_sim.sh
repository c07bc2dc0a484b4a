#!/bin/sh
# A stand-in for //tools:sim that speaks its --seed_list/--json protocol, for sweep_test:
# odd seeds die on an assertion, seed 5 hangs, seeds >= 100 fail an oracle, the rest pass.
for arg in "$@"; do
  case "$arg" in --seed_list=*) list="${arg#--seed_list=}" ;; esac
done
for seed in $(echo "$list" | tr ',' ' '); do
  echo "sim: start seed=$seed scenario=fake"
  if [ "$seed" -ge 100 ]; then
    echo "{\"scenario\":\"fake\",\"seed\":$seed,\"pass\":false,\"signature\":\"toy | too big | safety\",\"message\":\"seed $seed too big\",\"events\":$seed,\"virtual_ms\":1,\"trace_hash\":\"00\",\"coverage\":{\"sometimes.big\":1}}"
    continue
  fi
  if [ "$seed" -eq 5 ]; then while :; do :; done; fi  # hangs (a shell builtin: one process)
  if [ $((seed % 2)) -eq 1 ]; then
    echo "fake_sim: consensus/raft.cc:123: void f(): Assertion \`term >= 1' failed." >&2
    kill -ABRT $$
  fi
  echo "{\"scenario\":\"fake\",\"seed\":$seed,\"pass\":true,\"signature\":\"\",\"message\":\"ok\",\"events\":10,\"virtual_ms\":1,\"trace_hash\":\"00\",\"coverage\":{\"sometimes.big\":0,\"fault.crash\":1,\"effect.crash\":0}}"
done
