#!/usr/bin/env bash
# Checks that every mutant patch (tools/mutants/*.patch) applies cleanly to the current sources
# and carries the header run.sh needs (mutant, area, scenario, description). Runs `git apply
# --check` in a scratch repository holding copies of the files the patches touch (the runfiles
# are symlinks, which git apply would refuse to patch).
set -euo pipefail
root="${TEST_SRCDIR:-$PWD}/${TEST_WORKSPACE:-crema}"
scratch="$(mktemp -d "${TEST_TMPDIR:-/tmp}/patches.XXXXXX")"
git -C "$scratch" init -q
count=0
failed=0
for patch in "$root"/tools/mutants/*.patch; do
  count=$((count + 1))
  name="$(basename "$patch" .patch)"
  for key in mutant area scenario description; do
    if ! grep -q "^$key: ." "$patch"; then
      echo "FAIL $name: no '$key:' header line"
      failed=1
    fi
  done
  if [ "$(sed -n 's/^mutant: *//p' "$patch")" != "$name" ]; then
    echo "FAIL $name: the 'mutant:' header differs from the file name"
    failed=1
  fi
  for file in $(sed -n 's|^+++ b/||p' "$patch"); do
    if [ ! -e "$root/$file" ]; then
      echo "FAIL $name: touches $file, which is not in this test's data (tools/mutants/BUILD)"
      failed=1
      continue
    fi
    mkdir -p "$scratch/$(dirname "$file")"
    cp -L "$root/$file" "$scratch/$file"
  done
  if ! (cd "$scratch" && git apply --check "$patch"); then
    echo "FAIL $name: does not apply to the current sources; regenerate it"
    failed=1
  fi
done
if [ "$count" -lt 20 ]; then
  echo "FAIL only $count mutant patches (issue 11 asks for at least 20)"
  failed=1
fi
[ "$failed" = 0 ] && echo "PASS: $count mutant patches apply"
exit "$failed"
