#!/usr/bin/env bash
# Line and branch coverage of the test suite, per file and per package.
#
#   tools/coverage.sh                 # the whole suite (//...)
#   tools/coverage.sh //transport/... # some packages' tests
#
# How: builds with --config=llvmcov (clang source-based coverage: -fprofile-instr-generate
# -fcoverage-mapping), runs the tests once more (no cached results) with LLVM_PROFILE_FILE
# pointing every test process, and every program a test starts, at one directory, then merges
# the profiles with llvm-profdata and reports with llvm-cov over every test and tool binary.
# `bazel coverage` is not used: it needs the coverage tools that WORKSPACE stubs out
# (third_party/remote_coverage_tools), which offline machines cannot download.
#
# Output under $CREMA_COVERAGE_OUT (default /tmp/crema-coverage):
#   files.txt     llvm-cov's per-file table (regions, functions, lines, branches)
#   packages.txt  lines and branches per package (what docs/hardening.md records)
#   coverage.lcov the same data in lcov format; html/ if lcov's genhtml is installed
# Test sources, fuzz targets, test helpers (testing/) and system headers are left out.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${CREMA_COVERAGE_OUT:-/tmp/crema-coverage}
patterns=("$@")
if [ ${#patterns[@]} -eq 0 ]; then patterns=(//...); fi
rm -rf "$out"
mkdir -p "$out/profiles"

# Tests may fail under coverage timing; the report is still worth having, so do not stop here.
bazel test --config=llvmcov --nocache_test_results --keep_going --local_test_jobs=2 \
  --test_env=LLVM_PROFILE_FILE="$out/profiles/%p-%m.profraw" \
  --sandbox_writable_path="$out/profiles" "${patterns[@]}" || echo "coverage: some tests failed" >&2

llvm-profdata merge -sparse "$out"/profiles/*.profraw -o "$out/merged.profdata"

# Every test and program built under these patterns (tests start some programs, e.g. ping_node).
objects=()
while read -r label; do
  path="bazel-bin/$(echo "${label#//}" | tr ':' '/')"
  if [ -x "$path" ] && [ -f "$path" ]; then objects+=("-object" "$path"); fi
done < <(bazel query --output=label "kind('cc_(test|binary)', $(IFS='+'; echo "${patterns[*]}"))" \
           2>/dev/null)
# Tests link the project's libraries dynamically (fastbuild): their code and its coverage mapping
# are in the lib*.so files, not in the test binaries — without these, whole packages go missing.
while read -r lib; do objects+=("-object" "$lib"); done < <(
  find bazel-bin/ -path '*runfiles*' -prune -o -path 'bazel-bin/_solib*' -prune -o \
    -type f -name 'lib*.so' -print 2>/dev/null | sort)
if [ ${#objects[@]} -eq 0 ]; then
  echo "coverage: no binaries found" >&2
  exit 1
fi
ignore='(_test\.cc|_fuzzer\.cc|_benchmark\.cc|_bench\.cc|/testing/|^/usr/|external/|tools/fuzz/)'
first=${objects[1]}
rest=("${objects[@]:2}")
llvm-cov report -instr-profile="$out/merged.profdata" "$first" "${rest[@]}" \
  -ignore-filename-regex="$ignore" > "$out/files.txt"
llvm-cov export -format=lcov -instr-profile="$out/merged.profdata" "$first" "${rest[@]}" \
  -ignore-filename-regex="$ignore" > "$out/coverage.lcov"

# Per package (directory): sum lines and branches over its files.
awk '
  /^Filename/ || /^-/ || /^TOTAL/ || NF < 13 { next }
  {
    file = $1; n = split(file, parts, "/"); pkg = parts[1];
    for (i = 2; i < n; ++i) pkg = pkg "/" parts[i];
    lines[pkg] += $8; lmiss[pkg] += $9; br[pkg] += $11; bmiss[pkg] += $12;
  }
  END {
    printf "%-32s %8s %8s %8s %8s\n", "package", "lines", "line%", "branches", "branch%";
    for (p in lines) {
      printf "%-32s %8d %7.1f%% %8d %7.1f%%\n", p, lines[p],
             lines[p] ? 100 * (lines[p] - lmiss[p]) / lines[p] : 100,
             br[p], br[p] ? 100 * (br[p] - bmiss[p]) / br[p] : 100;
    }
  }' "$out/files.txt" | (read -r header; echo "$header"; sort) > "$out/packages.txt"
if command -v genhtml > /dev/null; then
  genhtml --quiet --branch-coverage -o "$out/html" "$out/coverage.lcov" > /dev/null 2>&1 || true
fi
tail -1 "$out/files.txt"
cat "$out/packages.txt"
echo "coverage: report in $out (files.txt, packages.txt, coverage.lcov, html/ if genhtml ran)"
