#!/usr/bin/env bash
# Builds and runs the DHT benchmarks: KRPC parse/encode against libtorrent
# (ratios in the first table at the end), routing table, tokens and lookups
# in 1k/10k-node simulated networks (absolute numbers in the second table).
# Building the 10k-node network takes about 30 s of CPU, once per run.
#   benchmarks/dht/run.sh [--benchmark_filter=krpc] [--benchmark_min_time=1]
set -euo pipefail
cd "$(dirname "$0")/../.."
bazel build //benchmarks/dht:dht_benchmark
bazel-bin/benchmarks/dht/dht_benchmark --benchmark_min_time=0.2 "$@"
