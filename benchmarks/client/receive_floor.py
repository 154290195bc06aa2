#!/usr/bin/python3
"""What receiving a file costs with no protocol at all: the floor under a
downloader's CPU on this machine.

usage: receive_floor.py FILE [RUNS]

receive_floor_cpu(path, out_path) forks a receiver that takes the file's
bytes from a loopback TCP socket (256 KiB reads into one buffer), writes
them to a new file (64 KiB pwrites) and SHA-1s them, the three things a
downloader cannot skip; the parent sends them with sendfile(2). It returns
the receiver's CPU seconds (user, system) from wait4(). A BitTorrent
downloader does all of this and more, so its CPU is compared with this
number from the same machine and the same minute: the kernel's part (the
copy from the socket and into the page cache) varies several-fold with the
state of the machine's memory.
"""
import hashlib
import os
import socket
import sys

READ_CHUNK = 256 << 10
WRITE_CHUNK = 64 << 10


def _receive(port, out_path, size):
    s = socket.create_connection(("127.0.0.1", port))
    fd = os.open(out_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    buf = memoryview(bytearray(READ_CHUNK))
    h = hashlib.sha1()
    done = 0
    while done < size:
        n = s.recv_into(buf, min(READ_CHUNK, size - done))
        if n == 0:
            break
        for i in range(0, n, WRITE_CHUNK):
            os.pwrite(fd, buf[i:min(n, i + WRITE_CHUNK)], done + i)
        h.update(buf[:n])
        done += n
    os.close(fd)
    return done == size


def receive_floor_cpu(path, out_path):
    """Returns (user, system) CPU seconds of receiving `path` into
    `out_path`, which it removes afterwards."""
    size = os.path.getsize(path)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    os.sync()  # nothing left to write back from before
    pid = os.fork()
    if pid == 0:
        listener.close()
        os._exit(0 if _receive(port, out_path, size) else 1)
    conn, _ = listener.accept()
    with open(path, "rb") as f:
        conn.sendfile(f)
    conn.close()
    listener.close()
    _, status, usage = os.wait4(pid, 0)
    os.remove(out_path)
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError("the floor receiver did not get the whole file")
    return usage.ru_utime, usage.ru_stime


def main():
    path = sys.argv[1]
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    gib = os.path.getsize(path) / float(1 << 30)
    for _ in range(runs):
        user, system = receive_floor_cpu(path, path + ".floor")
        print("receive floor: %.2f CPU-s/GiB (%.2f user, %.2f system)" %
              ((user + system) / gib, user / gib, system / gib))


if __name__ == "__main__":
    main()
