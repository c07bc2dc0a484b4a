#!/usr/bin/env bash
# mutant_sweep against a fake simulator (tools/seed_farm/testdata/fake_sim.sh: odd seeds die on
# an assertion, seeds >= 100 fail an oracle, the rest pass): seeds to catch are counted in seed
# order, a seed failing on the baseline too is not a catch, a survivor is reported as such, and
# the aggregate report counts catches.
set -euo pipefail
dir="${TEST_SRCDIR:-$PWD}/${TEST_WORKSPACE:-crema}"
sweep="$dir/tools/mutants/mutant_sweep"
fake="$dir/tools/seed_farm/testdata/fake_sim.sh"
pass="$(mktemp "${TEST_TMPDIR:-/tmp}/pass.XXXXXX")"
printf '#!/bin/sh\n# passes every seed\nfor a in "$@"; do case "$a" in --seed_list=*) l="${a#*=}";; esac; done\nfor s in $(echo "$l" | tr , " "); do echo "sim: start seed=$s"; echo "{\\"scenario\\":\\"fake\\",\\"seed\\":$s,\\"pass\\":true,\\"signature\\":\\"\\",\\"message\\":\\"ok\\",\\"events\\":1,\\"virtual_ms\\":1,\\"trace_hash\\":\\"0\\",\\"coverage\\":{}}"; done\n' >"$pass"
chmod +x "$pass"
out="$(mktemp -d "${TEST_TMPDIR:-/tmp}/out.XXXXXX")"
fail() { echo "FAIL: $*"; cat "$out/r.jsonl"; exit 1; }
field() { sed -n "$1p" "$out/r.jsonl" | grep -o "\"$2\":[^,}]*" | head -1 | cut -d: -f2-; }

# Seeds 2, 3, 4: seed 3 crashes -> caught after 2 seeds; the baseline passes it.
"$sweep" --sim="$fake" --baseline_sim="$pass" --scenario=fake --first_seed=2 --seeds=3 \
  --name=m1 --area=a --out="$out/r.jsonl" >/dev/null
[ "$(field 1 caught_at)" = 2 ] || fail "m1: caught_at $(field 1 caught_at), want 2"
grep -q '"signature":"crash' "$out/r.jsonl" || fail "m1: not a crash signature"
# Seeds 100..102 fail on the mutant and on the baseline alike: not catches; survived 3.
"$sweep" --sim="$fake" --baseline_sim="$fake" --scenario=fake --first_seed=100 --seeds=3 \
  --name=m2 --area=a --out="$out/r.jsonl" >/dev/null
[ "$(field 2 caught_at)" = 0 ] || fail "m2: caught_at $(field 2 caught_at), want 0"
[ "$(sed -n 2p "$out/r.jsonl" | grep -o '"seed":' | wc -l)" = 3 ] || fail "m2: want 3 baseline failures"
# A passing mutant survives; a mutant that did not build is not swept.
"$sweep" --sim="$pass" --scenario=fake --first_seed=2 --seeds=5 --name=m3 --area=a \
  --out="$out/r.jsonl" >/dev/null
[ "$(field 3 caught_at)" = 0 ] || fail "m3 should survive"
"$sweep" --sim=/nonexistent --scenario=fake --build=failed --name=m4 --area=a \
  --out="$out/r.jsonl" >/dev/null
grep -q '"build":"failed"' "$out/r.jsonl" || fail "m4: build failed not recorded"
"$sweep" --aggregate="$out/r.jsonl" --report="$out/report" >/dev/null
grep -q "Caught by the scenario sweep: 1 of 3 built" "$out/report.md" || fail "report counts"
grep -q '"caught_by_sweep": 1' "$out/report.json" || fail "json counts"
echo PASS
