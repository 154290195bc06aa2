#!/usr/bin/env bash
# Runs the 1 GiB loopback transfer benchmark (btkit and libtorrent, all four
# seeder/downloader pairs) and prints the table with ratios.
#   benchmarks/client/run.sh [--size-mib N] [--encryption disabled|forced]
set -euo pipefail
cd "$(dirname "$0")/../.."
bazel build //client/cli:bt
/usr/bin/python3 benchmarks/client/transfer_benchmark.py \
  "$(bazel info bazel-bin 2>/dev/null)/client/cli/bt" "$@"
