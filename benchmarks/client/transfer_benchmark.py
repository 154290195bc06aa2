#!/usr/bin/python3
"""1 GiB loopback transfers between btkit and libtorrent, in one run.

usage: transfer_benchmark.py BT_BINARY [--size-mib N] [--encryption disabled|forced]
                             [--utp] [--sendfile]
   or: bazel run //benchmarks/client:transfer_benchmark -- [--size-mib N] ...
       (benchmarks/client/run.sh does the same; --size-mib 64 for a quick run)
   or: bazel run //benchmarks/client:utp_benchmark   (the same with --utp)

With --utp (default size 256 MiB) every pair runs over uTP only (BEP 29;
libtorrent with TCP turned off, btkit with --transport utp), ratios are
against libtorrent -> libtorrent over uTP, and a last row moves the same
data btkit -> btkit over TCP for comparison.

With --sendfile a last row moves the data btkit -> btkit again with the
seeder serving from its file (bt seed --sendfile, one sendfile(2) and one
header send per block) instead of from memory (the default).

For each pair (seeder -> downloader): libtorrent -> libtorrent,
libtorrent -> btkit, btkit -> libtorrent, btkit -> btkit, it seeds a
torrent of one random file, downloads it on loopback, and prints seconds,
MB/s, CPU seconds per GiB and peak RSS of each side, with ratios against
libtorrent -> libtorrent. Each side is its own process; its CPU time and
peak RSS come from wait4(). Each pair starts after a sync(), with no dirty
pages left from the one before.
"""
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from payload import write_payload

HERE = os.path.dirname(os.path.abspath(__file__))
LT_PEER = os.path.join(HERE, "..", "..", "tests", "client", "libtorrent_peer.py")
PYTHON = "/usr/bin/python3"


def wait_for_port(path, proc, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if os.path.exists(path):
            text = open(path).read().strip()
            if text:
                return int(text)
        if proc.poll() is not None:
            raise RuntimeError("seeder exited early")
        time.sleep(0.02)
    raise RuntimeError("no port from seeder")


def btkit_port(log_path, proc, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        for line in open(log_path, errors="replace"):
            if "listening on port" in line:
                return int(line.rsplit("port", 1)[1].split()[0])
        if proc.poll() is not None:
            raise RuntimeError("btkit seeder exited early: " + open(log_path).read())
        time.sleep(0.02)
    raise RuntimeError("no port from btkit seeder")


def reap(proc):
    """Waits for proc and returns (cpu seconds, peak rss bytes)."""
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024


def run_pair(bt, seeder, downloader, torrent, seed_dir, work, enc, transport,
             seed_args):
    dl_dir = os.path.join(work, "dl")
    shutil.rmtree(dl_dir, ignore_errors=True)
    os.makedirs(dl_dir)
    # Every pair starts with nothing left to write back: the kernel's
    # writeback of the last pair's gigabyte would land on this one.
    os.sync()
    port_file = os.path.join(work, "port")
    if os.path.exists(port_file):
        os.remove(port_file)
    log = os.path.join(work, "seed.log")
    if seeder == "libtorrent":
        s = subprocess.Popen([PYTHON, LT_PEER, "seed", torrent, seed_dir,
                              port_file, enc, "--timeout", "600",
                              "--transport", transport])
        port = wait_for_port(port_file, s)
    else:
        s = subprocess.Popen([bt, "seed", torrent, seed_dir, "--bind",
                              "127.0.0.1", "--dht-bootstrap=", "--no-lsd",
                              "--encryption", enc,
                              "--transport", transport] + seed_args,
                             stderr=open(log, "w"), stdout=subprocess.DEVNULL)
        port = btkit_port(log, s)
    peer = "127.0.0.1:%d" % port
    start = time.time()
    if downloader == "libtorrent":
        d = subprocess.Popen([PYTHON, LT_PEER, "download", torrent, dl_dir,
                              port_file + ".dl", enc, peer, "--timeout", "600",
                              "--transport", transport])
    else:
        d = subprocess.Popen([bt, "download", torrent, "-o", dl_dir, "--bind",
                              "127.0.0.1", "--dht-bootstrap=", "--no-lsd",
                              "--peer", peer,
                              "--encryption", enc,
                              "--transport", transport,
                              "--resume", os.path.join(work, "resume")],
                             stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    d_cpu, d_rss = reap(d)
    seconds = time.time() - start
    s.send_signal(signal.SIGINT)
    s_cpu, s_rss = reap(s)
    return seconds, d_cpu, d_rss, s_cpu, s_rss


def sha1_mb_per_s():
    """The machine's SHA-1 speed, the floor under a downloader's CPU."""
    block = os.urandom(1 << 20)
    start = time.process_time()
    for _ in range(256):
        hashlib.sha1(block).digest()
    return 256 * len(block) / (time.process_time() - start) / 1e6


def main():
    bt = os.path.abspath(sys.argv[1])
    args = sys.argv[2:]
    utp = "--utp" in args
    size_mib = 256 if utp else 1024
    enc = "disabled"
    if "--size-mib" in args:
        size_mib = int(args[args.index("--size-mib") + 1])
    if "--encryption" in args:
        enc = args[args.index("--encryption") + 1]
    work = tempfile.mkdtemp(prefix="btkit_transfer_")
    try:
        seed_dir = write_payload(work, size_mib)
        torrent = os.path.join(work, "payload.torrent")
        subprocess.run([bt, "create", os.path.join(seed_dir, "payload"), "-o",
                        torrent, "--v1", "--piece-size", str(1 << 20)],
                       check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        size = size_mib << 20
        gib = size / float(1 << 30)
        transport = "utp" if utp else "tcp"
        pairs = [("libtorrent", "libtorrent", transport, []),
                 ("libtorrent", "btkit", transport, []),
                 ("btkit", "libtorrent", transport, []),
                 ("btkit", "btkit", transport, [])]
        if utp:
            pairs.append(("btkit", "btkit", "tcp", []))
        if "--sendfile" in args:
            pairs.append(("btkit", "btkit", "tcp", ["--sendfile"]))
        rows = []
        for seeder, downloader, how, seed_args in pairs:
            seconds, d_cpu, d_rss, s_cpu, s_rss = run_pair(
                bt, seeder, downloader, torrent, seed_dir, work, enc, how,
                seed_args)
            label = "%s -> %s %s" % (seeder, downloader, how)
            if seed_args:
                label += " " + " ".join(a.lstrip("-") for a in seed_args)
            rows.append((label, seconds,
                         size / seconds / 1e6, d_cpu / gib, d_rss,
                         s_cpu / gib, s_rss))
            print("%s: %.2f s" % (rows[-1][0], seconds), flush=True)
        base = rows[0]
        print("\n%d MiB, one file, 1 MiB pieces, encryption %s, loopback" %
              (size_mib, enc))
        print("%-28s %8s %9s %8s %13s %8s %13s %13s %13s" % (
            "seeder -> downloader", "seconds", "MB/s", "x lt-lt",
            "dl CPU s/GiB", "x lt-lt", "seed CPU s/GiB", "dl peak RSS",
            "seed peak RSS"))
        for r in rows:
            print("%-28s %8.2f %9.1f %7.2fx %13.2f %7.2fx %13.2f %9.1f MiB %9.1f MiB" % (
                r[0], r[1], r[2], r[2] / base[2], r[3], r[3] / base[3], r[5],
                r[4] / 2**20, r[6] / 2**20))
        sha1 = sha1_mb_per_s()
        print("\nSHA-1 on this machine (hashlib, one stream): %.0f MB/s, so "
              "verifying one piece at a time costs a downloader %.2f "
              "CPU-s/GiB by itself (btkit hashes two pieces side by side)" %
              (sha1, 2**30 / 1e6 / sha1))
        if utp:
            print("\nbtkit->btkit uTP / lt->lt uTP: %.2fx (target >= 10)" %
                  (rows[3][2] / base[2]))
            print("btkit->btkit uTP / btkit->btkit TCP: %.2f (target >= 0.5)" %
                  (rows[3][2] / rows[4][2]))
            print("lt->btkit, btkit->lt uTP / lt->lt uTP: %.2fx, %.2fx "
                  "(target >= 1)" % (rows[1][2] / base[2], rows[2][2] / base[2]))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
