#!/usr/bin/env bash
# Runs tests under a sanitizer configuration (.bazelrc, docs/hardening.md):
#   tools/sanitizers.sh asan [patterns...]   # ASan + UBSan; default: the whole suite (//...)
#   tools/sanitizers.sh tsan [patterns...]   # ThreadSanitizer; default: //transport/...
# Extra `bazel test` flags go after `--`, e.g. `tools/sanitizers.sh asan //sim/... -- --runs_per_test=3`.
set -euo pipefail
cd "$(dirname "$0")/.."
config=${1:-}
shift || true
patterns=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do patterns+=("$1"); shift; done
if [ "${1:-}" = "--" ]; then shift; fi
case "$config" in
  asan) [ ${#patterns[@]} -gt 0 ] || patterns=(//...) ;;
  tsan) [ ${#patterns[@]} -gt 0 ] || patterns=(//transport/...) ;;
  *) echo "usage: tools/sanitizers.sh asan|tsan [patterns...] [-- bazel flags]" >&2; exit 2 ;;
esac
tools/install_deps.sh
exec bazel test --config="$config" --keep_going --local_test_jobs=2 --test_output=errors \
  "${patterns[@]}" "$@"
