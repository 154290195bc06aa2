#!/usr/bin/python3
"""A libtorrent seeder for btkit's protocol interop tests (loopback only).

usage: lt_peer.py DIR OUT_ENC IN_ENC ENC_LEVEL PREFER_RC4
  OUT_ENC / IN_ENC: forced | enabled | disabled
  ENC_LEVEL: rc4 | plaintext | both;  PREFER_RC4: 0 | 1

Creates a small v1 torrent in DIR, seeds it, and prints one line
  READY port=P info_hash=HEX piece_length=N num_pieces=N total_size=N
        piece0_hash=HEX
(or SKIP reason) on stdout. Then reads commands from stdin:
  CONNECT PORT   -> connect to 127.0.0.1:PORT (libtorrent initiates)
and exits when stdin closes. libtorrent's alerts go to stderr.
"""
import os
import select
import sys
import time

try:
    import libtorrent as lt
except ImportError as e:
    print("SKIP python3-libtorrent is not installed: %s" % e, flush=True)
    sys.exit(0)

POLICY = {"forced": lt.enc_policy.forced, "enabled": lt.enc_policy.enabled,
          "disabled": lt.enc_policy.disabled}
LEVEL = {"rc4": lt.enc_level.rc4, "plaintext": lt.enc_level.plaintext,
         "both": lt.enc_level.both}


def main():
    directory, out_enc, in_enc, level, prefer_rc4 = sys.argv[1:6]
    piece_length = 32 * 1024
    payload = os.urandom(2 * piece_length + 5000)
    name = "interop.bin"
    with open(os.path.join(directory, name), "wb") as f:
        f.write(payload)
    fs = lt.file_storage()
    lt.add_files(fs, os.path.join(directory, name))
    ct = lt.create_torrent(fs, piece_length, lt.create_torrent.v1_only)
    lt.set_piece_hashes(ct, directory)
    ti = lt.torrent_info(ct.generate())

    settings = {
        "listen_interfaces": "127.0.0.1:0",
        "enable_dht": False,
        "enable_lsd": False,
        "enable_upnp": False,
        "enable_natpmp": False,
        "allow_multiple_connections_per_ip": True,
        "enable_incoming_utp": False,
        "enable_outgoing_utp": False,
        "out_enc_policy": int(POLICY[out_enc]),
        "in_enc_policy": int(POLICY[in_enc]),
        "allowed_enc_level": int(LEVEL[level]),
        "prefer_rc4": prefer_rc4 == "1",
        "alert_mask": int(lt.alert.category_t.error_notification |
                          lt.alert.category_t.peer_notification |
                          lt.alert.category_t.connect_notification),
    }
    ses = lt.session(settings)
    atp = lt.add_torrent_params()
    atp.ti = ti
    atp.save_path = directory
    atp.flags |= lt.torrent_flags.seed_mode
    atp.flags &= ~(lt.torrent_flags.paused | lt.torrent_flags.auto_managed)
    h = ses.add_torrent(atp)
    # Incoming connections are dropped until the torrent is seeding.
    for _ in range(200):
        st = h.status()
        if (st.is_seeding and st.state == lt.torrent_status.seeding and
                not st.paused):
            break
        time.sleep(0.05)
    port = ses.listen_port()
    print("READY port=%d info_hash=%s piece_length=%d num_pieces=%d "
          "total_size=%d piece0_hash=%s" % (
              port, str(ti.info_hashes().v1), ti.piece_length(),
              ti.num_pieces(), ti.total_size(),
              ti.hash_for_piece(0).hex()), flush=True)

    while True:
        ready, _, _ = select.select([sys.stdin], [], [], 0.1)
        for a in ses.pop_alerts():
            sys.stderr.write("lt: %s: %s\n" % (a.what(), a.message()))
        sys.stderr.flush()
        if ready:
            line = sys.stdin.readline()
            if not line:
                time.sleep(0.2)
                for a in ses.pop_alerts():
                    sys.stderr.write("lt: %s: %s\n" % (a.what(), a.message()))
                return
            words = line.split()
            if words and words[0] == "CONNECT":
                h.connect_peer(("127.0.0.1", int(words[1])))


if __name__ == "__main__":
    main()
