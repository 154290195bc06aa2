#!/usr/bin/python3
"""Hash-checks one data set (>= 2 GiB, page cache warm) with `bt check` and
with libtorrent (add paused with the data in place, force_recheck, time
until torrent_checked_alert), in one run, and compares both with BoringSSL's
raw SHA-1 speed times the threads used.

usage: check_benchmark.py BT SHA1_BENCHMARK DATA_DIR [--gib N] [--threads T]
       [--piece-size BYTES] [--repeat R]

DATA_DIR keeps the generated files between runs. Wall-clock times on a
shared, loaded machine are noisy: CPU times (user+sys of the checking
process) are printed too, and the ratios are given for both.
"""
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

import libtorrent as lt


def cpu_children():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def cpu_self():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def make_data(root, gib):
    """Files of pseudo-random bytes, total `gib` GiB plus an odd tail."""
    sizes = [int(gib * (1 << 30)) // 2, int(gib * (1 << 30)) // 2 - 12345, 7777777]
    os.makedirs(root, exist_ok=True)
    for i, size in enumerate(sizes):
        path = os.path.join(root, "part%d.bin" % i)
        if os.path.exists(path) and os.path.getsize(path) == size:
            continue
        with open(path, "wb") as f:
            left = size
            block = os.urandom(1 << 20)
            n = 0
            while left > 0:
                # Vary every MiB so no two pieces are alike.
                chunk = (n.to_bytes(8, "little") + block)[: min(left, 1 << 20)]
                f.write(chunk)
                left -= len(chunk)
                n += 1
    return sum(sizes)


def warm(root, evict_first=False):
    """Reads every file so the check starts from a warm page cache.

    With evict_first the files are first dropped from the cache (after
    flushing them), so the cache is refilled by one sequential read. How
    the data got there otherwise (written a piece at a time, partly read
    before) decides the page-cache folio sizes, and on recent kernels that
    alone moves every reader's system time by 2x; evicting first makes runs
    comparable across machines and across runs.
    """
    for name in sorted(os.listdir(root)):
        with open(os.path.join(root, name), "rb") as f:
            if evict_first:
                os.fdatasync(f.fileno())
                os.posix_fadvise(f.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)
            while f.read(1 << 24):
                pass


def run_bt(bt, torrent, parent, threads):
    c0, t0 = cpu_children(), time.monotonic()
    p = subprocess.run([bt, "check", torrent, parent, "--threads", str(threads),
                        "--quiet"], capture_output=True, text=True)
    wall, cpu = time.monotonic() - t0, cpu_children() - c0
    if p.returncode != 0:
        sys.exit("bt check failed (%d): %s %s" % (p.returncode, p.stdout, p.stderr))
    return wall, cpu


def run_libtorrent(torrent, parent, threads):
    s = lt.session({
        "listen_interfaces": "127.0.0.1:0", "enable_dht": False,
        "enable_lsd": False, "enable_upnp": False, "enable_natpmp": False,
        "allow_multiple_connections_per_ip": True,
        "hashing_threads": threads, "aio_threads": threads,
        "alert_mask": lt.alert.category_t.status_notification
        | lt.alert.category_t.error_notification})
    atp = lt.add_torrent_params()
    atp.ti = lt.torrent_info(torrent)
    atp.save_path = parent
    atp.flags = lt.torrent_flags.paused
    h = s.add_torrent(atp)
    time.sleep(0.3)
    s.pop_alerts()
    c0, t0 = cpu_self(), time.monotonic()
    h.force_recheck()
    h.resume()
    done = False
    while not done:
        s.wait_for_alert(1000)
        for a in s.pop_alerts():
            if isinstance(a, lt.torrent_checked_alert):
                done = True
            elif isinstance(a, lt.torrent_error_alert):
                sys.exit("libtorrent: " + a.message())
        if time.monotonic() - t0 > 600:
            sys.exit("libtorrent did not finish checking")
    wall, cpu = time.monotonic() - t0, cpu_self() - c0
    st = h.status()
    if st.num_pieces != atp.ti.num_pieces():
        sys.exit("libtorrent found %d of %d pieces" % (st.num_pieces,
                                                      atp.ti.num_pieces()))
    s.remove_torrent(h)
    del s
    return wall, cpu


def raw_sha1(bench):
    out = subprocess.run([bench, "--benchmark_format=json",
                          "--benchmark_filter=BM_Sha1/1048576/threads:1",
                          "--benchmark_min_time=1"],
                         capture_output=True, text=True, check=True).stdout
    b = json.loads(out)["benchmarks"][0]
    # bytes per second of CPU time of one thread
    return b["bytes_per_second"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bt")
    ap.add_argument("sha1_benchmark")
    ap.add_argument("data_dir")
    ap.add_argument("--gib", type=float, default=2.0)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--piece-size", type=int, default=4 << 20)
    ap.add_argument("--repeat", type=int, default=5)
    a = ap.parse_args()
    root = os.path.join(a.data_dir, "bench")
    total = make_data(root, a.gib)
    torrent = os.path.join(a.data_dir, "bench-%d.torrent" % a.piece_size)
    if not os.path.exists(torrent):
        subprocess.run([a.bt, "create", root, "-o", torrent, "--v1",
                        "--piece-size", str(a.piece_size), "--quiet"],
                       check=True)
    gib = total / (1 << 30)
    print("data: %.2f GiB in 3 files, v1, %d KiB pieces, %d threads, "
          "load average %.1f" % (gib, a.piece_size >> 10, a.threads,
                                 os.getloadavg()[0]))
    warm(root, evict_first=True)
    raw = raw_sha1(a.sha1_benchmark)
    ideal = total / (raw * a.threads)
    print("raw BoringSSL SHA-1: %.0f MiB/s per thread (CPU time); x%d threads "
          "=> ideal %.2f s wall, %.2f s CPU" % (raw / 2**20, a.threads, ideal,
                                                total / raw))
    runs = {}
    for r in range(a.repeat):
        warm(root)
        for name, fn in (("bt check", lambda: run_bt(a.bt, torrent, a.data_dir,
                                                      a.threads)),
                         ("libtorrent", lambda: run_libtorrent(
                             torrent, a.data_dir, a.threads))):
            wall, cpu = fn()
            print("  run %d %-10s wall %6.2f s (%5.0f MiB/s)  cpu %6.2f s" %
                  (r + 1, name, wall, total / wall / 2**20, cpu))
            runs.setdefault(name, []).append((wall, cpu))
    for name, times in runs.items():
        print("  median %-10s wall %6.2f s  cpu %6.2f s" % (
            name, statistics.median(w for w, _ in times),
            statistics.median(c for _, c in times)))
    best = {name: (min(w for w, _ in times), min(c for _, c in times))
            for name, times in runs.items()}
    (bw, bc), (lw, lc) = best["bt check"], best["libtorrent"]
    print("best of %d:" % a.repeat)
    print("  bt check    wall %6.2f s  cpu %6.2f s" % (bw, bc))
    print("  libtorrent  wall %6.2f s  cpu %6.2f s" % (lw, lc))
    print("  libtorrent / bt check:  wall %.2fx  cpu %.2fx  (target >= 1.3x)"
          % (lw / bw, lc / bc))
    print("  bt check vs raw SHA-1 x threads: wall %.2fx of ideal, "
          "cpu %.2fx of ideal  (target <= 1.15x)" % (bw / ideal,
                                                    bc / (total / raw)))


if __name__ == "__main__":
    main()
