#!/usr/bin/env bash
# Runs the 1 GiB loopback transfer benchmark (btkit and libtorrent, all four
# seeder/downloader pairs) and prints the table with ratios. The same as
#   bazel run //benchmarks/client:transfer_benchmark -- [ARGS]
#   benchmarks/client/run.sh [--size-mib N] [--encryption disabled|forced]
set -euo pipefail
cd "$(dirname "$0")/../.."
bazel build //benchmarks/client:transfer_benchmark
exec "$(bazel info bazel-bin 2>/dev/null)/benchmarks/client/transfer_benchmark" "$@"
