#!/usr/bin/env bash
# Builds the corpus with real tools, then decodes/encodes it with btkit and
# libtorrent in one run and prints the ratio table.
set -euo pipefail
cd "$(dirname "$0")/../.."
corpus=$(mktemp -d)
trap 'rm -rf "$corpus"' EXIT
/usr/bin/python3 benchmarks/bencode/make_corpus.py "$corpus"
bazel build //benchmarks/bencode:decode_benchmark
bazel-bin/benchmarks/bencode/decode_benchmark "$corpus" --benchmark_min_time=0.3 "$@"
