#!/usr/bin/python3
"""Makes a .torrent of a directory with libtorrent, for interop tests.

usage: libtorrent_create.py CONTENT_DIR OUT v1|v2|hybrid PIECE_LENGTH

Every file under CONTENT_DIR goes in, empty ones included (libtorrent
lists those of a v1 torrent last, and pads v2 and hybrid torrents with
BEP 47 pad files). OUT appears complete or not at all.
"""
import os
import sys

import libtorrent as lt


def main():
    content, out, version, piece_length = sys.argv[1:5]
    flags = {"v1": lt.create_torrent.v1_only,
             "v2": lt.create_torrent.v2_only,
             "hybrid": 0}[version]
    fs = lt.file_storage()
    lt.add_files(fs, content)
    ct = lt.create_torrent(fs, int(piece_length), flags)
    lt.set_piece_hashes(ct, os.path.dirname(os.path.abspath(content)))
    with open(out + ".tmp", "wb") as f:
        f.write(lt.bencode(ct.generate()))
    os.rename(out + ".tmp", out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
