#!/usr/bin/env bash
# Runs tests under a sanitizer configuration (.bazelrc, docs/hardening.md):
#   tools/sanitizers.sh asan [patterns...]   # ASan + UBSan; default: the whole suite (//...)
#   tools/sanitizers.sh tsan [patterns...]   # ThreadSanitizer; default: the threaded code
#   tools/sanitizers.sh ci                   # the small subset CI runs per submission (ASan+UBSan)
# Extra `bazel test` flags go after `--`, e.g. `tools/sanitizers.sh asan //sim/... -- --runs_per_test=3`.
set -euo pipefail
cd "$(dirname "$0")/.."
config=${1:-}
shift || true
patterns=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do patterns+=("$1"); shift; done
if [ "${1:-}" = "--" ]; then shift; fi
# What CI runs under ASan+UBSan on every submission: the decoders of bytes from the network that
# is not yet authenticated (frames, handshake, per-frame tags, RESP requests) with their fuzz
# corpora, chosen because they are small to build with clang on a clean 2-core machine.
ci_subset=(
  //transport:frame_test //transport:frame_auth_test //transport:handshake_test
  //transport:frame_fuzzer_corpus_test //transport:handshake_fuzzer_corpus_test
  //transport/resp:request_parser_test //transport/resp:resp_fuzzer_corpus_test
)
# Code that crosses threads: the transport's I/O, the embedded facade, the server's front ends.
tsan_default=(//transport:all //transport/embedded/... //transport/http/... //transport/resp/...
              //transport/server/...)
case "$config" in
  asan) [ ${#patterns[@]} -gt 0 ] || patterns=(//...) ;;
  tsan) [ ${#patterns[@]} -gt 0 ] || patterns=("${tsan_default[@]}") ;;
  ci) config=asan; patterns=("${ci_subset[@]}") ;;
  *) echo "usage: tools/sanitizers.sh asan|tsan|ci [patterns...] [-- bazel flags]" >&2; exit 2 ;;
esac
tools/install_deps.sh
# Instrumented builds run the simulations several times slower: widen Bazel's per-size timeouts
# (short, moderate, long, eternal) so a slow test is not reported as a failure. Tests tagged
# no-sanitizer (processes under libfaketime, which deadlocks with the sanitizer runtimes at start)
# are left out.
common=(--config="$config" --keep_going --test_output=errors --test_timeout=300,1200,3600,10800)
status=0
bazel test "${common[@]}" --local_test_jobs=2 --test_tag_filters=-no-sanitizer,-manual,-sanitizer-heavy \
  "${patterns[@]}" "$@" || status=$?
# Tests tagged sanitizer-heavy (one process runs hundreds of simulated clusters) run one at a
# time, and under ASan without detect_stack_use_after_return: its fake stacks of the simulator's
# fibers (Boost ucontext) are not given back when a fiber ends, ~750 MB per cache seed, and
# cache_scenario_test's planted-bug sweep was killed by the OOM killer at 20.8 GB (2026-12-07).
# Use-after-return stays on for every other test. Bazel exits 4 when no test matched.
heavy_env=()
if [ "$config" = asan ]; then
  heavy_env=(--test_env=ASAN_OPTIONS=detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=0:check_initialization_order=1:strict_init_order=1)
fi
heavy=0
bazel test "${common[@]}" --local_test_jobs=1 --test_tag_filters=sanitizer-heavy,-no-sanitizer,-manual \
  "${heavy_env[@]}" "${patterns[@]}" "$@" || heavy=$?
if [ "$heavy" -ne 0 ] && [ "$heavy" -ne 4 ]; then status=$heavy; fi
exit "$status"
