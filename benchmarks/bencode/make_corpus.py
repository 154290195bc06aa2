#!/usr/bin/python3
"""Builds the bencode benchmark corpus from real tools.

Usage: make_corpus.py OUT_DIR

Writes files named CLASS.SOURCE into OUT_DIR: .torrent files made by
mktorrent, transmission-create and libtorrent's create_torrent (one file,
~1,000 files, ~50,000 files, a v2 torrent), DHT messages and extension
handshakes as the field's clients send them. Needs /usr/bin/python3 with
python3-libtorrent, mktorrent and transmission-create.
"""
import os
import subprocess
import sys
import tempfile

import libtorrent as lt

TRACKER = "http://127.0.0.1:6969/announce"


def make_tree(root, count, size):
    os.makedirs(root, exist_ok=True)
    for i in range(count):
        d = os.path.join(root, "dir%03d" % (i % 100), "sub%d" % (i % 7))
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "file%06d.dat" % i), "wb") as f:
            f.write(bytes([i % 251]) * size)


def make_single(path, size):
    with open(path, "wb") as f:
        block = os.urandom(1 << 20)
        for _ in range(size >> 20):
            f.write(block)


def with_mktorrent(src, out, piece_log2):
    subprocess.run(["mktorrent", "-l", str(piece_log2), "-a", TRACKER,
                    "-o", out, src], check=True, stdout=subprocess.DEVNULL)


def with_transmission(src, out, piece_kib):
    subprocess.run(["transmission-create", "-o", out, "-s", str(piece_kib),
                    "-t", TRACKER, src], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def with_libtorrent(src, out, piece_size, flags=0):
    fs = lt.file_storage()
    lt.add_files(fs, src)
    t = lt.create_torrent(fs, piece_size, flags=flags)
    t.add_tracker(TRACKER)
    lt.set_piece_hashes(t, os.path.dirname(src))
    with open(out, "wb") as f:
        f.write(lt.bencode(t.generate()))


def dht_messages(out_dir):
    nid = bytes(range(20))
    nodes = b"".join(bytes([i] * 20) + bytes([127, 0, 0, i]) + b"\x1a\xe1"
                     for i in range(1, 9))
    values = [bytes([127, 0, 0, i]) + b"\x1a\xe1" for i in range(1, 30)]
    msgs = {
        "ping_query": {b"t": b"aa", b"y": b"q", b"q": b"ping",
                       b"a": {b"id": nid}},
        "ping_response": {b"t": b"aa", b"y": b"r", b"r": {b"id": nid},
                          b"v": b"LT\x02\x00"},
        "find_node_query": {b"t": b"ab", b"y": b"q", b"q": b"find_node",
                            b"a": {b"id": nid, b"target": bytes(20),
                                   b"want": [b"n4"]}},
        "find_node_response": {b"t": b"ab", b"y": b"r",
                               b"r": {b"id": nid, b"nodes": nodes},
                               b"ip": b"\x7f\x00\x00\x01\x1a\xe1"},
        "get_peers_response": {b"t": b"ac", b"y": b"r",
                               b"r": {b"id": nid, b"token": b"12345678",
                                      b"values": values, b"nodes": nodes}},
        "announce_query": {b"t": b"ad", b"y": b"q", b"q": b"announce_peer",
                           b"a": {b"id": nid, b"info_hash": bytes(20),
                                  b"port": 6881, b"token": b"12345678",
                                  b"implied_port": 1}},
        "error": {b"t": b"ae", b"y": b"e", b"e": [201, b"A Generic Error"]},
    }
    for name, m in msgs.items():
        with open(os.path.join(out_dir, "dht_messages." + name), "wb") as f:
            f.write(lt.bencode(m))


def ext_handshakes(out_dir):
    shakes = {
        "libtorrent": {b"m": {b"lt_donthave": 7, b"share_mode": 8,
                              b"upload_only": 3, b"ut_holepunch": 4,
                              b"ut_metadata": 2, b"ut_pex": 1},
                       b"metadata_size": 31235, b"p": 6881, b"reqq": 500,
                       b"v": b"libtorrent/2.0.8",
                       b"yourip": b"\x7f\x00\x00\x01"},
        "transmission": {b"e": 1, b"m": {b"ut_holepunch": 4,
                                         b"ut_metadata": 3, b"ut_pex": 1},
                         b"metadata_size": 31235, b"p": 51413, b"reqq": 512,
                         b"upload_only": 1, b"v": b"Transmission 3.00",
                         b"yourip": b"\x7f\x00\x00\x01"},
        "btkit": {b"m": {b"ut_metadata": 2, b"ut_pex": 1},
                  b"metadata_size": 31235, b"p": 6881, b"reqq": 250,
                  b"v": b"btkit/0.1.0", b"ipv6": bytes(16),
                  b"yourip": b"\x7f\x00\x00\x01"},
    }
    for name, m in shakes.items():
        with open(os.path.join(out_dir, "ext_handshakes." + name), "wb") as f:
            f.write(lt.bencode(m))


def main():
    out = os.path.abspath(sys.argv[1])
    os.makedirs(out, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        single = os.path.join(tmp, "single.bin")
        make_single(single, 256 << 20)
        with_mktorrent(single, os.path.join(out, "torrent_single.mktorrent"), 18)
        with_transmission(single, os.path.join(out, "torrent_single.transmission"), 256)
        with_libtorrent(single, os.path.join(out, "torrent_single.libtorrent"), 1 << 18,
                        lt.create_torrent.v1_only)

        k1 = os.path.join(tmp, "files1k")
        make_tree(k1, 1000, 4096)
        with_mktorrent(k1, os.path.join(out, "torrent_1k_files.mktorrent"), 16)
        with_transmission(k1, os.path.join(out, "torrent_1k_files.transmission"), 64)
        with_libtorrent(k1, os.path.join(out, "torrent_1k_files.libtorrent"), 1 << 16,
                        lt.create_torrent.v1_only)
        with_libtorrent(k1, os.path.join(out, "torrent_v2.libtorrent_v2"), 1 << 16,
                        lt.create_torrent.v2_only)
        with_libtorrent(k1, os.path.join(out, "torrent_v2.libtorrent_hybrid"), 1 << 16)

        k50 = os.path.join(tmp, "files50k")
        make_tree(k50, 50000, 100)
        with_mktorrent(k50, os.path.join(out, "torrent_50k_files.mktorrent"), 18)
        with_libtorrent(k50, os.path.join(out, "torrent_50k_files.libtorrent"), 1 << 18,
                        lt.create_torrent.v1_only)
    dht_messages(out)
    ext_handshakes(out)


if __name__ == "__main__":
    main()
