#!/usr/bin/env bash
# Runs btkit's whole test suite (unit, fuzz-corpus replay and interop tests
# against real peers on loopback) after installing what it needs.
#   tools/test.sh          the normal suite (without the corpus replays)
#   tools/test.sh --asan   the same suite under address+undefined sanitizers,
#                          with the fuzz targets' corpus replays
# The normal suite, when given no other arguments, also checks btkit used
# from outside (tools/test_consumers.sh: the examples/ workspace, install.sh
# and pkg-config). Ends with a line "tests: N passed, N failed" counting
# test cases and those checks.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh

# clang: it compiles the suite faster than gcc (.bazelrc).
config=(--config=clang)
# The fuzz targets' corpus replays run in the sanitizer pass, where they
# can find what a plain replay cannot.
only=(--build_tag_filters=-fuzz --test_tag_filters=-fuzz)
tests='tests(//...) except attr(tags, fuzz, tests(//...))'
consumers=1
if [ "${1:-}" = "--asan" ]; then
  # Only what the tests need: the normal pass already builds the benchmarks
  # and tools, and rebuilding them with sanitizers would only cost CI time.
  config=(--config=asan)
  only=(--build_tests_only)
  tests='tests(//...)'
  consumers=0
  shift
fi
(($# == 0)) || consumers=0

# Interop tests spend most of their time waiting on peers and timers: let
# two actions per core run, compiles or tests, so waiting tests do not hold
# the cores compiling needs, nor hold back the tests queued behind them.
cores=$(nproc)
parallel=(--jobs=$((2 * cores)) --local_cpu_resources=$((2 * cores))
  --local_test_jobs=$((2 * cores)))

status=0
bazel test --keep_going "${parallel[@]}" "${config[@]}" "${only[@]}" //... "$@" ||
  status=$?
extra=()
if ((consumers)); then
  consumers_xml=$(mktemp)
  trap 'rm -f "$consumers_xml"' EXIT
  bash tools/test_consumers.sh --xml "$consumers_xml" || status=$?
  extra=(--xml "$consumers_xml")
fi
mapfile -t targets < <(bazel query "$tests" 2>/dev/null)
/usr/bin/python3 tools/summarize_tests.py \
  "$(bazel info "${config[@]}" bazel-testlogs 2>/dev/null)" "${extra[@]}" \
  "${targets[@]}"
exit $status
