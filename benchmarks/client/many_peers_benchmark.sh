#!/usr/bin/env bash
# Bazel entry point of the many-peers benchmark: finds `bt`, the load
# generator and the libtorrent peer script in its runfiles and runs
# many_peers_benchmark.py with Debian's /usr/bin/python3 (the one with the
# libtorrent module).
#   bazel run //benchmarks/client:many_peers_benchmark -- [--downloaders 200] [--size-mib 16] [--pipeline 32] [--rows ...] [--runs K]
set -euo pipefail
runfiles=${RUNFILES_DIR:-$0.runfiles}
root=$runfiles/btkit
exec /usr/bin/python3 "$root/benchmarks/client/many_peers_benchmark.py" \
  "$root/client/cli/bt" "$root/benchmarks/client/load_generator" "$@"
