#!/usr/bin/env bash
# Runs btkit's whole test suite after installing what it needs, in two
# passes:
#   1. the sanitizer pass: every test (unit tests, the fuzz targets' corpus
#      replays, the interop tests against real peers on loopback) built with
#      AddressSanitizer and UndefinedBehaviorSanitizer (.bazelrc's asan);
#   2. the optimized pass: everything built as it ships (`bt`, the
#      libraries, benchmarks and tools), the client's and daemon's interop
#      tests run again on that build (real peers against the speed and
#      timers of the shipped code), then the checks of btkit used from
#      outside (tools/test_consumers.sh: the examples/ workspace, install.sh
#      and pkg-config).
# The unit tests run once, sanitized: building every test twice took CI
# past its 30 minutes.
#   tools/test.sh           both passes
#   tools/test.sh --asan    the sanitizer pass only
#   tools/test.sh --plain   the optimized pass only
# Further arguments go to `bazel test` (the consumer checks then do not
# run). Ends with a line "tests: N passed, N failed" counting the test
# cases and checks of the passes run.
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

# summarize CONFIG [--xml FILE] TARGET...: prints the pass's failed cases
# and its count line, and adds its counts to the totals.
summarize() {
  local config=$1
  shift
  local line
  /usr/bin/python3 tools/summarize_tests.py \
    "$(bazel info "--config=$config" bazel-testlogs 2>/dev/null)" "$@" |
    tee "$work/summary"
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
    summarize asan "${targets[@]}"
  else
    echo "== optimized pass: every target, the client's interop tests"
    mapfile -t targets < <(bazel query \
      'attr(tags, interop, tests(//tests/client/... + //tests/daemon/...))' \
      2>/dev/null)
    bazel test --keep_going "${parallel[@]}" --config=clang \
      --build_tag_filters=-fuzz "$@" -- //... -//tests/... "${targets[@]}" ||
      status=$?
    extra=()
    if ((consumers)); then
      bash tools/test_consumers.sh --xml "$work/consumers.xml" || status=$?
      extra=(--xml "$work/consumers.xml")
    fi
    summarize clang "${extra[@]}" "${targets[@]}"
  fi
done
((${#passes[@]} == 1)) || echo "tests: $passed passed, $failed failed"
exit $status
