#!/usr/bin/env bash
# Bazel entry point of the daemon benchmark: finds `bt` in its runfiles and
# runs daemon_benchmark.py with Debian's /usr/bin/python3 against it,
# transmission-daemon and libtorrent.
#   bazel run //benchmarks/daemon:daemon_benchmark -- [--torrents N] [--idle-seconds S] [--daemons btkit,transmission,libtorrent]
set -euo pipefail
runfiles=${RUNFILES_DIR:-$0.runfiles}
root=$runfiles/btkit
exec /usr/bin/python3 "$root/benchmarks/daemon/daemon_benchmark.py" \
  --bt "$root/client/cli/bt" "$@"
