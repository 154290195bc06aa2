#!/usr/bin/python3
"""One seeder, many downloaders: btkit and libtorrent as seeders under load.

usage: many_peers_benchmark.py BT_BINARY LOAD_GENERATOR [--downloaders N]
                               [--size-mib M] [--pipeline D] [--rows ROW,...]
                               [--runs K]
   or: bazel run //benchmarks/client:many_peers_benchmark -- [--downloaders 200] ...

A seeder on 127.0.0.1 serves an M MiB payload (default 16, one file,
256 KiB pieces) to N downloaders (default 200) run by load_generator: one
process, one plain TCP connection each, each downloading the whole torrent
and checking every piece's SHA-1. Rows (all by default):
  btkit           `bt seed`, its default upload slots (4)
  btkit-8         `bt seed --upload-slots 8`, as many as libtorrent's default
  libtorrent      libtorrent 2.0, its default unchoke_slots_limit (8)
  btkit-all       `bt seed --upload-slots N`: every downloader unchoked
  libtorrent-all  unchoke_slots_limit N
and, asked for with --rows, btkit-sendfile and btkit-all-sendfile: the
same btkit seeders serving from their files (`bt seed --sendfile`).
Both seeders: no encryption, TCP only, no DHT/LSD, a connection limit of
2N + 50 (libtorrent refuses incoming connections well before its
connections_limit: 24 of 200 with 250), all from one address allowed, a
listen backlog of 1024 (btkit's; libtorrent's listen_queue_size is raised
from 5 to the same), and libtorrent's exemption of local-network peers
from upload slots turned off (ignore_limits_on_local_network), so that
its 8 slots apply as they would to remote peers.

For each row: aggregate throughput (verified bytes / time until the last
downloader completes), per-downloader rate (payload / its completion
time) min, mean and max, fairness min / mean, request -> block latency
p50 and p99 as the downloaders see it, the seeder's CPU seconds during the
run (/proc/PID/stat) and its peak RSS (VmHWM; libtorrent's includes the
Python interpreter that hosts it), then btkit / libtorrent throughput for
each slot setting. With --runs K every row runs K times (in rounds) and
reports its median run. The generator's own CPU time is printed too: it
shares the machine's cores with the seeder. Issue 17's target: aggregate at least libtorrent's,
slowest downloader at least half the mean.
"""
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from bench_util import cpu_seconds, option, status_kib
from payload import write_payload

HERE = os.path.dirname(os.path.abspath(__file__))
LT_PEER = os.path.join(HERE, "..", "..", "tests", "client", "libtorrent_peer.py")
PYTHON = "/usr/bin/python3"
ROWS = ["btkit", "btkit-8", "libtorrent", "btkit-all", "libtorrent-all"]
MORE_ROWS = ["btkit-sendfile", "btkit-all-sendfile"]
TIMEOUT = 600
def wait_for(predicate, proc, log, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        if proc.poll() is not None:
            raise RuntimeError("seeder exited:\n" + open(log).read()[-2000:])
        time.sleep(0.02)
    raise RuntimeError("seeder did not start:\n" + open(log).read()[-2000:])


def row_slots(row, n):
    """The upload slots a row's seeder is given (None: its default)."""
    parts = row.split("-")
    return n if "all" in parts else 8 if "8" in parts else None


def start_seeder(bt, row, torrent, seed_dir, work, n):
    """Starts the row's seeder; returns (process, port, log path)."""
    slots = row_slots(row, n)
    log = os.path.join(work, row + ".log")
    out = open(log, "w")
    limit = str(2 * n + 50)
    if row.startswith("btkit"):
        cmd = [bt, "seed", torrent, seed_dir, "--bind", "127.0.0.1",
               "--dht-bootstrap=", "--no-dht", "--no-lsd", "--encryption",
               "disabled", "--transport", "tcp", "--max-connections", limit,
               "--max-connections-per-torrent", limit,
               "--max-incoming-per-ip", limit,
               "--resume", os.path.join(work, row + ".resume")]
        cmd += ["--upload-slots", str(slots)] if slots else []
        cmd += ["--sendfile"] if row.endswith("-sendfile") else []
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)

        def port():
            m = re.search(r"listening on port (\d+)", open(log).read())
            return m and int(m.group(1))
    else:
        port_file = os.path.join(work, row + ".port")
        if os.path.exists(port_file):  # an earlier round's
            os.remove(port_file)
        cmd = [PYTHON, LT_PEER, "seed", torrent, seed_dir, port_file,
               "disabled", "--timeout", str(TIMEOUT * 2),
               "--connections-limit", limit, "--listen-queue", "1024",
               "--limit-local"]
        cmd += ["--unchoke-slots", str(slots)] if slots else []
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)

        def port():
            if os.path.exists(port_file):
                text = open(port_file).read().strip()
                return text and int(text)
            return None
    return proc, wait_for(port, proc, log), log


def run_row(bt, generator, row, torrent, seed_dir, work, n, pipeline):
    seeder, port, log = start_seeder(bt, row, torrent, seed_dir, work, n)
    try:
        idle_rss = status_kib(seeder.pid, "VmRSS")
        cpu_before = cpu_seconds(seeder.pid)
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        children_cpu_before = usage.ru_utime + usage.ru_stime
        gen = subprocess.Popen(
            [generator, "--torrent", torrent, "--peer", "127.0.0.1:%d" % port,
             "--downloaders", str(n), "--pipeline", str(pipeline),
             "--timeout", str(TIMEOUT)], stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True)
        stdout, stderr = gen.communicate()
        # The generator's CPU shares the machine with the seeder's.
        gen_cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
        gen_cpu = gen_cpu.ru_utime + gen_cpu.ru_stime - children_cpu_before
        cpu = cpu_seconds(seeder.pid) - cpu_before
        peak_rss = status_kib(seeder.pid, "VmHWM")
        print("%s:\n%s" % (row, stdout), flush=True)
        m = re.search(r"^json: (.*)$", stdout, re.M)
        if gen.returncode not in (0, 1) or not m:
            raise RuntimeError("load_generator failed:\n" + stderr)
        result = json.loads(m.group(1))
        result.update(row=row, cpu=cpu, gen_cpu=gen_cpu, idle_rss=idle_rss,
                      peak_rss=peak_rss)
        return result
    finally:
        seeder.send_signal(signal.SIGINT)
        try:
            seeder.wait(timeout=20)
        except subprocess.TimeoutExpired:
            seeder.kill()
            seeder.wait()


def median_run(runs):
    """The run with the median aggregate throughput (the lower middle one
    of an even count), with every run's throughput kept beside it."""
    ordered = sorted(runs, key=lambda r: r["aggregate_bps"])
    result = dict(ordered[(len(ordered) - 1) // 2])
    result["all_bps"] = [r["aggregate_bps"] for r in runs]
    return result


def print_table(results, n, size_mib, pipeline, rounds):
    mib = float(1 << 20)
    print("\n%d downloaders x %d MiB (256 KiB pieces), pipeline %d blocks "
          "each, one seeder, loopback TCP; median of %d run(s)" % (
              n, size_mib, pipeline, rounds))
    print("%-18s %7s %8s %9s %21s %9s %15s %8s %18s %6s %8s" % (
        "seeder", "slots", "seconds", "MiB/s", "min/mean/max MiB/s",
        "min/mean", "p50/p99 ms", "CPU s", "RSS idle/peak MiB", "errors",
        "gen CPU"))
    for r in results:
        slots = str(row_slots(r["row"], n) or "default")
        print("%-18s %7s %8.2f %9.1f %21s %9.2f %15s %8.2f %18s %6d %8.2f" % (
            r["row"], slots, r["seconds"], r["aggregate_bps"] / mib,
            "%.2f/%.2f/%.2f" % (r["min_bps"] / mib, r["mean_bps"] / mib,
                                r["max_bps"] / mib),
            r["fairness"],
            "%.1f/%.1f" % (r["latency_p50_ms"], r["latency_p99_ms"]),
            r["cpu"], "%.0f/%.0f" % (r["idle_rss"] / 1024,
                                     r["peak_rss"] / 1024),
            r["errors"] + r["hash_failures"], r["gen_cpu"]))
    if rounds > 1:
        for r in results:
            print("%s MiB/s in each run: %s" % (r["row"], " ".join(
                "%.1f" % (b / mib) for b in r["all_bps"])))
    by_row = {r["row"]: r for r in results}
    for bt_row, lt_row in (("btkit", "libtorrent"),
                           ("btkit-all", "libtorrent-all")):
        if (bt_row in by_row and lt_row in by_row and
                by_row[lt_row]["aggregate_bps"] > 0):
            print("%s / %s throughput: %.2fx (target >= 1); %s fairness "
                  "%.2f (target >= 0.5)" % (
                      bt_row, lt_row, by_row[bt_row]["aggregate_bps"] /
                      by_row[lt_row]["aggregate_bps"], bt_row,
                      by_row[bt_row]["fairness"]))


def main():
    bt = os.path.abspath(sys.argv[1])
    generator = os.path.abspath(sys.argv[2])
    args = sys.argv[3:]
    n = option(args, "--downloaders", 200)
    size_mib = option(args, "--size-mib", 16)
    pipeline = option(args, "--pipeline", 32)
    rounds = option(args, "--runs", 1)
    rows = option(args, "--rows", ",".join(ROWS)).split(",")
    if any(r not in ROWS + MORE_ROWS for r in rows):
        sys.exit("rows are among " + ",".join(ROWS + MORE_ROWS))
    work = tempfile.mkdtemp(prefix="btkit_many_peers_")
    try:
        seed_dir = write_payload(work, size_mib)
        torrent = os.path.join(work, "payload.torrent")
        subprocess.run([bt, "create", os.path.join(seed_dir, "payload"), "-o",
                        torrent, "--v1", "--piece-size", str(256 << 10),
                        "--quiet"], check=True)
        # Rounds of every row, so that a slow spell of the machine does not
        # fall on one row only; each row reports its median run.
        runs = {row: [] for row in rows}
        for _ in range(rounds):
            for row in rows:
                runs[row].append(run_row(bt, generator, row, torrent, seed_dir,
                                         work, n, pipeline))
        results = [median_run(runs[row]) for row in rows]
        print_table(results, n, size_mib, pipeline, rounds)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
