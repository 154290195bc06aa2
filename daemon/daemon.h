// Daemon: `bt daemon` as a library — one Client holding many torrents,
// driven over Transmission's RPC (TransmissionRpc behind RpcHttpServer),
// with its state in one directory: the client's state file (torrents,
// DHT identity, port), settings.json (DaemonSettings), torrents/ (copies
// of added .torrent files), torrents.json (each torrent's dates and own
// rate limits) and resume/ (resume data). State is saved
// within a second after every change made over the RPC and in full at
// Shutdown; a daemon killed without warning comes back from its last save
// and its torrents' periodic resume data (pieces since then are found by
// a check of the files changed, not downloaded again).
//
//   ASSIGN_OR_RETURN(std::unique_ptr<bt::daemon::Daemon> d,
//                    bt::daemon::Daemon::Start({.state_dir = "/var/lib/bt",
//                                               .download_dir = "/srv/dl"}));
//   while (!stopping && !d->close_requested())
//   RETURN_IF_ERROR(d->RunOnce(0.5)); RETURN_IF_ERROR(d->Shutdown());
#ifndef DAEMON_DAEMON_H_
#define DAEMON_DAEMON_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "client/client.h"
#include "daemon/daemon_settings.h"
#include "daemon/net/rpc_http_server.h"
#include "daemon/transmission_rpc.h"

namespace bt::daemon {

struct DaemonOptions {
  std::string state_dir;
  // The default download directory; "" keeps the saved one (required on
  // the first start). Absolute or relative to the working directory.
  std::string download_dir;
  // The directories RPC requests may name; empty: the download directory.
  std::vector<std::string> allowed_roots;
  // The client's options (ports and limits; a restored client keeps the
  // saved port and encryption unless the settings say otherwise).
  client::ClientOptions client;
  // Rate limits from the command line (bytes/s, 0 unlimited) override the
  // saved speed limits.
  std::optional<int64_t> upload_rate, download_rate;
  RpcHttpOptions http;
};

class Daemon {
 public:
  // Start restores the client from the state directory (or makes a new
  // one) and starts serving the RPC. Errors: kInvalidArgument without a
  // download directory (first start) or with one outside the allowed
  // roots; the client's and the HTTP server's start errors.
  static absl::StatusOr<std::unique_ptr<Daemon>> Start(DaemonOptions options);
  ~Daemon();

  // RunOnce runs the client's loop for at most `timeout_seconds` and saves
  // the state when a change is pending and the last save is a second old.
  absl::Status RunOnce(double timeout_seconds);
  // close_requested: a session-close request came in.
  bool close_requested() const { return close_requested_; }
  // Shutdown saves everything (state, settings, every torrent's resume
  // data) and stops the torrents.
  absl::Status Shutdown();

  client::Client& client() { return *client_; }
  const DaemonSettings& settings() const { return settings_; }
  uint16_t rpc_port() const { return http_->port(); }
  const std::string& session_id() const { return http_->session_id(); }
  std::string state_path() const {
    return options_.state_dir + "/client.state";
  }
  std::string records_path() const {
    return options_.state_dir + "/torrents.json";
  }
  std::string settings_path() const {
    return options_.state_dir + "/settings.json";
  }

 private:
  explicit Daemon(DaemonOptions options) : options_(std::move(options)) {}
  absl::Status Save(bool with_resume_data);

  DaemonOptions options_;
  DaemonSettings settings_;
  std::unique_ptr<client::Client> client_;
  std::unique_ptr<TransmissionRpc> rpc_;
  std::unique_ptr<RpcHttpServer> http_;
  bool dirty_ = false, close_requested_ = false;
  absl::Time last_save_ = absl::InfinitePast();
};

}  // namespace bt::daemon

#endif  // DAEMON_DAEMON_H_
