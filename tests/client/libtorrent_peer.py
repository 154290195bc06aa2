#!/usr/bin/python3
"""A libtorrent peer for interop tests, kept on loopback.

usage: libtorrent_peer.py seed|download|dht TORRENT|MAGNET DIR PORT_FILE ENCRYPTION
                          [PEER_HOST:PORT] [--timeout SECONDS]
                          [--download-limit BYTES_PER_SECOND]
                          [--dht HOST:PORT,HOST:PORT...] [--expect-hashes]
                          [--no-pex] [--transport tcp|utp|both]
                          [--listen ADDRESS] [--lsd]
                          [--upload-limit BYTES_PER_SECOND] [--super-seed]
                          [--keep-seeding] [--connections-limit N]
                          [--unchoke-slots N] [--listen-queue N]
                          [--limit-local]

Mode dht runs only a DHT node (TORRENT and DIR are ignored). With --dht,
the session joins a DHT made of the given loopback nodes and announces its
torrent there. With --expect-hashes a download fails (exit 3) unless
peers answered its BEP 52 hash requests and never refused one. With
--no-pex the session has no ut_pex, so it learns of no peer from others.
--transport picks the peer transports, in and out (default tcp).
--listen is the loopback address to listen on (default 127.0.0.1; ::1 for
IPv6). PEER may be an IPv6 address in brackets ("[::1]:6881"). --lsd turns
on local service discovery (BEP 14 multicast): only for tests that run in
a network namespace of their own.
--super-seed seeds in libtorrent's super-seeding mode (BEP 16). With
--keep-seeding a download prints "done: complete" once complete and seeds
on until killed. On exit it prints "totals: uploaded N bytes, downloaded M
bytes" (payload), as `bt` does. --connections-limit, --unchoke-slots and
--listen-queue set libtorrent's connections_limit, unchoke_slots_limit and
listen_queue_size (its defaults: 200, 8, 5), for many peers at once;
libtorrent keeps part of connections_limit for outgoing connections (with
250 it refused 24 of 200 incoming ones). Loopback peers are exempt from
rate limits and upload slots unless limits are given or --limit-local
(ignore_limits_on_local_network off), so they are treated as remote peers.

Writes its listen port to PORT_FILE, then seeds until killed, or downloads
(connecting to PEER if given) and exits 0 once the download is complete and
checked. ENCRYPTION is forced, enabled or disabled.
"""
import argparse
import os
import signal
import sys
import time

import libtorrent as lt


def parse_args():
    p = argparse.ArgumentParser(description="A libtorrent peer on loopback.")
    p.add_argument("mode", choices=["seed", "download", "dht"])
    p.add_argument("torrent")
    p.add_argument("save")
    p.add_argument("port_file")
    p.add_argument("enc", choices=["forced", "enabled", "disabled"])
    p.add_argument("peer", nargs="?")
    p.add_argument("--timeout", type=float, default=120.0)
    p.add_argument("--download-limit", type=int, default=0)
    p.add_argument("--upload-limit", type=int, default=0)
    p.add_argument("--dht", default="")
    p.add_argument("--expect-hashes", action="store_true")
    p.add_argument("--no-pex", action="store_true")
    p.add_argument("--transport", choices=["tcp", "utp", "both"],
                   default="tcp")
    p.add_argument("--listen", default="127.0.0.1")
    p.add_argument("--lsd", action="store_true")
    p.add_argument("--super-seed", action="store_true")
    p.add_argument("--keep-seeding", action="store_true")
    p.add_argument("--connections-limit", type=int)
    p.add_argument("--unchoke-slots", type=int)
    p.add_argument("--listen-queue", type=int)
    p.add_argument("--limit-local", action="store_true")
    return p.parse_intermixed_args()


def main():
    a = parse_args()
    mode, torrent, save, port_file, enc, peer = (
        a.mode, a.torrent, a.save, a.port_file, a.enc, a.peer)
    timeout, download_limit, upload_limit = (
        a.timeout, a.download_limit, a.upload_limit)
    dht_nodes = [n for n in a.dht.split(",") if n]
    expect_hashes, no_pex, listen, lsd = (
        a.expect_hashes, a.no_pex, a.listen, a.lsd)
    super_seed, keep_seeding = a.super_seed, a.keep_seeding
    use_tcp = a.transport in ("tcp", "both")
    use_utp = a.transport in ("utp", "both")
    policy = {"forced": 0, "enabled": 1, "disabled": 2}[enc]
    level = {"forced": 2, "enabled": 3, "disabled": 1}[enc]
    settings = {
        "listen_interfaces": ("[%s]:0" if ":" in listen else "%s:0") % listen,
        "enable_dht": False, "enable_lsd": lsd,
        "enable_upnp": False, "enable_natpmp": False,
        "allow_multiple_connections_per_ip": True,
        "enable_outgoing_utp": use_utp, "enable_incoming_utp": use_utp,
        "enable_outgoing_tcp": use_tcp, "enable_incoming_tcp": use_tcp,
        "out_enc_policy": policy, "in_enc_policy": policy,
        "allowed_enc_level": level,
        "prefer_rc4": enc != "disabled",
        "alert_mask": lt.alert.category_t.error_notification
        | (lt.alert.category_t.peer_log_notification if expect_hashes else 0),
        "download_rate_limit": download_limit,
        "upload_rate_limit": upload_limit,
        # Loopback peers are exempt from limits unless told otherwise.
        "ignore_limits_on_local_network":
            download_limit == 0 and upload_limit == 0 and not a.limit_local,
    }
    for name, value in (("connections_limit", a.connections_limit),
                        ("unchoke_slots_limit", a.unchoke_slots),
                        ("listen_queue_size", a.listen_queue)):
        if value is not None:
            settings[name] = value
    if dht_nodes:
        # A DHT of loopback nodes only: no routers, no IP restrictions.
        settings.update({
            "enable_dht": True, "dht_bootstrap_nodes": "",
            "dht_restrict_routing_ips": False,
            "dht_restrict_search_ips": False,
            "dht_prefer_verified_node_ids": False,
            "dht_enforce_node_id": False, "dht_ignore_dark_internet": False,
            "dht_block_ratelimit": 100000, "dht_announce_interval": 5,
        })
    if no_pex:
        ses = lt.session(settings, 0)  # no default plugins: add all but pex
        ses.add_extension("ut_metadata")
        ses.add_extension("smart_ban")
    else:
        ses = lt.session(settings)
    for node in dht_nodes:
        host, port = node.rsplit(":", 1)
        ses.add_dht_node((host, int(port)))
    if mode == "dht":  # a DHT node only
        with open(port_file + ".tmp", "w") as f:
            f.write(str(ses.listen_port()))
        os.rename(port_file + ".tmp", port_file)
        time.sleep(timeout)
        return 0
    if torrent.startswith("magnet:"):
        params = lt.parse_magnet_uri(torrent)
    else:
        params = lt.add_torrent_params()
        params.ti = lt.torrent_info(torrent)
    params.save_path = save
    if super_seed:
        params.flags |= lt.torrent_flags.super_seeding
    handle = ses.add_torrent(params)
    try:
        return run(ses, handle, mode, port_file, peer, timeout, expect_hashes,
                   keep_seeding)
    finally:
        st = handle.status()
        print("totals: uploaded %d bytes, downloaded %d bytes" %
              (st.total_payload_upload, st.total_payload_download), flush=True)


def run(ses, handle, mode, port_file, peer, timeout, expect_hashes,
        keep_seeding):
    while handle.status().state in (lt.torrent_status.checking_files,
                                    lt.torrent_status.checking_resume_data):
        time.sleep(0.05)
    with open(port_file + ".tmp", "w") as f:
        f.write(str(ses.listen_port()))
    os.rename(port_file + ".tmp", port_file)
    deadline = time.time() + timeout
    next_connect = 0
    hash_messages = {"HASHES": 0, "HASH_REJECT": 0}
    while time.time() < deadline:
        for a in ses.pop_alerts():
            # Incoming messages log as "... <== NAME [ details ]".
            if isinstance(a, lt.peer_log_alert):
                for name in hash_messages:
                    if "<== %s " % name in a.message():
                        hash_messages[name] += 1
        st = handle.status()
        if mode == "download" and st.is_seeding and keep_seeding:
            print("done: complete", flush=True)
            mode = "seed"
        if mode == "download" and st.is_seeding:
            if expect_hashes and (hash_messages["HASHES"] == 0
                                  or hash_messages["HASH_REJECT"] > 0):
                print("hash messages received: %s" % hash_messages)
                return 3
            return 0
        if peer and st.num_peers == 0 and time.time() >= next_connect:
            host, port = peer.rsplit(":", 1)
            handle.connect_peer((host.strip("[]"), int(port)))
            next_connect = time.time() + 2
        time.sleep(0.05)
    return 0 if mode == "seed" else 1


if __name__ == "__main__":
    signal.signal(signal.SIGINT, lambda *_: sys.exit(0))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    sys.exit(main())
