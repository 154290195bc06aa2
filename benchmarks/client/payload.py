"""The payload the client benchmarks transfer.

write_payload(work, size_mib) makes WORK/seed/payload/data.bin: SIZE_MIB
MiB of random data (one random MiB, rotated by a byte per MiB, so no two
16 KiB blocks are equal) and returns the seed directory WORK/seed.
"""
import os


def write_payload(work, size_mib):
    seed_dir = os.path.join(work, "seed")
    os.makedirs(os.path.join(seed_dir, "payload"))
    with open(os.path.join(seed_dir, "payload", "data.bin"), "wb") as f:
        block = os.urandom(1 << 20)
        for i in range(size_mib):
            f.write(block[i % 1024:] + block[:i % 1024])
    return seed_dir
