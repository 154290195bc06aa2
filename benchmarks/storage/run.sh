#!/usr/bin/env bash
# Hash-checks a >= 2 GiB data set with `bt check` and with libtorrent in one
# run and prints both times, the ratio, and the distance from BoringSSL's raw
# SHA-1 speed times the threads. The data set is kept in $BENCH_DIR
# (default /tmp/btkit-storage-bench) between runs.
#   benchmarks/storage/run.sh [--gib N] [--threads T] [--repeat R]
set -euo pipefail
cd "$(dirname "$0")/../.."
dir=${BENCH_DIR:-/tmp/btkit-storage-bench}
mkdir -p "$dir"
bazel ${BAZEL_OUTPUT_BASE:+--output_base=$BAZEL_OUTPUT_BASE} build //client/cli:bt //benchmarks/storage:sha1_benchmark
bin=$(bazel ${BAZEL_OUTPUT_BASE:+--output_base=$BAZEL_OUTPUT_BASE} info bazel-bin 2>/dev/null)
/usr/bin/python3 benchmarks/storage/check_benchmark.py "$bin/client/cli/bt" \
  "$bin/benchmarks/storage/sha1_benchmark" "$dir" "$@"
