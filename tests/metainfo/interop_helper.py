"""Interop helper for metainfo_interop_test (run with /usr/bin/python3).

  setup WORK     make data sets under WORK/data and torrents of them with
                 libtorrent (v1, v2, hybrid), mktorrent and
                 transmission-create; print one record per torrent with what
                 libtorrent reads from it.
  check LIST     for each "torrent<TAB>save_path" line of LIST, load the
                 torrent in libtorrent, hash-check the data in save_path and
                 print what libtorrent reads plus "ok" or the failure.

Records are tab-separated:
  T  path  tool  v1hex|-  v2hex|-  num_pieces  piece_length  [ok|error]
  F  path_in_torrent  size          (one per non-pad file, after its T)
Missing tools are reported as "S tool reason" lines.
"""
import os
import random
import shutil
import subprocess
import sys
import time

import libtorrent as lt

PIECE = 32768


def pattern(n, seed):
    return random.Random(seed).randbytes(n)


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def make_data(work):
    """Returns {set_name: content_path}."""
    data = os.path.join(work, "data")
    sets = {}
    # A single file whose size is not a multiple of the piece size.
    p = os.path.join(data, "single", "single file.bin")
    write(p, pattern(1048576 + 12345, 1))
    sets["single"] = p
    # Many small files, some empty.
    root = os.path.join(data, "many", "many")
    for i in range(40):
        write(os.path.join(root, "f%02d.dat" % i),
              pattern((i * 7919) % 50000 if i % 9 else 0, i))
    sets["many"] = root
    # Nested directories, empty files, non-ASCII names.
    root = os.path.join(data, "nested", "nested")
    write(os.path.join(root, "a", "b", "c", "deep.bin"), pattern(200000, 2))
    write(os.path.join(root, "a", "x.bin"), pattern(33000, 3))
    write(os.path.join(root, "z", "empty"), b"")
    write(os.path.join(root, "ünïcödé", "名前.txt"), "テキスト".encode() * 100)
    write(os.path.join(root, "top.bin"), pattern(70001, 4))
    write(os.path.join(root, "Ω", "ø.bin"), pattern(PIECE, 5))
    sets["nested"] = root
    return sets


def describe(path, tool, status=None):
    ti = lt.torrent_info(path)
    ih = ti.info_hashes()
    v1 = str(ih.v1) if ih.has_v1() else "-"
    v2 = str(ih.v2) if ih.has_v2() else "-"
    rec = ["T", path, tool, v1, v2, str(ti.num_pieces()), str(ti.piece_length())]
    if status is not None:
        rec.append(status)
    print("\t".join(rec))
    fs = ti.files()
    for i in range(fs.num_files()):
        if fs.file_flags(i) & lt.file_storage.flag_pad_file:
            continue
        print("\t".join(["F", fs.file_path(i), str(fs.file_size(i))]))


def lt_create(content, out, flags):
    fs = lt.file_storage()
    lt.add_files(fs, content)
    ct = lt.create_torrent(fs, PIECE, flags)
    ct.add_tracker("http://127.0.0.1:1/announce", 0)
    lt.set_piece_hashes(ct, os.path.dirname(content))
    with open(out, "wb") as f:
        f.write(lt.bencode(ct.generate()))


def setup(work):
    sets = make_data(work)
    out_dir = os.path.join(work, "theirs")
    os.makedirs(out_dir, exist_ok=True)
    for name, content in sorted(sets.items()):
        for version, flags in (("v1", lt.create_torrent.v1_only),
                               ("v2", lt.create_torrent.v2_only),
                               ("hybrid", 0)):
            out = os.path.join(out_dir, "%s.libtorrent-%s.torrent" % (name, version))
            lt_create(content, out, flags)
            describe(out, "libtorrent-" + version)
        if shutil.which("mktorrent"):
            out = os.path.join(out_dir, "%s.mktorrent.torrent" % name)
            subprocess.run(["mktorrent", "-l", "15", "-t", "2",
                            "-a", "http://127.0.0.1:1/announce",
                            "-o", out, content],
                           check=True, stdout=subprocess.DEVNULL)
            describe(out, "mktorrent")
        else:
            print("S\tmktorrent\tnot installed")
        if shutil.which("transmission-create"):
            out = os.path.join(out_dir, "%s.transmission.torrent" % name)
            subprocess.run(["transmission-create", "-s", "32",
                            "-t", "http://127.0.0.1:1/announce",
                            "-o", out, content],
                           check=True, stdout=subprocess.DEVNULL)
            describe(out, "transmission-create")
        else:
            print("S\ttransmission-create\tnot installed")


def session():
    settings = {
        "listen_interfaces": "127.0.0.1:0",
        "enable_dht": False,
        "enable_lsd": False,
        "enable_upnp": False,
        "enable_natpmp": False,
        "allow_multiple_connections_per_ip": True,
        "alert_mask": 0,
    }
    return lt.session(settings)


def check(list_path):
    ses = session()
    jobs = []
    with open(list_path) as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                continue
            torrent, save_path = line.split("\t")
            try:
                ti = lt.torrent_info(torrent)
            except Exception as e:  # libtorrent refuses the file
                print("\t".join(["T", torrent, "btkit", "-", "-", "0", "0",
                                 "error: " + str(e).replace("\t", " ")]))
                continue
            params = lt.add_torrent_params()
            params.ti = ti
            params.save_path = save_path
            params.flags &= ~lt.torrent_flags.auto_managed
            params.flags &= ~lt.torrent_flags.paused
            h = ses.add_torrent(params)
            jobs.append((torrent, h))
    deadline = time.time() + 40
    pending = list(jobs)
    results = {}
    while pending and time.time() < deadline:
        still = []
        for torrent, h in pending:
            st = h.status()
            if st.state in (lt.torrent_status.checking_files,
                            lt.torrent_status.checking_resume_data,
                            lt.torrent_status.allocating) or not st.has_metadata:
                still.append((torrent, h))
                continue
            if st.is_seeding and st.num_pieces == h.torrent_file().num_pieces():
                results[torrent] = "ok"
            else:
                results[torrent] = "hash check failed: %d of %d pieces, state %s" % (
                    st.num_pieces, h.torrent_file().num_pieces(), st.state)
        pending = still
        if pending:
            time.sleep(0.05)
    for torrent, h in jobs:
        describe(torrent, "btkit", results.get(torrent, "timeout"))


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("setup", "check"):
        print(__doc__, file=sys.stderr)
        return 2
    if sys.argv[1] == "setup":
        setup(sys.argv[2])
    else:
        check(sys.argv[2])
    return 0


if __name__ == "__main__":
    sys.exit(main())
