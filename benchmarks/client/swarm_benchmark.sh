#!/usr/bin/env bash
# Bazel entry point of the swarm (super-seeding) benchmark: finds `bt` and
# the libtorrent peer script in its runfiles and runs swarm_benchmark.py
# with Debian's /usr/bin/python3 (the one with the libtorrent module).
#   bazel run //benchmarks/client:swarm_benchmark -- [--downloaders N] [--size-mib M] [--rate-mib R] [--rows ...]
set -euo pipefail
runfiles=${RUNFILES_DIR:-$0.runfiles}
root=$runfiles/btkit
exec /usr/bin/python3 "$root/benchmarks/client/swarm_benchmark.py" \
  "$root/client/cli/bt" "$@"
