#!/usr/bin/env bash
# Runs btkit's whole test suite after installing what it needs, in two
# passes:
#   1. the sanitizer pass: every test (unit tests, the fuzz targets' corpus
#      replays, the interop tests against real peers on loopback) built with
#      AddressSanitizer and UndefinedBehaviorSanitizer (.bazelrc's asan);
#   2. the optimized pass: every other target built as it ships, with gcc
#      (`bt`, the libraries, benchmarks and tools), then the checks of
#      btkit used from outside (tools/test_consumers.sh: the examples/
#      workspace, install.sh and pkg-config), which build and run it.
# Each test builds and runs once, sanitized: building every test twice
# took CI past its 30 minutes.
#   tools/test.sh           both passes
#   tools/test.sh --asan    the sanitizer pass only
#   tools/test.sh --plain   the optimized pass only
# Further arguments go to `bazel` (the consumer checks then do not run).
# Ends with a line "tests: N passed, N failed" counting the test cases and
# checks of the passes run.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh

passes=(asan plain)
case "${1:-}" in
  --asan) passes=(asan); shift ;;
  --plain) passes=(plain); shift ;;
esac
consumers=1
(($# == 0)) || consumers=0

# Interop tests spend most of their time waiting on peers and timers: let
# two actions per core run, compiles or tests, so waiting tests do not hold
# the cores compiling needs, nor hold back the tests queued behind them.
cores=$(nproc)
parallel=(--jobs=$((2 * cores)) --local_cpu_resources=$((2 * cores))
  --local_test_jobs=$((2 * cores)))

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0
passed=0
failed=0

# summarize TESTLOGS [--xml FILE] TARGET...: prints the pass's failed
# cases and its count line, and adds its counts to the totals.
summarize() {
  local line
  /usr/bin/python3 tools/summarize_tests.py "$@" | tee "$work/summary"
  line=$(tail -n 1 "$work/summary")
  if [[ $line =~ ^tests:\ ([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
    passed=$((passed + BASH_REMATCH[1]))
    failed=$((failed + BASH_REMATCH[2]))
  else
    failed=$((failed + 1))
  fi
}

for pass in "${passes[@]}"; do
  if [ "$pass" = asan ]; then
    echo "== sanitizer pass: every test"
    mapfile -t targets < <(bazel query 'tests(//...)' 2>/dev/null)
    # Only what the tests need: the optimized pass builds the rest.
    bazel test --keep_going "${parallel[@]}" --config=asan \
      --build_tests_only //... "$@" || status=$?
    summarize "$(bazel info --config=asan bazel-testlogs 2>/dev/null)" \
      "${targets[@]}"
  else
    echo "== optimized pass: every target but the tests, the consumer checks"
    bazel build --keep_going "${parallel[@]}" --build_tag_filters=-fuzz \
      "$@" -- //... -//tests/... || status=$?
    extra=()
    if ((consumers)); then
      bash tools/test_consumers.sh --xml "$work/consumers.xml" || status=$?
      extra=(--xml "$work/consumers.xml")
    fi
    summarize "$work" "${extra[@]}"
  fi
done
((${#passes[@]} == 1)) || echo "tests: $passed passed, $failed failed"
exit $status
