#!/usr/bin/env bash
# Runs btkit's whole test suite (unit, fuzz-corpus replay and interop tests
# against real peers on loopback) after installing what it needs.
#   tools/test.sh          the normal suite
#   tools/test.sh --asan   the same suite under address+undefined sanitizers
# Ends with a line "tests: N passed, N failed" counting test cases.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh

config=()
if [ "${1:-}" = "--asan" ]; then
  config=(--config=asan)
  shift
fi

status=0
bazel test --keep_going "${config[@]}" //... "$@" || status=$?
mapfile -t targets < <(bazel query 'tests(//...)' 2>/dev/null)
/usr/bin/python3 tools/summarize_tests.py \
  "$(bazel info "${config[@]}" bazel-testlogs 2>/dev/null)" "${targets[@]}"
exit $status
