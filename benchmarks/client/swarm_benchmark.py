#!/usr/bin/python3
"""One rate-limited seeder and N downloaders on loopback: super-seeding.

usage: swarm_benchmark.py BT_BINARY [--downloaders N] [--size-mib M]
                          [--rate-mib R] [--rows ROW,ROW...]
   or: bazel run //benchmarks/client:swarm_benchmark -- [--downloaders 20] ...

A seeder limited to R MiB/s (default 8) uploads an M MiB payload (default
64, one file, 256 KiB pieces) to N downloaders (default 6) that start
together, find each other through a local opentracker and keep seeding
once complete, so the swarm spreads what the seeder sends. For each row
it reports the time until the last downloader completes against the
ideal (payload / seed rate: the seeder sends each byte once and the swarm
does the rest), and what the seeder uploaded until then as a multiple of
the payload (ideal 1.0x).

Rows (all by default): btkit (seeder and downloaders `bt`),
btkit-superseed (`bt seed --superseed`), libtorrent, libtorrent-superseed
(libtorrent's super_seeding), each seeder with downloaders of its own
implementation. Everything stays on 127.0.0.1: no DHT, no LSD, TCP only,
no encryption.
"""
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

from bench_util import option
from payload import write_payload

HERE = os.path.dirname(os.path.abspath(__file__))
LT_PEER = os.path.join(HERE, "..", "..", "tests", "client", "libtorrent_peer.py")
PYTHON = "/usr/bin/python3"
OPENTRACKER = "/usr/bin/opentracker"
ROWS = ["btkit", "btkit-superseed", "libtorrent", "libtorrent-superseed"]
TIMEOUT = 600


def free_port(kind):
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(port, target):
    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, target),
                                timeout=2) as r:
        return r.read()


class Tracker:
    """opentracker on 127.0.0.1 serving the whitelisted info-hash."""

    def __init__(self, work, info_hash_hex):
        self.dir = os.path.join(work, "tracker")
        os.makedirs(self.dir)
        os.chmod(self.dir, 0o755)  # it may drop privileges before reading
        with open(os.path.join(self.dir, "whitelist"), "w") as f:
            f.write(info_hash_hex + "\n")
        os.chmod(os.path.join(self.dir, "whitelist"), 0o644)
        self.port = free_port(socket.SOCK_STREAM)
        self.proc = subprocess.Popen(
            [OPENTRACKER, "-i", "127.0.0.1", "-p", str(self.port), "-P",
             str(free_port(socket.SOCK_DGRAM)), "-d", self.dir, "-w",
             "whitelist"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.escaped = "".join(
            "%%%02x" % b for b in bytes.fromhex(info_hash_hex))
        # It answers before it has read the whitelist: probe until an
        # announce is accepted, then take the probe away.
        probe = ("/announce?info_hash=%s&peer_id=-ZZ0000-probeprobepr&port=1"
                 "&uploaded=0&downloaded=0&left=1&compact=1&event=" %
                 self.escaped)
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                body = http_get(self.port, probe + "started")
                if body.startswith(b"d") and b"failure reason" not in body:
                    http_get(self.port, probe + "stopped")
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError("opentracker did not start")

    def url(self):
        return "http://127.0.0.1:%d/announce" % self.port

    def seeders(self):
        body = http_get(self.port, "/scrape?info_hash=" + self.escaped)
        m = re.search(rb"8:completei(\d+)e", body)
        return int(m.group(1)) if m else 0

    def stop(self):
        self.proc.kill()
        self.proc.wait()


def wait_for(predicate, what, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise RuntimeError("timed out waiting for " + what)


def read(path):
    with open(path, errors="replace") as f:
        return f.read()


def totals(log):
    m = re.search(r"totals: uploaded (\d+) bytes", read(log))
    if not m:
        raise RuntimeError("no totals in " + log + ":\n" + read(log)[-2000:])
    return int(m.group(1))


def start(cmd, log):
    out = open(log, "w")
    return subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)


def seeder_cmd(bt, impl, superseed, torrent, seed_dir, work, rate):
    if impl == "btkit":
        return [bt, "seed", torrent, seed_dir, "--bind", "127.0.0.1",
                "--dht-bootstrap=", "--no-dht", "--no-lsd", "--encryption",
                "disabled", "--transport", "tcp", "--upload-rate", str(rate),
                "--max-incoming-per-ip", "1000",
                "--resume", os.path.join(work, "seed.resume")] + (
                    ["--superseed"] if superseed else [])
    return [PYTHON, LT_PEER, "seed", torrent, seed_dir,
            os.path.join(work, "seed.port"), "disabled", "--timeout",
            str(TIMEOUT), "--upload-limit", str(rate)] + (
                ["--super-seed"] if superseed else [])


def downloader_cmd(bt, impl, torrent, out_dir):
    if impl == "btkit":
        return [bt, "download", torrent, "-o", out_dir, "--seed", "--bind",
                "127.0.0.1", "--dht-bootstrap=", "--no-dht", "--no-lsd",
                "--encryption", "disabled", "--transport", "tcp",
                "--max-incoming-per-ip", "1000",
                "--resume", os.path.join(out_dir, "resume")]
    return [PYTHON, LT_PEER, "download", torrent, out_dir,
            os.path.join(out_dir, "port"), "disabled", "--timeout",
            str(TIMEOUT), "--keep-seeding"]


def stop_all(procs):
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGINT)
    for p in procs:
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def run_row(bt, row, n, info_hash, seed_dir, work, rate, size):
    """Runs one row with a tracker and torrent of its own; returns the
    first and last completion times and the seeder's upload."""
    impl = row.split("-")[0]
    superseed = row.endswith("-superseed")
    run_dir = os.path.join(work, row)
    os.makedirs(run_dir)
    tracker = Tracker(run_dir, info_hash)
    procs = []
    try:
        torrent = make_torrent(bt, seed_dir, os.path.join(run_dir, "t.torrent"),
                               ["--tracker", tracker.url()])
        seed_log = os.path.join(run_dir, "seed.log")
        seeder = start(seeder_cmd(bt, impl, superseed, torrent, seed_dir,
                                  run_dir, rate), seed_log)
        procs.append(seeder)
        wait_for(lambda: tracker.seeders() > 0 or seeder.poll() is not None,
                 "the seeder's announce")
        if seeder.poll() is not None:
            raise RuntimeError("seeder exited:\n" + read(seed_log))
        logs = []
        started = time.time()
        for i in range(n):
            out_dir = os.path.join(run_dir, "dl%d" % i)
            os.makedirs(out_dir)
            logs.append(os.path.join(out_dir, "log"))
            procs.append(start(downloader_cmd(bt, impl, torrent, out_dir),
                               logs[-1]))
        done = [None] * n
        deadline = started + TIMEOUT
        while None in done and time.time() < deadline:
            for i, log in enumerate(logs):
                if done[i] is None and "done:" in read(log):
                    done[i] = time.time() - started
                elif done[i] is None and procs[i + 1].poll() is not None:
                    raise RuntimeError("downloader exited:\n" + read(log))
            time.sleep(0.02)
        if None in done:
            raise RuntimeError("%s: %d of %d downloaders completed" %
                               (row, n - done.count(None), n))
        stop_all([seeder])
        uploaded = totals(seed_log)
        for i in range(n):
            got = os.path.join(run_dir, "dl%d" % i, "payload", "data.bin")
            if os.path.getsize(got) != size:
                raise RuntimeError("wrong size: " + got)
        return min(done), max(done), uploaded
    finally:
        stop_all(procs)
        tracker.stop()
        shutil.rmtree(run_dir, ignore_errors=True)


def make_torrent(bt, seed_dir, path, extra):
    subprocess.run([bt, "create", os.path.join(seed_dir, "payload"), "-o",
                    path, "--v1", "--piece-size", str(256 << 10), "--quiet"] +
                   extra, check=True)
    return path


def main():
    bt = os.path.abspath(sys.argv[1])
    args = sys.argv[2:]
    n = option(args, "--downloaders", 6)
    size_mib = option(args, "--size-mib", 64)
    rate = int(option(args, "--rate-mib", 8.0) * (1 << 20))
    rows = option(args, "--rows", ",".join(ROWS)).split(",")
    if any(r not in ROWS for r in rows):
        sys.exit("rows are among " + ",".join(ROWS))
    work = tempfile.mkdtemp(prefix="btkit_swarm_")
    try:
        seed_dir = write_payload(work, size_mib)
        size = size_mib << 20
        # The info-hash (the same whatever the tracker) for the whitelist.
        probe = make_torrent(bt, seed_dir, os.path.join(work, "p.torrent"), [])
        info = subprocess.run([bt, "info", probe], check=True,
                              capture_output=True, text=True).stdout
        info_hash = re.search(r"\b([0-9a-f]{40})\b", info).group(1)
        ideal = size / rate
        results = []
        for row in rows:
            first, last, uploaded = run_row(bt, row, n, info_hash, seed_dir,
                                            work, rate, size)
            results.append((row, first, last, uploaded))
            print("%s: last done in %.1f s, seeder uploaded %.2fx" %
                  (row, last, uploaded / size), flush=True)
        print("\n%d MiB (256 KiB pieces), seeder limited to %.1f MiB/s, "
              "%d downloaders, loopback; ideal %.1f s" %
              (size_mib, rate / 2**20, n, ideal))
        print("%-22s %9s %9s %9s %14s %10s" % (
            "seeder", "first s", "last s", "x ideal", "seeder up MiB",
            "x payload"))
        for row, first, last, uploaded in results:
            print("%-22s %9.1f %9.1f %8.2fx %14.1f %9.2fx" % (
                row, first, last, last / ideal, uploaded / 2**20,
                uploaded / size))
        print("(targets with super-seeding: last <= 1.3x ideal, "
              "seeder upload <= 1.2x payload)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
