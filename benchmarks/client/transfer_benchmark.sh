#!/usr/bin/env bash
# Bazel entry point of the loopback transfer benchmark: finds `bt` and the
# libtorrent peer script in its runfiles and runs transfer_benchmark.py with
# Debian's /usr/bin/python3 (the one with the libtorrent module).
#   bazel run //benchmarks/client:transfer_benchmark -- [--size-mib N] [--encryption disabled|forced]
set -euo pipefail
runfiles=${RUNFILES_DIR:-$0.runfiles}
root=$runfiles/btkit
exec /usr/bin/python3 "$root/benchmarks/client/transfer_benchmark.py" \
  "$root/client/cli/bt" "$@"
