"""Loads each .torrent named on the command line with libtorrent (run with
/usr/bin/python3) from its raw bytes, as libtorrent's clients do, and prints
one tab-separated line per file:

  ok     PATH  non-pad file paths joined by "|"
  error  PATH  libtorrent's message
"""
import sys

import libtorrent as lt

for path in sys.argv[1:]:
    try:
        ti = lt.torrent_info(path)
        fs = ti.files()
        names = [fs.file_path(i) for i in range(fs.num_files())
                 if not fs.file_flags(i) & lt.file_storage.flag_pad_file]
        print("ok\t%s\t%s" % (path, "|".join(names)))
    except Exception as e:  # libtorrent raises RuntimeError subclasses
        print("error\t%s\t%s" % (path, e))
