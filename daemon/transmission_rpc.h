// TransmissionRpc: the methods of Transmission's RPC protocol (version 16,
// as Transmission 3.00 speaks it) over a btkit Client, so that Transmission's
// front-ends — transmission-remote, its web client — drive btkit. It takes a
// request body and returns the response body; the HTTP side (session id,
// authentication, limits) is daemon/net/rpc_http_server's.
//
//   DaemonSettings settings{.download_dir = "/srv/dl"};
//   ASSIGN_OR_RETURN(AllowedRoots roots, AllowedRoots::Make({"/srv/dl"}));
//   TransmissionRpc rpc(client.get(), &settings,
//                       {.state_dir = "/var/lib/bt", .roots = roots});
//   std::string reply = rpc.Handle(
//       R"({"method":"torrent-get","arguments":{"fields":["id","name"]}})");
//   // {"arguments":{"torrents":[{"id":1,"name":"..."}]},"result":"success"}
//
// Methods: session-get, session-set, session-stats, session-close,
// free-space, port-test, torrent-get, torrent-add, torrent-start,
// torrent-start-now, torrent-stop, torrent-verify, torrent-reannounce,
// torrent-remove, torrent-set, torrent-set-location. A request that cannot
// be done — malformed JSON, an unknown method, field or setting, a value
// of the wrong type or out of range, a path outside the allowed roots —
// gets the protocol's answer: "result" holds what went wrong instead of
// "success"; nothing else changes. Settings Transmission has and btkit
// does not act on are accepted only with the value session-get reports.
//
// Paths: torrent-add's file names, download directories and new locations
// must lie inside RpcOptions::roots. Added .torrent files are copied to
// STATE_DIR/torrents/<info-hash>.torrent and resume data lives in
// STATE_DIR/resume/, so the client's saved state restores them.
//
// Single-threaded: call from the client's loop thread. `client` and
// `settings` must outlive this object.
#ifndef DAEMON_TRANSMISSION_RPC_H_
#define DAEMON_TRANSMISSION_RPC_H_

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "client/client.h"
#include "daemon/allowed_roots.h"
#include "daemon/daemon_settings.h"

namespace bt::daemon {

struct RpcOptions {
  std::string state_dir;
  AllowedRoots roots;
  // session-get's "session-id" and "config-dir".
  std::string session_id;
  // Called after a request changed torrents or settings (to save state).
  std::function<void()> on_change;
  // Called for session-close (to stop the daemon).
  std::function<void()> on_close;
};

struct RpcState;

class TransmissionRpc {
 public:
  // Torrents already in `client` (restored ones) get ids in their order.
  TransmissionRpc(client::Client* client, DaemonSettings* settings,
                  RpcOptions options);
  ~TransmissionRpc();
  TransmissionRpc(const TransmissionRpc&) = delete;
  TransmissionRpc& operator=(const TransmissionRpc&) = delete;

  // Handle answers one request body (JSON); never fails: errors are the
  // response's "result".
  std::string Handle(std::string_view body);

  // SaveRecords / RestoreRecords: what the daemon keeps of each torrent
  // across restarts (TorrentBook::Save); restoring also applies each
  // torrent's own rate limits. Errors: TorrentBook::Restore's.
  std::string SaveRecords() const;
  absl::Status RestoreRecords(std::string_view json);

  // ApplySettings makes the client follow the settings (rate limits,
  // encryption, connection limits); session-set does it too.
  void ApplySettings();

 private:
  std::unique_ptr<RpcState> state_;
};

}  // namespace bt::daemon

#endif  // DAEMON_TRANSMISSION_RPC_H_
