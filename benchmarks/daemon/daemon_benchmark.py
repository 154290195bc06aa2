#!/usr/bin/python3
"""`bt daemon`, transmission-daemon and libtorrent holding N small torrents
seeding.

usage: daemon_benchmark.py --bt BT_BINARY [--torrents N] [--idle-seconds S]
                           [--settle-seconds S]
                           [--daemons btkit,transmission,libtorrent]
   or: bazel run //benchmarks/daemon:daemon_benchmark -- [--torrents 1000] ...

Makes N torrents (default 1000), each one file of 64-256 KiB of random
data with no tracker, all under one data directory. For each daemon, with
a fresh state directory: adds every torrent over the Transmission RPC
(`torrent-add` with `metainfo` and `download-dir` where the data already
is), waits until all are seeding, stops the daemon with SIGTERM, then
starts it again from its saved state and measures
  - start-up time: from exec until the RPC first answers, and until a
    `torrent-get` lists all N torrents seeding (status 6, percentDone 1),
    and the CPU time the daemon spent until then;
  - RSS (VmRSS) after it settled and sat idle;
  - idle CPU (utime + stime) over a window of S seconds (default 60) in
    which nothing talks to it, as CPU-seconds per minute.
libtorrent (2.0, Debian's Python binding) runs in libtorrent_daemon.py,
which speaks the two RPC calls used here and saves and restores its
torrents with libtorrent's resume data; its figures include the Python
interpreter (about 10 MiB of RSS). The table's ratios are other / btkit:
above 1, btkit is faster or smaller. Everything stays on 127.0.0.1: no DHT, LSD, PEX, uTP or port
mapping. Every process and temporary directory is removed on the way out,
also on an error or Ctrl-C. Transmission's half of a default run takes
about 3 minutes, close to 2 of them its check of the added torrents' data
(at 10,000 torrents, 20 minutes: `--daemons btkit,libtorrent` leaves it
out).
"""
import argparse
import base64
import hashlib
import http.client
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

TRANSMISSION = "/usr/bin/transmission-daemon"
PYTHON = "/usr/bin/python3"
LIBTORRENT_DAEMON = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                 "libtorrent_daemon.py")
DAEMONS = ["btkit", "transmission", "libtorrent"]
PIECE_SIZE = 16 << 10
STATUS_SEED = 6
ADD_TIMEOUT = 1200  # seconds for adding and checking every torrent
START_TIMEOUT = 600  # seconds for a restart to show every torrent seeding
STOP_TIMEOUT = 120  # seconds for a daemon to exit after SIGTERM


# --- torrents -------------------------------------------------------------

def bencode(value):
    """Encodes ints, bytes, str, lists and dicts (keys sorted, as BEP 3
    requires)."""
    if isinstance(value, int):
        return b"i%de" % value
    if isinstance(value, str):
        value = value.encode()
    if isinstance(value, bytes):
        return b"%d:%s" % (len(value), value)
    if isinstance(value, list):
        return b"l" + b"".join(bencode(v) for v in value) + b"e"
    if isinstance(value, dict):
        items = sorted((k.encode() if isinstance(k, str) else k, v)
                       for k, v in value.items())
        return b"d" + b"".join(bencode(k) + bencode(v) for k, v in items) + b"e"
    raise TypeError("cannot bencode %r" % type(value))


def make_torrents(data_dir, n):
    """Writes n files of 64-256 KiB of random data into data_dir and
    returns (list of .torrent bytes, total payload bytes)."""
    rng = random.Random(18)
    torrents, total = [], 0
    for i in range(n):
        name = "file%05d.bin" % i
        data = os.urandom(rng.randint(64 << 10, 256 << 10))
        with open(os.path.join(data_dir, name), "wb") as f:
            f.write(data)
        pieces = b"".join(hashlib.sha1(data[o:o + PIECE_SIZE]).digest()
                          for o in range(0, len(data), PIECE_SIZE))
        info = {"name": name, "length": len(data),
                "piece length": PIECE_SIZE, "pieces": pieces}
        torrents.append(bencode({"info": info, "created by": "btkit bench"}))
        total += len(data)
    return torrents, total


# --- the Transmission RPC -------------------------------------------------

class Rpc:
    """A Transmission RPC client on 127.0.0.1:port that does the
    X-Transmission-Session-Id handshake (a 409 carries the id)."""

    def __init__(self, port):
        self.port = port
        self.session_id = ""

    def call(self, method, arguments=None, timeout=60):
        """Returns the reply's arguments; raises OSError when nothing
        listens and RuntimeError when the daemon answers with an error."""
        body = json.dumps({"method": method, "arguments": arguments or {}})
        for _ in range(3):
            conn = http.client.HTTPConnection("127.0.0.1", self.port,
                                              timeout=timeout)
            try:
                conn.request("POST", "/transmission/rpc", body, {
                    "Content-Type": "application/json",
                    "X-Transmission-Session-Id": self.session_id})
                resp = conn.getresponse()
                data = resp.read()
            finally:
                conn.close()
            if resp.status == 409:
                self.session_id = resp.getheader("X-Transmission-Session-Id",
                                                 "")
                continue
            if resp.status != 200:
                raise RuntimeError("%s: HTTP %d: %r" %
                                   (method, resp.status, data[:200]))
            reply = json.loads(data)
            if reply.get("result") != "success":
                raise RuntimeError("%s: %s" % (method, reply.get("result")))
            return reply.get("arguments", {})
        raise RuntimeError(method + ": no session id accepted")

    def seeding(self):
        """How many torrents are seeding (status 6, percentDone 1), and
        how many there are."""
        torrents = self.call("torrent-get", {
            "fields": ["id", "status", "percentDone"]})["torrents"]
        done = sum(1 for t in torrents
                   if t["status"] == STATUS_SEED and t["percentDone"] == 1)
        return done, len(torrents)


# --- processes ------------------------------------------------------------

def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tail(path, chars=3000):
    try:
        with open(path, errors="replace") as f:
            return f.read()[-chars:]
    except OSError:
        return "(no log)"


def cpu_seconds(pid):
    """utime + stime of the process (all its threads), in seconds."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # fields[0] is field 3 (state): utime and stime are fields 14 and 15.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS for pid %d" % pid)


class Daemon:
    """One daemon under test: its command line, state, RPC port and log.
    start() runs it; stop() sends SIGTERM and waits (SIGKILL after
    STOP_TIMEOUT); kill() is for the way out."""

    def __init__(self, kind, bt, work, data_dir):
        self.kind = kind
        self.dir = os.path.join(work, kind)
        self.state = os.path.join(self.dir, "state")
        self.downloads = os.path.join(self.dir, "downloads")
        os.makedirs(self.state)
        os.makedirs(self.downloads)
        self.log = os.path.join(self.dir, "log")
        self.port = free_port()
        peer_port = free_port()
        self.data_dir = data_dir
        self.rpc = Rpc(self.port)
        self.proc = None
        if kind == "btkit":
            self.cmd = [bt, "daemon", "--state-dir", self.state,
                        "--download-dir", self.downloads,
                        # The data is added where it already lies.
                        "--allowed-root", self.downloads,
                        "--allowed-root", data_dir,
                        "--rpc-bind", "127.0.0.1:%d" % self.port,
                        "--port", str(peer_port), "--bind", "127.0.0.1",
                        "--no-dht", "--no-lsd"]
        elif kind == "libtorrent":
            self.cmd = [PYTHON, LIBTORRENT_DAEMON, "--state-dir", self.state,
                        "--rpc-port", str(self.port),
                        "--peer-port", str(peer_port)]
        else:
            self.cmd = [TRANSMISSION, "-f", "-g", self.state]
            self.write_transmission_settings(peer_port)

    def write_transmission_settings(self, peer_port):
        settings = {
            "bind-address-ipv4": "127.0.0.1",
            "bind-address-ipv6": "::1",
            "dht-enabled": False,
            "lpd-enabled": False,
            "pex-enabled": False,
            "utp-enabled": False,
            "port-forwarding-enabled": False,
            "peer-port": peer_port,
            "peer-port-random-on-start": False,
            "rpc-bind-address": "127.0.0.1",
            "rpc-port": self.port,
            "rpc-authentication-required": False,
            "rpc-whitelist-enabled": False,
            "rpc-host-whitelist-enabled": False,
            "download-dir": self.downloads,
            "incomplete-dir-enabled": False,
            "watch-dir-enabled": False,
            "download-queue-enabled": False,
            "seed-queue-enabled": False,
            "queue-stalled-enabled": False,
            "start-added-torrents": True,
            "message-level": 1,
        }
        with open(os.path.join(self.state, "settings.json"), "w") as f:
            json.dump(settings, f, indent=2)

    def start(self):
        """Runs the daemon; returns the monotonic time of the exec."""
        out = open(self.log, "a")
        started = time.monotonic()
        # A session of its own: Ctrl-C reaches only the script, which then
        # stops the daemon itself.
        self.proc = subprocess.Popen(self.cmd, stdout=out,
                                     stderr=subprocess.STDOUT,
                                     start_new_session=True)
        out.close()
        return started

    def check_alive(self):
        if self.proc.poll() is not None:
            raise RuntimeError("%s exited with %d" %
                               (self.kind, self.proc.returncode))

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.kill()
            raise RuntimeError("%s did not exit within %d s of SIGTERM" %
                               (self.kind, STOP_TIMEOUT))
        if self.proc.returncode != 0:
            print("%s: exited with %d after SIGTERM" %
                  (self.kind, self.proc.returncode), flush=True)

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def wait_seeding(self, n, timeout, poll_interval):
        """Polls torrent-get until all n torrents are seeding; returns the
        monotonic time the RPC first answered."""
        deadline = time.monotonic() + timeout
        first_answer = None
        last = (0, 0)
        while time.monotonic() < deadline:
            self.check_alive()
            try:
                last = self.rpc.seeding()
                if first_answer is None:
                    first_answer = time.monotonic()
                if last == (n, n):
                    return first_answer
            except (OSError, http.client.HTTPException):
                pass  # not listening yet
            time.sleep(poll_interval)
        raise RuntimeError("%s: %d of %d torrents seeding (%d listed) after "
                           "%d s" % (self.kind, last[0], n, last[1], timeout))


# --- the run --------------------------------------------------------------

def add_all(daemon, torrents):
    for i, metainfo in enumerate(torrents):
        reply = daemon.rpc.call("torrent-add", {
            "metainfo": base64.b64encode(metainfo).decode(),
            "download-dir": daemon.data_dir})
        if "torrent-added" not in reply:
            raise RuntimeError("%s: torrent %d not added: %r" %
                               (daemon.kind, i, reply))


def populate(daemon, torrents):
    """Starts the daemon on a fresh state directory, adds every torrent,
    waits until all are seeding and stops it, so it has them saved."""
    n = len(torrents)
    began = time.monotonic()
    daemon.start()
    daemon.wait_seeding(0, 60, 0.05)  # the RPC answers
    add_all(daemon, torrents)
    added = time.monotonic() - began
    daemon.wait_seeding(n, ADD_TIMEOUT, 0.5)
    print("%s: added %d torrents in %.1f s, all seeding after %.1f s" %
          (daemon.kind, n, added, time.monotonic() - began), flush=True)
    t0 = time.monotonic()
    daemon.stop()
    print("%s: stopped in %.1f s; starting again from its saved state" %
          (daemon.kind, time.monotonic() - t0), flush=True)


def measure(daemon, torrents, settle, idle):
    """Populates the daemon, starts it again from its saved state and
    returns its start-up, RSS and idle CPU figures."""
    n = len(torrents)
    populate(daemon, torrents)
    started = daemon.start()
    rpc_up = daemon.wait_seeding(n, START_TIMEOUT, 0.02) - started
    all_seeding = time.monotonic() - started
    startup_cpu = cpu_seconds(daemon.proc.pid)
    print("%s: RPC up after %.2f s, all %d seeding after %.2f s; "
          "settling %g s, then idle %g s" %
          (daemon.kind, rpc_up, n, all_seeding, settle, idle), flush=True)
    time.sleep(settle)
    daemon.check_alive()
    cpu0, t0 = cpu_seconds(daemon.proc.pid), time.monotonic()
    time.sleep(idle)  # nothing talks to the daemon meanwhile
    daemon.check_alive()
    cpu1, t1 = cpu_seconds(daemon.proc.pid), time.monotonic()
    rss = rss_kib(daemon.proc.pid)
    if daemon.rpc.seeding() != (n, n):
        raise RuntimeError("%s: not all torrents seeding after the idle "
                           "window" % daemon.kind)
    daemon.stop()
    return {"rpc_up": rpc_up, "all_seeding": all_seeding,
            "startup_cpu": startup_cpu, "rss_mib": rss / 1024,
            "idle_cpu_per_min": (cpu1 - cpu0) * 60 / (t1 - t0)}


METRICS = [
    ("rpc_up", "start-up until the RPC answers, s", "%.2f"),
    ("all_seeding", "start-up until all seeding, s", "%.2f"),
    ("startup_cpu", "CPU until all seeding, s", "%.2f"),
    ("rss_mib", "RSS when idle, MiB", "%.1f"),
    ("idle_cpu_per_min", "idle CPU, s per minute", "%.3f"),
]


def print_table(results, kinds, n, total, idle):
    print("\n%d torrents (64-256 KiB, one file each, %.1f MiB in all), "
          "seeding on loopback, no DHT/LSD/PEX/uTP/port mapping; idle "
          "window %g s" % (n, total / 2**20, idle))
    others = [k for k in kinds if k != "btkit"]
    header = ["%13s" % k for k in kinds]
    if "btkit" in kinds:
        header += ["%13s" % ("x " + k) for k in others]
    print("%-36s %s" % ("", " ".join(header)))
    for key, label, fmt in METRICS:
        cells = ["%13s" % (fmt % results[k][key]) for k in kinds]
        b = results.get("btkit")
        for k in others if b else []:
            o = results[k][key]
            cells.append("%13s" % ("%.2f" % (o / b[key]) if b[key] > 0 else
                                   "inf" if o > 0 else "-"))
        print("%-36s %s" % (label, " ".join(cells)))
    if "btkit" in kinds and others:
        print("(x other: other / btkit, above 1 btkit is faster or smaller)")


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--bt", help="the bt binary (for the btkit row)")
    p.add_argument("--torrents", type=int, default=1000)
    p.add_argument("--idle-seconds", type=float, default=60)
    p.add_argument("--settle-seconds", type=float, default=10)
    p.add_argument("--daemons", default=",".join(DAEMONS),
                   help="which to measure, comma-separated (default: all)")
    args = p.parse_args()
    if args.torrents < 1 or args.idle_seconds <= 0:
        p.error("--torrents and --idle-seconds must be positive")
    kinds = args.daemons.split(",")
    if not kinds or any(k not in DAEMONS for k in kinds):
        p.error("--daemons takes a list of " + ", ".join(DAEMONS))
    if "btkit" in kinds and not args.bt:
        p.error("--bt is needed for the btkit row")
    if "transmission" in kinds and not os.access(TRANSMISSION, os.X_OK):
        p.error(TRANSMISSION + " is not installed")
    return args, kinds


def main():
    args, kinds = parse_args()
    bt = os.path.abspath(args.bt) if args.bt else None
    # Ctrl-C and SIGTERM unwind through the finally below (SIGINT too when
    # the script was started with it ignored, as a background job).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    work = tempfile.mkdtemp(prefix="btkit_daemon_bench_")
    daemons = []
    try:
        data_dir = os.path.join(work, "data")
        os.makedirs(data_dir)
        t0 = time.monotonic()
        torrents, total = make_torrents(data_dir, args.torrents)
        print("made %d torrents (%.1f MiB) in %.1f s" % (
            args.torrents, total / 2**20, time.monotonic() - t0), flush=True)
        results = {}
        for kind in kinds:
            daemon = Daemon(kind, bt, work, data_dir)
            daemons.append(daemon)
            try:
                results[kind] = measure(daemon, torrents,
                                        args.settle_seconds, args.idle_seconds)
            except RuntimeError as e:
                sys.exit("%s\nlog tail (%s):\n%s" % (e, daemon.log,
                                                     tail(daemon.log)))
        print_table(results, kinds, args.torrents, total, args.idle_seconds)
    finally:
        for daemon in daemons:
            daemon.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(130)
