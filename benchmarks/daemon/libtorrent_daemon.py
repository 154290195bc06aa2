#!/usr/bin/python3
"""libtorrent holding many torrents behind the few Transmission RPC calls
daemon_benchmark.py makes, so the benchmark drives it as it drives
`bt daemon` and transmission-daemon.

usage: libtorrent_daemon.py --state-dir DIR --rpc-port P --peer-port Q

Speaks `torrent-add` (`metainfo`, `download-dir`) and `torrent-get`
(`id`, `status`, `percentDone`) at http://127.0.0.1:P/transmission/rpc,
with the X-Transmission-Session-Id handshake. One libtorrent session on
127.0.0.1:Q with DHT, LSD, UPnP, NAT-PMP and uTP off. On SIGTERM it saves
every torrent's resume data (with its info dictionary) in DIR and exits;
at start it adds every torrent saved there. The numbers it is measured by
include the Python interpreter it runs in (about 10 MiB of RSS).
"""
import argparse
import base64
import http.server
import json
import os
import signal
import sys

import libtorrent as lt

SESSION_ID = "libtorrent-daemon-benchmark-session"


def make_session(peer_port):
    return lt.session({
        "listen_interfaces": "127.0.0.1:%d" % peer_port,
        "enable_dht": False,
        "enable_lsd": False,
        "enable_upnp": False,
        "enable_natpmp": False,
        "enable_incoming_utp": False,
        "enable_outgoing_utp": False,
        # Only what saving needs (save_resume_data_alert is a storage
        # alert), so alerts nobody pops do not fill the queue.
        "alert_mask": lt.alert.category_t.storage_notification |
                      lt.alert.category_t.error_notification,
        "alert_queue_size": 100000,
    })


class Holder:
    def __init__(self, session, state_dir):
        self.session = session
        self.state_dir = state_dir
        self.handles = []  # in the order added: id = index + 1

    def restore(self):
        for name in sorted(os.listdir(self.state_dir)):
            if name.endswith(".resume"):
                with open(os.path.join(self.state_dir, name), "rb") as f:
                    params = lt.read_resume_data(f.read())
                self.handles.append(self.session.add_torrent(params))

    def add(self, metainfo, save_path):
        params = lt.add_torrent_params()
        params.ti = lt.torrent_info(lt.bdecode(metainfo))
        params.save_path = save_path
        # The data is in place: seed without checking it first (the
        # measured start is the one from saved resume data).
        params.flags |= lt.torrent_flags.seed_mode
        self.handles.append(self.session.add_torrent(params))
        return len(self.handles)

    def get(self):
        rows = []
        for i, h in enumerate(self.handles):
            s = h.status()
            seeding = s.state == lt.torrent_status.seeding
            rows.append({"id": i + 1, "status": 6 if seeding else 4,
                         "percentDone": 1 if seeding else s.progress})
        return rows

    def save(self):
        """Saves every torrent's resume data, a batch at a time so that no
        alert is dropped from libtorrent's bounded alert queue."""
        self.session.pop_alerts()  # what piled up while serving
        for start in range(0, len(self.handles), 500):
            batch = self.handles[start:start + 500]
            for h in batch:
                h.save_resume_data(lt.torrent_handle.save_info_dict)
            pending = len(batch)
            while pending > 0:
                self.session.wait_for_alert(10000)
                for a in self.session.pop_alerts():
                    if isinstance(a, lt.save_resume_data_alert):
                        name = "%s.resume" % a.handle.info_hash()
                        with open(os.path.join(self.state_dir, name),
                                  "wb") as f:
                            f.write(lt.write_resume_data_buf(a.params))
                        pending -= 1
                    elif isinstance(a, lt.save_resume_data_failed_alert):
                        pending -= 1


def make_handler(holder):
    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def reply(self, status, body, headers=()):
            data = body.encode()
            self.send_response(status)
            for k, v in headers:
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if self.headers.get("X-Transmission-Session-Id") != SESSION_ID:
                self.reply(409, "", [("X-Transmission-Session-Id", SESSION_ID)])
                return
            request = json.loads(body)
            args = request.get("arguments", {})
            if request["method"] == "torrent-add":
                tid = holder.add(base64.b64decode(args["metainfo"]),
                                 args["download-dir"])
                out = {"torrent-added": {"id": tid}}
            elif request["method"] == "torrent-get":
                out = {"torrents": holder.get()}
            else:
                self.reply(200, json.dumps({"result": "not supported"}))
                return
            self.reply(200, json.dumps({"result": "success", "arguments": out}))

    return Handler


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--state-dir", required=True)
    parser.add_argument("--rpc-port", type=int, required=True)
    parser.add_argument("--peer-port", type=int, required=True)
    args = parser.parse_args()
    holder = Holder(make_session(args.peer_port), args.state_dir)
    holder.restore()
    server = http.server.HTTPServer(("127.0.0.1", args.rpc_port),
                                    make_handler(holder))
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    server.timeout = 0.5
    while not stopping:
        server.handle_request()
    holder.save()
    return 0


if __name__ == "__main__":
    sys.exit(main())
