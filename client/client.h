// Client: btkit's BitTorrent client — Net::BitTorrent's API in C++. It owns
// the event loop, the listening socket, every peer connection and the
// torrents, and reports everything through the seed's events.
//
//   bt::client::ClientOptions options;
//   options.local_ports = {6881, 6882, 0};       // tried in turn
//   ASSIGN_OR_RETURN(std::unique_ptr<bt::client::Client> client,
//                    bt::client::Client::Create(options));
//   client->OnEvent(bt::client::EventType::kPieceHashPass,
//                   [](const bt::client::Event& e) { ...; return true; });
//   ASSIGN_OR_RETURN(bt::client::Torrent* t,
//                    client->AddTorrent({.torrent_path = "a.torrent",
//                                        .save_path = "/dl"}));
//   while (!t->complete()) RETURN_IF_ERROR(client->DoOneLoop(1.0));
//
// Single-threaded: call everything from the thread that runs DoOneLoop.
#ifndef CLIENT_CLIENT_H_
#define CLIENT_CLIENT_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "base/endpoint.h"
#include "base/hash.h"
#include "client/net/dht_udp_node.h"
#include "client/net/event_loop.h"
#include "client/events.h"
#include "client/ip_filter.h"
#include "client/rate_limiter.h"
#include "client/torrent.h"
#include "protocol/mse.h"

namespace bt::client {

class PeerConnection;
class TrackerClient;

struct ClientOptions {
  // LocalHost: the address to bind (IPv4 or IPv6 literal).
  std::string local_host = "0.0.0.0";
  // LocalPort: ports to try in turn until one binds (0: any free port).
  std::vector<uint16_t> local_ports = {0};
  // Protocol encryption (MSE/PE); enabled (preferred) by default.
  protocol::EncryptionPolicy encryption = protocol::EncryptionPolicy::kEnabled;
  // Connection limits: in all, per torrent, and connects in progress.
  int max_connections = 200;
  int max_connections_per_torrent = 50;
  int max_half_open = 20;
  // Upload slots per torrent, the optimistic one included.
  int upload_slots = 4;
  // Global rate limits in bytes per second (0: unlimited); see
  // Client::SetRateLimits and Torrent::SetRateLimits.
  int64_t upload_rate_limit = 0;
  int64_t download_rate_limit = 0;
  // Leave zero to generate an Azureus-style id ("-BK0100-...").
  PeerId peer_id;
  // Run a DHT node (BEP 5) on the UDP port of the same number as the TCP
  // port; non-private torrents find and announce peers through it.
  bool enable_dht = true;
  // DHT nodes to bootstrap from ("router" nodes, or saved contacts).
  std::vector<Endpoint> dht_bootstrap;
  // A DHT node's saved state (dht::Node::SaveState): its id and contacts,
  // so a restarted client keeps its identity and finds the DHT at once.
  std::string dht_state;
};

class Client {
 public:
  using Handler = std::function<bool(const Event&)>;

  // Create binds the listening socket (trying local_ports in turn).
  // Errors: kUnavailable when no port binds, kInvalidArgument for a bad
  // local_host.
  static absl::StatusOr<std::unique_ptr<Client>> Create(
      ClientOptions options = {});
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  const PeerId& peer_id() const { return options_.peer_id; }
  // port is the bound TCP port.
  uint16_t port() const { return port_; }
  const ClientOptions& options() const { return options_; }
  std::vector<Torrent*> torrents() const;
  Torrent* FindTorrent(const Sha1Hash& info_hash) const;

  // AddTorrent loads a torrent and, if params.start, starts it.
  // kAlreadyExists if a torrent with the same info-hash is loaded.
  absl::StatusOr<Torrent*> AddTorrent(TorrentParams params);
  // SaveState saves the client-wide state to `path` atomically: settings,
  // DHT id and contacts, and every torrent (its source, directories and
  // state), after saving each torrent's resume data.
  absl::Status SaveState(const std::string& path);
  // Restore makes a client from a file SaveState wrote: same settings and
  // DHT identity, every torrent added again and resumed from its resume
  // data (complete data is not re-checked). `setup`, if given, runs before
  // the torrents are added (to register event handlers). Errors: the state
  // file's (kDataLoss when damaged or tampered with, kFailedPrecondition
  // for a newer version, kInvalidArgument when malformed), and
  // kFailedPrecondition for a torrent whose source no longer has the
  // recorded info-hash.
  static absl::StatusOr<std::unique_ptr<Client>> Restore(
      const std::string& path,
      const std::function<void(Client*)>& setup = nullptr);

  // RemoveTorrent stops and forgets a torrent; `t` is invalid afterwards.
  absl::Status RemoveTorrent(Torrent* t);

  // DoOneLoop handles ready sockets and due timers, waiting at most
  // `timeout_seconds` (fractional; -1 waits indefinitely).
  absl::Status DoOneLoop(double timeout_seconds = 1.0);

  // SetRateLimits changes the global limits (bytes per second, 0 for
  // unlimited) while running; every torrent's own limits apply as well.
  void SetRateLimits(int64_t upload, int64_t download);

  // ip_filter is the set of blocked address ranges, checked before every
  // connection, incoming or outgoing (besides the ip_filter event).
  IpFilter& ip_filter() { return ip_filter_; }

  // OnEvent adds a client-wide handler for `type`. Handlers are never
  // called from the Client's destructor; stop torrents first to see their
  // last events (peer_disconnect, tracker_* for "stopped").
  void OnEvent(EventType type, Handler handler);

  EventLoop& loop() { return *loop_; }
  // dht is the client's DHT node, or null when disabled.
  DhtUdpNode* dht() { return dht_.get(); }
  // AddDhtNode adds a DHT contact (e.g. from a PORT message or the user)
  // and bootstraps from it while the routing table is small.
  void AddDhtNode(const Endpoint& node);

 private:
  friend class Torrent;
  friend class PeerConnection;

  explicit Client(ClientOptions options, std::unique_ptr<EventLoop> loop);
  absl::Status Listen();
  void OnAcceptable();
  void Tick();
  // Connect opens an outgoing connection for `t` (after ip_filter).
  bool Connect(Torrent* t, const Endpoint& peer, bool encrypt);
  void Reap(uint64_t id);
  bool Wants(EventType type) const {
    return !handlers_[static_cast<size_t>(type)].empty();
  }
  // Emit runs the handlers; false if one returned false.
  bool Emit(const Event& e);
  bool AllowPeer(const Endpoint& address);
  int half_open() const;
  // Quota waits: a connection that ran out of rate-limit quota is woken,
  // in the order it started waiting, once its buckets have been refilled.
  void WaitForQuota(uint64_t connection, bool upload);
  void RefillQuotas();
  bool AnyRateLimit() const;

  ClientOptions options_;
  std::unique_ptr<EventLoop> loop_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::vector<std::vector<Handler>> handlers_;
  std::vector<std::unique_ptr<Torrent>> torrents_;
  protocol::SkeyTable skeys_;
  std::unique_ptr<TrackerClient> trackers_;
  std::unique_ptr<DhtUdpNode> dht_;
  absl::flat_hash_map<uint64_t, std::unique_ptr<PeerConnection>> connections_;
  uint64_t next_connection_ = 1;
  EventLoop::TimerId tick_timer_ = 0;
  RateLimiter upload_limit_, download_limit_;
  IpFilter ip_filter_;
  std::deque<uint64_t> waiting_upload_, waiting_download_;
  EventLoop::TimerId quota_timer_ = 0;
  uint64_t quota_round_ = 0;
};

}  // namespace bt::client

#endif  // CLIENT_CLIENT_H_
