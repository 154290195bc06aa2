"""libtorrent DHT sessions on loopback for btkit's DHT interop test.

Usage: libtorrent_dht_peers.py BTKIT_PORT [SESSIONS]
Starts SESSIONS libtorrent sessions (DHT only, loopback only), each told
about the btkit node and about each other, prints "PORTS p1 p2 ..." and then
serves commands read from stdin, one per line:
  announce SESSION INFOHASH_HEX      -> adds a magnet-style torrent so the
                                        session announces its listen port on
                                        the DHT; prints "ANNOUNCED PORT"
  get_peers SESSION INFOHASH_HEX SECS -> prints "PEERS ip:port ..." (may be empty)
  nodes SESSION                       -> prints "NODES n" (routing table size)
  put_immutable SESSION TEXT          -> BEP 44 put of the string TEXT, prints
                                         "PUT TARGET_HEX SUCCESSES"
  get_immutable SESSION TARGET_HEX SECS -> prints "ITEM BENCODED_HEX" or "ITEM"
  quit
"""
import sys
import tempfile
import time

import libtorrent as lt


def make_session():
    settings = {
        "listen_interfaces": "127.0.0.1:0",
        "enable_dht": True,
        "enable_lsd": False,
        "enable_upnp": False,
        "enable_natpmp": False,
        "allow_multiple_connections_per_ip": True,
        "dht_bootstrap_nodes": "",
        "dht_restrict_routing_ips": False,
        "dht_restrict_search_ips": False,
        "dht_prefer_verified_node_ids": False,
        "dht_enforce_node_id": False,
        "dht_ignore_dark_internet": False,
        "dht_block_ratelimit": 100000,
        "dht_announce_interval": 5,
        "alert_mask": lt.alert.category_t.all_categories,
    }
    return lt.session(settings)


def drain(session):
    return session.pop_alerts()


def main():
    btkit_port = int(sys.argv[1])
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    sessions = [make_session() for _ in range(count)]
    ports = [s.listen_port() for s in sessions]
    for s in sessions:
        s.add_dht_node(("127.0.0.1", btkit_port))
        for p in ports:
            if p != s.listen_port():
                s.add_dht_node(("127.0.0.1", p))
    time.sleep(1.0)
    for s in sessions:
        drain(s)
    print("PORTS " + " ".join(str(p) for p in ports), flush=True)
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        if words[0] == "quit":
            break
        s = sessions[int(words[1])]
        if words[0] == "announce":
            # The binding cannot build dht_announce's flags argument, so let
            # a torrent do the announcing.
            atp = lt.add_torrent_params()
            atp.info_hashes = lt.info_hash_t(lt.sha1_hash(bytes.fromhex(words[2])))
            atp.save_path = tempfile.mkdtemp(prefix="btkit-dht-interop-")
            s.add_torrent(atp)
            deadline = time.time() + 10
            announced = False
            while time.time() < deadline and not announced:
                s.wait_for_alert(200)
                for a in drain(s):
                    if isinstance(a, lt.dht_reply_alert) or \
                       type(a).__name__ == "dht_reply_alert":
                        announced = True
            print("ANNOUNCED %d %s" % (s.listen_port(), announced), flush=True)
        elif words[0] == "get_peers":
            ih = lt.sha1_hash(bytes.fromhex(words[2]))
            found = set()
            deadline = time.time() + float(words[3])
            s.dht_get_peers(ih)
            while time.time() < deadline:
                s.wait_for_alert(200)
                for a in drain(s):
                    if isinstance(a, lt.dht_get_peers_reply_alert):
                        for ip, port in a.peers():
                            found.add("%s:%d" % (ip, port))
                if found:
                    break
            print("PEERS " + " ".join(sorted(found)), flush=True)
        elif words[0] == "put_immutable":
            target = s.dht_put_immutable_item(words[2])
            deadline = time.time() + 10
            successes = -1
            while time.time() < deadline and successes < 0:
                s.wait_for_alert(200)
                for a in drain(s):
                    if isinstance(a, lt.dht_put_alert):
                        successes = a.num_success
            print("PUT %s %d" % (str(target), successes), flush=True)
        elif words[0] == "get_immutable":
            s.dht_get_immutable_item(lt.sha1_hash(bytes.fromhex(words[2])))
            deadline = time.time() + float(words[3])
            item = None
            while time.time() < deadline and item is None:
                s.wait_for_alert(200)
                for a in drain(s):
                    if isinstance(a, lt.dht_immutable_item_alert):
                        value = a.item
                        # The binding wraps the value as {"key", "value"}.
                        if isinstance(value, dict) and "value" in value:
                            value = value["value"]
                        item = lt.bencode(value)
            print("ITEM " + (item.hex() if item else ""), flush=True)
        elif words[0] == "nodes":
            st = s.status()
            print("NODES %d" % st.dht_nodes, flush=True)
    for s in sessions:
        s.pause()


if __name__ == "__main__":
    main()
